import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateApiKey } from '../src/auth/api-key-format';
import { TestReceiver } from './support/receiver';
import { ServerProcess } from './support/server-process';
import { waitFor } from './support/wait';

/**
 * The Python client (clients/python) against a real Herald: a server in a child process on
 * 127.0.0.1 (so it can be killed and started again on the same port and database), Python
 * scripts from clients/python/tests/e2e as the training code, and a receiver for what the
 * automations deliver. The unit tests of the client run with `npm test` too (package.json).
 *
 * The training run needs Debian's python3-torch, which belongs to Debian's interpreter
 * (/usr/bin/python3; HERALD_TEST_TORCH_PYTHON overrides it). Without it that test is skipped
 * with a message, or fails under HERALD_REQUIRE_SERVICES=1 (set by .ci/run, which installs it).
 */

jest.setTimeout(300_000);

const CLIENT_DIR = resolve(__dirname, '..', 'clients', 'python');
const SCRIPTS = join(CLIENT_DIR, 'tests', 'e2e');
const PYTHON = process.env.HERALD_TEST_PYTHON ?? 'python3';
const TORCH_PYTHON = process.env.HERALD_TEST_TORCH_PYTHON ?? '/usr/bin/python3';

const torchProbe = spawnSync(TORCH_PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
const torchMissing =
  torchProbe.status === 0
    ? null
    : `${TORCH_PYTHON} cannot import torch (${(torchProbe.stderr || torchProbe.error?.message || '').trim().split('\n').pop()}); ` +
      'install Debian\'s python3-torch (apt-get install python3-torch)';
const requireTorch = process.env.HERALD_REQUIRE_SERVICES === '1';
if (torchMissing && !requireTorch) process.stderr.write(`\n*** Python client e2e: the PyTorch training run is skipped: ${torchMissing}\n\n`);

interface PythonRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

interface EventSummary {
  id: string;
  type: string;
  runId: string | null;
  matched: number;
}

describe('Python client against a real Herald (e2e)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-python-'));
  const key = generateApiKey().key;
  const children = new Set<ChildProcess>();
  let env: Record<string, string>;
  let server: ServerProcess;
  let receiver: TestReceiver;
  let counter = 0;

  beforeAll(async () => {
    receiver = await TestReceiver.start();
    env = {
      HERALD_DATA_DIR: dataDir,
      HERALD_BOOTSTRAP_TOKEN: key,
      HERALD_ALLOWED_NETWORKS: '127.0.0.1/32',
      HERALD_LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
    };
    server = await ServerProcess.start(env);
  });
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await ServerProcess.killAll();
    await receiver?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const api = <T = Record<string, unknown>>(method: string, path: string, body?: unknown) => server.api<T>(key, method, path, body);

  /** A webhook on a receiver path of its own, and an automation over `project` sending to it. */
  async function automation(project: string, body: Record<string, unknown>, webhook: Record<string, unknown> = {}) {
    const name = `py-${++counter}`;
    const path = `/${name}`;
    const hook = await api('POST', '/v1/webhooks', { name, url: receiver.url(path), kind: 'generic', ...webhook });
    const created = await api('POST', '/v1/automations', { name, scope: { type: 'project', name: project }, ...body, action: { webhookId: hook.id, ...(body.action as object) } });
    return { id: created.id as string, path, received: () => receiver.requests.filter((r) => r.path === path) };
  }

  /** Runs a script of clients/python/tests/e2e with the client importable and Herald configured. */
  function python(interpreter: string, script: string, extra: Record<string, string>, onLine?: (line: string) => void): Promise<PythonRun> {
    return new Promise((done, fail) => {
      const child = spawn(interpreter, [join(SCRIPTS, script)], {
        env: { ...process.env, PYTHONPATH: CLIENT_DIR, PYTHONUNBUFFERED: '1', HERALD_URL: server.url, HERALD_API_KEY: key, ...extra },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.add(child);
      let stdout = '';
      let stderr = '';
      let pending = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        pending += chunk.toString();
        const lines = pending.split('\n');
        pending = lines.pop()!;
        for (const line of lines) onLine?.(line);
      });
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.once('error', fail);
      child.once('exit', (code) => {
        children.delete(child);
        done({ code, stdout, stderr });
      });
    });
  }

  function expectExit(run: PythonRun, code: number): void {
    if (run.code !== code) throw new Error(`python exited ${run.code}, expected ${code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
  }

  const lastJson = (run: PythonRun) => JSON.parse(run.stdout.trim().split('\n').pop()!);

  async function events(query: string): Promise<EventSummary[]> {
    const all: EventSummary[] = [];
    let cursor: string | null = null;
    do {
      const page: Page<EventSummary> = await api('GET', `/v1/events?${query}&limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      all.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return all;
  }

  const countBy = (items: EventSummary[]) => items.reduce<Record<string, number>>((acc, e) => ({ ...acc, [e.type]: (acc[e.type] ?? 0) + 1 }), {});
  const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it("delivers what the client logs through automations: an alert (deduplicated), a NaN, a log line, the end state", async () => {
    const project = 'py-reach';
    const alert = await automation(project, {
      trigger: { event: 'ALERT', levels: ['ERROR'] },
      action: { payload: { kind: 'alert', run: '${run_name}', title: '${alert_title}', text: '${alert_text}' } },
    });
    const nan = await automation(project, {
      trigger: { event: 'RUN_METRIC_THRESHOLD', metric: 'train/loss', op: 'NON_FINITE' },
      action: { payload: { kind: 'nan', run: '${run_name}', step: '${metric_step}' } },
    });
    const oom = await automation(project, {
      trigger: { event: 'RUN_LOG_MATCH', lineRegex: 'CUDA out of memory' },
      action: { payload: { kind: 'oom', line: '${log_line}' } },
    });
    const state = await automation(project, {
      trigger: { event: 'RUN_STATE', states: ['FINISHED'] },
      action: { payload: { kind: 'state', state: '${run_state}', author: '${event_author}' } },
    });

    const run = await python(PYTHON, 'reach_automations.py', { E2E_PROJECT: project, E2E_RUN_ID: 'reach-1' });
    expectExit(run, 0);
    await waitFor('the four deliveries', () => [alert, nan, oom, state].every((a) => a.received().length >= 1), 30_000);
    await settle(1000);
    const bodies = [alert, nan, oom, state].map((a) => a.received().map((r) => JSON.parse(r.body)));
    expect(bodies).toEqual([
      [{ kind: 'alert', run: 'bert-e2e', title: 'Loss is NaN', text: 'train/loss is NaN at step 20' }],
      [{ kind: 'nan', run: 'bert-e2e', step: '20' }],
      [{ kind: 'oom', line: 'RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB' }],
      [{ kind: 'state', state: 'FINISHED', author: 'alice' }],
    ]);
    expect(countBy(await events('run=reach-1'))).toEqual({ RUN_STATE: 2, RUN_METRICS: 21, ALERT: 1, RUN_LOG: 1 });
  });

  it('reports a with block that raises as FAILED, with the exception as the run log, and re-raises', async () => {
    const project = 'py-failed';
    const failed = await automation(project, {
      trigger: { event: 'RUN_STATE', states: ['FAILED'] },
      action: { payload: { run: '${run_name}', state: '${run_state}' } },
    });
    const run = await python(PYTHON, 'with_block_raises.py', { E2E_PROJECT: project, E2E_RUN_ID: 'failed-1' });
    expectExit(run, 1);
    expect(run.stderr).toContain('RuntimeError: loss diverged at step 3');
    await waitFor('the FAILED delivery', () => failed.received().length >= 1, 30_000);
    expect(JSON.parse(failed.received()[0].body)).toEqual({ run: 'diverges', state: 'FAILED' });
    const logs = await events('run=failed-1&type=RUN_LOG');
    expect(logs).toHaveLength(1);
    const detail = await api<{ event: { lines: string[] } }>('GET', `/v1/events/${encodeURIComponent(logs[0].id)}`);
    expect(detail.event.lines).toEqual(['RuntimeError: loss diverged at step 3']);
    expect(countBy(await events('run=failed-1'))).toEqual({ RUN_STATE: 2, RUN_METRICS: 3, RUN_LOG: 1 });
  });

  it("never sends an event Herald's validation refuses, whatever the training code logs", async () => {
    const project = 'py-edge';
    const run = await python(PYTHON, 'edge_values.py', { E2E_PROJECT: project });
    expectExit(run, 0);
    const stats = lastJson(run);
    // 1 RUNNING, 1 + 3 metric events, 1 + 3 + 3 log events, 2 alerts, 2 artifact events, 1 FINISHED.
    expect(stats).toMatchObject({ sent: 17, refused: 0, dropped: 0, duplicates: 0 });
    const stored = await events(`project=${project}`);
    expect(stored).toHaveLength(17);
    expect(countBy(stored)).toEqual({ RUN_STATE: 2, RUN_METRICS: 4, RUN_LOG: 7, ALERT: 2, ADD_ARTIFACT_ALIAS: 1, CREATE_ARTIFACT: 1 });
  });

  it('loses nothing and counts nothing twice when Herald is killed mid-run and started again', async () => {
    const project = 'py-restart';
    const checkpoints = await automation(project, {
      trigger: { event: 'ALERT', levels: ['INFO'], titleRegex: '^checkpoint' },
      action: { payload: { title: '${alert_title}' } },
    });
    let sawStep150!: () => void;
    const atStep150 = new Promise<void>((r) => (sawStep150 = r));
    const running = python(PYTHON, 'through_a_restart.py', { E2E_PROJECT: project, E2E_RUN_ID: 'restart-1', E2E_STEPS: '400' }, (line) => {
      if (line === 'step 150') sawStep150();
    });
    await atStep150;
    await server.kill('SIGKILL');
    await settle(1500); // the script goes on logging while nothing answers
    server = await ServerProcess.start({ ...env, PORT: String(server.port) });

    const run = await running;
    expectExit(run, 0);
    // The client did see Herald gone, and back.
    expect(run.stderr).toContain('cannot post events');
    expect(run.stderr).toContain('answers again');
    expect(lastJson(run)).toMatchObject({ sent: 410, refused: 0, dropped: 0, unsent: 0 });
    expect(countBy(await events('run=restart-1'))).toEqual({ RUN_STATE: 2, RUN_METRICS: 400, ALERT: 8 });
    const titles = () => new Set(checkpoints.received().map((r) => JSON.parse(r.body).title));
    await waitFor('a delivery per checkpoint alert', () => titles().size >= 8, 60_000);
    expect([...titles()].sort()).toEqual(Array.from({ length: 8 }, (_, i) => `checkpoint ${i * 50}`).sort());
  });

  (torchMissing && !requireTorch ? it.skip : it)(
    'a real PyTorch training run: "AVERAGE val/loss over 5 steps < 0.1" fires once, and the Slack preset names the run',
    async () => {
      if (torchMissing) throw new Error(`HERALD_REQUIRE_SERVICES=1 needs PyTorch for the training run: ${torchMissing}`);
      const project = 'py-torch';
      const runName = 'mlp-synthetic-lr1e-2';
      const converged = await automation(
        project,
        {
          trigger: { event: 'RUN_METRIC_THRESHOLD', metric: 'val/loss', agg: 'AVERAGE', window: 5, op: '<', threshold: 0.1 },
          action: { template: 'slack' },
        },
        { kind: 'slack' },
      );
      const run = await python(TORCH_PYTHON, 'train_torch.py', { E2E_PROJECT: project, E2E_RUN_ID: 'torch-1', E2E_RUN_NAME: runName, E2E_TRAIN_SECONDS: '3' });
      expectExit(run, 0);
      const { val_losses: losses, steps } = lastJson(run) as { val_losses: number[]; steps: number };
      expect(losses).toHaveLength(steps);
      const average = (i: number) => losses.slice(i - 4, i + 1).reduce((a, b) => a + b, 0) / 5;
      expect(average(4)).toBeGreaterThan(0.1); // an untrained model is far off
      const crossing = losses.findIndex((_, i) => i >= 4 && average(i) < 0.1);
      expect(crossing).toBeGreaterThan(4); // and it learned

      await waitFor('the Slack delivery', () => converged.received().length >= 1, 30_000);
      const metrics = await events('run=torch-1&type=RUN_METRICS');
      expect(metrics).toHaveLength(steps);
      const fired = metrics.filter((e) => e.matched > 0);
      expect(fired).toHaveLength(1);
      const firing = await api<{ event: { step: number; metrics: Record<string, number> } }>('GET', `/v1/events/${encodeURIComponent(fired[0].id)}`);
      expect(firing.event.step).toBe(crossing);
      expect(firing.event.metrics['val/loss']).toBe(losses[crossing]);
      await settle(1500);
      expect(converged.received()).toHaveLength(1);

      const slack = JSON.parse(converged.received()[0].body) as { text: string; blocks: { type: string; text?: { text: string } }[] };
      expect(slack.text).toContain(`on run ${runName}`);
      expect(slack.text).toContain('val/loss');
      const section = slack.blocks.find((b) => b.type === 'section' && b.text?.text.includes('*Run:*'));
      expect(section?.text?.text).toContain(`*Run:* ${runName}`);
    },
  );
});
