import type { HeraldEvent } from '../events/event.types';
import { type VariableSources, buildVariables } from './build-variables';
import { VARIABLE_NAMES } from './variables';

const team = { id: 'team_1', name: 'acme' };
const automation = { id: 'aut_1', name: 'promote' };

function event(overrides: Partial<HeraldEvent>): HeraldEvent {
  return { id: 'evt_1', type: 'RUN_STATE', occurredAt: '2026-11-22T08:00:00.000Z', project: 'llm', ...overrides };
}

function build(overrides: Partial<HeraldEvent>, sources: Partial<VariableSources> = {}) {
  return buildVariables({ event: event(overrides), team, automation, deliveryId: 'msg_1', ...sources });
}

const artifact = { name: 'model:v3', version: 'v3', collection: 'model', metadata: { 'val/loss': 0.2 } };

describe('buildVariables', () => {
  it('fills the operational variables from WEBHOOK_DISABLED and DELIVERY_FAILED; delivery_id is the delivery they are about', () => {
    const webhook = { id: 'wh_1', name: 'deploy' };
    const delivery = { id: 'msg_failed', series: 2, attempts: 8, eventType: 'ALERT' };
    expect(build({ type: 'DELIVERY_FAILED', webhook, delivery, statusCode: 503, error: 'HTTP 503' })).toMatchObject({
      delivery_id: 'msg_failed',
      webhook_id: 'wh_1',
      webhook_name: 'deploy',
      attempts: 8,
      status_code: 503,
      error: 'HTTP 503',
      disabled_reason: null,
    });
    expect(build({ type: 'WEBHOOK_DISABLED', webhook, reason: 'failing', error: 'timeout' })).toMatchObject({
      delivery_id: 'msg_1',
      disabled_reason: 'failing',
      status_code: null,
      attempts: null,
    });
    expect(build({})).toMatchObject({ webhook_id: null, webhook_name: null, disabled_reason: null, attempts: null, status_code: null, error: null });
  });


  it('fills run_group, run_tags and run_config from the run context Herald keeps, else from the event', () => {
    const posted = { id: 'r1', name: 'n', group: 'posted', tags: ['x'], config: { lr: 1 } };
    expect(build({ run: posted })).toMatchObject({ run_group: 'posted', run_tags: 'x', run_config: { lr: 1 } });
    const kept = { group: 'sweep-7', tags: ['a', 'b'], config: { lr: 0.1 } };
    expect(build({ run: { id: 'r1', name: 'n' } }, { runContext: kept })).toMatchObject({ run_group: 'sweep-7', run_tags: 'a,b', run_config: { lr: 0.1 } });
    expect(build({ run: { id: 'r1', name: 'n' } })).toMatchObject({ run_group: null, run_tags: null, run_config: {} });
    expect(build({})).toMatchObject({ run_group: null, run_tags: null, run_config: null });
  });

  it('fills the variables of every event', () => {
    expect(build({ author: 'alice' })).toMatchObject({
      event_type: 'RUN_STATE',
      event_id: 'evt_1',
      event_author: 'alice',
      timestamp: '2026-11-22T08:00:00.000Z',
      project_name: 'llm',
      entity_name: 'acme',
      automation_name: 'promote',
      delivery_id: 'msg_1',
    });
  });

  it('fills every variable of the table, null when it does not apply', () => {
    const variables = build({});
    for (const name of VARIABLE_NAMES) expect(variables).toHaveProperty(name);
    expect(variables).toMatchObject({ event_author: null, run_id: null, metric_value: null, alias: null, artifact_metadata: null });
  });

  it('leaves automation_name and delivery_id null for a test send', () => {
    expect(build({}, { automation: null, deliveryId: null })).toMatchObject({ automation_name: null, delivery_id: null });
  });

  it('takes the run variables from the run', () => {
    expect(build({ run: { id: 'r42', name: 'bert', state: 'FAILED', url: 'https://x/r42' } })).toMatchObject({
      run_id: 'r42',
      run_name: 'bert',
      run_state: 'FAILED',
      run_url: 'https://x/r42',
    });
    expect(build({ run: { id: 'r42', name: 'bert' } })).toMatchObject({ run_state: null, run_url: null });
  });

  it('takes the metric variables from the matched metric and the step from RUN_METRICS', () => {
    const variables = build(
      { type: 'RUN_METRICS', step: 1200, run: { id: 'r', name: 'n' } },
      { metric: { name: 'val/loss', value: 0.18, threshold: 0.2, change: 0.05, zscore: 3.1 } },
    );
    expect(variables).toMatchObject({
      metric_name: 'val/loss',
      metric_value: 0.18,
      metric_threshold: 0.2,
      metric_change: 0.05,
      metric_zscore: 3.1,
      metric_step: 1200,
    });
  });

  it('keeps a non-finite metric value and leaves what the trigger lacks null', () => {
    const variables = build({ type: 'RUN_METRICS' }, { metric: { name: 'loss', value: Number.NaN, threshold: null } });
    expect(variables.metric_value).toBeNaN();
    expect(variables).toMatchObject({ metric_threshold: null, metric_change: null, metric_zscore: null, metric_step: null });
  });

  it('keeps a zero metric value and step', () => {
    expect(build({ type: 'RUN_METRICS', step: 0 }, { metric: { name: 'm', value: 0, threshold: 0 } })).toMatchObject({
      metric_value: 0,
      metric_threshold: 0,
      metric_step: 0,
    });
  });

  it('sets metric_step for RUN_METRICS events only', () => {
    expect(build({ type: 'RUN_LOG', step: 3 }).metric_step).toBeNull();
  });

  it('takes log_line from the match', () => {
    expect(build({ type: 'RUN_LOG' }, { logLine: 'CUDA out of memory' }).log_line).toBe('CUDA out of memory');
    expect(build({ type: 'RUN_LOG' }).log_line).toBeNull();
  });

  it('fills the alert variables for ALERT events only', () => {
    expect(build({ type: 'ALERT', title: 'Loss spike', text: 'see run', level: 'WARN' })).toMatchObject({
      alert_title: 'Loss spike',
      alert_text: 'see run',
      alert_level: 'WARN',
    });
    expect(build({ type: 'ALERT', title: 'T', level: 'INFO' }).alert_text).toBeNull();
    expect(build({ type: 'RUN_STATE', title: 'T', level: 'INFO' })).toMatchObject({ alert_title: null, alert_level: null });
  });

  it('fills the artifact variables, with the version in the version string', () => {
    expect(build({ type: 'CREATE_ARTIFACT', artifact })).toMatchObject({
      artifact_collection_name: 'model',
      artifact_version: 'v3',
      artifact_version_string: 'acme/llm/model:v3',
      artifact_metadata: { 'val/loss': 0.2 },
      alias: null,
      tag: null,
    });
  });

  it('puts the alias in the version string of alias events', () => {
    for (const type of ['ADD_ARTIFACT_ALIAS', 'REMOVE_ARTIFACT_ALIAS'] as const) {
      expect(build({ type, artifact, alias: 'prod' })).toMatchObject({ alias: 'prod', artifact_version_string: 'acme/llm/model:prod' });
    }
  });

  it('fills tag for tag events, keeping the version in the version string', () => {
    for (const type of ['ADD_ARTIFACT_TAG', 'REMOVE_ARTIFACT_TAG'] as const) {
      expect(build({ type, artifact, tag: 'golden' })).toMatchObject({ tag: 'golden', alias: null, artifact_version_string: 'acme/llm/model:v3' });
    }
  });

  it('ignores alias and tag on events of other types', () => {
    expect(build({ type: 'LINK_ARTIFACT', artifact, alias: 'prod', tag: 'x' })).toMatchObject({
      alias: null,
      tag: null,
      artifact_version_string: 'acme/llm/model:v3',
    });
  });

  it('gives empty metadata to an artifact without metadata', () => {
    expect(build({ type: 'CREATE_ARTIFACT', artifact: { name: 'm', version: 'v1', collection: 'm' } }).artifact_metadata).toEqual({});
  });

  it('fills the run variables of an artifact event that carries a run', () => {
    expect(build({ type: 'CREATE_ARTIFACT', artifact, run: { id: 'r1', name: 'n1' } })).toMatchObject({ run_id: 'r1', run_name: 'n1' });
  });
});
