import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ALERT_LEVELS,
  type AlertLevel,
  EVENT_TYPES,
  type EventType,
  type PostedMetricValue,
  RUN_STATES,
  type RunState,
  WEBHOOK_DISABLE_REASONS,
  type WebhookDisableReason,
} from '../event.types';
import {
  MAX_ALERT_TEXT_BYTES,
  MAX_ERROR_CHARS,
  MAX_ALERT_TITLE_CHARS,
  MAX_ARTIFACT_LABELS,
  MAX_BATCH,
  MAX_ID_CHARS,
  MAX_LOG_LINE_BYTES,
  MAX_LOG_LINES,
  MAX_METRICS,
  MAX_NAME_CHARS,
  MAX_RUN_CONFIG_BYTES,
  MAX_RUN_NAME_CHARS,
  MAX_RUN_TAGS,
  MAX_URL_CHARS,
} from '../event-validation';
import { DELIVERY_STATUS_DOC } from '../../delivery/dto/delivery.dto';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../../delivery/delivery-status';
import type { SuppressionReason } from '../event-outcome';

/*
 * OpenAPI documentation of the event shape. These classes carry no class-validator rules on
 * purpose: POST /v1/events and the previews validate with validateEventBatch (one hand-written
 * pass, see event-validation.ts), which is the source of truth for every limit shown here.
 */

export class EventRunDto {
  @ApiProperty({ description: 'The run id, unique in the project', example: 'r42', minLength: 1, maxLength: MAX_NAME_CHARS })
  id!: string;

  @ApiProperty({
    description: `The run display name (what runFilter.nameRegex matches): free text up to ${MAX_RUN_NAME_CHARS} characters (training code often joins hyper-parameters into it)`,
    example: 'bert-base-lr3e-4',
    maxLength: MAX_RUN_NAME_CHARS,
  })
  name!: string;

  @ApiPropertyOptional({ enum: RUN_STATES, description: 'Required for RUN_STATE; optional elsewhere' })
  state?: RunState;

  @ApiPropertyOptional({ description: 'An http or https link to the run', example: 'https://ml.example.com/runs/r42', maxLength: MAX_URL_CHARS })
  url?: string;

  @ApiPropertyOptional({
    description: 'A sweep or experiment group; Herald keeps the latest on the run (${run_group}, RUN_GROUP_FINISHED)',
    example: 'sweep-7',
    minLength: 1,
    maxLength: MAX_NAME_CHARS,
  })
  group?: string;

  @ApiPropertyOptional({ type: [String], maxItems: MAX_RUN_TAGS, description: 'Kept on the run; the latest list replaces the one before (${run_tags})', example: ['baseline'] })
  tags?: string[];

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: `The run's configuration, a JSON object of at most ${MAX_RUN_CONFIG_BYTES} bytes; kept on the run (\${run_config.<KEY>} reads a top-level key)`,
    example: { lr: 0.0003, batch_size: 32 },
  })
  config?: Record<string, unknown>;
}

export class EventArtifactDto {
  @ApiProperty({ description: 'The artifact name', example: 'bert-base', minLength: 1, maxLength: MAX_NAME_CHARS })
  name!: string;

  @ApiProperty({ description: 'The version (`${artifact_version_string}` is name:version)', example: 'v3', minLength: 1, maxLength: MAX_NAME_CHARS })
  version!: string;

  @ApiProperty({ description: 'The collection (what collectionRegex matches)', example: 'llm-models', minLength: 1, maxLength: MAX_NAME_CHARS })
  collection!: string;

  @ApiPropertyOptional({ description: 'The platform\'s artifact id', example: 'QXJ0aWZhY3Q6MTIz', maxLength: MAX_NAME_CHARS })
  id?: string;

  @ApiPropertyOptional({ description: 'The artifact type', example: 'model', maxLength: MAX_NAME_CHARS })
  type?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'Any JSON object (at most 32 levels deep; `__proto__` keys refused); `${artifact_metadata.<KEY>}` reads a top-level key',
    example: { accuracy: 0.93, framework: 'pytorch' },
  })
  metadata?: Record<string, unknown>;

  @ApiPropertyOptional({ description: 'The version\'s aliases after the event', type: [String], maxItems: MAX_ARTIFACT_LABELS, example: ['latest', 'staging'] })
  aliases?: string[];

  @ApiPropertyOptional({ description: 'The version\'s tags after the event', type: [String], maxItems: MAX_ARTIFACT_LABELS, example: ['nlp'] })
  tags?: string[];
}

