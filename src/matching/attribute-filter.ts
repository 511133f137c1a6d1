import type { FieldProblem } from '../common/errors/api-error';
import { isPlainObject } from '../common/plain-object';
import { type SafeRegex, compileSafeRegex } from '../common/safe-regex';
import type { HeraldEvent, RunContext } from '../events/event.types';

/**
 * The attribute filter of an automation (docs/automations.md › Attribute filters): a JSON
 * document in the style of W&B's filter expressions (MongoDB-like) over the event and its run,
 * checked after the trigger. Pure: validated when saved (`compileFilter`, every problem named
 * by its path), then tested per event (`test`) or explained clause by clause (`explain`).
 *
 * - A filter is an object; its keys are ANDed. A key is a path (`run.config.lr`) or `$and`,
 *   `$or` (non-empty arrays of filters) or `$not` (one filter).
 * - A path's value is a literal (`$eq`) or an object of operators, ANDed: `$eq`, `$ne`, `$gt`,
 *   `$gte`, `$lt`, `$lte` (numbers with numbers, strings with strings), `$in`, `$nin` (arrays
 *   of literals), `$exists` (boolean), `$regex` (RE2, strings only), `$contains` (an array
 *   holding the literal).
 * - A value of another type than the operand never matches (`$gt: 1` on "2" is false); a
 *   missing path fails every operator but `$ne`, `$nin` and `$exists: false`.
 * - `$eq` compares literals only: an array value never equals a scalar (use `$contains`).
 */

/** The paths a filter may start with, and what may follow each. */
const ROOTS: Readonly<Record<string, 'leaf' | readonly string[] | 'any'>> = {
  type: 'leaf',
  project: 'leaf',
  author: 'leaf',
  registry: 'leaf',
  step: 'leaf',
  alias: 'leaf',
  tag: 'leaf',
  run: ['id', 'name', 'state', 'url', 'group', 'tags', 'config'],
  artifact: ['name', 'version', 'collection', 'id', 'type', 'metadata', 'aliases', 'tags'],
  collection: ['name', 'type'],
  alert: ['level', 'title', 'text'],
  metrics: 'any',
};
/** Sub-paths that reach into free JSON: any number of further keys. */
const OPEN_PATHS: ReadonlySet<string> = new Set(['run.config', 'artifact.metadata']);

export const MAX_FILTER_DEPTH = 8;
export const MAX_FILTER_CLAUSES = 64;
export const MAX_FILTER_BYTES = 16 * 1024;
export const MAX_FILTER_LIST = 100;
export const MAX_FILTER_PATH_CHARS = 512;
export const MAX_FILTER_REGEX_CHARS = 1024;

const COMPARISONS = ['$eq', '$ne', '$gt', '$gte', '$lt', '$lte'] as const;
const OPERATORS: ReadonlySet<string> = new Set([...COMPARISONS, '$in', '$nin', '$exists', '$regex', '$contains']);

type Literal = string | number | boolean | null;

type Operation =
  | { op: '$eq' | '$ne'; value: Literal }
  | { op: '$gt' | '$gte' | '$lt' | '$lte'; value: string | number }
  | { op: '$in' | '$nin'; value: Literal[] }
  | { op: '$exists'; value: boolean }
  | { op: '$regex'; value: string; regex: SafeRegex }
  | { op: '$contains'; value: Literal };

/** A compiled filter: the tree of clauses with paths split and regexes compiled once. */
export type FilterNode =
  | { kind: 'and' | 'or'; at: string; children: FilterNode[] }
  | { kind: 'not'; at: string; child: FilterNode }
  | { kind: 'clause'; at: string; path: string; segments: readonly string[]; operation: Operation };

export type FilterCompilation = { ok: true; filter: FilterNode } | { ok: false; problems: FieldProblem[] };

/** One clause's verdict (the preview's per-filter verdicts). */
export interface ClauseVerdict {
  filter: string;
  passed: boolean;
  actual: unknown;
  expected: unknown;
}

/** What a missing path shows as `actual` in a verdict. */
export const ABSENT = '(absent)';

