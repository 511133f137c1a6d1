import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DataSource } from 'typeorm';
import { parse } from 'yaml';
import { buildConfigSchema } from '../src/as-code/config-schema';
import { runCli } from '../src/cli/main';
import type { CliIo } from '../src/cli/io';
import { bearer, TestHerald } from './support/herald';
import { TestReceiver } from './support/receiver';

const ROOT = resolve(__dirname, '..');

/** Secret values of the fixture: none may ever appear in a file or in the command's output. */
const SECRET_VALUES = {
  GH_TOKEN: 'ghp_fixture_token_value_8c1f2e',
  MLFLOW_SECRET: 'mlflow-fixture-secret-55d0a1',
  // Standard Webhooks needs base64 of ≥ 24 bytes.
  SIGNING_KEY: `whsec_${Buffer.from('fixture-signing-key-0123456789abcdef').toString('base64')}`,
};

interface Run {
  code: number;
  out: string;
  err: string;
}

/**
 * Configuration as code against a real Herald (issue 18): export, plan and apply round trips,
 * a one-field edit, prune, refusal of an invalid file, secrets never shown, and a concurrent
 * edit between plan and apply stopped by If-Match. Most runs call the command in-process
 * (runCli with its own standard streams); some run it as a child process, as people do.
 */
describe('herald export / plan / apply (e2e)', () => {
  let herald: TestHerald;
  let receiver: TestReceiver;
  let dir: string;
  let source: { key: string };
  let target: { key: string };
  const outputs: string[] = [];
  let valohaiToken = '';

  /** Runs herald in this process with these arguments, as the given key. */
  async function herald$(key: string, argv: string[], options: { env?: Record<string, string>; ask?: () => Promise<string> } = {}): Promise<Run> {
    let out = '';
    let err = '';
    const io: CliIo = {
      out: (text) => void (out += text),
      err: (text) => void (err += text),
      env: { HERALD_URL: herald.url, HERALD_API_KEY: key, ...options.env },
      stdinIsTTY: options.ask !== undefined,
      readStdin: async () => '',
      ask: async (question) => {
        out += question;
        return options.ask!();
      },
      readFile: (path) => readFileSync(path, 'utf8'),
      writeFile: (path, text) => writeFileSync(path, text),
    };
    const code = await runCli(argv, io);
    outputs.push(out, err);
    return { code, out, err };
  }

  /** Runs herald as a child process (src/cli.ts through ts-node: dist/ may be rebuilt by other suites meanwhile). */
  function child(key: string, argv: string[], env: Record<string, string> = {}): Promise<Run> {
    return new Promise((done, fail) => {
      const proc = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/cli.ts', ...argv], {
        cwd: ROOT,
        env: { ...process.env, TS_NODE_PROJECT: 'tsconfig.json', HERALD_URL: herald.url, HERALD_API_KEY: key, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      proc.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      proc.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      proc.once('error', fail);
      proc.once('exit', (code) => {
        outputs.push(out, err);
        done({ code: code ?? -1, out, err });
      });
    });
  }

  const api = (key: string) => ({
    get: (path: string) => herald.http().get(path).set(bearer(key)),
    post: (path: string, body: object) => herald.http().post(path).set(bearer(key)).send(body),
    patch: (path: string, body: object) => herald.http().patch(path).set(bearer(key)).send(body),
  });

  async function idOf(key: string, section: string, name: string): Promise<string> {
    const res = await api(key).get(`/v1/${section}?name=${encodeURIComponent(name)}`).expect(200);
    expect(res.body.items).toHaveLength(1);
    return res.body.items[0].id;
  }

  async function listAll(key: string, section: string): Promise<Record<string, unknown>[]> {
    return (await api(key).get(`/v1/${section}?limit=200`).expect(200)).body.items;
  }

  async function postEvents(key: string, events: object[]): Promise<void> {
    await api(key).post('/v1/events', events).expect(200);
    await herald.settle();
  }

  /** A webhook with every optional field, as created and as exported. */
  const trainerHook = () => ({
    name: 'trainer hook',
    kind: 'generic',
    url: receiver.url('/trainer'),
    signingSecret: 'SIGNING_KEY',
    signatureSchemes: ['standard', 'wandb'],
    payloadSecrets: ['GH_TOKEN'],
    headers: { 'X-Team': 'ml-platform', 'X-Token': '${GH_TOKEN}' },
    delivery: { ratePerSecond: 2, maxAttempts: 3, scheduleSeconds: [0, 10, 60] },
  });

  const metrics = (run: string, values: number[]) =>
    values.map((value, step) => ({ type: 'RUN_METRICS', project: 'llm', author: 'alice', run: { id: run, name: `bert-${run}` }, step, metrics: { 'val/loss': value } }));

  beforeAll(async () => {
    herald = await TestHerald.start({ env: { HERALD_ALLOWED_NETWORKS: '127.0.0.1/32' } });
    receiver = await TestReceiver.start();
    dir = mkdtempSync(join(tmpdir(), 'herald-as-code-'));
    source = { key: herald.adminKey };
    target = { key: (await herald.newTeam('as-code-target')).adminKey };

    // The fixture: every kind of object, secrets by name, payload templates, a disabled automation.
    const a = api(source.key);
    for (const [name, value] of Object.entries(SECRET_VALUES)) await a.post('/v1/secrets', { name, value }).expect(201);
    const hooks = [
      { name: 'deploy', kind: 'github', url: 'https://api.github.com/repos/acme/models/dispatches', accessTokenSecret: 'GH_TOKEN' },
      trainerHook(),
      { name: 'ml-alerts', kind: 'slack', url: 'https://hooks.slack.com/services/T000/B000/XXXXXXXX' },
    ];
    for (const hook of hooks) await a.post('/v1/webhooks', hook).expect(201);
    await a.post('/v1/sources', { name: 'mlflow-registry', kind: 'mlflow', project: 'models', secret: 'MLFLOW_SECRET' }).expect(201);
    const valohai = await a.post('/v1/sources', { name: 'valohai-runs', kind: 'valohai', project: 'llm' }).expect(201);
    valohaiToken = String(valohai.body.receiveUrl).split('/').pop()!;
    const trainer = await idOf(source.key, 'webhooks', 'trainer hook');
    const deploy = await idOf(source.key, 'webhooks', 'deploy');
    const alerts = await idOf(source.key, 'webhooks', 'ml-alerts');
    const automations = [
      {
        name: 'val-loss-good',
        scope: { type: 'project', name: 'llm' },
        trigger: { event: 'RUN_METRIC_THRESHOLD', metric: 'val/loss', agg: 'LAST', window: 1, op: '<', threshold: 0.2 },
        action: { webhookId: trainer, payload: { run: '${run_name}', value: '${metric_value}', token: '${GH_TOKEN}' } },
        cooldownSeconds: 0,
      },
      {
        name: 'promote',
        description: 'Deploy what gets the prod alias',
        scope: { type: 'registry', name: 'models' },
        trigger: { event: 'ADD_ARTIFACT_ALIAS', aliasRegex: '^prod$' },
        action: { webhookId: deploy, template: 'github-repository-dispatch' },
      },
      {
        name: 'run failed',
        enabled: false,
        scope: { type: 'team' },
        trigger: { event: 'RUN_STATE', states: ['FAILED', 'CRASHED'] },
        runFilter: { nameRegex: '^bert-', user: 'alice' },
        action: { webhookId: alerts },
        cooldownSeconds: 600,
      },
    ];
    for (const automation of automations) await a.post('/v1/automations', automation).expect(201);
  });

  afterAll(async () => {
    await receiver?.close();
    await herald?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const file = (name: string) => join(dir, name);

  it('exports by name, with no id and no secret value; export → apply on an empty team → export gives the same file', async () => {
    const exported = await herald$(source.key, ['export', '-o', file('source.yaml')]);
    expect(exported).toMatchObject({ code: 0, out: '' });
    expect(exported.err).toMatch(/Wrote .*source\.yaml: 3 webhooks, 2 sources, 3 automations/);
    const text = readFileSync(file('source.yaml'), 'utf8');
    expect(text).toContain(`# yaml-language-server: $schema=${herald.url}/v1/schema/config.json`);
    expect(text).not.toMatch(/\b(wh|aut|src)_[0-9A-Z]{10,}/);
    expect(text).not.toContain(valohaiToken);
    const document = parse(text);
    expect(document.version).toBe(1);
    expect(document.webhooks.map((w: { name: string }) => w.name)).toEqual(['deploy', 'ml-alerts', 'trainer hook']);
    // Exactly the fields given (no default written out).
    expect(document.webhooks[2]).toEqual(trainerHook());
    expect(document.sources).toEqual([
      { name: 'mlflow-registry', kind: 'mlflow', project: 'models', secret: 'MLFLOW_SECRET' },
      { name: 'valohai-runs', kind: 'valohai', project: 'llm' },
    ]);
    expect(document.automations.find((a: { name: string }) => a.name === 'run failed')).toEqual({
      name: 'run failed',
      enabled: false,
      scope: { type: 'team' },
      trigger: { event: 'RUN_STATE', states: ['FAILED', 'CRASHED'] },
      runFilter: { nameRegex: '^bert-', user: 'alice' },
      action: { webhook: 'ml-alerts' },
      cooldownSeconds: 600,
    });

    // The target team has none of the secrets: --secrets-from-env creates them. A child process, as in CI.
    const applied = await child(target.key, ['apply', '-f', file('source.yaml'), '--yes', '--secrets-from-env'], SECRET_VALUES);
    expect(applied.err).toBe('');
    expect(applied.code).toBe(0);
    expect(applied.out).toContain('+ create automation "val-loss-good"');
    expect(applied.out).toContain('url: "https://hooks.slack.com/••••••"');
    expect(applied.out).toMatch(/\+ created secret GH_TOKEN \(its value from the environment\)/);
    expect(applied.out).toContain('Applied: 8 created, 0 updated, 0 replaced, 0 deleted.');
    // The new Valohai source's receive URL holds a token shown once, when it is created.
    expect(applied.out).toMatch(/receive URL: http:\/\/127\.0\.0\.1:\d+\/v1\/sources\/src_\w+\/receive\/hrs_[\w-]{43} \(it holds a token shown only this once\)/);

    const again = await herald$(target.key, ['export', '--format', 'yaml']);
    expect(again.code).toBe(0);
    expect(again.out).toBe(text);
    // JSON works as well as YAML, and reads back to the same plan.
    const json = await herald$(target.key, ['export', '-o', file('target.json')]);
    expect(json.code).toBe(0);
    expect(JSON.parse(readFileSync(file('target.json'), 'utf8'))).toEqual({ $schema: `${herald.url}/v1/schema/config.json`, ...document });
    expect((await herald$(target.key, ['plan', '-f', file('target.json')])).code).toBe(0);
  }, 90_000);

  it('a second apply is a no-op: plan exits 0 and nothing changes (not even an etag)', async () => {
    const before = await Promise.all(['webhooks', 'sources', 'automations'].map((s) => listAll(target.key, s)));
    const plan = await child(target.key, ['plan', '-f', file('source.yaml')]);
    expect(plan.code).toBe(0);
    expect(plan.out).toContain('No changes: the team matches the file.');
    const apply = await herald$(target.key, ['apply', '-f', file('source.yaml'), '--yes']);
    expect(apply.code).toBe(0);
    expect(apply.out).not.toContain('Applied');
    const after = await Promise.all(['webhooks', 'sources', 'automations'].map((s) => listAll(target.key, s)));
    expect(after).toEqual(before);
  }, 60_000);

  it('editing one threshold: plan shows exactly that field; apply changes only that automation, keeping its id, edge state and history', async () => {
    const a = await idOf(target.key, 'automations', 'val-loss-good');
    // It fires once (edge: now matching), leaving a delivery and an edge-state row.
    await postEvents(target.key, metrics('r1', [0.5, 0.1]));
    const fired = (await api(target.key).get(`/v1/automations/${a}`).expect(200)).body;
    expect(fired.fireCount).toBe(1);
    const history = (await api(target.key).get(`/v1/deliveries?automation=${a}`).expect(200)).body.items;
    expect(history).toHaveLength(1);
    const others = (await Promise.all(['webhooks', 'sources', 'automations'].map((s) => listAll(target.key, s)))).flat().filter((o) => o.id !== a);

    const edited = readFileSync(file('source.yaml'), 'utf8').replace('threshold: 0.2\n', 'threshold: 0.25\n');
    expect(edited).not.toBe(readFileSync(file('source.yaml'), 'utf8'));
    writeFileSync(file('edited.yaml'), edited);
    const plan = await child(target.key, ['plan', '-f', file('edited.yaml')]);
    expect(plan.code).toBe(2);
    expect(plan.out).toContain('~ update automation "val-loss-good"\n    trigger.threshold: 0.2 → 0.25\n\nPlan: 0 to create, 1 to update, 0 to delete.');

    const apply = await herald$(target.key, ['apply', '-f', file('edited.yaml'), '--yes']);
    expect(apply.code).toBe(0);
    expect(apply.out).toContain('~ updated automation "val-loss-good"');
    expect(apply.err).toBe('');
    const after = (await api(target.key).get(`/v1/automations/${a}`).expect(200)).body;
    expect(after).toMatchObject({ id: a, fireCount: 1, lastFiredAt: fired.lastFiredAt, cooldownSeconds: 0 });
    expect(after.trigger.threshold).toBe(0.25);
    expect((await api(target.key).get(`/v1/deliveries?automation=${a}`).expect(200)).body.items).toEqual(history);
    const states = await herald.app.get(DataSource).query(`SELECT subject FROM automation_states WHERE automation_id = ${onPg() ? '$1' : '?'}`, [a]);
    expect(states).toHaveLength(1);
    const untouched = (await Promise.all(['webhooks', 'sources', 'automations'].map((s) => listAll(target.key, s)))).flat().filter((o) => o.id !== a);
    expect(untouched).toEqual(others);

    // A changed trigger is a new trigger version (docs/design.md › Semantics): the run's edge re-arms under it, once.
    await postEvents(target.key, metrics('r1', [0.08]).map((e) => ({ ...e, step: 2 })));
    expect((await api(target.key).get(`/v1/automations/${a}`).expect(200)).body.fireCount).toBe(2);
    // A field outside the trigger (here the description) keeps the edge: the run still matches, so nothing fires again.
    writeFileSync(file('described.yaml'), edited.replace('name: val-loss-good\n', 'name: val-loss-good\n    description: Loss is good\n'));
    expect((await herald$(target.key, ['apply', '-f', file('described.yaml'), '--yes'])).code).toBe(0);
    await postEvents(target.key, metrics('r1', [0.05]).map((e) => ({ ...e, step: 3 })));
    expect((await api(target.key).get(`/v1/automations/${a}`).expect(200)).body).toMatchObject({ id: a, description: 'Loss is good', fireCount: 2 });
    expect((await herald$(target.key, ['plan', '-f', file('described.yaml')])).code).toBe(0);
  }, 90_000);

  it('--prune deletes only what the file leaves out; without it they are listed as kept', async () => {
    const document = parse(readFileSync(file('described.yaml'), 'utf8'));
    document.automations = document.automations.filter((x: { name: string }) => x.name !== 'promote');
    document.sources = document.sources.filter((x: { name: string }) => x.name !== 'valohai-runs');
    writeFileSync(file('pruned.json'), JSON.stringify(document, null, 2));
    const kept = await herald$(target.key, ['plan', '-f', file('pruned.json')]);
    expect(kept.code).toBe(0);
    expect(kept.out).toContain('Not in the file and kept (apply --prune would delete them): source "valohai-runs", automation "promote"');

    const before = (await Promise.all(['webhooks', 'sources', 'automations'].map((s) => listAll(target.key, s)))).flat();
    const plan = await herald$(target.key, ['plan', '-f', file('pruned.json'), '--prune']);
    expect(plan.code).toBe(2);
    expect(plan.out).toContain('- delete automation "promote"\n- delete source "valohai-runs"\n\nPlan: 0 to create, 0 to update, 2 to delete.');
    const apply = await herald$(target.key, ['apply', '-f', file('pruned.json'), '--prune', '--yes']);
    expect(apply.code).toBe(0);
    const after = (await Promise.all(['webhooks', 'sources', 'automations'].map((s) => listAll(target.key, s)))).flat();
    expect(after).toEqual(before.filter((o) => o.name !== 'promote' && o.name !== 'valohai-runs'));
  }, 60_000);

  it('an invalid object refuses the whole file, naming the file, line, object and field; nothing changes', async () => {
    const before = (await herald$(target.key, ['export'])).out;
    const text = [
      'version: 1',
      'webhooks:',
      '  - name: new-hook',
      '    kind: generic',
      `    url: ${receiver.url('/new')}`,
      'automations:',
      '  - name: new-automation',
      '    scope: {type: project, name: llm}',
      '    trigger: {event: RUN_LOG_MATCH, lineRegex: "(?=lookahead)"}',
      '    action: {webhook: new-hook, payload: {t: "${NOT_BOUND}"}}',
      '  - name: another',
      '    scope: {type: project, name: llm}',
      '    trigger: {event: RUN_STATE, states: [FAILED]}',
      '    action: {webhook: missing-hook}',
      '',
    ].join('\n');
    writeFileSync(file('invalid.yaml'), text);
    const apply = await herald$(target.key, ['apply', '-f', file('invalid.yaml'), '--yes']);
    expect(apply.code).toBe(3);
    expect(apply.err).toContain(`${file('invalid.yaml')} is invalid; nothing was changed:`);
    expect(apply.err).toMatch(new RegExp(`invalid\\.yaml:9:\\d+: automation "new-automation": trigger\\.lineRegex `));
    expect(apply.err).toMatch(/invalid\.yaml:10:\d+: automation "new-automation": action\.payload\.t .*NOT_BOUND/);
    expect(apply.err).toMatch(/invalid\.yaml:14:\d+: automation "another": action\.webhook names webhook "missing-hook", which is neither in the file nor in the team/);
    expect((await herald$(target.key, ['export'])).out).toBe(before);

    // The schema is checked before the server is asked: a wrong type, a missing field, an unknown one.
    writeFileSync(file('shape.yaml'), 'version: 1\nwebhooks:\n  - name: x\n    kind: smtp\n    urll: https://example.com\n');
    const shape = await herald$(target.key, ['plan', '-f', file('shape.yaml')]);
    expect(shape.code).toBe(3);
    expect(shape.err).toContain('shape.yaml:4:5: webhook "x": kind must be one of generic, slack, teams, github, discord');
    expect(shape.err).toContain('webhook "x": url is required');
    expect(shape.err).toContain('shape.yaml:5:5: webhook "x": urll is not an allowed field');
    // Pruning webhooks that automations the file does not manage still use would fail halfway: refused first.
    writeFileSync(file('no-webhooks.yaml'), 'version: 1\nwebhooks: []\n');
    const inUse = await herald$(target.key, ['apply', '-f', file('no-webhooks.yaml'), '--prune', '--yes']);
    expect(inUse.code).toBe(3);
    expect(inUse.err).toMatch(/no-webhooks\.yaml:2:1: webhooks leaves out webhook "trainer hook", which automation "val-loss-good" uses/);
    expect((await herald$(target.key, ['export'])).out).toBe(before);
    writeFileSync(file('syntax.yaml'), 'version: 1\nwebhooks: [\n');
    expect((await herald$(target.key, ['validate', '-f', file('syntax.yaml')])).code).toBe(3);
  }, 60_000);

  it('a change made between plan and apply is not overwritten: apply stops with 412 (exit 4)', async () => {
    const a = await idOf(target.key, 'automations', 'val-loss-good');
    writeFileSync(file('raced.yaml'), readFileSync(file('described.yaml'), 'utf8').replace('threshold: 0.25\n', 'threshold: 0.3\n'));
    // Someone edits the automation in the console while apply waits for its "yes".
    const apply = await herald$(target.key, ['apply', '-f', file('raced.yaml')], {
      ask: async () => {
        await api(target.key).patch(`/v1/automations/${a}`, { description: 'edited in the console' }).expect(200);
        return 'yes';
      },
    });
    expect(apply.code).toBe(4);
    expect(apply.err).toContain('automation "val-loss-good" changed on the server after it was read, so it was not updated (412)');
    const now = (await api(target.key).get(`/v1/automations/${a}`).expect(200)).body;
    expect(now).toMatchObject({ description: 'edited in the console', trigger: { threshold: 0.25 } });

    // The API itself: ETag on GET, If-Match on PATCH and DELETE, 412 in Herald's error shape.
    const read = await api(target.key).get(`/v1/automations/${a}`).expect(200);
    expect(read.headers.etag).toBe(`"${read.body.etag}"`);
    const stale = await api(target.key).patch(`/v1/automations/${a}`, { description: 'x' }).set('If-Match', '"not-the-etag"').expect(412);
    expect(stale.body).toMatchObject({ statusCode: 412, error: 'Precondition Failed', details: [{ field: 'If-Match' }] });
    await herald.http().delete(`/v1/automations/${a}`).set(bearer(target.key)).set('If-Match', '"stale"').expect(412);
    const ok = await api(target.key).patch(`/v1/automations/${a}`, { description: null }).set('If-Match', read.headers.etag).expect(200);
    expect(ok.body.etag).not.toBe(read.body.etag);
  }, 60_000);

  it('events send and deliveries list/show/redeliver', async () => {
    const sent = await herald$(target.key, ['events', 'send', '--type', 'RUN_METRICS', '--project', 'llm', '--run-id', 'r9', '--run-name', 'bert-r9', '--metric', 'val/loss=0.1', '--step', '1', '--id', 'evt-cli-1']);
    expect(sent.code).toBe(0);
    expect(sent.out).toMatch(/^Event evt-cli-1 stored; 1 delivery: (msg_\w+)\n$/);
    const delivery = /msg_\w+/.exec(sent.out)![0];
    await herald.settle();
    const duplicate = await herald$(target.key, ['events', 'send', '--type', 'RUN_METRICS', '--project', 'llm', '--run-id', 'r9', '--run-name', 'bert-r9', '--metric', 'val/loss=0.1', '--id', 'evt-cli-1']);
    expect(duplicate.out).toContain('was already stored (duplicate)');
    const invalid = await herald$(target.key, ['events', 'send', '--type', 'RUN_STATE', '--project', 'llm']);
    expect(invalid.code).toBe(3);
    expect(invalid.err).toContain('run');

    const list = await herald$(target.key, ['deliveries', 'list', '--automation', 'val-loss-good', '--limit', '5']);
    expect(list.code).toBe(0);
    expect(list.out).toMatch(new RegExp(`^ID +STATUS +CREATED +ATTEMPTS +LAST +AUTOMATION +WEBHOOK\\n${delivery} +succeeded .* val-loss-good +trainer hook\\n`));
    const show = await herald$(target.key, ['deliveries', 'show', delivery]);
    expect(show.out).toContain(`Delivery ${delivery}: succeeded`);
    expect(show.out).toMatch(/1\.1 .* ms {2}HTTP 200/);
    expect(show.out).toContain('"token":"${GH_TOKEN}"');
    const again = await herald$(target.key, ['deliveries', 'redeliver', delivery]);
    expect(again.out).toContain(`Delivery ${delivery} queued again: attempt series 2`);
    await herald.settle();
    const unknown = await herald$(target.key, ['deliveries', 'show', 'msg_nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('404');
  }, 60_000);

  it('serves the JSON Schema without a key, the one the command checks with', async () => {
    const res = await herald.http().get('/v1/schema/config.json').expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual(buildConfigSchema());
    const printed = await herald$(target.key, ['schema']);
    expect(JSON.parse(printed.out)).toEqual(res.body);
    const doc = (await herald.http().get('/docs/json').expect(200)).body;
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/schema/config.json', '/v1/config/validate']));
    expect(doc.paths['/v1/webhooks/{id}'].patch.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'If-Match', in: 'header' })]));
    expect(doc.paths['/v1/automations/{id}'].patch.responses['412']).toBeDefined();
  });

  it('--help on every command; wrong command lines exit 64; the key is never printed', async () => {
    for (const argv of [['export'], ['plan'], ['apply'], ['validate'], ['schema'], ['events', 'send'], ['deliveries', 'list'], ['deliveries', 'show'], ['deliveries', 'redeliver'], ['teams', 'create'], ['keys', 'create']]) {
      const res = await herald$(target.key, [...argv, '--help']);
      expect(res.code).toBe(0);
      expect(res.out).toMatch(new RegExp(`^Usage: herald ${argv[0]}`));
    }
    expect((await herald$(target.key, ['plan'])).code).toBe(64);
    expect((await herald$(target.key, ['plan', '-f', file('source.yaml'), '--force'])).code).toBe(64);
    expect((await herald$(target.key, ['nonsense'])).code).toBe(64);
    const noTerminal = await herald$(target.key, ['apply', '-f', file('source.yaml')]);
    expect(noTerminal).toMatchObject({ code: 64, err: expect.stringContaining('pass --yes') });
    const refused = await herald$('hrd_notakeythatexistsanywhere0000000000000000', ['export']);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('401');
    const member = (await herald.newKey(target.key, 'member')).key;
    const masked = await herald$(member, ['export']);
    expect(masked).toMatchObject({ code: 1, err: expect.stringContaining('export with an admin key') });
  }, 60_000);

  it('no secret value, Valohai token or API key appears in any file written or any output', () => {
    const files = ['source.yaml', 'target.json'].map((name) => readFileSync(file(name), 'utf8'));
    const everything = [...outputs, ...files].join('\n');
    expect(outputs.length).toBeGreaterThan(20);
    for (const value of Object.values(SECRET_VALUES)) expect(everything).not.toContain(value);
    expect(files.join('\n')).not.toContain(valohaiToken);
    expect(everything).not.toContain(valohaiToken);
    expect(everything).not.toContain(source.key);
    expect(everything).not.toContain(target.key);
  });
});

function onPg(): boolean {
  return process.env.HERALD_TEST_DIALECT === 'postgres';
}
