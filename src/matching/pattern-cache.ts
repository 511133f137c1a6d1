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
 * - any other pattern goes to RE2, and remembers its answers for recent inputs (a bounded number overall),
 *   since the same run names, titles and log lines come back event after event, and several
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

/** Answers remembered across all patterns; past this every pattern starts afresh (only slower). */
export const MAX_REMEMBERED_ANSWERS = 50_000;
/** Longer inputs are tested every time: a key that long would cost more to hash than it saves. */
const MAX_REMEMBERED_INPUT_CHARS = 256;

/** The shared budget of remembered answers: when it runs out, a new generation begins and every pattern forgets. */
const remembered = { count: 0, generation: 0 };

class RememberingRegex implements SafeRegex {
  /**
   * Recent inputs and their answers. The same inputs come back all the time: a run's name at
   * every step it logs, the same titles and log lines, one field tested by every automation
   * sharing the pattern.
   */
  private readonly answers = new Map<string, boolean>();
  private generation = remembered.generation;

  constructor(private readonly regex: SafeRegex) {}

  get source(): string {
    return this.regex.source;
  }

  /** RE2 without the g or y flag keeps no state between calls, so an answer can be reused. */
  test(text: string): boolean {
    if (this.generation !== remembered.generation) {
      this.answers.clear();
      this.generation = remembered.generation;
    }
    const known = this.answers.get(text);
    if (known !== undefined) return known;
    const answer = this.regex.test(text);
    if (text.length <= MAX_REMEMBERED_INPUT_CHARS) {
      if (++remembered.count > MAX_REMEMBERED_ANSWERS) {
        remembered.count = 1;
        remembered.generation++;
        this.answers.clear();
        this.generation = remembered.generation;
      }
      this.answers.set(text, answer);
    }
    return answer;
  }
}
