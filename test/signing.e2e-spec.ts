import { createPublicKey, verify } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { SecretRedactor } from '../src/common/logging/redactor';
import { generateEd25519Secret } from '../src/delivery/ed25519-keys';
import type { TeamFixture } from './support/fixtures';
import { TestHerald, bearer } from './support/herald';
import { alertPipeline } from './support/pipeline';
import { type ReceivedRequest, TestReceiver } from './support/receiver';
import { waitFor } from './support/wait';

/** The three Standard Webhooks headers of a received request, as the library takes them. */
function standardHeaders(request: ReceivedRequest): Record<string, string> {
  return {
    'webhook-id': String(request.headers['webhook-id']),
    'webhook-timestamp': String(request.headers['webhook-timestamp']),
    'webhook-signature': String(request.headers['webhook-signature']),
  };
}

/** What a receiver holding only the whpk_ public key does: Node's crypto.verify over id.timestamp.body. */
function verifiesWithPublicKey(publicKey: string, request: ReceivedRequest): boolean {
  const key = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey.slice('whpk_'.length), 'base64').toString('base64url') },
    format: 'jwk',
  });
  const headers = standardHeaders(request);
  const signed = Buffer.from(`${headers['webhook-id']}.${headers['webhook-timestamp']}.${request.body}`, 'utf8');
  return headers['webhook-signature']
    .split(' ')
    .some((entry) => entry.startsWith('v1a,') && verify(null, signed, key, Buffer.from(entry.slice(4), 'base64')));
}

