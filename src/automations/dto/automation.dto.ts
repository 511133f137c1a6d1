import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsArray, IsObject, IsOptional } from 'class-validator';
import { EventDto } from '../../events/dto/event.dto';
import { PRESET_NAMES } from '../../rendering/presets';
import { TRIGGER_NAMES } from '../triggers';
import {
  AUTOMATION_NAME_PATTERN,
  AUTOMATION_NAME_RULE,
  MAX_AUTOMATION_NAME_CHARS,
  MAX_COOLDOWN_SECONDS,
  MAX_DESCRIPTION_CHARS,
} from '../automation-rules';
import type { AutomationAction, RunFilter, Scope, Trigger } from '../automation.types';
import { ACTION_UNION, RUN_FILTER_REF, SCOPE_UNION, TRIGGER_UNION } from './automation-schemas';

/*
 * OpenAPI documentation of an automation. Create and Update carry no class-validator rules on
 * purpose: the fields depend on each other (the trigger decides which fields it takes and
 * whether a runFilter is allowed), so normalizeAutomation (automation-rules.ts) checks the
 * whole body in one pass and names every field at fault (`trigger.window`,
 * `action.payload.client_payload.v`); its limits are the ones documented here.
 */

const SCOPE_DOC = {
  description:
    'Which events the automation sees. `{type: "project", name}`: events of that project (case-sensitive); ' +
    '`{type: "registry", name}`: events with registry true of that project, artifact triggers only; `{type: "team"}`: every project ' +
    '(the only scope of WEBHOOK_DISABLED and DELIVERY_FAILED).',
  ...SCOPE_UNION,
  example: { type: 'project', name: 'llm-finetune' },
} as const;

const TRIGGER_DOC = {
  description:
    `When it fires. \`event\` is one of ${TRIGGER_NAMES.join(', ')}, with exactly the fields of its row: ` +
    'CREATE/LINK/UNLINK_ARTIFACT `{collectionRegex?}`; ADD/REMOVE_ARTIFACT_ALIAS `{aliasRegex, collectionRegex?}`; ' +
    'ADD/REMOVE_ARTIFACT_TAG and ADD/REMOVE_COLLECTION_TAG `{tagRegex, collectionRegex?}`; RUN_STATE `{states[]}` (RUNNING, FINISHED, FAILED, CRASHED, KILLED); ' +
    'RUN_METRIC_THRESHOLD `{metric, agg (MIN|MAX|AVERAGE|LAST), window (1–1000), op (> >= < <= == !=), threshold}` or `{metric, op: "NON_FINITE"}`; ' +
    'RUN_METRIC_CHANGE `{metric, agg, window, priorWindow, changeType (ABSOLUTE|RELATIVE), direction (INCREASE|DECREASE|ANY), amount ≥ 0}`; ' +
    'RUN_METRIC_ZSCORE `{metric, window, threshold > 0, direction}`; RUN_LOG_MATCH `{lineRegex}`; RUN_GROUP_FINISHED `{groupRegex?}` (no run of the group RUNNING any more); ALERT `{levels[] (INFO|WARN|ERROR), titleRegex?}`; ' +
    'WEBHOOK_DISABLED `{}` (Herald disabled a webhook: gone or failing) and DELIVERY_FAILED `{}` (a delivery ended failed), team scope only. ' +
    'Regexes are RE2 (no lookaround or backreferences), unanchored unless they anchor themselves.',
  ...TRIGGER_UNION,
  example: { event: 'RUN_METRIC_THRESHOLD', metric: 'val/loss', agg: 'AVERAGE', window: 5, op: '>', threshold: 2.5 },
} as const;

const RUN_FILTER_DOC = {
  description:
    '`{nameRegex?, user?}`: `nameRegex` (RE2) against run.name, `user` equal to the event author. ' +
    'Run triggers and ALERT only (an ALERT without a run never passes nameRegex); refused on artifact triggers.',
  allOf: [RUN_FILTER_REF],
  example: { nameRegex: '^bert-', user: 'alice' },
};

