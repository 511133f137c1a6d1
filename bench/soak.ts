import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { rmSync } from 'node:fs';
import { type RunningHerald, startHerald } from './herald';
import { type LatencySummary, seededRandom, sleep, summarize } from './stats';

/**
 * The soak scenario: events posted at a fixed rate for a while, to a receiver that flaps (5xx,
 * answers that never come before Herald's deadline, 429 with Retry-After), with Herald killed
 * by SIGKILL halfway and started again on the same database. Every event the API accepted must
 * be delivered (a 2xx from the receiver) by the end: `lost` must be 0. Duplicates — a delivery
 * answered 2xx more than once — are counted: at-least-once allows them (an attempt in flight
 * when the process died is sent again), and receivers dedupe on the delivery id.
 */

export interface SoakOptions {
  root: string;
  durationS: number;
  ratePerSecond: number;
  /** Time after the last post for the last deliveries (their retries) to arrive. */
  graceMs: number;
  seed?: number;
}

export interface SoakRun {
  durationS: number;
  ratePerSecond: number;
  /** Events the API accepted (each once, whatever retries of the post it took). */
  accepted: number;
  /** Posts that failed (the process was down, a connection reset) and were retried with the same id. */
  postRetries: number;
  delivered: number;
  duplicates: number;
  lost: number;
  /** What the receiver answered, by kind. */
  answers: Record<ReceiverAnswer, number>;
  /** POST /v1/events latency of the answered requests. */
  ingestLatencyMs: LatencySummary;
  /** From the event's accepted answer to its delivery's first 2xx (retries and the restart included). */
  deliveryLatencyMs: LatencySummary;
  killedAtS: number;
  /** SIGKILL to /health answering again (npm start, migrations, lease reclaim). */
  restartMs: number;
  /** Serving process RSS every few seconds: [seconds since start, MiB]. */
  rss: [number, number][];
  /** The status and attempts of up to 5 undelivered ones, as Herald reports them. */
  lostSamples: unknown[];
  timedOut: boolean;
}

type ReceiverAnswer = 'ok' | 'error_500' | 'timeout' | 'throttled_429';

/**
 * A receiver on 127.0.0.1 that flaps: per request, from a seeded sequence, 200 (55 %), 500
 * (20 %), no answer until after Herald's deadline (10 %), 429 with `Retry-After: 1` (15 %).
 * Records the first 2xx of each delivery id, and every later one as a duplicate.
 */
