/**
 * Interleaved A/B of the ingest scenario between Herald checkouts, for changes whose effect is
 * smaller than the noise between two bench runs minutes apart:
 *
 *   node -r ts-node/register/transpile-only bench/ab-ingest.ts <checkout> <checkout> […]
 *   (BATCHES per round (8), SIZE events per batch (500), ROUNDS (6), IN_FLIGHT (2),
 *    BG background automations (0), NODE_OPTIONS_<i>: node flags for the i-th checkout's Herald
 *    (0-based; else BENCH_HERALD_NODE_OPTIONS, as for the bench))
 *
 * Each checkout is started with `npm start` (as bench/run.ts starts it) on its own SQLite
 * database and set up with the bench's webhooks and automations (the 100 watching the ingest
 * project among them); then rounds of the ingest scenario's batches alternate between them
 * (order reversed every other round), each checkout posting the same bodies, its runs' steps
 * continuing from one round to the next. Each round's CPU per 1 000 events stored is read from
 * the serving process (/proc). Median per checkout. At the end, the sentinel automation (a
 * window longer than a batch's steps of a run) must have fired for every run of every checkout:
 * windows persisted across requests. 127.0.0.1 only, like the rest of the bench.
 */
import { performance } from 'node:perf_hooks';
import { setupHerald, startHerald } from './herald';
import { closedLoop } from './load';
import { BenchReceiver } from './receiver';
import { seededRandom, sleep } from './stats';
import { INGEST_RUNS, ingestBatch } from './workload';

async function main(): Promise<void> {
  const roots = process.argv.slice(2);
  if (roots.length < 2) throw new Error('usage: bench/ab-ingest.ts <checkout> <checkout> [...]');
  const batches = Number(process.env.BATCHES ?? 8);
  const size = Number(process.env.SIZE ?? 500);
  const rounds = Number(process.env.ROUNDS ?? 6);
  const inFlight = Number(process.env.IN_FLIGHT ?? 2);
  const background = Number(process.env.BG ?? 0);
  const receiver = await BenchReceiver.start();
  const sentinels = roots.map(() => new Set<string>());
  const stop = receiver.listen((arrival) => {
    const match = /^\/(\d+)\/ingest$/.exec(arrival.path);
    if (match) sentinels[Number(match[1])].add(arrival.deliveryId);
  });
  const subjects: { root: string; herald: Awaited<ReturnType<typeof startHerald>>; next: number; cpu: number[]; rate: number[] }[] = [];
  // Batch b's body, the same for every checkout.
  const bodies = new Map<number, unknown[]>();
  const body = (b: number) => {
    let out = bodies.get(b);
    if (!out) bodies.set(b, (out = ingestBatch(b, size, seededRandom(17 + b))));
    return out;
  };
  try {
    const shared = process.env.BENCH_HERALD_NODE_OPTIONS;
    for (const root of roots) {
      const own = process.env[`NODE_OPTIONS_${subjects.length}`];
      if (own !== undefined) process.env.BENCH_HERALD_NODE_OPTIONS = own;
      else if (shared !== undefined) process.env.BENCH_HERALD_NODE_OPTIONS = shared;
      else delete process.env.BENCH_HERALD_NODE_OPTIONS;
      const herald = await startHerald(root);
      await setupHerald(herald.client, receiver, background, `/${subjects.length}`);
      subjects.push({ root, herald, next: 0, cpu: [], rate: [] });
    }
    const round = async (subject: (typeof subjects)[number], count: number) => {
      subject.herald.client.freshConnections();
      const first = subject.next;
      subject.next += count;
      const before = subject.herald.processes.cpuMs();
      const started = performance.now();
      let next = first;
      await closedLoop(count, inFlight, async () => {
        const events = body(next++);
        const answer = await subject.herald.client.post('/v1/events', events);
        const results = (answer.body as { results?: { duplicate: boolean }[] } | null)?.results;
        if (answer.statusCode !== 200 || !Array.isArray(results) || results.length !== events.length || results.some((r) => r.duplicate)) {
          throw new Error(`${subject.root}: HTTP ${answer.statusCode}: ${JSON.stringify(answer.body).slice(0, 300)}`);
        }
      });
      const elapsed = performance.now() - started;
      const stored = count * size;
      return { cpu: ((subject.herald.processes.cpuMs() - before) * 1000) / stored, rate: (stored * 1000) / elapsed };
    };
    for (const subject of subjects) await round(subject, 4); // warm-up (and the sentinel's window filled)
    for (let i = 0; i < rounds; i++) {
      for (const subject of i % 2 ? [...subjects].reverse() : subjects) {
        const { cpu, rate } = await round(subject, batches);
        subject.cpu.push(cpu);
        subject.rate.push(rate);
      }
    }
    for (let waited = 0; sentinels.some((s) => s.size < INGEST_RUNS) && waited < 10_000; waited += 50) await sleep(50);
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    subjects.forEach(({ root, herald, cpu, rate }, i) => {
      process.stdout.write(
        `${root}${process.env[`NODE_OPTIONS_${i}`] ? ` (node ${process.env[`NODE_OPTIONS_${i}`]})` : ''} (${size}/request, ${inFlight} in flight): ` +
          `CPU per 1 000 events median ${median(cpu).toFixed(1)} ms [${cpu.map((c) => c.toFixed(1)).join(' ')}]; ` +
          `events/s median ${median(rate).toFixed(0)}; peak RSS ${herald.processes.memory().peakRssMb.toFixed(0)} MB; ` +
          `sentinel deliveries ${sentinels[i].size} (≥ ${INGEST_RUNS} expected)\n`,
      );
    });
    if (sentinels.some((s) => s.size < INGEST_RUNS)) throw new Error('windows not verified: a sentinel did not fire for every run');
  } finally {
    stop();
    for (const { herald } of subjects) await herald.processes.stop();
    await receiver.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`ab-ingest failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
