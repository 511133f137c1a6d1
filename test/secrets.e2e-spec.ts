import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { SecretResolutionError, SecretsService } from '../src/secrets/secrets.service';
import { SecretUsageRegistry } from '../src/secrets/secret-usage.registry';
import { TestHerald, bearer } from './support/herald';
import { onPostgres } from './support/services';

describe('secrets (e2e)', () => {
  let herald: TestHerald;
  let admin: Record<string, string>;

  beforeAll(async () => {
    herald = await TestHerald.start();
    admin = bearer(herald.adminKey);
  });
  afterAll(() => herald.destroy());

  describe('bad input: 400 naming the field, nothing stored', () => {
    it.each([
      [{ name: 'lower', value: 'v' }, 'name', /must match/],
      [{ name: '1ABC', value: 'v' }, 'name', /must match/],
      [{ name: 'A'.repeat(65), value: 'v' }, 'name', /must match/],
      [{ name: 'ACCESS_TOKEN', value: 'v' }, 'name', /reserved/],
      [{ name: 'OK_NAME', value: '' }, 'value', /must not be empty/],
      [{ name: 'OK_NAME', value: 42 }, 'value', /must be a string/],
      [{ name: 'OK_NAME', value: 'é'.repeat(32 * 1024 + 1) }, 'value', /at most 65536 bytes/],
      [{ name: 'OK_NAME', value: 'v', unknown: 1 }, 'unknown', /not an allowed field/],
      [{ value: 'v' }, 'name', /must be a string/],
    ])('%j → %s', async (body, field, reason) => {
      const res = await herald.http().post('/v1/secrets').set(admin).send(body).expect(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request', message: expect.stringContaining(field) });
      expect(res.body.details).toEqual(expect.arrayContaining([{ field, reason: expect.stringMatching(reason) }]));
      const list = await herald.http().get('/v1/secrets').set(admin).expect(200);
      expect(list.body.items.map((s: { name: string }) => s.name)).not.toContain('OK_NAME');
    });

    it('accepts exactly 64 KiB', async () => {
      await herald.http().post('/v1/secrets').set(admin).send({ name: 'MAX_SIZE', value: 'x'.repeat(65536) }).expect(201);
    });

    it('answers malformed JSON with 400 and an oversize body with 413', async () => {
      const malformed = await herald.http().post('/v1/secrets').set(admin).set('Content-Type', 'application/json').send('{"name": "A",').expect(400);
      expect(malformed.body).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message: 'Malformed JSON body',
        details: [{ field: 'body', reason: 'is not valid JSON' }],
      });
      const big = await herald.http().post('/v1/secrets').set(admin).send({ name: 'BIG', value: 'x'.repeat(1024 * 1024) }).expect(413);
      expect(big.body).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
    });

    it('answers a duplicate name with 409 and keeps the first value', async () => {
      await herald.http().post('/v1/secrets').set(admin).send({ name: 'DUP', value: 'first-value' }).expect(201);
      const res = await herald.http().post('/v1/secrets').set(admin).send({ name: 'DUP', value: 'second-value' }).expect(409);
      expect(res.body.details).toEqual([{ field: 'name', reason: 'already exists' }]);
      const teamId = (await herald.team()).id;
      expect(await herald.app.get(SecretsService).resolve(teamId, 'DUP')).toBe('first-value');
    });

    it('validates the name in the path and list parameters', async () => {
      const res = await herald.http().put('/v1/secrets/not-a-name').set(admin).send({ value: 'v' }).expect(400);
      expect(res.body.details).toEqual([{ field: 'name', reason: expect.stringMatching(/must match/) }]);
      await herald.http().put('/v1/secrets/MISSING').set(admin).send({ value: 'v' }).expect(404);
      await herald.http().put('/v1/secrets/DUP').set(admin).send({ value: '' }).expect(400);
      const limit = await herald.http().get('/v1/secrets?limit=0').set(admin).expect(400);
      expect(limit.body.details[0].field).toBe('limit');
      const cursor = await herald.http().get('/v1/secrets?cursor=garbage').set(admin).expect(400);
      expect(cursor.body.details[0].field).toBe('cursor');
    });
  });

  it('creates, rotates and deletes; resolve follows the current value', async () => {
    const teamId = (await herald.team()).id;
    const secrets = herald.app.get(SecretsService);
    const created = await herald.http().post('/v1/secrets').set(admin).send({ name: 'ROTATING', value: 'value-one' }).expect(201);
    expect(created.body).toEqual({ name: 'ROTATING', createdAt: expect.any(String), updatedAt: created.body.createdAt, usedBy: [], previousValues: [] });
    expect(await secrets.resolve(teamId, 'ROTATING')).toBe('value-one');

    const rotated = await herald.http().put('/v1/secrets/ROTATING').set(admin).send({ value: 'value-two' }).expect(200);
    expect(rotated.body.createdAt).toBe(created.body.createdAt);
    expect(Date.parse(rotated.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(created.body.createdAt));
    expect(await secrets.resolve(teamId, 'ROTATING')).toBe('value-two');

    await herald.http().delete('/v1/secrets/ROTATING').set(admin).expect(204);
    await expect(secrets.resolve(teamId, 'ROTATING')).rejects.toThrow(/ROTATING cannot be resolved: it does not exist/);
    await herald.http().delete('/v1/secrets/ROTATING').set(admin).expect(404);
  });

  it('generates whsec and hex signing secrets, shown once', async () => {
    const whsec = await herald.http().post('/v1/secrets/generate').set(admin).send({ name: 'GEN_WHSEC', format: 'whsec' }).expect(201);
    expect(whsec.body.value).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(whsec.body.value.slice(6), 'base64')).toHaveLength(32);
    const hex = await herald.http().post('/v1/secrets/generate').set(admin).send({ name: 'GEN_HEX', format: 'hex' }).expect(201);
    expect(hex.body.value).toMatch(/^[0-9a-f]{64}$/);
    const teamId = (await herald.team()).id;
    expect(await herald.app.get(SecretsService).resolve(teamId, 'GEN_HEX')).toBe(hex.body.value);
    const list = await herald.http().get('/v1/secrets').set(admin).expect(200);
    expect(JSON.stringify(list.body)).not.toContain(hex.body.value);
    const bad = await herald.http().post('/v1/secrets/generate').set(admin).send({ name: 'GEN_X', format: 'base32' }).expect(400);
    expect(bad.body.details).toEqual([{ field: 'format', reason: 'must be one of whsec, hex, ed25519' }]);
    await herald.http().post('/v1/secrets/generate').set(admin).send({ name: 'GEN_HEX', format: 'hex' }).expect(409);
  });

  it('paginates by name with a cursor', async () => {
    const team = await herald.newTeam();
    const names = ['P_A', 'P_B', 'P_C', 'P_D', 'P_E'];
    for (const name of [...names].reverse()) {
      await herald.http().post('/v1/secrets').set(bearer(team.adminKey)).send({ name, value: 'v' }).expect(201);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { body: { items: { name: string }[]; nextCursor: string | null } } = await herald
        .http()
        .get('/v1/secrets')
        .query({ limit: 2, ...(cursor ? { cursor } : {}) })
        .set(bearer(team.adminKey))
        .expect(200);
      seen.push(...res.body.items.map((s) => s.name));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(seen).toEqual(names);
    expect(pages).toBe(3);
  });

  it('lists usage and refuses to delete a secret in use (409 naming the user)', async () => {
    const team = await herald.newTeam();
    await herald.http().post('/v1/secrets').set(bearer(team.adminKey)).send({ name: 'USED', value: 'v' }).expect(201);
    herald.app.get(SecretUsageRegistry).register(async (teamId, names) => {
      const map = new Map<string, { kind: string; id: string; name: string; as: string }[]>();
      if (teamId === team.id && names.includes('USED')) map.set('USED', [{ kind: 'webhook', id: 'wh_1', name: 'deploy', as: 'signingSecret' }]);
      return map;
    });
    const list = await herald.http().get('/v1/secrets').set(bearer(team.adminKey)).expect(200);
    expect(list.body.items[0].usedBy).toEqual([{ kind: 'webhook', id: 'wh_1', name: 'deploy', as: 'signingSecret' }]);
    const res = await herald.http().delete('/v1/secrets/USED').set(bearer(team.adminKey)).expect(409);
    expect(res.body.message).toMatch(/in use by webhook "deploy" \(signingSecret\)/);
    const still = await herald.http().get('/v1/secrets').set(bearer(team.adminKey)).expect(200);
    expect(still.body.items).toHaveLength(1);
  });
});

