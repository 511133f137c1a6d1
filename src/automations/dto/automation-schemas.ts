import { PRESET_NAMES } from '../../rendering/presets';
import { type JsonSchema, MAX_REGEX_CHARS, MAX_RUN_FILTER_USER_CHARS, MAX_SCOPE_NAME_CHARS, MAX_WEBHOOK_ID_CHARS, triggerFieldRules } from '../automation-rules';
import { COMPARISONS, MAX_WINDOW } from '../automation.types';
import { TRIGGER_NAMES, type TriggerName } from '../triggers';

/*
 * OpenAPI component schemas of an automation's trigger, scope, runFilter and action, as
 * discriminated unions so generated clients get one type per variant. The trigger schemas are
 * built from the trigger readers of automation-rules.ts (triggerFieldRules), so the document
 * follows every change there; only the words below are written here.
 */

/** What each trigger field means; a field without a line here fails the OpenAPI completeness test. */
const TRIGGER_FIELD_DESCRIPTIONS: Record<string, string> = {
  collectionRegex: 'RE2 against the collection (artifact.collection, or collection.name for collection tags); absent: every collection',
  groupRegex: 'RE2 against the run group (run.group); absent: every group',
  staleSeconds: 'Seconds without any event from a RUNNING run before it counts as stale (1–604 800)',
  aliasRegex: 'RE2 against the alias added or removed',
  tagRegex: 'RE2 against the tag added or removed (of the artifact version, or of the collection)',
  states: 'The run states that fire it (a RUN_STATE event whose run.state is one of them)',
  metric: 'The metric name, as posted in RUN_METRICS metrics',
  agg: 'How the window is reduced to one value: MIN, MAX, AVERAGE or LAST',
  window: `How many of the run's latest values are reduced (1–${MAX_WINDOW}); it fires only once the window is full`,
  op: 'The comparison of the aggregate with threshold; NON_FINITE fires when the latest value is NaN or ±Infinity (then no agg, window or threshold)',
  threshold: 'The value compared with (RUN_METRIC_THRESHOLD), or the z-score that must be exceeded, > 0 (RUN_METRIC_ZSCORE)',
  priorWindow: `How many values before the window make the baseline it is compared with (1–${MAX_WINDOW})`,
  changeType: 'ABSOLUTE: window − prior; RELATIVE: (window − prior) / |prior|, a fraction (0.1 = 10 %)',
  direction: 'Which change fires: INCREASE, DECREASE or ANY',
  amount: 'The change that must be reached, ≥ 0',
  lineRegex: 'RE2 against each posted log line; the first matching line fires',
  levels: 'The alert levels that fire it',
  titleRegex: 'RE2 against the alert title; absent: every title',
};

const TRIGGER_DESCRIPTIONS: Record<TriggerName, string> = {
  CREATE_ARTIFACT: 'An artifact version was created',
  LINK_ARTIFACT: 'An artifact version was linked to a collection',
  UNLINK_ARTIFACT: 'An artifact version was unlinked from a collection',
  ADD_ARTIFACT_ALIAS: 'An alias was added to an artifact version',
  REMOVE_ARTIFACT_ALIAS: 'An alias was removed from an artifact version',
  ADD_ARTIFACT_TAG: 'A tag was added to an artifact version',
  REMOVE_ARTIFACT_TAG: 'A tag was removed from an artifact version',
  ADD_COLLECTION_TAG: 'A tag was added to a collection (registered model or artifact collection)',
  REMOVE_COLLECTION_TAG: 'A tag was removed from a collection',
  RUN_STALE: 'A RUNNING run sent no event for staleSeconds (fires once; re-arms when the run reports again; never for a finished run)',
  RUN_GROUP_FINISHED: 'A run of a group (run.group) reached a final state and no run of that group is RUNNING any more; once per group until one runs again',
  RUN_STATE: 'A run reached one of the given states',
  RUN_METRIC_THRESHOLD:
    'A metric\'s aggregate over the run\'s latest `window` values crosses `threshold` (edge-triggered: fires when it becomes true), or with op NON_FINITE the latest value is NaN or ±Infinity',
  RUN_METRIC_CHANGE: 'A metric\'s aggregate over the latest `window` values changed against the `priorWindow` values before them by at least `amount`',
  RUN_METRIC_ZSCORE: 'The latest value of a metric lies more than `threshold` standard deviations from the mean of the `window` values before it',
  RUN_LOG_MATCH: 'A posted log line matches lineRegex',
  ALERT: 'An alert of one of the levels (and, with titleRegex, a matching title) was posted',
  WEBHOOK_DISABLED: 'Herald disabled a webhook (it answered 410, or failed for HERALD_DISABLE_AFTER); team scope only, no fields',
  DELIVERY_FAILED: 'A delivery ended failed after its last attempt; team scope only, no fields',
};

