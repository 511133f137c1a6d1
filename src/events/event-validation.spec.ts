import type { FieldProblem } from '../common/errors/api-error';
import {
  MAX_BATCH,
  MAX_EVENT_PROBLEMS,
  type PostedEvent,
  normalizeTimestamp,
  validateEventBatch,
} from './event-validation';

const run = { id: 'r42', name: 'bert-base-lr3e-4' };
const artifact = { name: 'bert-base', version: 'v3', collection: 'llm-models' };

const valid: Record<string, Record<string, unknown>> = {
  RUN_METRICS: { type: 'RUN_METRICS', project: 'llm', run, step: 1200, metrics: { 'val/loss': 0.183 } },
  RUN_STATE: { type: 'RUN_STATE', project: 'llm', run: { ...run, state: 'FINISHED' } },
  RUN_LOG: { type: 'RUN_LOG', project: 'llm', run, lines: ['epoch 1', 'CUDA out of memory'] },
  ALERT: { type: 'ALERT', project: 'llm', title: 'Loss diverged', level: 'ERROR' },
  CREATE_ARTIFACT: { type: 'CREATE_ARTIFACT', project: 'llm', artifact },
  LINK_ARTIFACT: { type: 'LINK_ARTIFACT', project: 'llm', artifact },
  UNLINK_ARTIFACT: { type: 'UNLINK_ARTIFACT', project: 'llm', artifact },
  ADD_ARTIFACT_ALIAS: { type: 'ADD_ARTIFACT_ALIAS', project: 'llm', artifact, alias: 'prod' },
  REMOVE_ARTIFACT_ALIAS: { type: 'REMOVE_ARTIFACT_ALIAS', project: 'llm', artifact, alias: 'prod' },
  ADD_ARTIFACT_TAG: { type: 'ADD_ARTIFACT_TAG', project: 'llm', artifact, tag: 'nlp' },
  REMOVE_ARTIFACT_TAG: { type: 'REMOVE_ARTIFACT_TAG', project: 'llm', artifact, tag: 'nlp' },
  ADD_COLLECTION_TAG: { type: 'ADD_COLLECTION_TAG', project: 'llm', collection: { name: 'llm-models', type: 'model' }, tag: 'reviewed' },
  REMOVE_COLLECTION_TAG: { type: 'REMOVE_COLLECTION_TAG', project: 'llm', collection: { name: 'llm-models' }, tag: 'reviewed' },
};

function accepted(body: unknown): PostedEvent[] {
  const result = validateEventBatch(body);
  if (!result.ok) throw new Error(`refused: ${JSON.stringify(result.problems)}`);
  return result.events;
}

function problems(body: unknown): FieldProblem[] {
  const result = validateEventBatch(body);
  if (result.ok) throw new Error('accepted');
  return result.problems;
}

/** The problems of a single event made of `type`'s valid example with `change` applied. */
function problemsWith(type: string, change: Record<string, unknown>): FieldProblem[] {
  return problems({ ...valid[type], ...change });
}

function without(type: string, key: string): Record<string, unknown> {
  const copy = { ...valid[type] };
  delete copy[key];
  return copy;
}

