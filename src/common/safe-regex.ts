import RE2 from 're2';

/**
 * Patterns longer than this are refused. Matches the automations' own field limit
 * (MAX_REGEX_CHARS), so a pattern never passes one check and fails the other on length.
 */
export const MAX_PATTERN_LENGTH = 1024;

/** A compiled user pattern: RE2 underneath, so matching time is linear in the input. */
export interface SafeRegex {
  readonly source: string;
  test(text: string): boolean;
}

export type RegexCompilation = { ok: true; regex: SafeRegex } | { ok: false; reason: string };

/**
 * Compiles a user-supplied pattern with RE2 (unicode mode). Lookaround and backreferences,
 * which RE2 does not implement, are refused with RE2's own message as the reason; the
 * reason reads after a field name ("aliasRegex is not a valid RE2 pattern: …"). Matching
 * is unanchored unless the pattern anchors itself.
 */
export function compileSafeRegex(pattern: string): RegexCompilation {
  if (typeof pattern !== 'string') return { ok: false, reason: 'must be a string' };
  if (pattern.length > MAX_PATTERN_LENGTH) {
    return { ok: false, reason: `must be at most ${MAX_PATTERN_LENGTH} characters (got ${pattern.length})` };
  }
  let compiled: RE2;
  try {
    compiled = new RE2(pattern, 'u');
  } catch (error) {
    return { ok: false, reason: `is not a valid RE2 pattern: ${messageOf(error)}` };
  }
  return { ok: true, regex: new Re2Regex(pattern, compiled) };
}

/** The addon's errors may come from another realm (Jest's VM), so `instanceof Error` is not reliable. */
function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}

class Re2Regex implements SafeRegex {
  constructor(
    readonly source: string,
    private readonly compiled: RE2,
  ) {}

  /** Without the 'g' or 'y' flag RE2 ignores lastIndex, so calls never affect each other. */
  test(text: string): boolean {
    return this.compiled.test(text);
  }
}