/** Validates a filter document; `field` prefixes every problem's path (`filter.run.config.lr.$gt`). */
export function compileFilter(value: unknown, field = 'filter'): FilterCompilation {
  const problems: FieldProblem[] = [];
  const add = (at: string, reason: string) => problems.push({ field: at, reason });
  if (!isPlainObject(value)) return { ok: false, problems: [{ field, reason: 'must be an object of paths and operators, e.g. {"run.config.lr": {"$lt": 0.01}}' }] };
  let text: string;
  try {
    text = JSON.stringify(value);
  } catch {
    return { ok: false, problems: [{ field, reason: 'must be JSON' }] };
  }
  if (Buffer.byteLength(text, 'utf8') > MAX_FILTER_BYTES) {
    return { ok: false, problems: [{ field, reason: `must be at most ${MAX_FILTER_BYTES} bytes as JSON text` }] };
  }
  const counter = { clauses: 0 };
  const filter = readFilter(value, field, 1, counter, add);
  if (counter.clauses > MAX_FILTER_CLAUSES) add(field, `must hold at most ${MAX_FILTER_CLAUSES} clauses (has ${counter.clauses})`);
  return problems.length === 0 && filter ? { ok: true, filter } : { ok: false, problems };
}

type Add = (at: string, reason: string) => void;

function readFilter(value: unknown, at: string, depth: number, counter: { clauses: number }, add: Add): FilterNode | undefined {
  if (!isPlainObject(value)) {
    add(at, 'must be an object of paths and operators');
    return undefined;
  }
  if (depth > MAX_FILTER_DEPTH) {
    add(at, `nests deeper than ${MAX_FILTER_DEPTH} levels of $and, $or and $not`);
    return undefined;
  }
  const keys = Object.keys(value);
  if (keys.length === 0) {
    add(at, 'must hold at least one path or $and, $or, $not');
    return undefined;
  }
  const children: FilterNode[] = [];
  let ok = true;
  for (const key of keys) {
    const item = value[key];
    const itemAt = `${at}.${key}`;
    let node: FilterNode | undefined;
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(item) || item.length === 0 || item.length > MAX_FILTER_LIST) {
        add(itemAt, `must be an array of 1 to ${MAX_FILTER_LIST} filters`);
        node = undefined;
      } else {
        const parts = item.map((part, i) => readFilter(part, `${itemAt}[${i}]`, depth + 1, counter, add));
        node = parts.every((p) => p !== undefined) ? { kind: key === '$and' ? 'and' : 'or', at: itemAt, children: parts as FilterNode[] } : undefined;
      }
    } else if (key === '$not') {
      const child = readFilter(item, itemAt, depth + 1, counter, add);
      node = child ? { kind: 'not', at: itemAt, child } : undefined;
    } else if (key.startsWith('$')) {
      add(itemAt, 'is not a filter operator here: a filter takes paths and $and, $or, $not');
    } else {
      const clauses = readPathClauses(key, item, itemAt, counter, add);
      if (clauses === undefined) ok = false;
      else children.push(...clauses);
      continue;
    }
    if (node === undefined) ok = false;
    else children.push(node);
  }
  if (!ok) return undefined;
  return children.length === 1 ? children[0] : { kind: 'and', at, children };
}

/** The clauses of one path, one per operator; undefined when the path or an operator was refused (problems added). */
function readPathClauses(path: string, value: unknown, at: string, counter: { clauses: number }, add: Add): FilterNode[] | undefined {
  const segments = splitPath(path, at, add);
  let ok = segments !== undefined;
  const clauses: FilterNode[] = [];
  const push = (operation: Operation | undefined, opAt: string) => {
    counter.clauses++;
    if (operation === undefined) ok = false;
    else if (segments !== undefined) clauses.push({ kind: 'clause', at: opAt, path, segments, operation });
  };
  if (isPlainObject(value) && Object.keys(value).some((k) => k.startsWith('$'))) {
    for (const op of Object.keys(value)) push(readOperation(op, value[op], `${at}.${op}`, add), `${at}.${op}`);
  } else {
    push(readOperation('$eq', value, at, add), at);
  }
  return ok ? clauses : undefined;
}

