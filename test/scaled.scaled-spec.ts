import { Redis } from 'ioredis';
import { generateApiKey } from '../src/auth/api-key-format';
import { TestReceiver } from './support/receiver';
import { ServerProcess } from './support/server-process';
import { createSchema, newQueuePrefix, newSchema, requireRedis, scaledEnv } from './support/services';
import { waitFor } from './support/wait';

/**
 * The scaled mode against the real PostgreSQL and Redis: API and worker processes started as
 * an operator starts them (child processes of src/main.ts), a real receiver on 127.0.0.1.
 */
jest.setTimeout(600_000);

const KEY = generateApiKey().key;

interface Cluster {
  api: ServerProcess;
  others: ServerProcess[];
}

function env(schema: string, prefix: string, role: 'api' | 'worker' | 'all', redisUrl?: string): Record<string, string> {
  return {
    ...scaledEnv(schema, prefix, role),
    ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
    HERALD_BOOTSTRAP_TOKEN: KEY,
    HERALD_ALLOWED_NETWORKS: '127.0.0.1/32',
    HERALD_LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
    HERALD_SWEEP_INTERVAL_MS: '500',
  };
}

/** One API process (it runs the migrations), then `workers` processes of `role`. */
async function startCluster(label: string, workers: number, role: 'worker' | 'all' = 'worker', redisUrl?: string): Promise<Cluster> {
  const schema = newSchema(label);
  await createSchema(schema);
  const prefix = newQueuePrefix(label);
  const api = await ServerProcess.start(env(schema, prefix, role === 'all' ? 'all' : 'api', redisUrl));
  const others = await Promise.all(Array.from({ length: workers }, () => ServerProcess.start(env(schema, prefix, role, redisUrl))));
  return { api, others };
}

async function alertAutomation(server: ServerProcess, receiver: TestReceiver, name: string): Promise<string> {
  // Retries come back within a second: an attempt that failed in flight on a loaded machine
  // (its answer came too late) is made again well inside the tests' waits.
  const hook = await server.api(KEY, 'POST', '/v1/webhooks', {
    name,
    url: receiver.url(`/${name}`),
    kind: 'generic',
    delivery: { scheduleSeconds: [0, 1, 1, 1, 1, 1, 1, 1] },
  });
  const automation = await server.api(KEY, 'POST', '/v1/automations', {
    name,
    scope: { type: 'team' },
    trigger: { event: 'ALERT', levels: ['ERROR'] },
    action: { webhookId: hook.id, payload: { title: '${alert_title}' } },
  });
  return automation.id as string;
}

/** Posts `count` matching alerts in batches of 500; returns their delivery ids. */
async function postAlerts(server: ServerProcess, count: number, tag: string): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < count; start += 500) {
    const events = Array.from({ length: Math.min(500, count - start) }, (_, i) => ({
      type: 'ALERT', project: 'p', level: 'ERROR', title: `${tag}-${start + i}`,
    }));
    const { results } = await server.api<{ results: { deliveries: string[] }[] }>(KEY, 'POST', '/v1/events', events);
    ids.push(...results.flatMap((r) => r.deliveries));
  }
  return ids;
}

async function everyIdArrives(receiver: TestReceiver, ids: string[], cluster: Cluster): Promise<void> {
  const seen = () => new Set(receiver.deliveryIds());
  await waitFor('every delivery id', () => ids.every((id) => seen().has(id)), 180_000).catch((error: Error) => {
    const outputs = [cluster.api, ...cluster.others].map((s) => s.output(1500)).join('\n---\n');
    throw new Error(`${error.message}: ${ids.filter((id) => seen().has(id)).length} of ${ids.length} arrived\n${outputs}`);
  });
}

/** Ids that arrived more than once (reported: at-least-once delivery allows them only for in-flight work). */
function duplicates(receiver: TestReceiver): string[] {
  return [...receiver.deliveryCounts()].filter(([, n]) => n > 1).map(([id]) => id);
}

