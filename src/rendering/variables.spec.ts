import { TRIGGER_NAMES, isTriggerName } from '../automations/triggers';
import { ARTIFACT_EVENT_TYPES } from '../events/event.types';
import { METADATA_KEY_PATTERN, SECRET_NAME_PATTERN, VARIABLE_NAMES, isVariableName, variablesForTrigger } from './variables';

function applying(trigger?: string): string[] {
  return variablesForTrigger(trigger)
    .filter((row) => row.applies)
    .map((row) => row.name);
}

const ALWAYS = [
  'event_type',
  'event_id',
  'event_author',
  'timestamp',
  'project_name',
  'entity_name',
  'automation_name',
  'delivery_id',
  'ACCESS_TOKEN',
  '<SECRET_NAME>',
];
const RUN = ['run_id', 'run_name', 'run_state', 'run_url', 'run_group', 'run_tags', 'run_config.<KEY>'];

describe('variable table', () => {
  it('lists every variable of the table in its order', () => {
    expect(VARIABLE_NAMES).toEqual([
      'event_type',
      'event_id',
      'event_author',
      'timestamp',
      'project_name',
      'entity_name',
      'automation_name',
      'delivery_id',
      'run_id',
      'run_name',
      'run_state',
      'run_url',
      'run_group',
      'run_tags',
      'group_runs_total',
      'group_runs_finished',
      'group_runs_failed',
      'run_last_seen',
      'stale_seconds',
      'metric_name',
      'metric_value',
      'metric_threshold',
      'metric_change',
      'metric_zscore',
      'metric_step',
      'log_line',
      'alert_title',
      'alert_text',
      'alert_level',
      'alias',
      'tag',
      'artifact_collection_name',
      'collection_type',
      'artifact_version',
      'artifact_version_string',
      'webhook_id',
      'webhook_name',
      'disabled_reason',
      'attempts',
      'status_code',
      'error',
    ]);
  });

  it.each(['run_name', 'artifact_version_string', 'metric_value'])('knows %s', (name) => {
    expect(isVariableName(name)).toBe(true);
  });

  it.each(['artifact_metadata', 'constructor', '__proto__', 'hasOwnProperty', 'RUN_NAME', ''])('does not know %j', (name) => {
    expect(isVariableName(name)).toBe(false);
  });

  it('knows every trigger', () => {
    expect(TRIGGER_NAMES).toHaveLength(19);
    expect(isTriggerName('RUN_METRIC_ZSCORE')).toBe(true);
    expect(isTriggerName('RUN_METRICS')).toBe(false);
    expect(isTriggerName('toString')).toBe(false);
  });

  it.each(['val/loss', 'eval.f1', 'a-b_c', 'X9'])('accepts metadata key %s', (key) => {
    expect(METADATA_KEY_PATTERN.test(key)).toBe(true);
  });

  it.each(['', 'a b', 'a"b', 'a}b', 'é'])('refuses metadata key %j', (key) => {
    expect(METADATA_KEY_PATTERN.test(key)).toBe(false);
  });

  it.each([
    ['A', true],
    ['MY_SECRET_2', true],
    ['ACCESS_TOKEN', true],
    ['a', false],
    ['_A', false],
    ['2A', false],
    ['Ab', false],
  ])('secret name %s valid: %s', (name, valid) => {
    expect(SECRET_NAME_PATTERN.test(name)).toBe(valid);
  });
});

