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
