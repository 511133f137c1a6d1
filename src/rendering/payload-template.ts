import { REDACTED } from '../common/logging/redactor';
import { compileJsonText, malformedReason } from './json-text-template';
import { type Reference, readDollar, scanString } from './placeholder-syntax';
import type { PayloadVariables } from './render-context';
import {
  type JsonPath,
  type LocatedReference,
  MAX_TEMPLATE_DEPTH,
  PayloadTemplateError,
  type TemplateCompilation,
  type TemplateIssue,
  type TemplateProgram,
  TemplateProgramBuilder,
  escapeStringContent,
  renderProgram,
} from './template-program';
import { METADATA_PREFIX, RUN_CONFIG_PREFIX, VARIABLE_NAMES, type VariableName, isVariableName } from './variables';
import { RESERVED_KEYS, RESERVED_KEY_REASON, isPlainObject } from '../common/plain-object';

export { BodyTooLargeError, PayloadTemplateError } from './template-program';
export type { JsonPath, LocatedReference, TemplateIssue, TemplateProgram } from './template-program';

/** Gives a secret's value (ACCESS_TOKEN included), or undefined when it is not available. */
export type SecretLookup = (name: string) => string | undefined;

/** For previews, test results and history: every secret renders as `••••••`. */
export const maskedSecrets: SecretLookup = () => REDACTED;

/** `object`: a JSON object or array stored as parsed JSON; `text`: a string of JSON text. */
export type TemplateForm = 'object' | 'text';

/** A secret a template uses has no value at render time (unbound since the template was saved). */
export class UnresolvedSecretError extends Error {
  constructor(readonly secretName: string) {
    super(`Secret ${secretName} is not bound to the webhook`);
    this.name = 'UnresolvedSecretError';
  }
}

/**
 * A payload template parsed once, rendered many times (once per match): rendering is one pass
 * of string concatenation over precomputed JSON text.
 */
export class CompiledTemplate {
  /** Variable names used (`artifact_metadata.<KEY>` as written), in order of first use. */
  readonly usedVariables: readonly string[];
  /** Secret names used, ACCESS_TOKEN included, in order of first use. */
  readonly usedSecrets: readonly string[];
  readonly references: readonly LocatedReference[];
  /** `${` that starts no valid reference; rendered literally, but a 400 at save. */
  readonly invalidPlaceholders: readonly TemplateIssue[];
  /** The template cut at its holes (see TemplateProgram). */
  readonly program: TemplateProgram;

  constructor(readonly form: TemplateForm, compilation: TemplateCompilation) {
    this.program = compilation.program;
    this.references = compilation.references;
    this.invalidPlaceholders = compilation.invalidPlaceholders;
    this.usedVariables = namesOfKinds(compilation.references, ['variable', 'metadata']);
    this.usedSecrets = namesOfKinds(compilation.references, ['secret']);
  }

  /**
   * The JSON body. Variables that do not apply are null ("" inside strings); names outside the
   * variable table render the same way. Throws UnresolvedSecretError when `secrets` lacks one.
   */
  render(variables: PayloadVariables, secrets: SecretLookup, maxBytes = Infinity): string {
    return renderProgram(this.program, (reference) => referenceValue(reference, variables, secrets), false, maxBytes);
  }

  /**
   * The body with variables resolved and secret references kept as `${NAME}`, for storing until
   * send time: itself a JSON-text template (other `$` written `$$`, so values inserted now are
   * never expanded later). resolveDeferredSecrets turns it into the body to send.
   */
  renderDeferringSecrets(variables: PayloadVariables, maxBytes = Infinity): string {
    return renderProgram(this.program, (reference) => referenceValue(reference, variables, noSecrets), true, maxBytes);
  }
}

/**
 * Parses a template: a JSON object/array (object form) or a string of JSON text (text form).
 * Throws PayloadTemplateError when it is neither, holds non-JSON values, or is JSON text that
 * no values could make valid. Unknown names and unbound secrets are validateTemplate's job.
 */
export function compileTemplate(template: unknown): CompiledTemplate {
  if (typeof template === 'string') return new CompiledTemplate('text', compileJsonText(template));
  if (Array.isArray(template) || isPlainObject(template)) {
    return new CompiledTemplate('object', compileJsonValue(template));
  }
  throw new PayloadTemplateError([
    { path: [], reason: 'must be a JSON object, an array, or a string of JSON text' },
  ]);
}

