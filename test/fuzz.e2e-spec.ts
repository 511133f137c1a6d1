import fc from 'fast-check';
import { TestHerald, bearer } from './support/herald';
import { sendRaw } from './support/raw-http';

/**
 * Property-based requests against every endpoint that takes input: generated JSON (deep, wide,
 * hostile keys and strings, wrong types, huge numbers, control characters), raw bytes and odd
 * media types. Never a 5xx; every 4xx in the error shape; afterwards the server is healthy and
 * its lists hold exactly what the 2xx answers created. Seeded and bounded: deterministic, quick.
 * Every URL a body could carry is refused by the generators unless it is the fixture's
 * 127.0.0.1 one, so nothing is ever sent elsewhere.
 */
const SEED = 20_2026;
const RUNS = 20;
/** A bound on a hang, not a timing assertion: PostgreSQL (e2e-pg) on a loaded machine is slower. */
const TIMEOUT_MS = 180_000;

type Answer = { status: number; body: unknown };


/** The project's error shape (src/common/errors/api-error.ts), for every 4xx. */
function assertErrorShape(answer: Answer, what: string): void {
  if (answer.status >= 500) throw new Error(`${what} answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 500)}`);
  if (answer.status < 400) return;
  const body = answer.body as Record<string, unknown>;
  const ok =
    typeof body === 'object' &&
    body !== null &&
    body.statusCode === answer.status &&
    typeof body.error === 'string' &&
    typeof body.message === 'string' &&
    Object.keys(body).every((key) => ['statusCode', 'error', 'message', 'details'].includes(key)) &&
    (body.details === undefined ||
      (Array.isArray(body.details) &&
        body.details.every((d: Record<string, unknown>) => typeof d.field === 'string' && typeof d.reason === 'string' && Object.keys(d).length === 2)));
  if (!ok) throw new Error(`${what} answered ${answer.status} outside the error shape: ${JSON.stringify(answer.body).slice(0, 500)}`);
}

// ---- generators --------------------------------------------------------------------------

const HOSTILE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', ' ', 'a\u0000b', '\n', '$', '${x}', '[0]', 'a.b', '日本', '😀'];
const hostileString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', ' ', '\u0000', '\r\n', '\t', '\u001b[2J', '\u007f', '\ud800', '\udfff', '–', '😀', 'ÿ', '${run_name}', '$$', '${', '{{x}}', '%00', '../..', 'NaN', 'Infinity'),
  fc.string({ unit: fc.constantFrom('a', '\u0000', '\n', '"', '\\', '$', '{', '}', 'é', '\u2028'), maxLength: 20 }),
  fc.nat({ max: 300_000 }).map((n) => 'x'.repeat(n)),
);
const hugeNumber = fc.oneof(
  fc.constantFrom(0, -0, 1e308, -1e308, 5e-324, Number.MAX_SAFE_INTEGER + 2, -(2 ** 63), 2 ** 64, 0.1, -1),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
);
const scalar = fc.oneof(hostileString, hugeNumber, fc.boolean(), fc.constant(null));
const key = fc.oneof(fc.constantFrom(...HOSTILE_KEYS), fc.string({ maxLength: 12 }));
/** Any JSON value: nested a few levels, objects with hostile keys, long arrays now and then. */
const json: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('array'), tie('object')),
  array: fc.oneof(fc.array(tie('value'), { maxLength: 6 }), fc.nat({ max: 5000 }).map((n) => Array(n).fill('S'))),
  object: fc.dictionary(key, tie('value'), { maxKeys: 6 }),
})).value;
/** Nesting past every bound, as text: `[[[…`, `{"a":{"a":…`, unclosed or closed. */
const deepText = fc
  .tuple(fc.integer({ min: 90, max: 3000 }), fc.constantFrom('[', '{"a":', '{"k":['), fc.boolean())
  .map(([n, open, closed]) => open.repeat(n) + (closed ? '1' + (open === '[' ? ']' : open === '{"a":' ? '}' : ']}').repeat(n) : ''));
/** A body built on `base` with some fields replaced by generated values. */
const around = (base: Record<string, unknown>, fields: string[]) =>
  fc.dictionary(fc.oneof(fc.constantFrom(...fields), key), json, { maxKeys: 4 }).map((changes) => ({ ...base, ...changes }));

/** No generated body may carry a URL other than the fixture's: nothing is sent anywhere else. */
const local = (text: string) => !text.replace(/http:\/\/127\.0\.0\.1:9\//g, '').includes('://');

type BodyKind = { text: string; contentType: string; encoding?: string };
const bodyOf = (base: fc.Arbitrary<unknown>): fc.Arbitrary<BodyKind> =>
  fc.oneof(
    { weight: 6, arbitrary: base.map((v) => ({ text: JSON.stringify(v) ?? 'null', contentType: 'application/json' })) },
    { weight: 2, arbitrary: json.map((v) => ({ text: JSON.stringify(v) ?? 'null', contentType: 'application/json' })) },
    { weight: 1, arbitrary: deepText.map((text) => ({ text, contentType: 'application/json' })) },
    {
      weight: 1,
      arbitrary: fc.tuple(base, fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', '', 'application/json; charset=utf-16', 'application/xml')).map(([v, contentType]) => ({
        text: JSON.stringify(v) ?? 'null',
        contentType,
      })),
    },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }).map((text) => ({ text, contentType: 'application/json' })) },
    { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 30 }), fc.constantFrom('gzip', 'deflate', 'br', 'zstd', 'x-unknown')).map(([text, encoding]) => ({ text, contentType: 'application/json', encoding })) },
  ).filter((b) => local(b.text));

