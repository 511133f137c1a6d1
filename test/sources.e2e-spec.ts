import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { TestHerald, bearer } from './support/herald';
import { TestReceiver } from './support/receiver';
import {
  HF_CODE_CHANGES,
  HF_PULL_REQUEST_OPENED,
  VALOHAI_EXECUTION_COMPLETED,
  WANDB_ALIAS_ADDED,
  determinedDelivery,
  determinedExperimentEvent,
  huggingfaceDelivery,
  huggingfaceRepoContentUpdate,
  mlflowDelivery,
  renderWandbTemplate,
  wandbDelivery,
} from './support/senders';

/**
 * Sources end to end: each platform's webhook, built and signed with that platform's own recipe
 * (test/support/senders.ts, written from the senders' code and docs), posted to a real Herald;
 * the events it stores, the automations they fire and the deliveries a real receiver gets.
 */
const SECRETS = {
  MLFLOW_SECRET: 'mlflow-webhook-secret-6f1e2d',
  DET_SIGNING_KEY: 'determined-signing-key-9a8b7c',
  HF_SECRET: 'hf-webhook-secret-1a2b3c',
  WANDB_TOKEN: 'wandb-access-token-4d5e6f',
};
const now = () => Math.floor(Date.now() / 1000);

/** A POST of exactly these bytes. */
function postBytes(url: string, headers: Record<string, string>, body: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers: { ...headers, 'Content-Length': String(body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('sources (e2e)', () => {
  let herald: TestHerald;
  let receiver: TestReceiver;
  let admin: Record<string, string>;
  let counter = 0;

  beforeAll(async () => {
    herald = await TestHerald.start({ env: { HERALD_ALLOWED_NETWORKS: '127.0.0.1/32' } });
    receiver = await TestReceiver.start();
    admin = bearer(herald.adminKey);
    for (const [name, value] of Object.entries(SECRETS)) {
      await herald.http().post('/v1/secrets').set(admin).send({ name, value }).expect(201);
    }
  });
  afterAll(async () => {
    await receiver.close();
    await herald.destroy();
  });

  async function createSource(body: Record<string, unknown>) {
    const res = await herald.http().post('/v1/sources').set(admin).send(body);
    if (res.status !== 201) throw new Error(`source not created: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as { id: string; receiveUrl: string; senderTemplate: string | null; project: string };
  }

  /** A webhook to its own receiver path and an automation with a payload naming what arrived. */
  async function automation(scope: Record<string, string>, trigger: Record<string, unknown>) {
    const name = `auto-${++counter}`;
    const path = `/${name}`;
    const team = await herald.team();
    const hook = await herald.fixtures.newWebhook(team, { name: `wh-${name}`, url: receiver.url(path) });
    const payload = {
      event: '${event_type}',
      id: '${event_id}',
      project: '${project_name}',
      author: '${event_author}',
      run: '${run_name}',
      state: '${run_state}',
      url: '${run_url}',
      version: '${artifact_version_string}',
      alias: '${alias}',
      tag: '${tag}',
      title: '${alert_title}',
    };
    await herald.fixtures.newAutomation(team, hook, { name, scope, trigger, action: { payload } });
    const received = () => receiver.requests.filter((r) => r.path === path).map((r) => JSON.parse(r.body) as Record<string, string>);
    return { received, wait: async (count: number) => (await receiver.waitForRequests(count, 10_000, path)).length };
  }

  /** Posts a sender's request as is: its exact bytes and headers, no Herald key. */
  async function send(url: string, request: { headers: Record<string, string>; body: string }) {
    const res = await herald.http().post(url).set(request.headers).send(request.body);
    await herald.settle();
    return res;
  }

  const receipts = async (sourceId: string) => (await herald.http().get(`/v1/sources/${sourceId}/receipts`).set(admin).expect(200)).body.items as Record<string, unknown>[];
  const eventStored = async (id: string) => (await herald.http().get(`/v1/events/${encodeURIComponent(id)}`).set(admin)).status === 200;

  describe('MLflow', () => {
    let source: Awaited<ReturnType<typeof createSource>>;
    beforeAll(async () => {
      source = await createSource({ name: 'mlflow registry', kind: 'mlflow', project: 'models', secret: 'MLFLOW_SECRET' });
    });

    it('an alias set in the registry (signed as MLflow signs) is stored, fires a registry automation once, and a retry is a duplicate', async () => {
      expect(source.receiveUrl).toBe(`/v1/sources/${source.id}/receive`);
      const auto = await automation({ type: 'registry', name: 'models' }, { event: 'ADD_ARTIFACT_ALIAS', aliasRegex: '^champion$' });
      const deliveryId = randomUUID();
      // mlflow/webhooks/types.py ModelVersionAliasCreatedPayload: {name, alias, version}
      const request = mlflowDelivery(SECRETS.MLFLOW_SECRET, { entity: 'model_version_alias', action: 'created', data: { name: 'fraud-detector', alias: 'champion', version: '3' } }, deliveryId, now());

      const first = await send(source.receiveUrl, request);
      expect(first.status).toBe(200);
      expect(first.body).toEqual({ verdict: 'accepted', reason: null, events: [{ id: deliveryId, type: 'ADD_ARTIFACT_ALIAS', duplicate: false }] });
      const stored = await herald.http().get(`/v1/events/${deliveryId}`).set(admin).expect(200);
      expect(stored.body.event).toMatchObject({
        type: 'ADD_ARTIFACT_ALIAS',
        project: 'models',
        registry: true,
        alias: 'champion',
        artifact: { name: 'fraud-detector', collection: 'fraud-detector', version: '3', type: 'model' },
      });
      await auto.wait(1);
      expect(auto.received()).toEqual([expect.objectContaining({ event: 'ADD_ARTIFACT_ALIAS', id: deliveryId, alias: 'champion', version: 'default/models/fraud-detector:champion' })]);

      // urllib3's retry re-sends the same request: same delivery id, same signature.
      const again = await send(source.receiveUrl, request);
      expect(again.body).toMatchObject({ verdict: 'accepted', events: [{ id: deliveryId, duplicate: true }], reason: expect.stringMatching(/repeat/) });
      expect(auto.received()).toHaveLength(1);
    });

    it('a wrong signature, a stale timestamp or no signature is a 401 with the reason, and stores nothing', async () => {
      const data = { name: 'fraud-detector', version: '4', source: 'models:/m-1', run_id: 'r1', tags: {}, description: null };
      const cases: [string, (id: string) => { headers: Record<string, string>; body: string }, RegExp][] = [
        ['wrong secret', (id) => mlflowDelivery('not-the-secret', { entity: 'model_version', action: 'created', data }, id, now()), /X-MLflow-Signature header does not match/],
        ['stale', (id) => mlflowDelivery(SECRETS.MLFLOW_SECRET, { entity: 'model_version', action: 'created', data }, id, now() - 600), /X-MLflow-Timestamp header is \d+ s away/],
        [
          'unsigned',
          (id) => {
            const { headers, body } = mlflowDelivery(SECRETS.MLFLOW_SECRET, { entity: 'model_version', action: 'created', data }, id, now());
            delete headers['X-MLflow-Signature'];
            return { headers, body };
          },
          /X-MLflow-Signature header is missing/,
        ],
      ];
      for (const [, build, reason] of cases) {
        const id = randomUUID();
        const res = await send(source.receiveUrl, build(id));
        expect(res.status).toBe(401);
        expect(res.body).toMatchObject({ statusCode: 401, message: expect.stringMatching(reason) });
        expect(await eventStored(id)).toBe(false);
        expect((await receipts(source.id))[0]).toMatchObject({ senderId: id, verdict: 'refused', statusCode: 401, reason: expect.stringMatching(reason), events: [] });
      }
    });

    it('a registered model (no Herald equivalent) is answered 200 and recorded as ignored; a body not MLflow\'s is a 400', async () => {
      const id = randomUUID();
      const request = mlflowDelivery(SECRETS.MLFLOW_SECRET, { entity: 'registered_model', action: 'created', data: { name: 'new-model', tags: {}, description: null } }, id, now());
      const res = await send(source.receiveUrl, request);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ verdict: 'ignored', events: [], reason: expect.stringMatching(/no version yet/) });
      expect(await eventStored(id)).toBe(false);
      expect((await receipts(source.id))[0]).toMatchObject({ senderId: id, senderEvent: 'registered_model.created', verdict: 'ignored', statusCode: 200 });

      const notMlflow = mlflowDelivery(SECRETS.MLFLOW_SECRET, { entity: 'model_version', action: 'created', data: {} }, randomUUID(), now());
      const bad = await send(source.receiveUrl, notMlflow);
      expect(bad.status).toBe(400);
      expect(bad.body.message).toMatch(/data\.name/);
    });
  });

  describe('Determined', () => {
    let source: Awaited<ReturnType<typeof createSource>>;
    beforeAll(async () => {
      source = await createSource({ name: 'determined cluster', kind: 'determined', project: 'det-default', secret: 'DET_SIGNING_KEY' });
    });

    it('an experiment that completed becomes RUN_STATE FINISHED in the experiment\'s project, fires once, and a re-send is a duplicate', async () => {
      const auto = await automation({ type: 'project', name: 'vision' }, { event: 'RUN_STATE', states: ['FINISHED'] });
      const eventId = randomUUID();
      const payload = determinedExperimentEvent(eventId, 'EXPERIMENT_STATE_CHANGE', { id: 41, state: 'COMPLETED', name: 'cifar10_pytorch_const', project: 'vision' }, now());
      const res = await send(source.receiveUrl, determinedDelivery(SECRETS.DET_SIGNING_KEY, payload, now()));
      expect(res.status).toBe(200);
      expect(res.body.events).toEqual([{ id: eventId, type: 'RUN_STATE', duplicate: false }]);
      const stored = await herald.http().get(`/v1/events/${eventId}`).set(admin).expect(200);
      expect(stored.body.event).toMatchObject({ project: 'vision', run: { id: '41', name: 'cifar10_pytorch_const', state: 'FINISHED' } });
      await auto.wait(1);
      expect(auto.received()).toEqual([expect.objectContaining({ event: 'RUN_STATE', run: 'cifar10_pytorch_const', state: 'FINISHED', project: 'vision' })]);

      // The shipper re-sends the same event (same event_id) with a fresh signature.
      const again = await send(source.receiveUrl, determinedDelivery(SECRETS.DET_SIGNING_KEY, payload, now()));
      expect(again.body.events).toEqual([{ id: eventId, type: 'RUN_STATE', duplicate: true }]);
      expect(auto.received()).toHaveLength(1);
    });

    it('a TASK_LOG lands in the source\'s project and fires a log automation; a CUSTOM alert fires an alert automation', async () => {
      const logs = await automation({ type: 'project', name: 'det-default' }, { event: 'RUN_LOG_MATCH', lineRegex: 'CUDA out of memory' });
      const alerts = await automation({ type: 'project', name: 'vision' }, { event: 'ALERT', levels: ['ERROR'] });
      const logEvent = {
        event_id: randomUUID(),
        event_type: 'TASK_LOG',
        timestamp: now(),
        condition: { regex: 'CUDA out of memory' },
        event_data: { task_log: { task_id: '41.1.a7f3', node_name: 'gpu-4', triggering_log: 'RuntimeError: CUDA out of memory.' } },
      };
      expect((await send(source.receiveUrl, determinedDelivery(SECRETS.DET_SIGNING_KEY, logEvent, now()))).status).toBe(200);
      const alert = determinedExperimentEvent(randomUUID(), 'CUSTOM', { id: 41, state: 'ACTIVE', name: 'cifar10', project: 'vision' }, now(), {
        title: 'Loss diverged',
        description: 'NaN at step 1200',
        level: 'ERROR',
      });
      expect((await send(source.receiveUrl, determinedDelivery(SECRETS.DET_SIGNING_KEY, alert, now()))).status).toBe(200);
      await logs.wait(1);
      await alerts.wait(1);
      expect(logs.received()).toEqual([expect.objectContaining({ event: 'RUN_LOG', run: '41.1.a7f3', project: 'det-default' })]);
      expect(alerts.received()).toEqual([expect.objectContaining({ event: 'ALERT', title: 'Loss diverged', run: 'cifar10' })]);
    });

    it('a wrong key or a stale timestamp is a 401 and stores nothing; the receipt names the event id', async () => {
      const eventId = randomUUID();
      const payload = determinedExperimentEvent(eventId, 'EXPERIMENT_STATE_CHANGE', { id: 42, state: 'ERROR', name: 'x', project: 'vision' }, now());
      const wrong = await send(source.receiveUrl, determinedDelivery('another-key', payload, now()));
      expect(wrong.status).toBe(401);
      expect(wrong.body.message).toMatch(/X-Determined-AI-Signature header does not match/);
      const stale = await send(source.receiveUrl, determinedDelivery(SECRETS.DET_SIGNING_KEY, payload, now() - 301));
      expect(stale.status).toBe(401);
      expect(stale.body.message).toMatch(/X-Determined-AI-Signature-Timestamp header is 30\d s away/);
      expect(await eventStored(eventId)).toBe(false);
      expect((await receipts(source.id)).slice(0, 2)).toEqual([
        expect.objectContaining({ senderId: eventId, verdict: 'refused', statusCode: 401 }),
        expect.objectContaining({ senderId: eventId, verdict: 'refused', statusCode: 401 }),
      ]);
    });

    it('the Test Webhook payload is ignored with a 200', async () => {
      const test = { event_id: randomUUID(), event_type: 'EXPERIMENT_STATE_CHANGE', timestamp: now(), condition: { state: 'COMPLETED' }, event_data: { data: 'test' } };
      const res = await send(source.receiveUrl, determinedDelivery(SECRETS.DET_SIGNING_KEY, test, now()));
      expect(res.status).toBe(200);
      expect(res.body.verdict).toBe('ignored');
    });
  });

  describe('Hugging Face', () => {
    let source: Awaited<ReturnType<typeof createSource>>;
    beforeAll(async () => {
      source = await createSource({ name: 'hf hub', kind: 'huggingface', project: 'hub', secret: 'HF_SECRET' });
    });

    it('a push to main with a new tag stores CREATE_ARTIFACT and ADD_ARTIFACT_TAG; a Replay is a duplicate', async () => {
      const created = await automation({ type: 'project', name: 'hub' }, { event: 'CREATE_ARTIFACT' });
      const tagged = await automation({ type: 'project', name: 'hub' }, { event: 'ADD_ARTIFACT_TAG', tagRegex: '.*' });
      const request = huggingfaceDelivery(SECRETS.HF_SECRET, huggingfaceRepoContentUpdate(HF_CODE_CHANGES));
      const res = await send(source.receiveUrl, request);
      expect(res.status).toBe(200);
      expect(res.body.events.map((e: { type: string; duplicate: boolean }) => [e.type, e.duplicate])).toEqual([
        ['CREATE_ARTIFACT', false],
        ['ADD_ARTIFACT_TAG', false],
      ]);
      await created.wait(1);
      await tagged.wait(1);
      expect(created.received()).toEqual([expect.objectContaining({ version: 'default/hub/some-user/some-repo:c379e821c9c95d613899e8c4343e4bfee2b0c600' })]);
      expect(tagged.received()).toEqual([expect.objectContaining({ tag: 'test' })]);

      const replay = await send(source.receiveUrl, request);
      expect(replay.body.events.every((e: { duplicate: boolean }) => e.duplicate)).toBe(true);
      expect(created.received()).toHaveLength(1);
      expect(tagged.received()).toHaveLength(1);
    });

    it('a wrong secret is a 401 and stores nothing; a Pull Request is ignored', async () => {
      const before = (await herald.http().get('/v1/events?project=hub').set(admin).expect(200)).body.items.length;
      const payload = huggingfaceRepoContentUpdate([{ ref: 'refs/heads/main', oldSha: 'aaaa', newSha: 'bbbb' }]);
      const res = await send(source.receiveUrl, huggingfaceDelivery('wrong', payload));
      expect(res.status).toBe(401);
      expect(res.body.message).toBe('the X-Webhook-Secret header differs from this source\'s secret');
      const pr = await send(source.receiveUrl, huggingfaceDelivery(SECRETS.HF_SECRET, HF_PULL_REQUEST_OPENED));
      expect(pr.body).toMatchObject({ verdict: 'ignored' });
      expect((await herald.http().get('/v1/events?project=hub').set(admin).expect(200)).body.items.length).toBe(before);
    });
  });

  describe('W&B', () => {
    it('the senderTemplate, rendered as W&B renders it and sent with the access token, fires a registry automation once', async () => {
      const source = await createSource({ name: 'wandb team', kind: 'wandb', project: 'registry', secret: 'WANDB_TOKEN' });
      expect(typeof source.senderTemplate).toBe('string');
      const auto = await automation({ type: 'registry', name: 'registry' }, { event: 'ADD_ARTIFACT_ALIAS', aliasRegex: '^production$' });
      const rendered = renderWandbTemplate(source.senderTemplate!, WANDB_ALIAS_ADDED);
      const res = await send(source.receiveUrl, wandbDelivery(SECRETS.WANDB_TOKEN, rendered));
      expect(res.status).toBe(200);
      await auto.wait(1);
      expect(auto.received()).toEqual([expect.objectContaining({ event: 'ADD_ARTIFACT_ALIAS', alias: 'production', author: 'wandb-user', version: 'default/registry/registered-model:production' })]);

      const again = await send(source.receiveUrl, wandbDelivery(SECRETS.WANDB_TOKEN, rendered));
      expect(again.body.events).toEqual([{ id: res.body.events[0].id, type: 'ADD_ARTIFACT_ALIAS', duplicate: true }]);
      expect(auto.received()).toHaveLength(1);

      const wrong = await send(source.receiveUrl, wandbDelivery('not-the-token', rendered));
      expect(wrong.status).toBe(401);
      expect((await receipts(source.id)).map((r) => r.verdict)).toEqual(['refused', 'accepted', 'accepted']);
    });
  });

  describe('Valohai', () => {
    it('the token is shown once; the seed\'s message posted to the receive URL fires once; a wrong or missing token is a 401', async () => {
      const source = await createSource({ name: 'valohai mnist', kind: 'valohai', project: 'mnist' });
      const match = /^\/v1\/sources\/([^/]+)\/receive\/(hrs_[A-Za-z0-9_-]{43})$/.exec(source.receiveUrl);
      expect(match).not.toBeNull();
      const token = match![2];
      const read = await herald.http().get(`/v1/sources/${source.id}`).set(admin).expect(200);
      expect(read.body.receiveUrl).toBe(`/v1/sources/${source.id}/receive/••••••`);
      expect(JSON.stringify((await herald.http().get('/v1/sources').set(admin).expect(200)).body)).not.toContain(token);

      const auto = await automation({ type: 'project', name: 'mnist' }, { event: 'RUN_STATE', states: ['FINISHED'] });
      const request = { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(VALOHAI_EXECUTION_COMPLETED) };
      const res = await send(source.receiveUrl, request);
      expect(res.status).toBe(200);
      await auto.wait(1);
      expect(auto.received()).toEqual([
        expect.objectContaining({
          event: 'RUN_STATE',
          run: 'demo/cool-tensorflow/#736',
          author: 'demouser',
          url: 'https://app.demo.com/p/demo/cool-tensorflow/execution/0178f482-8686-fb28-8af1-3d36af38079d/',
        }),
      ]);
      expect((await send(source.receiveUrl, request)).body.events[0].duplicate).toBe(true);
      expect(auto.received()).toHaveLength(1);

      const wrong = await send(`/v1/sources/${source.id}/receive/hrs_${'A'.repeat(43)}`, request);
      expect(wrong.status).toBe(401);
      expect(wrong.body.message).toBe('the receive URL\'s token is wrong');
      const missing = await send(`/v1/sources/${source.id}/receive`, request);
      expect(missing.status).toBe(401);
      // The token never reaches the log, not even as part of a request path.
      expect(herald.logs.join('\n')).not.toContain(token);
      expect(herald.logs.some((line) => line.includes(`/v1/sources/${source.id}/receive/`))).toBe(true);
    });
  });

  describe('the receive route', () => {
    it('answers 404 for an unknown source and for a token on a source that takes none', async () => {
      const source = await createSource({ name: 'mlflow 404', kind: 'mlflow', project: 'p', secret: 'MLFLOW_SECRET' });
      expect((await send('/v1/sources/src_unknown/receive', { headers: {}, body: '{}' })).status).toBe(404);
      expect((await send(`${source.receiveUrl}/sometoken`, { headers: {}, body: '{}' })).status).toBe(404);
    });

    it('a body that is not UTF-8 or not JSON is a 400 with the reason; over 1 MiB is a 413', async () => {
      const source = await createSource({ name: 'hf bodies', kind: 'huggingface', project: 'p', secret: 'HF_SECRET' });
      const headers = { 'Content-Type': 'application/json', 'X-Webhook-Secret': SECRETS.HF_SECRET };
      // {"é"} in Latin-1, sent as exact bytes (supertest would serialise a Buffer as JSON).
      const latin1 = await postBytes(`${herald.url}${source.receiveUrl}`, headers, Buffer.from([0x7b, 0x22, 0xe9, 0x22, 0x7d]));
      expect(latin1.status).toBe(400);
      expect(JSON.parse(latin1.body).message).toBe('the body is not UTF-8 text');
      const notJson = await send(source.receiveUrl, { headers, body: 'event=push' });
      expect(notJson.status).toBe(400);
      expect(notJson.body.message).toBe('the body is not JSON');
      const big = await send(source.receiveUrl, { headers, body: JSON.stringify({ pad: 'x'.repeat(1024 * 1024) }) });
      expect(big.status).toBe(413);
    });

    it('keeps the last 100 receipts of a source, newest first, paged, never a secret', async () => {
      const source = await createSource({ name: 'hf receipts', kind: 'huggingface', project: 'p', secret: 'HF_SECRET' });
      for (let i = 0; i < 103; i++) {
        await herald.http().post(source.receiveUrl).set({ 'Content-Type': 'application/json', 'X-Webhook-Secret': i % 2 ? SECRETS.HF_SECRET : 'wrong' }).send(JSON.stringify(HF_PULL_REQUEST_OPENED));
      }
      const all: Record<string, unknown>[] = [];
      let cursor: string | null = null;
      do {
        const page: { body: { items: Record<string, unknown>[]; nextCursor: string | null } } = await herald
          .http()
          .get(`/v1/sources/${source.id}/receipts`)
          .query({ limit: 40, ...(cursor ? { cursor } : {}) })
          .set(admin)
          .expect(200);
        all.push(...page.body.items);
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(all).toHaveLength(100);
      // The last request (i = 102, wrong secret) comes first.
      expect(all[0]).toMatchObject({ verdict: 'refused', statusCode: 401 });
      expect(all[1]).toMatchObject({ verdict: 'ignored', statusCode: 200, senderEvent: 'discussion.create' });
      const text = JSON.stringify(all);
      for (const value of Object.values(SECRETS)) expect(text).not.toContain(value);
    });
  });

  describe('managing sources', () => {
    it('reports every problem of a create at once, each naming its field', async () => {
      const res = await herald.http().post('/v1/sources').set(admin).send({ name: 'bad/name', kind: 'comet', project: '', secret: 'lower' }).expect(400);
      expect(res.body.details.map((d: { field: string }) => d.field).sort()).toEqual(['kind', 'name', 'project', 'secret']);
      const extra = await herald.http().post('/v1/sources').set(admin).send({ name: 'x', kind: 'mlflow', project: 'p', secret: 'MLFLOW_SECRET', token: 't' }).expect(400);
      expect(extra.body.details).toEqual([{ field: 'token', reason: 'is not an allowed field' }]);
    });

    it('a form mistake and a missing secret come in one 400, on create and on PATCH', async () => {
      const res = await herald.http().post('/v1/sources').set(admin).send({ name: 'bad/name', kind: 'wandb', project: 'p', secret: 'NOPE' }).expect(400);
      expect(res.body.details).toEqual([
        { field: 'name', reason: expect.any(String) },
        { field: 'secret', reason: 'secret NOPE does not exist' },
      ]);
      // with the kind itself wrong, the secret is still checked
      const noKind = await herald.http().post('/v1/sources').set(admin).send({ name: 'ok name', kind: 'comet', project: 'p', secret: 'NOPE' }).expect(400);
      expect(noKind.body.details.map((d: { field: string }) => d.field).sort()).toEqual(['kind', 'secret']);
      const source = await createSource({ name: 'patch all at once', kind: 'mlflow', project: 'p', secret: 'MLFLOW_SECRET' });
      const patch = await herald.http().patch(`/v1/sources/${source.id}`).set(admin).send({ kind: 'wandb', project: '', secret: 'NOPE' }).expect(400);
      expect(patch.body.details.map((d: { field: string }) => d.field).sort()).toEqual(['kind', 'project', 'secret']);
    });

    it('needs a secret that exists for the signed kinds, and none for valohai', async () => {
      const missing = await herald.http().post('/v1/sources').set(admin).send({ name: 'no secret', kind: 'determined', project: 'p' }).expect(400);
      expect(missing.body.details).toEqual([{ field: 'secret', reason: expect.stringMatching(/is required for determined sources.*webhook_signing_key/) }]);
      const unknown = await herald.http().post('/v1/sources').set(admin).send({ name: 'unknown secret', kind: 'wandb', project: 'p', secret: 'NOPE' }).expect(400);
      expect(unknown.body.details).toEqual([{ field: 'secret', reason: 'secret NOPE does not exist' }]);
      const valohai = await herald.http().post('/v1/sources').set(admin).send({ name: 'valohai secret', kind: 'valohai', project: 'p', secret: 'HF_SECRET' }).expect(400);
      expect(valohai.body.details).toEqual([{ field: 'secret', reason: expect.stringMatching(/not used by valohai/) }]);
    });

    it('names are unique (409); PATCH changes name, project and secret but not the kind', async () => {
      const source = await createSource({ name: 'patch me', kind: 'mlflow', project: 'p', secret: 'MLFLOW_SECRET' });
      await herald.http().post('/v1/sources').set(admin).send({ name: 'patch me', kind: 'mlflow', project: 'p', secret: 'MLFLOW_SECRET' }).expect(409);
      const patched = await herald.http().patch(`/v1/sources/${source.id}`).set(admin).send({ name: 'patched', project: 'q', secret: 'HF_SECRET' }).expect(200);
      expect(patched.body).toMatchObject({ name: 'patched', project: 'q', secret: 'HF_SECRET', kind: 'mlflow' });
      const kind = await herald.http().patch(`/v1/sources/${source.id}`).set(admin).send({ kind: 'wandb' }).expect(400);
      expect(kind.body.details).toEqual([{ field: 'kind', reason: expect.stringMatching(/cannot change/) }]);
      await herald.http().patch(`/v1/sources/${source.id}`).set(admin).send({ secret: null }).expect(400);
      await herald.http().delete(`/v1/sources/${source.id}`).set(admin).expect(204);
      await herald.http().get(`/v1/sources/${source.id}`).set(admin).expect(404);
    });

    it('a secret a source verifies with cannot be deleted (409 naming the source) until the source is gone', async () => {
      await herald.http().post('/v1/secrets').set(admin).send({ name: 'SOLE_USER', value: 'only-this-source-uses-it' }).expect(201);
      const source = await createSource({ name: 'sole user', kind: 'huggingface', project: 'p', secret: 'SOLE_USER' });
      const refused = await herald.http().delete('/v1/secrets/SOLE_USER').set(admin).expect(409);
      expect(refused.body.message).toMatch(/in use by source "sole user" \(secret\)/);
      const listed = await herald.http().get('/v1/secrets').set(admin).expect(200);
      expect(listed.body.items.find((s: { name: string }) => s.name === 'SOLE_USER').usedBy).toEqual([{ kind: 'source', id: source.id, name: 'sole user', as: 'secret' }]);
      await herald.http().delete(`/v1/sources/${source.id}`).set(admin).expect(204);
      await herald.http().delete('/v1/secrets/SOLE_USER').set(admin).expect(204);
    });

    it('members read sources and receipts but cannot change them; another team sees none', async () => {
      const source = await createSource({ name: 'for members', kind: 'mlflow', project: 'p', secret: 'MLFLOW_SECRET' });
      const member = bearer((await herald.newKey(herald.adminKey, 'member')).key);
      await herald.http().get(`/v1/sources/${source.id}`).set(member).expect(200);
      await herald.http().get(`/v1/sources/${source.id}/receipts`).set(member).expect(200);
      await herald.http().post('/v1/sources').set(member).send({ name: 'm', kind: 'mlflow', project: 'p', secret: 'MLFLOW_SECRET' }).expect(403);
      await herald.http().delete(`/v1/sources/${source.id}`).set(member).expect(403);
      const other = bearer((await herald.newTeam()).adminKey);
      await herald.http().get(`/v1/sources/${source.id}`).set(other).expect(404);
      await herald.http().get(`/v1/sources/${source.id}/receipts`).set(other).expect(404);
      expect((await herald.http().get('/v1/sources').set(other).expect(200)).body.items).toEqual([]);
    });

    it('OpenAPI documents the endpoints and every field', async () => {
      const doc = (await herald.http().get('/docs/json').expect(200)).body;
      expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/sources', '/v1/sources/{id}', '/v1/sources/{id}/receipts', '/v1/sources/{id}/receive', '/v1/sources/{id}/receive/{token}']));
      for (const [schema, fields] of Object.entries({
        CreateSourceDto: ['name', 'kind', 'project', 'secret'],
        SourceDto: ['id', 'name', 'kind', 'project', 'secret', 'receiveUrl', 'senderTemplate', 'etag', 'createdAt', 'updatedAt'],
        ReceiptDto: ['id', 'receivedAt', 'senderId', 'senderEvent', 'verdict', 'statusCode', 'reason', 'events'],
      })) {
        expect(Object.keys(doc.components.schemas[schema].properties).sort()).toEqual([...fields].sort());
      }
      expect(doc.paths['/v1/sources/{id}/receive'].post.security ?? []).toEqual([]);
    });
  });
});
