import { Webhook } from 'standardwebhooks';
import type { TeamFixture } from './support/fixtures';
import { TestHerald, bearer } from './support/herald';
import { alertPipeline } from './support/pipeline';
import { TestReceiver } from './support/receiver';
import { waitFor } from './support/wait';

describe('durable delivery (e2e)', () => {
  let herald: TestHerald;
  let receiver: TestReceiver;
  let admin: Record<string, string>;
  let team: TeamFixture;
  let signing: string;

  beforeAll(async () => {
    herald = await TestHerald.start({
      env: { HERALD_ALLOWED_NETWORKS: '127.0.0.1/32', HERALD_DISABLE_AFTER: '1s', HERALD_HTTP_DEADLINE_MS: '500' },
    });
    receiver = await TestReceiver.start();
    admin = bearer(herald.adminKey);
    team = await herald.team();
    signing = (await herald.http().post('/v1/secrets/generate').set(admin).send({ name: 'SIGNING', format: 'whsec' }).expect(201)).body.value;
  });
  afterAll(async () => {
    await receiver.close();
    await herald.destroy();
  });

  /** A webhook on its own path (signed with SIGNING), an automation on ERROR alerts of its own project, and a poster. */
  const pipeline = (webhook: Record<string, unknown> = {}) => alertPipeline(herald, team, receiver, { signingSecret: 'SIGNING', ...webhook });

  it('500, 500, 200: three attempts with the same webhook-id and valid signatures, all in the history', async () => {
    const p = await pipeline({ delivery: { scheduleSeconds: [0, 0, 0] } });
    receiver.respondSequence([{ status: 500, body: 'no' }, { status: 500, body: 'no' }]);
    const [id] = await p.post();
    const got = await receiver.waitForRequests(3, 20_000, p.path);
    expect(new Set(got.map((r) => r.headers['webhook-id']))).toEqual(new Set([id]));
    for (const request of got) {
      expect(() =>
        new Webhook(signing).verify(request.body, {
          'webhook-id': String(request.headers['webhook-id']),
          'webhook-timestamp': String(request.headers['webhook-timestamp']),
          'webhook-signature': String(request.headers['webhook-signature']),
        }),
      ).not.toThrow();
    }
    const detail = await waitFor('success recorded', async () => {
      const d = await p.delivery(id);
      return d.status === 'succeeded' ? d : undefined;
    });
    expect(detail.attempts.map((a: { number: number; statusCode: number; willRetry: boolean }) => [a.number, a.statusCode, a.willRetry])).toEqual([
      [1, 500, true],
      [2, 500, true],
      [3, 200, false],
    ]);
  });

  it('shows the request an attempt sends: the URL (masked for members where it is a credential) and the headers, no secret value', async () => {
    const p = await pipeline({ kind: 'slack' });
    const [id] = await p.post();
    const [sent] = await receiver.waitForRequests(1, 20_000, p.path);
    const detail = await waitFor('succeeded', async () => {
      const d = await p.delivery(id);
      return d.status === 'succeeded' ? d : undefined;
    });
    expect(detail.request.url).toBe(receiver.url(p.path));
    // The same headers as the attempt, signatures not computed, the signing secret nowhere.
    const shown = Object.keys(detail.request.headers).map((name) => name.toLowerCase()).sort();
    const received = Object.keys(sent.headers).filter((name) => !['host', 'content-length', 'connection'].includes(name)).sort();
    expect(shown).toEqual(received);
    expect(detail.request.headers['webhook-signature']).toBe('(computed at each attempt)');
    expect(detail.request.headers['X-Herald-Delivery']).toBe(id);
    expect(JSON.stringify(detail)).not.toContain(signing);
    expect(JSON.stringify(detail)).not.toContain(signing.slice('whsec_'.length));

    const member = await herald.newKey(herald.adminKey, 'member');
    const seen = (await herald.http().get(`/v1/deliveries/${id}`).set(bearer(member.key)).expect(200)).body;
    expect(seen.request.url).toBe(`${new URL(receiver.url(p.path)).origin}/••••••`);
    expect(JSON.stringify(seen)).not.toContain(p.path);
  });

  it('429 with Retry-After: 2 delays the next attempt by at least 2 s', async () => {
    const p = await pipeline({ delivery: { scheduleSeconds: [0, 0] } });
    receiver.respondSequence([{ status: 429, headers: { 'retry-after': '2' } }]);
    await p.post();
    const [first, second] = await receiver.waitForRequests(2, 20_000, p.path);
    expect(second.at - first.at).toBeGreaterThanOrEqual(2000);
  });

  it('final answers are not retried: 400, 301 (not followed), and 410 disables the webhook (gone)', async () => {
    for (const [status, headers] of [[400, {}], [301, { location: receiver.url('/elsewhere') }]] as const) {
      const p = await pipeline({ delivery: { scheduleSeconds: [0, 0, 0] } });
      receiver.respondSequence([{ status, headers }]);
      const [id] = await p.post();
      const d = await waitFor('final', async () => ((await p.delivery(id)).status === 'failed' ? p.delivery(id) : undefined));
      expect(d.attempts).toHaveLength(1);
      expect(d.lastStatusCode).toBe(status);
    }
    expect(receiver.requests.filter((r) => r.path === '/elsewhere')).toHaveLength(0);

    const gone = await pipeline();
    receiver.respondSequence([{ status: 410 }]);
    const [id] = await gone.post();
    await waitFor('failed', async () => (await gone.delivery(id)).status === 'failed');
    const webhook = await herald.http().get(`/v1/webhooks/${gone.webhookId}`).set(admin).expect(200);
    expect(webhook.body).toMatchObject({ enabled: false, disabledReason: 'gone' });
    await herald.http().post(`/v1/deliveries/${id}/redeliver`).set(admin).expect(409);
  });

  it('a hanging receiver and a reset connection are retryable failures with their error class', async () => {
    const p = await pipeline({ delivery: { scheduleSeconds: [0, 0, 0] } });
    receiver.respondSequence(['hang', 'reset']);
    const [id] = await p.post();
    const d = await waitFor('success after two failures', async () => {
      const got = await p.delivery(id);
      return got.status === 'succeeded' ? got : undefined;
    });
    expect(d.attempts.map((a: { errorClass: string | null }) => a.errorClass)).toEqual(['timeout', 'network', null]);
  });

  it('a receiver down past HERALD_DISABLE_AFTER disables the webhook and holds its deliveries; enable delivers them all', async () => {
    const p = await pipeline({ delivery: { scheduleSeconds: [0, 1], maxAttempts: 20 } });
    receiver.respondWith({ status: 503 });
    const ids = await p.post(3);
    await waitFor('disabled', async () => {
      const w = await herald.http().get(`/v1/webhooks/${p.webhookId}`).set(admin);
      return w.body.disabledReason === 'failing';
    });
    await waitFor('held', async () => {
      const list = await herald.http().get(`/v1/deliveries?webhook=${p.webhookId}`).set(admin);
      return list.body.items.every((d: { status: string }) => d.status === 'held');
    });
    // new matches while disabled are held too
    const more = await p.post(1);
    const late = await herald.http().get(`/v1/deliveries/${more[0]}`).set(admin).expect(200);
    expect(late.body.status).toBe('held');

    receiver.respondWith({ status: 200, body: 'ok' });
    const before = p.received().length;
    await herald.http().post(`/v1/webhooks/${p.webhookId}/enable`).set(admin).expect(200);
    await waitFor('all delivered', async () => {
      const list = await herald.http().get(`/v1/deliveries?webhook=${p.webhookId}`).set(admin);
      return list.body.items.length === 4 && list.body.items.every((d: { status: string }) => d.status === 'succeeded');
    });
    const delivered = new Set(p.received().slice(before).map((r) => r.headers['webhook-id']));
    expect(delivered).toEqual(new Set([...ids, ...more]));
  });

  it('a webhook limited to 5/s (burst 5) gets 20 deliveries in no less than 3 s, none dropped', async () => {
    const p = await pipeline({ delivery: { ratePerSecond: 5, burst: 5 } });
    const started = Date.now();
    const ids = await p.post(20);
    const got = await receiver.waitForRequests(20, 30_000, p.path);
    expect(got[got.length - 1].at - started).toBeGreaterThanOrEqual(3000);
    expect(new Set(got.map((r) => r.headers['webhook-id']))).toEqual(new Set(ids));
  });

  it('history: filters, newest first, redelivery as a new series, 404 for another team', async () => {
    const p = await pipeline();
    const [id] = await p.post();
    await waitFor('succeeded', async () => (await p.delivery(id)).status === 'succeeded');
    const list = await herald.http().get(`/v1/deliveries?webhook=${p.webhookId}&status=succeeded`).set(admin).expect(200);
    expect(list.body.items.map((d: { id: string }) => d.id)).toEqual([id]);
    await herald.http().get('/v1/deliveries?status=lost').set(admin).expect(400);

    const again = await herald.http().post(`/v1/deliveries/${id}/redeliver`).set(admin).expect(200);
    expect(again.body).toMatchObject({ id, series: 2, status: 'pending' });
    const d = await waitFor('second series', async () => {
      const got = await p.delivery(id);
      return got.status === 'succeeded' && got.series === 2 ? got : undefined;
    });
    expect(d.attempts.map((a: { series: number; number: number }) => [a.series, a.number])).toEqual([
      [1, 1],
      [2, 1],
    ]);
    expect(d.body).toBe('{"n":"t0"}');

    const other = await herald.newTeam();
    await herald.http().get(`/v1/deliveries/${id}`).set(bearer(other.adminKey)).expect(404);
    await herald.http().post(`/v1/deliveries/${id}/redeliver`).set(bearer(other.adminKey)).expect(404);
  });
});