const FILTER_DOC = {
  description:
    'The attribute filter, checked after the trigger (any trigger): an object of paths into the event and its run — type, project, author, registry, step, alias, tag, ' +
    'run.{id,name,state,url,group,tags,config.<key…>}, artifact.{name,version,collection,id,type,metadata.<key…>,aliases,tags}, collection.{name,type}, ' +
    'alert.{level,title,text}, metrics.<name> — each a literal or operators $eq $ne $gt $gte $lt $lte $in $nin $exists $regex (RE2) $contains; ' +
    'combined with $and, $or (arrays) and $not. At most 8 levels, 64 clauses, 16 KiB.',
  type: 'object',
  additionalProperties: true,
  example: { 'run.config.lr': { $lt: 0.01 }, 'run.tags': { $contains: 'baseline' } },
} as const;

const ACTION_DOC = {
  description:
    '`{webhookId, payload?, template?}` with at most one of `payload` (a custom template: a JSON object or a string of JSON text using ${variables} ' +
    `and the webhook's bound secrets) and \`template\` (a preset: ${PRESET_NAMES.join(', ')}); with neither, the webhook kind's default preset.`,
  ...ACTION_UNION,
  example: {
    webhookId: 'wh_01JDA8W3M2Q0000000000000000',
    payload: { event_type: 'DEPLOY', client_payload: { v: '${artifact_version_string}' } },
  },
} as const;

const COOLDOWN_DOC = `Seconds after firing (per run, or per collection for artifact triggers) in which further matches are consumed; 0–${MAX_COOLDOWN_SECONDS}. Default: 86400 for metric and log triggers, 0 otherwise.`;

export class CreateAutomationDto {
  @ApiProperty({
    description: `Unique in the team; ${AUTOMATION_NAME_RULE}`,
    example: 'promote-to-prod',
    maxLength: MAX_AUTOMATION_NAME_CHARS,
    pattern: AUTOMATION_NAME_PATTERN.source,
  })
  name!: string;

  @ApiPropertyOptional({ description: 'Free text for people', default: '', maxLength: MAX_DESCRIPTION_CHARS })
  description?: string;

  @ApiPropertyOptional({ description: 'false: the automation matches nothing', default: true })
  enabled?: boolean;

  @ApiProperty(SCOPE_DOC)
  scope!: Record<string, unknown>;

  @ApiProperty(TRIGGER_DOC)
  trigger!: Record<string, unknown>;

  @ApiPropertyOptional(RUN_FILTER_DOC)
  runFilter?: Record<string, unknown>;

  @ApiPropertyOptional(FILTER_DOC)
  filter?: Record<string, unknown>;

  @ApiProperty(ACTION_DOC)
  action!: Record<string, unknown>;

  @ApiPropertyOptional({ description: COOLDOWN_DOC, minimum: 0, maximum: MAX_COOLDOWN_SECONDS, example: 3600 })
  cooldownSeconds?: number;
}

/** PATCH: the top-level fields given replace the stored ones; null clears runFilter, description, cooldownSeconds. */
export class UpdateAutomationDto {
  @ApiPropertyOptional({ description: AUTOMATION_NAME_RULE, maxLength: MAX_AUTOMATION_NAME_CHARS, pattern: AUTOMATION_NAME_PATTERN.source })
  name?: string;

  @ApiPropertyOptional({ nullable: true, maxLength: MAX_DESCRIPTION_CHARS, description: 'null clears it' })
  description?: string | null;

  @ApiPropertyOptional({ description: 'false: the automation matches nothing' })
  enabled?: boolean;

  @ApiPropertyOptional(SCOPE_DOC)
  scope?: Record<string, unknown>;

  @ApiPropertyOptional({ ...TRIGGER_DOC, description: `${TRIGGER_DOC.description} Changing it resets edge and cooldown state.` })
  trigger?: Record<string, unknown>;

  @ApiPropertyOptional({ ...RUN_FILTER_DOC, nullable: true, description: `${RUN_FILTER_DOC.description} null removes it.` })
  runFilter?: Record<string, unknown> | null;

