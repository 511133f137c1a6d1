import {
  AUTOMATION_NAME_PATTERN,
  AUTOMATION_NAME_RULE,
  type JsonSchema,
  MAX_AUTOMATION_NAME_CHARS,
  MAX_COOLDOWN_SECONDS,
  MAX_DESCRIPTION_CHARS,
  MAX_REGEX_CHARS,
  MAX_RUN_FILTER_USER_CHARS,
  MAX_SCOPE_NAME_CHARS,
  triggerFieldRules,
} from '../automations/automation-rules';
import { SCOPE_TYPES } from '../automations/automation.types';
import { TRIGGER_NAMES, acceptsRunFilter } from '../automations/triggers';
import { PRESET_NAMES } from '../rendering/presets';
import { CreateSourceDto } from '../sources/dto/source.dto';
import { SECRET_MEANING, SOURCE_KINDS } from '../sources/source-kinds';
import { CreateWebhookDto } from '../webhooks/dto/webhook.dto';
import { CONFIG_VERSION } from './config-document';
import { dtoSchema } from './dto-schema';

/** Where Herald publishes the schema (no API key needed, so editors can fetch it). */
export const CONFIG_SCHEMA_PATH = '/v1/schema/config.json';

/**
 * The JSON Schema (draft-07, the draft editors' YAML and JSON support knows best) of a
 * configuration file. Built from the rules the API enforces — the webhook and source DTOs'
 * decorators, the trigger readers of automation-rules.ts and its limits — never from copies
 * of them. It checks the shape; the server's own validation (`POST /v1/config/validate`)
 * checks the rest (regexes compile under RE2, payload variables exist, secrets exist…).
 */
/** How many objects one section of a file may hold (a bound on the work one validation does). */
export const MAX_CONFIG_SECTION_ITEMS = 1000;

export function buildConfigSchema(): JsonSchema {
  const webhook = dtoSchema(CreateWebhookDto);
  const source = withSecretRule(dtoSchema(CreateSourceDto));
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'Herald configuration',
    description:
      'A team\'s webhooks, sources and automations, referring to each other and to secrets by name (docs/as-code.md). ' +
      'A section left out is not managed by the file.',
    type: 'object',
    required: ['version'],
    additionalProperties: false,
    properties: {
      $schema: { type: 'string', description: 'Where an editor finds this schema' },
      version: { const: CONFIG_VERSION, description: 'The file format\'s version' },
      webhooks: { type: 'array', maxItems: MAX_CONFIG_SECTION_ITEMS, items: { $ref: '#/definitions/webhook' }, description: 'Where automations send: by name' },
      sources: { type: 'array', maxItems: MAX_CONFIG_SECTION_ITEMS, items: { $ref: '#/definitions/source' }, description: 'Other platforms\' webhooks in: by name' },
      automations: { type: 'array', maxItems: MAX_CONFIG_SECTION_ITEMS, items: { $ref: '#/definitions/automation' }, description: 'When … then send to a webhook: by name' },
    },
    definitions: { webhook, source, automation: automationSchema() },
  };
}

/** Sources: the secret is required for the kinds that verify with one and refused for the others (valohai). */
function withSecretRule(schema: JsonSchema): JsonSchema {
  const withSecret = SOURCE_KINDS.filter((kind) => SECRET_MEANING[kind] !== null);
  const without = SOURCE_KINDS.filter((kind) => SECRET_MEANING[kind] === null);
  return {
    ...schema,
    allOf: [
      { if: { properties: { kind: { enum: withSecret } }, required: ['kind'] }, then: { required: ['secret'] } },
      { if: { properties: { kind: { enum: without } }, required: ['kind'] }, then: { not: { required: ['secret'] }, description: 'takes no secret (its receive URL carries a token)' } },
    ],
  };
}

