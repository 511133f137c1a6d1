import { ApiError } from '../errors/api-error';
import { checkIfMatch, contentEtag, parseIfMatch } from './etag';

describe('etags', () => {
  it('hash the configuration, whatever the key order; any change gives another', () => {
    expect(contentEtag({ a: 1, b: { c: [1, 2] } })).toBe(contentEtag({ b: { c: [1, 2] }, a: 1 }));
    expect(contentEtag({ a: 1, b: null })).not.toBe(contentEtag({ a: 1, b: 0 }));
    expect(contentEtag({ a: [1, 2] })).not.toBe(contentEtag({ a: [2, 1] }));
    expect(contentEtag({ a: 1 })).toMatch(/^[\w-]{27}$/);
  });

  it('If-Match: quoted tags, lists, *, weak tags never match, absent means no condition', () => {
    expect(parseIfMatch(undefined)).toBeUndefined();
    expect(parseIfMatch('*')).toBe('*');
    expect(parseIfMatch('"a", "b"')).toEqual(['a', 'b']);
    expect(parseIfMatch('W/"a"')).toEqual([]);
    expect(parseIfMatch('bare')).toEqual(['bare']);
    expect(() => checkIfMatch(undefined, 'x', 'Webhook w')).not.toThrow();
    expect(() => checkIfMatch('*', 'x', 'Webhook w')).not.toThrow();
    expect(() => checkIfMatch(['x'], 'x', 'Webhook w')).not.toThrow();
    try {
      checkIfMatch(['old'], 'new', 'Webhook w');
      throw new Error('no 412');
    } catch (error) {
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError).getStatus()).toBe(412);
      expect((error as ApiError).message).toMatch(/Webhook w has changed since it was read/);
    }
  });
});
