/**
 * What a receiver's answer means for the delivery (docs/design.md › Delivery, outcomes). Pure.
 *
 * success: 2xx. retryable: 408, 425, 429, 5xx, and a 403 carrying Retry-After or
 * `x-ratelimit-remaining: 0` (GitHub's secondary rate limit). final: everything else (other
 * 4xx, 3xx since redirects are not followed, 1xx); 410 is final and marks the webhook gone.
 */
export type ResponseKind = 'success' | 'retryable' | 'final';

export interface ResponseClassification {
  kind: ResponseKind;
  /** The delay the receiver asked for, capped at one hour; null when it asked for none. */
  retryAfterMs: number | null;
  gone: boolean;
}

export type ResponseHeaders = Record<string, string | string[] | undefined>;

export const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

const RETRYABLE_4XX = new Set([408, 425, 429]);
const DELAY_SECONDS = /^-?\d+(?:\.\d+)?$/;
// IMF-fixdate, RFC 850 and asctime all start with a day name (RFC 9110 § 5.6.7).
const HTTP_DATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,? /i;
const ASCTIME = /^[A-Za-z]{3} [A-Za-z]{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$/;

function header(headers: ResponseHeaders, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name) continue;
    const first = Array.isArray(value) ? value[0] : value;
    return first?.trim();
  }
  return undefined;
}

function capped(delayMs: number): number {
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, Math.round(delayMs)));
}

/**
 * A Retry-After value (delay in seconds or an HTTP date) as milliseconds from `nowMs`, capped
 * at one hour; a negative delay or a past date is 0; anything unparseable is null.
 */
export function parseRetryAfter(value: string | string[] | null | undefined, nowMs: number): number | null {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return null;
  if (DELAY_SECONDS.test(text)) return capped(Number(text) * 1000);
  if (!HTTP_DATE.test(text)) return null;
  // asctime carries no zone but means GMT; Date.parse would read it as local time.
  const dateMs = Date.parse(ASCTIME.test(text) ? `${text} GMT` : text);
  return Number.isNaN(dateMs) ? null : capped(dateMs - nowMs);
}

/** GitHub's `x-ratelimit-reset` (epoch seconds) as a delay, when `x-ratelimit-remaining` is 0. */
function rateLimitResetDelay(headers: ResponseHeaders, nowMs: number): number | null {
  const reset = header(headers, 'x-ratelimit-reset');
  if (reset === undefined || !/^\d+$/.test(reset)) return null;
  return capped(Number(reset) * 1000 - nowMs);
}

export function classifyResponse(statusCode: number, headers: ResponseHeaders, nowMs: number): ResponseClassification {
  if (statusCode >= 200 && statusCode <= 299) return { kind: 'success', retryAfterMs: null, gone: false };
  if (statusCode === 410) return { kind: 'final', retryAfterMs: null, gone: true };

  const retryAfterHeader = header(headers, 'retry-after');
  const rateLimited = header(headers, 'x-ratelimit-remaining') === '0';
  const retryable =
    RETRYABLE_4XX.has(statusCode) ||
    (statusCode >= 500 && statusCode <= 599) ||
    (statusCode === 403 && (Boolean(retryAfterHeader) || rateLimited));
  if (!retryable) return { kind: 'final', retryAfterMs: null, gone: false };

  let retryAfterMs = parseRetryAfter(retryAfterHeader, nowMs);
  if (retryAfterMs === null && rateLimited) retryAfterMs = rateLimitResetDelay(headers, nowMs);
  return { kind: 'retryable', retryAfterMs, gone: false };
}
