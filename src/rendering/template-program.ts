import type { Reference } from './placeholder-syntax';

/**
 * Where a reference stands: inside a JSON string (its value is inserted JSON-escaped), or as a
 * whole JSON value of a JSON-text template (inserted as JSON: numbers as numbers…).
 */
export type InsertionMode = 'in-string' | 'whole-value';

export interface Hole {
  reference: Reference;
  mode: InsertionMode;
}

/**
 * A compiled template: JSON text cut at its holes, so rendering is one pass of concatenation.
 * `literals` has one more entry than `holes`: literal, hole, literal, …, literal.
 * `deferredLiterals` is the same text for a render that keeps secret references (see
 * renderProgram): `$` inside string values is written `$$` there.
 */
export interface TemplateProgram {
  literals: readonly string[];
  deferredLiterals: readonly string[];
  holes: readonly Hole[];
}

/** A location inside a template: object keys and array indexes from the root. */
export type JsonPath = readonly (string | number)[];

/** Line and column (1-based) in a JSON-text template. */
export interface TextPosition {
  line: number;
  column: number;
}

/** A reference found while compiling, with where it stands. */
export interface LocatedReference {
  reference: Reference;
  mode: InsertionMode;
  path: JsonPath;
  position?: TextPosition;
}

/** Something wrong with a template, at a path (and a position in JSON text). */
export interface TemplateIssue {
  path: JsonPath;
  reason: string;
  position?: TextPosition;
}

/** Accumulates a TemplateProgram while a template is walked or parsed. */
export class TemplateProgramBuilder {
  private readonly literals: string[] = [''];
  private readonly deferredLiterals: string[] = [''];
  private readonly holes: Hole[] = [];

  /** JSON text that is the same in every render: punctuation, whitespace, numbers, keys. */
  structure(text: string): void {
    this.literals[this.literals.length - 1] += text;
    this.deferredLiterals[this.deferredLiterals.length - 1] += text;
  }

  /** Already JSON-escaped content of a string value (where `$$` means `$` in deferred text). */
  stringContent(escaped: string): void {
    this.literals[this.literals.length - 1] += escaped;
    this.deferredLiterals[this.deferredLiterals.length - 1] += doubleDollars(escaped);
  }

  hole(reference: Reference, mode: InsertionMode): void {
    this.holes.push({ reference, mode });
    this.literals.push('');
    this.deferredLiterals.push('');
  }

  build(): TemplateProgram {
    return { literals: this.literals, deferredLiterals: this.deferredLiterals, holes: this.holes };
  }
}

/** Gives the value of a hole's reference; undefined renders like null. */
export type HoleValue = (reference: Reference) => unknown;

/**
 * Renders a program to JSON text. With `deferSecrets`, secret references are written back as
 * `${NAME}` and every other `$` in string values as `$$`, so the result is itself a JSON-text
 * template whose only references are those secrets, and whose inserted values cannot be
 * expanded by the second render (docs/design.md › Payload rendering: secrets are resolved only at send time).
 */
export function renderProgram(program: TemplateProgram, valueOf: HoleValue, deferSecrets = false, maxBytes = Infinity): string {
  const { holes } = program;
  const literals = deferSecrets ? program.deferredLiterals : program.literals;
  // Each distinct reference is serialised once (3 000 `${run_name}` are one value, inserted 3 000
  // times), and the body's size is known before anything is joined: an oversize body costs
  // the size of its distinct values, never the size it would have had.
  const insertions = new Map<string, string>();
  const inserted: string[] = new Array(holes.length);
  for (let i = 0; i < holes.length; i++) {
    const { reference, mode } = holes[i];
    const key = `${mode}\u0000${reference.kind}\u0000${reference.name}`;
    let text = insertions.get(key);
    if (text === undefined) {
      if (deferSecrets && reference.kind === 'secret') text = `\${${reference.name}}`;
      else if (mode === 'in-string') text = insertInString(valueOf(reference), deferSecrets);
      else text = valueAsJson(valueOf(reference), deferSecrets);
      insertions.set(key, text);
    }
    inserted[i] = text;
  }
  if (maxBytes !== Infinity) {
    const bytes = renderedBytes(literals, inserted);
    if (bytes > maxBytes) throw new BodyTooLargeError(bytes, maxBytes);
  }
  let out = literals[0];
  for (let i = 0; i < holes.length; i++) out += inserted[i] + literals[i + 1];
  return out;
}

/** The UTF-8 size of literal, insertion, literal, …; each distinct insertion measured once. */
function renderedBytes(literals: readonly string[], inserted: readonly string[]): number {
  const sizes = new Map<string, number>();
  let total = 0;
  for (const literal of literals) total += Buffer.byteLength(literal, 'utf8');
  for (const text of inserted) {
    let size = sizes.get(text);
    if (size === undefined) sizes.set(text, (size = Buffer.byteLength(text, 'utf8')));
    total += size;
  }
  return total;
}

/**
 * A rendered body over the limit of its webhook (webhook-kinds.ts › bodyLimitBytes): recorded
 * as the match's failure, nothing stored or sent.
 */
export class BodyTooLargeError extends Error {
  constructor(
    readonly bytes: number,
    readonly limitBytes: number,
  ) {
    super(`The rendered body would be ${bytes} bytes, over this webhook's limit of ${limitBytes} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/** The text of a value as it reads inside a string: null is empty, objects are JSON. */
export function valueAsText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  // String() spells non-finite numbers "NaN", "Infinity", "-Infinity", as the API spells them.
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value) ?? '';
}

/** JSON-escapes text for the inside of a string literal (lone surrogates become \uDXXX). */
export function escapeStringContent(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

function insertInString(value: unknown, deferred: boolean): string {
  const escaped = escapeStringContent(valueAsText(value));
  return deferred ? doubleDollars(escaped) : escaped;
}

/** A value as a whole JSON value: non-finite numbers become strings, null/undefined null. */
export function valueAsJson(value: unknown, deferred = false): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number' && !Number.isFinite(value)) return `"${String(value)}"`;
  return JSON.stringify(value, deferred ? doubleDollarsInStringValues : undefined) ?? 'null';
}

// A replacer sees values, never keys: keys are never unescaped by the second render either.
function doubleDollarsInStringValues(_key: string, value: unknown): unknown {
  return typeof value === 'string' ? doubleDollars(value) : value;
}

function doubleDollars(text: string): string {
  return text.includes('$') ? text.split('$').join('$$') : text;
}

/** Containers nested deeper than this are refused: no real payload needs more, and walking stays shallow. */
export const MAX_TEMPLATE_DEPTH = 64;

/** What compiling a template produced. */
export interface TemplateCompilation {
  program: TemplateProgram;
  references: LocatedReference[];
  /** `${` that starts no valid reference: rendered literally, reported by validation. */
  invalidPlaceholders: TemplateIssue[];
}

/** A template that cannot be compiled (not JSON, or not valid JSON text whatever the values). */
export class PayloadTemplateError extends Error {
  constructor(readonly issues: readonly TemplateIssue[]) {
    super(`Invalid payload template: ${issues.map((issue) => issue.reason).join('; ')}`);
    this.name = 'PayloadTemplateError';
  }
}
