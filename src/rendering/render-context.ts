import type { HeraldEvent } from '../events/event.types';

/**
 * The values a payload may use (docs/design.md › Payload rendering; the table in docs/templates.md). A known
 * variable that does not apply to the event is null: it renders as "" inside a string and as
 * null where it stands as a whole JSON value.
 */
export interface PayloadVariables {
  event_type: string;
  event_id: string;
  event_author: string | null;
  timestamp: string;
  project_name: string;
  entity_name: string;
  automation_name: string | null;
  delivery_id: string | null;
  run_id: string | null;
  run_name: string | null;
  run_state: string | null;
  run_url: string | null;
  /** The run's group (kept on the run). */
  run_group: string | null;
  /** The run's tags, comma-joined. */
  run_tags: string | null;
  /** RUN_GROUP_FINISHED: the group's runs, those in a final state, those FAILED or CRASHED. */
  group_runs_total: number | null;
  group_runs_finished: number | null;
  group_runs_failed: number | null;
  /** RUN_STALE: when the run last reported, and the silence that made it stale. */
  run_last_seen: string | null;
  stale_seconds: number | null;
  metric_name: string | null;
  /** May be NaN or ±Infinity: rendered as the strings "NaN", "Infinity", "-Infinity". */
  metric_value: number | null;
  metric_threshold: number | null;
  metric_change: number | null;
  metric_zscore: number | null;
  metric_step: number | null;
  log_line: string | null;
  alert_title: string | null;
  alert_text: string | null;
  alert_level: string | null;
  alias: string | null;
  tag: string | null;
  artifact_collection_name: string | null;
  /** ADD_COLLECTION_TAG, REMOVE_COLLECTION_TAG: `collection.type`. */
  collection_type: string | null;
  artifact_version: string | null;
  artifact_version_string: string | null;
  /** WEBHOOK_DISABLED, DELIVERY_FAILED: the webhook the event is about. */
  webhook_id: string | null;
  webhook_name: string | null;
  /** WEBHOOK_DISABLED: gone or failing. */
  disabled_reason: string | null;
  /** The attempts the delivery the event is about made in its series. */
  attempts: number | null;
  /** The last attempt's HTTP status (null when none arrived). */
  status_code: number | null;
  /** The last attempt's error, secrets redacted. */
  error: string | null;
  /** Top-level keys of `artifact.metadata`, reachable as `${artifact_metadata.<KEY>}`. */
  artifact_metadata: Record<string, unknown> | null;
  /** Top-level keys of the run's config (kept on the run), reachable as `${run_config.<KEY>}`. */
  run_config: Record<string, unknown> | null;
}

/** Everything a payload template or preset is rendered from. */
export interface RenderContext {
  variables: PayloadVariables;
  /** The event as stored (presets such as `generic` embed it). */
  event: HeraldEvent;
  team: { id: string; name: string };
  /** Null for test sends. */
  automation: { id: string; name: string } | null;
  deliveryId: string;
}
