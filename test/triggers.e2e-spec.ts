import { TestHerald, FakeClock, bearer } from './support/herald';
import { TestReceiver } from './support/receiver';
import { waitFor } from './support/wait';

/**
 * The triggers and filters no ML platform's automations have (docs/automations.md): run
 * context, attribute filters, collection tags, group completion and stale runs.
 */
describe('triggers: run context, attribute filters, collection tags, groups, stale runs (e2e)', () => {
  let herald: TestHerald;
  let receiver: TestReceiver;
  let admin: Record<string, string>;
  const clock = new FakeClock();
  let counter = 0;

  beforeAll(async () => {
    herald = await TestHerald.start({ env: { HERALD_ALLOWED_NETWORKS: '127.0.0.1/32' }, clock });
    receiver = await TestReceiver.start();
    admin = bearer(herald.adminKey);
  });
  afterAll(async () => {
    await receiver.close();
    await herald.destroy();
  });

  /** A webhook of its own path and an automation in project `project` sending `payload` to it. */
  async function automation(body: Record<string, unknown>, payload: Record<string, unknown> = { run: '${run_id}' }, project = `p${counter + 1}`) {
    const name = `trig-${++counter}`;
    const path = `/${name}`;
    const team = await herald.team();
    const hook = await herald.fixtures.newWebhook(team, { name: `wh-${name}`, url: receiver.url(path) });
    const created = await herald.fixtures.newAutomation(team, hook, { name, scope: { type: 'project', name: project }, action: { payload }, ...body });
    return {
      id: created.id,
      project,
      received: () => receiver.requests.filter((r) => r.path === path).map((r) => JSON.parse(r.body) as Record<string, unknown>),
    };
  }

  async function post(events: object) {
    const res = await herald.http().post('/v1/events').set(admin).send(events);
    if (res.status !== 200) throw new Error(`events refused: ${res.status} ${JSON.stringify(res.body)}`);
    await herald.settle();
    return res.body.results as { matched: number }[];
  }

  const runState = (project: string, id: string, state: string, run: Record<string, unknown> = {}) => ({
    type: 'RUN_STATE',
    project,
    author: 'alice',
    run: { id, name: `n-${id}`, state, ...run },
  });

  it('keeps run.group, run.tags and run.config on the run: later events render them without repeating them', async () => {
    const a = await automation(
      { trigger: { event: 'RUN_STATE', states: ['FAILED'] } },
      { group: '${run_group}', tags: '${run_tags}', lr: '${run_config.lr}', opt: '${run_config.optimizer}' },
    );
    await post([runState(a.project, 'r1', 'RUNNING', { group: 'sweep-7', tags: ['baseline', 'a100'], config: { lr: 0.001, optimizer: 'adam' } })]);
    await post([runState(a.project, 'r1', 'FAILED')]);
    expect(a.received()).toEqual([{ group: 'sweep-7', tags: 'baseline,a100', lr: '0.001', opt: 'adam' }]);
  });

  it('refuses run context over its limits, naming each field', async () => {
    const res = await herald
      .http()
      .post('/v1/events')
      .set(admin)
      .send(runState('p', 'r1', 'RUNNING', { group: 'g'.repeat(257), tags: Array.from({ length: 101 }, () => 't'), config: { big: 'x'.repeat(70_000) } }))
      .expect(400);
    expect(res.body.details.map((d: { field: string }) => d.field)).toEqual(['run.group', 'run.tags', 'run.config']);
  });

  it('an attribute filter on run.config.lr and run.tags lets exactly the matching runs through; the preview names the failing clause', async () => {
    const filter = { 'run.config.lr': { $lt: 0.01 }, 'run.tags': { $contains: 'baseline' } };
    const a = await automation({ trigger: { event: 'RUN_STATE', states: ['FINISHED'] }, filter });
    const runs = [
      { id: 'ok', config: { lr: 0.001 }, tags: ['baseline'] },
      { id: 'high-lr', config: { lr: 0.1 }, tags: ['baseline'] },
      { id: 'untagged', config: { lr: 0.001 }, tags: ['ablation'] },
      { id: 'no-config', tags: ['baseline'] },
      { id: 'also-ok', config: { lr: 0.005, extra: true }, tags: ['x', 'baseline'] },
    ];
    await post(runs.map(({ id, ...context }) => runState(a.project, id, 'RUNNING', context)));
    const results = await post(runs.map(({ id }) => runState(a.project, id, 'FINISHED')));
    expect(results.map((r) => r.matched)).toEqual([1, 0, 0, 0, 1]);
    expect(a.received().map((b) => b.run).sort()).toEqual(['also-ok', 'ok']);

    // The preview reads the run as Herald keeps it (a running run of lr 0.1), and names the clause that failed.
    await post([runState(a.project, 'preview-run', 'RUNNING', { config: { lr: 0.1 }, tags: ['baseline'] })]);
    const preview = await herald.http().post(`/v1/automations/${a.id}/preview`).set(admin).send(runState(a.project, 'preview-run', 'FINISHED')).expect(200);
    expect(preview.body.wouldFire).toBe(false);
    const failing = preview.body.filters.filter((f: { passed: boolean }) => !f.passed);
    expect(failing).toEqual([{ filter: 'filter.run.config.lr.$lt', passed: false, actual: 0.1, expected: { $lt: 0.01 } }]);
    expect(preview.body.filters).toContainEqual({ filter: 'filter.run.tags.$contains', passed: true, actual: ['baseline'], expected: { $contains: 'baseline' } });
  });

  it('refuses a filter naming its path and reason, and PATCH null removes it', async () => {
    const team = await herald.team();
    const hook = await herald.fixtures.newWebhook(team);
    const refused = await herald
      .http()
      .post('/v1/automations')
      .set(admin)
      .send({ name: 'bad-filter', scope: { type: 'team' }, trigger: { event: 'ALERT', levels: ['ERROR'] }, action: { webhookId: hook.id }, filter: { 'run.config.lr': { $lt: 'x', $near: 1 }, $where: 'js' } })
      .expect(400);
    expect(refused.body.details).toEqual([
      { field: 'filter.run.config.lr.$near', reason: expect.stringContaining('is not an operator') },
      { field: 'filter.$where', reason: expect.stringContaining('is not a filter operator here') },
    ]);
    const a = await automation({ trigger: { event: 'ALERT', levels: ['ERROR'] }, filter: { 'alert.title': { $regex: '^disk' } } });
    expect((await herald.http().get(`/v1/automations/${a.id}`).set(admin).expect(200)).body.filter).toEqual({ 'alert.title': { $regex: '^disk' } });
    await post({ type: 'ALERT', project: a.project, title: 'cpu hot', level: 'ERROR' });
    expect(a.received()).toHaveLength(0);
    await herald.http().patch(`/v1/automations/${a.id}`).set(admin).send({ filter: null }).expect(200);
    await post({ type: 'ALERT', project: a.project, title: 'cpu hot', level: 'ERROR' });
    expect(a.received()).toHaveLength(1);
  });

  it('ADD_COLLECTION_TAG / REMOVE_COLLECTION_TAG fire on their tagRegex with ${tag}, ${artifact_collection_name} and ${collection_type}', async () => {
    const added = await automation(
      { trigger: { event: 'ADD_COLLECTION_TAG', tagRegex: '^prod', collectionRegex: '^llm' } },
      { tag: '${tag}', collection: '${artifact_collection_name}', type: '${collection_type}', event: '${event_type}' },
    );
    const removed = await automation({ trigger: { event: 'REMOVE_COLLECTION_TAG', tagRegex: '.*' } }, { tag: '${tag}' }, added.project);
    const tag = (type: string, name: string, value: string) => ({ type, project: added.project, collection: { name, type: 'model' }, tag: value });
    const results = await post([
      tag('ADD_COLLECTION_TAG', 'llm-models', 'prod-ready'),
      tag('ADD_COLLECTION_TAG', 'llm-models', 'draft'),
      tag('ADD_COLLECTION_TAG', 'cv-models', 'prod-ready'),
      tag('REMOVE_COLLECTION_TAG', 'cv-models', 'prod-ready'),
    ]);
    expect(results.map((r) => r.matched)).toEqual([1, 0, 0, 1]);
    expect(added.received()).toEqual([{ tag: 'prod-ready', collection: 'llm-models', type: 'model', event: 'ADD_COLLECTION_TAG' }]);
    expect(removed.received()).toEqual([{ tag: 'prod-ready' }]);
    const variables = await herald.http().get('/v1/automations/variables?trigger=ADD_COLLECTION_TAG').set(admin).expect(200);
    const applying = variables.body.items.filter((v: { applies: boolean }) => v.applies).map((v: { name: string }) => v.name);
    expect(applying).toEqual(expect.arrayContaining(['tag', 'artifact_collection_name', 'collection_type']));
    expect(applying).not.toContain('alias');
  });

  it('a sweep of three runs fires RUN_GROUP_FINISHED only after the last ends, with the group counts; again only after a run reports RUNNING', async () => {
    const a = await automation(
      { trigger: { event: 'RUN_GROUP_FINISHED', groupRegex: '^sweep-' } },
      { group: '${run_group}', total: '${group_runs_total}', finished: '${group_runs_finished}', failed: '${group_runs_failed}' },
    );
    const sweep = { group: 'sweep-42' };
    await post([runState(a.project, 's1', 'RUNNING', sweep), runState(a.project, 's2', 'RUNNING', sweep), runState(a.project, 's3', 'RUNNING', sweep)]);
    await post([runState(a.project, 'other', 'RUNNING', { group: 'grid-1' }), runState(a.project, 'other', 'FINISHED')]);
    // Later reports need not repeat the group: Herald keeps it on the run.
    expect((await post([runState(a.project, 's1', 'FINISHED')]))[0].matched).toBe(0);
    expect((await post([runState(a.project, 's2', 'CRASHED')]))[0].matched).toBe(0);
    expect(a.received()).toEqual([]);
    expect((await post([runState(a.project, 's3', 'FINISHED')]))[0].matched).toBe(1);
    expect(a.received()).toEqual([{ group: 'sweep-42', total: '3', finished: '3', failed: '1' }]);
    // A fourth run that only reports its end: the group is still finished, no second notice.
    expect((await post([runState(a.project, 's4', 'FINISHED', sweep)]))[0].matched).toBe(0);
    // A run reports RUNNING again: re-armed; its end fires once more.
    await post([runState(a.project, 's1', 'RUNNING')]);
    expect((await post([runState(a.project, 's1', 'FAILED')]))[0].matched).toBe(1);
    expect(a.received()[1]).toEqual({ group: 'sweep-42', total: '4', finished: '4', failed: '2' });
  });
});