function splitPath(path: string, at: string, add: Add): readonly string[] | undefined {
  if (path.length > MAX_FILTER_PATH_CHARS) {
    add(at, `is a path of more than ${MAX_FILTER_PATH_CHARS} characters`);
    return undefined;
  }
  const dot = path.indexOf('.');
  const root = dot === -1 ? path : path.slice(0, dot);
  const rule = Object.hasOwn(ROOTS, root) ? ROOTS[root] : undefined;
  if (rule === undefined) {
    add(at, `is not a known path: paths start with ${Object.keys(ROOTS).join(', ')}`);
    return undefined;
  }
  if (rule === 'any') {
    // metrics.<name>: the rest is one metric name (names hold dots and slashes: val/loss, eval.f1).
    if (dot === -1 || dot === path.length - 1) {
      add(at, 'must name a metric: metrics.<name>');
      return undefined;
    }
    return [root, path.slice(dot + 1)];
  }
  const segments = path.split('.');
  if (segments.some((s) => s.length === 0)) {
    add(at, 'is not a path: empty segment');
    return undefined;
  }
  if (rule === 'leaf') {
    if (segments.length === 1) return segments;
    add(at, `is not a known path: ${root} has no fields`);
    return undefined;
  }
  if (segments.length === 1) {
    add(at, `must name a field of ${root}: ${rule.map((f) => `${root}.${f}`).join(', ')}`);
    return undefined;
  }
  if (!rule.includes(segments[1])) {
    add(at, `is not a known path: ${root} has ${rule.join(', ')}`);
    return undefined;
  }
  if (segments.length > 2 && !OPEN_PATHS.has(`${root}.${segments[1]}`)) {
    add(at, `is not a known path: ${root}.${segments[1]} has no fields`);
    return undefined;
  }
  if (segments.some((s) => s === '__proto__')) {
    add(at, 'is not a known path: __proto__ is not an allowed key');
    return undefined;
  }
  return segments;
}

function isLiteral(value: unknown): value is Literal {
  return value === null || typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
}

function readOperation(op: string, value: unknown, at: string, add: Add): Operation | undefined {
  if (!OPERATORS.has(op)) {
    add(at, `is not an operator: use ${[...OPERATORS].join(', ')}`);
    return undefined;
  }
  switch (op) {
    case '$eq':
    case '$ne':
      if (isLiteral(value)) return { op, value };
      add(at, 'must be a string, a number, a boolean or null');
      return undefined;
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte':
      if (typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))) return { op, value };
      add(at, 'must be a number or a string');
      return undefined;
    case '$in':
    case '$nin':
      if (Array.isArray(value) && value.length <= MAX_FILTER_LIST && value.every(isLiteral)) return { op, value: [...value] };
      add(at, `must be an array of at most ${MAX_FILTER_LIST} strings, numbers, booleans or nulls`);
      return undefined;
    case '$exists':
      if (typeof value === 'boolean') return { op, value };
      add(at, 'must be true or false');
      return undefined;
    case '$regex': {
      if (typeof value !== 'string' || value.length > MAX_FILTER_REGEX_CHARS) {
        add(at, `must be a string of at most ${MAX_FILTER_REGEX_CHARS} characters`);
        return undefined;
      }
      const compiled = compileSafeRegex(value);
      if (!compiled.ok) {
        add(at, compiled.reason);
        return undefined;
      }
      return { op, value, regex: compiled.regex };
    }
    default:
      if (isLiteral(value)) return { op: '$contains', value };
      add(at, 'must be a string, a number, a boolean or null (an array holding it matches)');
      return undefined;
  }
}

// Evaluation -----------------------------------------------------------------------------------

/**
 * What a filter reads: the event with its run's context (group, tags, config as Herald keeps
 * them) and `alert` / `collection` objects. Built only for automations that have a filter.
 */
