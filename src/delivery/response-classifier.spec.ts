import { MAX_RETRY_AFTER_MS, classifyResponse, parseRetryAfter } from './response-classifier';

const NOW = Date.parse('2026-11-22T08:00:00Z');

describe('classifyResponse', () => {
  it.each([200, 201, 202, 204, 299])('%i is a success', (status) => {
    expect(classifyResponse(status, {}, NOW)).toEqual({ kind: 'success', retryAfterMs: null, gone: false });
  });

  it.each([408, 425, 429, 500, 502, 503, 504, 599])('%i is retryable', (status) => {
    expect(classifyResponse(status, {}, NOW)).toEqual({ kind: 'retryable', retryAfterMs: null, gone: false });
  });

  it.each([100, 199, 300, 301, 302, 304, 307, 308, 400, 401, 403, 404, 405, 409, 413, 422, 451, 499, 600])(
    '%i is final',
    (status) => {
      expect(classifyResponse(status, {}, NOW)).toEqual({ kind: 'final', retryAfterMs: null, gone: false });
    },
  );

  it('410 is final and gone', () => {
    expect(classifyResponse(410, { 'retry-after': '5' }, NOW)).toEqual({ kind: 'final', retryAfterMs: null, gone: true });
  });

  it('takes the delay from Retry-After on a retryable answer', () => {
    expect(classifyResponse(429, { 'retry-after': '7' }, NOW)).toEqual({ kind: 'retryable', retryAfterMs: 7000, gone: false });
    expect(classifyResponse(503, { 'Retry-After': 'Sun, 22 Nov 2026 08:02:00 GMT' }, NOW).retryAfterMs).toBe(120_000);
    expect(classifyResponse(503, { 'retry-after': ['3', '9'] }, NOW).retryAfterMs).toBe(3000);
    expect(classifyResponse(503, { 'retry-after': 'soon' }, NOW)).toEqual({ kind: 'retryable', retryAfterMs: null, gone: false });
  });

  it('ignores Retry-After on a success or a final answer', () => {
    expect(classifyResponse(200, { 'retry-after': '7' }, NOW).retryAfterMs).toBeNull();
    expect(classifyResponse(400, { 'retry-after': '7' }, NOW)).toEqual({ kind: 'final', retryAfterMs: null, gone: false });
  });

  it('retries a 403 only when it is a rate limit', () => {
    expect(classifyResponse(403, { 'retry-after': '60' }, NOW)).toEqual({ kind: 'retryable', retryAfterMs: 60_000, gone: false });
    expect(classifyResponse(403, { 'x-ratelimit-remaining': '0' }, NOW)).toEqual({ kind: 'retryable', retryAfterMs: null, gone: false });
    expect(classifyResponse(403, { 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': String(NOW / 1000 + 90) }, NOW)).toEqual({
      kind: 'retryable',
      retryAfterMs: 90_000,
      gone: false,
    });
    expect(classifyResponse(403, { 'x-ratelimit-remaining': '12' }, NOW).kind).toBe('final');
    expect(classifyResponse(403, { 'retry-after': '' }, NOW).kind).toBe('final');
    expect(classifyResponse(403, { 'retry-after': undefined }, NOW).kind).toBe('final');
  });

  it('prefers Retry-After over x-ratelimit-reset', () => {
    const headers = { 'retry-after': '5', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(NOW / 1000 + 900) };
    expect(classifyResponse(429, headers, NOW).retryAfterMs).toBe(5000);
  });
});

describe('parseRetryAfter', () => {
  it.each<[string | string[] | undefined | null, number | null]>([
    ['0', 0],
    ['1', 1000],
    [' 120 ', 120_000],
    ['1.5', 1500],
    ['3600', MAX_RETRY_AFTER_MS],
    ['86400', MAX_RETRY_AFTER_MS],
    ['-5', 0],
    ['Sun, 22 Nov 2026 08:00:30 GMT', 30_000],
    ['Sunday, 22-Nov-26 08:00:30 GMT', 30_000],
    ['Sun Nov 22 08:00:30 2026', 30_000],
    ['Sun, 22 Nov 2026 07:59:00 GMT', 0],
    ['Mon, 23 Nov 2026 08:00:00 GMT', MAX_RETRY_AFTER_MS],
    [['10', '20'], 10_000],
    ['', null],
    [undefined, null],
    [null, null],
    ['soon', null],
    ['2026-11-22T08:01:00Z', null],
    ['Sun, 99 Foo 2026', null],
    ['10s', null],
  ])('%j → %j', (value, expected) => {
    expect(parseRetryAfter(value, NOW)).toBe(expected);
  });
});
