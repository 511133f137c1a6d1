import { CONTROL_CHARACTER_REASON, hasControlCharacter } from '../common/identifiers';
import type { FieldProblem } from '../common/errors/api-error';
import { compileSafeRegex } from '../common/safe-regex';
import { ALERT_LEVELS, RUN_STATES } from '../events/event.types';
import { validateTemplate } from '../rendering/payload-template';
import { PRESET_NAMES, isPresetName } from '../rendering/presets';
import {
  AGGREGATIONS,
  type AttributeFilter,
  type AutomationAction,
  CHANGE_TYPES,
  COMPARISONS,
  DIRECTIONS,
  MAX_WINDOW,
  SCOPE_TYPES,
  type ScopeType,
  type RunFilter,
  type Scope,
  type Trigger,
} from './automation.types';
import { COLLECTION_TRIGGERS, TRIGGER_NAMES, type TriggerName, acceptsRunFilter, isArtifactTrigger, isOperationalTrigger, isTriggerName } from './triggers';
import { isPlainObject } from '../common/plain-object';
import { compileFilter } from '../matching/attribute-filter';
import { MAX_STALE_SECONDS } from '../events/event-validation';

/**
 * Save-time validation and normalization of automations (docs/design.md › Automations). Pure: the
 * service adds what needs the database (the webhook exists in the team, then actionProblems
 * with its bound secrets).
 *
 * Decisions the design leaves open:
 * - `runFilter` is accepted on run triggers and on ALERT (an alert may carry a run; without one
 *   a `nameRegex` cannot match). An empty runFilter `{}` is stored as null (no filter).
 * - Regexes may be empty (an empty pattern matches everything) and are at most 1024 chars.
 * - `states` and `levels` may not list a value twice.
 * - WEBHOOK_DISABLED and DELIVERY_FAILED take no trigger fields and a team scope only.
 * - Inside `action`, `payload: null` and `template: null` mean absent (the action is replaced
 *   whole, so null there can only mean "none").
 * - The input may hold only the fields of AutomationInput; any other is refused, since the
 *   wizard's preview passes an object no DTO has checked.
 */

export const AUTOMATION_NAME_PATTERN = /^[-\w]+([ ]+[-\w]+)*$/;
export const AUTOMATION_NAME_RULE = 'must be 1–64 letters, digits, _ or -, words separated by spaces';
export const MAX_AUTOMATION_NAME_CHARS = 64;
export const MAX_DESCRIPTION_CHARS = 1024;
export const MAX_REGEX_CHARS = 1024;
export const MAX_METRIC_NAME_CHARS = 256;
/** Scope names are event projects, which are at most this long. */
export const MAX_SCOPE_NAME_CHARS = 256;
export const MAX_RUN_FILTER_USER_CHARS = 256;
export const MAX_WEBHOOK_ID_CHARS = 64;
/** One year. */
export const MAX_COOLDOWN_SECONDS = 31_536_000;

/** The body of POST /v1/automations (or the automation of a preview), nested objects unchecked. */
export interface AutomationInput {
  name: unknown;
  description?: unknown;
  enabled?: unknown;
  scope: unknown;
  trigger: unknown;
  runFilter?: unknown;
  filter?: unknown;
  action: unknown;
  cooldownSeconds?: unknown;
}

export interface NormalizedAutomation {
  name: string;
  description: string;
  enabled: boolean;
  scope: Scope;
  trigger: Trigger;
  runFilter: RunFilter | null;
  /** The attribute filter (attribute-filter.ts), null when none. */
  filter: AttributeFilter | null;
  action: AutomationAction;
  /** null = the trigger's default (effectiveCooldownSeconds). */
  cooldownSeconds: number | null;
}

/**
 * When invalid, `action` is the action if it was itself valid, so the caller can still check
 * it against its webhook and report those problems with the others, all at once.
 */
export type AutomationValidation =
  | { ok: true; automation: NormalizedAutomation }
  | { ok: false; problems: FieldProblem[]; action?: AutomationAction };