/** CREATE_ARTIFACT → CreateArtifactTrigger. */
export function triggerSchemaName(event: TriggerName): string {
  return `${event
    .toLowerCase()
    .split('_')
    .map((word) => word[0].toUpperCase() + word.slice(1))
    .join('')}Trigger`;
}

const ref = (name: string) => `#/components/schemas/${name}`;

/**
 * JSON Schema fragments from automation-rules.ts in OpenAPI 3.0's dialect: a numeric
 * exclusiveMinimum becomes minimum + exclusiveMinimum: true, const becomes a one-value enum.
 */
function toOpenApi30(schema: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'exclusiveMinimum' && typeof value === 'number') Object.assign(out, { minimum: value, exclusiveMinimum: true });
    else if (key === 'const') out.enum = [value];
    else if (key === 'items' && typeof value === 'object' && value !== null) out.items = toOpenApi30(value as JsonSchema);
    else out[key] = value;
  }
  if (Array.isArray(out.enum) && out.type === undefined) out.type = typeof out.enum[0] === 'number' ? 'number' : 'string';
  if (out.items && typeof out.items === 'object') {
    const items = out.items as JsonSchema;
    if (Array.isArray(items.enum) && items.type === undefined) items.type = 'string';
  }
  return out;
}

function triggerSchemas(): Record<string, JsonSchema> {
  const { triggers } = triggerFieldRules();
  const schemas: Record<string, JsonSchema> = {};
  for (const event of TRIGGER_NAMES) {
    const rules = triggers[event];
    const properties: Record<string, JsonSchema> = {
      event: { type: 'string', enum: [event], description: 'The trigger; it decides the other fields' },
    };
    const required = ['event'];
    for (const [field, rule] of Object.entries(rules)) {
      const schema = toOpenApi30(rule.schema);
      const description = TRIGGER_FIELD_DESCRIPTIONS[field];
      properties[field] = description ? { ...schema, description } : schema;
      if (rule.required) required.push(field);
    }
    let description = TRIGGER_DESCRIPTIONS[event];
    if (event === 'RUN_METRIC_THRESHOLD') {
      // One schema for both forms (a discriminator maps one event to one schema): with op
      // NON_FINITE only metric and op are allowed.
      properties.op = { ...properties.op, enum: [...COMPARISONS, 'NON_FINITE'] };
      required.splice(0, required.length, 'event', 'metric', 'op');
      description += '. agg, window and threshold are required unless op is NON_FINITE, and refused with it.';
    }
    schemas[triggerSchemaName(event)] = { type: 'object', description, required, properties, additionalProperties: false };
  }
  return schemas;
}

const REGEX_NOTE = `RE2 (no lookaround or backreferences), at most ${MAX_REGEX_CHARS} characters, unanchored unless it anchors itself`;

function scopeSchemas(): Record<string, JsonSchema> {
  const name = (what: string) => ({ type: 'string', minLength: 1, maxLength: MAX_SCOPE_NAME_CHARS, description: what });
  return {
    ProjectScope: {
      type: 'object',
      description: 'Events of one project (exact, case-sensitive name)',
      required: ['type', 'name'],
      properties: { type: { type: 'string', enum: ['project'], description: 'The scope kind' }, name: name('The project name') },
      additionalProperties: false,
    },
    RegistryScope: {
      type: 'object',
      description: 'Events with registry true of one project (a model registry); artifact triggers only',
      required: ['type', 'name'],
      properties: { type: { type: 'string', enum: ['registry'], description: 'The scope kind' }, name: name('The registry (project) name') },
      additionalProperties: false,
    },
    TeamScope: {
      type: 'object',
      description: 'Every project of the team; the only scope of WEBHOOK_DISABLED and DELIVERY_FAILED',
      required: ['type'],
      properties: { type: { type: 'string', enum: ['team'], description: 'The scope kind' } },
      additionalProperties: false,
    },
  };
}

