import { type RegexCompilation, type SafeRegex, compileSafeRegex } from '../common/safe-regex';

/**
 * The matcher's regexes, shared and made cheap to test: every automation of a team is matched
 * against every event of its project, and the same patterns come back again and again
 * (`^prod$`, `^bert-`). An RE2 call costs a UTF-8 copy of its input and a trip into native
 * code, so:
 *
 * - a pattern that is plain ASCII text, optionally anchored with `^` and/or `$`, is tested
 *   with a string comparison (same answer: ASCII bytes never occur inside a multi-byte UTF-8
 *   character, and without the `m` flag the anchors mean start and end of the text);
 * - any other pattern goes to RE2, and remembers its last input and answer, since several
 *   automations sharing a pattern test it against the same field of the same event in a row;
 * - one compiled regex is shared by every automation that uses the pattern.
 *
 * Compilation still goes through compileSafeRegex, so what is accepted or refused is unchanged.
 */

/** Patterns kept; past this the cache starts afresh (compiling again is only slower). */
export const MAX_CACHED_PATTERNS = 20_000;

const cache = new Map<string, SafeRegex>();

/** A compiled pattern from the cache; compiles (and caches) it on first use. */
export function sharedRegex(pattern: string): RegexCompilation {
  const cached = cache.get(pattern);
  if (cached) return { ok: true, regex: cached };
  const compiled = compileSafeRegex(pattern);
  if (!compiled.ok) return compiled;
  const regex = literalPattern(pattern) ?? new RememberingRegex(compiled.regex);
  if (cache.size >= MAX_CACHED_PATTERNS) cache.clear();
  cache.set(pattern, regex);
  return { ok: true, regex };
}

/** `^`? then ASCII text with no regex syntax, then `$`?. */
const LITERAL = /^(\^?)([\x20-\x7e]*?)(\$?)$/;
const SYNTAX = /[\\^$.|?*+()[\]{}]/;

/** A string test equivalent to the pattern, or null when the pattern is not plain text. */
export function literalPattern(pattern: string): SafeRegex | null {
  const parts = LITERAL.exec(pattern);
  if (!parts) return null;
  const [, start, text, end] = parts;
  if (SYNTAX.test(text)) return null;
  const test =
    start && end
      ? (value: string) => value === text
      : start
        ? (value: string) => value.startsWith(text)
        : end
          ? (value: string) => value.endsWith(text)
          : (value: string) => value.includes(text);
  return { source: pattern, test };
}

class RememberingRegex implements SafeRegex {
  private lastInput: string | null = null;
  private lastAnswer = false;

  constructor(private readonly regex: SafeRegex) {}

  get source(): string {
    return this.regex.source;
  }

  /** RE2 without the g or y flag keeps no state between calls, so an answer can be reused. */
  test(text: string): boolean {
    if (text === this.lastInput) return this.lastAnswer;
    const answer = this.regex.test(text);
    this.lastInput = text;
    this.lastAnswer = answer;
    return answer;
  }
}
