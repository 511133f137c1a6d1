import { createHmac } from 'node:crypto';
import { type PostedEvent, validateEventBatch } from '../../src/events/event-validation';
import type { Mapping } from '../../src/sources/senders/sender';

/**
 * The sending side of each platform a source receives from, written from the senders' own code
 * and documents (never from Herald's): how each one serialises, signs and authenticates a
 * webhook, and payloads copied from their documentation and test fixtures. Used by the sender
 * unit specs and by test/sources.e2e-spec.ts.
 */

/** Python's `json.dumps(obj)` with its defaults: `", "` and `": "` separators, non-ASCII escaped. */
export function pythonJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value).map(([k, v]) => `${asciiString(k)}: ${pythonJson(v)}`).join(', ')}}`;
  }
  return typeof value === 'string' ? asciiString(value) : JSON.stringify(value);
}

function asciiString(text: string): string {
  return JSON.stringify(text).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * MLflow (`mlflow/webhooks/delivery.py`, `_send_webhook_request`): the body is
 * `json.dumps({"entity", "action", "timestamp": datetime.now(timezone.utc).isoformat(), "data"})`;
 * headers X-MLflow-Delivery-Id (uuid4), X-MLflow-Timestamp (int(time.time())) and
 * X-MLflow-Signature "v1," + base64 HMAC-SHA256(secret.encode("utf-8"), f"{id}.{ts}.{payload}").
 */
export function mlflowDelivery(
  secret: string,
  event: { entity: string; action: string; data: object; timestamp?: string },
  deliveryId: string,
  timestampSeconds: number,
): { headers: Record<string, string>; body: string } {
  const body = pythonJson({
    entity: event.entity,
    action: event.action,
    timestamp: event.timestamp ?? new Date(timestampSeconds * 1000).toISOString().replace('Z', '000+00:00'),
    data: event.data,
  });
  const signature = createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${deliveryId}.${timestampSeconds}.${body}`, 'utf8').digest('base64');
  return {
    headers: {
      'Content-Type': 'application/json',
      'X-MLflow-Delivery-Id': deliveryId,
      'X-MLflow-Timestamp': String(timestampSeconds),
      'X-MLflow-Signature': `v1,${signature}`,
    },
    body,
  };
}

/**
 * Determined (`master/internal/webhooks/shipper.go`, generateSignedPayload; the Determined webhook docs):
 * the body is Go's `json.Marshal` of EventPayload (compact, fields in struct order);
 * X-Determined-AI-Signature-Timestamp and X-Determined-AI-Signature = hex HMAC-SHA256(key,
 * `${ts},${body}`), Content-Type "application/json; charset=UTF-8".
 */
export function determinedDelivery(key: string, payload: object, timestampSeconds: number): { headers: Record<string, string>; body: string } {
  const body = JSON.stringify(payload);
  return {
    headers: {
      'Content-Type': 'application/json; charset=UTF-8',
      'X-Determined-AI-Signature-Timestamp': String(timestampSeconds),
      'X-Determined-AI-Signature': createHmac('sha256', key).update(`${timestampSeconds},${body}`, 'utf8').digest('hex'),
    },
    body,
  };
}

/** Determined's EventPayload (`webhook.go`) for an experiment, fields in struct order. */
export function determinedExperimentEvent(
  eventId: string,
  eventType: 'EXPERIMENT_STATE_CHANGE' | 'CUSTOM',
  experiment: { id: number; state: string; name: string; project: string },
  timestamp: number,
  customData?: { title: string; description: string; level: string },
): object {
  return {
    event_id: eventId,
    event_type: eventType,
    timestamp,
    condition: { state: experiment.state },
    event_data: {
      experiment: {
        id: experiment.id,
        state: experiment.state,
        name: experiment.name,
        duration: 41,
        resource_pool: 'default',
        slots_per_trial: 2,
        workspace: 'test workspace',
        project: experiment.project,
      },
      ...(customData ? { custom_data: customData } : {}),
    },
  };
}

/** Hugging Face (hub-docs `docs/hub/webhooks.md`): the secret verbatim as X-Webhook-Secret. */
export function huggingfaceDelivery(secret: string, payload: object): { headers: Record<string, string>; body: string } {
  return { headers: { 'Content-Type': 'application/json', 'X-Webhook-Secret': secret }, body: JSON.stringify(payload) };
}

/**
 * A `repo.content` update as hub-docs `docs/hub/webhooks.md` shows its parts: the "Repo" example
 * (model some-user/some-repo, headSha c379e821…) and the "Code changes" updatedRefs example
 * (main moved ce9a4674… → 575db8b7…, tag `test` created at 575db8b7…).
 */
export function huggingfaceRepoContentUpdate(updatedRefs?: object[]): object {
  return {
    event: { action: 'update', scope: 'repo.content' },
    repo: {
      type: 'model',
      name: 'some-user/some-repo',
      id: '6366c000a2abcdf2fd69a080',
      private: false,
      url: { web: 'https://huggingface.co/some-user/some-repo', api: 'https://huggingface.co/api/models/some-user/some-repo' },
      headSha: 'c379e821c9c95d613899e8c4343e4bfee2b0c600',
      tags: ['license:other', 'has_space'],
      owner: { id: '61d2000c3c2083e1c08af22d' },
    },
    ...(updatedRefs ? { updatedRefs } : {}),
    webhook: { id: '6390e855e30d9209411de93b', version: 3 },
  };
}

