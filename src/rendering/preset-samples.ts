import type { HeraldEvent } from '../events/event.types';
import type { MatchedMetric } from '../automations/triggers';
import { buildVariables } from './build-variables';
import type { RenderContext } from './render-context';

/**
 * Sample events for preset tests and documentation: at least one of every event type, with
 * the optional fields a real platform sends (run URLs, artifact aliases, tags and metadata).
 */
export function sampleEvents(): HeraldEvent[] {
  const run = { id: 'r42', name: 'bert-base-lr3e-4', url: 'https://ml.example.com/llm-finetune/runs/r42' };
  const artifact = {
    name: 'bert-classifier:v3',
    version: 'v3',
    collection: 'bert-classifier',
    id: 'art_7f3a',
    type: 'model',
    metadata: { accuracy: 0.91, framework: 'pytorch', labels: ['pos', 'neg'] },
    aliases: ['latest', 'staging'],
    tags: ['nlp'],
  };
  const base = { occurredAt: '2026-11-22T08:00:00Z', project: 'llm-finetune', author: 'alice' };
  return [
    { ...base, id: 'evt_metrics', type: 'RUN_METRICS', run: { ...run, state: 'RUNNING' }, step: 1200, metrics: { 'val/loss': 0.183, 'val/acc': 0.91 } },
    { ...base, id: 'evt_state_finished', type: 'RUN_STATE', run: { ...run, state: 'FINISHED' } },
    { ...base, id: 'evt_state_running', type: 'RUN_STATE', run: { id: 'r43', name: 'bert-large', state: 'RUNNING' } },
    { ...base, id: 'evt_state_failed', type: 'RUN_STATE', run: { ...run, state: 'FAILED' } },
    { ...base, id: 'evt_state_crashed', type: 'RUN_STATE', run: { ...run, state: 'CRASHED' } },
    { ...base, id: 'evt_state_killed', type: 'RUN_STATE', run: { ...run, state: 'KILLED' } },
    { ...base, id: 'evt_stale', type: 'RUN_STALE', run: { id: 'r43', name: 'bert-large', state: 'RUNNING' }, lastSeenAt: '2026-11-22T07:50:00.000Z', staleSeconds: 600 },
    { ...base, id: 'evt_log', type: 'RUN_LOG', run, lines: ['epoch 3 done', 'CUDA error: out of memory', 'exiting'] },
    { ...base, id: 'evt_alert', type: 'ALERT', title: 'Loss diverged', level: 'ERROR', text: 'val/loss went from 0.18 to 7.2 in 100 steps', run },
    { ...base, id: 'evt_alert_info', type: 'ALERT', title: 'Checkpoint saved', level: 'INFO' },
    { ...base, id: 'evt_create', type: 'CREATE_ARTIFACT', artifact, run },
    { ...base, id: 'evt_link', type: 'LINK_ARTIFACT', registry: true, project: 'model-registry', artifact },
    { ...base, id: 'evt_unlink', type: 'UNLINK_ARTIFACT', registry: true, project: 'model-registry', artifact: { name: 'x:v1', version: 'v1', collection: 'x' } },
    { ...base, id: 'evt_alias_add', type: 'ADD_ARTIFACT_ALIAS', artifact, alias: 'prod', run },
    { ...base, id: 'evt_alias_remove', type: 'REMOVE_ARTIFACT_ALIAS', artifact, alias: 'staging' },
    { ...base, id: 'evt_tag_add', type: 'ADD_ARTIFACT_TAG', artifact, tag: 'reviewed' },
    { ...base, id: 'evt_tag_remove', type: 'REMOVE_ARTIFACT_TAG', artifact, tag: 'nlp' },
    { ...base, id: 'evt_collection_tag_add', type: 'ADD_COLLECTION_TAG', collection: { name: 'llm-models', type: 'model' }, tag: 'reviewed' },
    { ...base, id: 'evt_collection_tag_remove', type: 'REMOVE_COLLECTION_TAG', collection: { name: 'llm-models' }, tag: 'reviewed' },
    ...operationalSamples(),
  ];
}

/** WEBHOOK_DISABLED and DELIVERY_FAILED as Herald emits them (operational-events.ts). */
export function operationalSamples(): HeraldEvent[] {
  const webhook = { id: 'wh_01JWEBHOOK', name: 'deploy-hook' };
  const delivery = {
    id: 'msg_01JFAILED',
    series: 1,
    attempts: 8,
    automationId: 'aut_9',
    automationName: 'deploy-on-prod',
    eventId: 'evt_alias_add',
    eventType: 'ADD_ARTIFACT_ALIAS',
  };
  const base = { occurredAt: '2026-11-22T08:00:00Z', author: 'herald' };
  return [
    {
      ...base,
      id: 'herald:webhook-disabled:wh_01JWEBHOOK:msg_01JFAILED.1.1',
      type: 'WEBHOOK_DISABLED',
      project: 'herald',
      webhook,
      reason: 'gone',
      delivery: { ...delivery, attempts: 1 },
      statusCode: 410,
      error: 'HTTP 410',
    },
    {
      ...base,
      id: 'herald:delivery-failed:msg_01JFAILED.1',
      type: 'DELIVERY_FAILED',
      project: 'model-registry',
      webhook,
      delivery,
      statusCode: 503,
      error: 'HTTP 503: upstream unavailable',
    },
  ];
}

/**
 * docs/design.md › Webhooks, test sends: the fixed sample a webhook's default preset is rendered over
 * (`RUN_STATE` FINISHED of run `herald-test` in project `herald`).
 */
export function testSendEvent(): HeraldEvent {
  return {
    id: 'evt_herald_test',
    type: 'RUN_STATE',
    occurredAt: '2026-01-01T00:00:00Z',
    project: 'herald',
    author: 'herald',
    run: { id: 'herald-test', name: 'herald-test', state: 'FINISHED' },
  };
}

export interface SampleContextOptions {
  team?: { id: string; name: string };
  /** Null renders as a test send. */
  automation?: { id: string; name: string } | null;
  deliveryId?: string;
  /** Metric trigger info (null: none); by default RUN_METRICS events get their first metric. */
  metric?: MatchedMetric | null;
  /** The matching log line (null: none); by default RUN_LOG events get their first "error" line. */
  logLine?: string | null;
}

/**
 * A RenderContext for an event, as the renderer gets it: RUN_METRICS events carry the
 * trigger's metric (the event's first metric against a threshold), RUN_LOG events the line
 * a `lineRegex` matched (the one containing "error", else the first).
 */
export function sampleContext(event: HeraldEvent, opts: SampleContextOptions = {}): RenderContext {
  const team = opts.team ?? { id: 'team_1', name: 'acme' };
  const automation = opts.automation === undefined ? { id: 'aut_1', name: 'notify-ml-team' } : opts.automation;
  const deliveryId = opts.deliveryId ?? 'msg_01JDELIVERY';
  let metric: MatchedMetric | undefined;
  if (opts.metric !== undefined) metric = opts.metric ?? undefined;
  else if (event.type === 'RUN_METRICS') {
    const [name, posted] = Object.entries(event.metrics ?? {})[0] ?? ['val/loss', 0];
    metric = { name, value: Number(posted), threshold: 0.2 };
  }
  let logLine: string | null = null;
  if (opts.logLine !== undefined) logLine = opts.logLine;
  else if (event.type === 'RUN_LOG') {
    const lines = event.lines ?? [];
    logLine = lines.find((l) => /error/i.test(l)) ?? lines[0] ?? null;
  }
  const variables = buildVariables({ event, team, automation, deliveryId, metric, logLine });
  return { variables, event, team, automation, deliveryId };
}