export class EventCollectionDto {
  @ApiProperty({ description: 'The collection (what collectionRegex matches)', example: 'llm-models', minLength: 1, maxLength: MAX_NAME_CHARS })
  name!: string;

  @ApiPropertyOptional({ description: 'What kind of collection it is (e.g. model, dataset); ${collection_type}', example: 'model', maxLength: MAX_NAME_CHARS })
  type?: string;
}

export class EventWebhookDto {
  @ApiProperty({ description: 'The webhook the event is about', example: 'wh_01JDA8W3M2Q0000000000000000' })
  id!: string;

  @ApiProperty({ description: "The webhook's name", example: 'deploy-hook' })
  name!: string;
}

export class EventDeliveryDto {
  @ApiProperty({ description: 'The delivery the event is about (msg_…)', example: 'msg_01JDA8W3M2Q0000000000000000' })
  id!: string;

  @ApiProperty({ description: 'Its attempt series (1, then + 1 for each redelivery or recovery)', example: 1, minimum: 1 })
  series!: number;

  @ApiProperty({ description: 'Attempts made in that series', example: 8, minimum: 0 })
  attempts!: number;

  @ApiPropertyOptional({ description: 'The automation that made the delivery (absent once deleted)' })
  automationId?: string;

  @ApiPropertyOptional({ description: "That automation's name" })
  automationName?: string;

  @ApiPropertyOptional({ description: 'The event the delivery carried' })
  eventId?: string;

  @ApiProperty({ description: "That event's type", example: 'ADD_ARTIFACT_ALIAS' })
  eventType!: string;
}

/**
 * One event. POST /v1/events takes one of these or an array of 1 to 1000. Fields a type does
 * not take (see each field) and unknown fields are refused, as is `null` for an optional field.
 */
export class EventDto {
  @ApiPropertyOptional({
    description: `Client id and idempotency key: 1–${MAX_ID_CHARS} printable ASCII characters, no spaces, not starting with herald: (Herald's own events); the server assigns evt_… when absent. Re-posting a known id answers the first result with duplicate: true.`,
    example: 'run-r42-step-1200',
    maxLength: MAX_ID_CHARS,
  })
  id?: string;

  @ApiProperty({ enum: EVENT_TYPES, example: 'RUN_METRICS', description: 'WEBHOOK_DISABLED and DELIVERY_FAILED are emitted by Herald only' })
  type!: EventType;

  @ApiPropertyOptional({
    format: 'date-time',
    description: 'ISO-8601 with a timezone (Z or ±hh:mm); stored as UTC with milliseconds. Defaults to the time received.',
    example: '2026-11-22T08:00:00Z',
  })
  occurredAt?: string;

  @ApiProperty({ description: 'The project (or registry) name; automation scopes match it exactly', example: 'llm-finetune', minLength: 1, maxLength: MAX_NAME_CHARS })
  project!: string;

  @ApiPropertyOptional({ description: 'Who caused the event (what runFilter.user compares)', example: 'alice', maxLength: MAX_NAME_CHARS })
  author?: string;

  @ApiPropertyOptional({ description: 'true when the project is a registry (registry-scoped automations need it)' })
  registry?: boolean;

  @ApiPropertyOptional({
    type: EventRunDto,
    description: 'Required for RUN_METRICS, RUN_STATE (with state) and RUN_LOG; optional for ALERT and artifact events',
  })
  run?: EventRunDto;

