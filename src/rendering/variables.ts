import { COLLECTION_TRIGGERS, METRIC_TRIGGERS, OPERATIONAL_TRIGGERS, RUN_TRIGGERS, type TriggerName } from '../automations/triggers';
import { ARTIFACT_EVENT_TYPES, COLLECTION_EVENT_TYPES } from '../events/event.types';
import type { PayloadVariables } from './render-context';

/** The `${…}` names that stand for one value of PayloadVariables. */
export type VariableName = Exclude<keyof PayloadVariables, 'artifact_metadata' | 'run_config'>;

/** `${artifact_metadata.<KEY>}`: a pattern-shaped variable (a top-level key of the artifact's metadata). */
export const METADATA_PREFIX = 'artifact_metadata.';
/** `${run_config.<KEY>}`: a top-level key of the run's config, keys as METADATA_KEY_PATTERN. */
export const RUN_CONFIG_PREFIX = 'run_config.';

/**
 * The characters a metadata key may use after `artifact_metadata.`: letters, digits and
 * `_ - . /` (so `val/loss` and `eval.f1` work). The whole key is one top-level key: dots
 * do not reach into nested objects. None of these characters needs escaping in JSON, so a
 * reference reads the same in an object template and in JSON text.
 */
export const METADATA_KEY_PATTERN = /^[A-Za-z0-9_./-]+$/;

/** Secret names (docs/design.md › Teams, keys and secrets), also what `$NAME` matches. */
export const SECRET_NAME_PATTERN = /^[A-Z][A-Z0-9_]*$/;
export const ACCESS_TOKEN = 'ACCESS_TOKEN';

// ALERT and artifact events may carry a run, so run variables apply there too (empty when absent).
const TRIGGERS_WITH_RUN = [...RUN_TRIGGERS, 'ALERT', ...ARTIFACT_EVENT_TYPES] as const;

type Applicability = 'all' | readonly TriggerName[];

interface VariableSpec {
  description: string;
  triggers: Applicability;
}