  @ApiPropertyOptional({ ...FILTER_DOC, nullable: true, description: `${FILTER_DOC.description} null removes it.` })
  filter?: Record<string, unknown> | null;

  @ApiPropertyOptional({ ...ACTION_DOC, description: `${ACTION_DOC.description} Replaced whole.` })
  action?: Record<string, unknown>;

  @ApiPropertyOptional({ description: `${COOLDOWN_DOC} null restores the default.`, nullable: true, minimum: 0, maximum: MAX_COOLDOWN_SECONDS })
  cooldownSeconds?: number | null;
}

/** An automation as stored, with the defaults applied. */
export class AutomationDto {
  @ApiProperty({ description: 'The automation id', example: 'aut_01JDA8W3M2Q0000000000000000' }) id!: string;
  @ApiProperty({ description: 'Unique in the team', example: 'promote-to-prod' }) name!: string;
  @ApiProperty({ description: 'Free text for people ("" when none)' }) description!: string;
  @ApiProperty({ description: 'false: the automation matches nothing' }) enabled!: boolean;
  @ApiProperty({ description: 'Which events the automation sees', ...SCOPE_UNION, example: SCOPE_DOC.example }) scope!: Scope;
  @ApiProperty({ description: 'When it fires: the trigger and its fields', ...TRIGGER_UNION, example: TRIGGER_DOC.example }) trigger!: Trigger;
  @ApiProperty({ description: 'The run filter, or null when none', allOf: [RUN_FILTER_REF], nullable: true, example: RUN_FILTER_DOC.example })
  runFilter!: RunFilter | null;
  @ApiProperty({ description: 'The attribute filter (a MongoDB-like document over the event and its run), or null when none', type: 'object', additionalProperties: true, nullable: true, example: FILTER_DOC.example })
  filter!: Record<string, unknown> | null;
  @ApiProperty({ description: 'What it sends, and to which webhook', ...ACTION_UNION, example: ACTION_DOC.example }) action!: AutomationAction;
  @ApiProperty({ description: 'The cooldown in force (the default applied when none was set)', example: 86400 })
  cooldownSeconds!: number;
  @ApiProperty({ description: 'When it last fired; null when never', nullable: true, type: String, format: 'date-time' }) lastFiredAt!: string | null;
  @ApiProperty({ description: 'How many times it fired' }) fireCount!: number;
  @ApiProperty({ description: 'Changes whenever the configuration changes (not when it fires); send it as If-Match to PATCH or DELETE only what you read' })
  etag!: string;
  @ApiProperty({ description: 'When it was created', format: 'date-time' }) createdAt!: string;
  @ApiProperty({ description: 'When its configuration last changed', format: 'date-time' }) updatedAt!: string;
}

/** One page of automations. */
export class AutomationPageDto {
  @ApiProperty({ type: [AutomationDto], description: 'The automations of this page' }) items!: AutomationDto[];
  @ApiProperty({ nullable: true, type: String, description: 'Pass as `cursor` for the next page; null on the last page' }) nextCursor!: string | null;
}

/** POST /v1/automations/preview: an automation not saved yet and a sample event, or a sequence of them. */
export class PreviewUnsavedDto {
  @ApiProperty({
    type: CreateAutomationDto,
    description: 'The automation as POST /v1/automations takes it; problems are named `automation.<field>`',
  })
  @IsObject()
  automation!: Record<string, unknown>;

  @ApiPropertyOptional({
    type: EventDto,
    description:
      'One event as POST /v1/events takes it, evaluated against its run\'s stored metric windows (no edge or cooldown state: the automation is not saved); problems are named `event.<field>`. Give this or `events`.',
  })
  @IsOptional()
  @IsObject()
  event?: Record<string, unknown>;

  @ApiPropertyOptional({
    type: [EventDto],
    description:
      'A sequence of 1 to 1000 events run through fresh metric windows and no edge or cooldown state, one after the other (e.g. 5 metric steps to fill a window of 5); problems are named `events[i].<field>`. Give this or `event`.',
  })
  @IsOptional()
  @IsArray()
  events?: Record<string, unknown>[];
}