class FlappingReceiver {
  readonly answers: Record<ReceiverAnswer, number> = { ok: 0, error_500: 0, timeout: 0, throttled_429: 0 };
  /** delivery id → performance.now() of its first 2xx. */
  readonly deliveredAt = new Map<string, number>();
  duplicates = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(random: () => number, hangMs: number): Promise<FlappingReceiver> {
    let receiver!: FlappingReceiver;
    const server = createServer({ keepAliveTimeout: 30_000 }, (req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      req.on('end', () => receiver.answer(req, res, random(), hangMs));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    receiver = new FlappingReceiver(server, (server.address() as AddressInfo).port);
    return receiver;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  private answer(req: IncomingMessage, res: ServerResponse, roll: number, hangMs: number): void {
    const id = String(req.headers['x-herald-delivery'] ?? '');
    if (roll < 0.2) {
      this.answers.error_500++;
      res.writeHead(500).end('flapping');
    } else if (roll < 0.3) {
      this.answers.timeout++;
      // Answer only after Herald's deadline: the attempt is a timeout, retried.
      setTimeout(() => res.destroy(), hangMs).unref();
    } else if (roll < 0.45) {
      this.answers.throttled_429++;
      res.writeHead(429, { 'retry-after': '1' }).end('slow down');
    } else {
      this.answers.ok++;
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      if (this.deliveredAt.has(id)) this.duplicates++;
      else this.deliveredAt.set(id, performance.now());
    }
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const DEADLINE_MS = 1000;

export async function runSoak(options: SoakOptions): Promise<SoakRun> {
  const random = seededRandom(options.seed ?? 20);
  const receiver = await FlappingReceiver.start(random, DEADLINE_MS + 500);
  // A short deadline and disable-after far beyond the run: the flapping never disables the webhook.
  const env = { HERALD_HTTP_DEADLINE_MS: String(DEADLINE_MS), HERALD_DISABLE_AFTER: '1h' };
  let herald: RunningHerald = await startHerald(options.root, { env });
  const began = performance.now();
  const seconds = () => (performance.now() - began) / 1000;
  const rss: [number, number][] = [];
  const sampleRss = () => {
    try {
      rss.push([Math.round(seconds()), Math.round(herald.process.memory().rssMb)]);
    } catch {
      // Between the kill and the restart.
    }
  };
  const rssTimer = setInterval(sampleRss, 5000);
  try {
    await herald.client.create('/v1/webhooks', {
      name: 'soak',
      kind: 'generic',
      url: receiver.url('/soak'),
      // 30 attempts, 1–2 s apart: a delivery fails for good only if 30 attempts in a row do (0.45^30).
      delivery: { maxAttempts: 30, scheduleSeconds: [0, ...Array.from({ length: 29 }, (_, i) => (i < 10 ? 1 : 2))] },
    }).then((hook) =>
      herald.client.create('/v1/automations', {
        name: 'soak',
        scope: { type: 'project', name: 'soak' },
        trigger: { event: 'ALERT', levels: ['ERROR'] },
        action: { webhookId: (hook as { id: string }).id, payload: { title: '${alert_title}' } },
      }),
    );
    sampleRss();

    const total = options.durationS * options.ratePerSecond;
    const acceptedAt = new Map<string, number>();
    const ingestLatencies: number[] = [];
    let postRetries = 0;
    let killedAtS = Number.NaN;
    let restartMs = Number.NaN;
    let restarting: Promise<void> | null = null;

    const killAndRestart = async (): Promise<void> => {
      killedAtS = seconds();
      const killed = performance.now();
      herald.process.kill();
      for (let i = 0; i < 100 && !herald.process.hasEnded(); i++) await sleep(50);
      herald = await startHerald(options.root, { env, restart: { dataDir: herald.dataDir, key: herald.key } });
      restartMs = Math.round(performance.now() - killed);
    };

    /** Posts one event until the API accepts it (the same id each time: a retry is idempotent). */
    const post = async (seq: number): Promise<void> => {
      const event = { id: `soak-${seq}`, type: 'ALERT', project: 'soak', level: 'ERROR', title: `soak:${seq}` };
      for (;;) {
        if (restarting) await restarting;
        const started = performance.now();
        try {
          const answer = await herald.client.post('/v1/events', event);
          if (answer.statusCode === 200) {
            ingestLatencies.push(performance.now() - started);
            const result = (answer.body as { results: { deliveries: string[] }[] }).results[0];
            for (const id of result.deliveries) if (!acceptedAt.has(id)) acceptedAt.set(id, performance.now());
            return;
          }
        } catch {
          // The process is down or the connection was reset: try again.
        }
        postRetries++;
        await sleep(100);
      }
    };

    // A fixed schedule: event i is due at i / rate seconds, whatever earlier posts are waiting for.
    const posts: Promise<void>[] = [];
    const start = performance.now();
    for (let seq = 0; seq < total; seq++) {
      const due = start + (seq * 1000) / options.ratePerSecond;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      if (seq === Math.floor(total / 2) && restarting === null) restarting = killAndRestart().finally(() => (restarting = null));
      posts.push(post(seq));
    }
    await Promise.all(posts);
    if (restarting) await restarting;

    const deadline = performance.now() + options.graceMs;
    const undelivered = () => [...acceptedAt.keys()].filter((id) => !receiver.deliveredAt.has(id));
    while (undelivered().length > 0 && performance.now() < deadline) await sleep(250);
    sampleRss();

    const missing = undelivered();
    const lost = missing.length;
    // What Herald says of the first few it never delivered.
    const lostSamples: unknown[] = [];
    for (const id of missing.slice(0, 5)) {
      const answer = await herald.client.get(`/v1/deliveries/${id}`).catch((error: Error) => ({ statusCode: 0, body: error.message }));
      const d = answer.body as { status?: string; attemptCount?: number; nextAttemptAt?: string | null; lastError?: string; attempts?: { number: number; statusCode: number | null; errorClass: string | null }[] };
      lostSamples.push({ id, status: d.status, attemptCount: d.attemptCount, nextAttemptAt: d.nextAttemptAt, lastError: d.lastError, attempts: d.attempts?.map((a) => `${a.number}:${a.statusCode ?? a.errorClass}`).join(' ') });
    }
    const deliveryLatencies = [...acceptedAt].flatMap(([id, at]) => {
      const arrived = receiver.deliveredAt.get(id);
      return arrived === undefined ? [] : [arrived - at];
    });
    return {
      durationS: options.durationS,
      ratePerSecond: options.ratePerSecond,
      accepted: acceptedAt.size,
      postRetries,
      delivered: acceptedAt.size - lost,
      duplicates: receiver.duplicates,
      lost,
      answers: { ...receiver.answers },
      ingestLatencyMs: summarize(ingestLatencies),
      deliveryLatencyMs: summarize(deliveryLatencies),
      killedAtS: Math.round(killedAtS * 10) / 10,
      restartMs,
      rss,
      lostSamples,
      timedOut: lost > 0,
    };
  } finally {
    clearInterval(rssTimer);
    herald.client.close();
    await herald.process.stop();
    rmSync(herald.dataDir, { recursive: true, force: true });
    await receiver.close();
  }
}