describe('fuzz: every endpoint, hostile input (e2e)', () => {
  let herald: TestHerald;
  let admin: Record<string, string>;
  const created = { webhooks: 0, automations: 0, sources: 0, secrets: 0, apiKeys: 0 };
  const storedEvents = new Set<string>();
  let fixture: { webhook: string; patchedWebhook: string; automation: string; source: string; receive: string };

  beforeAll(async () => {
    herald = await TestHerald.start();
    admin = bearer(herald.adminKey);
    const team = await herald.team();
    const webhook = (await herald.fixtures.newWebhook(team, { name: 'fuzz-target' })).id;
    const patchedWebhook = (await herald.fixtures.newWebhook(team, { name: 'fuzz-patched' })).id;
    const automation = (await herald.fixtures.newAutomation(team, { id: webhook }, { name: 'fuzz-auto' })).id;
    await herald.http().post('/v1/secrets').set(admin).send({ name: 'FUZZ_SECRET', value: 'fuzz-secret-value-0123456789' }).expect(201);
    const source = await herald.http().post('/v1/sources').set(admin).send({ name: 'fuzz-source', kind: 'mlflow', project: 'fuzz', secret: 'FUZZ_SECRET' }).expect(201);
    created.webhooks = 2;
    created.automations = 1;
    created.secrets = 1;
    created.sources = 1;
    created.apiKeys = (await herald.http().get('/v1/api-keys?limit=200').set(admin).expect(200)).body.items.length;
    fixture = { webhook, patchedWebhook, automation, source: source.body.id, receive: new URL(source.body.receiveUrl, herald.url).pathname };
  });
  afterAll(() => herald.destroy());

  const event = {
    id: 'fuzz-e',
    type: 'ALERT',
    project: 'fuzz',
    title: 't',
    level: 'ERROR',
  };
  const automation = () => ({
    name: 'fuzz-a',
    scope: { type: 'team' },
    trigger: { event: 'ALERT', levels: ['ERROR'] },
    action: { webhookId: fixture.webhook, payload: { text: '${title}' } },
  });
  const webhook = { name: 'fuzz-w', url: 'http://127.0.0.1:9/', kind: 'generic' };

  /** [method, path, body generator, what a 2xx adds] for every endpoint that takes a body. */
  const endpoints = (): [string, string, fc.Arbitrary<BodyKind>, keyof typeof created | 'events' | null][] => [
    ['POST', '/v1/secrets', bodyOf(around({ name: 'FUZZ_A', value: 'v' }, ['name', 'value'])), 'secrets'],
    ['POST', '/v1/secrets/generate', bodyOf(around({ name: 'FUZZ_G', format: 'hex' }, ['name', 'format'])), 'secrets'],
    ['PUT', '/v1/secrets/FUZZ_SECRET', bodyOf(around({ value: 'v2-0123456789abcdef' }, ['value'])), null],
    ['POST', '/v1/webhooks', bodyOf(around(webhook, ['name', 'kind', 'headers', 'payloadSecrets', 'signatureSchemes', 'delivery', 'signingSecret', 'enabled'])), 'webhooks'],
    ['PATCH', `/v1/webhooks/${fixture.patchedWebhook}`, bodyOf(around({}, ['name', 'headers', 'payloadSecrets', 'delivery', 'enabled', 'signatureSchemes'])), null],
    ['POST', `/v1/webhooks/${fixture.webhook}/test`, bodyOf(around({}, ['payload', 'event'])), null],
    ['POST', `/v1/webhooks/${fixture.webhook}/recover`, bodyOf(around({ since: '2026-01-01T00:00:00Z' }, ['since', 'until'])), null],
    ['POST', '/v1/automations', bodyOf(around(automation(), ['name', 'scope', 'trigger', 'runFilter', 'action', 'cooldownSeconds', 'description'])), 'automations'],
    ['PATCH', `/v1/automations/${fixture.automation}`, bodyOf(around({}, ['description', 'trigger', 'runFilter', 'cooldownSeconds', 'scope'])), null],
    ['POST', '/v1/automations/preview', bodyOf(around({ automation: automation(), event }, ['automation', 'event'])), null],
    ['POST', `/v1/automations/${fixture.automation}/preview`, bodyOf(around(event, ['project', 'run', 'title', 'level', 'metrics', 'artifact'])), null],
    ['POST', '/v1/events', bodyOf(fc.oneof(around(event, ['id', 'type', 'project', 'run', 'title', 'level', 'metrics', 'artifact', 'occurredAt']), fc.array(around(event, ['id', 'project', 'run', 'metrics']), { maxLength: 4 }))), 'events'],
    ['POST', '/v1/sources', bodyOf(around({ name: 'fuzz-s', kind: 'mlflow', project: 'p', secret: 'FUZZ_SECRET' }, ['name', 'kind', 'project', 'secret'])), 'sources'],
    ['PATCH', `/v1/sources/${fixture.source}`, bodyOf(around({}, ['name', 'project', 'secret', 'kind'])), null],
    ['POST', fixture.receive, bodyOf(around({ entity: 'run' }, ['entity', 'action', 'data', 'run_id'])), null],
    ['POST', '/v1/api-keys', bodyOf(around({ name: 'fuzz key', role: 'member' }, ['name', 'role', 'projects'])), 'apiKeys'],
    ['POST', '/v1/config/validate', bodyOf(around({ config: { version: 1, webhooks: [webhook] } }, ['config', 'prune', 'pendingSecrets'])), null],
  ];

  it('answers every generated body with a 2xx or a 4xx in the error shape, never a 5xx', async () => {
    const started = Date.now();
    let requests = 0;
    for (const [method, path, bodies, adds] of endpoints()) {
      await fc.assert(
        fc.asyncProperty(bodies, async (b) => {
          const headers: Record<string, string> = { ...admin };
          if (b.contentType) headers['Content-Type'] = b.contentType;
          if (b.encoding) headers['Content-Encoding'] = b.encoding;
          const answer = await sendRaw(herald.url, method, path, headers, Buffer.from(b.text, 'utf8'));
          requests++;
          assertErrorShape(answer, `${method} ${path} ${b.contentType} ${b.text.slice(0, 200)}`);
          if (answer.status >= 200 && answer.status < 300 && adds === 'events') {
            for (const result of (answer.body as { results: { id: string; duplicate: boolean }[] }).results) {
              if (!result.duplicate) storedEvents.add(result.id);
            }
          } else if (answer.status === 201 && adds && adds !== 'events') created[adds]++;
        }),
        { seed: SEED, numRuns: RUNS, endOnFailure: true },
      );
    }
    console.log(`fuzz: ${requests} requests in ${Date.now() - started} ms`);
  }, TIMEOUT_MS);

  it('answers hostile query strings and path parameters the same way', async () => {
    const paths = ['/v1/events', '/v1/webhooks', '/v1/automations', '/v1/sources', '/v1/secrets', '/v1/api-keys', '/v1/deliveries', '/v1/templates', '/v1/automations/variables'];
    const params = fc.dictionary(fc.constantFrom('limit', 'cursor', 'name', 'project', 'trigger', 'type', 'status', 'since', 'webhookId', 'x'), hostileString.filter((s) => s.length < 2000), { maxKeys: 3 });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), params, hostileString.filter((s) => s.length < 200), async (path, query, id) => {
        const search = new URLSearchParams(query as Record<string, string>).toString();
        assertErrorShape(await sendRaw(herald.url, 'GET', `${path}?${search}`, admin), `GET ${path}?${search}`);
        const segment = [...Buffer.from(id, 'utf8')].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('');
        assertErrorShape(await sendRaw(herald.url, 'GET', `${path}/${segment}`, admin), `GET ${path}/${id}`);
      }),
      { seed: SEED, numRuns: RUNS * 4, endOnFailure: true },
    );
  }, TIMEOUT_MS);

  it('is healthy afterwards and holds exactly what it answered 2xx for', async () => {
    await herald.http().get('/health').expect(200);
    const all = async (path: string): Promise<unknown[]> => {
      const items: unknown[] = [];
      let cursor: string | null = null;
      do {
        const res: { body: { items: unknown[]; nextCursor: string | null } } = await herald
          .http()
          .get(path)
          .query({ limit: 200, ...(cursor ? { cursor } : {}) })
          .set(admin)
          .expect(200);
        items.push(...res.body.items);
        cursor = res.body.nextCursor;
      } while (cursor);
      return items;
    };
    expect({
      webhooks: (await all('/v1/webhooks')).length,
      automations: (await all('/v1/automations')).length,
      sources: (await all('/v1/sources')).length,
      secrets: (await all('/v1/secrets')).length,
      apiKeys: (await all('/v1/api-keys')).length,
    }).toEqual(created);
    const events = (await all('/v1/events')) as { id: string }[];
    // Herald's own events (DELIVERY_FAILED of a fuzzed webhook) are not the fuzz's.
    expect(new Set(events.map((e) => e.id).filter((id) => !id.startsWith('herald:')))).toEqual(storedEvents);
    for (const id of [...storedEvents].slice(0, 20)) await herald.http().get(`/v1/events/${encodeURIComponent(id)}`).set(admin).expect(200);
  });
});