/** Templates shared through sharedTemplate; past this many the cache starts afresh (compiling again is only slower). */
export const MAX_SHARED_TEMPLATES = 20_000;
const sharedTemplates = new Map<string, CompiledTemplate>();

/**
 * compileTemplate, shared: a team's automations often carry the same payload (written once,
 * copied from automation to automation), and a compiled template is immutable, so one compiled
 * copy serves them all instead of one per automation.
 */
export function sharedTemplate(template: unknown): CompiledTemplate {
  const key = typeof template === 'string' ? `t${template}` : `o${JSON.stringify(template)}`;
  let compiled = sharedTemplates.get(key);
  if (compiled === undefined) {
    compiled = compileTemplate(template);
    if (sharedTemplates.size >= MAX_SHARED_TEMPLATES) sharedTemplates.clear();
    sharedTemplates.set(key, compiled);
  }
  return compiled;
}

/** Compiles and renders in one call; on the hot path keep a CompiledTemplate instead. */
export function renderTemplate(template: unknown, variables: PayloadVariables, secrets: SecretLookup): string {
  return compileTemplate(template).render(variables, secrets);
}

/**
 * Turns the output of renderDeferringSecrets into the body to send. The deferred body is
 * scanned, not parsed: one linear pass that tells keys from values and replaces `$$` and
 * secret references in values only. No nesting limit applies here, so values inserted in the
 * first phase (deep artifact metadata) cannot make the second fail.
 */
export function resolveDeferredSecrets(deferredBody: string, secrets: SecretLookup): string {
  if (!deferredBody.includes('$')) return deferredBody;
  const text = deferredBody;
  let out = '';
  let pos = 0;
  while (pos < text.length) {
    const quote = text.indexOf('"', pos);
    const dollar = text.indexOf('$', pos);
    if (dollar !== -1 && (quote === -1 || dollar < quote)) {
      // Outside strings a `$` can only be a secret kept as a whole value.
      out += text.slice(pos, dollar);
      const token = readDollar(text, dollar);
      const reference = token.type === 'reference' ? token.reference : undefined;
      if (reference?.kind !== 'secret') throw strayReference(text, dollar, reference);
      out += JSON.stringify(secretValue(reference.name, secrets));
      pos = token.end;
      continue;
    }
    if (quote === -1) {
      out += text.slice(pos);
      break;
    }
    out += text.slice(pos, quote);
    const close = closingQuote(text, quote);
    if (isKey(text, close + 1)) out += text.slice(quote, close + 1);
    else out += resolveInString(text, quote, close, secrets);
    pos = close + 1;
  }
  return out;
}

/** The index of the `"` closing the string opened at `open`. */
function closingQuote(text: string, open: number): number {
  let at = open + 1;
  for (;;) {
    const quote = text.indexOf('"', at);
    if (quote === -1) throw new Error('A deferred body must be JSON text: unterminated string');
    let backslashes = 0;
    while (text[quote - 1 - backslashes] === '\\') backslashes++;
    if (backslashes % 2 === 0) return quote;
    at = quote + 1;
  }
}

/** A string followed (after whitespace) by `:` is an object key. */
function isKey(text: string, after: number): boolean {
  let at = after;
  while (at < text.length && ' \t\n\r'.includes(text[at])) at++;
  return text[at] === ':';
}

/** A string value of a deferred body, `$$` and secret references resolved. */
function resolveInString(text: string, open: number, close: number, secrets: SecretLookup): string {
  let out = '';
  let pos = open;
  for (let dollar = text.indexOf('$', pos); dollar !== -1 && dollar < close; dollar = text.indexOf('$', pos)) {
    out += text.slice(pos, dollar);
    const token = readDollar(text, dollar);
    if (token.type === 'reference') {
      if (token.reference.kind !== 'secret') throw strayReference(text, dollar, token.reference);
      out += escapeStringContent(secretValue(token.reference.name, secrets));
    } else {
      // `$$` is one `$`; a lone `$` (never written by renderDeferringSecrets) stays literal.
      out += '$';
    }
    pos = token.end;
  }
  return out + text.slice(pos, close + 1);
}

function strayReference(text: string, at: number, reference: Reference | undefined): Error {
  const what = reference?.raw ?? `'${text.slice(at, at + 20)}'`;
  return new Error(`A deferred body may only reference secrets, found ${what}`);
}

/** One problem with a template, in the API's `{field, reason}` shape. */
export interface TemplateProblem {
  field: string;
  reason: string;
}

