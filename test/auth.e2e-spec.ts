import Database from 'better-sqlite3';
import { join } from 'node:path';
import { DATABASE_FILE } from '../src/database/data-source-options';
import { TestHerald, bearer } from './support/herald';
import { onPostgres } from './support/services';

describe('auth: teams, API keys, roles (e2e)', () => {
  let herald: TestHerald;

  beforeAll(async () => {
    herald = await TestHerald.start();
  });
  afterAll(() => herald.destroy());

  it('answers 401 in the error shape without a key, with an unknown key, or a non-bearer header', async () => {
    for (const headers of [{}, bearer('hrd_unknownunknownunknownunknown'), { Authorization: 'Basic YTpi' }]) {
      const res = await herald.http().get('/v1/secrets').set(headers).expect(401);
      expect(res.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: expect.any(String) });
    }
  });

  it('lets anyone read /health without a key', async () => {
    const res = await herald.http().get('/health').expect(200);
    expect(res.body).toMatchObject({ status: 'ok', database: 'up' });
  });

  it('shows a created key once; listings show only its prefix', async () => {
    const created = await herald.http().post('/v1/api-keys').set(bearer(herald.adminKey)).send({ name: 'ci', role: 'member' }).expect(201);
    expect(created.body.key).toMatch(/^hrd_[A-Za-z0-9_-]{43}$/);
    expect(created.body.prefix).toBe(created.body.key.slice(0, 12));
    const list = await herald.http().get('/v1/api-keys').set(bearer(herald.adminKey)).expect(200);
    const listed = list.body.items.find((k: { id: string }) => k.id === created.body.id);
    expect(listed).toEqual({
      id: created.body.id,
      name: 'ci',
      role: 'member',
      projects: null,
      prefix: created.body.prefix,
      createdAt: created.body.createdAt,
      lastUsedAt: null,
    });
    expect(JSON.stringify(list.body)).not.toContain(created.body.key);
  });

  it('records lastUsedAt when a key is used', async () => {
    const member = await herald.newKey(herald.adminKey, 'member');
    await herald.http().get('/v1/secrets').set(bearer(member.key)).expect(200);
    const list = await herald.http().get('/v1/api-keys').set(bearer(herald.adminKey)).expect(200);
    const row = list.body.items.find((k: { id: string }) => k.id === member.id);
    expect(Date.parse(row.lastUsedAt)).toBeGreaterThan(Date.now() - 60_000);
  });

  describe('roles', () => {
    let member: string;
    let ingest: string;
    beforeAll(async () => {
      member = (await herald.newKey(herald.adminKey, 'member')).key;
      ingest = (await herald.newKey(herald.adminKey, 'ingest', ['llm'])).key;
    });

    it('lets a member read secrets but not write them or manage keys', async () => {
      await herald.http().get('/v1/secrets').set(bearer(member)).expect(200);
      const res = await herald.http().post('/v1/secrets').set(bearer(member)).send({ name: 'X_TOKEN', value: 'v' }).expect(403);
      expect(res.body.message).toMatch(/role admin.*role is member/);
      await herald.http().get('/v1/api-keys').set(bearer(member)).expect(403);
      await herald.http().post('/v1/api-keys').set(bearer(member)).send({ name: 'x', role: 'admin' }).expect(403);
    });

    it('keeps an ingest key away from reads and admin work', async () => {
      await herald.http().get('/v1/secrets').set(bearer(ingest)).expect(403);
      await herald.http().get('/v1/api-keys').set(bearer(ingest)).expect(403);
      await herald.http().put('/v1/secrets/X').set(bearer(ingest)).send({ value: 'v' }).expect(403);
    });

    it('limits projects to ingest keys and validates the body', async () => {
      const wrong = await herald
        .http()
        .post('/v1/api-keys')
        .set(bearer(herald.adminKey))
        .send({ name: 'm', role: 'member', projects: ['a'] })
        .expect(400);
      expect(wrong.body.details).toEqual([{ field: 'projects', reason: 'only ingest keys can be limited to projects' }]);
      const bad = await herald
        .http()
        .post('/v1/api-keys')
        .set(bearer(herald.adminKey))
        .send({ name: '', role: 'owner', projects: 'a', extra: true })
        .expect(400);
      const fields = bad.body.details.map((d: { field: string }) => d.field);
      expect(fields).toEqual(expect.arrayContaining(['name', 'role', 'projects', 'extra']));
      const created = await herald.http().post('/v1/api-keys').set(bearer(herald.adminKey)).send({ name: 'i', role: 'ingest', projects: ['a', 'a', 'b'] }).expect(201);
      expect(created.body.projects).toEqual(['a', 'b']);
    });
  });

  describe('revocation', () => {
    it('takes effect on the very next request', async () => {
      const key = await herald.newKey(herald.adminKey, 'admin');
      await herald.http().get('/v1/secrets').set(bearer(key.key)).expect(200);
      await herald.http().delete(`/v1/api-keys/${key.id}`).set(bearer(herald.adminKey)).expect(204);
      await herald.http().get('/v1/secrets').set(bearer(key.key)).expect(401);
      const list = await herald.http().get('/v1/api-keys').set(bearer(herald.adminKey)).expect(200);
      expect(list.body.items.map((k: { id: string }) => k.id)).not.toContain(key.id);
      await herald.http().delete(`/v1/api-keys/${key.id}`).set(bearer(herald.adminKey)).expect(404);
    });

    it('refuses to revoke the last admin key of a team (409) but allows it once another exists', async () => {
      const team = await herald.newTeam();
      const keys = await herald.http().get('/v1/api-keys').set(bearer(team.adminKey)).expect(200);
      const [only] = keys.body.items;
      const res = await herald.http().delete(`/v1/api-keys/${only.id}`).set(bearer(team.adminKey)).expect(409);
      expect(res.body).toMatchObject({ statusCode: 409, error: 'Conflict', message: expect.stringMatching(/last admin key/) });
      await herald.http().get('/v1/secrets').set(bearer(team.adminKey)).expect(200);

      const second = await herald.newKey(team.adminKey, 'admin');
      await herald.http().delete(`/v1/api-keys/${only.id}`).set(bearer(second.key)).expect(204);
      await herald.http().get('/v1/secrets').set(bearer(team.adminKey)).expect(401);
      await herald.http().delete(`/v1/api-keys/${second.id}`).set(bearer(second.key)).expect(409);
    });

    // The embedded server keeps known keys in memory; another process writing the database
    // (an operator's command on the same SQLite file) must still revoke from the next request.
    (onPostgres ? it.skip : it)('a key revoked by another connection to the SQLite file is refused on the next request', async () => {
      const key = await herald.newKey(herald.adminKey, 'member');
      await herald.http().get('/v1/secrets').set(bearer(key.key)).expect(200);
      await herald.http().get('/v1/secrets').set(bearer(key.key)).expect(200);
      const other = new Database(join(herald.dataDir, DATABASE_FILE));
      try {
        expect(other.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ?').run(Date.now(), key.id).changes).toBe(1);
      } finally {
        other.close();
      }
      await herald.http().get('/v1/secrets').set(bearer(key.key)).expect(401);
    });

    it('counts only admin keys: members do not keep a team administrable', async () => {
      const team = await herald.newTeam();
      await herald.newKey(team.adminKey, 'member');
      const keys = await herald.http().get('/v1/api-keys').set(bearer(team.adminKey)).expect(200);
      const admin = keys.body.items.find((k: { role: string }) => k.role === 'admin');
      await herald.http().delete(`/v1/api-keys/${admin.id}`).set(bearer(team.adminKey)).expect(409);
    });
  });

  describe('team isolation', () => {
    it('hides every resource of another team behind 404, never 403', async () => {
      const a = await herald.newTeam();
      const b = await herald.newTeam();
      await herald.http().post('/v1/secrets').set(bearer(a.adminKey)).send({ name: 'SHARED_NAME', value: 'team-a-value' }).expect(201);

      const listB = await herald.http().get('/v1/secrets').set(bearer(b.adminKey)).expect(200);
      expect(listB.body.items).toEqual([]);
      await herald.http().put('/v1/secrets/SHARED_NAME').set(bearer(b.adminKey)).send({ value: 'hijack' }).expect(404);
      await herald.http().delete('/v1/secrets/SHARED_NAME').set(bearer(b.adminKey)).expect(404);

      const aKeys = await herald.http().get('/v1/api-keys').set(bearer(a.adminKey)).expect(200);
      await herald.http().delete(`/v1/api-keys/${aKeys.body.items[0].id}`).set(bearer(b.adminKey)).expect(404);
      const bKeys = await herald.http().get('/v1/api-keys').set(bearer(b.adminKey)).expect(200);
      expect(bKeys.body.items.map((k: { id: string }) => k.id)).not.toContain(aKeys.body.items[0].id);

      // Team B may use the same name for its own secret.
      await herald.http().post('/v1/secrets').set(bearer(b.adminKey)).send({ name: 'SHARED_NAME', value: 'team-b-value' }).expect(201);
      await herald.http().delete('/v1/secrets/SHARED_NAME').set(bearer(a.adminKey)).expect(204);
      const listB2 = await herald.http().get('/v1/secrets').set(bearer(b.adminKey)).expect(200);
      expect(listB2.body.items.map((s: { name: string }) => s.name)).toEqual(['SHARED_NAME']);
    });

    it('refuses duplicate team names and bad ones', async () => {
      await herald.newTeam('research');
      await expect(herald.newTeam('research')).rejects.toThrow(/already exists/);
      await expect(herald.newTeam('Not Valid')).rejects.toThrow(/must match/);
    });
  });
});