describe('signing: rotation with overlap, Ed25519, recover (e2e)', () => {
  let herald: TestHerald;
  let receiver: TestReceiver;
  let admin: Record<string, string>;
  let team: TeamFixture;

  beforeAll(async () => {
    herald = await TestHerald.start({ env: { HERALD_ALLOWED_NETWORKS: '127.0.0.1/32', HERALD_HTTP_DEADLINE_MS: '1000' } });
    receiver = await TestReceiver.start();
    admin = bearer(herald.adminKey);
    team = await herald.team();
  });
  afterAll(async () => {
    await receiver.close();
    await herald.destroy();
  });
  afterEach(() => receiver.respondWith({ status: 200, body: 'ok' }));

  const secrets = async () => (await herald.http().get('/v1/secrets?limit=200').set(admin).expect(200)).body.items as {
    name: string;
    previousValues: { retiredAt: string; validUntil: string }[];
  }[];
  const secret = async (name: string) => (await secrets()).find((s) => s.name === name)!;

  const pipeline = (webhook: Record<string, unknown>) => alertPipeline(herald, team, receiver, webhook);

  describe('rotation with overlap', () => {
    it('during the overlap one delivery verifies with the old and with the new secret; after it, only with the new', async () => {
      const old = (await herald.http().post('/v1/secrets/generate').set(admin).send({ name: 'ROT_SHORT', format: 'whsec' }).expect(201)).body.value;
      const p = await pipeline({ signingSecret: 'ROT_SHORT' });
      const fresh = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
      const rotatedAt = Date.now();
      // Long enough for one delivery on a loaded machine (a 2 s overlap once ended before the send did).
      const rotated = await herald.http().put('/v1/secrets/ROT_SHORT').set(admin).send({ value: fresh, previousValidForSeconds: 5 }).expect(200);
      expect(rotated.body.previousValues).toHaveLength(1);
      const validUntil = Date.parse(rotated.body.previousValues[0].validUntil);
      expect(validUntil - Date.parse(rotated.body.previousValues[0].retiredAt)).toBe(5000);
      expect(JSON.stringify(rotated.body)).not.toContain(old.slice(6));

      // A previous value is scrubbed wherever it shows, as the current one is: the redactor
      // learns it again when the sender decrypts it (forgotten here, as in a fresh process).
      herald.app.get(SecretRedactor).forget(old);
      receiver.respondWith({ status: 200, body: `echo ${old}` });
      const during = await p.deliverOne();
      expect(Date.now()).toBeLessThan(validUntil);
      const recorded = await waitFor('the attempt recorded', async () => (await p.delivery(String(during.headers['webhook-id']))).attempts[0]);
      expect(recorded.responseExcerpt).toBe('echo ••••••');
      expect(standardHeaders(during)['webhook-signature'].split(' ')).toHaveLength(2);
      expect(() => new Webhook(old).verify(during.body, standardHeaders(during))).not.toThrow();
      expect(() => new Webhook(fresh).verify(during.body, standardHeaders(during))).not.toThrow();

      await waitFor('the overlap to end', () => Date.now() > validUntil + 50, 10_000);
      expect((await secret('ROT_SHORT')).previousValues).toEqual([]);
      const after = await p.deliverOne();
      expect(standardHeaders(after)['webhook-signature'].split(' ')).toHaveLength(1);
      expect(() => new Webhook(fresh).verify(after.body, standardHeaders(after))).not.toThrow();
      expect(() => new Webhook(old).verify(after.body, standardHeaders(after))).toThrow();
      expect(Date.now() - rotatedAt).toBeGreaterThanOrEqual(5000);
    });

    it('defaults to a day for a secret a webhook signs with and to none otherwise; DELETE …/previous ends the overlap now', async () => {
      await herald.http().post('/v1/secrets/generate').set(admin).send({ name: 'ROT_DAY', format: 'whsec' }).expect(201);
      await herald.http().post('/v1/secrets').set(admin).send({ name: 'NOT_SIGNING', value: 'token-one' }).expect(201);
      const p = await pipeline({ signingSecret: 'ROT_DAY', signatureSchemes: ['standard', 'github'] });
      const fresh = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
      const before = Date.now();
      const rotated = await herald.http().put('/v1/secrets/ROT_DAY').set(admin).send({ value: fresh }).expect(200);
      const [previous] = rotated.body.previousValues;
      expect(Date.parse(previous.validUntil) - Date.parse(previous.retiredAt)).toBe(86_400_000);
      expect(Date.parse(previous.retiredAt)).toBeGreaterThanOrEqual(before - 1000);
      const plain = await herald.http().put('/v1/secrets/NOT_SIGNING').set(admin).send({ value: 'token-two' }).expect(200);
      expect(plain.body.previousValues).toEqual([]);

      // The github scheme signs with the new value only.
      const during = await p.deliverOne();
      expect(standardHeaders(during)['webhook-signature'].split(' ')).toHaveLength(2);
      const { verify: githubVerify } = await import('@octokit/webhooks-methods');
      await expect(githubVerify(fresh, during.body, String(during.headers['x-hub-signature-256']))).resolves.toBe(true);

      const ended = await herald.http().delete('/v1/secrets/ROT_DAY/previous').set(admin).expect(200);
      expect(ended.body).toMatchObject({ name: 'ROT_DAY', previousValues: [] });
      const after = await p.deliverOne();
      expect(standardHeaders(after)['webhook-signature'].split(' ')).toHaveLength(1);
      expect(() => new Webhook(fresh).verify(after.body, standardHeaders(after))).not.toThrow();
      await herald.http().delete('/v1/secrets/MISSING/previous').set(admin).expect(404);
      const member = await herald.newKey(herald.adminKey, 'member');
      await herald.http().delete('/v1/secrets/ROT_DAY/previous').set(bearer(member.key)).expect(403);
    });

    it('refuses a bad previousValidForSeconds with the value problem, all fields at once', async () => {
      await herald.http().post('/v1/secrets').set(admin).send({ name: 'ROT_BAD', value: 'value-one' }).expect(201);
      for (const bad of [-1, 1.5, 'soon', 2_592_001]) {
        const res = await herald.http().put('/v1/secrets/ROT_BAD').set(admin).send({ value: '', previousValidForSeconds: bad }).expect(400);
        expect(res.body.details.map((d: { field: string }) => d.field).sort()).toEqual(['previousValidForSeconds', 'value']);
      }
      await herald.http().put('/v1/secrets/ROT_BAD').set(admin).send({ value: 'value-two', previousValidForSeconds: 2_592_000 }).expect(200);
    });

    it('keeps at most 10 previous values', async () => {
      await herald.http().post('/v1/secrets').set(admin).send({ name: 'ROT_MANY', value: 'value-0' }).expect(201);
      for (let i = 1; i <= 12; i++) {
        await herald.http().put('/v1/secrets/ROT_MANY').set(admin).send({ value: `value-${i}`, previousValidForSeconds: 600 }).expect(200);
      }
      expect((await secret('ROT_MANY')).previousValues).toHaveLength(10);
    });
  });

  describe('Ed25519', () => {
    it('signs v1a: the delivery verifies with the public key through crypto.verify, not with another key', async () => {
      const generated = await herald.http().post('/v1/secrets/generate').set(admin).send({ name: 'ED_KEY', format: 'ed25519' }).expect(201);
      expect(generated.body.publicKey).toMatch(/^whpk_[A-Za-z0-9+/]{43}=$/);
      expect(generated.body.value).toBeUndefined();
      const member = await herald.newKey(herald.adminKey, 'member');
      const shown = await herald.http().get('/v1/secrets/ED_KEY/public-key').set(bearer(member.key)).expect(200);
      expect(shown.body).toEqual({ name: 'ED_KEY', publicKey: generated.body.publicKey, previous: [] });

      const p = await pipeline({ signingSecret: 'ED_KEY' });
      const request = await p.deliverOne();
      expect(standardHeaders(request)['webhook-signature']).toMatch(/^v1a,[A-Za-z0-9+/]{86}==$/);
      expect(verifiesWithPublicKey(generated.body.publicKey, request)).toBe(true);
      expect(verifiesWithPublicKey(generateEd25519Secret().publicKey, request)).toBe(false);
      expect(verifiesWithPublicKey(generated.body.publicKey, { ...request, body: request.body + ' ' })).toBe(false);
    });

    it('rotates a key pair with overlap: v1a for each key, both public keys listed', async () => {
      const first = (await herald.http().post('/v1/secrets/generate').set(admin).send({ name: 'ED_ROT', format: 'ed25519' }).expect(201)).body.publicKey;
      const p = await pipeline({ signingSecret: 'ED_ROT' });
      const next = generateEd25519Secret();
      await herald.http().put('/v1/secrets/ED_ROT').set(admin).send({ value: next.secret, previousValidForSeconds: 600 }).expect(200);
      const shown = await herald.http().get('/v1/secrets/ED_ROT/public-key').set(admin).expect(200);
      expect(shown.body).toMatchObject({ publicKey: next.publicKey, previous: [{ publicKey: first, validUntil: expect.any(String) }] });
      const request = await p.deliverOne();
      expect(standardHeaders(request)['webhook-signature'].split(' ').map((e) => e.split(',')[0])).toEqual(['v1a', 'v1a']);
      expect(verifiesWithPublicKey(first, request)).toBe(true);
      expect(verifiesWithPublicKey(next.publicKey, request)).toBe(true);
      // The secret key itself is never answered nor logged.
      expect(JSON.stringify((await herald.http().get('/v1/secrets?limit=200').set(admin)).body)).not.toContain(next.secret.slice(5, 40));
      for (const line of herald.logs) expect(line).not.toContain(next.secret.slice(5));
    });

    it('refuses an Ed25519 key for an HMAC scheme (400 naming signingSecret) and a malformed one for the standard scheme', async () => {
      await herald.http().post('/v1/secrets/generate').set(admin).send({ name: 'ED_ONLY', format: 'ed25519' }).expect(201);
      const hmac = await herald
        .http()
        .post('/v1/webhooks')
        .set(admin)
        .send({ name: 'ed-github', url: receiver.url('/x'), kind: 'generic', signingSecret: 'ED_ONLY', signatureSchemes: ['standard', 'github', 'wandb'] })
        .expect(400);
      expect(hmac.body.details).toEqual([
        { field: 'signingSecret', reason: expect.stringMatching(/Ed25519 key .*github scheme needs a shared secret/) },
        { field: 'signingSecret', reason: expect.stringMatching(/wandb scheme needs a shared secret/) },
      ]);
      await herald.http().post('/v1/secrets').set(admin).send({ name: 'ED_BROKEN', value: 'whsk_' + Buffer.alloc(40).toString('base64') }).expect(201);
      const broken = await herald
        .http()
        .post('/v1/webhooks')
        .set(admin)
        .send({ name: 'ed-broken', url: receiver.url('/x'), kind: 'generic', signingSecret: 'ED_BROKEN' })
        .expect(400);
      expect(broken.body.details).toEqual([{ field: 'signingSecret', reason: expect.stringMatching(/must be whsk_ followed by base64/) }]);
    });

    it('answers the public key of Ed25519 secrets only: 409 for another secret, 404 for none', async () => {
      await herald.http().post('/v1/secrets/generate').set(admin).send({ name: 'NOT_ED', format: 'whsec' }).expect(201);
      const res = await herald.http().get('/v1/secrets/NOT_ED/public-key').set(admin).expect(409);
      expect(res.body.details).toEqual([{ field: 'name', reason: 'is not an Ed25519 key (whsk_…)' }]);
      await herald.http().get('/v1/secrets/NOPE/public-key').set(admin).expect(404);
      await herald.http().get('/v1/secrets/ED_KEY/public-key').set(bearer((await herald.newTeam()).adminKey)).expect(404);
    });
  });

  it('documents every new field in the OpenAPI document', async () => {
    const openapi = (await herald.http().get('/docs/json').expect(200)).body;
    const schemas = openapi.components.schemas as Record<string, { properties: Record<string, { description?: string }> }>;
    for (const name of ['PreviousValueDto', 'PublicKeyDto', 'PreviousPublicKeyDto', 'RecoverWebhookDto', 'RecoverResultDto', 'EventWebhookDto', 'EventDeliveryDto']) {
      for (const [field, property] of Object.entries(schemas[name].properties)) {
        expect(`${name}.${field}: ${property.description ?? ''}`).toMatch(/: \S/);
      }
    }
    for (const [schema, field] of [
      ['RotateSecretDto', 'previousValidForSeconds'],
      ['SecretDto', 'previousValues'],
      ['GeneratedSecretDto', 'publicKey'],
      ['EventDto', 'webhook'],
      ['EventDto', 'delivery'],
      ['EventDto', 'reason'],
      ['EventDto', 'statusCode'],
      ['EventDto', 'error'],
    ]) {
      expect(schemas[schema].properties[field].description).toEqual(expect.any(String));
    }
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining(['/v1/secrets/{name}/previous', '/v1/secrets/{name}/public-key', '/v1/webhooks/{id}/recover']),
    );
    expect(schemas.GenerateSecretDto.properties.format).toMatchObject({ enum: ['whsec', 'hex', 'ed25519'] });
  });

  describe('recover', () => {
    it('re-sends exactly the deliveries that failed in the window: fresh signatures, the same ids, a new series', async () => {
      const signing = (await herald.http().post('/v1/secrets/generate').set(admin).send({ name: 'RECOVER_SIGNING', format: 'whsec' }).expect(201)).body.value;
      const p = await pipeline({ signingSecret: 'RECOVER_SIGNING', delivery: { maxAttempts: 1 } });
      const failed = (ids: string[]) =>
        waitFor('failed', async () => (await Promise.all(ids.map(p.delivery))).every((d) => d.status === 'failed'));

      // Before the window: one failure.
      receiver.respondWith({ status: 500, body: 'down' });
      const early = await p.post(1);
      await failed(early);
      await new Promise((resolve) => setTimeout(resolve, 20));
      const since = new Date().toISOString();
      // In the window: three failures and one success.
      const inWindow = await p.post(3);
      await failed(inWindow);
      receiver.respondWith({ status: 200, body: 'ok' });
      const [succeeded] = await p.post(1);
      await waitFor('succeeded', async () => (await p.delivery(succeeded)).status === 'succeeded');
      await new Promise((resolve) => setTimeout(resolve, 20));
      const until = new Date().toISOString();
      // After the window: one more failure.
      receiver.respondWith({ status: 500, body: 'down' });
      const late = await p.post(1);
      await failed(late);
      receiver.respondWith({ status: 200, body: 'ok' });

      const firstTimestamps = new Map(p.received().map((r) => [String(r.headers['webhook-id']), Number(r.headers['webhook-timestamp'])]));
      const before = p.received().length;
      await new Promise((resolve) => setTimeout(resolve, 1000)); // so a fresh timestamp differs
      const res = await herald.http().post(`/v1/webhooks/${p.webhookId}/recover`).set(admin).send({ since, until }).expect(200);
      expect(res.body).toEqual({ requeued: 3 });

      const resent = await waitFor('the re-sent deliveries', () => (p.received().length >= before + 3 ? p.received().slice(before) : undefined));
      await herald.settle();
      expect(p.received().length).toBe(before + 3);
      expect(new Set(resent.map((r) => String(r.headers['webhook-id'])))).toEqual(new Set(inWindow));
      for (const request of resent) {
        expect(() => new Webhook(signing).verify(request.body, standardHeaders(request))).not.toThrow();
        expect(Number(request.headers['webhook-timestamp'])).toBeGreaterThan(firstTimestamps.get(String(request.headers['webhook-id']))!);
      }
      for (const id of inWindow) {
        const d = await waitFor('second series succeeded', async () => {
          const got = await p.delivery(id);
          return got.status === 'succeeded' ? got : undefined;
        });
        expect(d.series).toBe(2);
        expect(d.attempts.map((a: { series: number; number: number }) => [a.series, a.number])).toEqual([
          [1, 1],
          [2, 1],
        ]);
      }
      for (const id of [...early, ...late]) expect(await p.delivery(id)).toMatchObject({ status: 'failed', series: 1 });
      expect(await p.delivery(succeeded)).toMatchObject({ status: 'succeeded', series: 1 });

      // Without until: up to now, so the late failure is recovered too (and the early one is not).
      const rest = await herald.http().post(`/v1/webhooks/${p.webhookId}/recover`).set(admin).send({ since: until }).expect(200);
      expect(rest.body).toEqual({ requeued: 1 });
      await waitFor('late delivery re-sent', async () => (await p.delivery(late[0])).status === 'succeeded');
    });

    it('is refused while the webhook is disabled (409), for another team (404), and for a bad window (400 naming each field)', async () => {
      const p = await pipeline({});
      const window = { since: new Date(Date.now() - 60_000).toISOString() };
      await herald.http().patch(`/v1/webhooks/${p.webhookId}`).set(admin).send({ enabled: false }).expect(200);
      const disabled = await herald.http().post(`/v1/webhooks/${p.webhookId}/recover`).set(admin).send(window).expect(409);
      expect(disabled.body.message).toMatch(/disabled \(user\): enable it first/);
      await herald.http().post(`/v1/webhooks/${p.webhookId}/enable`).set(admin).expect(200);
      await herald.http().post(`/v1/webhooks/${p.webhookId}/recover`).set(admin).send(window).expect(200);

      await herald.http().post(`/v1/webhooks/${p.webhookId}/recover`).set(bearer((await herald.newTeam()).adminKey)).send(window).expect(404);
      const member = await herald.newKey(herald.adminKey, 'member');
      await herald.http().post(`/v1/webhooks/${p.webhookId}/recover`).set(bearer(member.key)).send(window).expect(403);

      const both = await herald.http().post(`/v1/webhooks/${p.webhookId}/recover`).set(admin).send({ since: 'yesterday', until: 'today', extra: 1 }).expect(400);
      expect(both.body.details.map((d: { field: string }) => d.field).sort()).toEqual(['extra', 'since', 'until']);
      const reversed = await herald
        .http()
        .post(`/v1/webhooks/${p.webhookId}/recover`)
        .set(admin)
        .send({ since: '2026-01-02T00:00:00Z', until: '2026-01-01T00:00:00Z' })
        .expect(400);
      expect(reversed.body.details).toEqual([{ field: 'until', reason: 'must be after since' }]);
      const future = await herald.http().post(`/v1/webhooks/${p.webhookId}/recover`).set(admin).send({ since: '2999-01-01T00:00:00Z' }).expect(400);
      expect(future.body.details).toEqual([{ field: 'since', reason: expect.stringMatching(/must be in the past/) }]);
    });

    it('is refused for a webhook Herald disabled (gone)', async () => {
      const p = await pipeline({});
      receiver.respondWith({ status: 410, body: 'gone' });
      await p.post();
      await waitFor('gone', async () => (await herald.http().get(`/v1/webhooks/${p.webhookId}`).set(admin)).body.disabledReason === 'gone');
      const res = await herald.http().post(`/v1/webhooks/${p.webhookId}/recover`).set(admin).send({ since: new Date(Date.now() - 60_000).toISOString() }).expect(409);
      expect(res.body.message).toMatch(/disabled \(gone\)/);
    });
  });
});