export function normalizeAutomation(input: AutomationInput): AutomationValidation {
  const problems: FieldProblem[] = [];
  const add = (field: string, reason: string) => problems.push({ field, reason });
  // A DTO instance or a plain object (the wizard's preview): any non-array object.
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, problems: [{ field: 'automation', reason: 'must be an object' }] };
  }
  for (const key of Object.keys(input)) {
    if (!INPUT_FIELDS.has(key)) add(key, 'is not an allowed field');
  }

  const name = input.name;
  if (name === undefined) add('name', 'is required');
  else if (typeof name !== 'string' || name.length > MAX_AUTOMATION_NAME_CHARS || !AUTOMATION_NAME_PATTERN.test(name)) {
    add('name', AUTOMATION_NAME_RULE);
  }

  const description = input.description ?? '';
  if (typeof description !== 'string' || description.length > MAX_DESCRIPTION_CHARS) {
    add('description', `must be a string of at most ${MAX_DESCRIPTION_CHARS} characters`);
  }

  const enabled = input.enabled ?? true;
  if (typeof enabled !== 'boolean') add('enabled', 'must be a boolean');

  const scope = readScope(input.scope, add);
  const trigger = readTrigger(input.trigger, add);
  if (scope?.type === 'registry' && trigger !== undefined && !isArtifactTrigger(trigger.event)) {
    add('trigger.event', `must be an artifact event for a registry scope (${COLLECTION_TRIGGERS.join(', ')})`);
  }
  if (scope !== undefined && scope.type !== 'team' && trigger !== undefined && isOperationalTrigger(trigger.event)) {
    add('scope.type', `must be team for ${trigger.event}: Herald's events about its webhooks and deliveries belong to the team, not a project`);
  }
  const runFilter = readRunFilter(input.runFilter, trigger, add);
  const filter = readAttributeFilter(input.filter, add);
  const action = readAction(input.action, add);

  const cooldown = input.cooldownSeconds ?? null;
  if (cooldown !== null && !isIntegerIn(cooldown, 0, MAX_COOLDOWN_SECONDS)) {
    add('cooldownSeconds', `must be an integer from 0 to ${MAX_COOLDOWN_SECONDS}, or null for the default`);
  }

  if (problems.length > 0) return { ok: false, problems, ...(action !== undefined ? { action } : {}) };
  return {
    ok: true,
    automation: {
      name: name as string,
      description: description as string,
      enabled: enabled as boolean,
      scope: scope!,
      trigger: trigger!,
      runFilter: runFilter ?? null,
      filter: filter ?? null,
      action: action!,
      cooldownSeconds: cooldown as number | null,
    },
  };
}

/** PATCH fields that `null` clears (the others cannot be null). */
const CLEARABLE: ReadonlySet<string> = new Set(['description', 'runFilter', 'filter', 'cooldownSeconds']);

/**
 * PATCH: the top-level fields given replace the stored ones and `null` clears an optional one
 * (description, runFilter, filter, cooldownSeconds). Answers the input to normalize and the problems
 * of the patch itself (not an object, unknown fields, null where nothing can be cleared);
 * callers normalize the merged input even when there are some, so every problem is reported at once.
 */
export function mergePatch(stored: AutomationInput, patch: unknown): { input: AutomationInput; problems: FieldProblem[] } {
  if (!isPlainObject(patch)) return { input: stored, problems: [{ field: 'body', reason: 'must be an object of the fields to change' }] };
  const problems: FieldProblem[] = [];
  const input: Record<string, unknown> = { ...stored };
  for (const [key, value] of Object.entries(patch)) {
    if (!INPUT_FIELDS.has(key)) problems.push({ field: key, reason: 'is not an allowed field' });
    else if (value === null && CLEARABLE.has(key)) delete input[key];
    else if (value === null) problems.push({ field: key, reason: 'cannot be null' });
    else input[key] = value;
  }
  return { input: input as unknown as AutomationInput, problems };
}

