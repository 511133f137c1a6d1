import { CONTROL_CHARACTER_REASON, compositeKey, hasControlCharacter } from './identifiers';

describe('hasControlCharacter', () => {
  it('finds C0 controls and DEL, nothing else', () => {
    for (const c of ['\u0000', '\u0001', '\t', '\n', '\r', '\u001b', '\u001f', '\u007f']) expect(hasControlCharacter(`a${c}b`)).toBe(true);
    for (const ok of ['llm-finetune', 'a b', 'é', 'ü/ß', '\u0080', '\u00a0', '\u2028', '日本', '😀']) expect(hasControlCharacter(ok)).toBe(false);
    expect(CONTROL_CHARACTER_REASON).toContain('U+0000–U+001F, U+007F');
  });
});

describe('compositeKey', () => {
  it('never gives two distinct lists the same key', () => {
    expect(compositeKey('a\u0000b', 'c')).not.toBe(compositeKey('a', 'b\u0000c'));
    expect(compositeKey('a/b', 'c')).not.toBe(compositeKey('a', 'b/c'));
    expect(compositeKey('a","b', 'c')).not.toBe(compositeKey('a', 'b","c'));
    expect(compositeKey('', 'ab')).not.toBe(compositeKey('a', 'b'));
    expect(compositeKey('ab')).not.toBe(compositeKey('a', 'b'));
    expect(compositeKey('p', 'r')).toBe(compositeKey('p', 'r'));
  });

  it('is injective over many hostile pairs', () => {
    const parts = ['', 'a', 'b', '\u0000', 'a\u0000', '\u0000b', '"', '\\', '","', '[', ']', 'a\u0000b'];
    const keys = new Map<string, string>();
    for (const x of parts) {
      for (const y of parts) {
        const key = compositeKey(x, y);
        const pair = JSON.stringify([x, y]);
        expect(keys.get(key) ?? pair).toBe(pair);
        keys.set(key, pair);
      }
    }
    expect(keys.size).toBe(parts.length * parts.length);
  });
});
