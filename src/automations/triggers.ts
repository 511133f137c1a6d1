import { ARTIFACT_EVENT_TYPES, COLLECTION_EVENT_TYPES, type EventType, OPERATIONAL_EVENT_TYPES } from '../events/event.types';
import type { MetricTrigger, Trigger } from './automation.types';

/**
 * The one owner of what Herald knows about each trigger (docs/design.md › Triggers): its
 * name, its category, the event type it listens to, whether it is edge-triggered, its default
 * cooldown, and which filters it takes. Validation, matching, rendering and the variables
 * table all ask here.
 */

export const METRIC_TRIGGERS = ['RUN_METRIC_THRESHOLD', 'RUN_METRIC_CHANGE', 'RUN_METRIC_ZSCORE'] as const;
/** Triggers about a run: its state, its metrics, its log, its group's completion. */
export const RUN_TRIGGERS = ['RUN_STATE', ...METRIC_TRIGGERS, 'RUN_LOG_MATCH', 'RUN_GROUP_FINISHED', 'RUN_STALE'] as const;
/** Triggers on the events Herald emits about its own deliveries; team-scoped automations only. */
export const OPERATIONAL_TRIGGERS = OPERATIONAL_EVENT_TYPES;
/** Every trigger, in the order the API documents them. */
export const TRIGGER_NAMES = [...ARTIFACT_EVENT_TYPES, ...COLLECTION_EVENT_TYPES, ...RUN_TRIGGERS, 'ALERT', ...OPERATIONAL_TRIGGERS] as const;
/** The artifact and the collection-tag triggers: about a collection, keyed (cooldowns) by collection. */
export const COLLECTION_TRIGGERS = [...ARTIFACT_EVENT_TYPES, ...COLLECTION_EVENT_TYPES] as const;
export type TriggerName = (typeof TRIGGER_NAMES)[number];

/**
 * artifact: an artifact or collection-tag event; run: RUN_STATE; metric: the metric triggers; log: RUN_LOG_MATCH;
 * alert: ALERT; operational: WEBHOOK_DISABLED and DELIVERY_FAILED.
 */
export type TriggerCategory = 'artifact' | 'run' | 'metric' | 'log' | 'group' | 'alert' | 'operational';

const CATEGORIES: ReadonlyMap<string, TriggerCategory> = new Map<string, TriggerCategory>([
  ...COLLECTION_TRIGGERS.map((name): [string, TriggerCategory] => [name, 'artifact']),
  ['RUN_STATE', 'run'],
  ...METRIC_TRIGGERS.map((name): [string, TriggerCategory] => [name, 'metric']),
  ['RUN_LOG_MATCH', 'log'],
  ['RUN_GROUP_FINISHED', 'group'],
  // RUN_STALE listens to the RUN_STALE events Herald posts when a timer is due (run-staleness.ts).
  ['RUN_STALE', 'run'],
  ['ALERT', 'alert'],
  ...OPERATIONAL_TRIGGERS.map((name): [string, TriggerCategory] => [name, 'operational']),
]);

/** The cooldown for metric and log triggers when none is given; the others default to 0. */
export const DEFAULT_EDGE_COOLDOWN_SECONDS = 86_400;

export function isTriggerName(value: string): value is TriggerName {
  return CATEGORIES.has(value);
}

export function triggerCategory(name: TriggerName): TriggerCategory {
  return CATEGORIES.get(name)!;
}

export function isArtifactTrigger(name: string): boolean {
  return CATEGORIES.get(name) === 'artifact';
}

/** RUN_STATE, the metric triggers, RUN_LOG_MATCH and RUN_GROUP_FINISHED. */
export function isRunTrigger(name: string): boolean {
  const category = CATEGORIES.get(name);
  return category === 'run' || category === 'metric' || category === 'log' || category === 'group';
}

/**
 * RUN_GROUP_FINISHED: decided per run group (its edge and cooldown keyed by `group:<project>/<group>`),
 * from the group's counts, which ingestion reads only for events it may concern.
 */
export function isGroupTrigger(name: string): boolean {
  return CATEGORIES.get(name) === 'group';
}

export function isMetricTrigger(trigger: Trigger): trigger is MetricTrigger {
  return CATEGORIES.get(trigger.event) === 'metric';
}

/**
 * Operational triggers: Herald's events about its own webhooks and deliveries belong to the
 * team, not to a project, so only team-scoped automations take them.
 */
export function isOperationalTrigger(name: string): boolean {
  return CATEGORIES.get(name) === 'operational';
}

/** Run filters apply to run triggers and ALERT (an alert may carry a run), never to artifact triggers. */
export function acceptsRunFilter(name: string): boolean {
  return isRunTrigger(name) || name === 'ALERT';
}

/**
 * Metric and log triggers fire on the transition to matching, RUN_GROUP_FINISHED on its group's
 * (once until a run of the group reports RUNNING again); the others on every match.
 */
export function isEdgeTriggered(name: string): boolean {
  const category = CATEGORIES.get(name);
  return category === 'metric' || category === 'log' || category === 'group';
}

/** The one event type a trigger listens to. */
export function listenedEventType(name: TriggerName): EventType {
  switch (CATEGORIES.get(name)) {
    case 'metric':
      return 'RUN_METRICS';
    case 'log':
      return 'RUN_LOG';
    case 'group':
      return 'RUN_STATE';
    default:
      // RUN_STATE, ALERT, the artifact and the operational triggers share their event's name.
      return name as EventType;
  }
}

/** The cooldown in force: the one given, else 86400 s for metric and log triggers and 0 for the others. */
export function effectiveCooldownSeconds(trigger: Trigger, cooldownSeconds: number | null): number {
  if (cooldownSeconds !== null) return cooldownSeconds;
  const category = CATEGORIES.get(trigger.event);
  return category === 'metric' || category === 'log' ? DEFAULT_EDGE_COOLDOWN_SECONDS : 0;
}

/** A run group's runs as seen so far in its project (RUN_GROUP_FINISHED; ${group_runs_*}). */
export interface GroupCounts {
  total: number;
  running: number;
  /** In a final state: FINISHED, FAILED, CRASHED or KILLED. */
  finished: number;
  /** FAILED or CRASHED. */
  failed: number;
}

/** What the matcher knows about the metric a metric trigger evaluated (renders as ${metric_*}). */
export interface MatchedMetric {
  name: string;
  /** THRESHOLD: the aggregate compared; CHANGE: the current window's aggregate; ZSCORE: the latest value. */
  value: number;
  /** THRESHOLD: `threshold` (null for NON_FINITE); CHANGE: `amount`; ZSCORE: `threshold`. */
  threshold?: number | null;
  change?: number | null;
  zscore?: number | null;
}