/**
 * The checks on an action that need its webhook: the payload uses only known variables and
 * secrets bound to the webhook (paths `action.payload.…`), the template names a preset, and
 * not both are given. Empty when the action is fine.
 */
export function actionProblems(action: AutomationAction, boundSecrets: readonly string[]): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if (action.payload !== undefined && action.template !== undefined) problems.push({ ...BOTH_PAYLOAD_AND_TEMPLATE });
  if (action.template !== undefined && !isPresetName(action.template)) {
    problems.push({ field: 'action.template', reason: PRESET_REASON });
  }
  if (action.payload !== undefined) {
    const validation = validateTemplate(action.payload, { secrets: boundSecrets }, 'action.payload');
    if (!validation.ok) problems.push(...validation.problems);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------

type AddProblem = (field: string, reason: string) => void;
/** A JSON Schema fragment (the configuration file's schema is built from these: src/as-code/config-schema.ts). */
export type JsonSchema = Record<string, unknown>;
/**
 * Reads one trigger field; undefined when it is invalid (the problem already added). `schema`
 * states the same rule as JSON Schema, so the published schema follows every change here.
 */
type FieldReader = ((value: unknown, field: string, add: AddProblem) => unknown) & { readonly schema: JsonSchema };

function reader(schema: JsonSchema, read: (value: unknown, field: string, add: AddProblem) => unknown): FieldReader {
  return Object.assign(read, { schema });
}

const INPUT_FIELDS: ReadonlySet<string> = new Set([
  'name',
  'description',
  'enabled',
  'scope',
  'trigger',
  'runFilter',
  'filter',
  'action',
  'cooldownSeconds',
]);
const PRESET_REASON = `must be one of the presets: ${PRESET_NAMES.join(', ')}`;
const BOTH_PAYLOAD_AND_TEMPLATE: FieldProblem = {
  field: 'action',
  reason: 'takes at most one of payload (a custom template) and template (a preset name), not both',
};

function isScopeType(value: unknown): value is ScopeType {
  return typeof value === 'string' && (SCOPE_TYPES as readonly string[]).includes(value);
}

function readScope(value: unknown, add: AddProblem): Scope | undefined {
  if (value === undefined) return refuse(add, 'scope', 'is required');
  if (!isPlainObject(value)) return refuse(add, 'scope', 'must be an object: {type: "project" | "registry", name} or {type: "team"}');
  const type = value.type;
  if (!isScopeType(type)) {
    add('scope.type', type === undefined ? 'is required' : `must be one of ${SCOPE_TYPES.join(', ')}`);
    return undefined;
  }
  let ok = true;
  for (const key of Object.keys(value)) {
    if (key === 'type') continue;
    if (key === 'name' && type !== 'team') continue;
    add(`scope.${key}`, `is not an allowed field for a ${type} scope`);
    ok = false;
  }
  if (type === 'team') return ok ? { type } : undefined;
  const name = value.name;
  if (name === undefined) return refuse(add, 'scope.name', 'is required');
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_SCOPE_NAME_CHARS) {
    return refuse(add, 'scope.name', `must be a string of 1 to ${MAX_SCOPE_NAME_CHARS} characters`);
  }
  // A project or collection name: an identifier, as events take it (no control characters).
  if (hasControlCharacter(name)) return refuse(add, 'scope.name', CONTROL_CHARACTER_REASON);
  return ok ? { type, name } : undefined;
}

// Field readers -------------------------------------------------------------------------------

const regex = reader({ type: 'string', maxLength: MAX_REGEX_CHARS, description: 'An RE2 regular expression' }, (value, field, add) => {
  if (typeof value !== 'string' || value.length > MAX_REGEX_CHARS) {
    return refuse(add, field, `must be a string of at most ${MAX_REGEX_CHARS} characters`);
  }
  const compiled = compileSafeRegex(value);
  if (!compiled.ok) return refuse(add, field, compiled.reason);
  return value;
});

