import { performance } from 'node:perf_hooks';
import { type ApiClient, closedLoop } from './load';
import type { BenchReceiver } from './receiver';
import { type LatencySummary, seededRandom, sleep, summarize } from './stats';
import { INGEST_RUNS, INGEST_STEPS_PER_BATCH, SENTINEL_WINDOW, ingestBatch } from './workload';

export interface IngestRun {
  /** Events stored (answered 200) before the budget ran out. */
  events: number;
  eventsPlanned: number;
  batchSize: number;
  requests: number;
  requestErrors: number;
  errorSamples: string[];
  /** Events stored (and matched, windows updated) per second. */
  eventsPerSecond: number;
  /** ms per POST /v1/events of one batch. */
  requestMs: LatencySummary;
  /** Deliveries of the sentinel automation, which fires once per run only if windows persist across requests. */
  sentinelDeliveries: number;
  sentinelExpected: number;
  elapsedMs: number;
}

/**
 * Scenario 3: POST /v1/events with batches of `batchSize` RUN_METRICS events (10 metrics each,
 * 100 automations watching them), `inFlight` requests pending. Then checks the windows were
 * kept: the sentinel automation (a window longer than one batch's steps) fired once per run.
 */
export async function runIngest(options: {
  client: ApiClient;
  receiver: BenchReceiver;
  path: string;
  batches: number;
  batchSize: number;
  inFlight: number;
  /** Past this, no more batches are posted; the figure counts the batches stored by then. */
  budgetMs: number;
}): Promise<IngestRun> {
  const { client, receiver, batches, batchSize, inFlight } = options;
  const random = seededRandom(17);
  const bodies = Array.from({ length: batches }, (_, b) => ingestBatch(b, batchSize, random));
  const sentinel = new Set<string>();
  const stop = receiver.listen((arrival) => {
    if (arrival.path === options.path) sentinel.add(arrival.deliveryId);
  });
  const requestMs: number[] = [];
  let requestErrors = 0;
  const errorSamples: string[] = [];
  const failed = (what: string): void => {
    requestErrors++;
    if (errorSamples.length < 5) errorSamples.push(what);
  };
  client.freshConnections();
  let nextBatch = 0;
  let stored = 0;
  const started = performance.now();
  const deadline = started + options.budgetMs;
  // Batches go in order (a run's steps arrive in order), `inFlight` at a time.
  await closedLoop(batches, inFlight, async () => {
    if (performance.now() > deadline) return;
    const body = bodies[nextBatch++];
    const t0 = performance.now();
    try {
      const answer = await client.post('/v1/events', body);
      const results = (answer.body as { results?: { duplicate: boolean }[] } | null)?.results;
      if (answer.statusCode !== 200 || !Array.isArray(results) || results.length !== body.length || results.some((r) => r.duplicate)) {
        failed(`HTTP ${answer.statusCode}: ${JSON.stringify(answer.body).slice(0, 300)}`);
      } else {
        stored += body.length;
      }
    } catch (error) {
      failed(String(error));
    }
    requestMs.push(performance.now() - t0);
  });
  const elapsedMs = performance.now() - started;
  const posted = nextBatch;
  const stepsPerRun = posted * INGEST_STEPS_PER_BATCH * (batchSize / (INGEST_RUNS * INGEST_STEPS_PER_BATCH));
  const sentinelExpected = stepsPerRun >= SENTINEL_WINDOW ? INGEST_RUNS : 0;
  for (let waited = 0; sentinel.size < sentinelExpected && waited < 10_000; waited += 50) await sleep(50);
  stop();
  return {
    events: stored,
    eventsPlanned: batches * batchSize,
    batchSize,
    requests: posted,
    requestErrors,
    errorSamples,
    eventsPerSecond: (stored * 1000) / elapsedMs,
    requestMs: summarize(requestMs),
    sentinelDeliveries: sentinel.size,
    sentinelExpected,
    elapsedMs,
  };
}
