import { Webhook } from 'standardwebhooks';
import { asReceived, mlflowDelivery, validEvents } from '../../../test/support/senders';
import { mlflowSender } from './mlflow';
import type { InboundRequest } from './sender';

const SECRET = 'mlflow-webhook-secret';
const NOW = 1_754_000_000;
const ID = '0b4b9b56-57a2-4a0e-9d9c-2c61f3c1b3a1';
const context = { sourceId: 'src_1', project: 'registry' };

/** A delivery signed with MLflow's recipe (test/support/senders.ts, from mlflow/webhooks/delivery.py). */
function mlflowRequest(entity: string, action: string, data: object, options: { secret?: string; id?: string; timestamp?: number } = {}): InboundRequest {
  const event = { entity, action, data, timestamp: '2025-07-31T12:34:56.789012+00:00' };
  return asReceived(mlflowDelivery(options.secret ?? SECRET, event, options.id ?? ID, options.timestamp ?? NOW));
}

describe('mlflow sender: authentication', () => {
  const signed = mlflowRequest('model_version', 'created', { name: 'example_model', version: '1' });

  it('accepts a request signed with MLflow\'s recipe', () => {
    expect(mlflowSender.authenticate(signed, SECRET, NOW)).toEqual({ ok: true });
  });

  it('the recipe agrees with an independent implementation (the standardwebhooks library over the secret\'s raw bytes)', () => {
    expect(signed.headers['x-mlflow-signature']).toBe(new Webhook(SECRET, { format: 'raw' }).sign(ID, new Date(NOW * 1000), signed.body));
  });

  it('refuses another secret, an altered body, id or timestamp', () => {
    expect(mlflowSender.authenticate(signed, 'other-secret', NOW)).toEqual({ ok: false, reason: expect.stringMatching(/X-MLflow-Signature header does not match/) });
    expect(mlflowSender.authenticate({ ...signed, body: signed.body.replace('"1"', '"2"') }, SECRET, NOW).ok).toBe(false);
    expect(mlflowSender.authenticate({ ...signed, headers: { ...signed.headers, 'x-mlflow-delivery-id': 'other' } }, SECRET, NOW).ok).toBe(false);
    expect(mlflowSender.authenticate({ ...signed, headers: { ...signed.headers, 'x-mlflow-timestamp': String(NOW + 1) } }, SECRET, NOW + 1).ok).toBe(false);
  });

  it('names a missing header', () => {
    for (const name of ['X-MLflow-Signature', 'X-MLflow-Delivery-Id', 'X-MLflow-Timestamp']) {
      const headers = { ...signed.headers };
      delete headers[name.toLowerCase()];
      expect(mlflowSender.authenticate({ ...signed, headers }, SECRET, NOW)).toEqual({ ok: false, reason: expect.stringContaining(`the ${name} header is missing`) });
    }
  });

  it('refuses a timestamp more than 5 minutes away, either way, and accepts one at 5 minutes', () => {
    const at = (timestamp: number) => mlflowSender.authenticate(mlflowRequest('model_version', 'created', {}, { timestamp }), SECRET, NOW);
    expect(at(NOW - 301)).toEqual({ ok: false, reason: expect.stringMatching(/301 s away/) });
    expect(at(NOW + 301).ok).toBe(false);
    expect(at(NOW - 300).ok).toBe(true);
  });

  it('takes the delivery id as the sender id of a receipt', () => {
    expect(mlflowSender.claimedId(signed)).toBe(ID);
  });
});

