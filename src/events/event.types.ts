/**
 * The events Herald ingests (docs/design.md › Events). Validation lives in the events module;
 * these types are the contract between ingestion, matching, rendering and delivery.
 */
export const RUN_STATES = ['RUNNING', 'FINISHED', 'FAILED', 'CRASHED', 'KILLED'] as const;
export type RunState = (typeof RUN_STATES)[number];

export const ALERT_LEVELS = ['INFO', 'WARN', 'ERROR'] as const;
export type AlertLevel = (typeof ALERT_LEVELS)[number];

export const ARTIFACT_EVENT_TYPES = [
  'CREATE_ARTIFACT',
  'LINK_ARTIFACT',
  'UNLINK_ARTIFACT',
  'ADD_ARTIFACT_ALIAS',
  'REMOVE_ARTIFACT_ALIAS',
  'ADD_ARTIFACT_TAG',
  'REMOVE_ARTIFACT_TAG',
] as const;
/** Tags added to or removed from a whole collection (`collection{name, type?}`, `tag`), as W&B has. */
export const COLLECTION_EVENT_TYPES = ['ADD_COLLECTION_TAG', 'REMOVE_COLLECTION_TAG'] as const;
/**
 * Events Herald emits about its own deliveries (docs/automations.md › Operational events): a
 * webhook it disabled, a delivery that ended `failed`. Only Herald posts them.
 */
export const OPERATIONAL_EVENT_TYPES = ['WEBHOOK_DISABLED', 'DELIVERY_FAILED'] as const;
export type OperationalEventType = (typeof OPERATIONAL_EVENT_TYPES)[number];
/** Herald's note that a RUNNING run has sent nothing for `staleSeconds` (run-staleness.ts); only Herald posts it. */
export const RUN_STALE = 'RUN_STALE';
export const EVENT_TYPES = [
  'RUN_STALE',
  'RUN_METRICS',
  'RUN_STATE',
  'RUN_LOG',
  'ALERT',
  ...ARTIFACT_EVENT_TYPES,
  ...COLLECTION_EVENT_TYPES,
  ...OPERATIONAL_EVENT_TYPES,
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export function isOperationalEventType(type: string): type is OperationalEventType {
  return (OPERATIONAL_EVENT_TYPES as readonly string[]).includes(type);
}

/** Events only Herald posts: the operational ones and RUN_STALE. */
export function isHeraldOnlyEventType(type: string): boolean {
  return type === RUN_STALE || isOperationalEventType(type);
}

/** Why Herald disabled a webhook: a 410 answer, or no success for HERALD_DISABLE_AFTER. */
export const WEBHOOK_DISABLE_REASONS = ['gone', 'failing'] as const;
export type WebhookDisableReason = (typeof WEBHOOK_DISABLE_REASONS)[number];

/** A metric value as posted: a number, or one of the non-finite spellings JSON cannot carry. */
export type PostedMetricValue = number | 'NaN' | 'Infinity' | '-Infinity';

export interface EventRun {
  id: string;
  name: string;
  state?: RunState;
  url?: string;
  /** A sweep or experiment group; kept on the run (RunContext). */
  group?: string;
  /** Kept on the run: the latest list given replaces the one before. */
  tags?: string[];
  /** The run's configuration (hyper-parameters), a JSON object; kept on the run. */
  config?: Record<string, unknown>;
}

/**
 * What Herald keeps of a run's context: the latest `run.group`, `run.tags` and `run.config`
 * any of its events carried, so later events need not repeat them. Rendering (`${run_group}`…)
 * and attribute filters read this, not the event alone.
 */
export interface RunContext {
  group: string | null;
  tags: string[] | null;
  config: Record<string, unknown> | null;
}

/** The context after an event: its run's fields replace the stored ones they give. */
export function mergeRunContext(stored: RunContext | null, run: EventRun | undefined): RunContext {
  return {
    group: run?.group ?? stored?.group ?? null,
    tags: run?.tags ?? stored?.tags ?? null,
    config: run?.config ?? stored?.config ?? null,
  };
}

export interface EventArtifact {
  name: string;
  version: string;
  collection: string;
  id?: string;
  type?: string;
  metadata?: Record<string, unknown>;
  aliases?: string[];
  tags?: string[];
}

/** The collection of ADD_COLLECTION_TAG / REMOVE_COLLECTION_TAG. */
export interface EventCollection {
  name: string;
  type?: string;
}

/** The webhook an operational event is about. */
export interface EventWebhook {
  id: string;
  name: string;
}

/** The delivery an operational event is about, as it stood when the event was emitted. */
export interface EventDelivery {
  id: string;
  /** Its attempt series (1, then + 1 for each redelivery or recovery). */
  series: number;
  /** Attempts made in that series. */
  attempts: number;
  /** The automation that made it (absent once that automation is deleted). */
  automationId?: string;
  automationName?: string;
  /** The event it delivered, and that event's type. */
  eventId?: string;
  eventType: string;
}

/** One stored event: what the client posted, with `id` and `occurredAt` always filled in. */
export interface HeraldEvent {
  id: string;
  type: EventType;
  /** ISO-8601 UTC. */
  occurredAt: string;
  project: string;
  author?: string;
  registry?: boolean;
  run?: EventRun;
  step?: number;
  metrics?: Record<string, PostedMetricValue>;
  lines?: string[];
  title?: string;
  level?: AlertLevel;
  text?: string;
  artifact?: EventArtifact;
  alias?: string;
  tag?: string;
  /** ADD_COLLECTION_TAG, REMOVE_COLLECTION_TAG. */
  collection?: EventCollection;
  /** RUN_STALE: when the run last reported (ISO-8601 UTC), and the silence that made it stale. */
  lastSeenAt?: string;
  staleSeconds?: number;
  /** WEBHOOK_DISABLED, DELIVERY_FAILED. */
  webhook?: EventWebhook;
  /** DELIVERY_FAILED; WEBHOOK_DISABLED: the delivery whose attempt disabled the webhook. */
  delivery?: EventDelivery;
  /** WEBHOOK_DISABLED. */
  reason?: WebhookDisableReason;
  /** The last attempt's HTTP status, absent when none arrived (a network error, a timeout). */
  statusCode?: number;
  /** The last attempt's error (secret values redacted). */
  error?: string;
}