describe('validateEventBatch: body shape', () => {
  it.each(Object.keys(valid))('accepts a valid %s event as a single object', (type) => {
    expect(accepted(valid[type])).toEqual([valid[type]]);
  });

  it('accepts an array of every type, keeping the order', () => {
    const events = accepted(Object.values(valid));
    expect(events.map((e) => e.type)).toEqual(Object.keys(valid));
  });

  it('accepts exactly MAX_BATCH events and refuses one more', () => {
    const event = valid.RUN_METRICS;
    expect(accepted(Array.from({ length: MAX_BATCH }, () => event))).toHaveLength(MAX_BATCH);
    expect(problems(Array.from({ length: MAX_BATCH + 1 }, () => event))).toEqual([
      { field: 'events', reason: 'must hold 1 to 1000 events (got 1001)' },
    ]);
  });

  it('refuses an empty array', () => {
    expect(problems([])).toEqual([{ field: 'events', reason: 'must hold 1 to 1000 events (got 0)' }]);
  });

  it.each([null, 'RUN_METRICS', 42, true, undefined])('refuses a body that is neither an object nor an array (%p)', (body) => {
    expect(problems(body)).toEqual([{ field: 'body', reason: 'must be an event object or an array of 1 to 1000 events' }]);
  });

  it('names the index of the one invalid event among valid ones', () => {
    const body = [valid.RUN_METRICS, valid.ALERT, valid.RUN_STATE, { ...valid.RUN_LOG, run: { id: 'r1', name: 7 } }, valid.ALERT];
    expect(problems(body)).toEqual([{ field: 'events[3].run.name', reason: 'must be a string of at most 131072 characters' }]);
  });

  it('uses bare paths for a single object', () => {
    expect(problemsWith('RUN_LOG', { run: { id: 'r1', name: 7 } })).toEqual([
      { field: 'run.name', reason: 'must be a string of at most 131072 characters' },
    ]);
  });

  it('refuses an array element that is not an object, naming its index', () => {
    expect(problems([valid.ALERT, 'x', [valid.ALERT]])).toEqual([
      { field: 'events[1]', reason: 'must be an event object' },
      { field: 'events[2]', reason: 'must be an event object' },
    ]);
  });

  it('reports every problem of every event, up to the cap', () => {
    const bad = { type: 'ALERT', project: '', title: '', level: 'DEBUG' };
    expect(problems([bad, bad])).toEqual([
      { field: 'events[0].project', reason: 'must be a string of 1 to 256 characters' },
      { field: 'events[0].title', reason: 'must be a string of 1 to 1024 characters' },
      { field: 'events[0].level', reason: 'must be one of INFO, WARN, ERROR' },
      { field: 'events[1].project', reason: 'must be a string of 1 to 256 characters' },
      { field: 'events[1].title', reason: 'must be a string of 1 to 1024 characters' },
      { field: 'events[1].level', reason: 'must be one of INFO, WARN, ERROR' },
    ]);
  });

  it('caps the problems reported and says how many were left out', () => {
    const body = Array.from({ length: 100 }, () => ({ type: 'NOPE', project: 'p' }));
    const found = problems(body);
    expect(found).toHaveLength(MAX_EVENT_PROBLEMS);
    expect(found[0]).toEqual({ field: 'events[0].type', reason: expect.stringMatching(/^must be one of RUN_METRICS, /) });
    expect(found[MAX_EVENT_PROBLEMS - 2].field).toBe('events[48].type');
    expect(found[MAX_EVENT_PROBLEMS - 1]).toEqual({ field: 'events', reason: 'and 51 more problems' });
  });

  it('caps the problems of a single event under the field "body"', () => {
    const lines = Array.from({ length: 60 }, () => 7);
    const found = problemsWith('RUN_LOG', { lines });
    expect(found).toHaveLength(MAX_EVENT_PROBLEMS);
    expect(found[0]).toEqual({ field: 'lines[0]', reason: 'must be a string' });
    expect(found.at(-1)).toEqual({ field: 'body', reason: 'and 11 more problems' });
  });

  it('returns copies, not the posted objects', () => {
    const posted = { ...valid.CREATE_ARTIFACT, artifact: { ...artifact, metadata: { a: { b: 1 } } } };
    const [event] = accepted(posted);
    expect(event).toEqual(posted);
    expect(event).not.toBe(posted);
    expect(event.artifact).not.toBe(posted.artifact);
    expect(event.artifact!.metadata!.a).not.toBe(posted.artifact.metadata.a);
  });
});

