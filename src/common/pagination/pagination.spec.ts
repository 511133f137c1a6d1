import { ApiError } from '../errors/api-error';
import { decodeCursor, decodeTimeCursor, encodeCursor, timeSortKey, toPage } from './pagination';

describe('pagination', () => {
  it('round-trips cursors', () => {
    for (const key of ['A', 'key_01JD0000', 'ünï/+=']) expect(decodeCursor(encodeCursor(key))).toBe(key);
    expect(decodeCursor(undefined)).toBeNull();
  });

  it.each(['%%%', Buffer.from('{"a":1}').toString('base64url'), Buffer.from('[1]').toString('base64url')])(
    'rejects a cursor it did not issue (%s) as a 400 naming the field',
    (cursor) => {
      try {
        decodeCursor(cursor);
        throw new Error('accepted');
      } catch (e) {
        expect(e).toBeInstanceOf(ApiError);
        expect((e as ApiError).details).toEqual([{ field: 'cursor', reason: 'is not a cursor issued by this endpoint' }]);
      }
    },
  );

  it('answers a next cursor only when the extra row exists', () => {
    const rows = ['a', 'b', 'c'];
    const full = toPage(rows, 2, (r) => r, (r) => r.toUpperCase());
    expect(full.items).toEqual(['A', 'B']);
    expect(decodeCursor(full.nextCursor!)).toBe('b');
    expect(toPage(rows, 3, (r) => r, (r) => r).nextCursor).toBeNull();
  });

  it('round-trips newest-first time cursors, ids with colons included', () => {
    expect(decodeTimeCursor(encodeCursor(timeSortKey(1764115200000, 'evt:a:b')))).toEqual({ time: 1764115200000, id: 'evt:a:b' });
    expect(decodeTimeCursor(undefined)).toBeNull();
    for (const key of ['no-colon', ':id', 'soon:id', '1.5:id']) {
      expect(() => decodeTimeCursor(encodeCursor(key))).toThrow(ApiError);
    }
  });
});
