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
export const EVENT_TYPES = ['RUN_METRICS', 'RUN_STATE', 'RUN_LOG', 'ALERT', ...ARTIFACT_EVENT_TYPES] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** A metric value as posted: a number, or one of the non-finite spellings JSON cannot carry. */
export type PostedMetricValue = number | 'NaN' | 'Infinity' | '-Infinity';

export interface EventRun {
  id: string;
  name: string;
  state?: RunState;
  url?: string;
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
}