describe('validateEventBatch: fields every event has', () => {
  it('requires type and project', () => {
    expect(problems({})).toEqual([
      { field: 'type', reason: 'is required' },
      { field: 'project', reason: 'is required' },
    ]);
  });

  it('refuses an unknown type, listing the types', () => {
    expect(problemsWith('ALERT', { type: 'RUN_METRIC' })).toEqual([
      {
        field: 'type',
        reason:
          'must be one of RUN_METRICS, RUN_STATE, RUN_LOG, ALERT, CREATE_ARTIFACT, LINK_ARTIFACT, UNLINK_ARTIFACT, ADD_ARTIFACT_ALIAS, REMOVE_ARTIFACT_ALIAS, ADD_ARTIFACT_TAG, REMOVE_ARTIFACT_TAG, ADD_COLLECTION_TAG, REMOVE_COLLECTION_TAG',
      },
    ]);
  });

  it('with an invalid type still refuses fields no type takes, but not those some type takes', () => {
    const found = problems({ type: 7, project: 'p', metrics: {}, colour: 'red' });
    expect(found).toEqual([
      { field: 'type', reason: expect.stringMatching(/^must be one of /) },
      { field: 'colour', reason: 'is not an allowed field' },
    ]);
  });

  it.each(['', 'x'.repeat(257), 42, null])('refuses project %p', (project) => {
    expect(problemsWith('ALERT', { project })).toEqual([{ field: 'project', reason: 'must be a string of 1 to 256 characters' }]);
  });

  it.each(['a\u0000b', 'line\n', 'tab\t', 'esc\u001b[31m', 'del\u007f'])('refuses control characters in identifiers: %j', (bad) => {
    const reason = 'must not contain control characters (U+0000–U+001F, U+007F)';
    expect(problemsWith('ALERT', { project: bad })).toEqual([{ field: 'project', reason }]);
    expect(problemsWith('RUN_STATE', { run: { id: bad, name: 'n', state: 'FAILED' } })).toEqual([{ field: 'run.id', reason }]);
    expect(problemsWith('CREATE_ARTIFACT', { artifact: { ...artifact, collection: bad, version: bad } })).toEqual([
      { field: 'artifact.version', reason },
      { field: 'artifact.collection', reason },
    ]);
    // Aliases and tags are labels automations match by regex, not free text (an author is: see below).
    expect(problemsWith('ADD_ARTIFACT_ALIAS', { alias: bad })).toEqual([{ field: 'alias', reason }]);
    expect(problemsWith('ADD_COLLECTION_TAG', { tag: bad })).toEqual([{ field: 'tag', reason }]);
    expect(problemsWith('CREATE_ARTIFACT', { artifact: { ...artifact, aliases: ['prod', bad], tags: [bad] } })).toEqual([
      { field: 'artifact.aliases[1]', reason },
      { field: 'artifact.tags[0]', reason },
    ]);
  });

  it('keeps a run name and an author free text (not identifiers): newlines and tabs are allowed there', () => {
    expect(accepted({ ...valid.RUN_STATE, run: { id: 'r1', name: 'sweep\tlr=3e-4\n', state: 'FAILED' } })[0]).toMatchObject({ run: { name: 'sweep\tlr=3e-4\n' } });
    expect(accepted({ ...valid.ALERT, author: 'Ada\tLovelace\n' })[0]).toMatchObject({ author: 'Ada\tLovelace\n' });
    expect(accepted({ ...valid.ALERT, project: 'proj é/ü 日本' })).toHaveLength(1);
  });

  it('accepts a project of 256 characters', () => {
    expect(accepted({ ...valid.ALERT, project: 'p'.repeat(256) })).toHaveLength(1);
  });

  it.each(['evt-1', 'a', 'x'.repeat(128), '!~{}[]', 'run/r42:step=1200'])('accepts id %p', (id) => {
    expect(accepted({ ...valid.ALERT, id })[0].id).toBe(id);
  });

  it.each(['', 'x'.repeat(129), 'has space', 'tab\t', 'é', 'line\n', 12])('refuses id %p', (id) => {
    expect(problemsWith('ALERT', { id })).toEqual([
      { field: 'id', reason: 'must be 1 to 128 printable ASCII characters without spaces' },
    ]);
  });

  it('normalizes occurredAt to UTC ISO with milliseconds', () => {
    expect(accepted({ ...valid.ALERT, occurredAt: '2026-11-22T09:30:00+01:30' })[0].occurredAt).toBe('2026-11-22T08:00:00.000Z');
  });

  it.each(['2026-11-22', '2026-11-22T08:00:00', 'yesterday', '', 1_763_856_000_000, '2026-02-30T00:00:00Z'])(
    'refuses occurredAt %p',
    (occurredAt) => {
      expect(problemsWith('ALERT', { occurredAt })).toEqual([
        { field: 'occurredAt', reason: 'must be an ISO-8601 date-time with a timezone, e.g. 2026-11-22T08:00:00Z' },
      ]);
    },
  );

  it('leaves id and occurredAt out when not given (the server fills them)', () => {
    const [event] = accepted(valid.ALERT);
    expect(event).not.toHaveProperty('id');
    expect(event).not.toHaveProperty('occurredAt');
  });

  it('accepts author (empty too) and registry', () => {
    expect(accepted({ ...valid.ALERT, author: 'alice', registry: true })[0]).toMatchObject({ author: 'alice', registry: true });
    expect(accepted({ ...valid.ALERT, author: '' })[0].author).toBe('');
  });

  it('refuses a long author and a registry that is not a boolean', () => {
    expect(problemsWith('ALERT', { author: 'a'.repeat(257), registry: 'true' })).toEqual([
      { field: 'author', reason: 'must be a string of at most 256 characters' },
      { field: 'registry', reason: 'must be a boolean' },
    ]);
  });

  it('refuses null for an optional field instead of dropping it', () => {
    expect(problemsWith('ALERT', { author: null, text: null })).toEqual([
      { field: 'author', reason: 'must be a string of at most 256 characters' },
      { field: 'text', reason: 'must be a string of at most 65536 bytes (64 KiB) in UTF-8' },
    ]);
  });

  it('refuses unknown fields and fields of other types, naming the type', () => {
    expect(problemsWith('RUN_STATE', { metrics: { a: 1 }, title: 'x', colour: 'red' })).toEqual([
      { field: 'metrics', reason: 'is not an allowed field for RUN_STATE' },
      { field: 'title', reason: 'is not an allowed field for RUN_STATE' },
      { field: 'colour', reason: 'is not an allowed field for RUN_STATE' },
    ]);
  });

  it('refuses a top-level __proto__ key without touching any prototype', () => {
    const body = JSON.parse('{"type":"ALERT","project":"p","title":"t","level":"INFO","__proto__":{"polluted":true}}');
    expect(problems(body)).toEqual([{ field: '__proto__', reason: 'is not an allowed field for ALERT' }]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('normalizeTimestamp', () => {
  it.each([
    ['2026-11-22T08:00:00Z', '2026-11-22T08:00:00.000Z'],
    ['2026-11-22t08:00:00z', '2026-11-22T08:00:00.000Z'],
    ['2026-11-22T08:00Z', '2026-11-22T08:00:00.000Z'],
    ['2026-11-22T08:00:00.5Z', '2026-11-22T08:00:00.500Z'],
    ['2026-11-22T08:00:00.123456789Z', '2026-11-22T08:00:00.123Z'],
    ['2026-11-22T08:00:00-05:00', '2026-11-22T13:00:00.000Z'],
    ['2026-11-22T08:00:00+0200', '2026-11-22T06:00:00.000Z'],
    ['2026-01-01T00:30:00+01:00', '2025-12-31T23:30:00.000Z'],
    ['2024-02-29T12:00:00Z', '2024-02-29T12:00:00.000Z'],
    ['2000-02-29T12:00:00Z', '2000-02-29T12:00:00.000Z'],
    ['0050-06-01T00:00:00Z', '0050-06-01T00:00:00.000Z'],
  ])('%s → %s', (text, iso) => {
    expect(normalizeTimestamp(text)).toBe(iso);
  });

  it.each([
    '2026-11-22T08:00:00',
    '2026-11-22 08:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-00-01T00:00:00Z',
    '2025-02-29T00:00:00Z',
    '1900-02-29T00:00:00Z',
    '2026-04-31T00:00:00Z',
    '2026-11-22T24:00:00Z',
    '2026-11-22T08:60:00Z',
    '2026-11-22T08:00:60Z',
    '2026-11-22T08:00:00+24:00',
    '2026-11-22T08:00:00.1234567890Z',
    '9999-12-31T23:00:00-05:00',
    '+002026-11-22T08:00:00Z',
    ' 2026-11-22T08:00:00Z',
  ])('refuses %s', (text) => {
    expect(normalizeTimestamp(text)).toBeUndefined();
  });
});

describe('validateEventBatch: runs', () => {
  it('requires run, with id and name, for RUN_METRICS, RUN_STATE and RUN_LOG', () => {
    for (const type of ['RUN_METRICS', 'RUN_STATE', 'RUN_LOG']) {
      expect(problems(without(type, 'run'))).toEqual([{ field: 'run', reason: 'is required' }]);
    }
    expect(problemsWith('RUN_LOG', { run: {} })).toEqual([
      { field: 'run.id', reason: 'is required' },
      { field: 'run.name', reason: 'is required' },
    ]);
  });

  it('requires run.state for RUN_STATE only', () => {
    expect(problemsWith('RUN_STATE', { run })).toEqual([{ field: 'run.state', reason: 'is required' }]);
    expect(accepted({ ...valid.RUN_METRICS, run })).toHaveLength(1);
  });

  it.each(['RUNNING', 'FINISHED', 'FAILED', 'CRASHED', 'KILLED'])('accepts run.state %s', (state) => {
    expect(accepted({ ...valid.RUN_STATE, run: { ...run, state } })[0].run!.state).toBe(state);
  });

  it.each(['finished', 'DONE', 1])('refuses run.state %p', (state) => {
    expect(problemsWith('RUN_STATE', { run: { ...run, state } })).toEqual([
      { field: 'run.state', reason: 'must be one of RUNNING, FINISHED, FAILED, CRASHED, KILLED' },
    ]);
  });

  it('refuses an empty run id and accepts an empty run name', () => {
    expect(problemsWith('RUN_LOG', { run: { id: '', name: 'n' } })).toEqual([
      { field: 'run.id', reason: 'must be a string of 1 to 256 characters' },
    ]);
    expect(accepted({ ...valid.RUN_LOG, run: { id: 'r', name: '' } })).toHaveLength(1);
  });

  it.each(['https://ml.example.com/runs/r42', 'http://10.0.0.5:8080/r?x=1'])('accepts run.url %s', (url) => {
    expect(accepted({ ...valid.RUN_METRICS, run: { ...run, url } })[0].run!.url).toBe(url);
  });

  it.each(['ftp://example.com/r', 'javascript:alert(1)', 'example.com/r', 'https://', `https://example.com/${'a'.repeat(2030)}`, 5])(
    'refuses run.url %p',
    (url) => {
      expect(problemsWith('RUN_METRICS', { run: { ...run, url } })).toEqual([
        { field: 'run.url', reason: 'must be an http or https URL of at most 2048 characters' },
      ]);
    },
  );

  it('refuses unknown run fields and a run that is not an object', () => {
    expect(problemsWith('RUN_LOG', { run: { ...run, owner: 'x' } })).toEqual([{ field: 'run.owner', reason: 'is not an allowed field' }]);
    expect(problemsWith('RUN_LOG', { run: 'r42' })).toEqual([{ field: 'run', reason: 'must be an object with id and name' }]);
  });

  it('takes an optional run on ALERT and artifact events', () => {
    expect(accepted({ ...valid.ALERT, run })[0].run).toEqual(run);
    expect(accepted({ ...valid.ADD_ARTIFACT_TAG, run })[0].run).toEqual(run);
  });

  it('takes run.group, run.tags and run.config, copying the config', () => {
    const config = { lr: 0.001, optimizer: { name: 'adam', betas: [0.9, 0.99] }, note: null };
    const event = accepted({ ...valid.RUN_METRICS, run: { ...run, group: 'sweep-7', tags: ['baseline', 'a100'], config } })[0];
    expect(event.run).toEqual({ ...run, group: 'sweep-7', tags: ['baseline', 'a100'], config });
    expect(event.run!.config).not.toBe(config);
    expect(accepted({ ...valid.RUN_STATE, run: { ...valid.RUN_STATE.run as object, tags: [], config: {} } })[0].run).toMatchObject({ tags: [], config: {} });
  });

  it('bounds run.group, run.tags and run.config, naming each field at once', () => {
    expect(problemsWith('RUN_METRICS', { run: { ...run, group: '', tags: 'a', config: [1] } })).toEqual([
      { field: 'run.group', reason: 'must be a string of 1 to 256 characters' },
      { field: 'run.tags', reason: 'must be an array of at most 100 strings' },
      { field: 'run.config', reason: 'must be a JSON object' },
    ]);
    expect(problemsWith('RUN_METRICS', { run: { ...run, group: 'g'.repeat(257) } })).toEqual([{ field: 'run.group', reason: 'must be a string of 1 to 256 characters' }]);
    expect(accepted({ ...valid.RUN_METRICS, run: { ...run, group: 'g'.repeat(256), tags: Array.from({ length: 100 }, (_, i) => `t${i}`) } })).toHaveLength(1);
    expect(problemsWith('RUN_METRICS', { run: { ...run, tags: Array.from({ length: 101 }, (_, i) => `t${i}`) } })).toEqual([
      { field: 'run.tags', reason: 'must be an array of at most 100 strings' },
    ]);
    expect(problemsWith('RUN_METRICS', { run: { ...run, tags: ['ok', '', 3] } })).toEqual([
      { field: 'run.tags[1]', reason: 'must be a string of 1 to 256 characters' },
      { field: 'run.tags[2]', reason: 'must be a string of 1 to 256 characters' },
    ]);
  });

  it('refuses a run.config over 64 KiB of JSON, a __proto__ key and a non-JSON value', () => {
    // {"k":"…"} is 8 bytes plus the string.
    expect(accepted({ ...valid.RUN_METRICS, run: { ...run, config: { k: 'x'.repeat(64 * 1024 - 8) } } })).toHaveLength(1);
    expect(problemsWith('RUN_METRICS', { run: { ...run, config: { k: 'x'.repeat(64 * 1024 - 7) } } })).toEqual([
      { field: 'run.config', reason: 'must be at most 65536 bytes (64 KiB) as JSON text' },
    ]);
    expect(problemsWith('RUN_METRICS', { run: { ...run, config: JSON.parse('{"__proto__": {"x": 1}}') } })).toEqual([
      { field: 'run.config.__proto__', reason: 'is not an allowed key' },
    ]);
    expect(problemsWith('RUN_METRICS', { run: { ...run, config: { lr: Number.NaN } } })).toEqual([{ field: 'run.config.lr', reason: 'must be a JSON value' }]);
  });
});

describe('validateEventBatch: RUN_STALE', () => {
  const stale = { type: 'RUN_STALE', project: 'llm', run: { id: 'r1', name: 'n', state: 'RUNNING' }, lastSeenAt: '2026-11-22T08:00:00Z', staleSeconds: 600 };

  it('is refused from clients: only Herald posts it', () => {
    expect(problems(stale)).toEqual([{ field: 'type', reason: expect.stringMatching(/\(Herald emits RUN_STALE itself\)$/) }]);
  });

  it('takes run, lastSeenAt and staleSeconds (1 … 604800) from Herald', () => {
    const result = validateEventBatch(stale, { operational: true });
    expect(result).toMatchObject({ ok: true, events: [{ lastSeenAt: '2026-11-22T08:00:00.000Z', staleSeconds: 600 }] });
    const bad = validateEventBatch({ ...stale, staleSeconds: 604_801, lastSeenAt: 'yesterday' }, { operational: true });
    expect(bad).toEqual({
      ok: false,
      problems: [
        { field: 'lastSeenAt', reason: 'must be an ISO-8601 date-time with a timezone' },
        { field: 'staleSeconds', reason: 'must be an integer from 1 to 604800' },
      ],
    });
  });
});

describe('validateEventBatch: collection tags', () => {
  it('take collection{name, type?} and tag, both required', () => {
    expect(accepted(valid.ADD_COLLECTION_TAG)[0]).toMatchObject({ collection: { name: 'llm-models', type: 'model' }, tag: 'reviewed' });
    expect(problems({ type: 'REMOVE_COLLECTION_TAG', project: 'llm' })).toEqual([
      { field: 'collection', reason: 'is required' },
      { field: 'tag', reason: 'is required' },
    ]);
    expect(problemsWith('ADD_COLLECTION_TAG', { collection: { type: '', owner: 'x' }, artifact })).toEqual([
      { field: 'collection.type', reason: 'must be a string of 1 to 256 characters' },
      { field: 'collection.owner', reason: 'is not an allowed field' },
      { field: 'collection.name', reason: 'is required' },
      { field: 'artifact', reason: 'is not an allowed field for ADD_COLLECTION_TAG' },
    ]);
    expect(problemsWith('ADD_COLLECTION_TAG', { collection: 'c' })).toEqual([{ field: 'collection', reason: 'must be an object with name and an optional type' }]);
  });
});

describe('validateEventBatch: RUN_METRICS', () => {
  it('requires metrics', () => {
    expect(problems(without('RUN_METRICS', 'metrics'))).toEqual([{ field: 'metrics', reason: 'is required' }]);
  });

  it('accepts the non-finite spellings as strings', () => {
    const metrics = { a: 'NaN', b: 'Infinity', c: '-Infinity', d: -1.5e-300, e: 0 };
    expect(accepted({ ...valid.RUN_METRICS, metrics })[0].metrics).toEqual(metrics);
  });

  it.each(['nan', 'inf', '-inf', 'Infinity ', '1.5', null, true, [1], { v: 1 }])('refuses metric value %p', (value) => {
    expect(problemsWith('RUN_METRICS', { metrics: { 'val/loss': value } })).toEqual([
      { field: 'metrics["val/loss"]', reason: 'must be a finite number or one of "NaN", "Infinity", "-Infinity"' },
    ]);
  });

  it('refuses numbers that are not finite (from a caller that did not parse JSON)', () => {
    expect(problemsWith('RUN_METRICS', { metrics: { loss: Number.NaN, acc: Number.POSITIVE_INFINITY } })).toEqual([
      { field: 'metrics.loss', reason: 'must be a finite number or one of "NaN", "Infinity", "-Infinity"' },
      { field: 'metrics.acc', reason: 'must be a finite number or one of "NaN", "Infinity", "-Infinity"' },
    ]);
  });

  it('accepts 1000 metrics and refuses 1001 or none', () => {
    const metrics = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`m${i}`, i]));
    expect(Object.keys(accepted({ ...valid.RUN_METRICS, metrics: metrics(1000) })[0].metrics!)).toHaveLength(1000);
    expect(problemsWith('RUN_METRICS', { metrics: metrics(1001) })).toEqual([
      { field: 'metrics', reason: 'must be an object of 1 to 1000 metrics (got 1001)' },
    ]);
    expect(problemsWith('RUN_METRICS', { metrics: {} })).toEqual([
      { field: 'metrics', reason: 'must be an object of 1 to 1000 metrics (got 0)' },
    ]);
  });

  it('refuses metrics that are not an object', () => {
    expect(problemsWith('RUN_METRICS', { metrics: [1, 2] })).toEqual([{ field: 'metrics', reason: 'must be an object of 1 to 1000 metrics' }]);
  });

  it('refuses empty and over-long metric names, cutting long names in the path', () => {
    const long = 'm'.repeat(257);
    const found = problemsWith('RUN_METRICS', { metrics: { '': 1, [long]: 2, ok: 3 } });
    expect(found).toEqual([
      { field: 'metrics[""]', reason: 'is not a valid metric name: names are 1 to 256 characters' },
      { field: `metrics[${JSON.stringify(`${'m'.repeat(64)}…`)}]`, reason: 'is not a valid metric name: names are 1 to 256 characters' },
    ]);
  });

  it('refuses a __proto__ metric name', () => {
    const body = JSON.parse('{"type":"RUN_METRICS","project":"p","run":{"id":"r","name":"n"},"metrics":{"__proto__":1,"a":2}}');
    expect(problems(body)).toEqual([{ field: 'metrics.__proto__', reason: 'is not an allowed key' }]);
  });

  it.each([0, 1, Number.MAX_SAFE_INTEGER])('accepts step %p', (step) => {
    expect(accepted({ ...valid.RUN_METRICS, step })[0].step).toBe(step);
  });

  it.each([-1, 1.5, '12', 2 ** 53, null])('refuses step %p', (step) => {
    expect(problemsWith('RUN_METRICS', { step })).toEqual([{ field: 'step', reason: 'must be an integer ≥ 0' }]);
  });
});

describe('validateEventBatch: RUN_LOG', () => {
  it('requires lines', () => {
    expect(problems(without('RUN_LOG', 'lines'))).toEqual([{ field: 'lines', reason: 'is required' }]);
  });

  it.each([[[]], ['one line'], [Array.from({ length: 1001 }, () => 'x')]])('refuses lines %#', (lines) => {
    expect(problemsWith('RUN_LOG', { lines })).toEqual([{ field: 'lines', reason: 'must be an array of 1 to 1000 strings' }]);
  });

  it('accepts 1000 lines', () => {
    expect(accepted({ ...valid.RUN_LOG, lines: Array.from({ length: 1000 }, (_, i) => `l${i}`) })[0].lines).toHaveLength(1000);
  });

  it('measures the 8 KiB line limit in UTF-8 bytes', () => {
    expect(accepted({ ...valid.RUN_LOG, lines: ['x'.repeat(8192)] })).toHaveLength(1);
    expect(accepted({ ...valid.RUN_LOG, lines: ['é'.repeat(4096)] })).toHaveLength(1);
    const limit = { reason: 'must be at most 8192 bytes (8 KiB) in UTF-8' };
    expect(problemsWith('RUN_LOG', { lines: ['ok', 'x'.repeat(8193)] })).toEqual([{ field: 'lines[1]', ...limit }]);
    expect(problemsWith('RUN_LOG', { lines: ['é'.repeat(4097)] })).toEqual([{ field: 'lines[0]', ...limit }]);
    expect(problemsWith('RUN_LOG', { lines: ['€'.repeat(2731)] })).toEqual([{ field: 'lines[0]', ...limit }]);
  });

  it('refuses a line that is not a string', () => {
    expect(problemsWith('RUN_LOG', { lines: ['a', null] })).toEqual([{ field: 'lines[1]', reason: 'must be a string' }]);
  });
});

describe('validateEventBatch: ALERT', () => {
  it('requires title and level', () => {
    expect(problems({ type: 'ALERT', project: 'p' })).toEqual([
      { field: 'title', reason: 'is required' },
      { field: 'level', reason: 'is required' },
    ]);
  });

  it.each(['INFO', 'WARN', 'ERROR'])('accepts level %s', (level) => {
    expect(accepted({ ...valid.ALERT, level })[0].level).toBe(level);
  });

  it('limits title to 1024 characters and text to 64 KiB of UTF-8', () => {
    expect(accepted({ ...valid.ALERT, title: 't'.repeat(1024), text: 'x'.repeat(65536) })).toHaveLength(1);
    expect(problemsWith('ALERT', { title: 't'.repeat(1025), text: 'é'.repeat(32769) })).toEqual([
      { field: 'title', reason: 'must be a string of 1 to 1024 characters' },
      { field: 'text', reason: 'must be a string of at most 65536 bytes (64 KiB) in UTF-8' },
    ]);
  });

  it('refuses RUN_METRICS fields on an ALERT', () => {
    expect(problemsWith('ALERT', { step: 1 })).toEqual([{ field: 'step', reason: 'is not an allowed field for ALERT' }]);
  });
});

describe('validateEventBatch: artifact events', () => {
  it('requires artifact with name, version and collection', () => {
    expect(problems(without('CREATE_ARTIFACT', 'artifact'))).toEqual([{ field: 'artifact', reason: 'is required' }]);
    expect(problemsWith('LINK_ARTIFACT', { artifact: {} })).toEqual([
      { field: 'artifact.name', reason: 'is required' },
      { field: 'artifact.version', reason: 'is required' },
      { field: 'artifact.collection', reason: 'is required' },
    ]);
  });

  it('accepts the optional artifact fields', () => {
    const full = { ...artifact, id: 'A1', type: 'model', metadata: { acc: 0.9, nested: [1, { x: null }] }, aliases: ['latest'], tags: [] };
    expect(accepted({ ...valid.UNLINK_ARTIFACT, artifact: full })[0].artifact).toEqual(full);
  });

  it('refuses wrong artifact field types and unknown artifact fields', () => {
    const bad = { ...artifact, version: 3, metadata: [1], aliases: 'latest', tags: ['ok', ''], size: 10 };
    expect(problemsWith('CREATE_ARTIFACT', { artifact: bad })).toEqual([
      { field: 'artifact.version', reason: 'must be a string of 1 to 256 characters' },
      { field: 'artifact.metadata', reason: 'must be an object' },
      { field: 'artifact.aliases', reason: 'must be an array of at most 100 strings' },
      { field: 'artifact.tags[1]', reason: 'must be a string of 1 to 256 characters' },
      { field: 'artifact.size', reason: 'is not an allowed field' },
    ]);
  });

  it.each(['ADD_ARTIFACT_ALIAS', 'REMOVE_ARTIFACT_ALIAS'])('%s requires alias and refuses tag', (type) => {
    expect(problems(without(type, 'alias'))).toEqual([{ field: 'alias', reason: 'is required' }]);
    expect(problemsWith(type, { tag: 'x' })).toEqual([{ field: 'tag', reason: `is not an allowed field for ${type}` }]);
  });

  it.each(['ADD_ARTIFACT_TAG', 'REMOVE_ARTIFACT_TAG'])('%s requires tag and refuses alias', (type) => {
    expect(problems(without(type, 'tag'))).toEqual([{ field: 'tag', reason: 'is required' }]);
    expect(problemsWith(type, { alias: 'x' })).toEqual([{ field: 'alias', reason: `is not an allowed field for ${type}` }]);
  });

  it('refuses alias on CREATE_ARTIFACT', () => {
    expect(problemsWith('CREATE_ARTIFACT', { alias: 'prod' })).toEqual([
      { field: 'alias', reason: 'is not an allowed field for CREATE_ARTIFACT' },
    ]);
  });

  it('refuses __proto__ keys anywhere in metadata, naming the path, and pollutes nothing', () => {
    const body = JSON.parse(
      '{"type":"CREATE_ARTIFACT","project":"p","artifact":{"name":"n","version":"v1","collection":"c",' +
        '"metadata":{"__proto__":{"polluted":true},"deep":[{"__proto__":{"polluted":true}}]}}}',
    );
    expect(problems(body)).toEqual([
      { field: 'artifact.metadata.__proto__', reason: 'is not an allowed key' },
      { field: 'artifact.metadata.deep[0].__proto__', reason: 'is not an allowed key' },
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('keeps constructor and prototype keys as plain data', () => {
    const metadata = JSON.parse('{"constructor":{"prototype":{"x":1}}}');
    const [event] = accepted({ ...valid.CREATE_ARTIFACT, artifact: { ...artifact, metadata } });
    expect(Object.hasOwn(event.artifact!.metadata!, 'constructor')).toBe(true);
    expect(event.artifact!.metadata).toEqual(metadata);
  });

  it('refuses metadata nested deeper than 32 levels', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = { d: deep };
    const found = problemsWith('CREATE_ARTIFACT', { artifact: { ...artifact, metadata: deep } });
    expect(found).toHaveLength(1);
    expect(found[0].reason).toBe('nests deeper than 32 levels');
    expect(found[0].field).toBe(`artifact.metadata${'.d'.repeat(32)}`);
  });

  it('refuses metadata values JSON cannot carry', () => {
    const metadata = { f: () => 1, n: Number.NaN, u: undefined, d: new Date(0) };
    expect(problemsWith('CREATE_ARTIFACT', { artifact: { ...artifact, metadata } }).map((p) => p.field)).toEqual([
      'artifact.metadata.f',
      'artifact.metadata.n',
      'artifact.metadata.u',
      'artifact.metadata.d',
    ]);
  });

  it('limits aliases and tags to 100 entries', () => {
    const labels = Array.from({ length: 101 }, (_, i) => `l${i}`);
    expect(problemsWith('CREATE_ARTIFACT', { artifact: { ...artifact, tags: labels } })).toEqual([
      { field: 'artifact.tags', reason: 'must be an array of at most 100 strings' },
    ]);
  });
});

describe('run names', () => {
  it('may be long (matched under RE2), up to 128 Ki characters', () => {
    const long = { type: 'RUN_STATE', project: 'p', run: { id: 'r', name: 'a'.repeat(128 * 1024), state: 'FAILED' } };
    expect(validateEventBatch(long).ok).toBe(true);
    const tooLong = { ...long, run: { ...long.run, name: 'a'.repeat(128 * 1024 + 1) } };
    expect(validateEventBatch(tooLong)).toEqual({
      ok: false,
      problems: [{ field: 'run.name', reason: 'must be a string of at most 131072 characters' }],
    });
  });
});

describe('validateEventBatch: Herald\'s operational events', () => {
  const webhook = { id: 'wh_1', name: 'deploy' };
  const delivery = { id: 'msg_1', series: 2, attempts: 8, automationId: 'aut_1', automationName: 'a', eventId: 'evt_1', eventType: 'ALERT' };
  const disabled = { id: 'herald:webhook-disabled:wh_1:msg_1.2.8', type: 'WEBHOOK_DISABLED', project: 'herald', webhook, reason: 'gone', delivery, statusCode: 410, error: 'HTTP 410' };
  const failed = { id: 'herald:delivery-failed:msg_1.2', type: 'DELIVERY_FAILED', project: 'llm', webhook, delivery, error: 'timeout' };
  const operational = (body: unknown) => validateEventBatch(body, { operational: true });

  it('are refused from clients, naming why, as are ids starting herald:', () => {
    expect(problems(disabled)).toEqual([
      { field: 'type', reason: expect.stringMatching(/^must be one of RUN_METRICS, .*REMOVE_COLLECTION_TAG \(Herald emits WEBHOOK_DISABLED itself\)$/) },
      { field: 'id', reason: "must not start with herald: (Herald's own events use it)" },
    ]);
    expect(problemsWith('ALERT', { id: 'herald:x' })).toEqual([{ field: 'id', reason: "must not start with herald: (Herald's own events use it)" }]);
  });

  it('are accepted from Herald (and previews), as given', () => {
    expect(operational([disabled, failed])).toEqual({ ok: true, events: [disabled, failed] });
    const minimal = { type: 'WEBHOOK_DISABLED', project: 'herald', webhook, reason: 'failing' };
    expect(operational(minimal)).toEqual({ ok: true, events: [minimal] });
  });

  it('require their fields and check each, all problems at once', () => {
    expect(operational({ type: 'WEBHOOK_DISABLED', project: 'herald' })).toEqual({
      ok: false,
      problems: [
        { field: 'webhook', reason: 'is required' },
        { field: 'reason', reason: 'is required' },
      ],
    });
    const bad = operational({
      type: 'DELIVERY_FAILED',
      project: 'p',
      webhook: { id: '', extra: 1 },
      delivery: { id: 'msg_1', series: 0, attempts: -1, colour: 'red' },
      statusCode: 99,
      error: 'x'.repeat(2049),
      reason: 'gone',
    });
    expect(bad.ok ? [] : bad.problems).toEqual([
      { field: 'webhook.id', reason: 'must be a string of 1 to 256 characters' },
      { field: 'webhook.extra', reason: 'is not an allowed field' },
      { field: 'webhook.name', reason: 'is required' },
      { field: 'delivery.series', reason: 'must be an integer ≥ 1' },
      { field: 'delivery.attempts', reason: 'must be an integer ≥ 0' },
      { field: 'delivery.colour', reason: 'is not an allowed field' },
      { field: 'delivery.eventType', reason: 'is required' },
      { field: 'statusCode', reason: 'must be an HTTP status, an integer from 100 to 599' },
      { field: 'error', reason: 'must be a string of at most 2048 characters' },
      { field: 'reason', reason: 'is not an allowed field for DELIVERY_FAILED' },
    ]);
    const reason = operational({ ...disabled, reason: 'tired' });
    expect(reason.ok ? [] : reason.problems).toEqual([{ field: 'reason', reason: 'must be one of gone, failing' }]);
  });

  it('do not take the fields of other types', () => {
    const found = operational({ ...failed, run: { id: 'r', name: 'n' } });
    expect(found.ok ? [] : found.problems).toEqual([{ field: 'run', reason: 'is not an allowed field for DELIVERY_FAILED' }]);
  });
});