describe('mlflow sender: mapping (payloads: the example() of each class in mlflow/webhooks/types.py)', () => {
  const map = (entity: string, action: string, data: object, id = ID) => {
    const request = mlflowRequest(entity, action, data, { id });
    return mlflowSender.map(JSON.parse(request.body), request, context);
  };

  it('model_version.created → CREATE_ARTIFACT of a registry model, with source, run_id, description and tags as metadata', () => {
    const mapping = map('model_version', 'created', {
      name: 'example_model',
      version: '1',
      source: 'models:/123',
      run_id: 'abcd1234abcd5678',
      tags: { example_key: 'example_value' },
      description: 'An example model version',
    });
    expect(mapping).toMatchObject({ senderId: ID, senderEvent: 'model_version.created' });
    expect(validEvents(mapping)).toEqual([
      {
        id: ID,
        type: 'CREATE_ARTIFACT',
        project: 'registry',
        registry: true,
        occurredAt: '2025-07-31T12:34:56.789Z',
        artifact: {
          name: 'example_model',
          collection: 'example_model',
          version: '1',
          type: 'model',
          metadata: { example_key: 'example_value', source: 'models:/123', run_id: 'abcd1234abcd5678', description: 'An example model version' },
        },
      },
    ]);
  });

  it('model_version_alias.created / .deleted → ADD / REMOVE_ARTIFACT_ALIAS (deleted names no version: the alias stands for it)', () => {
    expect(validEvents(map('model_version_alias', 'created', { name: 'example_model', alias: 'example_alias', version: '1' }))[0]).toMatchObject({
      type: 'ADD_ARTIFACT_ALIAS',
      alias: 'example_alias',
      artifact: { name: 'example_model', collection: 'example_model', version: '1', type: 'model' },
    });
    expect(validEvents(map('model_version_alias', 'deleted', { name: 'example_model', alias: 'example_alias' }))[0]).toMatchObject({
      type: 'REMOVE_ARTIFACT_ALIAS',
      alias: 'example_alias',
      artifact: { version: 'example_alias' },
    });
  });

  it('model_version_tag.set / .deleted → ADD / REMOVE_ARTIFACT_TAG, the value in metadata', () => {
    expect(validEvents(map('model_version_tag', 'set', { name: 'example_model', version: '1', key: 'example_key', value: 'example_value' }))[0]).toMatchObject({
      type: 'ADD_ARTIFACT_TAG',
      tag: 'example_key',
      artifact: { version: '1', metadata: { example_key: 'example_value' } },
    });
    const removed = validEvents(map('model_version_tag', 'deleted', { name: 'example_model', version: '1', key: 'example_key' }))[0];
    expect(removed).toMatchObject({ type: 'REMOVE_ARTIFACT_TAG', tag: 'example_key' });
    expect(removed.artifact!.metadata).toBeUndefined();
  });

  it('prompt events map to the same artifact events with artifact type prompt', () => {
    const created = validEvents(
      map('prompt_version', 'created', {
        name: 'example_prompt',
        version: '1',
        template: 'Hello {{name}}!',
        tags: { example_key: 'example_value' },
        description: 'An example prompt version',
      }),
    )[0];
    expect(created).toMatchObject({
      type: 'CREATE_ARTIFACT',
      artifact: { name: 'example_prompt', type: 'prompt', metadata: { template: 'Hello {{name}}!', description: 'An example prompt version' } },
    });
    expect(validEvents(map('prompt_alias', 'created', { name: 'example_prompt', alias: 'example_alias', version: '1' }))[0]).toMatchObject({ type: 'ADD_ARTIFACT_ALIAS', artifact: { type: 'prompt' } });
    expect(validEvents(map('prompt_alias', 'deleted', { name: 'example_prompt', alias: 'example_alias' }))[0]).toMatchObject({ type: 'REMOVE_ARTIFACT_ALIAS' });
    expect(validEvents(map('prompt_version_tag', 'set', { name: 'example_prompt', version: '1', key: 'example_key', value: 'example_value' }))[0]).toMatchObject({ type: 'ADD_ARTIFACT_TAG', artifact: { type: 'prompt' } });
    expect(validEvents(map('prompt_version_tag', 'deleted', { name: 'example_prompt', version: '1', key: 'example_key' }))[0]).toMatchObject({ type: 'REMOVE_ARTIFACT_TAG' });
  });

  it.each([
    ['registered_model', 'created', { name: 'example_model', tags: { example_key: 'example_value' }, description: 'An example registered model' }],
    ['prompt', 'created', { name: 'example_prompt', tags: {}, description: null }],
    ['prompt_tag', 'set', { name: 'example_prompt', key: 'example_key', value: 'example_value' }],
    ['budget_policy', 'exceeded', {}],
    ['some_future_entity', 'updated', {}],
  ])('%s.%s has no Herald equivalent: ignored, with the reason', (entity, action, data) => {
    expect(map(entity, action, data)).toMatchObject({ outcome: 'ignored', senderEvent: `${entity}.${action}`, reason: expect.any(String) });
  });

  it('a body that is not MLflow\'s envelope, or a payload missing its fields, is invalid', () => {
    const request = mlflowRequest('model_version', 'created', {});
    expect(mlflowSender.map([], request, context)).toMatchObject({ outcome: 'invalid' });
    expect(mlflowSender.map({ entity: 'model_version' }, request, context)).toMatchObject({ outcome: 'invalid', reason: expect.stringMatching(/action, data missing/) });
    expect(map('model_version_alias', 'created', { name: 'm', version: '1' })).toMatchObject({ outcome: 'invalid', reason: expect.stringMatching(/data\.alias/) });
    expect(map('model_version', 'created', { version: '1' })).toMatchObject({ outcome: 'invalid', reason: expect.stringMatching(/data\.name/) });
  });

  it('an entity named like an Object property is ignored, not a crash', () => {
    expect(map('constructor', 'prototype', {})).toMatchObject({ outcome: 'ignored' });
    expect(map('model_version', 'created', { name: 'm', version: '1', tags: JSON.parse('{"__proto__": "x", "k": "v"}') })).toMatchObject({
      outcome: 'events',
      events: [{ artifact: { metadata: { k: 'v' } } }],
    });
  });

  it('a delivery id that is not a valid Herald event id is hashed into one', () => {
    expect(map('model_version', 'created', { name: 'm', version: '1' }, 'an id with spaces')).toMatchObject({ outcome: 'events', events: [{ id: expect.stringMatching(/^mlflow-[0-9a-f]{40}$/) }] });
  });
});
