import { networkInterfaces } from 'node:os';
import { createHmac } from 'node:crypto';
import { verify as verifyGithubSignature } from '@octokit/webhooks-methods';
import { Webhook } from 'standardwebhooks';
import { TestHerald, bearer } from './support/herald';
import { TestReceiver } from './support/receiver';

/** Receivers' own verification, written here independently of Herald's signing code. */
const hmacHex = (key: string, text: string) => createHmac('sha256', key).update(text, 'utf8').digest('hex');

describe('webhooks (e2e)', () => {
  let herald: TestHerald;
  let receiver: TestReceiver;
  let admin: Record<string, string>;

  beforeAll(async () => {
    herald = await TestHerald.start({ env: { HERALD_ALLOWED_NETWORKS: '127.0.0.1/32, ::1/128' } });
    receiver = await TestReceiver.start();
    admin = bearer(herald.adminKey);
    await herald.http().post('/v1/secrets').set(admin).send({ name: 'API_TOKEN', value: 'tok-live-0123456789abcdef' }).expect(201);
    await herald.http().post('/v1/secrets').set(admin).send({ name: 'CHANNEL', value: 'ml-alerts-channel' }).expect(201);
    await herald.http().post('/v1/secrets').set(admin).send({ name: 'HEX_SIGNING', value: 'deadbeefdeadbeefdeadbeef' }).expect(201);
  });
  afterAll(async () => {
    await receiver.close();
    await herald.destroy();
  });
  beforeEach(() => {
    receiver.clear();
    receiver.respondWith({ status: 200, body: 'ok' });
  });

  const create = (body: Record<string, unknown>) => herald.http().post('/v1/webhooks').set(admin).send(body);
  let counter = 0;
  const uniqueName = (prefix = 'hook') => `${prefix}-${++counter}`;

  describe('CRUD', () => {
    it('creates with the kind\'s defaults and reads it back', async () => {
      const res = await create({ name: 'slack alerts', url: 'https://hooks.slack.com/services/T000/B000/XXXX', kind: 'slack' }).expect(201);
      expect(res.body).toMatchObject({
        id: expect.stringMatching(/^wh_/),
        name: 'slack alerts',
        url: 'https://hooks.slack.com/services/T000/B000/XXXX',
        kind: 'slack',
        accessTokenSecret: null,
        signingSecret: null,
        signatureSchemes: [],
        payloadSecrets: [],
        headers: {},
        delivery: { ratePerSecond: 1, burst: 1, maxConcurrency: null, maxAttempts: 8, scheduleSeconds: [0, 5, 30, 120, 600, 1800, 3600, 10800] },
        enabled: true,
        disabledReason: null,
      });
      const got = await herald.http().get(`/v1/webhooks/${res.body.id}`).set(admin).expect(200);
      expect(got.body).toEqual(res.body);
    });

    it('defaults signatureSchemes to ["standard"] when a signing secret is set', async () => {
      await herald.http().post('/v1/secrets/generate').set(admin).send({ name: 'SIGN_DEFAULT', format: 'whsec' }).expect(201);
      const res = await create({ name: uniqueName(), url: receiver.url(), kind: 'generic', signingSecret: 'SIGN_DEFAULT' }).expect(201);
      expect(res.body.signatureSchemes).toEqual(['standard']);
    });

    it('PATCH replaces the fields given, null clears, and the kind\'s defaults follow a kind change', async () => {
      const created = await create({
        name: uniqueName(),
        url: receiver.url(),
        kind: 'generic',
        accessTokenSecret: 'API_TOKEN',
        payloadSecrets: ['CHANNEL'],
        delivery: { maxAttempts: 3 },
      }).expect(201);
      expect(created.body.delivery).toMatchObject({ ratePerSecond: null, maxAttempts: 3 });
      const patched = await herald
        .http()
        .patch(`/v1/webhooks/${created.body.id}`)
        .set(admin)
        .send({ kind: 'teams', accessTokenSecret: null, headers: { 'X-Channel': '${CHANNEL}' } })
        .expect(200);
      expect(patched.body).toMatchObject({
        kind: 'teams',
        accessTokenSecret: null,
        payloadSecrets: ['CHANNEL'],
        headers: { 'X-Channel': '${CHANNEL}' },
        delivery: { ratePerSecond: 4, burst: 4, maxAttempts: 3 },
      });
      const cleared = await herald.http().patch(`/v1/webhooks/${created.body.id}`).set(admin).send({ delivery: null }).expect(200);
      expect(cleared.body.delivery.maxAttempts).toBe(8);
    });

    it('a duplicate name is a 409; another team sees 404; members see a masked credential URL', async () => {
      const name = uniqueName('dup');
      const first = await create({ name, url: 'https://discord.com/api/webhooks/123/secret-part', kind: 'discord' }).expect(201);
      const again = await create({ name, url: receiver.url(), kind: 'generic' }).expect(409);
      expect(again.body.details).toEqual([{ field: 'name', reason: 'already exists' }]);

      const other = await herald.newTeam();
      await herald.http().get(`/v1/webhooks/${first.body.id}`).set(bearer(other.adminKey)).expect(404);
      await herald.http().patch(`/v1/webhooks/${first.body.id}`).set(bearer(other.adminKey)).send({ enabled: false }).expect(404);
      await herald.http().delete(`/v1/webhooks/${first.body.id}`).set(bearer(other.adminKey)).expect(404);
      await herald.http().post(`/v1/webhooks/${first.body.id}/test`).set(bearer(other.adminKey)).send({}).expect(404);

      const member = await herald.newKey(herald.adminKey, 'member');
      const seen = await herald.http().get(`/v1/webhooks/${first.body.id}`).set(bearer(member.key)).expect(200);
      expect(seen.body.url).toBe('https://discord.com/••••••');
      const listed = await herald.http().get('/v1/webhooks?limit=200').set(bearer(member.key)).expect(200);
      expect(JSON.stringify(listed.body)).not.toContain('secret-part');
      await herald.http().post('/v1/webhooks').set(bearer(member.key)).send({ name: 'x', url: receiver.url(), kind: 'generic' }).expect(403);
      expect(herald.logs.join('\n')).not.toContain('secret-part');
    });

    it('disabling records the reason; enable re-arms', async () => {
      const created = await create({ name: uniqueName(), url: receiver.url(), kind: 'generic' }).expect(201);
      const off = await herald.http().patch(`/v1/webhooks/${created.body.id}`).set(admin).send({ enabled: false }).expect(200);
      expect(off.body).toMatchObject({ enabled: false, disabledReason: 'user' });
      const on = await herald.http().post(`/v1/webhooks/${created.body.id}/enable`).set(admin).expect(200);
      expect(on.body).toMatchObject({ enabled: true, disabledReason: null });
    });

    it('lists by name with a cursor, and deletes', async () => {
      const team = await herald.newTeam();
      const key = bearer(team.adminKey);
      for (const name of ['c', 'a', 'b']) await herald.fixtures.newWebhook(team, { name, url: receiver.url() });
      const page1 = await herald.http().get('/v1/webhooks?limit=2').set(key).expect(200);
      expect(page1.body.items.map((w: { name: string }) => w.name)).toEqual(['a', 'b']);
      const page2 = await herald.http().get(`/v1/webhooks?limit=2&cursor=${page1.body.nextCursor}`).set(key).expect(200);
      expect(page2.body).toMatchObject({ items: [{ name: 'c' }], nextCursor: null });
      await herald.http().delete(`/v1/webhooks/${page2.body.items[0].id}`).set(key).expect(204);
      await herald.http().get(`/v1/webhooks/${page2.body.items[0].id}`).set(key).expect(404);
    });
  });

  describe('bad input: 400 naming the field, nothing stored', () => {
    const base = () => ({ name: uniqueName('bad'), url: 'https://example.org/hook', kind: 'generic' });
    it.each([
      [{ url: 'not a url' }, 'url', /absolute http or https URL/],
      [{ url: 'ftp://example.org/x' }, 'url', /http or https, not ftp/],
      [{ url: 'https://user:pw@example.org/x' }, 'url', /credentials/],
      [{ kind: 'pagerduty' }, 'kind', /must be one of generic, slack, teams, github, discord/],
      [{ name: 'bad/name' }, 'name', /letters, digits/],
      [{ signatureSchemes: ['standard'] }, 'signatureSchemes', /need a signingSecret/],
      [{ signingSecret: 'API_TOKEN', signatureSchemes: ['sha1'] }, 'signatureSchemes', /must be one of standard, wandb, determined, github/],
      [{ accessTokenSecret: 'NO_SUCH' }, 'accessTokenSecret', /secret NO_SUCH does not exist/],
      [{ signingSecret: 'NO_SUCH' }, 'signingSecret', /secret NO_SUCH does not exist/],
      [{ payloadSecrets: ['CHANNEL', 'NO_SUCH'] }, 'payloadSecrets', /secret NO_SUCH does not exist/],
      [{ payloadSecrets: ['lower'] }, 'payloadSecrets', /must match/],
      [{ headers: { Authorization: 'Bearer x' } }, 'headers.Authorization', /.+/],
      [{ headers: { 'content-type': 'text/plain' } }, 'headers.content-type', /.+/],
      [{ headers: { 'X-Hub-Signature-256': 'x' } }, 'headers.X-Hub-Signature-256', /.+/],
      [{ headers: { 'X-Token': '${CHANNEL}' } }, 'headers.X-Token', /CHANNEL.*not bound/],
      [{ headers: { 'X-Token': 'a\r\nX-Evil: 1' } }, 'headers.X-Token', /CR, LF/],
      [{ signingSecret: 'HEX_SIGNING' }, 'signingSecret', /base64/],
      [{ delivery: { maxAttempts: 0 } }, 'delivery.maxAttempts', /must not be less than 1/],
      [{ extra: true }, 'extra', /not an allowed field/],
    ])('%j → %s', async (override, field, reason) => {
      const body = { ...base(), ...override };
      const res = await create(body).expect(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request', message: expect.stringContaining(field) });
      expect(res.body.details).toEqual(expect.arrayContaining([{ field, reason: expect.stringMatching(reason) }]));
      const list = await herald.http().get('/v1/webhooks?limit=200').set(admin).expect(200);
      expect(list.body.items.map((w: { name: string }) => w.name)).not.toContain(body.name);
    });

    it('three mistakes at once (the kind, a missing secret, a header using an unbound secret) answer one 400 naming all three', async () => {
      const body = { ...base(), kind: 'pagerduty', accessTokenSecret: 'NO_SUCH', headers: { 'X-Token': '${CHANNEL}' } };
      const res = await create(body).expect(400);
      expect(res.body.details).toEqual(
        expect.arrayContaining([
          { field: 'kind', reason: expect.stringMatching(/must be one of/) },
          { field: 'accessTokenSecret', reason: expect.stringMatching(/NO_SUCH does not exist/) },
          { field: 'headers.X-Token', reason: expect.stringMatching(/CHANNEL.*not bound/) },
        ]),
      );
      expect(res.body.details).toHaveLength(3);

      // a field wrong in its form is reported once, not again by the checks that need the database
      const once = await create({ ...base(), payloadSecrets: ['lower'], signingSecret: 'NO_SUCH', url: 'ftp://x' }).expect(400);
      expect(once.body.details.map((d: { field: string }) => d.field).sort()).toEqual(['payloadSecrets', 'signingSecret', 'url']);

      const created = await create({ name: uniqueName(), url: receiver.url(), kind: 'generic' }).expect(201);
      const patch = await herald.http().patch(`/v1/webhooks/${created.body.id}`).set(admin)
        .send({ enabled: 'yes', signingSecret: 'NO_SUCH', headers: { 'X-Token': '${CHANNEL}' } })
        .expect(400);
      expect(patch.body.details.map((d: { field: string }) => d.field).sort()).toEqual(['enabled', 'headers.X-Token', 'signingSecret']);
    });

    it('a bad PATCH changes nothing', async () => {
      const created = await create({ name: uniqueName(), url: receiver.url(), kind: 'generic' }).expect(201);
      await herald.http().patch(`/v1/webhooks/${created.body.id}`).set(admin).send({ url: 'gopher://x', name: 'renamed' }).expect(400);
      const got = await herald.http().get(`/v1/webhooks/${created.body.id}`).set(admin).expect(200);
      expect(got.body).toEqual(created.body);
    });
  });

  it('a secret bound to a webhook is listed as used and cannot be deleted (409 naming the webhook)', async () => {
    await herald.http().post('/v1/secrets').set(admin).send({ name: 'BOUND_ONE', value: 'bound-value-123456' }).expect(201);
    const name = uniqueName('binder');
    const created = await create({ name, url: receiver.url(), kind: 'generic', payloadSecrets: ['BOUND_ONE'] }).expect(201);
    const refused = await herald.http().delete('/v1/secrets/BOUND_ONE').set(admin).expect(409);
    expect(refused.body.message).toContain(name);
    const secrets = await herald.http().get('/v1/secrets?limit=200').set(admin).expect(200);
    const bound = secrets.body.items.find((s: { name: string }) => s.name === 'BOUND_ONE');
    expect(bound.usedBy).toEqual([{ kind: 'webhook', id: created.body.id, name, as: 'payloadSecrets' }]);
    await herald.http().patch(`/v1/webhooks/${created.body.id}`).set(admin).send({ payloadSecrets: null }).expect(200);
    await herald.http().delete('/v1/secrets/BOUND_ONE').set(admin).expect(204);
  });

  describe('test sends to a real receiver', () => {
    let signing: string;
    beforeAll(async () => {
      const res = await herald.http().post('/v1/secrets/generate').set(admin).send({ name: 'SIGNING', format: 'whsec' }).expect(201);
      signing = res.body.value;
    });

    it('arrives with the Bearer token, extra headers and every scheme\'s signature, each verified independently', async () => {
      const created = await create({
        name: uniqueName('signed'),
        url: receiver.url('/hook?x=1'),
        kind: 'generic',
        accessTokenSecret: 'API_TOKEN',
        signingSecret: 'SIGNING',
        signatureSchemes: ['standard', 'wandb', 'determined', 'github'],
        payloadSecrets: ['CHANNEL'],
        headers: { 'X-Channel': 'chan=${CHANNEL}', 'X-Price': 'costs $$5' },
      }).expect(201);
      receiver.respondWith({ status: 200, body: 'echo tok-live-0123456789abcdef and ml-alerts-channel' });

      const res = await herald.http().post(`/v1/webhooks/${created.body.id}/test`).set(admin).send({}).expect(200);
      expect(res.body).toMatchObject({ ok: true, statusCode: 200, error: null });
      expect(res.body.durationMs).toEqual(expect.any(Number));
      expect(res.body.responseExcerpt).toBe('echo •••••• and ••••••');

      expect(receiver.requests).toHaveLength(1);
      const got = receiver.last();
      expect(got.method).toBe('POST');
      expect(got.path).toBe('/hook?x=1');
      const h = got.headers;
      expect(h['authorization']).toBe('Bearer tok-live-0123456789abcdef');
      expect(h['content-type']).toBe('application/json');
      expect(h['user-agent']).toMatch(/^Herald\/\d+\.\d+\.\d+/);
      expect(h['x-herald-event']).toBe('TEST');
      expect(h['x-herald-delivery']).toMatch(/^msg_/);
      expect(h['x-channel']).toBe('chan=ml-alerts-channel');
      expect(h['x-price']).toBe('costs $5');

      // standard: the reference library's verify
      expect(() =>
        new Webhook(signing).verify(got.body, {
          'webhook-id': String(h['webhook-id']),
          'webhook-timestamp': String(h['webhook-timestamp']),
          'webhook-signature': String(h['webhook-signature']),
        }),
      ).not.toThrow();
      expect(h['webhook-id']).toBe(h['x-herald-delivery']);
      // github: Octokit's verify
      await expect(verifyGithubSignature(signing, got.body, String(h['x-hub-signature-256']))).resolves.toBe(true);
      // wandb (the W&B automations docs) and determined (the Determined webhook docs): HMAC-SHA256 over the raw bytes, the secret verbatim
      expect(h['x-wandb-signature']).toBe(hmacHex(signing, got.body));
      const ts = String(h['x-determined-ai-signature-timestamp']);
      expect(Math.abs(Number(ts) - Date.now() / 1000)).toBeLessThan(60);
      expect(h['x-determined-ai-signature']).toBe(hmacHex(signing, `${ts},${got.body}`));

      // the default preset of a generic webhook over the documented sample
      const body = JSON.parse(got.body);
      expect(body).toMatchObject({
        event_type: 'RUN_STATE',
        automation: null,
        delivery_id: h['x-herald-delivery'],
        event: { type: 'RUN_STATE', project: 'herald', run: { id: 'herald-test', name: 'herald-test', state: 'FINISHED' } },
      });
      expect(herald.logs.join('\n')).not.toMatch(/tok-live-0123456789abcdef|ml-alerts-channel|whsec_/);
    });

    it('a custom payload renders the sample\'s variables and bound secrets; unknown names are a 400', async () => {
      const created = await create({
        name: uniqueName('custom'),
        url: receiver.url(),
        kind: 'github',
        accessTokenSecret: 'API_TOKEN',
      }).expect(201);
      const payload = { event_type: 'herald-${run_state}', client_payload: { run: '${run_name}', token: '${ACCESS_TOKEN}', price: '$5', unknown_here: '${metric_value}' } };
      const res = await herald.http().post(`/v1/webhooks/${created.body.id}/test`).set(admin).send({ payload }).expect(200);
      expect(res.body.ok).toBe(true);
      expect(JSON.parse(receiver.last().body)).toEqual({
        event_type: 'herald-FINISHED',
        client_payload: { run: 'herald-test', token: 'tok-live-0123456789abcdef', price: '$5', unknown_here: '' },
      });
      expect(receiver.last().headers).toMatchObject({ accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28' });

      receiver.clear();
      const bad = await herald
        .http()
        .post(`/v1/webhooks/${created.body.id}/test`)
        .set(admin)
        .send({ payload: { a: '${runName}', b: '${CHANNEL}' } })
        .expect(400);
      expect(bad.body.details).toEqual(
        expect.arrayContaining([
          { field: 'payload.a', reason: expect.stringContaining('unknown variable ${runName}') },
          { field: 'payload.b', reason: expect.stringContaining('not bound') },
        ]),
      );
      expect(receiver.requests).toHaveLength(0);
    });

    it('a failing receiver gives ok false with its status and excerpt', async () => {
      const created = await create({ name: uniqueName('failing'), url: receiver.url(), kind: 'slack' }).expect(201);
      receiver.respondWith({ status: 500, body: 'boom' });
      const res = await herald.http().post(`/v1/webhooks/${created.body.id}/test`).set(admin).send({}).expect(200);
      expect(res.body).toMatchObject({ ok: false, statusCode: 500, responseExcerpt: 'boom' });
      const slackBody = JSON.parse(receiver.last().body);
      expect(typeof slackBody.text).toBe('string');
      expect(slackBody.text).toContain('herald-test');
    });

    it('an unreachable receiver gives ok false with a clear error', async () => {
      const closed = await TestReceiver.start();
      const url = closed.url();
      await closed.close();
      const created = await create({ name: uniqueName('closed'), url, kind: 'generic' }).expect(201);
      const res = await herald.http().post(`/v1/webhooks/${created.body.id}/test`).set(admin).send({}).expect(200);
      expect(res.body).toMatchObject({ ok: false, statusCode: null });
      expect(res.body.error).toMatch(/ECONNREFUSED|refused/i);
    });
  });
});

/** Whether this machine has an IPv6 loopback to listen on (the [::1] case is skipped, visibly, without one). */
const HAS_IPV6_LOOPBACK = Object.values(networkInterfaces()).some((addresses) => addresses?.some((a) => a.address === '::1'));

describe('SSRF guard with an empty allow-list (e2e, loopback only)', () => {
  let herald: TestHerald;
  let receiver: TestReceiver;
  let admin: Record<string, string>;
  let ipv6: TestReceiver | null = null;
  let created = 0;

  beforeAll(async () => {
    herald = await TestHerald.start();
    receiver = await TestReceiver.start();
    if (HAS_IPV6_LOOPBACK) ipv6 = await TestReceiver.start('::1');
    admin = bearer(herald.adminKey);
  });
  afterAll(async () => {
    await receiver.close();
    await ipv6?.close();
    await herald.destroy();
  });

  /** A webhook to `url` is refused at test-send time, before any connection reaches `target`. */
  async function expectRefusedBeforeConnecting(url: string, target: TestReceiver): Promise<void> {
    const hook = await herald.http().post('/v1/webhooks').set(admin).send({ name: `ssrf-${created++}`, url, kind: 'generic' }).expect(201);
    const res = await herald.http().post(`/v1/webhooks/${hook.body.id}/test`).set(admin).send({}).expect(200);
    expect(res.body).toMatchObject({ ok: false, statusCode: null });
    expect(res.body.error).toMatch(/loopback/);
    expect(res.body.error).toMatch(/HERALD_ALLOWED_NETWORKS/);
    expect(target.connections).toBe(0);
    expect(target.requests).toHaveLength(0);
  }

  it.each(['127.0.0.1', '[::ffff:127.0.0.1]', 'localhost'])('refuses loopback target %s before connecting', async (host) => {
    await expectRefusedBeforeConnecting(receiver.url('/x', host), receiver);
  });

  (HAS_IPV6_LOOPBACK ? it : it.skip)('refuses loopback target [::1] before connecting', async () => {
    await expectRefusedBeforeConnecting(ipv6!.url('/x', '[::1]'), ipv6!);
  });
});