describe('variablesForTrigger', () => {
  it('marks every row as applying without a trigger', () => {
    const rows = variablesForTrigger();
    expect(rows.every((row) => row.applies)).toBe(true);
    expect(rows.map((row) => row.name)).toEqual([...VARIABLE_NAMES, 'artifact_metadata.<KEY>', 'run_config.<KEY>', 'ACCESS_TOKEN', '<SECRET_NAME>']);
  });

  it('describes every row', () => {
    for (const row of variablesForTrigger()) expect(row.description.length).toBeGreaterThan(5);
  });

  it('gives an unknown trigger only the rows that apply to all', () => {
    expect(applying('NOPE').sort()).toEqual([...ALWAYS].sort());
  });

  it('gives RUN_METRIC_THRESHOLD the run and metric variables, not change or z-score', () => {
    expect(applying('RUN_METRIC_THRESHOLD').sort()).toEqual(
      [...ALWAYS, ...RUN, 'metric_name', 'metric_value', 'metric_threshold', 'metric_step'].sort(),
    );
  });

  it('gives RUN_METRIC_CHANGE metric_change and RUN_METRIC_ZSCORE metric_zscore', () => {
    expect(applying('RUN_METRIC_CHANGE')).toContain('metric_change');
    expect(applying('RUN_METRIC_CHANGE')).not.toContain('metric_zscore');
    expect(applying('RUN_METRIC_ZSCORE')).toContain('metric_zscore');
    expect(applying('RUN_METRIC_ZSCORE')).not.toContain('metric_change');
  });

  it('gives RUN_STATE the run variables only', () => {
    expect(applying('RUN_STATE').sort()).toEqual([...ALWAYS, ...RUN].sort());
  });

  it('gives RUN_LOG_MATCH log_line', () => {
    expect(applying('RUN_LOG_MATCH').sort()).toEqual([...ALWAYS, ...RUN, 'log_line'].sort());
  });

  it('gives RUN_STALE run_last_seen and stale_seconds, RUN_GROUP_FINISHED the group counts, both with the run context', () => {
    expect(applying('RUN_STALE').sort()).toEqual([...ALWAYS, ...RUN, 'run_last_seen', 'stale_seconds'].sort());
    expect(applying('RUN_GROUP_FINISHED').sort()).toEqual([...ALWAYS, ...RUN, 'group_runs_total', 'group_runs_finished', 'group_runs_failed'].sort());
  });

  it('gives the collection-tag triggers tag, the collection name and type, no artifact version', () => {
    expect(applying('ADD_COLLECTION_TAG').sort()).toEqual([...ALWAYS, 'tag', 'artifact_collection_name', 'collection_type'].sort());
  });

  it('gives ALERT the alert variables and the run ones', () => {
    expect(applying('ALERT').sort()).toEqual([...ALWAYS, ...RUN, 'alert_title', 'alert_text', 'alert_level'].sort());
  });

  const artifact = ['artifact_collection_name', 'artifact_version', 'artifact_version_string', 'artifact_metadata.<KEY>'];
  it.each(ARTIFACT_EVENT_TYPES)('gives %s the artifact variables', (trigger) => {
    const names = applying(trigger);
    for (const name of [...ALWAYS, ...RUN, ...artifact]) expect(names).toContain(name);
    expect(names).not.toContain('metric_value');
    expect(names).not.toContain('log_line');
  });

  it('gives the operational triggers the webhook and failure variables, not the run ones', () => {
    const common = ['webhook_id', 'webhook_name', 'attempts', 'status_code', 'error'];
    expect(applying('WEBHOOK_DISABLED').sort()).toEqual([...ALWAYS, ...common, 'disabled_reason'].sort());
    expect(applying('DELIVERY_FAILED').sort()).toEqual([...ALWAYS, ...common].sort());
    for (const trigger of ['ALERT', 'RUN_STATE', 'CREATE_ARTIFACT']) expect(applying(trigger)).not.toContain('webhook_name');
  });

  it('gives alias only to alias triggers and tag only to tag triggers', () => {
    expect(applying('ADD_ARTIFACT_ALIAS')).toContain('alias');
    expect(applying('REMOVE_ARTIFACT_ALIAS')).toContain('alias');
    expect(applying('ADD_ARTIFACT_ALIAS')).not.toContain('tag');
    expect(applying('ADD_ARTIFACT_TAG')).toContain('tag');
    expect(applying('REMOVE_ARTIFACT_TAG')).toContain('tag');
    expect(applying('CREATE_ARTIFACT')).not.toContain('alias');
    expect(applying('CREATE_ARTIFACT')).not.toContain('tag');
  });
});
