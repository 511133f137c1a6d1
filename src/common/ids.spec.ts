import { newId } from './ids';

describe('newId', () => {
  it('prefixes and encodes time then randomness in 26 Crockford characters', () => {
    const id = newId('key', 0, Buffer.alloc(10));
    expect(id).toBe('key_' + '0'.repeat(26));
    expect(newId('x', 1, Buffer.alloc(10, 0xff))).toBe('x_0000000001' + 'Z'.repeat(16));
  });

  it('sorts by creation time', () => {
    const a = newId('evt', 1_700_000_000_000);
    const b = newId('evt', 1_700_000_000_001);
    const c = newId('evt', 1_800_000_000_000);
    expect([c, a, b].sort()).toEqual([a, b, c]);
  });

  it('is unique across calls in the same millisecond', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newId('msg', 42)));
    expect(ids.size).toBe(1000);
  });
});