export type TemplateValidation =
  | { ok: true; usedVariables: string[]; usedSecrets: string[] }
  | { ok: false; problems: TemplateProblem[] };

export interface AllowedNames {
  /** The secrets bound to the webhook; ACCESS_TOKEN only if the webhook has an access token. */
  secrets: readonly string[];
}

/**
 * Checks a template before it is saved: it compiles, every name is in the variable table or
 * a bound secret, and every `${` is a valid reference. `field` prefixes the problem paths
 * (`payload.client_payload.v`).
 */
export function validateTemplate(template: unknown, allowed: AllowedNames, field = 'payload'): TemplateValidation {
  let compiled: CompiledTemplate;
  try {
    compiled = compileTemplate(template);
  } catch (error) {
    if (!(error instanceof PayloadTemplateError)) throw error;
    return { ok: false, problems: capProblems(error.issues.map((issue) => issueToProblem(field, issue)), field) };
  }
  const problems = [
    ...compiled.invalidPlaceholders.map((issue) => issueToProblem(field, issue)),
    ...referenceProblems(compiled.references, allowed).map((issue) => issueToProblem(field, issue)),
  ];
  if (problems.length === 0 && compiled.form === 'text') problems.push(...jsonTextRenderProblems(compiled, field));
  if (problems.length > 0) return { ok: false, problems: capProblems(problems, field) };
  return { ok: true, usedVariables: [...compiled.usedVariables], usedSecrets: [...compiled.usedSecrets] };
}

/** validateTemplate reports at most this many problems (each unknown name lists the allowed ones). */
export const MAX_TEMPLATE_PROBLEMS = 50;

function capProblems(problems: TemplateProblem[], field: string): TemplateProblem[] {
  if (problems.length <= MAX_TEMPLATE_PROBLEMS) return problems;
  const more = problems.length - (MAX_TEMPLATE_PROBLEMS - 1);
  return [...problems.slice(0, MAX_TEMPLATE_PROBLEMS - 1), { field, reason: `and ${more} more problems` }];
}

