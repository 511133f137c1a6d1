import type { AlertLevel, RunState } from '../events/event.types';

/**
 * Automations as stored and matched (docs/design.md › Automations). These types are the contract
 * between the automations module (validation, CRUD), the pure matcher and ingestion.
 */

export const SCOPE_TYPES = ['project', 'registry', 'team'] as const;
export type ScopeType = (typeof SCOPE_TYPES)[number];
export type Scope = { type: 'project'; name: string } | { type: 'registry'; name: string } | { type: 'team' };

export const AGGREGATIONS = ['MIN', 'MAX', 'AVERAGE', 'LAST'] as const;
export type Aggregation = (typeof AGGREGATIONS)[number];

export const COMPARISONS = ['>', '>=', '<', '<=', '==', '!='] as const;
export type Comparison = (typeof COMPARISONS)[number];

export const DIRECTIONS = ['INCREASE', 'DECREASE', 'ANY'] as const;
export type Direction = (typeof DIRECTIONS)[number];

export const CHANGE_TYPES = ['ABSOLUTE', 'RELATIVE'] as const;
export type ChangeType = (typeof CHANGE_TYPES)[number];

export const MAX_WINDOW = 1000;

export type ArtifactTrigger =
  | { event: 'CREATE_ARTIFACT' | 'LINK_ARTIFACT' | 'UNLINK_ARTIFACT'; collectionRegex?: string }
  | { event: 'ADD_ARTIFACT_ALIAS' | 'REMOVE_ARTIFACT_ALIAS'; aliasRegex: string; collectionRegex?: string }
  | { event: 'ADD_ARTIFACT_TAG' | 'REMOVE_ARTIFACT_TAG'; tagRegex: string; collectionRegex?: string }
  /** A tag on a whole collection; collectionRegex against `collection.name`. */
  | { event: 'ADD_COLLECTION_TAG' | 'REMOVE_COLLECTION_TAG'; tagRegex: string; collectionRegex?: string };

export type ThresholdTrigger =
  | { event: 'RUN_METRIC_THRESHOLD'; metric: string; agg: Aggregation; window: number; op: Comparison; threshold: number }
  /** The latest value is NaN or ±Infinity: no agg, window or threshold. */
  | { event: 'RUN_METRIC_THRESHOLD'; metric: string; op: 'NON_FINITE' };

export interface ChangeTrigger {
  event: 'RUN_METRIC_CHANGE';
  metric: string;
  agg: Aggregation;
  window: number;
  priorWindow: number;
  changeType: ChangeType;
  direction: Direction;
  /** ≥ 0; RELATIVE as a fraction (0.1 = 10 %). */
  amount: number;
}

export interface ZScoreTrigger {
  event: 'RUN_METRIC_ZSCORE';
  metric: string;
  /** Values before the latest that make the mean and σ. */
  window: number;
  /** > 0. */
  threshold: number;
  direction: Direction;
}

export type MetricTrigger = ThresholdTrigger | ChangeTrigger | ZScoreTrigger;

export type Trigger =
  | ArtifactTrigger
  | { event: 'RUN_STATE'; states: RunState[] }
  | MetricTrigger
  | { event: 'RUN_LOG_MATCH'; lineRegex: string }
  /** No run of the group (as seen so far in the project) is RUNNING after a run's final state. */
  | { event: 'RUN_GROUP_FINISHED'; groupRegex?: string }
  /** A RUNNING run sent nothing for staleSeconds (1 … 604 800). */
  | { event: 'RUN_STALE'; staleSeconds: number }
  | { event: 'ALERT'; levels: AlertLevel[]; titleRegex?: string }
  /** Herald's own events (team scope only); no fields. */
  | { event: 'WEBHOOK_DISABLED' | 'DELIVERY_FAILED' };

export type TriggerEvent = Trigger['event'];

/** The attribute filter as saved (validated by compileFilter, matching/attribute-filter.ts). */
export type AttributeFilter = Record<string, unknown>;

export interface RunFilter {
  /** RE2, unanchored unless the pattern anchors itself, against `run.name`. */
  nameRegex?: string;
  /** Equal to `event.author`. */
  user?: string;
}

/** What an automation does: a custom template, a preset, or (neither) the webhook kind's preset. */
export interface AutomationAction {
  webhookId: string;
  payload?: unknown;
  template?: string;
}

/** The part of an automation the matcher needs. */
export interface MatchableAutomation {
  id: string;
  name: string;
  scope: Scope;
  trigger: Trigger;
  runFilter: RunFilter | null;
  /** Checked after the trigger; null or absent when the automation has none. */
  filter?: AttributeFilter | null;
  /** Effective cooldown: the default (86400 s for metric and log triggers, else 0; triggers.ts) already applied. */
  cooldownSeconds: number;
  /** Bumped whenever the trigger changes, which resets edge and cooldown state. */
  triggerVersion: number;
}
