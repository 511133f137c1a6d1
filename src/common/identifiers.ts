/**
 * Identifiers (projects, run ids, artifact names, API-key names…) are text people and tools
 * type: control characters (C0, U+0000–U+001F, and DEL, U+007F) in one are refused (400), so
 * no NUL, newline or escape sequence can hide in a name, a log line or a key built from it.
 */
export const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;
export const CONTROL_CHARACTER_REASON = 'must not contain control characters (U+0000–U+001F, U+007F)';

export function hasControlCharacter(value: string): boolean {
  return CONTROL_CHARACTER.test(value);
}

/**
 * The one way to build an internal key (a Map key, a cache key) from several strings: the
 * JSON text of the list, so no two distinct lists give the same key whatever they contain —
 * a separator character could appear in a part (`a\0b` + `c` against `a` + `b\0c`).
 */
export function compositeKey(...parts: readonly string[]): string {
  return JSON.stringify(parts);
}
