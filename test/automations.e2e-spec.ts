import { TestHerald, FakeClock, bearer } from './support/herald';
import { TestReceiver } from './support/receiver';

/** Events from a run: a RUN_METRICS event per value of one metric. */
const metricEvents = (run: string, metric: string, values: (number | string)[], extra: Record<string, unknown> = {}) =>
  values.map((value, i) => ({
    type: 'RUN_METRICS',
    project: 'llm',
    author: 'alice',
    run: { id: run, name: `bert-${run}` },
    step: i,
    metrics: { [metric]: value },
    ...extra,
  }));

describe('automations: from a posted event to a delivered payload (e2e)', () => {
  let herald: TestHerald;
  let receiver: TestReceiver;
  let admin: Record<string, string>;
  const clock = new FakeClock();
  let counter = 0;

  beforeAll(async () => {
    herald = await TestHerald.start({ env: { HERALD_ALLOWED_NETWORKS: '127.0.0.1/32' }, clock });
    receiver = await TestReceiver.start();
    admin = bearer(herald.adminKey);
    await herald.http().post('/v1/secrets').set(admin).send({ name: 'GH_TOKEN', value: 'ghp_secret_value_123456' }).expect(201);
  });
  afterAll(async () => {
    await receiver.close();
    await herald.destroy();
  });

  /** A webhook of its own path and an automation sending `payload` (or a preset) to it. */
  async function automation(body: Record<string, unknown>, webhook: Record<string, unknown> = {}) {
    const name = `auto-${++counter}`;
    const path = `/${name}`;
    const team = await herald.team();
    const hook = await herald.fixtures.newWebhook(team, { name: `wh-${name}`, url: receiver.url(path), ...webhook });
    const created = await herald.fixtures.newAutomation(team, hook, {
      name,
      scope: { type: 'project', name: 'llm' },
      action: { payload: { automation: '${automation_name}', run: '${run_name}', value: '${metric_value}' } },
      ...body,
    });
    return { id: created.id, webhookId: hook.id, path, received: () => receiver.requests.filter((r) => r.path === path) };
  }

  async function post(events: object, key = admin) {
    const res = await herald.http().post('/v1/events').set(key).send(events);
    if (res.status !== 200) throw new Error(`events refused: ${res.status} ${JSON.stringify(res.body)}`);
    await herald.settle();
    return res.body.results as { index: number; id: string; duplicate: boolean; matched: number; deliveries: string[] }[];
  }

  it('RUN_METRIC_THRESHOLD: AVERAGE of 5 below 0.2 fires once on the rising edge, with the rendered payload', async () => {
    const a = await automation({
      trigger: { event: 'RUN_METRIC_THRESHOLD', metric: 'val/loss', agg: 'AVERAGE', window: 5, op: '<', threshold: 0.2 },
    });
    const results = await post(metricEvents('t1', 'val/loss', [0.3, 0.25, 0.2, 0.18, 0.15, 0.1, 0.1]));
    // averages: window full at the 5th value: (0.3+0.25+0.2+0.18+0.15)/5 = 0.216; 6th: 0.176 → fires; 7th stays below: edge
    expect(results.map((r) => r.matched)).toEqual([0, 0, 0, 0, 0, 1, 0]);
    expect(a.received()).toHaveLength(1);
    const body = JSON.parse(a.received()[0].body);
    expect(body).toMatchObject({ automation: expect.stringMatching(/^auto-/), run: 'bert-t1' });
    expect(Number(body.value)).toBeCloseTo(0.176, 10);
  });

  it('a metric over the threshold for 100 steps fires once; after the cooldown and a dip it fires again; a restart forgets nothing', async () => {
    const a = await automation({
      trigger: { event: 'RUN_METRIC_THRESHOLD', metric: 'gpu', agg: 'LAST', window: 1, op: '>', threshold: 90 },
      cooldownSeconds: 3600,
    });
    await post(metricEvents('c1', 'gpu', Array.from({ length: 100 }, () => 95)));
    expect(a.received()).toHaveLength(1);

    // a dip and a rise inside the cooldown: consumed, not deferred
    await post(metricEvents('c1', 'gpu', [50, 95]));
    expect(a.received()).toHaveLength(1);

    // restart on the same data directory: no re-fire, and the state is remembered
    const dataDir = herald.dataDir;
    await herald.close();
    herald = await TestHerald.start({ dataDir, env: { HERALD_ALLOWED_NETWORKS: '127.0.0.1/32', HERALD_BOOTSTRAP_TOKEN: herald.adminKey }, clock });
    await post(metricEvents('c1', 'gpu', [96, 97]));
    expect(a.received()).toHaveLength(1);

    clock.advance(3601_000);
    await post(metricEvents('c1', 'gpu', [97]));
    expect(a.received()).toHaveLength(1); // still high since the consumed rise: no new edge
    await post(metricEvents('c1', 'gpu', [40, 99]));
    expect(a.received()).toHaveLength(2);
  });

  it('RUN_METRIC_CHANGE: RELATIVE DECREASE of 20 % between windows', async () => {
    const a = await automation({
      trigger: {
        event: 'RUN_METRIC_CHANGE', metric: 'acc', agg: 'AVERAGE', window: 2, priorWindow: 2,
        changeType: 'RELATIVE', direction: 'DECREASE', amount: 0.2,
      },
    });
    const results = await post(metricEvents('ch1', 'acc', [1, 1, 0.9, 0.9, 0.7, 0.7]));
    // 4th: cur 0.9 vs prior 1 → −10 %; 5th: cur 0.8 vs prior 0.95 → −15.8 %; 6th: 0.7 vs 0.9 → −22 % fires
    expect(results.map((r) => r.matched)).toEqual([0, 0, 0, 0, 0, 1]);
    expect(a.received()).toHaveLength(1);
  });

  it('RUN_METRIC_ZSCORE: a spike of 3 σ fires', async () => {
    const a = await automation({
      trigger: { event: 'RUN_METRIC_ZSCORE', metric: 'loss', window: 4, threshold: 3, direction: 'INCREASE' },
    });
    const results = await post(metricEvents('z1', 'loss', [1, 2, 1, 2, 1.6, 10]));
    expect(results.map((r) => r.matched)).toEqual([0, 0, 0, 0, 0, 1]);
    expect(a.received()).toHaveLength(1);
  });

  it('RUN_METRIC_THRESHOLD NON_FINITE fires on "NaN"', async () => {
    const a = await automation({ trigger: { event: 'RUN_METRIC_THRESHOLD', metric: 'loss', op: 'NON_FINITE' } });
    const results = await post(metricEvents('n1', 'loss', [0.5, 'NaN']));
    expect(results.map((r) => r.matched)).toEqual([0, 1]);
    expect(JSON.parse(a.received()[0].body).value).toBe('NaN');
  });

  it('RUN_STATE: entering FAILED fires once', async () => {
    const a = await automation({ trigger: { event: 'RUN_STATE', states: ['FAILED', 'CRASHED'] } });
    const state = (s: string) => ({ type: 'RUN_STATE', project: 'llm', run: { id: 's1', name: 'bert-s1', state: s } });
    const results = await post([state('RUNNING'), state('FAILED'), state('FAILED'), state('RUNNING')]);
    expect(results.map((r) => r.matched)).toEqual([0, 1, 0, 0]);
    expect(a.received()).toHaveLength(1);
    // the state other events carry is informational: the RUN_STATE event still enters FAILED
    const metrics = { type: 'RUN_METRICS', project: 'llm', run: { id: 's1', name: 'bert-s1', state: 'FAILED' }, metrics: { x: 1 } };
    expect((await post([metrics, state('FAILED')])).map((r) => r.matched)).toEqual([0, 1]);
  });

  it('RUN_LOG_MATCH renders the first matching line; runFilter name regex and user apply', async () => {
    const a = await automation({
      trigger: { event: 'RUN_LOG_MATCH', lineRegex: 'CUDA out of memory' },
      runFilter: { nameRegex: '^bert-', user: 'alice' },
    });
    await herald.http().patch(`/v1/automations/${a.id}`).set(admin).send({ action: { webhookId: a.webhookId, payload: { line: '${log_line}' } } }).expect(200);
    const log = (author: string, name: string, lines: string[]) => ({ type: 'RUN_LOG', project: 'llm', author, run: { id: `l-${name}`, name }, lines });
    const results = await post([
      log('bob', 'bert-x', ['RuntimeError: CUDA out of memory']),
      log('alice', 'gpt-x', ['RuntimeError: CUDA out of memory']),
      log('alice', 'bert-y', ['epoch 1', 'RuntimeError: CUDA out of memory. Tried "1 GiB"\\', 'again CUDA out of memory']),
    ]);
    expect(results.map((r) => r.matched)).toEqual([0, 0, 1]);
    expect(JSON.parse(a.received()[0].body)).toEqual({ line: 'RuntimeError: CUDA out of memory. Tried "1 GiB"\\' });
  });

  it('ALERT fires for the levels given', async () => {
    const a = await automation({ trigger: { event: 'ALERT', levels: ['ERROR'], titleRegex: 'diverg' } });
    const alert = (level: string, title: string) => ({ type: 'ALERT', project: 'llm', level, title });
    const results = await post([alert('WARN', 'loss diverged'), alert('ERROR', 'all good'), alert('ERROR', 'loss diverged')]);
    expect(results.map((r) => r.matched)).toEqual([0, 0, 1]);
    expect(a.received()).toHaveLength(1);
  });

  it('ADD_ARTIFACT_ALIAS with an alias regex sends a GitHub repository_dispatch with the token (the W&B automations docs)', async () => {
    const a = await automation(
      {
        scope: { type: 'registry', name: 'model-registry' },
        trigger: { event: 'ADD_ARTIFACT_ALIAS', aliasRegex: '^prod$', collectionRegex: 'bert' },
      },
      { kind: 'github', accessTokenSecret: 'GH_TOKEN' },
    );
    await herald
      .http()
      .patch(`/v1/automations/${a.id}`)
      .set(admin)
      .send({
        action: {
          webhookId: a.webhookId,
          payload: { event_type: 'DEPLOY', client_payload: { version: '${artifact_version_string}', author: '${event_author}' } },
        },
      })
      .expect(200);
    const alias = (alias: string, registry: boolean, collection = 'bert-base') => ({
      type: 'ADD_ARTIFACT_ALIAS', project: 'model-registry', registry, author: 'alice', alias,
      artifact: { name: `${collection}:v3`, version: 'v3', collection },
    });
    const results = await post([alias('staging', true), alias('prod', false), alias('prod', true, 'gpt'), alias('prod', true)]);
    expect(results.map((r) => r.matched)).toEqual([0, 0, 0, 1]);
    const got = a.received()[0];
    expect(got.headers.authorization).toBe('Bearer ghp_secret_value_123456');
    expect(JSON.parse(got.body)).toEqual({
      event_type: 'DEPLOY',
      client_payload: { version: 'default/model-registry/bert-base:prod', author: 'alice' },
    });
    // the stored body keeps no secret, and history shows the delivery succeeded
    const event = await herald.http().get(`/v1/events/${results[3].id}`).set(admin).expect(200);
    expect(event.body.deliveries).toEqual([expect.objectContaining({ id: results[3].deliveries[0], status: 'succeeded' })]);
  });

  it('ADD_ARTIFACT_TAG with a tag regex; team scope matches every project', async () => {
    const a = await automation({ scope: { type: 'team' }, trigger: { event: 'ADD_ARTIFACT_TAG', tagRegex: '^release-' } });
    const tag = (project: string, tag: string) => ({
      type: 'ADD_ARTIFACT_TAG', project, tag, artifact: { name: 'm:v1', version: 'v1', collection: 'm' },
    });
    const results = await post([tag('p1', 'nightly'), tag('p1', 'release-1'), tag('p2', 'release-2')]);
    expect(results.map((r) => r.matched)).toEqual([0, 1, 1]);
    expect(a.received()).toHaveLength(2);
  });

  it('hostile values in any field still give valid JSON carrying them intact', async () => {
    const a = await automation({ trigger: { event: 'RUN_STATE', states: ['FINISHED'] } });
    await herald
      .http()
      .patch(`/v1/automations/${a.id}`)
      .set(admin)
      .send({ action: { webhookId: a.webhookId, payload: '{"run": "${run_name}", "author": ${event_author}, "p": "x${project_name}"}' } })
      .expect(200);
    const hostile = 'a "quoted" \\ back\nslash ${GH_TOKEN} $GH_TOKEN </script> é 😀';
    await post({ type: 'RUN_STATE', project: 'llm', author: hostile, run: { id: 'h1', name: hostile, state: 'FINISHED' } });
    const body = a.received()[0].body;
    expect(JSON.parse(body)).toEqual({ run: hostile, author: hostile, p: 'xllm' });
    expect(body).not.toContain('ghp_secret_value_123456');
  });

  it('re-posting a batch with the same ids creates no new deliveries', async () => {
    const a = await automation({ trigger: { event: 'RUN_STATE', states: ['KILLED'] } });
    const batch = [
      { id: 'client-1', type: 'RUN_STATE', project: 'llm', run: { id: 'd1', name: 'bert-d1', state: 'KILLED' } },
      { id: 'client-2', type: 'RUN_STATE', project: 'llm', run: { id: 'd2', name: 'bert-d2', state: 'KILLED' } },
    ];
    const first = await post(batch);
    expect(first.map((r) => [r.duplicate, r.matched])).toEqual([[false, 1], [false, 1]]);
    const again = await post(batch);
    expect(again.map((r) => ({ ...r }))).toEqual(first.map((r) => ({ ...r, duplicate: true })));
    // The same id twice in one batch: the second answers like the first, and fires nothing.
    const twice = { id: 'client-3', type: 'RUN_STATE', project: 'llm', run: { id: 'd3', name: 'bert-d3', state: 'KILLED' } };
    const [once, repeated, stored] = await post([twice, twice, batch[0]]);
    expect(once).toMatchObject({ index: 0, duplicate: false, matched: 1 });
    expect(repeated).toEqual({ ...once, index: 1, duplicate: true });
    expect(stored).toEqual({ ...first[0], index: 2, duplicate: true });
    expect(a.received().map((r) => JSON.parse(r.body).run).sort()).toEqual(['bert-d1', 'bert-d2', 'bert-d3']);
  });

  it('RE2 keeps catastrophic patterns linear; lookahead is refused at save naming the field', async () => {
    const a = await automation({
      scope: { type: 'project', name: 'llm-re2' },
      trigger: { event: 'RUN_STATE', states: ['FINISHED'] },
      runFilter: { nameRegex: '(a+)+$' },
    });
    const name = 'a'.repeat(100_000) + '!';
    const results = await post({ type: 'RUN_STATE', project: 'llm-re2', run: { id: 're2', name, state: 'FINISHED' } });
    expect(results[0].matched).toBe(0);
    expect(a.received()).toHaveLength(0);

    const refused = await herald
      .http()
      .post('/v1/automations')
      .set(admin)
      .send({ name: 'lookahead', scope: { type: 'team' }, trigger: { event: 'RUN_LOG_MATCH', lineRegex: 'error(?=!)' }, action: { webhookId: a.webhookId } })
      .expect(400);
    expect(refused.body.details).toEqual([{ field: 'trigger.lineRegex', reason: expect.stringMatching(/RE2/) }]);
  });

  it('preview explains a non-match filter by filter and never leaks a secret', async () => {
    const a = await automation(
      { trigger: { event: 'RUN_STATE', states: ['FINISHED'] }, runFilter: { nameRegex: '^gpt-', user: 'alice' } },
      { accessTokenSecret: 'GH_TOKEN' },
    );
    await herald
      .http()
      .patch(`/v1/automations/${a.id}`)
      .set(admin)
      .send({ action: { webhookId: a.webhookId, payload: { token: '${ACCESS_TOKEN}', run: '${run_name}' } } })
      .expect(200);
    const res = await herald
      .http()
      .post(`/v1/automations/${a.id}/preview`)
      .set(admin)
      .send({ type: 'RUN_STATE', project: 'llm', author: 'bob', run: { id: 'p1', name: 'bert-p1', state: 'FINISHED' } })
      .expect(200);
    expect(res.body.wouldFire).toBe(false);
    expect(res.body.cooldownActive).toBe(false);
    const failed = res.body.filters.filter((f: { passed: boolean }) => !f.passed).map((f: { filter: string }) => f.filter);
    expect(failed).toEqual(['runFilter.nameRegex', 'runFilter.user']);
    expect(res.body.body).toEqual({ token: '••••••', run: 'bert-p1' });
    expect(JSON.stringify(res.body)).not.toContain('ghp_secret_value_123456');
    expect(a.received()).toHaveLength(0);

    const unsaved = await herald
      .http()
      .post('/v1/automations/preview')
      .set(admin)
      .send({
        automation: { name: 'draft', scope: { type: 'team' }, trigger: { event: 'RUN_STATE', states: ['FINISHED'] }, action: { webhookId: a.webhookId } },
        event: { type: 'RUN_STATE', project: 'llm', run: { id: 'p2', name: 'x', state: 'FINISHED' } },
      })
      .expect(200);
    expect(unsaved.body.wouldFire).toBe(true);
    expect(unsaved.body.body).toMatchObject({ event_type: 'RUN_STATE' });
  });

  it('windowed preview: one event against the run\'s stored windows and edge, or a sequence through fresh windows, step by step', async () => {
    const a = await automation({
      trigger: { event: 'RUN_METRIC_THRESHOLD', metric: 'pv/loss', agg: 'AVERAGE', window: 5, op: '<', threshold: 0.2 },
    });
    const preview = (body: object) => herald.http().post(`/v1/automations/${a.id}/preview`).set(admin).send(body).expect(200);
    const step = (run: string, value: number) => ({ ...metricEvents(run, 'pv/loss', [value])[0] });

    // four values stored for run pv1: one more fills the window, against the stored windows
    await post(metricEvents('pv1', 'pv/loss', [0.1, 0.1, 0.1, 0.1]));
    const stored = await preview(step('pv1', 0.1));
    expect(stored.body).toMatchObject({ windows: 'stored', wouldFire: true });
    expect(stored.body.steps).toEqual([expect.objectContaining({ index: 0, decision: 'fires', wouldFire: true })]);
    expect(stored.body.steps[0].body).toMatchObject({ run: 'bert-pv1' });
    expect(Number(stored.body.steps[0].body.value)).toBeCloseTo(0.1, 10);
    // the same through `{event}`, for a run with nothing stored: the window is filling
    const empty = await preview({ event: step('pv-new', 0.1) });
    expect(empty.body.steps).toEqual([expect.objectContaining({ decision: 'window', notFired: { reason: 'window', have: 1, need: 5 }, body: null })]);
    expect(empty.body.wouldFire).toBe(false);

    // a sequence through fresh windows: 4 steps filling, the 5th fires, the 6th is held by the edge
    const sequence = await preview({ events: metricEvents('pv1', 'pv/loss', [0.1, 0.1, 0.1, 0.1, 0.1, 0.1]) });
    expect(sequence.body.windows).toBe('fresh');
    expect(sequence.body.steps.map((s: { decision: string }) => s.decision)).toEqual(['window', 'window', 'window', 'window', 'fires', 'edge']);
    expect(sequence.body.steps[3].notFired).toEqual({ reason: 'window', have: 4, need: 5 });
    expect(sequence.body.wouldFire).toBe(true);
    expect(sequence.body.body).toEqual(sequence.body.steps[4].body);
    expect(sequence.body.body).toMatchObject({ automation: expect.stringMatching(/^auto-/), run: 'bert-pv1' });
    // nothing was stored or sent: the stored windows still hold four values
    expect(a.received()).toHaveLength(0);
    expect((await preview(step('pv1', 0.1))).body.steps[0].decision).toBe('fires');

    // once it fired for real, the stored edge holds a single-event preview back
    await post(metricEvents('pv1', 'pv/loss', [0.1]));
    expect(a.received()).toHaveLength(1);
    expect((await preview(step('pv1', 0.1))).body.steps[0].decision).toBe('edge');

    // the wizard's preview takes a sequence too; both or neither of event/events is a 400, with the automation's problems
    const draft = { name: 'draft', scope: { type: 'project', name: 'llm' }, trigger: { event: 'RUN_METRIC_THRESHOLD', metric: 'pv/loss', agg: 'AVERAGE', window: 2, op: '<', threshold: 0.2 }, action: { webhookId: a.webhookId } };
    const unsaved = await herald.http().post('/v1/automations/preview').set(admin).send({ automation: draft, events: metricEvents('u1', 'pv/loss', [0.5, 0.1, 0.1]) }).expect(200);
    expect(unsaved.body.steps.map((s: { decision: string }) => s.decision)).toEqual(['window', 'condition', 'fires']);
    const both = await herald.http().post('/v1/automations/preview').set(admin)
      .send({ automation: { ...draft, cooldownSeconds: -1 }, event: step('u1', 1), events: [step('u1', 1)] })
      .expect(400);
    expect(both.body.details.map((d: { field: string }) => d.field).sort()).toEqual(['automation.cooldownSeconds', 'event']);
    const badStep = await herald.http().post(`/v1/automations/${a.id}/preview`).set(admin).send({ events: [step('u1', 1), { type: 'RUN_METRICS' }] }).expect(400);
    expect(badStep.body.details[0].field).toMatch(/^events\[1\]/);
  });

  it('GET /v1/events/:id says why each candidate did not fire: window filling, run filter, condition, edge, cooldown', async () => {
    const a = await automation({
      trigger: { event: 'RUN_METRIC_THRESHOLD', metric: 'why/loss', agg: 'AVERAGE', window: 5, op: '<', threshold: 0.2 },
      runFilter: { nameRegex: '^bert-' },
      cooldownSeconds: 3600,
    });
    const reasonsOf = async (id: string) => {
      const res = await herald.http().get(`/v1/events/${id}`).set(admin).expect(200);
      const o = res.body.outcome;
      return [
        ...o.matched.map((m: { automationId: string }) => ({ automationId: m.automationId, reason: 'fired' })),
        ...o.suppressed.map(({ automationId, reason }: { automationId: string; reason: string }) => ({ automationId, reason })),
        ...o.notFired.map(({ automationName, ...rest }: { automationName: string }) => (expect(automationName).toMatch(/^auto-/), rest)),
      ].filter((r: { automationId: string }) => r.automationId === a.id);
    };

    // three of five values: the window is filling
    const filling = await post(metricEvents('why1', 'why/loss', [0.1, 0.1, 0.1]));
    expect(await reasonsOf(filling[2].id)).toEqual([{ automationId: a.id, reason: 'window', have: 3, need: 5 }]);
    // a run the filter refuses
    const other = await post(metricEvents('why2', 'why/loss', [0.1]).map((e) => ({ ...e, run: { id: 'why2', name: 'gpt-why2' } })));
    expect(await reasonsOf(other[0].id)).toEqual([{ automationId: a.id, reason: 'filter', filter: 'runFilter' }]);
    // full: the 5th fires, the 6th is held by the edge
    const more = await post(metricEvents('why1', 'why/loss', [0.1, 0.1, 0.1]));
    expect(await reasonsOf(more[1].id)).toEqual([{ automationId: a.id, reason: 'fired' }]);
    expect(await reasonsOf(more[2].id)).toEqual([{ automationId: a.id, reason: 'edge' }]);
    // the average rises over the threshold: the condition does not hold
    const high = await post(metricEvents('why1', 'why/loss', [5]));
    expect(await reasonsOf(high[0].id)).toEqual([{ automationId: a.id, reason: 'condition' }]);
    // back under it within the cooldown: held by the cooldown
    const low = await post(metricEvents('why1', 'why/loss', [0.1, 0.1, 0.1, 0.1, 0.1]));
    expect(await reasonsOf(low[4].id)).toEqual([{ automationId: a.id, reason: 'cooldown' }]);
    expect(a.received()).toHaveLength(1);

    // A RUN_STATE automation whose states the event does not enter: condition
    const s = await automation({ trigger: { event: 'RUN_STATE', states: ['FAILED'] } });
    const state = await post({ type: 'RUN_STATE', project: 'llm', run: { id: 'why3', name: 'bert-why3', state: 'RUNNING' } });
    const detail = await herald.http().get(`/v1/events/${state[0].id}`).set(admin).expect(200);
    expect(detail.body.outcome.notFired).toContainEqual({ automationId: s.id, automationName: expect.any(String), reason: 'condition' });
  });

  it('GET /v1/events gives the run name, and a batch in the order it was sent (newest first: last sent first), across pages', async () => {
    const batch = metricEvents('order1', 'order/x', [1, 2, 3, 4, 5]).map((e, i) => ({ ...e, id: `order-${'zyxwv'[i]}` }));
    await post(batch);
    const seen: { id: string; runName: string; batchIndex: number }[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { items: typeof seen; nextCursor: string | null } } = await herald
        .http()
        .get(`/v1/events?run=order1&limit=2${cursor ? `&cursor=${cursor}` : ''}`)
        .set(admin)
        .expect(200);
      seen.push(...res.body.items);
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen.map((e) => e.id)).toEqual(['order-v', 'order-w', 'order-x', 'order-y', 'order-z']);
    expect(seen.map((e) => e.batchIndex)).toEqual([4, 3, 2, 1, 0]);
    expect(seen.every((e) => e.runName === 'bert-order1')).toBe(true);
  });

  describe('bad input', () => {
    it('a batch with one invalid event is refused whole, naming its index; nothing is stored', async () => {
      const res = await herald
        .http()
        .post('/v1/events')
        .set(admin)
        .send([
          { id: 'bad-batch-1', type: 'RUN_STATE', project: 'llm', run: { id: 'b', name: 'b', state: 'FINISHED' } },
          { id: 'bad-batch-2', type: 'RUN_METRICS', project: 'llm', run: { id: 'b', name: 'b' }, metrics: { loss: 'nan' } },
        ])
        .expect(400);
      expect(res.body.details).toEqual([{ field: 'events[1].metrics.loss', reason: expect.any(String) }]);
      await herald.http().get('/v1/events/bad-batch-1').set(admin).expect(404);
    });

    it('refuses more than 1000 events, unknown types, and an ingest key outside its projects', async () => {
      const many = Array.from({ length: 1001 }, () => ({ type: 'ALERT', project: 'llm', title: 't', level: 'INFO' }));
      await herald.http().post('/v1/events').set(admin).send(many).expect(400);
      const unknown = await herald.http().post('/v1/events').set(admin).send({ type: 'RUN_EXPLODED', project: 'llm' }).expect(400);
      expect(unknown.body.details[0].field).toBe('type');
      const ingest = await herald.newKey(herald.adminKey, 'ingest', ['other']);
      await herald.http().post('/v1/events').set(bearer(ingest.key)).send({ type: 'ALERT', project: 'llm', title: 't', level: 'INFO' }).expect(403);
      await herald.http().post('/v1/events').set(bearer(ingest.key)).send({ type: 'ALERT', project: 'other', title: 't', level: 'INFO' }).expect(200);
      await herald.http().get('/v1/events').set(bearer(ingest.key)).expect(403);
    });

    it.each([
      [{ trigger: { event: 'RUN_EXPLODED' } }, 'trigger.event'],
      [{ trigger: { event: 'RUN_METRIC_THRESHOLD', metric: 'm', agg: 'AVERAGE', window: 0, op: '<', threshold: 1 } }, 'trigger.window'],
      [{ trigger: { event: 'RUN_METRIC_THRESHOLD', metric: 'm', agg: 'AVERAGE', window: 1001, op: '<', threshold: 1 } }, 'trigger.window'],
      [{ trigger: { event: 'ADD_ARTIFACT_ALIAS', aliasRegex: 'x' }, runFilter: { user: 'a' } }, 'runFilter'],
      [{ action: { webhookId: 'wh_nope' } }, 'action.webhookId'],
      [{ action: { webhookId: 'X', payload: { a: '${nope}' } } }, 'action.payload.a'],
    ])('automation %j → 400 naming %s', async (override, field) => {
      const hook = await herald.http().post('/v1/webhooks').set(admin).send({ name: `bad-${++counter}`, url: receiver.url(), kind: 'generic' }).expect(201);
      const action = (override as { action?: { webhookId: string } }).action;
      const body = {
        name: `bad-auto-${counter}`,
        scope: { type: 'project', name: 'llm' },
        trigger: { event: 'RUN_STATE', states: ['FAILED'] },
        ...override,
        action: action ? { ...action, webhookId: action.webhookId === 'X' ? hook.body.id : action.webhookId } : { webhookId: hook.body.id },
      };
      const res = await herald.http().post('/v1/automations').set(admin).send(body).expect(400);
      expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
      const list = await herald.http().get('/v1/automations?limit=200').set(admin).expect(200);
      expect(list.body.items.map((x: { name: string }) => x.name)).not.toContain(body.name);
    });

    it('three mistakes at once (a trigger field, a payload secret, the cooldown) answer one 400 naming all three', async () => {
      const hook = await herald.http().post('/v1/webhooks').set(admin).send({ name: `bad-${++counter}`, url: receiver.url(), kind: 'generic' }).expect(201);
      const body = {
        name: `bad-auto-${counter}`,
        scope: { type: 'project', name: 'llm' },
        trigger: { event: 'RUN_METRIC_THRESHOLD', metric: 'm', agg: 'AVERAGE', window: 0, op: '<', threshold: 1 },
        action: { webhookId: hook.body.id, payload: { token: '${NOT_BOUND}' } },
        cooldownSeconds: -1,
      };
      const res = await herald.http().post('/v1/automations').set(admin).send(body).expect(400);
      const fields = res.body.details.map((d: { field: string }) => d.field).sort();
      expect(fields).toEqual(['action.payload.token', 'cooldownSeconds', 'trigger.window']);
      expect(res.body.details.find((d: { field: string }) => d.field === 'action.payload.token').reason).toMatch(/NOT_BOUND/);

      // PATCH: the same three on a stored automation, plus a field PATCH itself refuses
      const ok = await herald.http().post('/v1/automations').set(admin)
        .send({ ...body, trigger: { event: 'RUN_STATE', states: ['FAILED'] }, action: { webhookId: hook.body.id }, cooldownSeconds: 0 })
        .expect(201);
      const patch = await herald.http().patch(`/v1/automations/${ok.body.id}`).set(admin)
        .send({ trigger: body.trigger, action: body.action, cooldownSeconds: -1, enabled: null })
        .expect(400);
      expect(patch.body.details.map((d: { field: string }) => d.field).sort()).toEqual(['action.payload.token', 'cooldownSeconds', 'enabled', 'trigger.window']);
      const list = await herald.http().get('/v1/automations?limit=200').set(admin).expect(200);
      expect(list.body.items.find((x: { id: string }) => x.id === ok.body.id).trigger).toEqual({ event: 'RUN_STATE', states: ['FAILED'] });
    });

    it('a webhook used by an automation cannot be deleted (409)', async () => {
      const a = await automation({ trigger: { event: 'RUN_STATE', states: ['FAILED'] } });
      const res = await herald.http().delete(`/v1/webhooks/${a.webhookId}`).set(admin).expect(409);
      expect(res.body.message).toContain('auto-');
      await herald.http().delete(`/v1/automations/${a.id}`).set(admin).expect(204);
      await herald.http().delete(`/v1/webhooks/${a.webhookId}`).set(admin).expect(204);
    });
  });

  it('GET /v1/events lists newest first and explains suppressions; variables list per trigger', async () => {
    const page = await herald.http().get('/v1/events?limit=2&project=llm').set(admin).expect(200);
    expect(page.body.items).toHaveLength(2);
    expect(page.body.nextCursor).toEqual(expect.any(String));
    const next = await herald.http().get(`/v1/events?limit=2&project=llm&cursor=${page.body.nextCursor}`).set(admin).expect(200);
    expect(next.body.items[0].receivedAt <= page.body.items[1].receivedAt).toBe(true);

    const member = await herald.newKey(herald.adminKey, 'member');
    const vars = await herald.http().get('/v1/automations/variables?trigger=RUN_LOG_MATCH').set(bearer(member.key)).expect(200);
    const logLine = vars.body.items.find((v: { name: string }) => v.name === 'log_line');
    const alias = vars.body.items.find((v: { name: string }) => v.name === 'alias');
    expect(logLine.applies).toBe(true);
    expect(alias.applies).toBe(false);
    await herald.http().get('/v1/automations/variables?trigger=NOPE').set(admin).expect(400);
  });
});