/** The variable table (docs/templates.md). A Record, so the compiler insists on one entry per variable. */
const VARIABLE_SPECS: Record<VariableName, VariableSpec> = {
  event_type: { description: 'The event type, e.g. ADD_ARTIFACT_ALIAS.', triggers: 'all' },
  event_id: { description: "The event id (the client's, or evt_…).", triggers: 'all' },
  event_author: { description: "The event's author, empty when not given.", triggers: 'all' },
  timestamp: { description: 'When the event occurred, ISO-8601 UTC.', triggers: 'all' },
  project_name: { description: 'The project (or registry) of the event.', triggers: 'all' },
  entity_name: { description: "The team's name.", triggers: 'all' },
  automation_name: { description: 'The automation that fired (empty for test sends).', triggers: 'all' },
  delivery_id: {
    description:
      "This delivery's id (msg_…), the same for every attempt; for WEBHOOK_DISABLED and DELIVERY_FAILED, the delivery the event is about (this one's id is in X-Herald-Delivery).",
    triggers: 'all',
  },
  run_id: { description: "The run's id, empty when the event has no run.", triggers: TRIGGERS_WITH_RUN },
  run_name: { description: "The run's name, empty when the event has no run.", triggers: TRIGGERS_WITH_RUN },
  run_state: { description: "The run's state, when known.", triggers: TRIGGERS_WITH_RUN },
  run_url: { description: "The run's URL, when given.", triggers: TRIGGERS_WITH_RUN },
  run_group: { description: "The run's group (the latest run.group it reported), empty when none.", triggers: TRIGGERS_WITH_RUN },
  run_tags: { description: "The run's tags (the latest run.tags it reported), comma-joined.", triggers: TRIGGERS_WITH_RUN },
  group_runs_total: { description: "The runs of the group seen so far in the project.", triggers: ['RUN_GROUP_FINISHED'] },
  group_runs_finished: { description: 'Those of them in a final state (FINISHED, FAILED, CRASHED, KILLED).', triggers: ['RUN_GROUP_FINISHED'] },
  group_runs_failed: { description: 'Those of them FAILED or CRASHED.', triggers: ['RUN_GROUP_FINISHED'] },
  run_last_seen: { description: 'When the run last reported, ISO-8601 UTC.', triggers: ['RUN_STALE'] },
  stale_seconds: { description: "The trigger's staleSeconds: how long the run has been silent.", triggers: ['RUN_STALE'] },
  metric_name: { description: "The trigger's metric.", triggers: METRIC_TRIGGERS },
  metric_value: {
    description:
      'THRESHOLD: the aggregate compared; CHANGE: the current window aggregate; ZSCORE: the latest value. May be NaN or ±Infinity.',
    triggers: METRIC_TRIGGERS,
  },
  metric_threshold: {
    description: 'THRESHOLD: the threshold (empty for NON_FINITE); CHANGE: the amount; ZSCORE: the threshold.',
    triggers: METRIC_TRIGGERS,
  },
  metric_change: { description: 'The change computed (absolute, or relative as a fraction).', triggers: ['RUN_METRIC_CHANGE'] },
  metric_zscore: { description: 'The z-score of the latest value.', triggers: ['RUN_METRIC_ZSCORE'] },
  metric_step: { description: "The RUN_METRICS event's step, when given.", triggers: METRIC_TRIGGERS },
  log_line: { description: 'The first log line that matched.', triggers: ['RUN_LOG_MATCH'] },
  alert_title: { description: "The alert's title.", triggers: ['ALERT'] },
  alert_text: { description: "The alert's text, when given.", triggers: ['ALERT'] },
  alert_level: { description: 'INFO, WARN or ERROR.', triggers: ['ALERT'] },
  alias: { description: 'The alias added or removed.', triggers: ['ADD_ARTIFACT_ALIAS', 'REMOVE_ARTIFACT_ALIAS'] },
  tag: { description: 'The tag added or removed.', triggers: ['ADD_ARTIFACT_TAG', 'REMOVE_ARTIFACT_TAG', ...COLLECTION_EVENT_TYPES] },
  artifact_collection_name: { description: "The artifact's collection (for collection tags, the collection's name).", triggers: COLLECTION_TRIGGERS },
  collection_type: { description: "The collection's type, when given.", triggers: COLLECTION_EVENT_TYPES },
  artifact_version: { description: "The artifact's version, e.g. v3.", triggers: ARTIFACT_EVENT_TYPES },
  artifact_version_string: {
    description: '<team>/<project>/<collection>:<alias or version> (the alias for alias events).',
    triggers: ARTIFACT_EVENT_TYPES,
  },
  webhook_id: { description: 'The webhook the event is about (wh_…).', triggers: OPERATIONAL_TRIGGERS },
  webhook_name: { description: 'That webhook\'s name.', triggers: OPERATIONAL_TRIGGERS },
  disabled_reason: { description: 'Why Herald disabled it: gone (a 410) or failing (no success for HERALD_DISABLE_AFTER).', triggers: ['WEBHOOK_DISABLED'] },
  attempts: { description: 'The attempts the delivery made in its series.', triggers: OPERATIONAL_TRIGGERS },
  status_code: { description: "The last attempt's HTTP status; empty when none arrived (a timeout, a network error).", triggers: OPERATIONAL_TRIGGERS },
  error: { description: "The last attempt's error (secret values redacted).", triggers: OPERATIONAL_TRIGGERS },
};

/** The names of the variables of the table, in its order. */
export const VARIABLE_NAMES = Object.keys(VARIABLE_SPECS) as readonly VariableName[];

export function isVariableName(name: string): name is VariableName {
  return Object.hasOwn(VARIABLE_SPECS, name);
}

/** One row of GET /v1/automations/variables. */
export interface VariableInfo {
  name: string;
  description: string;
  applies: boolean;
}

const PATTERN_ROWS: readonly (VariableSpec & { name: string })[] = [
  {
    name: `${METADATA_PREFIX}<KEY>`,
    description: "A top-level key of the artifact's metadata (KEY: letters, digits, _ - . /).",
    triggers: ARTIFACT_EVENT_TYPES,
  },
  {
    name: `${RUN_CONFIG_PREFIX}<KEY>`,
    description: "A top-level key of the run's config (the latest run.config it reported; KEY: letters, digits, _ - . /).",
    triggers: TRIGGERS_WITH_RUN,
  },
  {
    name: ACCESS_TOKEN,
    description: "The webhook's access token, when one is bound. Also written $ACCESS_TOKEN.",
    triggers: 'all',
  },
  {
    name: '<SECRET_NAME>',
    description: "A secret in the webhook's payloadSecrets (or its signing secret). Also written $SECRET_NAME.",
    triggers: 'all',
  },
];

/**
 * Every name a payload may use, saying which apply to `trigger`. Without a trigger every row
 * applies; a trigger Herald does not know gets only the rows that apply to all triggers
 * (callers validate the trigger with isTriggerName first).
 */
export function variablesForTrigger(trigger?: string): VariableInfo[] {
  const rows = [...VARIABLE_NAMES.map((name) => ({ name, ...VARIABLE_SPECS[name] })), ...PATTERN_ROWS];
  return rows.map(({ name, description, triggers }) => ({
    name,
    description,
    applies: trigger === undefined || triggers === 'all' || (triggers as readonly string[]).includes(trigger),
  }));
}
