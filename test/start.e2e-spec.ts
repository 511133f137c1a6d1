import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './support/net';
import { waitFor } from './support/wait';

const ROOT = resolve(__dirname, '..');

/** Runs a command as an operator would and collects its output until `until` matches. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv, until: RegExp, timeoutMs: number) {
  // Its own process group, so a stop reaches npm and the server it started alike.
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  const ready = new Promise<string>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`timed out waiting for ${until}; output:\n${output}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (until.test(output)) {
        clearTimeout(timer);
        done(output);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`exited with ${code} before ${until}; output:\n${output}`));
    });
  });
  return { child, ready, output: () => output };
}

/** SIGTERM to the whole process group, as a service manager stops a unit; resolves with the exit code. */
function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((done) => {
    if (child.exitCode !== null) return done(child.exitCode);
    child.once('exit', (code) => done(code));
    process.kill(-child.pid!, 'SIGTERM');
  });
}

describe('npm start on a fresh checkout (e2e)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-start-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('builds, serves /health and /docs with no other service, and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const env = { PORT: String(port), HOST: '127.0.0.1', HERALD_DATA_DIR: dataDir, HERALD_BOOTSTRAP_TOKEN: '', NODE_ENV: 'production' };
    // The first key comes after the start-up lines, framed, with the way to issue another.
    const started = run('npm', ['start'], env, /herald keys create --team default --role admin\n={78}\n/, 120_000);
    const output = await started.ready;
    const key = /^\s+(hrd_[A-Za-z0-9_-]{43})$/m.exec(output)?.[1];
    expect(key).toBeDefined();
    expect(output.indexOf('listening on')).toBeGreaterThan(-1);
    expect(output.indexOf(key!)).toBeGreaterThan(output.lastIndexOf('listening on'));

    const base = `http://127.0.0.1:${port}`;
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', database: 'up' });
    const docs = await fetch(`${base}/docs`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('swagger');
    const openapi = (await (await fetch(`${base}/docs/json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining(['/health', '/v1/api-keys', '/v1/api-keys/{id}', '/v1/secrets', '/v1/secrets/generate', '/v1/secrets/{name}']),
    );
    const secrets = await fetch(`${base}/v1/secrets`, { headers: { Authorization: `Bearer ${key}` } });
    expect(secrets.status).toBe(200);

    // Production logs are JSON lines (the printed key block aside).
    const logLines = started.output().split('\n').filter((l) => l.startsWith('{'));
    expect(logLines.length).toBeGreaterThan(3);
    for (const line of logLines) expect(() => JSON.parse(line)).not.toThrow();

    // npm itself ends by the signal; the server must have shut down gracefully (its log line may
    // reach the shared pipe just after npm has exited).
    await stop(started.child);
    await waitFor('the shutdown logged', () => /SIGTERM received: shutting down/.test(started.output()), 5_000);
    await expect(fetch(`${base}/health`)).rejects.toThrow();
  }, 180_000);

  it('creates teams from the CLI; the printed key works; the server exits 0 on SIGTERM', async () => {
    const env = { ...process.env, HERALD_DATA_DIR: dataDir };
    const cli = spawnSync('node', ['dist/cli.js', 'teams:create', 'ml-platform'], { cwd: ROOT, env, encoding: 'utf8', timeout: 30_000 });
    expect(cli.status).toBe(0);
    const key = /^\s+(hrd_[A-Za-z0-9_-]{43})$/m.exec(cli.stdout)?.[1];
    expect(cli.stdout).toContain('Created team "ml-platform"');
    const again = spawnSync('node', ['dist/cli.js', 'teams:create', 'ml-platform'], { cwd: ROOT, env, encoding: 'utf8', timeout: 30_000 });
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/team named "ml-platform" already exists/);
    const usage = spawnSync('node', ['dist/cli.js', 'teams:delete'], { cwd: ROOT, env, encoding: 'utf8', timeout: 30_000 });
    expect(usage.status).toBe(64); // EX_USAGE: herald's exit code for a wrong command line (2 is plan's "changes")
    expect(usage.stderr).toMatch(/teams:create <name>/);

    const port = await freePort();
    const server = run('node', ['dist/main.js'], { PORT: String(port), HOST: '127.0.0.1', HERALD_DATA_DIR: dataDir }, /listening on/, 60_000);
    await server.ready;
    const res = await fetch(`http://127.0.0.1:${port}/v1/api-keys`, { headers: { Authorization: `Bearer ${key}` } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { items: unknown[] }).items).toHaveLength(1);
    expect(await stop(server.child)).toBe(0);
  }, 90_000);

  it('two npm start at the same moment share one build and both become healthy; a start with nothing changed builds nothing', async () => {
    // Forget the last build, as a change of the sources would: both starts want to build.
    rmSync(join(ROOT, 'dist', '.build-fingerprint'), { force: true });
    const ports = [await freePort(), await freePort()];
    const dirs = ports.map(() => mkdtempSync(join(tmpdir(), 'herald-start-twice-')));
    const starts = ports.map((port, i) =>
      run('npm', ['start'], { PORT: String(port), HOST: '127.0.0.1', HERALD_DATA_DIR: dirs[i] }, /listening on/, 120_000),
    );
    try {
      const outputs = await Promise.all(starts.map((s) => s.ready));
      // One of them compiled; the other waited for its lock and found dist/ current.
      expect(outputs.filter((o) => o.includes('Building dist/'))).toHaveLength(1);
      for (const port of ports) expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);

      const again = run('npm', ['start'], { PORT: String(await freePort()), HOST: '127.0.0.1', HERALD_DATA_DIR: dirs[0] }, /listening on/, 60_000);
      expect(await again.ready).not.toContain('Building dist/');
      await stop(again.child);
    } finally {
      for (const s of starts) await stop(s.child);
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);

  it('refuses to start on bad configuration, naming the variable', () => {
    const result = spawnSync('node', ['dist/main.js'], {
      cwd: ROOT,
      env: { ...process.env, PORT: 'eighty', HERALD_MASTER_KEY: 'short', HERALD_DATA_DIR: dataDir },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/PORT must be an integer/);
    expect(result.stderr).toMatch(/HERALD_MASTER_KEY must be 32 bytes/);
    expect(result.stderr).not.toContain('short');
  });
});