  @ApiPropertyOptional({ description: 'RUN_METRICS only: the training step, an integer ≥ 0', example: 1200, minimum: 0 })
  step?: number;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { oneOf: [{ type: 'number' }, { type: 'string', enum: ['NaN', 'Infinity', '-Infinity'] }] },
    description: `RUN_METRICS (required): 1–${MAX_METRICS} metrics, names of 1–${MAX_NAME_CHARS} characters; values are finite numbers or exactly "NaN", "Infinity", "-Infinity"`,
    example: { 'val/loss': 0.183, 'val/acc': 0.91, grad_norm: 'NaN' },
  })
  metrics?: Record<string, PostedMetricValue>;

  @ApiPropertyOptional({
    type: [String],
    minItems: 1,
    maxItems: MAX_LOG_LINES,
    description: `RUN_LOG (required): 1–${MAX_LOG_LINES} lines, each at most ${MAX_LOG_LINE_BYTES} bytes of UTF-8`,
    example: ['epoch 3: loss 0.21', 'CUDA out of memory'],
  })
  lines?: string[];

  @ApiPropertyOptional({ description: 'ALERT (required)', example: 'Loss diverged', minLength: 1, maxLength: MAX_ALERT_TITLE_CHARS })
  title?: string;

  @ApiPropertyOptional({ enum: ALERT_LEVELS, description: 'ALERT (required)' })
  level?: AlertLevel;

  @ApiPropertyOptional({ description: `ALERT only: at most ${MAX_ALERT_TEXT_BYTES} bytes (64 KiB) of UTF-8`, example: 'val/loss went from 0.2 to 7.9' })
  text?: string;

  @ApiPropertyOptional({ type: EventArtifactDto, description: 'Artifact events (required): CREATE/LINK/UNLINK_ARTIFACT, ADD/REMOVE_ARTIFACT_ALIAS, ADD/REMOVE_ARTIFACT_TAG' })
  artifact?: EventArtifactDto;

  @ApiPropertyOptional({ description: 'ADD/REMOVE_ARTIFACT_ALIAS (required): the alias added or removed', example: 'prod', maxLength: MAX_NAME_CHARS })
  alias?: string;

  @ApiPropertyOptional({ description: 'ADD/REMOVE_ARTIFACT_TAG and ADD/REMOVE_COLLECTION_TAG (required): the tag added or removed', example: 'reviewed', maxLength: MAX_NAME_CHARS })
  tag?: string;

  @ApiPropertyOptional({ type: EventCollectionDto, description: 'ADD/REMOVE_COLLECTION_TAG (required): the collection tagged' })
  collection?: EventCollectionDto;

  @ApiPropertyOptional({
    type: EventWebhookDto,
    description: 'WEBHOOK_DISABLED and DELIVERY_FAILED (required; Herald emits these events itself, POST /v1/events refuses them): the webhook',
  })
  webhook?: EventWebhookDto;

  @ApiPropertyOptional({
    type: EventDeliveryDto,
    description: 'DELIVERY_FAILED (required): the delivery that ended failed; WEBHOOK_DISABLED: the delivery whose attempt disabled the webhook',
  })
  delivery?: EventDeliveryDto;

  @ApiPropertyOptional({
    enum: WEBHOOK_DISABLE_REASONS,
    description: 'WEBHOOK_DISABLED (required): gone (it answered 410) or failing (no success for HERALD_DISABLE_AFTER)',
  })
  reason?: WebhookDisableReason;

  @ApiPropertyOptional({ description: "WEBHOOK_DISABLED, DELIVERY_FAILED: the last attempt's HTTP status; absent when none arrived", example: 410, minimum: 100, maximum: 599 })
  statusCode?: number;

  @ApiPropertyOptional({ description: "WEBHOOK_DISABLED, DELIVERY_FAILED: the last attempt's error, secret values redacted", example: 'HTTP 410', maxLength: MAX_ERROR_CHARS })
  error?: string;
}

export class IngestResultDto {
  @ApiProperty({ description: 'Position of the event in the posted array (0 for a single event)', example: 0 })
  index!: number;

  @ApiProperty({ description: "The event id: the client's, or the evt_… assigned", example: 'evt_01JDA8W3M2Q0000000000000000' })
  id!: string;

  @ApiProperty({ description: 'true when the id was already known: nothing was created, the first result is repeated' })
  duplicate!: boolean;

  @ApiProperty({ description: 'How many automations fired for this event', example: 1 })
  matched!: number;

  @ApiProperty({ type: [String], description: 'The deliveries made (msg_…)', example: ['msg_01JDA8W3M2Q0000000000000000'] })
  deliveries!: string[];
}

export class IngestResponseDto {
  @ApiProperty({ type: [IngestResultDto], description: `One result per posted event (at most ${MAX_BATCH}), in order` })
  results!: IngestResultDto[];
}

/** What each suppression reason means (a reason added to SuppressionReason must be described here). */
const SUPPRESSION_REASON_DOCS: Record<SuppressionReason, string> = {
  cooldown: 'it fired for this run (or collection) within its cooldown',
  edge: 'its condition was already true when it last fired (edge-triggered: it fires again only after the condition was false)',
  webhook_disabled: 'its webhook was disabled by a user: the delivery was recorded cancelled (deliveryId)',
};

