import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import type { TeamFixture } from './support/fixtures';
import { TestHerald, bearer } from './support/herald';
import { alertPipeline } from './support/pipeline';
import { type ReceivedRequest, TestReceiver } from './support/receiver';
import { onPostgres } from './support/services';
import { waitFor } from './support/wait';

/** Every row of every table of Herald's database, as JSON text. */
async function allRows(herald: TestHerald): Promise<string> {
  const db = herald.app.get(DataSource);
  const tables: { name: string }[] = onPostgres
    ? await db.query('SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()')
    : await db.query("SELECT name FROM sqlite_master WHERE type = 'table'");
  const parts: string[] = [];
  for (const { name } of tables) parts.push(JSON.stringify(await db.query(`SELECT * FROM "${name}"`)));
  return parts.join('\n');
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

describe('delivery history keeps no secret a receiver echoes (e2e)', () => {
  let herald: TestHerald;
  let receiver: TestReceiver;
  let team: TeamFixture;
  let admin: Record<string, string>;

  beforeAll(async () => {
    herald = await TestHerald.start({ env: { HERALD_ALLOWED_NETWORKS: '127.0.0.1/32' } });
    receiver = await TestReceiver.start();
    team = await herald.team();
    admin = bearer(herald.adminKey);
  });
  afterAll(async () => {
    await receiver.close();
    await herald?.destroy();
  });

  it('redacts before the 2 KiB cut, whatever the length, raw, JSON-escaped, URL-encoded and base64, and stores none of them', async () => {
    const token = 'SECRET_VALUE_A_canary1234567';
    const jsony = 'qq"leak\\me/1234';
    const short = 'Zq7';
    const basic = b64('deploy:pa55-w0rd-zz');
    for (const [name, value] of [['TOKEN', token], ['JSONY', jsony], ['SHORT', short], ['BASIC', basic]]) {
      await herald.http().post('/v1/secrets').set(admin).send({ name, value }).expect(201);
    }
    // The receiver echoes what it got; the test-send's answer puts the Authorization header across the 2 KiB cut.
    const straddle = (r: ReceivedRequest): string => 'x'.repeat(2048 - 'Bearer '.length - token.length + 2) + String(r.headers.authorization);
    const echo = (r: ReceivedRequest): string => {
      const auth = String(r.headers.authorization);
      return [
        JSON.stringify({ headers: r.headers }),
        `json=${JSON.stringify(String(r.headers['x-json']))} short=${String(r.headers['x-short'])}`,
        `uri=${encodeURIComponent(String(r.headers['x-json']))} form=${new URLSearchParams({ t: auth, j: String(r.headers['x-json']) }).toString()}`,
        `basic=${b64(`ci-user:${token}`)} decoded=${Buffer.from(String(r.headers['x-basic']).slice(6), 'base64').toString()}`,
      ].join('\n');
    };
    receiver.respondWith({ status: 500, body: straddle });
    receiver.respondSequence([{ status: 500, body: echo }]);
    const p = await alertPipeline(herald, team, receiver, {
      accessTokenSecret: 'TOKEN',
      payloadSecrets: ['JSONY', 'SHORT', 'BASIC'],
      headers: { 'X-Json': '${JSONY}', 'X-Short': '${SHORT}', 'X-Basic': 'Basic ${BASIC}' },
      delivery: { scheduleSeconds: [0] },
    });
    const [id] = await p.post();
    const detail = await waitFor('the delivery failed', async () => {
      const d = await p.delivery(id);
      return d.status === 'failed' ? d : undefined;
    });
    // The receiver did get every value: the test is not vacuous.
    expect(p.received()[0].headers.authorization).toBe(`Bearer ${token}`);
    const excerpt: string = detail.attempts[0].responseExcerpt;
    expect(excerpt).toContain('••••••');
    expect(Buffer.byteLength(excerpt)).toBeLessThanOrEqual(2048);

    const test = await herald.http().post(`/v1/webhooks/${p.webhookId}/test`).set(admin).send({}).expect(200);
    await herald.settle();
    const cut: string = JSON.parse(test.text).responseExcerpt;
    expect(cut).toMatch(/^x+Bearer ••••••$/);

    const forms = (value: string) => [
      value,
      value.slice(0, -1), // the cut's leftover
      JSON.stringify(value).slice(1, -1),
      encodeURIComponent(value),
      b64(value).slice(0, -3),
      b64(`ci-user:${token}`).slice(12, -4),
    ];
    const stored = await allRows(herald);
    expect(stored).toContain(p.webhookId); // the rows were read
    for (const value of [token, jsony, basic, 'pa55-w0rd-zz']) {
      for (const form of forms(value)) {
        expect(excerpt).not.toContain(form);
        expect(test.text).not.toContain(form);
        expect(stored).not.toContain(form);
      }
    }
    // A three-character secret is redacted too (in the history; not worth searching a whole database for).
    expect(excerpt).toContain('short=••••••');
    expect(excerpt).not.toContain(short);
    expect(JSON.parse(test.text).responseExcerpt).not.toContain(short);

    if (!onPostgres) {
      await herald.close();
      const files = readdirSync(herald.dataDir).filter((f) => f.startsWith('herald.db'));
      for (const file of files) {
        const bytes = readFileSync(join(herald.dataDir, file));
        for (const form of [token, token.slice(0, -1), JSON.stringify(jsony).slice(1, -1)]) expect(bytes.includes(Buffer.from(form))).toBe(false);
      }
      herald = await TestHerald.start({ dataDir: herald.dataDir, env: { HERALD_ALLOWED_NETWORKS: '127.0.0.1/32', HERALD_BOOTSTRAP_TOKEN: herald.adminKey } });
      team = await herald.team();
      admin = bearer(herald.adminKey);
    }
  });
});

describe('a small event cannot render a body too big to send (e2e)', () => {
  let herald: TestHerald;

  beforeAll(async () => {
    herald = await TestHerald.start({ env: { HERALD_ALLOWED_NETWORKS: '127.0.0.1/32' } });
  });
  afterAll(async () => {
    await herald?.destroy();
  });

  it('3 000 `${run_name}` × a 128 KiB run name: answered quickly, the failure recorded, /health answering, nothing stored', async () => {
    const team = await herald.team();
    const admin = bearer(team.adminKey);
    const project = 'amplified';
    const hook = await herald.fixtures.newWebhook(team);
    const teamsHook = await herald.fixtures.newWebhook(team, { kind: 'teams', url: 'http://127.0.0.1:9/teams' });
    const big = await herald.fixtures.newAutomation(team, hook, { scope: { type: 'project', name: project }, action: { payload: { n: '${run_name}'.repeat(3000) } } });
    // A body that fits a generic webhook but not Teams' documented 28 KB.
    const teams = await herald.fixtures.newAutomation(team, teamsHook, { scope: { type: 'project', name: project }, action: { payload: { n: '${run_name}' } } });
    const event = { type: 'ALERT', project, level: 'ERROR', title: 'amplify', run: { id: 'r1', name: 'r'.repeat(128 * 1024) } };

    const healthTimes: number[] = [];
    let posting = true;
    const probe = (async () => {
      while (posting) {
        const started = Date.now();
        await herald.http().get('/health').expect(200);
        healthTimes.push(Date.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    const started = Date.now();
    const res = await herald.http().post('/v1/events').set(admin).send(event);
    const took = Date.now() - started;
    posting = false;
    await probe;

    expect(res.status).toBe(200);
    expect(res.body.results[0]).toMatchObject({ matched: 0, deliveries: [] });
    // Unbounded, this took seconds and hundreds of MB (393 MB rendered); bounded, it is the cost of one 128 KiB value.
    expect(took).toBeLessThan(1500);
    expect(healthTimes.length).toBeGreaterThan(0);
    expect(Math.max(...healthTimes)).toBeLessThan(1000);

    const detail = (await herald.http().get(`/v1/events/${res.body.results[0].id}`).set(admin).expect(200)).body;
    const failed = detail.outcome?.failed ?? detail.failed;
    expect(failed).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ automationId: big.id, error: expect.stringMatching(/^The rendered body would be 39\d{7} bytes, over this webhook's limit of 16777216 bytes$/) }),
        expect.objectContaining({ automationId: teams.id, error: expect.stringMatching(/over this webhook's limit of 28672 bytes$/) }),
      ]),
    );
    const db = herald.app.get(DataSource);
    const [{ total }] = await db.query('SELECT COALESCE(SUM(LENGTH(body)), 0) AS total FROM deliveries');
    expect(Number(total)).toBe(0);
    if (!onPostgres) {
      const size = readdirSync(herald.dataDir)
        .filter((f) => f.startsWith('herald.db'))
        .reduce((sum, f) => sum + readFileSync(join(herald.dataDir, f)).length, 0);
      expect(size).toBeLessThan(32 * 1024 * 1024);
    }
  });
});

describe('event ids are unique per project: a project-limited key can neither shadow nor probe (e2e)', () => {
  let herald: TestHerald;

  beforeAll(async () => {
    herald = await TestHerald.start();
  });
  afterAll(async () => {
    await herald?.destroy();
  });

  it('p1 key posts p2-run9-step100 into p1 first; the real p2 event is still stored and matched', async () => {
    const team = await herald.team();
    const hook = await herald.fixtures.newWebhook(team);
    await herald.fixtures.newAutomation(team, hook, { scope: { type: 'project', name: 'p2' } });
    const k1 = bearer((await herald.newKey(team.adminKey, 'ingest', ['p1'])).key);
    const k2 = bearer((await herald.newKey(team.adminKey, 'ingest', ['p2'])).key);
    const id = 'p2-run9-step100';
    const alert = (project: string) => ({ id, type: 'ALERT', project, level: 'ERROR', title: `from ${project}` });

    const shadow = await herald.http().post('/v1/events').set(k1).send(alert('p1')).expect(200);
    expect(shadow.body.results[0]).toMatchObject({ id, duplicate: false, matched: 0 });

    const real = await herald.http().post('/v1/events').set(k2).send(alert('p2')).expect(200);
    expect(real.body.results[0]).toMatchObject({ id, duplicate: false, matched: 1 });
    const p2Delivery: string = real.body.results[0].deliveries[0];

    // The p1 key probing the id again learns about p1 only: its own event, no p2 delivery.
    const probe = await herald.http().post('/v1/events').set(k1).send(alert('p1')).expect(200);
    expect(probe.body.results[0]).toEqual({ index: 0, id, duplicate: true, matched: 0, deliveries: [] });
    expect(JSON.stringify(probe.body)).not.toContain(p2Delivery);
    // An id only p2 has is news to the p1 key.
    const onlyP2 = { ...alert('p2'), id: 'p2-only-7' };
    await herald.http().post('/v1/events').set(k2).send(onlyP2).expect(200);
    const guess = await herald.http().post('/v1/events').set(k1).send({ ...onlyP2, project: 'p1' }).expect(200);
    expect(guess.body.results[0]).toMatchObject({ duplicate: false, matched: 0 });

    // p2's repeat is its own duplicate, answered with its own delivery.
    const again = await herald.http().post('/v1/events').set(k2).send(alert('p2')).expect(200);
    expect(again.body.results[0]).toEqual({ index: 0, id, duplicate: true, matched: 1, deliveries: [p2Delivery] });

    const admin = bearer(team.adminKey);
    const listed = await herald.http().get(`/v1/events?project=p2`).set(admin).expect(200);
    expect(listed.body.items.filter((e: { id: string }) => e.id === id)).toHaveLength(1);
    const both = await herald.http().get('/v1/events').set(admin).expect(200);
    expect(both.body.items.filter((e: { id: string }) => e.id === id).map((e: { project: string }) => e.project).sort()).toEqual(['p1', 'p2']);
  });
});

describe('pausing a webhook holds its queue; enabling releases it (e2e)', () => {
  let herald: TestHerald;
  let receiver: TestReceiver;

  beforeAll(async () => {
    // The exchanges on the main thread here (HERALD_SENDER_THREAD=off); every other suite runs them on the sender thread.
    herald = await TestHerald.start({ env: { HERALD_ALLOWED_NETWORKS: '127.0.0.1/32', HERALD_HTTP_DEADLINE_MS: '2000', HERALD_SENDER_THREAD: 'off' } });
    receiver = await TestReceiver.start();
  });
  afterAll(async () => {
    await receiver.close();
    await herald?.destroy();
  });

  it('a retrying delivery is held by PATCH enabled:false and sent after enable; a match while paused stays cancelled', async () => {
    const team = await herald.team();
    const admin = bearer(team.adminKey);
    const p = await alertPipeline(herald, team, receiver, { delivery: { scheduleSeconds: [0, 2] } });
    receiver.respondSequence([{ status: 500, body: 'not yet' }]);
    const [queued] = await p.post();
    await waitFor('attempt 1 recorded', async () => ((await p.delivery(queued)).status === 'retrying' ? true : undefined));

    await herald.http().patch(`/v1/webhooks/${p.webhookId}`).set(admin).send({ enabled: false }).expect(200);
    expect(await p.delivery(queued)).toMatchObject({ status: 'held' });
    const [paused] = await herald.fixtures.newEvents(team, [{ type: 'ALERT', project: p.name, level: 'ERROR', title: 'while paused' }]);
    expect(paused).toMatchObject({ matched: 0, deliveries: [] });
    const outcome = (await herald.http().get(`/v1/events/${paused.id}`).set(admin).expect(200)).body.outcome;
    expect(outcome.suppressed).toEqual([expect.objectContaining({ reason: 'webhook_disabled' })]);
    const whilePaused: string = outcome.suppressed[0].deliveryId;
    expect(await p.delivery(whilePaused)).toMatchObject({ status: 'cancelled' });

    // Past the retry's due time: nothing is sent while paused, and the queued delivery is still held.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await herald.settle();
    expect(p.received()).toHaveLength(1);
    expect(await p.delivery(queued)).toMatchObject({ status: 'held' });

    await herald.http().patch(`/v1/webhooks/${p.webhookId}`).set(admin).send({ enabled: true }).expect(200);
    const done = await waitFor('the held delivery sent', async () => {
      const d = await p.delivery(queued);
      return d.status === 'succeeded' ? d : undefined;
    });
    expect(done.attempts.map((a: { number: number; statusCode: number }) => [a.number, a.statusCode])).toEqual([
      [1, 500],
      [2, 200],
    ]);
    await herald.settle();
    expect(p.received().map((r) => r.headers['x-herald-delivery'] ?? r.headers['webhook-id'])).toEqual([queued, queued]);
    expect(await p.delivery(whilePaused)).toMatchObject({ status: 'cancelled' });
  });
});
