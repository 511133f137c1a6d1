import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { generateApiKey } from '../src/auth/api-key-format';
import { ApiClient, closedLoop } from './load';
import { ServerProcess } from './processes';
import type { BenchReceiver } from './receiver';
import { backgroundAutomations, e2eAutomation, ingestAutomations } from './workload';

export interface RunningHerald {
  process: ServerProcess;
  client: ApiClient;
  port: number;
  dataDir: string;
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
/** PostgreSQL and Redis for the scaled row (both on this machine: 127.0.0.1 or localhost only). */
export interface ScaledServices {
  databaseUrl: string;
  redisUrl: string;
}

/** BENCH_DATABASE_URL and BENCH_REDIS_URL, when both are set; refused unless they name this machine. */
export function scaledServices(env: NodeJS.ProcessEnv = process.env): ScaledServices | null {
  const databaseUrl = env.BENCH_DATABASE_URL;
  const redisUrl = env.BENCH_REDIS_URL;
  if (!databaseUrl || !redisUrl) return null;
  for (const url of [databaseUrl, redisUrl]) {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    if (!['127.0.0.1', '::1', 'localhost'].includes(host)) throw new Error(`The bench only uses services on this machine, not ${host}`);
  }
  return { databaseUrl, redisUrl };
}

/** Runs `sql` on the scaled row's database (creating and dropping its schema). */
export async function onDatabase(url: string, sql: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * Starts Herald as a user does (`npm start`: scripts/build.js, then node dist/main.js) on a fresh
 * SQLite database in a temporary directory (or `dataDir`'s), listening on 127.0.0.1 only, its
 * webhooks allowed to reach 127.0.0.1 only. With `profileDir`, builds first and runs node with
 * --cpu-prof.
 */
export async function startHerald(
  root: string,
  options: { profileDir?: string; scaled?: ScaledServices & { schema: string }; dataDir?: string } = {},
): Promise<RunningHerald> {
  const key = generateApiKey().key;
  const port = await freePort();
  // A given data directory restarts on the database an earlier start left there.
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'herald-bench-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    HERALD_DATA_DIR: dataDir,
    HERALD_BOOTSTRAP_TOKEN: key,
    HERALD_ALLOWED_NETWORKS: '127.0.0.1/32',
    HERALD_LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
  };
  // The embedded mode (SQLite, the worker in process) unless the scaled row asks for PostgreSQL
  // and Redis: then one process of role `all`, its deliveries through BullMQ.
  delete env.DATABASE_URL;
  delete env.DATABASE_SCHEMA;
  delete env.REDIS_URL;
  delete env.HERALD_ROLE;
  if (options.scaled) {
    Object.assign(env, {
      DATABASE_URL: options.scaled.databaseUrl,
      DATABASE_SCHEMA: options.scaled.schema,
      REDIS_URL: options.scaled.redisUrl,
      HERALD_QUEUE_PREFIX: options.scaled.schema.replace(/_/g, '-'),
      HERALD_MASTER_KEY: randomBytes(32).toString('hex'),
      HERALD_ROLE: 'all',
    });
  }
  // Flags for Herald's node only when asked (BENCH_HERALD_NODE_OPTIONS), never the bench's own.
  if (process.env.BENCH_HERALD_NODE_OPTIONS) env.NODE_OPTIONS = process.env.BENCH_HERALD_NODE_OPTIONS;
  else delete env.NODE_OPTIONS;
  let proc: ServerProcess;
  if (options.profileDir) {
    const build = spawnSync('npm', ['run', 'build'], { cwd: root, env, stdio: 'inherit' });
    if (build.status !== 0) throw new Error('npm run build failed');
    mkdirSync(options.profileDir, { recursive: true });
    proc = ServerProcess.spawn('herald', process.execPath, ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`, 'dist/main.js'], { cwd: root, env });
  } else {
    proc = ServerProcess.spawn('herald', 'npm', ['start'], { cwd: root, env });
  }
  const client = new ApiClient(`http://127.0.0.1:${port}`, key);
  await proc.waitUntil('/health to answer', async () => (await client.get('/health')).statusCode === 200, 180_000);
  proc.findServingProcess('dist/main.js');
  return { process: proc, client, port, dataDir };
}

export interface HeraldSetup {
  e2eWebhookId: string;
  ingestWebhookId: string;
  backgroundAutomations: number;
  setupMs: number;
}

/**
 * Creates what the scenarios need through the API: a generated signing secret, the webhooks
 * (all pointing at the bench receiver), `background` automations over 100 other projects, the
 * 100 automations watching the ingest project and the end-to-end automation.
 */
export async function setupHerald(client: ApiClient, receiver: BenchReceiver, background: number, pathPrefix = ''): Promise<HeraldSetup> {
  const started = Date.now();
  await client.create('/v1/secrets/generate', { name: 'BENCH_SIGNING', format: 'whsec' });
  const webhook = (name: string, path: string) =>
    client.create<{ id: string }>('/v1/webhooks', { name, kind: 'generic', url: receiver.url(pathPrefix + path), signingSecret: 'BENCH_SIGNING' });
  const e2e = await webhook('bench-e2e', '/e2e');
  const ingest = await webhook('bench-ingest', '/ingest');
  const backgroundHooks: string[] = [];
  for (let i = 0; i < 10; i++) backgroundHooks.push((await webhook(`bench-background-${i}`, '/background')).id);

  const bodies = [...backgroundAutomations(background, backgroundHooks), ...ingestAutomations(ingest.id), e2eAutomation(e2e.id)];
  await closedLoop(bodies.length, 8, async (i) => {
    await client.create('/v1/automations', bodies[i]);
  });
  return { e2eWebhookId: e2e.id, ingestWebhookId: ingest.id, backgroundAutomations: background, setupMs: Date.now() - started };
}
