import { MAX_PATTERN_LENGTH, type SafeRegex, compileSafeRegex } from './safe-regex';

function compiled(pattern: string): SafeRegex {
  const result = compileSafeRegex(pattern);
  if (!result.ok) throw new Error(`expected ${pattern} to compile: ${result.reason}`);
  return result.regex;
}

function refusal(pattern: string): string {
  const result = compileSafeRegex(pattern);
  if (result.ok) throw new Error(`expected ${pattern} to be refused`);
  return result.reason;
}

describe('compileSafeRegex', () => {
  it('keeps the source as given', () => {
    expect(compiled('^prod$').source).toBe('^prod$');
  });

  it('matches unanchored unless the pattern anchors itself', () => {
    expect(compiled('prod').test('pre-prod-2')).toBe(true);
    expect(compiled('^prod$').test('pre-prod-2')).toBe(false);
    expect(compiled('^prod$').test('prod')).toBe(true);
    expect(compiled('^bert-').test('bert-base')).toBe(true);
    expect(compiled('^bert-').test('roberta-bert-')).toBe(false);
  });

  it('an empty pattern matches everything', () => {
    expect(compiled('').test('')).toBe(true);
    expect(compiled('').test('anything')).toBe(true);
  });

  it('is case-sensitive unless the pattern says otherwise', () => {
    expect(compiled('PROD').test('prod')).toBe(false);
    expect(compiled('(?i)PROD').test('prod')).toBe(true);
  });

  it('runs the catastrophic-backtracking pattern (a+)+$ on 100 000 characters without hanging', () => {
    const input = 'a'.repeat(100_000) + '!';
    expect(compiled('(a+)+$').test(input)).toBe(false);
    expect(compiled('(a+)+$').test('a'.repeat(100_000))).toBe(true);
  });

  it('refuses lookahead with RE2 reason', () => {
    expect(refusal('(?=x)')).toBe('is not a valid RE2 pattern: invalid perl operator: (?=');
  });

  it('refuses lookbehind and negative lookahead', () => {
    expect(refusal('(?<=a)b')).toMatch(/^is not a valid RE2 pattern: invalid perl operator: \(\?<=?/);
    expect(refusal('a(?!b)')).toMatch(/^is not a valid RE2 pattern: invalid perl operator: \(\?!/);
  });

  it('refuses backreferences', () => {
    expect(refusal('(a)\\1')).toBe('is not a valid RE2 pattern: invalid escape sequence: \\1');
  });

  it('refuses malformed patterns naming the problem', () => {
    expect(refusal('[')).toBe('is not a valid RE2 pattern: missing ]: [');
    expect(refusal('a{2000}')).toContain('invalid repetition size');
  });

  it('refuses a pattern over the length limit, saying the limit', () => {
    const reason = refusal('a'.repeat(MAX_PATTERN_LENGTH + 1));
    expect(reason).toBe(`must be at most ${MAX_PATTERN_LENGTH} characters (got ${MAX_PATTERN_LENGTH + 1})`);
  });

  it('accepts a pattern exactly at the length limit', () => {
    expect(compileSafeRegex('a'.repeat(MAX_PATTERN_LENGTH)).ok).toBe(true);
  });

  it('refuses a non-string defensively', () => {
    expect(refusal(42 as unknown as string)).toBe('must be a string');
  });

  it('works on unicode text and unicode classes', () => {
    expect(compiled('^\\p{L}+$').test('Ünïcödé')).toBe(true);
    expect(compiled('^\\p{L}+$').test('abc1')).toBe(false);
    expect(compiled('^.$').test('😀')).toBe(true);
    expect(compiled('café').test('un café noir')).toBe(true);
    expect(compiled('模型').test('新模型 v2')).toBe(true);
  });

  it('gives the same answer on repeated calls (no lastIndex state)', () => {
    const regex = compiled('prod');
    expect([regex.test('prod'), regex.test('prod'), regex.test('prod')]).toEqual([true, true, true]);
    expect([regex.test('xprod'), regex.test('prod'), regex.test('no')]).toEqual([true, true, false]);
  });
});
