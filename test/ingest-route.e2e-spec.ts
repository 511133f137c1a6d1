import { gzipSync } from 'node:zlib';
import { TestHerald, bearer } from './support/herald';
import { sendRaw } from './support/raw-http';
import { newQueuePrefix, onPostgres, requireRedis } from './support/services';

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const runState = (id: string, state = 'RUNNING') => ({ type: 'RUN_STATE', project: 'route', run: { id, name: id, state } });

/**
 * POST /v1/events is served by a raw node:http route in front of Express and Nest
 * (src/events/ingest-route.ts). These pin what that route could answer differently from the
 * pipeline every other endpoint goes through: body errors, authentication and roles, error
 * shapes, headers, the access log, and that every other /v1/events path still reaches Nest.
 */
describe('POST /v1/events on the raw route (e2e)', () => {
  let herald: TestHerald;
  let admin: Record<string, string>;
  const post = (headers: Record<string, string>, body?: Buffer, path = '/v1/events') => sendRaw(herald.url, 'POST', path, headers, body);
  const asJson = { 'Content-Type': 'application/json' };
  const stored = async (id: string) => (await herald.http().get(`/v1/events?limit=200&project=route`).set(admin).expect(200)).body.items.some((e: { runId: string | null }) => e.runId === id);

  beforeAll(async () => {
    herald = await TestHerald.start();
    admin = bearer(herald.adminKey);
  });
  afterAll(() => herald.destroy());

  it('answers 200 with the results as JSON, stores the event and logs the request', async () => {
    const res = await post({ ...admin, ...asJson }, json(runState('ok-1')));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(JSON.stringify(res.body)));
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.body).toEqual({ results: [expect.objectContaining({ id: expect.any(String), duplicate: false })] });
    expect(await stored('ok-1')).toBe(true);
    const lines = herald.logs.map((line) => JSON.parse(line)).filter((entry) => entry.msg === 'request' && entry.method === 'POST' && entry.path === '/v1/events');
    expect(lines.at(-1)).toMatchObject({ context: 'HTTP', statusCode: 200, durationMs: expect.any(Number) });
  });

  it('is routed as Express routed it: any case, one trailing slash, a query string', async () => {
    for (const path of ['/v1/events/', '/V1/Events?source=cli']) {
      const res = await post({ ...admin, ...asJson }, json(runState(`path-${path.length}`)), path);
      expect(res.status).toBe(200);
      expect(res.body.results).toHaveLength(1);
    }
    const logged = herald.logs.map((line) => JSON.parse(line)).filter((entry) => entry.msg === 'request').map((entry) => entry.path);
    expect(logged).toEqual(expect.arrayContaining(['/v1/events/', '/V1/Events']));
  });

  describe('the body', () => {
    it('refuses malformed JSON with a 400 naming the body', async () => {
      const res = await post({ ...admin, ...asJson }, Buffer.from('{"type": "RUN_STATE",'));
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: 'Malformed JSON body', details: [{ field: 'body', reason: 'is not valid JSON' }] });
      const lines = herald.logs.map((line) => JSON.parse(line)).filter((entry) => entry.msg === 'request' && entry.path === '/v1/events');
      expect(lines.at(-1)).toMatchObject({ statusCode: 400 });
    });

    it.each(['text/plain', 'application/x-www-form-urlencoded'])('refuses JSON sent as %s with a 415', async (type) => {
      const res = await post({ ...admin, 'Content-Type': type }, json(runState('as-text')));
      expect(res.status).toBe(415);
      expect(res.body).toMatchObject({ statusCode: 415, error: 'Unsupported Media Type', details: [{ field: 'body', reason: 'must be sent as application/json' }] });
      expect(res.body.message).toContain(`Content-Type ${type}`);
    });

    it('refuses another charset with a 415', async () => {
      const res = await post({ ...admin, 'Content-Type': 'application/json; charset=latin1' }, json(runState('latin1')));
      expect(res.status).toBe(415);
      expect(res.body.details).toEqual([{ field: 'body', reason: 'must be UTF-8' }]);
    });

    it('refuses a body over 8 MiB with a 413 before reading it, nothing stored', async () => {
      const limit = 8 * 1024 * 1024;
      const body = Buffer.alloc(limit + 1, 0x20);
      body.write(JSON.stringify(runState('too-big')));
      const res = await post({ ...admin, ...asJson }, body);
      expect(res.status).toBe(413);
      expect(res.body).toEqual({
        statusCode: 413,
        error: 'Payload Too Large',
        message: `Request body is larger than the limit of ${limit} bytes`,
        details: [{ field: 'body', reason: `exceeds ${limit} bytes` }],
      });
      expect(await stored('too-big')).toBe(false);
    });

    it('takes a gzip body; a corrupt one is a 400 naming the encoding; an unknown encoding a 415', async () => {
      const ok = await post({ ...admin, ...asJson, 'Content-Encoding': 'gzip' }, gzipSync(json(runState('zipped'))));
      expect(ok.status).toBe(200);
      expect(await stored('zipped')).toBe(true);

      const corrupt = await post({ ...admin, ...asJson, 'Content-Encoding': 'gzip' }, Buffer.from('not gzip at all'));
      expect(corrupt.status).toBe(400);
      expect(corrupt.body.message).toContain('Content-Encoding: gzip');
      expect(corrupt.body.details).toEqual([{ field: 'body', reason: expect.stringContaining('is not valid gzip data') }]);

      const unknown = await post({ ...admin, ...asJson, 'Content-Encoding': 'x-squash' }, json(runState('squashed')));
      expect(unknown.status).toBe(415);
      expect(unknown.body).toEqual({ statusCode: 415, error: 'Unsupported Media Type', message: 'Unsupported body encoding; send UTF-8 JSON' });
    });

    it('refuses a batch naming every invalid field, nothing stored', async () => {
      const batch = [runState('batch-ok'), { type: 'RUN_STATE', project: 'route', run: { id: 'batch-bad', state: 'SLEEPING' } }, { type: 'NOPE', project: 'route' }];
      const res = await post({ ...admin, ...asJson }, json(batch));
      expect(res.status).toBe(400);
      expect(res.body.statusCode).toBe(400);
      expect(res.body.error).toBe('Bad Request');
      const fields: string[] = res.body.details.map((d: { field: string }) => d.field);
      expect(fields.some((f) => f.startsWith('events[1].'))).toBe(true);
      expect(fields.some((f) => f.startsWith('events[2].'))).toBe(true);
      expect(fields.some((f) => f.startsWith('events[0]'))).toBe(false);
      for (const field of fields) expect(res.body.message).toContain(field);
      expect(await stored('batch-ok')).toBe(false);
    });

    it('refuses an empty JSON body as validation does', async () => {
      const res = await post({ ...admin, ...asJson }, Buffer.alloc(0));
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request', details: expect.any(Array) });
    });
  });

  describe('authentication and roles', () => {
    const event = json(runState('auth'));

    it('answers 401 without a key, with an unknown key, or a non-bearer header', async () => {
      for (const headers of [{}, bearer('hrd_not_a_real_key_at_all'), { Authorization: `Basic ${herald.adminKey}` }]) {
        const res = await post({ ...headers, ...asJson }, event);
        expect(res.status).toBe(401);
        expect(res.body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
        expect(JSON.stringify(res.body)).not.toContain(herald.adminKey);
      }
      expect((await post(asJson, event)).body.message).toBe('Missing API key: send "Authorization: Bearer <key>"');
      expect((await post({ ...bearer('hrd_not_a_real_key_at_all'), ...asJson }, event)).body.message).toBe('Unknown or revoked API key');
    });

    it('takes an ingest key, refuses a member key with the 403 of the guard', async () => {
      const ingest = await herald.newKey(herald.adminKey, 'ingest');
      expect((await post({ ...bearer(ingest.key), ...asJson }, json(runState('by-ingest')))).status).toBe(200);
      const member = await herald.newKey(herald.adminKey, 'member');
      const res = await post({ ...bearer(member.key), ...asJson }, event);
      expect(res.status).toBe(403);
      expect(res.body).toEqual({ statusCode: 403, error: 'Forbidden', message: "This endpoint needs a key with role admin or ingest; this key's role is member" });
    });

    it('refuses a revoked key from the next request on', async () => {
      const key = await herald.newKey(herald.adminKey, 'ingest');
      expect((await post({ ...bearer(key.key), ...asJson }, json(runState('before-revoke')))).status).toBe(200);
      await herald.http().delete(`/v1/api-keys/${key.id}`).set(admin).expect(204);
      const res = await post({ ...bearer(key.key), ...asJson }, json(runState('after-revoke')));
      expect(res.status).toBe(401);
      expect(res.body.message).toBe('Unknown or revoked API key');
      expect(await stored('after-revoke')).toBe(false);
    });

    it('reads the body before the key, as the pipeline did: a malformed body without a key is a 400', async () => {
      expect((await post(asJson, Buffer.from('{'))).status).toBe(400);
    });
  });

  describe('every other /v1/events request still goes through Express and Nest', () => {
    it('lists and reads events with a member key; an ingest key may not', async () => {
      const member = await herald.newKey(herald.adminKey, 'member');
      const list = await herald.http().get('/v1/events?project=route').set(bearer(member.key)).expect(200);
      const id = list.body.items[0].id as string;
      await herald.http().get(`/v1/events/${id}`).set(bearer(member.key)).expect(200);
      const ingest = await herald.newKey(herald.adminKey, 'ingest');
      const refused = await herald.http().get('/v1/events').set(bearer(ingest.key)).expect(403);
      expect(refused.body.message).toBe("This endpoint needs a key with role admin or member; this key's role is ingest");
      await herald.http().get('/v1/events/evt_missing').set(admin).expect(404);
    });

    it('answers a POST to another path and another method on /v1/events as Express does', async () => {
      const nested = await post({ ...admin, ...asJson }, json(runState('nested')), '/v1/events/extra');
      expect(nested.status).toBe(404);
      expect(nested.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
      const put = await sendRaw(herald.url, 'PUT', '/v1/events', { ...admin, ...asJson }, json(runState('put')));
      expect(put.status).toBe(404);
      expect(await stored('nested')).toBe(false);
    });
  });
});

/** HERALD_ROLE=worker needs PostgreSQL and Redis: only the e2e-pg project can start one. */
(onPostgres ? describe : describe.skip)('POST /v1/events on a worker process (e2e-pg)', () => {
  let worker: TestHerald;
  beforeAll(async () => {
    worker = await TestHerald.start({ env: { REDIS_URL: requireRedis(), HERALD_QUEUE_PREFIX: newQueuePrefix('route-worker'), HERALD_ROLE: 'worker' } });
  });
  afterAll(() => worker?.destroy());

  it('is refused with the 404 of every API path on a worker', async () => {
    const res = await sendRaw(worker.url, 'POST', '/v1/events', { ...bearer(worker.adminKey), 'Content-Type': 'application/json' }, json(runState('on-worker')));
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ statusCode: 404, error: 'Not Found', message: expect.stringContaining('HERALD_ROLE=worker') });
  });
});
