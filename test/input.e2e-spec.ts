import { request as httpRequest } from 'node:http';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { TestHerald, bearer } from './support/herald';

/** Sends exact bytes (supertest would JSON-encode a Buffer sent as application/json). */
function postBytes(base: string, path: string, headers: Record<string, string>, body: Buffer): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, base), { method: 'POST', headers: { ...headers, 'Content-Length': String(body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Hostile request bodies: every one a 4xx in the error shape with the real reason, never a 500. */
describe('request input (e2e)', () => {
  let herald: TestHerald;
  let admin: Record<string, string>;

  beforeAll(async () => {
    herald = await TestHerald.start();
    admin = bearer(herald.adminKey);
  });
  afterAll(() => herald.destroy());

  const secretNames = async (): Promise<string[]> =>
    (await herald.http().get('/v1/secrets?limit=200').set(admin).expect(200)).body.items.map((s: { name: string }) => s.name);

  describe('body encoding and media type', () => {
    const json = Buffer.from(JSON.stringify({ name: 'ZIPPED', value: 'v' }));

    it.each([
      ['gzip', Buffer.from('this is not gzip at all')],
      ['gzip', gzipSync(json).subarray(0, 12)],
      ['deflate', Buffer.from('not deflate')],
      ['br', Buffer.from('not brotli either, no')],
    ])('a corrupt %s body is a 400 naming the encoding', async (encoding, body) => {
      const res = await postBytes(herald.url, '/v1/secrets', { ...admin, 'Content-Type': 'application/json', 'Content-Encoding': encoding }, body);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message: expect.stringContaining(`Content-Encoding: ${encoding}`),
        details: [{ field: 'body', reason: expect.stringContaining(`is not valid ${encoding} data`) }],
      });
      expect(await secretNames()).not.toContain('ZIPPED');
    });

    it.each([
      ['gzip', gzipSync],
      ['deflate', deflateSync],
      ['br', brotliCompressSync],
    ] as const)('a valid %s body is read', async (encoding, compress) => {
      const name = `ZIPPED_${encoding.toUpperCase()}`;
      const body = compress(Buffer.from(JSON.stringify({ name, value: 'v' })));
      const res = await postBytes(herald.url, '/v1/secrets', { ...admin, 'Content-Type': 'application/json', 'Content-Encoding': encoding }, body);
      expect(res.status).toBe(201);
      expect(await secretNames()).toContain(name);
    });

    it('a corrupt gzip body to a source receive URL is a 400 too', async () => {
      const res = await postBytes(herald.url, '/v1/sources/src_missing/receive', { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }, Buffer.from('garbage'));
      expect(res.status).toBe(400);
      expect(res.body.details).toEqual([{ field: 'body', reason: expect.stringContaining('is not valid gzip data') }]);
    });

    it('invalid UTF-8 is a 415, nothing stored', async () => {
      const bytes = Buffer.concat([Buffer.from('{"name":"BAD_UTF8","value":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]);
      const res = await postBytes(herald.url, '/v1/secrets', { ...admin, 'Content-Type': 'application/json' }, bytes);
      expect(res.status).toBe(415);
      expect(res.body).toEqual({
        statusCode: 415,
        error: 'Unsupported Media Type',
        message: expect.stringContaining('not valid UTF-8'),
        details: [{ field: 'body', reason: 'is not valid UTF-8' }],
      });
      expect(await secretNames()).not.toContain('BAD_UTF8');
    });

    it('invalid UTF-8 in an event is a 415, nothing stored', async () => {
      const event = Buffer.concat([
        Buffer.from('{"id":"utf8-bad","type":"RUN_STATE","project":"p","run":{"id":"r","name":"'),
        Buffer.from([0xed, 0xa0, 0x80]), // an encoded surrogate: not UTF-8
        Buffer.from('"},"state":"FAILED"}'),
      ]);
      expect((await postBytes(herald.url, '/v1/events', { ...admin, 'Content-Type': 'application/json' }, event)).status).toBe(415);
      const list = await herald.http().get('/v1/events').set(admin).expect(200);
      expect(list.body.items.map((e: { id: string }) => e.id)).not.toContain('utf8-bad');
    });

    it.each(['text/plain', 'application/x-www-form-urlencoded', 'application/xml'])('JSON sent as %s is a 415 naming application/json', async (type) => {
      const res = await herald.http().post('/v1/secrets').set(admin).set('Content-Type', type).send(JSON.stringify({ name: 'AS_TEXT', value: 'v' })).expect(415);
      expect(res.body).toEqual({
        statusCode: 415,
        error: 'Unsupported Media Type',
        message: expect.stringContaining(`Content-Type ${type}; send it as application/json`),
        details: [{ field: 'body', reason: 'must be sent as application/json' }],
      });
      expect(await secretNames()).not.toContain('AS_TEXT');
    });

    it('a charset other than UTF-8 is a 415; UTF-8 spelled either way and +json types are read', async () => {
      const body = JSON.stringify({ name: 'LATIN', value: 'v' });
      await herald.http().post('/v1/secrets').set(admin).set('Content-Type', 'application/json; charset=iso-8859-1').send(body).expect(415);
      await herald.http().post('/v1/secrets').set(admin).set('Content-Type', 'application/json; charset="UTF-8"').send(body).expect(201);
      await herald.http().post('/v1/secrets').set(admin).set('Content-Type', 'application/merge-patch+json').send(JSON.stringify({ name: 'PLUS_JSON', value: 'v' })).expect(201);
    });

    it('a body that is not an object or an array is malformed JSON (400)', async () => {
      const res = await herald.http().post('/v1/secrets').set(admin).set('Content-Type', 'application/json').send('"just a string"').expect(400);
      expect(res.body.details).toEqual([{ field: 'body', reason: 'is not valid JSON' }]);
    });

    it('a request without a body still reaches the endpoint', async () => {
      const res = await herald.http().post('/v1/secrets').set(admin).expect(400);
      expect(res.body.details).toEqual(expect.arrayContaining([{ field: 'name', reason: expect.any(String) }]));
    });
  });
});

describe('deep nesting and reserved keys (e2e)', () => {
  let herald: TestHerald;
  let admin: Record<string, string>;
  let webhookId: string;
  let automationId: string;

  beforeAll(async () => {
    herald = await TestHerald.start();
    admin = bearer(herald.adminKey);
    const team = await herald.team();
    webhookId = (await herald.fixtures.newWebhook(team, { name: 'nest-hook' })).id;
    automationId = (await herald.fixtures.newAutomation(team, { id: webhookId }, { name: 'nest-auto' })).id;
  });
  afterAll(() => herald.destroy());

  const endpoints = (): [string, string][] => [
    ['POST', '/v1/secrets'],
    ['POST', '/v1/secrets/generate'],
    ['PUT', '/v1/secrets/SOME_NAME'],
    ['POST', '/v1/webhooks'],
    ['PATCH', `/v1/webhooks/${webhookId}`],
    ['POST', `/v1/webhooks/${webhookId}/test`],
    ['POST', '/v1/automations'],
    ['PATCH', `/v1/automations/${automationId}`],
    ['POST', '/v1/automations/preview'],
    ['POST', `/v1/automations/${automationId}/preview`],
    ['POST', '/v1/events'],
    ['POST', '/v1/sources'],
    ['POST', '/v1/api-keys'],
    ['POST', '/v1/config/validate'],
  ];
  const bodies: [string, string][] = [
    ['[ ×3000', '['.repeat(3000)],
    ['[…] ×3000, closed', '['.repeat(3000) + ']'.repeat(3000)],
    ['{"a": ×3000', '{"a":'.repeat(3000)],
    ['{"a":…} ×3000 inside a field', '{"name":"X","payload":' + '{"a":'.repeat(3000) + '1' + '}'.repeat(3001)],
  ];

  it('answers every endpoint 400 naming the body, never a 500', async () => {
    for (const [method, path] of endpoints()) {
      for (const [label, text] of bodies) {
        const res = await herald.http()[method.toLowerCase() as 'post'](path).set(admin).set('Content-Type', 'application/json').send(text);
        expect({ method, path, label, status: res.status }).toEqual({ method, path, label, status: 400 });
        expect(res.body).toEqual({
          statusCode: 400,
          error: 'Bad Request',
          message: expect.stringContaining('nests deeper than 100 levels'),
          details: [{ field: 'body', reason: 'nests deeper than 100 levels' }],
        });
      }
    }
    await herald.http().get('/health').expect(200);
  });

  describe('constructor, prototype and __proto__ keys: refused with a 400 naming the field, never dropped', () => {
    it.each(['constructor', 'prototype', '__proto__'])('in a webhook header name: %s', async (key) => {
      const body = `{"name":"hdr-${key}","url":"http://127.0.0.1:9/x","kind":"generic","headers":{"X-Ok":"1","${key}":"v"}}`;
      const res = await herald.http().post('/v1/webhooks').set(admin).set('Content-Type', 'application/json').send(body).expect(400);
      expect(res.body.details).toEqual([{ field: `headers.${key}`, reason: expect.stringContaining('reserved key') }]);
      const list = await herald.http().get('/v1/webhooks?limit=200').set(admin).expect(200);
      expect(list.body.items.map((w: { name: string }) => w.name)).not.toContain(`hdr-${key}`);
      const patch = `{"headers":{"${key}":"v"}}`;
      await herald.http().patch(`/v1/webhooks/${webhookId}`).set(admin).set('Content-Type', 'application/json').send(patch).expect(400);
    });

    it.each(['constructor', 'prototype', '__proto__'])('in a payload template: %s', async (key) => {
      const body = `{"name":"tpl-${key}","scope":{"type":"team"},"trigger":{"event":"ALERT","levels":["ERROR"]},"action":{"webhookId":"${webhookId}","payload":{"text":"hi","nested":{"${key}":{"x":1}}}}}`;
      const res = await herald.http().post('/v1/automations').set(admin).set('Content-Type', 'application/json').send(body).expect(400);
      expect(res.body.details).toEqual([{ field: `action.payload.nested.${key}`, reason: expect.stringContaining('reserved key') }]);
      const list = await herald.http().get('/v1/automations?limit=200').set(admin).expect(200);
      expect(list.body.items.map((a: { name: string }) => a.name)).not.toContain(`tpl-${key}`);
    });

    it('stores other keys exactly as given', async () => {
      const payload = { text: 'hi', 'Constructor': 1, 'a.prototype': 2, proto: { constructors: [] } };
      const created = await herald.http().post('/v1/automations').set(admin)
        .send({ name: 'tpl-kept', scope: { type: 'team' }, trigger: { event: 'ALERT', levels: ['ERROR'] }, action: { webhookId, payload } })
        .expect(201);
      expect(created.body.action.payload).toEqual(payload);
    });
  });
});