/** An automation that fired, with the delivery it made. */
export class OutcomeMatchDto {
  @ApiProperty({ description: 'The automation that fired', example: 'aut_01JDA8W3M2Q0000000000000000' }) automationId!: string;
  @ApiProperty({ description: "The automation's name when it fired", example: 'notify-failed-runs' }) automationName!: string;
  @ApiProperty({ description: 'The delivery it made (msg_…)', example: 'msg_01JDA8W3M2Q0000000000000000' }) deliveryId!: string;
}

/** An automation whose conditions held but that did not send. */
export class OutcomeSuppressionDto {
  @ApiProperty({ description: 'The automation held back', example: 'aut_01JDA8W3M2Q0000000000000000' }) automationId!: string;
  @ApiProperty({ description: "The automation's name at the time", example: 'loss-diverged' }) automationName!: string;
  @ApiProperty({
    enum: Object.keys(SUPPRESSION_REASON_DOCS),
    description: `Why it did not send: ${Object.entries(SUPPRESSION_REASON_DOCS).map(([reason, text]) => `${reason}: ${text}`).join('; ')}`,
  })
  reason!: SuppressionReason;
  @ApiPropertyOptional({ description: 'The cancelled delivery, for webhook_disabled' }) deliveryId?: string;
}

/** An automation that matched but could not render its payload. */
export class OutcomeFailureDto {
  @ApiProperty({ description: 'The automation that failed', example: 'aut_01JDA8W3M2Q0000000000000000' }) automationId!: string;
  @ApiProperty({ description: "The automation's name at the time" }) automationName!: string;
  @ApiProperty({ description: 'Why its payload could not be rendered, secret values redacted' }) error!: string;
}

/** What ingestion decided for the event: the answer to "why did (or didn't) it fire?". */
export class EventOutcomeDto {
  @ApiProperty({ type: [OutcomeMatchDto], description: 'Automations that fired' }) matched!: OutcomeMatchDto[];
  @ApiProperty({ type: [OutcomeSuppressionDto], description: 'Automations whose conditions held but that did not send, and why' })
  suppressed!: OutcomeSuppressionDto[];
  @ApiProperty({ type: [OutcomeFailureDto], description: 'Automations that matched but could not be rendered' }) failed!: OutcomeFailureDto[];
}

/** One stored event in a list. */
export class EventSummaryDto {
  @ApiProperty({ description: "The event id: the client's, or the evt_… assigned", example: 'run-r42-step-1200' }) id!: string;
  @ApiProperty({ enum: EVENT_TYPES, description: 'The event type' }) type!: EventType;
  @ApiProperty({ description: 'The project it was posted for', example: 'llm-finetune' }) project!: string;
  @ApiProperty({ nullable: true, type: String, description: 'run.id, or null for an event without a run', example: 'r42' }) runId!: string | null;
  @ApiProperty({ format: 'date-time', description: 'occurredAt as posted (UTC), or the time received' }) occurredAt!: string;
  @ApiProperty({ format: 'date-time', description: 'When Herald stored it' }) receivedAt!: string;
  @ApiProperty({ description: 'How many automations fired for it', example: 1 }) matched!: number;
}

/** One page of events, newest first. */
export class EventPageDto {
  @ApiProperty({ type: [EventSummaryDto], description: 'The events of this page, newest first' }) items!: EventSummaryDto[];
  @ApiProperty({ nullable: true, type: String, description: 'Pass as `cursor` for the next page; null on the last page' }) nextCursor!: string | null;
}

/** A delivery the event made, with its current status. */
export class EventDeliveryStatusDto {
  @ApiProperty({ description: 'The delivery id (msg_…)' }) id!: string;
  @ApiProperty({ nullable: true, type: String, description: 'The automation that made it (null once deleted)' }) automationId!: string | null;
  @ApiProperty({ nullable: true, type: String, description: "That automation's name" }) automationName!: string | null;
  @ApiProperty({ description: 'The webhook it goes to' }) webhookId!: string;
  @ApiProperty({ enum: DELIVERY_STATUSES, description: DELIVERY_STATUS_DOC }) status!: DeliveryStatus;
}

/** One event with what it matched and the deliveries it made. */
export class EventDetailDto extends EventSummaryDto {
  @ApiProperty({ type: EventDto, description: 'The event as stored (normalized: occurredAt in UTC, id assigned)' }) event!: EventDto;
  @ApiProperty({ type: EventOutcomeDto, description: 'Which automations fired, were held back or failed, and why' }) outcome!: EventOutcomeDto;
  @ApiProperty({ type: [EventDeliveryStatusDto], description: 'The deliveries it made, with their current status' })
  deliveries!: EventDeliveryStatusDto[];
}