describe('scaled mode: PostgreSQL + BullMQ on Redis, separate API and worker processes', () => {
  let receiver: TestReceiver;

  beforeEach(async () => {
    receiver = await TestReceiver.start();
  });
  afterEach(async () => {
    await ServerProcess.killAll();
    await receiver.close();
  });

  it('RUN_STALE: three processes poll the same durable due times; each silent run fires exactly once', async () => {
    const cluster = await startCluster('stale', 2);
    const hook = await cluster.api.api<{ id: string }>(KEY, 'POST', '/v1/webhooks', { name: 'stale', url: receiver.url('/stale'), kind: 'generic' });
    await cluster.api.api(KEY, 'POST', '/v1/automations', {
      name: 'stale',
      scope: { type: 'team' },
      trigger: { event: 'RUN_STALE', staleSeconds: 1 },
      action: { webhookId: hook.id, payload: { run: '${run_id}' } },
    });
    const runs = Array.from({ length: 50 }, (_, i) => `r${i}`);
    await cluster.api.api(KEY, 'POST', '/v1/events', runs.map((id) => ({ type: 'RUN_STATE', project: 'p', run: { id, name: id, state: 'RUNNING' } })));
    const stale = () => receiver.requests.filter((r) => r.path === '/stale');
    await waitFor('a RUN_STALE per run', () => new Set(receiver.deliveryIds()).size >= runs.length, 60_000);
    // Every process polls four times a second: a second claim of any timer would show by now.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(new Set(receiver.deliveryIds()).size).toBe(runs.length);
    expect([...new Set(stale().map((r) => (JSON.parse(r.body) as { run: string }).run))].sort()).toEqual([...runs].sort());
  });

  it('one API and two workers deliver 2 000 matching events, none lost', async () => {
    const cluster = await startCluster('spread', 2);
    await alertAutomation(cluster.api, receiver, 'spread');
    const ids = await postAlerts(cluster.api, 2000, 'spread');
    expect(new Set(ids).size).toBe(2000);
    await everyIdArrives(receiver, ids, cluster);
    const dup = duplicates(receiver);
    process.stdout.write(`scaled: 2000 deliveries over 2 workers, ${dup.length} duplicates\n`);
    // No process failed, so a repeat can only be a retry of an attempt that failed while in
    // flight (a timeout on a loaded machine: the receiver got it, the answer came too late).
    // Each must show in its history as a failed attempt followed by the one that succeeded.
    const failures = new Map<string, number>();
    for (const id of dup) {
      const detail = await cluster.api.api<{ attempts: { statusCode: number | null; errorClass: string | null }[] }>(KEY, 'GET', `/v1/deliveries/${id}`);
      for (const a of detail.attempts.slice(0, -1)) {
        const why = a.errorClass ?? `HTTP ${a.statusCode}`;
        failures.set(why, (failures.get(why) ?? 0) + 1);
      }
      expect(detail.attempts.length).toBeGreaterThanOrEqual(receiver.deliveryCounts().get(id)!);
      const succeeded = (a: { statusCode: number | null }) => a.statusCode !== null && a.statusCode >= 200 && a.statusCode < 300;
      expect(detail.attempts.slice(0, -1).filter(succeeded)).toEqual([]);
    }
    if (failures.size > 0) process.stdout.write(`scaled: failed attempts before the duplicates: ${JSON.stringify(Object.fromEntries(failures))}\n`);
    // Both workers took part (each one's own attempt counter), and together they made every attempt.
    // (An attempt is counted once its response is in: the last ones may trail the receiver.)
    const successes = () => Promise.all(cluster.others.map(async (worker) => {
      const text = await (await fetch(`${worker.url}/metrics`)).text();
      return Number(/^herald_delivery_attempts_total\{outcome="success"\} (\d+)/m.exec(text)?.[1] ?? 0);
    }));
    const sent = await waitFor('every attempt counted', async () => {
      const counts = await successes();
      return counts[0] + counts[1] >= 2000 && counts;
    }, 60_000);
    for (const count of sent) expect(count).toBeGreaterThan(0);
    expect(sent[0] + sent[1]).toBe(2000);
    // Worker processes serve no API.
    const res = await fetch(`${cluster.others[0].url}/v1/events`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(res.status).toBe(404);
  });

  it('a worker killed with SIGKILL mid-run: the other still delivers every delivery id', async () => {
    receiver.respondWith({ status: 200, body: 'ok', delayMs: 100 });
    const cluster = await startCluster('kill', 2);
    await alertAutomation(cluster.api, receiver, 'kill');
    const ids = await postAlerts(cluster.api, 600, 'kill');
    await receiver.waitForRequests(100, 120_000);
    await cluster.others[0].kill('SIGKILL');
    // The cut is the observed exit (kill resolves then), plus what the kernel may still flush of
    // the dead process's sockets on loopback: a request the worker wrote before it died can reach
    // the receiver just after its exit is seen.
    const killedAt = Date.now() + 50;
    const arrivedBeforeKill = new Set(receiver.deliveryIds((r) => r.at <= killedAt));
    expect(arrivedBeforeKill.size).toBeLessThan(600);
    await everyIdArrives(receiver, ids, cluster);
    const dup = duplicates(receiver);
    process.stdout.write(`scaled: worker killed after ${arrivedBeforeKill.size} arrivals, ${dup.length} duplicates (in flight at the kill)\n`);
    // A duplicate is an attempt that reached the receiver from the killed worker before the kill.
    for (const id of dup) expect(arrivedBeforeKill.has(id)).toBe(true);
  });

  it('FLUSHDB on Herald\'s Redis database mid-run: the sweeper restores the queue and every delivery arrives', async () => {
    // A Redis database of its own, so the flush touches no other suite's queue.
    const url = new URL(requireRedis());
    url.pathname = '/11';
    receiver.respondWith({ status: 200, body: 'ok', delayMs: 20 });
    const cluster = await startCluster('flush', 1, 'worker', url.toString());
    await alertAutomation(cluster.api, receiver, 'flush');
    const ids = await postAlerts(cluster.api, 600, 'flush');
    await receiver.waitForRequests(100, 120_000);
    const redis = new Redis(url.toString());
    try {
      await redis.flushdb();
      expect(await redis.dbsize()).toBeLessThan(50);
    } finally {
      redis.disconnect();
    }
    await everyIdArrives(receiver, ids, cluster);
  });

  it('an automation created on API process A fires for an event posted to B; concurrent ingestion of one run fires a threshold once', async () => {
    const cluster = await startCluster('cross', 1, 'all');
    const [a, b] = [cluster.api, cluster.others[0]];
    // B caches the team's (empty) automation index first.
    await b.api(KEY, 'POST', '/v1/events', { type: 'ALERT', project: 'p', level: 'ERROR', title: 'before' });
    await alertAutomation(a, receiver, 'cross');
    const [posted] = await postAlerts(b, 1, 'cross');
    await waitFor('the alert posted to B', () => receiver.deliveryIds().includes(posted), 60_000);

    const hook = await a.api(KEY, 'POST', '/v1/webhooks', { name: 'loss', url: receiver.url('/loss'), kind: 'generic' });
    const automation = await a.api(KEY, 'POST', '/v1/automations', {
      name: 'loss-low',
      scope: { type: 'project', name: 'p' },
      trigger: { event: 'RUN_METRIC_THRESHOLD', metric: 'loss', agg: 'AVERAGE', window: 1, op: '<', threshold: 0.5 },
      action: { webhookId: hook.id, payload: { run: '${run_name}' } },
    });
    // 40 metric events for one run, every one under the threshold, posted concurrently to A and B.
    await Promise.all(
      Array.from({ length: 40 }, (_, step) =>
        (step % 2 ? a : b).api(KEY, 'POST', '/v1/events', {
          type: 'RUN_METRICS', project: 'p', run: { id: 'r1', name: 'run-1' }, step, metrics: { loss: 0.1 },
        }),
      ),
    );
    const fired = await a.api<{ items: { id: string }[] }>(KEY, 'GET', `/v1/deliveries?automation=${automation.id}`);
    expect(fired.items).toHaveLength(1);
    await waitFor('the threshold delivery', () => receiver.requests.some((r) => r.path === '/loss'), 60_000);
    expect(receiver.requests.filter((r) => r.path === '/loss')).toHaveLength(1);
  });
  it('a key revoked and an automation created on API process A hold on B\'s very next request (B keeps both in memory)', async () => {
    const cluster = await startCluster('revoke', 1, 'all');
    const [a, b] = [cluster.api, cluster.others[0]];
    const status = async (server: ServerProcess, key: string, body: unknown) =>
      (await fetch(`${server.url}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })).status;
    const alert = (title: string) => ({ type: 'ALERT', project: 'p', level: 'ERROR', title });
    for (let round = 0; round < 3; round++) {
      const { id, key } = await a.api<{ id: string; key: string }>(KEY, 'POST', '/v1/api-keys', { name: `ingest-${round}`, role: 'ingest' });
      // B authenticates the key and checks the team's automation index twice: both are kept.
      for (let i = 0; i < 2; i++) {
        const { results } = await b.api<{ results: { deliveries: string[] }[] }>(key, 'POST', '/v1/events', alert(`before-${round}-${i}`));
        expect(results[0].deliveries).toHaveLength(round);
      }
      await alertAutomation(a, receiver, `revoke-${round}`);
      const { results } = await b.api<{ results: { deliveries: string[] }[] }>(key, 'POST', '/v1/events', alert(`after-${round}`));
      expect(results[0].deliveries).toHaveLength(round + 1);
      await a.api(KEY, 'DELETE', `/v1/api-keys/${id}`);
      expect(await status(b, key, alert(`revoked-${round}`))).toBe(401);
      expect(await status(a, key, alert(`revoked-${round}`))).toBe(401);
    }
  });
});