function runFilterSchema(): JsonSchema {
  return {
    type: 'object',
    description: 'Narrows run triggers and ALERT to some runs (refused on artifact triggers); both given: both must hold',
    properties: {
      nameRegex: { type: 'string', maxLength: MAX_REGEX_CHARS, description: `Against run.name: ${REGEX_NOTE}. An ALERT without a run never passes it.` },
      user: { type: 'string', minLength: 1, maxLength: MAX_RUN_FILTER_USER_CHARS, description: 'Equal to the event\'s author' },
    },
    additionalProperties: false,
  };
}

function actionSchemas(): Record<string, JsonSchema> {
  const webhookId = {
    type: 'string',
    minLength: 1,
    maxLength: MAX_WEBHOOK_ID_CHARS,
    description: 'The webhook to send to (wh_…)',
    example: 'wh_01JDA8W3M2Q0000000000000000',
  };
  return {
    PayloadAction: {
      type: 'object',
      description: 'Send a custom payload template',
      required: ['webhookId', 'payload'],
      properties: {
        webhookId,
        payload: {
          description: 'A JSON object or array, or a string of JSON text, using ${variables} (GET /v1/automations/variables) and the webhook\'s bound secrets',
          oneOf: [
            { type: 'object', additionalProperties: true, description: 'A JSON object template' },
            { type: 'array', items: {}, description: 'A JSON array template' },
            { type: 'string', description: 'JSON text with ${variables}' },
          ],
          example: { event_type: 'DEPLOY', client_payload: { v: '${artifact_version_string}' } },
        },
      },
      additionalProperties: false,
    },
    PresetAction: {
      type: 'object',
      description: 'Send a preset of templates/',
      required: ['webhookId', 'template'],
      properties: { webhookId, template: { type: 'string', enum: [...PRESET_NAMES], description: 'The preset (GET /v1/templates)' } },
      additionalProperties: false,
    },
    DefaultAction: {
      type: 'object',
      description: 'Send the webhook kind\'s default preset',
      required: ['webhookId'],
      properties: { webhookId },
      additionalProperties: false,
    },
  };
}

/** Every component schema above, to add to the OpenAPI document's components. */
export function automationComponentSchemas(): Record<string, JsonSchema> {
  return { ...triggerSchemas(), ...scopeSchemas(), RunFilter: runFilterSchema(), ...actionSchemas() };
}

/** `trigger`: oneOf the trigger schemas, discriminated by `event`. */
export const TRIGGER_UNION = {
  oneOf: TRIGGER_NAMES.map((event) => ({ $ref: ref(triggerSchemaName(event)) })),
  discriminator: { propertyName: 'event', mapping: Object.fromEntries(TRIGGER_NAMES.map((event) => [event, ref(triggerSchemaName(event))])) },
};

/** `scope`: oneOf the scope schemas, discriminated by `type`. */
export const SCOPE_UNION = {
  oneOf: ['ProjectScope', 'RegistryScope', 'TeamScope'].map((name) => ({ $ref: ref(name) })),
  discriminator: {
    propertyName: 'type',
    mapping: { project: ref('ProjectScope'), registry: ref('RegistryScope'), team: ref('TeamScope') },
  },
};

/** `action`: a custom payload, a preset, or neither (additionalProperties false makes exactly one match). */
export const ACTION_UNION = { oneOf: ['PayloadAction', 'PresetAction', 'DefaultAction'].map((name) => ({ $ref: ref(name) })) };

export const RUN_FILTER_REF = { $ref: ref('RunFilter') };