function subsetOf(values: readonly string[]): FieldReader {
  const allowed = new Set(values);
  const reason = `must be a non-empty list of distinct values from ${values.join(', ')}`;
  const schema = { type: 'array', items: { enum: [...values] }, minItems: 1, maxItems: values.length, uniqueItems: true };
  return reader(schema, (value, field, add) => {
    if (!Array.isArray(value) || value.length === 0 || value.length > values.length) return refuse(add, field, reason);
    const seen = new Set<string>();
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item !== 'string' || !allowed.has(item)) return refuse(add, `${field}[${i}]`, `must be one of ${values.join(', ')}`);
      if (seen.has(item)) return refuse(add, `${field}[${i}]`, `repeats ${item}`);
      seen.add(item);
    }
    return [...value];
  });
}

function oneOf(values: readonly string[], reasonValues: readonly string[] = values): FieldReader {
  const reason = `must be one of ${reasonValues.join(', ')}`;
  return reader({ enum: [...values] }, (value, field, add) =>
    typeof value === 'string' && values.includes(value) ? value : refuse(add, field, reason),
  );
}

const metric = reader({ type: 'string', minLength: 1, maxLength: MAX_METRIC_NAME_CHARS }, (value, field, add) =>
  typeof value === 'string' && value.length > 0 && value.length <= MAX_METRIC_NAME_CHARS
    ? value
    : refuse(add, field, `must be a metric name of 1 to ${MAX_METRIC_NAME_CHARS} characters`),
);

const windowSize = reader({ type: 'integer', minimum: 1, maximum: MAX_WINDOW }, (value, field, add) =>
  isIntegerIn(value, 1, MAX_WINDOW) ? value : refuse(add, field, `must be an integer from 1 to ${MAX_WINDOW}`),
);

const finite = reader({ type: 'number' }, (value, field, add) =>
  typeof value === 'number' && Number.isFinite(value) ? value : refuse(add, field, 'must be a finite number'),
);

const nonNegative = reader({ type: 'number', minimum: 0 }, (value, field, add) =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : refuse(add, field, 'must be a finite number ≥ 0'),
);

const positive = reader({ type: 'number', exclusiveMinimum: 0 }, (value, field, add) =>
  typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : refuse(add, field, 'must be a finite number > 0'),
);

const staleSeconds = reader({ type: 'integer', minimum: 1, maximum: MAX_STALE_SECONDS }, (value, field, add) =>
  isIntegerIn(value, 1, MAX_STALE_SECONDS) ? value : refuse(add, field, `must be an integer from 1 to ${MAX_STALE_SECONDS}`),
);

const aggregation = oneOf(AGGREGATIONS);
const direction = oneOf(DIRECTIONS);
const comparison = oneOf(COMPARISONS, [...COMPARISONS, 'NON_FINITE']);

/** A trigger's fields in output order: name → [reader, required]. */
type TriggerSpec = Readonly<Record<string, readonly [FieldReader, boolean]>>;

const COLLECTION: TriggerSpec = { collectionRegex: [regex, false] };
const THRESHOLD: TriggerSpec = {
  metric: [metric, true],
  agg: [aggregation, true],
  window: [windowSize, true],
  op: [comparison, true],
  threshold: [finite, true],
};
const NON_FINITE_THRESHOLD: TriggerSpec = { metric: [metric, true], op: [oneOf(['NON_FINITE']), true] };

