import type { GroupCounts, MatchedMetric } from '../automations/triggers';
import { type HeraldEvent, type RunContext, isOperationalEventType, mergeRunContext } from '../events/event.types';
import type { PayloadVariables } from './render-context';


export interface VariableSources {
  event: HeraldEvent;
  team: { id: string; name: string };
  /** Null for test sends. */
  automation: { id: string; name: string } | null;
  deliveryId: string | null;
  /** Given for metric triggers only. */
  metric?: MatchedMetric;
  /** The first matching line, for RUN_LOG_MATCH. */
  logLine?: string | null;
  /** The run's group, tags and config as Herald keeps them; without it, the event's own. */
  runContext?: RunContext | null;
  /** RUN_GROUP_FINISHED: the group's counts. */
  group?: GroupCounts | null;
}

/** Fills every variable of the table (docs/templates.md); the ones that do not apply to the event are null. */
export function buildVariables(input: VariableSources): PayloadVariables {
  const { event, team, automation, metric } = input;
  const run = event.run;
  const context = run ? (input.runContext ?? mergeRunContext(null, run)) : null;
  const artifact = event.artifact;
  const isAlert = event.type === 'ALERT';
  const alias = isAliasEvent(event) ? (event.alias ?? null) : null;
  return {
    event_type: event.type,
    event_id: event.id,
    event_author: event.author ?? null,
    timestamp: event.occurredAt,
    project_name: event.project,
    entity_name: team.name,
    automation_name: automation?.name ?? null,
    // An operational event's ${delivery_id} is the delivery it is about; this one's is in X-Herald-Delivery.
    delivery_id: (isOperationalEventType(event.type) ? event.delivery?.id : undefined) ?? input.deliveryId,
    run_id: run?.id ?? null,
    run_name: run?.name ?? null,
    run_state: run?.state ?? null,
    run_url: run?.url ?? null,
    run_group: context?.group ?? null,
    run_tags: context?.tags ? context.tags.join(',') : null,
    run_config: context ? (context.config ?? {}) : null,
    group_runs_total: input.group?.total ?? null,
    group_runs_finished: input.group?.finished ?? null,
    group_runs_failed: input.group?.failed ?? null,
    run_last_seen: event.lastSeenAt ?? null,
    stale_seconds: event.staleSeconds ?? null,
    metric_name: metric?.name ?? null,
    metric_value: metric?.value ?? null,
    metric_threshold: metric?.threshold ?? null,
    metric_change: metric?.change ?? null,
    metric_zscore: metric?.zscore ?? null,
    metric_step: event.type === 'RUN_METRICS' ? (event.step ?? null) : null,
    log_line: input.logLine ?? null,
    alert_title: isAlert ? (event.title ?? null) : null,
    alert_text: isAlert ? (event.text ?? null) : null,
    alert_level: isAlert ? (event.level ?? null) : null,
    alias,
    tag: isTagEvent(event) ? (event.tag ?? null) : null,
    artifact_collection_name: artifact?.collection ?? event.collection?.name ?? null,
    collection_type: event.collection?.type ?? null,
    artifact_version: artifact?.version ?? null,
    artifact_version_string: artifact
      ? `${team.name}/${event.project}/${artifact.collection}:${alias ?? artifact.version}`
      : null,
    artifact_metadata: artifact ? (artifact.metadata ?? {}) : null,
    // Only WEBHOOK_DISABLED and DELIVERY_FAILED carry these (event-validation.ts).
    webhook_id: event.webhook?.id ?? null,
    webhook_name: event.webhook?.name ?? null,
    disabled_reason: event.reason ?? null,
    attempts: event.delivery?.attempts ?? null,
    status_code: event.statusCode ?? null,
    error: event.error ?? null,
  };
}

function isAliasEvent(event: HeraldEvent): boolean {
  return event.type === 'ADD_ARTIFACT_ALIAS' || event.type === 'REMOVE_ARTIFACT_ALIAS';
}

function isTagEvent(event: HeraldEvent): boolean {
  return event.type === 'ADD_ARTIFACT_TAG' || event.type === 'REMOVE_ARTIFACT_TAG' || event.type === 'ADD_COLLECTION_TAG' || event.type === 'REMOVE_COLLECTION_TAG';
}