/** POST /v1/automations/:id/preview: one event (the body itself, or `{event}`), or `{events}`. */
export class PreviewSavedDto {
  @ApiPropertyOptional({
    type: EventDto,
    description: "One event, evaluated against its run's stored metric windows and the automation's stored edge and cooldown state",
  })
  event?: Record<string, unknown>;

  @ApiPropertyOptional({ type: [EventDto], description: 'A sequence of 1 to 1000 events run through fresh windows and no state' })
  events?: Record<string, unknown>[];
}

export class PreviewFilterDto {
  @ApiProperty({ description: 'The filter checked', example: 'trigger.aliasRegex' }) filter!: string;
  @ApiProperty({ description: 'Whether the event passed it' }) passed!: boolean;
  @ApiProperty({ description: 'What the event (or the metric window) had', nullable: true, example: 'prod' }) actual!: unknown;
  @ApiProperty({ description: 'What the filter asks for', nullable: true, example: '^prod$' }) expected!: unknown;
}

export class PreviewStepDto {
  @ApiProperty({ description: "The event's position in the preview's events (0 for a single event)" }) index!: number;
  @ApiProperty({ description: "The event's id (evt_preview… when it had none)" }) eventId!: string;
  @ApiProperty({ description: 'true when this event fires: every filter passed and no cooldown or edge state holds it back' }) wouldFire!: boolean;
  @ApiProperty({
    enum: ['fires', 'cooldown', 'edge', 'filter', 'window', 'condition', 'not_applicable'],
    description:
      'fires; held back by the cooldown or the edge (still high since it last fired); not fired because a filter failed, the metric window is not full yet, or the condition does not hold; not_applicable: the event does not carry the metric',
  })
  decision!: string;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'For filter: `{reason: "filter", filter: "scope" | "runFilter" | "filter"}` (the field that refused it); for window: `{reason: "window", have, need}`',
    example: { reason: 'window', have: 3, need: 5 },
  })
  notFired?: Record<string, unknown>;
  @ApiProperty({ type: [PreviewFilterDto], description: "This event's filters, in the order checked" }) filters!: PreviewFilterDto[];
  @ApiProperty({ description: 'The body that would be sent for this event, secrets masked; null when it does not fire', nullable: true, type: 'object', additionalProperties: true })
  body!: unknown;
}

export class PreviewResultDto {
  @ApiProperty({ enum: ['stored', 'fresh'], description: "stored: one event against the run's stored windows; fresh: a sequence through empty windows" })
  windows!: string;
  @ApiProperty({ description: 'true when the event (or any event of the sequence) fires: every filter passed and no cooldown or edge state holds it back' }) wouldFire!: boolean;
  @ApiProperty({ description: "The last event's: true when the automation fired for this run (or collection) within its cooldown" }) cooldownActive!: boolean;
  @ApiProperty({ type: [PreviewFilterDto], description: "The last event's filters, in the order checked" }) filters!: PreviewFilterDto[];
  @ApiProperty({
    description: "The body that would be sent, secrets masked (••••••): the first firing event's, else the last event's",
    type: 'object',
    additionalProperties: true,
    nullable: true,
  })
  body!: unknown;
  @ApiProperty({ type: [PreviewStepDto], description: 'Each event in order: its decision, filters and body' }) steps!: PreviewStepDto[];
}

export class VariableDto {
  @ApiProperty({ example: 'metric_value', description: 'Written ${name} in a payload' }) name!: string;
  @ApiProperty({ description: 'What it holds' }) description!: string;
  @ApiProperty({ description: 'Whether it has a value for the trigger asked about (one that does not apply renders empty)' })
  applies!: boolean;
}

export class VariablesDto {
  @ApiProperty({ type: [VariableDto], description: 'Every variable, in the order of docs/automations.md' }) items!: VariableDto[];
}