/** The triggers and their fields (docs/design.md › Triggers) (THRESHOLD with op NON_FINITE: NON_FINITE_THRESHOLD). */
const TRIGGER_SPECS: Record<TriggerName, TriggerSpec> = {
  CREATE_ARTIFACT: COLLECTION,
  LINK_ARTIFACT: COLLECTION,
  UNLINK_ARTIFACT: COLLECTION,
  ADD_ARTIFACT_ALIAS: { aliasRegex: [regex, true], ...COLLECTION },
  REMOVE_ARTIFACT_ALIAS: { aliasRegex: [regex, true], ...COLLECTION },
  ADD_ARTIFACT_TAG: { tagRegex: [regex, true], ...COLLECTION },
  REMOVE_ARTIFACT_TAG: { tagRegex: [regex, true], ...COLLECTION },
  ADD_COLLECTION_TAG: { tagRegex: [regex, true], ...COLLECTION },
  REMOVE_COLLECTION_TAG: { tagRegex: [regex, true], ...COLLECTION },
  RUN_STATE: { states: [subsetOf(RUN_STATES), true] },
  RUN_METRIC_THRESHOLD: THRESHOLD,
  RUN_METRIC_CHANGE: {
    metric: [metric, true],
    agg: [aggregation, true],
    window: [windowSize, true],
    priorWindow: [windowSize, true],
    changeType: [oneOf(CHANGE_TYPES), true],
    direction: [direction, true],
    amount: [nonNegative, true],
  },
  RUN_METRIC_ZSCORE: {
    metric: [metric, true],
    window: [windowSize, true],
    threshold: [positive, true],
    direction: [direction, true],
  },
  RUN_LOG_MATCH: { lineRegex: [regex, true] },
  RUN_GROUP_FINISHED: { groupRegex: [regex, false] },
  RUN_STALE: { staleSeconds: [staleSeconds, true] },
  ALERT: { levels: [subsetOf(ALERT_LEVELS), true], titleRegex: [regex, false] },
  WEBHOOK_DISABLED: {},
  DELIVERY_FAILED: {},
};

/** One field a trigger takes, for the configuration file's JSON Schema. */
export interface TriggerFieldRule {
  required: boolean;
  schema: JsonSchema;
}

/**
 * The fields each trigger takes, in order, with their rules as JSON Schema; `nonFiniteThreshold`
 * is RUN_METRIC_THRESHOLD with `op: "NON_FINITE"`.
 */
export function triggerFieldRules(): {
  triggers: Record<TriggerName, Record<string, TriggerFieldRule>>;
  nonFiniteThreshold: Record<string, TriggerFieldRule>;
} {
  const rules = (spec: TriggerSpec) =>
    Object.fromEntries(Object.entries(spec).map(([key, [read, required]]) => [key, { required, schema: read.schema }]));
  const triggers = Object.fromEntries(TRIGGER_NAMES.map((name) => [name, rules(TRIGGER_SPECS[name])]));
  return { triggers: triggers as Record<TriggerName, Record<string, TriggerFieldRule>>, nonFiniteThreshold: rules(NON_FINITE_THRESHOLD) };
}

function readTrigger(value: unknown, add: AddProblem): Trigger | undefined {
  if (value === undefined) return refuse(add, 'trigger', 'is required');
  if (!isPlainObject(value)) return refuse(add, 'trigger', 'must be an object with an event and its fields');
  const event = value.event;
  if (event === undefined) return refuse(add, 'trigger.event', 'is required');
  if (typeof event !== 'string' || !isTriggerName(event)) {
    return refuse(add, 'trigger.event', `must be one of ${TRIGGER_NAMES.join(', ')}`);
  }
  const nonFinite = event === 'RUN_METRIC_THRESHOLD' && value.op === 'NON_FINITE';
  const spec = nonFinite ? NON_FINITE_THRESHOLD : TRIGGER_SPECS[event];
  let ok = true;
  for (const key of Object.keys(value)) {
    if (key === 'event' || Object.hasOwn(spec, key)) continue;
    ok = false;
    const onlyWithComparison = nonFinite && Object.hasOwn(THRESHOLD, key);
    add(`trigger.${key}`, onlyWithComparison ? 'is not allowed with op NON_FINITE' : `is not an allowed field for ${event}`);
  }
  const trigger: Record<string, unknown> = { event };
  for (const [key, [read, required]] of Object.entries(spec)) {
    const field = `trigger.${key}`;
    const raw = value[key];
    if (raw === undefined) {
      if (required) {
        add(field, 'is required');
        ok = false;
      }
      continue;
    }
    const parsed = read(raw, field, add);
    if (parsed === undefined) ok = false;
    else trigger[key] = parsed;
  }
  return ok ? (trigger as unknown as Trigger) : undefined;
}

