import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { generateApiKey } from '../src/auth/api-key-format';
import { ApiClient, closedLoop } from './load';
import { ProcessGroup, ServerProcess } from './processes';
import type { BenchReceiver } from './receiver';
import { backgroundAutomations, e2eAutomation, ingestAutomations } from './workload';

/**
 * The node flags `npm start` gives dist/main.js in this checkout (package.json owns them), so
 * a profiled run (`node --cpu-prof … dist/main.js`) starts the process the same way.
 */
export function startFlags(root: string): string[] {
  const start = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  const flags = /\bnode ((?:--\S+ )*)dist\/main\.js/.exec(start)?.[1] ?? '';
  return flags.split(' ').filter((flag) => flag !== '');
}

export interface RunningHerald {
  /** The process serving the API (the only one in the embedded mode). */
  process: ServerProcess;
  /** Every Herald process: the API process first, then the scaled mode's worker processes. */
  processes: ProcessGroup;
  client: ApiClient;
  port: number;
  dataDir: string;
  /** The bootstrap admin key (a restart reuses it). */
  key: string;
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

/** PostgreSQL and Redis for the scaled rows (both on this machine: 127.0.0.1, ::1 or localhost only). */
export interface ScaledServices {
  databaseUrl: string;
  redisUrl: string;
}

/** The services the scaled rows use unless BENCH_DATABASE_URL / BENCH_REDIS_URL name others (the test suites' defaults). */
export const DEFAULT_SCALED_SERVICES: ScaledServices = {
  databaseUrl: 'postgres://postgres@127.0.0.1:5432/test',
  redisUrl: 'redis://127.0.0.1:6379/0',
};

/** BENCH_DATABASE_URL and BENCH_REDIS_URL, else the defaults; refused unless they name this machine. */
export function scaledServices(env: NodeJS.ProcessEnv = process.env): ScaledServices {
  const databaseUrl = env.BENCH_DATABASE_URL || DEFAULT_SCALED_SERVICES.databaseUrl;
  const redisUrl = env.BENCH_REDIS_URL || DEFAULT_SCALED_SERVICES.redisUrl;
  for (const url of [databaseUrl, redisUrl]) {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    if (!['127.0.0.1', '::1', 'localhost'].includes(host)) throw new Error(`The bench only uses services on this machine, not ${host}`);
  }
  return { databaseUrl, redisUrl };
}

/** The test suites' probe (a query, a PING), plain JavaScript: one owner for "do the services answer". */
const { probeServices } = require('../test/support/probe-services') as {
  probeServices(env: Record<string, string>): Promise<{ postgres: string | null; redis: string | null; problems: string[] }>;
};

/** Null when both services answer, else why not (printed: the scaled rows are skipped). */
export async function scaledServicesProblem(services: ScaledServices): Promise<string | null> {
  const { problems } = await probeServices({ DATABASE_URL_TEST: services.databaseUrl, REDIS_URL_TEST: services.redisUrl });
  return problems.length === 0 ? null : problems.join('; ').replace(/\((DATABASE|REDIS)_URL_TEST\)/g, '(BENCH_$1_URL)');
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
 * SQLite database in a temporary directory (or, for a restart, the one given), listening on 127.0.0.1 only, its
 * webhooks allowed to reach 127.0.0.1 only. With `scaled`, as the scaled mode is deployed
 * instead: an API process (HERALD_ROLE=api, which runs the migrations) and, once it answers,
 * `scaled.workers` worker processes (HERALD_ROLE=worker), all on the same schema, Redis queue
 * prefix and master key. With `profileDir`, builds first and runs each node with --cpu-prof
 * (the scaled mode's processes each in a subdirectory named after it: api, worker-1, …).
 */
export async function startHerald(
  root: string,
  options: {
    profileDir?: string;
    scaled?: ScaledServices & { schema: string; workers: number };
    /** Extra environment (the soak's short deadline and retry settings). */
    env?: Record<string, string>;
    /** A restart: the same data directory and bootstrap key as before. */
    restart?: { dataDir: string; key: string };
  } = {},
): Promise<RunningHerald> {
  const key = options.restart?.key ?? generateApiKey().key;
  const dataDir = options.restart?.dataDir ?? mkdtempSync(join(tmpdir(), 'herald-bench-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOST: '127.0.0.1',
    HERALD_DATA_DIR: dataDir,
    HERALD_BOOTSTRAP_TOKEN: key,
    HERALD_ALLOWED_NETWORKS: '127.0.0.1/32',
    HERALD_LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
  };
  // The embedded mode (SQLite, the worker in process) unless the scaled rows ask for PostgreSQL
  // and Redis: then the API and worker processes, deliveries through BullMQ.
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
    });
  }
  // Flags for Herald's node only when asked (BENCH_HERALD_NODE_OPTIONS), never the bench's own.
  Object.assign(env, options.env ?? {});
  if (process.env.BENCH_HERALD_NODE_OPTIONS) env.NODE_OPTIONS = process.env.BENCH_HERALD_NODE_OPTIONS;
  else delete env.NODE_OPTIONS;
  if (options.profileDir) {
    const build = spawnSync('npm', ['run', 'build'], { cwd: root, env, stdio: 'inherit' });
    if (build.status !== 0) throw new Error('npm run build failed');
  }
  /** One Herald process of `role` (undefined: the embedded mode's single process), healthy on its own port. */
  const startOne = async (name: string, role?: 'api' | 'worker'): Promise<{ proc: ServerProcess; port: number }> => {
    const port = await freePort();
    const ownEnv = { ...env, PORT: String(port), ...(role ? { HERALD_ROLE: role } : {}) };
    let proc: ServerProcess;
    if (options.profileDir) {
      const dir = role ? join(options.profileDir, name) : options.profileDir;
      mkdirSync(dir, { recursive: true });
      proc = ServerProcess.spawn(name, process.execPath, [...startFlags(root), '--cpu-prof', `--cpu-prof-dir=${dir}`, 'dist/main.js'], { cwd: root, env: ownEnv });
    } else {
      proc = ServerProcess.spawn(name, 'npm', ['start'], { cwd: root, env: ownEnv });
    }
    const health = new ApiClient(`http://127.0.0.1:${port}`, key);
    try {
      await proc.waitUntil('/health to answer', async () => (await health.get('/health')).statusCode === 200, 180_000);
    } finally {
      health.close();
    }
    proc.findServingProcess('dist/main.js');
    return { proc, port };
  };
  const started: ServerProcess[] = [];
  try {
    const api = await startOne(options.scaled ? 'api' : 'herald', options.scaled ? 'api' : undefined);
    started.push(api.proc);
    // Workers after the API process: it built dist/ (npm start) and ran the migrations.
    for (let i = 1; i <= (options.scaled?.workers ?? 0); i++) started.push((await startOne(`worker-${i}`, 'worker')).proc);
    const client = new ApiClient(`http://127.0.0.1:${api.port}`, key);
    return { process: api.proc, processes: new ProcessGroup(started), client, port: api.port, dataDir, key };
  } catch (error) {
    await new ProcessGroup(started).stop();
    throw error;
  }
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