export function filterDocument(event: HeraldEvent, context: RunContext | null | undefined): Record<string, unknown> {
  const doc: Record<string, unknown> = { type: event.type, project: event.project };
  if (event.author !== undefined) doc.author = event.author;
  if (event.registry !== undefined) doc.registry = event.registry;
  if (event.step !== undefined) doc.step = event.step;
  if (event.alias !== undefined) doc.alias = event.alias;
  if (event.tag !== undefined) doc.tag = event.tag;
  if (event.metrics !== undefined) doc.metrics = event.metrics;
  if (event.artifact !== undefined) doc.artifact = event.artifact;
  if (event.collection !== undefined) doc.collection = event.collection;
  if (event.type === 'ALERT') doc.alert = { level: event.level, title: event.title, text: event.text };
  if (event.run !== undefined) {
    const run: Record<string, unknown> = { ...event.run };
    const group = event.run.group ?? context?.group ?? undefined;
    const tags = event.run.tags ?? context?.tags ?? undefined;
    const config = event.run.config ?? context?.config ?? undefined;
    if (group !== undefined && group !== null) run.group = group;
    if (tags !== undefined && tags !== null) run.tags = tags;
    if (config !== undefined && config !== null) run.config = config;
    doc.run = run;
  }
  return doc;
}

/** Whether the document passes the filter (short-circuits; no verdict built). */
export function testFilter(node: FilterNode, doc: Record<string, unknown>): boolean {
  switch (node.kind) {
    case 'and':
      for (const child of node.children) if (!testFilter(child, doc)) return false;
      return true;
    case 'or':
      for (const child of node.children) if (testFilter(child, doc)) return true;
      return false;
    case 'not':
      return !testFilter(node.child, doc);
    case 'clause':
      return applies(node.operation, resolve(doc, node.segments));
  }
}

/**
 * testFilter with a verdict per clause (and per $or and $not, whose outcome is not the AND of
 * the clauses under them); every clause is evaluated, so the preview names each failing one.
 */
export function explainFilter(node: FilterNode, doc: Record<string, unknown>, sink: ClauseVerdict[]): boolean {
  switch (node.kind) {
    case 'and': {
      let passed = true;
      for (const child of node.children) passed = explainFilter(child, doc, sink) && passed;
      return passed;
    }
    case 'or': {
      let passed = false;
      for (const child of node.children) passed = explainFilter(child, doc, sink) || passed;
      sink.push({ filter: node.at, passed, actual: passed ? 'a branch passed' : 'no branch passed', expected: 'any branch passes' });
      return passed;
    }
    case 'not': {
      const passed = !explainFilter(node.child, doc, sink);
      sink.push({ filter: node.at, passed, actual: passed ? 'the filter inside failed' : 'the filter inside passed', expected: 'the filter inside fails' });
      return passed;
    }
    case 'clause': {
      const actual = resolve(doc, node.segments);
      const passed = applies(node.operation, actual);
      sink.push({ filter: node.at, passed, actual: actual === undefined ? ABSENT : actual, expected: { [node.operation.op]: node.operation.value } });
      return passed;
    }
  }
}

/** The value at the path: own keys only (never a prototype's), undefined when absent. */
function resolve(doc: Record<string, unknown>, segments: readonly string[]): unknown {
  let value: unknown = doc;
  for (const segment of segments) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, segment)) return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  return value;
}

function applies(operation: Operation, actual: unknown): boolean {
  switch (operation.op) {
    case '$eq':
      return actual !== undefined && actual === operation.value;
    case '$ne':
      return actual !== operation.value;
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte':
      return ordered(operation.op, actual, operation.value);
    case '$in':
      return actual !== undefined && isLiteral(actual) && operation.value.includes(actual);
    case '$nin':
      return actual === undefined || !isLiteral(actual) || !operation.value.includes(actual);
    case '$exists':
      return (actual !== undefined) === operation.value;
    case '$regex':
      return typeof actual === 'string' && operation.regex.test(actual);
    case '$contains':
      return Array.isArray(actual) && actual.includes(operation.value);
  }
}

/** Numbers with numbers, strings with strings (code-unit order); any other pair is false. */
function ordered(op: '$gt' | '$gte' | '$lt' | '$lte', actual: unknown, limit: string | number): boolean {
  if (typeof actual !== typeof limit || (typeof actual !== 'number' && typeof actual !== 'string')) return false;
  const a = actual as string | number;
  switch (op) {
    case '$gt':
      return a > limit;
    case '$gte':
      return a >= limit;
    case '$lt':
      return a < limit;
    case '$lte':
      return a <= limit;
  }
}