describe('RUN_STALE: durable, prompt, once per silence (e2e, real clock)', () => {
  let receiver: TestReceiver;
  beforeAll(async () => {
    receiver = await TestReceiver.start();
  });
  afterAll(async () => {
    await receiver.close();
  });

  async function setUp(herald: TestHerald, path: string, staleSeconds: number) {
    const team = await herald.team();
    const hook = await herald.fixtures.newWebhook(team, { name: `wh${path.replace(/\//g, '-')}`, url: receiver.url(path) });
    await herald.fixtures.newAutomation(team, hook, {
      name: `stale${path.replace(/\//g, '-')}`,
      scope: { type: 'project', name: 'llm' },
      trigger: { event: 'RUN_STALE', staleSeconds },
      filter: { 'run.tags': { $contains: 'watched' } },
      action: { payload: { run: '${run_id}', lastSeen: '${run_last_seen}', stale: '${stale_seconds}' } },
    });
  }
  const received = (path: string) => receiver.requests.filter((r) => r.path === path).map((r) => ({ body: JSON.parse(r.body) }));
  async function post(herald: TestHerald, events: object) {
    await herald.http().post('/v1/events').set(bearer(herald.adminKey)).send(events).expect(200);
  }
  const report = (id: string, state: string) => ({ type: 'RUN_STATE', project: 'llm', run: { id, name: id, state, tags: ['watched'] } });
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('fires once within the bound for a silent run, not again until it reports, never for a finished run or one the filter refuses', async () => {
    const herald = await TestHerald.start({ env: { HERALD_ALLOWED_NETWORKS: '127.0.0.1/32' } });
    try {
      await setUp(herald, '/stale-a', 1);
      const posted = Date.now();
      await post(herald, [report('silent', 'RUNNING'), report('done', 'RUNNING'), { ...report('untagged', 'RUNNING'), run: { id: 'untagged', name: 'u', state: 'RUNNING' } }]);
      await post(herald, [report('done', 'FINISHED')]);
      const first = await waitFor('the first RUN_STALE', () => received('/stale-a').length > 0 && received('/stale-a'), 5000);
      const arrived = Date.now();
      // Due 1 s after the report; the bound is 1 s more (1 s or 5 % of staleSeconds, whichever is larger).
      expect(arrived - posted).toBeGreaterThanOrEqual(1000);
      expect(arrived - posted).toBeLessThan(2000 + 500);
      expect(first.map((r) => r.body)).toEqual([{ run: 'silent', lastSeen: expect.stringMatching(/^\d{4}-/), stale: '1' }]);
      await sleep(2000);
      expect(received('/stale-a')).toHaveLength(1);
      // The run reports again: re-armed, it fires once more after another silence.
      await post(herald, { type: 'RUN_METRICS', project: 'llm', run: { id: 'silent', name: 'silent' }, metrics: { loss: 1 } });
      await waitFor('the second RUN_STALE', () => received('/stale-a').length === 2, 5000);
      await sleep(1500);
      expect(received('/stale-a').map((r) => r.body.run)).toEqual(['silent', 'silent']);
    } finally {
      await herald.destroy();
    }
  });

  it('fires after a restart for a run that went silent while the server was stopped', async () => {
    const first = await TestHerald.start({ env: { HERALD_ALLOWED_NETWORKS: '127.0.0.1/32' } });
    await setUp(first, '/stale-b', 2);
    await post(first, [report('across', 'RUNNING')]);
    await first.close();
    await sleep(2500);
    expect(received('/stale-b')).toHaveLength(0);
    const second = await TestHerald.start({ dataDir: first.dataDir, env: { HERALD_ALLOWED_NETWORKS: '127.0.0.1/32' } });
    try {
      const started = Date.now();
      await waitFor('RUN_STALE after the restart', () => received('/stale-b').length > 0, 5000);
      expect(Date.now() - started).toBeLessThan(3000);
      await sleep(1000);
      expect(received('/stale-b').map((r) => r.body.run)).toEqual(['across']);
    } finally {
      await second.destroy();
    }
  });
});