describe('secret values never leak (e2e)', () => {
  it('keeps the value out of responses, logs and the database files, and survives a restart', async () => {
    const value = `leak-canary-${randomBytes(12).toString('hex')}`;
    const herald = await TestHerald.start();
    const admin = bearer(herald.adminKey);
    const bodies: string[] = [];
    const record = (res: { text: string }) => bodies.push(res.text);

    record(await herald.http().post('/v1/secrets').set(admin).send({ name: 'CANARY', value }).expect(201));
    record(await herald.http().post('/v1/secrets').set(admin).send({ name: 'CANARY', value }).expect(409));
    record(await herald.http().post('/v1/secrets').set(admin).send({ name: 'canary', value }).expect(400));
    record(await herald.http().put('/v1/secrets/CANARY').set(admin).send({ value }).expect(200));
    record(await herald.http().put('/v1/secrets/CANARY').set(admin).send({ value, extra: value }).expect(400));
    record(await herald.http().get('/v1/secrets').set(admin).expect(200));
    const teamId = (await herald.team()).id;
    expect(await herald.app.get(SecretsService).resolve(teamId, 'CANARY')).toBe(value);
    // A log line that carries the value by accident is scrubbed.
    const { Logger } = await import('@nestjs/common');
    new Logger('Test').warn(`accidentally logging ${value}`);

    for (const body of bodies) expect(body).not.toContain(value);
    expect(herald.logs.length).toBeGreaterThan(5);
    for (const line of herald.logs) expect(line).not.toContain(value);
    expect(herald.logs.some((l) => l.includes('accidentally logging ••••••'))).toBe(true);
    expect(herald.logs.join('\n')).not.toContain(herald.adminKey);

    if (onPostgres) {
      // PostgreSQL: no file to read; every stored row of every table is checked instead.
      const { DataSource } = await import('typeorm');
      const db = herald.app.get(DataSource);
      const tables: { table_name: string }[] = await db.query('SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()');
      for (const { table_name } of tables) expect(JSON.stringify(await db.query(`SELECT * FROM "${table_name}"`))).not.toContain(value);
      await herald.close();
    } else {
      await herald.close();
      const files = readdirSync(herald.dataDir).filter((f) => f.startsWith('herald.db'));
      expect(files).toContain('herald.db');
      for (const file of files) expect(readFileSync(join(herald.dataDir, file)).includes(Buffer.from(value))).toBe(false);
    }

    // Same data directory, same key file: the secret still resolves.
    const again = await TestHerald.start({ dataDir: herald.dataDir });
    expect(await again.app.get(SecretsService).resolve(teamId, 'CANARY')).toBe(value);
    await again.close();

    // A different master key: resolution fails with a clear message, and start-up says why.
    const wrong = await TestHerald.start({ dataDir: herald.dataDir, env: { HERALD_MASTER_KEY: randomBytes(32).toString('hex') } });
    const attempt = wrong.app.get(SecretsService).resolve(teamId, 'CANARY');
    await expect(attempt).rejects.toBeInstanceOf(SecretResolutionError);
    await expect(attempt).rejects.toThrow(/CANARY cannot be resolved: .*master key differs/);
    expect(wrong.logs.some((l) => /"level":"error".*master key differs from the one this database was set up with/.test(l))).toBe(true);
    await wrong.destroy();
  });

  it('detects a tampered ciphertext in the database', async () => {
    const herald = await TestHerald.start();
    await herald.http().post('/v1/secrets').set(bearer(herald.adminKey)).send({ name: 'TAMPER', value: 'original-value' }).expect(201);
    const { DataSource } = await import('typeorm');
    const db = herald.app.get(DataSource);
    const [row] = await db.query(`SELECT ciphertext FROM secrets WHERE name = 'TAMPER'`);
    const raw = Buffer.from(row.ciphertext.slice(3), 'base64');
    raw[raw.length - 1] ^= 0xff;
    await db.createQueryBuilder().update('secrets').set({ ciphertext: 'v1.' + raw.toString('base64') }).where('name = :name', { name: 'TAMPER' }).execute();
    const teamId = (await herald.team()).id;
    await expect(herald.app.get(SecretsService).resolve(teamId, 'TAMPER')).rejects.toThrow(/altered/);
    await herald.destroy();
  });
});