export const HF_CODE_CHANGES = [
  { ref: 'refs/heads/main', oldSha: 'ce9a4674fa833a68d5a73ec355f0ea95eedd60b7', newSha: '575db8b7a51b6f85eb06eee540738584589f131c' },
  { ref: 'refs/tags/test', oldSha: null, newSha: '575db8b7a51b6f85eb06eee540738584589f131c' },
];

/** The Pull Request example of hub-docs `docs/hub/webhooks.md` (scope `discussion`). */
export const HF_PULL_REQUEST_OPENED = {
  event: { action: 'create', scope: 'discussion' },
  repo: {
    type: 'model',
    name: 'openai-community/gpt2',
    id: '621ffdc036468d709f17434d',
    private: false,
    url: { web: 'https://huggingface.co/openai-community/gpt2', api: 'https://huggingface.co/api/models/openai-community/gpt2' },
    owner: { id: '628b753283ef59b5be89e937' },
  },
  discussion: {
    id: '6399f58518721fdd27fc9ca9',
    title: 'Update co2 emissions',
    url: { web: 'https://huggingface.co/openai-community/gpt2/discussions/19', api: 'https://huggingface.co/api/models/openai-community/gpt2/discussions/19' },
    status: 'open',
    author: { id: '61d2f90c3c2083e1c08af22d' },
    num: 19,
    isPullRequest: true,
    changes: { base: 'refs/heads/main' },
  },
  webhook: { id: '6390e855e30d9209411de93b', version: 3 },
};

/** W&B (the W&B automations docs): the access token as `Authorization: Bearer`; the body is the rendered template. */
export function wandbDelivery(accessToken: string, rendered: object): { headers: Record<string, string>; body: string } {
  return { headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${accessToken}` }, body: JSON.stringify(rendered) };
}

/**
 * What W&B sends for a template: each `${variable}` replaced by its value, blank when it does not
 * apply (the payload variables table of the W&B automations docs). The values are the example mapping in the W&B automations docs.
 */
export function renderWandbTemplate(template: string, values: Record<string, string>): object {
  const rendered = template.replace(/\$\{([a-z_]+)\}/g, (_, name: string) => values[name] ?? '');
  return JSON.parse(rendered) as object;
}

/** Seed 004's example rendering for an alias added to a registered model (entity `acme`). */
export const WANDB_ALIAS_ADDED: Record<string, string> = {
  event_type: 'ADD_ARTIFACT_ALIAS',
  event_author: 'wandb-user',
  artifact_version: 'wandb-artifact://_id/QXJ0aWZhY3Q6NTE3ODg5ODg3',
  artifact_version_string: 'acme/model-registry/registered-model:production',
  artifact_collection_name: 'registered-model',
  project_name: 'model-registry',
  entity_name: 'acme',
  alias: 'production',
};

/** Seed 002's example message: a completed Valohai execution. */
export const VALOHAI_EXECUTION_COMPLETED = {
  project: '016f3203-4a8c-969e-078c-52ab66947746',
  title: 'Execution finished: demo/cool-tensorflow/#736 (completed)',
  type: 'execution_completed',
  body: 'Execution [demo/cool-tensorflow/#736](https://app.demo.com/p/valohai/cool-tensorflow/execution/0178f482-8686-fb28-8af1-3d36af38079d/) (by demouser)\nfinished with duration 11:01.',
  url: '/p/demo/cool-tensorflow/execution/0178f482-8686-fb28-8af1-3d36af38079d/',
  data: {
    'valohai.execution-counter': 736,
    'valohai.execution-ctime': '2021-04-21T12:58:18.119973+00:00',
    'valohai.execution-duration': 660.0186445713043,
    'valohai.execution-id': '0178f482-8686-fb28-8af1-3d36af38079d',
    'valohai.execution-qtime': '2021-04-21T12:58:18.201116+00:00',
    'valohai.execution-status': 'complete',
    'valohai.execution-step': 'Train model (MNIST)',
    'valohai.execution-title': null,
    'valohai.project-id': '016f3203-4a8c-969e-078c-52ab66947746',
    'valohai.project-name': 'demo/cool-tensorflow',
    'valohai.creator-id': 3323,
    'valohai.creator-name': 'demouser',
    'valohai.commit-identifier': '4d34124453b680daa0ecb881bcf1bd735a3bf99d',
  },
};

/** A sender's request as Herald's receiver sees it: header names lower-cased, as Node gives them. */
export function asReceived(request: { headers: Record<string, string>; body: string }, token: string | null = null) {
  return {
    headers: Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v])) as Record<string, string>,
    body: request.body,
    token,
  };
}

/** The events of a mapping that must give events, each passing Herald's own validation of POST /v1/events. */
export function validEvents(mapping: Mapping): PostedEvent[] {
  if (mapping.outcome !== 'events') throw new Error(`expected events, got ${mapping.outcome}: ${mapping.reason}`);
  const validation = validateEventBatch(mapping.events);
  if (!validation.ok) throw new Error(`the mapped events are invalid: ${JSON.stringify(validation.problems)}`);
  return mapping.events;
}