describe('deliveries waiting for a send slot (e2e)', () => {
  let herald: TestHerald;
  let receiver: TestReceiver;
  let admin: Record<string, string>;
  let team: TeamFixture;

  beforeAll(async () => {
    herald = await TestHerald.start({ env: { HERALD_ALLOWED_NETWORKS: '127.0.0.1/32' } });
    receiver = await TestReceiver.start();
    admin = bearer(herald.adminKey);
    team = await herald.team();
  });
  afterAll(async () => {
    await receiver.close();
    await herald.destroy();
  });

  it('follow their webhook: paused ones are held, moved ones go to the new URL', async () => {
    const slow = await alertPipeline(herald, team, receiver);
    const paused = await alertPipeline(herald, team, receiver);
    const moved = await alertPipeline(herald, team, receiver);
    // Every one of the worker's 32 send slots busy until the test lets the receiver answer.
    let answer!: () => void;
    receiver.respondWith({ status: 200, body: 'ok', after: new Promise<void>((resolve) => (answer = resolve)) });
    try {
      const slowIds = await slow.post(40);
      await waitFor('every slot busy', () => (slow.received().length >= 32 ? true : undefined));
      const heldIds = await paused.post(3);
      const movedIds = await moved.post(2);
      for (const id of [...heldIds, ...movedIds]) expect((await paused.delivery(id)).status).toBe('pending');
      await herald.http().patch(`/v1/webhooks/${paused.webhookId}`).set(admin).send({ enabled: false }).expect(200);
      await herald.http().patch(`/v1/webhooks/${moved.webhookId}`).set(admin).send({ url: receiver.url(`${moved.path}-new`) }).expect(200);
      receiver.respondWith({ status: 200, body: 'ok' });
      answer();

      await receiver.waitForRequests(2, 20_000, `${moved.path}-new`);
      await receiver.waitForRequests(40, 20_000, slow.path);
      for (const id of heldIds) expect((await paused.delivery(id)).status).toBe('held');
      for (const id of movedIds) expect((await moved.delivery(id)).status).toBe('succeeded');
      expect(new Set(slow.received().map((r) => r.headers['x-herald-delivery']))).toEqual(new Set(slowIds));
      expect(paused.received()).toEqual([]);
      expect(moved.received()).toEqual([]);
    } finally {
      receiver.respondWith({ status: 200, body: 'ok' });
      answer();
    }
  });
});