function readRunFilter(value: unknown, trigger: Trigger | undefined, add: AddProblem): RunFilter | null | undefined {
  if (value === undefined || value === null) return null;
  if (trigger !== undefined && !acceptsRunFilter(trigger.event)) {
    return refuse(add, 'runFilter', `is not allowed for ${trigger.event}: run filters apply to run triggers and ALERT`);
  }
  if (!isPlainObject(value)) return refuse(add, 'runFilter', 'must be an object: {nameRegex?, user?}');
  const filter: RunFilter = {};
  let ok = true;
  for (const key of Object.keys(value)) {
    const item = value[key];
    if (key === 'nameRegex') {
      const pattern = regex(item, 'runFilter.nameRegex', add);
      if (pattern === undefined) ok = false;
      else filter.nameRegex = pattern as string;
    } else if (key === 'user') {
      if (typeof item === 'string' && item.length > 0 && item.length <= MAX_RUN_FILTER_USER_CHARS) filter.user = item;
      else {
        add('runFilter.user', `must be a string of 1 to ${MAX_RUN_FILTER_USER_CHARS} characters`);
        ok = false;
      }
    } else {
      add(`runFilter.${key}`, 'is not an allowed field');
      ok = false;
    }
  }
  if (!ok) return undefined;
  return filter.nameRegex === undefined && filter.user === undefined ? null : filter;
}

/** The attribute filter: null or absent for none, else a filter every path and operator of which is known (problems named `filter.<path>…`). */
function readAttributeFilter(value: unknown, add: AddProblem): AttributeFilter | null | undefined {
  if (value === undefined || value === null) return null;
  const compiled = compileFilter(value, 'filter');
  if (!compiled.ok) {
    for (const problem of compiled.problems) add(problem.field, problem.reason);
    return undefined;
  }
  return structuredClone(value) as AttributeFilter;
}

function readAction(value: unknown, add: AddProblem): AutomationAction | undefined {
  if (value === undefined) return refuse(add, 'action', 'is required');
  if (!isPlainObject(value)) return refuse(add, 'action', 'must be an object: {webhookId, payload?} or {webhookId, template?}');
  let ok = true;
  const fail = (field: string, reason: string) => {
    add(field, reason);
    ok = false;
  };
  for (const key of Object.keys(value)) {
    if (key !== 'webhookId' && key !== 'payload' && key !== 'template') fail(`action.${key}`, 'is not an allowed field');
  }
  const webhookId = value.webhookId;
  if (webhookId === undefined) fail('action.webhookId', 'is required');
  else if (typeof webhookId !== 'string' || webhookId.length === 0 || webhookId.length > MAX_WEBHOOK_ID_CHARS) {
    fail('action.webhookId', 'must be a webhook id');
  }
  const payload = value.payload ?? undefined;
  if (payload !== undefined && typeof payload !== 'string' && typeof payload !== 'object') {
    fail('action.payload', 'must be a JSON object, an array, or a string of JSON text');
  }
  const template = value.template ?? undefined;
  if (template !== undefined && (typeof template !== 'string' || !isPresetName(template))) fail('action.template', PRESET_REASON);
  if (payload !== undefined && template !== undefined) fail(BOTH_PAYLOAD_AND_TEMPLATE.field, BOTH_PAYLOAD_AND_TEMPLATE.reason);
  if (!ok) return undefined;
  const action: AutomationAction = { webhookId: webhookId as string };
  if (payload !== undefined) action.payload = payload;
  if (template !== undefined) action.template = template as string;
  return action;
}

/** Adds the problem and returns undefined, the readers' "invalid" answer. */
function refuse(add: AddProblem, field: string, reason: string): undefined {
  add(field, reason);
  return undefined;
}

function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

