import { WANDB_ALIAS_ADDED, asReceived, renderWandbTemplate, wandbDelivery, validEvents } from '../../../test/support/senders';
import { wandbSender, wandbSenderTemplate } from './wandb';

const TOKEN = 'wandb-access-token-value';
const context = { sourceId: 'src_wb', project: 'registry' };

describe('wandb sender: authentication (Authorization: Bearer <access token>, the W&B automations docs)', () => {
  const request = asReceived(wandbDelivery(TOKEN, { event_type: 'ADD_ARTIFACT_ALIAS' }));

  it('accepts the access token, refuses another or none', () => {
    expect(wandbSender.authenticate(request, TOKEN, 0)).toEqual({ ok: true });
    expect(wandbSender.authenticate(request, 'another-token', 0)).toEqual({ ok: false, reason: 'the Bearer token differs from this source\'s secret' });
    expect(wandbSender.authenticate({ ...request, headers: { authorization: 'Basic abc' } }, TOKEN, 0)).toEqual({
      ok: false,
      reason: expect.stringMatching(/Authorization: Bearer header is missing/),
    });
  });
});

describe('wandb sender: the sender template and its mapping', () => {
  const map = (values: Record<string, string>) => wandbSender.map(renderWandbTemplate(wandbSenderTemplate(), values), asReceived({ headers: {}, body: '' }), context);

  it('the template carries every variable the mapping reads, as W&B\'s ${variable} syntax, and is JSON', () => {
    const template = wandbSenderTemplate();
    for (const name of ['event_type', 'event_author', 'project_name', 'entity_name', 'alias', 'tag', 'artifact_collection_name', 'artifact_version_string']) {
      expect(template).toContain(`"\${${name}}"`);
    }
    expect(() => JSON.parse(template)).not.toThrow();
  });

  it('the alias example in the W&B automations docs → ADD_ARTIFACT_ALIAS on the collection, in a registry', () => {
    const mapping = map(WANDB_ALIAS_ADDED);
    const events = validEvents(mapping);
    expect(events).toEqual([
      {
        id: expect.stringMatching(/^wandb-[0-9a-f]{40}$/),
        type: 'ADD_ARTIFACT_ALIAS',
        project: 'registry',
        author: 'wandb-user',
        registry: true,
        alias: 'production',
        artifact: {
          name: 'registered-model',
          collection: 'registered-model',
          version: 'production',
          id: 'wandb-artifact://_id/QXJ0aWZhY3Q6NTE3ODg5ODg3',
          metadata: { artifact_version_string: 'acme/model-registry/registered-model:production', wandb_entity: 'acme', wandb_project: 'model-registry' },
        },
      },
    ]);
    expect(mapping.senderId).toBe(events[0].id);
    // The same rendered payload again (a retry) is the same event; another alias is another.
    expect(map(WANDB_ALIAS_ADDED)).toMatchObject({ events: [{ id: events[0].id }] });
    expect(map({ ...WANDB_ALIAS_ADDED, alias: 'staging' })).not.toMatchObject({ events: [{ id: events[0].id }] });
  });

  it.each([
    ['CREATE_ARTIFACT', 'CREATE_ARTIFACT'],
    ['LINK_ARTIFACT', 'LINK_ARTIFACT'],
    ['LINK_MODEL', 'LINK_ARTIFACT'],
    ['UPDATE_ARTIFACT_ALIAS', 'ADD_ARTIFACT_ALIAS'],
  ])('W&B %s → Herald %s', (wandbType, heraldType) => {
    const values = { ...WANDB_ALIAS_ADDED, event_type: wandbType, artifact_version_string: 'acme/llm/checkpoints:v3', project_name: 'llm' };
    const mapping = map(values);
    expect(mapping).toMatchObject({ outcome: 'events', events: [{ type: heraldType, artifact: { collection: 'registered-model', version: 'v3' } }] });
    expect(mapping.outcome === 'events' && mapping.events[0].registry).toBeUndefined();
  });

  it('ADD_ARTIFACT_TAG takes ${tag}', () => {
    expect(map({ ...WANDB_ALIAS_ADDED, event_type: 'ADD_ARTIFACT_TAG', alias: '', tag: 'candidate' })).toMatchObject({
      outcome: 'events',
      events: [{ type: 'ADD_ARTIFACT_TAG', tag: 'candidate' }],
    });
  });

  it('run events carry no run facts in a W&B payload: ignored, saying why', () => {
    for (const type of ['RUN_METRIC', 'RUN_STATE', 'RUN_METRIC_CHANGE', 'RUN_METRIC_ZSCORE']) {
      expect(map({ event_type: type, project_name: 'llm', entity_name: 'acme' })).toMatchObject({ outcome: 'ignored', senderEvent: type, reason: expect.stringMatching(/no run id, name or state/) });
    }
    expect(map({ event_type: 'constructor' })).toMatchObject({ outcome: 'ignored' });
  });

  it('a payload not made from the template, or missing what the event needs, is invalid', () => {
    expect(wandbSender.map({ text: 'New alert from WANDB!' }, asReceived({ headers: {}, body: '' }), context)).toMatchObject({ outcome: 'invalid' });
    expect(map({ ...WANDB_ALIAS_ADDED, alias: '' })).toMatchObject({ outcome: 'invalid', reason: expect.stringMatching(/without alias/) });
    expect(map({ ...WANDB_ALIAS_ADDED, artifact_version_string: '', artifact_collection_name: '' })).toMatchObject({ outcome: 'invalid' });
  });
});
