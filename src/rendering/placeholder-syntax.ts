import { METADATA_KEY_PATTERN, METADATA_PREFIX, RUN_CONFIG_PREFIX, SECRET_NAME_PATTERN, isVariableName } from './variables';

/**
 * What a `${…}` or `$NAME` names:
 * - `variable`: a name of the variable table, e.g. `run_name`;
 * - `metadata`: `artifact_metadata.<KEY>` or `run_config.<KEY>`;
 * - `secret`: `ACCESS_TOKEN` or a secret name (`[A-Z][A-Z0-9_]*`);
 * - `unknown`: well-formed but none of the above (`${runName}`): a 400 at save, empty when rendered.
 */
export type ReferenceKind = 'variable' | 'metadata' | 'secret' | 'unknown';

export interface Reference {
  kind: ReferenceKind;
  /** `run_name`, `artifact_metadata.val/loss`, `ACCESS_TOKEN`… */
  name: string;
  /** As written: `${run_name}` or `$MY_SECRET`. */
  raw: string;
}

/** What a `$` starts, and where the text after it resumes. */
export type DollarToken =
  | { type: 'reference'; reference: Reference; end: number }
  /** `$$`: one literal `$`. */
  | { type: 'escaped-dollar'; end: number }
  /** `${` not followed by a valid name and `}`: the `$` is literal, but validation reports it. */
  | { type: 'malformed'; excerpt: string; end: number }
  /** Any other `$` is literal. */
  | { type: 'literal-dollar'; end: number };

// An identifier, optionally `.KEY` (only artifact_metadata and run_config take one; others are reported unknown).
const BRACED_NAME = /\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_./-]+)?)\}/y;
const BARE_SECRET_NAME = /[A-Z][A-Z0-9_]*/y;
const MALFORMED_EXCERPT_LENGTH = 40;

/** Reads what the `$` at `text[at]` starts. */
export function readDollar(text: string, at: number): DollarToken {
  const next = text[at + 1];
  if (next === '$') return { type: 'escaped-dollar', end: at + 2 };
  if (next === '{') {
    BRACED_NAME.lastIndex = at + 1;
    const braced = BRACED_NAME.exec(text);
    if (!braced) return { type: 'malformed', excerpt: malformedExcerpt(text, at), end: at + 1 };
    return { type: 'reference', reference: classifyName(braced[1], `$${braced[0]}`), end: BRACED_NAME.lastIndex };
  }
  BARE_SECRET_NAME.lastIndex = at + 1;
  const bare = BARE_SECRET_NAME.exec(text);
  if (!bare) return { type: 'literal-dollar', end: at + 1 };
  return { type: 'reference', reference: { kind: 'secret', name: bare[0], raw: `$${bare[0]}` }, end: BARE_SECRET_NAME.lastIndex };
}

/** Says what a name inside `${…}` refers to. */
export function classifyName(name: string, raw = `\${${name}}`): Reference {
  if (isVariableName(name)) return { kind: 'variable', name, raw };
  for (const prefix of [METADATA_PREFIX, RUN_CONFIG_PREFIX]) {
    if (name.startsWith(prefix) && METADATA_KEY_PATTERN.test(name.slice(prefix.length))) return { kind: 'metadata', name, raw };
  }
  if (SECRET_NAME_PATTERN.test(name)) return { kind: 'secret', name, raw };
  return { kind: 'unknown', name, raw };
}

/**
 * The text after a bad `${`, for the error message: up to its `}`, stopping before a `"` or a
 * line break (in JSON text those end the string). Only a bounded window is searched, so a
 * template full of `${` is still checked in linear time.
 */
function malformedExcerpt(text: string, at: number): string {
  const window = text.slice(at, at + MALFORMED_EXCERPT_LENGTH + 1);
  const stop = window.search(/[}"\r\n]/);
  if (stop !== -1 && stop < MALFORMED_EXCERPT_LENGTH) return window.slice(0, window[stop] === '}' ? stop + 1 : stop);
  if (window.length <= MALFORMED_EXCERPT_LENGTH) return window;
  let excerpt = window.slice(0, MALFORMED_EXCERPT_LENGTH);
  // Do not cut a surrogate pair in half.
  if (/[\uD800-\uDBFF]$/.test(excerpt)) excerpt = excerpt.slice(0, -1);
  return `${excerpt}…`;
}

/** A piece of a string value: literal text, or a reference to substitute. */
export type StringPart = { type: 'literal'; text: string } | { type: 'reference'; reference: Reference };

export interface ScannedString {
  parts: StringPart[];
  /** Excerpts of `${` that start no valid reference. */
  malformed: string[];
}

/** Splits a string (a value of an object template) into literal text and references. */
export function scanString(text: string): ScannedString {
  const parts: StringPart[] = [];
  const malformed: string[] = [];
  let literal = '';
  let runStart = 0;
  let at = text.indexOf('$');
  while (at !== -1) {
    literal += text.slice(runStart, at);
    const token = readDollar(text, at);
    if (token.type === 'reference') {
      if (literal) parts.push({ type: 'literal', text: literal });
      literal = '';
      parts.push({ type: 'reference', reference: token.reference });
    } else {
      literal += '$';
      if (token.type === 'malformed') malformed.push(token.excerpt);
    }
    runStart = token.end;
    at = text.indexOf('$', runStart);
  }
  literal += text.slice(runStart);
  if (literal) parts.push({ type: 'literal', text: literal });
  return { parts, malformed };
}