/** `payload` + [`client_payload`, `v`] → `payload.client_payload.v`; odd keys in brackets. */
export function formatPath(prefix: string, path: JsonPath): string {
  let out = prefix;
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(segment)) out += `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

const noSecrets: SecretLookup = () => undefined;

function referenceValue(reference: Reference, variables: PayloadVariables, secrets: SecretLookup): unknown {
  switch (reference.kind) {
    case 'variable':
      return variables[reference.name as VariableName];
    case 'metadata':
      return reference.name.startsWith(RUN_CONFIG_PREFIX)
        ? metadataValue(variables.run_config, reference.name.slice(RUN_CONFIG_PREFIX.length))
        : metadataValue(variables.artifact_metadata, reference.name.slice(METADATA_PREFIX.length));
    case 'secret':
      return secretValue(reference.name, secrets);
    case 'unknown':
      return null;
  }
}

// Own keys only: `${artifact_metadata.constructor}` must not reach Object.prototype.
function metadataValue(metadata: Record<string, unknown> | null, key: string): unknown {
  return metadata !== null && Object.hasOwn(metadata, key) ? metadata[key] : null;
}

function secretValue(name: string, secrets: SecretLookup): string {
  const value = secrets(name);
  if (value === undefined) throw new UnresolvedSecretError(name);
  return value;
}

function namesOfKinds(references: readonly LocatedReference[], kinds: readonly Reference['kind'][]): string[] {
  const names = new Set<string>();
  for (const { reference } of references) if (kinds.includes(reference.kind)) names.add(reference.name);
  return [...names];
}

/** Walks an object-form template, building the JSON text JSON.stringify would give (compact). */
function compileJsonValue(template: object): TemplateCompilation {
  const out = new TemplateProgramBuilder();
  const references: LocatedReference[] = [];
  const invalidPlaceholders: TemplateIssue[] = [];
  const issues: TemplateIssue[] = [];

  const writeString = (value: string, path: JsonPath): void => {
    const { parts, malformed } = scanString(value);
    out.structure('"');
    for (const part of parts) {
      if (part.type === 'literal') {
        out.stringContent(escapeStringContent(part.text));
      } else {
        references.push({ reference: part.reference, mode: 'in-string', path });
        out.hole(part.reference, 'in-string');
      }
    }
    out.structure('"');
    for (const excerpt of malformed) invalidPlaceholders.push({ path, reason: malformedReason(excerpt) });
  };

  const walk = (value: unknown, path: JsonPath, depth: number): void => {
    if (typeof value === 'string') return writeString(value, path);
    if (typeof value === 'boolean' || value === null) return out.structure(String(value));
    if (typeof value === 'number') {
      if (Number.isFinite(value)) return out.structure(JSON.stringify(value));
      issues.push({ path, reason: `${String(value)} is not a JSON number` });
      return;
    }
    if (depth >= MAX_TEMPLATE_DEPTH) {
      issues.push({ path, reason: `nests deeper than ${MAX_TEMPLATE_DEPTH} levels` });
      return;
    }
    if (Array.isArray(value)) {
      out.structure('[');
      value.forEach((item: unknown, index) => {
        if (index > 0) out.structure(',');
        walk(item, [...path, index], depth + 1);
      });
      // forEach skips holes of sparse arrays; a hole is no JSON value either.
      if (Object.keys(value).length !== value.length) issues.push({ path, reason: 'is a sparse array' });
      return out.structure(']');
    }
    if (isPlainObject(value)) {
      out.structure('{');
      let first = true;
      for (const [key, item] of Object.entries(value)) {
        if (item === undefined) continue; // as JSON.stringify does
        if (RESERVED_KEYS.has(key)) issues.push({ path: [...path, key], reason: RESERVED_KEY_REASON });
        if (!first) out.structure(',');
        first = false;
        out.structure(`${JSON.stringify(key)}:`);
        walk(item, [...path, key], depth + 1);
      }
      return out.structure('}');
    }
    issues.push({ path, reason: `${value === undefined ? 'undefined' : typeof value} is not a JSON value` });
  };

  walk(template, [], 0);
  if (issues.length > 0) throw new PayloadTemplateError(issues);
  return { program: out.build(), references, invalidPlaceholders };
}

function issueToProblem(field: string, issue: TemplateIssue): TemplateProblem {
  const where = issue.position ? ` (line ${issue.position.line}, column ${issue.position.column})` : '';
  return { field: formatPath(field, issue.path), reason: `${issue.reason}${where}` };
}

function referenceProblems(references: readonly LocatedReference[], allowed: AllowedNames): TemplateIssue[] {
  const issues: TemplateIssue[] = [];
  for (const { reference, path, position } of references) {
    if (reference.kind === 'unknown') {
      const allowedNames = [...VARIABLE_NAMES, `${METADATA_PREFIX}<KEY>`, `${RUN_CONFIG_PREFIX}<KEY>`, ...allowed.secrets].join(', ');
      issues.push({ path, position, reason: `unknown variable ${reference.raw}${suggestion(reference.name)}; allowed: ${allowedNames}` });
    } else if (reference.kind === 'secret' && !allowed.secrets.includes(reference.name)) {
      const bound = allowed.secrets.length > 0 ? `bound secrets: ${allowed.secrets.join(', ')}` : 'no secret is bound';
      const literalHint = reference.raw.startsWith('${') ? '' : " (write $$ for a literal '$')";
      issues.push({
        path,
        position,
        reason: `secret ${reference.raw} is not bound to this webhook${suggestion(reference.name)}${literalHint}; ${bound}`,
      });
    }
  }
  return issues;
}

function suggestion(name: string): string {
  if (name === 'artifact_metadata') return ` (name a key: \${${METADATA_PREFIX}<KEY>})`;
  if (name === 'run_config') return ` (name a key: \${${RUN_CONFIG_PREFIX}<KEY>})`;
  const candidate = name.toLowerCase().replace(/\./g, '_');
  return isVariableName(candidate) ? ` (did you mean \${${candidate}}?)` : '';
}

// Values of every JSON shape, and strings full of characters JSON must escape.
const SAMPLE_VALUES: readonly unknown[] = [null, 0, -1.5e300, Number.NaN, 'a "q" \\ \n $', true, { a: [1, '}'] }];

/**
 * The parser guarantees valid JSON whatever the values; this re-checks it with JSON.parse over
 * sample values of every shape, so a parser bug surfaces at save time, not at delivery.
 */
function jsonTextRenderProblems(compiled: CompiledTemplate, field: string): TemplateProblem[] {
  for (const sample of SAMPLE_VALUES) {
    const body = renderProgram(compiled.program, () => sample);
    try {
      JSON.parse(body);
    } catch {
      return [{ field, reason: `does not render to valid JSON when a value is ${JSON.stringify(sample) ?? String(sample)}` }];
    }
  }
  return [];
}
