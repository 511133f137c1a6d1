import { isReceivePath, receivePath } from '../source-kinds';
import { derivedEventId, lookup, senderEventId, timestampProblem, truncateUtf8 } from './sender';

describe('sender helpers', () => {
  it('timestampProblem: missing, malformed, beyond 300 s either way', () => {
    expect(timestampProblem('X-T', undefined, 1000)).toBe('the X-T header is missing');
    expect(timestampProblem('X-T', '12.5', 1000)).toBe('the X-T header is not a unix time in seconds');
    expect(timestampProblem('X-T', '-5', 1000)).toBe('the X-T header is not a unix time in seconds');
    expect(timestampProblem('X-T', '700', 1000)).toBeNull();
    expect(timestampProblem('X-T', '1300', 1000)).toBeNull();
    expect(timestampProblem('X-T', '699', 1000)).toMatch(/301 s away/);
    expect(timestampProblem('X-T', '1301', 1000)).toMatch(/301 s away/);
  });

  it('senderEventId keeps a valid Herald event id and hashes anything else', () => {
    expect(senderEventId('p', '4cd26e62-60c6-4a8b-8d03-7629091a4ef5')).toBe('4cd26e62-60c6-4a8b-8d03-7629091a4ef5');
    expect(senderEventId('p', 'has space')).toMatch(/^p-[0-9a-f]{40}$/);
    expect(senderEventId('p', 'x'.repeat(129))).toMatch(/^p-[0-9a-f]{40}$/);
    expect(senderEventId('p', 'é')).toMatch(/^p-[0-9a-f]{40}$/);
  });

  it('derivedEventId is stable for the same parts and differs for others', () => {
    expect(derivedEventId('hf', ['a', 1, null])).toBe(derivedEventId('hf', ['a', 1, null]));
    expect(derivedEventId('hf', ['a', 1, null])).not.toBe(derivedEventId('hf', ['a', 1, 'x']));
    // Parts are JSON-encoded: no ambiguity between ["ab","c"] and ["a","bc"].
    expect(derivedEventId('hf', ['ab', 'c'])).not.toBe(derivedEventId('hf', ['a', 'bc']));
  });

  it('truncateUtf8 keeps whole characters within the byte budget', () => {
    expect(truncateUtf8('abc', 8)).toBe('abc');
    // a: 1 byte, é: 2, €: 3, 😀: 4 (a surrogate pair in UTF-16)
    expect(truncateUtf8('aé€😀', 6)).toBe('aé€');
    expect(truncateUtf8('aé€😀', 5)).toBe('aé');
    expect(truncateUtf8('aé€😀', 9)).toBe('aé€');
    expect(Buffer.byteLength(truncateUtf8('😀'.repeat(10), 9))).toBe(8);
  });

  it('lookup finds own keys only', () => {
    expect(lookup({ a: 1 }, 'a')).toBe(1);
    expect(lookup({ a: 1 }, 'constructor')).toBeUndefined();
    expect(lookup({ a: 1 }, undefined)).toBeUndefined();
  });

  it('receive paths: with and without a token, nothing else', () => {
    expect(receivePath('src_1')).toBe('/v1/sources/src_1/receive');
    expect(receivePath('src_1', 'hrs_x')).toBe('/v1/sources/src_1/receive/hrs_x');
    expect(isReceivePath('/v1/sources/src_1/receive')).toBe(true);
    expect(isReceivePath('/v1/sources/src_1/receive/hrs_x')).toBe(true);
    expect(isReceivePath('/v1/sources/src_1/receipts')).toBe(false);
    expect(isReceivePath('/v1/sources')).toBe(false);
    expect(isReceivePath('/v1/events')).toBe(false);
    expect(isReceivePath('/v1/sources/src_1/receive/a/b')).toBe(false);
  });
});