function automationSchema(): JsonSchema {
  const name = { type: 'string', maxLength: MAX_AUTOMATION_NAME_CHARS, pattern: AUTOMATION_NAME_PATTERN.source, description: `Unique in the team; ${AUTOMATION_NAME_RULE}` };
  const webhookName = dtoSchema(CreateWebhookDto) as { properties: Record<string, JsonSchema> };
  const artifactTriggers = TRIGGER_NAMES.filter((trigger) => !acceptsRunFilter(trigger));
  return {
    type: 'object',
    required: ['name', 'scope', 'trigger', 'action'],
    additionalProperties: false,
    properties: {
      name,
      description: { type: ['string', 'null'], maxLength: MAX_DESCRIPTION_CHARS, description: 'Free text for people' },
      enabled: { type: 'boolean', description: 'false: the automation matches nothing (default true)' },
      scope: scopeSchema(),
      trigger: triggerSchema(),
      runFilter: {
        type: ['object', 'null'],
        additionalProperties: false,
        description: 'Run triggers and ALERT only: nameRegex (RE2) on run.name, user equal to the event\'s author',
        properties: {
          nameRegex: { type: 'string', maxLength: MAX_REGEX_CHARS },
          user: { type: 'string', minLength: 1, maxLength: MAX_RUN_FILTER_USER_CHARS },
        },
      },
      filter: {
        type: ['object', 'null'],
        description:
          'The attribute filter, checked after the trigger: paths into the event and its run (run.config.lr, run.tags, artifact.metadata.acc, …) ' +
          'with $eq $ne $gt $gte $lt $lte $in $nin $exists $regex $contains, combined with $and $or $not',
      },
      action: {
        type: 'object',
        required: ['webhook'],
        additionalProperties: false,
        description: 'The webhook (by name) and a custom payload template, or a preset template, or neither (the kind\'s preset)',
        properties: {
          webhook: { ...webhookName.properties.name, description: 'The name of a webhook of this file or of the team' },
          payload: { type: ['object', 'array', 'string'], description: 'A JSON template using ${variables} and the webhook\'s bound secrets' },
          template: { enum: [...PRESET_NAMES], description: 'A preset instead of a payload' },
        },
        not: { required: ['payload', 'template'], description: 'takes at most one of payload and template' },
      },
      cooldownSeconds: {
        type: ['integer', 'null'],
        minimum: 0,
        maximum: MAX_COOLDOWN_SECONDS,
        description: 'Seconds after firing in which further matches are consumed (default 86400 for metric and log triggers, else 0)',
      },
    },
    allOf: [
      {
        if: { properties: { trigger: { properties: { event: { enum: artifactTriggers } }, required: ['event'] } }, required: ['trigger'] },
        then: { not: { required: ['runFilter'] }, description: 'artifact triggers take no runFilter' },
      },
    ],
  };
}

function scopeSchema(): JsonSchema {
  const named = SCOPE_TYPES.filter((type) => type !== 'team');
  return {
    type: 'object',
    required: ['type'],
    description: '{type: project | registry, name} or {type: team}',
    properties: { type: { enum: [...SCOPE_TYPES] }, name: { type: 'string', minLength: 1, maxLength: MAX_SCOPE_NAME_CHARS } },
    additionalProperties: false,
    allOf: [
      { if: { properties: { type: { enum: named } }, required: ['type'] }, then: { required: ['name'] } },
      { if: { properties: { type: { const: 'team' } }, required: ['type'] }, then: { not: { required: ['name'] }, description: 'a team scope takes no name' } },
    ],
  };
}

/** `event` picks the fields (each trigger's row of automation-rules.ts); RUN_METRIC_THRESHOLD with op NON_FINITE takes fewer. */
function triggerSchema(): JsonSchema {
  const { triggers, nonFiniteThreshold } = triggerFieldRules();
  const fields = (rules: Record<string, { required: boolean; schema: JsonSchema }>) => ({
    properties: { event: {}, ...Object.fromEntries(Object.entries(rules).map(([key, rule]) => [key, rule.schema])) },
    required: Object.entries(rules).filter(([, rule]) => rule.required).map(([key]) => key),
    additionalProperties: false,
  });
  const branches: JsonSchema[] = TRIGGER_NAMES.map((event) => {
    const when: JsonSchema = { properties: { event: { const: event } }, required: ['event'] };
    if (event !== 'RUN_METRIC_THRESHOLD') return { if: when, then: fields(triggers[event]) };
    return {
      if: when,
      then: {
        if: { properties: { op: { const: 'NON_FINITE' } }, required: ['op'] },
        then: fields(nonFiniteThreshold),
        else: fields(triggers[event]),
      },
    };
  });
  return {
    type: 'object',
    required: ['event'],
    description: 'When it fires: the event and exactly the fields of its trigger (docs/automations.md)',
    properties: { event: { enum: [...TRIGGER_NAMES] } },
    allOf: branches,
  };
}
