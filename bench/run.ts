import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { generateApiKey } from '../src/auth/api-key-format';
import { type RunningHerald, onDatabase, scaledServices, scaledServicesProblem, setupHerald, startHerald } from './herald';
import { type IngestRun, runIngest } from './ingest';
import { ApiClient, type DeliveryRun, fixedRate, saturate } from './load';
import { runMatcher } from './matcher';
import { ProcessGroup, ServerProcess } from './processes';
import { BenchReceiver } from './receiver';
import { type SoakRun, runSoak } from './soak';
import { type Row, renderTable } from './report';
import { sleep } from './stats';

/**
 * `npm run bench`: every scenario of issue 7 in one run, on 127.0.0.1 only, one table printed
 * and the raw figures written to bench/results/. `--quick` (or BENCH_QUICK=1) runs smaller
 * counts; `--scenarios=ceiling,matcher,ingest,e2e,scaled,soak` runs a subset (`--only soak` is
 * `--scenarios=soak`; `--no-scaled` leaves the PostgreSQL + Redis rows out); `--workers=N` sets
 * the scaled mode's worker processes (1); `--soak-seconds=N` sets the soak's length (60);
 * `--profile` runs Herald's processes under `node --cpu-prof` (profiles in
 * bench/results/profiles/, see bench/profile-summary.ts).
 */

const ROOT = resolve(__dirname, '..');
const RESULTS = join(ROOT, 'bench', 'results');
/**
 * `scaled` repeats ingest and e2e (those selected, both when neither is) on PostgreSQL + Redis
 * with separate API and worker processes, when both services answer on this machine.
 */
const ALL_SCENARIOS = ['ceiling', 'matcher', 'ingest', 'e2e', 'scaled', 'soak'] as const;
type Scenario = (typeof ALL_SCENARIOS)[number];

interface Counts {
  automations: number;
  matcherMaxEvents: number;
  matcherMaxMs: number;
  ingestBatches: number;
  ingestBatchSize: number;
  ingestInFlight: number;
  ingestBudgetMs: number;
  e2eEvents: number;
  inFlight: number;
  ratePerSecond: number;
  rateEvents: number;
  /** The second fixed rate (the issue's 1 000 events/s row) and its events. */
  highRatePerSecond: number;
  highRateEvents: number;
  warmEvents: number;
  /** Each closed-loop delivery scenario's time budget (posting and every delivery arriving), at most. */
  saturateBudgetMs: number;
  /** The whole run's: Herald's delivery scenarios get less than saturateBudgetMs when it runs short. */
  totalBudgetMs: number;
  /** Time the fixed-rate scenario may take beyond its schedule for the last deliveries. */
  rateGraceMs: number;
}

const FULL: Counts = {
  automations: 10_000,
  matcherMaxEvents: 250_000,
  matcherMaxMs: 8_000,
  ingestBatches: 40,
  ingestBatchSize: 500,
  ingestInFlight: 2,
  ingestBudgetMs: 40_000,
  e2eEvents: 20_000,
  inFlight: 32,
  ratePerSecond: 500,
  rateEvents: 5_000,
  highRatePerSecond: 1_000,
  highRateEvents: 10_000,
  warmEvents: 2_000,
  saturateBudgetMs: 100_000,
  totalBudgetMs: 300_000,
  rateGraceMs: 25_000,
};

const QUICK: Counts = {
  ...FULL,
  automations: 2_000,
  matcherMaxEvents: 50_000,
  matcherMaxMs: 2_000,
  ingestBatches: 8,
  ingestBudgetMs: 20_000,
  e2eEvents: 4_000,
  rateEvents: 1_500,
  highRateEvents: 3_000,
  warmEvents: 500,
  saturateBudgetMs: 30_000,
  totalBudgetMs: 170_000,
  rateGraceMs: 15_000,
};

function parseArgs(argv: string[]) {
  const quick = argv.includes('--quick') || process.env.BENCH_QUICK === '1';
  const profile = argv.includes('--profile');
  const only = argv.indexOf('--only');
  const selected = (only !== -1 ? argv[only + 1] : argv.find((a) => a.startsWith('--scenarios='))?.slice('--scenarios='.length))?.split(',');
  const soakSeconds = Number(argv.find((a) => a.startsWith('--soak-seconds='))?.slice('--soak-seconds='.length) ?? 60);
  if (!Number.isInteger(soakSeconds) || soakSeconds < 10) throw new Error('--soak-seconds must be an integer of at least 10');
  for (const name of selected ?? []) {
    if (!(ALL_SCENARIOS as readonly string[]).includes(name)) throw new Error(`Unknown scenario ${name}; choose from ${ALL_SCENARIOS.join(', ')}`);
  }
  const scenarios = new Set<Scenario>((selected as Scenario[] | undefined) ?? ALL_SCENARIOS);
  if (argv.includes('--no-scaled')) scenarios.delete('scaled');
  const workers = Number(argv.find((a) => a.startsWith('--workers='))?.slice('--workers='.length) ?? 1);
  if (!Number.isInteger(workers) || workers < 1 || workers > 8) throw new Error('--workers must be an integer from 1 to 8');
  return { quick, profile, scenarios, soakSeconds, workers, counts: quick ? QUICK : FULL };
}

/** Monotonic microseconds, the clock V8's CPU profiles use: scenario windows can be cut out of a profile. */
function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

function gitDescription(): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'bench', 'package.json'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${commit} + uncommitted changes` : commit;
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const { quick, profile, scenarios, soakSeconds, workers, counts } = parseArgs(process.argv.slice(2));
  const began = Date.now();
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadAverageAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
    commit: gitDescription(),
  };
  const windows: { scenario: string; startUs: number; endUs: number }[] = [];
  const timed = async <T>(scenario: string, work: () => Promise<T>): Promise<T> => {
    const startUs = monotonicUs();
    log(`${scenario}…`);
    try {
      return await work();
    } finally {
      windows.push({ scenario, startUs, endUs: monotonicUs() });
    }
  };
  log(`Herald bench${quick ? ' (quick counts)' : ''}: ${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}, load average ${machine.loadAverageAtStart.join(' ')}`);

  const receiver = await BenchReceiver.start();
  const results: Record<string, unknown> = {};
  const ceiling: CeilingFigures = {};
  const herald: HeraldFigures = {};
  let scaled: HeraldFigures | undefined;
  /** Why the PostgreSQL + Redis rows were left out, when they were. */
  let scaledSkipped: string | undefined;
  /** Seconds until the scaled rows began (the part of the run the time bound covers). */
  let boundedS: number | undefined;

  /** Scenarios 3–5 on one Herald process: setup, idle memory, ingest, end to end and its peak memory. */
  /**
   * What a Herald delivery scenario may take: its own budget, but no more than the run's
   * remaining time less `reserveMs` for the scenarios after it (the first scenarios' backlog
   * would otherwise push the whole run past its bound). The optional PostgreSQL row is not bounded.
   */
  const budget = (ownMs: number, reserveMs: number, bounded: boolean): number =>
    bounded ? Math.max(10_000, Math.min(ownMs, began + counts.totalBudgetMs - Date.now() - reserveMs)) : ownMs;
  const rateMs = (counts.rateEvents * 1000) / counts.ratePerSecond + (counts.highRateEvents * 1000) / counts.highRatePerSecond;

  const heraldScenarios = async (label: string, start: () => Promise<RunningHerald>, pathPrefix = '', only?: Set<Scenario>): Promise<HeraldFigures> => {
    const runs = (scenario: Scenario) => (only ?? scenarios).has(scenario);
    // The scaled rows (their own receiver path) are not part of the whole run's bound.
    const bounded = pathPrefix === '';
    const figures: HeraldFigures = {};
    const startedAt = Date.now();
    const running = await start();
    figures.startMs = Date.now() - startedAt;
    try {
      const { client } = running;
      figures.setup = await timed(`${label}setup (${counts.automations} automations through the API)`, () =>
        setupHerald(client, receiver, counts.automations, pathPrefix),
      );
      // The first event loads the team's automation catalog; then Herald idles.
      await client.create('/v1/events', { type: 'ALERT', project: 'bench-idle', level: 'INFO', title: 'catalog load' });
      await sleep(2000);
      figures.idleRssMb = running.processes.memory().rssMb;
      figures.idleRssByProcessMb = running.processes.memoryByName();
      log(`${label}Herald idle with ${counts.automations} automations: ${figures.idleRssMb.toFixed(0)} MB RSS (${JSON.stringify(figures.idleRssByProcessMb)})`);
      if (runs('ingest')) {
        figures.ingest = await timed(`${label}ingest`, () =>
          runIngest({ client, receiver, path: `${pathPrefix}/ingest`, batches: counts.ingestBatches, batchSize: counts.ingestBatchSize, inFlight: counts.ingestInFlight, budgetMs: counts.ingestBudgetMs }),
        );
      }
      if (runs('e2e')) {
        const path = `${pathPrefix}/e2e`;
        await saturate({ client, receiver, path, tag: 'warm', events: counts.warmEvents, perRequest: 50, inFlight: counts.inFlight, budgetMs: 20_000 });
        const peak = running.processes.sampleRss();
        figures.single = await timed(`${label}end to end 1/request`, () =>
          withCpu(running.processes, () =>
            saturate({
              client, receiver, path, tag: 'single', events: counts.e2eEvents, perRequest: 1, inFlight: counts.inFlight,
              budgetMs: budget(counts.saturateBudgetMs, 40_000 + rateMs + 30_000, bounded),
            }),
          ),
        );
        figures.batch = await timed(`${label}end to end 50/request`, () =>
          withCpu(running.processes, () =>
            saturate({
              client, receiver, path, tag: 'batch', events: counts.e2eEvents, perRequest: 50, inFlight: counts.inFlight,
              budgetMs: budget(counts.saturateBudgetMs, rateMs + 30_000, bounded),
            }),
          ),
        );
        figures.rate = await timed(`${label}end to end ${counts.ratePerSecond}/s`, () =>
          fixedRate({
            client, receiver, path, tag: 'rate', ratePerSecond: counts.ratePerSecond, events: counts.rateEvents,
            budgetMs: budget(rateBudget(counts.rateEvents, counts.ratePerSecond, counts), (counts.highRateEvents * 1000) / counts.highRatePerSecond + 20_000, bounded),
          }),
        );
        figures.highRate = await timed(`${label}end to end ${counts.highRatePerSecond}/s`, () =>
          fixedRate({
            client, receiver, path, tag: 'fast', ratePerSecond: counts.highRatePerSecond, events: counts.highRateEvents,
            budgetMs: budget(rateBudget(counts.highRateEvents, counts.highRatePerSecond, counts), 5_000, bounded),
          }),
        );
        figures.peakRssMb = peak();
        // What each scenario inherited: deliveries of earlier scenarios still queued when it began.
        figures.backlog = {
          batch: figures.single.posted - figures.single.delivered,
          rate: figures.single.posted - figures.single.delivered + figures.batch.posted - figures.batch.delivered,
          highRate:
            figures.single.posted - figures.single.delivered + figures.batch.posted - figures.batch.delivered + figures.rate.posted - figures.rate.delivered,
        };
      }
      client.close();
    } finally {
      const ended = running.processes.ended();
      if (ended) {
        // Herald died under load: say so, with the end of what it printed.
        figures.crashed = { status: `${ended.name}: ${ended.status}`, output: ended.output };
        log(`${label}Herald ENDED during the scenarios (${figures.crashed.status}); its last output:\n${figures.crashed.output}`);
      }
      await running.processes.stop(profile ? 120_000 : undefined);
      // A second `npm start` with nothing changed, on the database the first one left: no build, migrations already run.
      if (bounded && !profile && !figures.crashed) {
        const restartedAt = Date.now();
        const again = await timed(`${label}second npm start`, () => startHerald(ROOT, { restart: { dataDir: running.dataDir, key: running.key } }));
        figures.restartMs = Date.now() - restartedAt;
        await again.process.stop();
      }
      rmSync(running.dataDir, { recursive: true, force: true });
    }
    return figures;
  };
  let soak: SoakRun | undefined;
  let matcher: ReturnType<typeof runMatcher> | undefined;
  let matcherExplaining: ReturnType<typeof runMatcher> | undefined;

  try {
    // 2. The pure matcher first, while nothing else runs on the machine's cores.
    if (scenarios.has('matcher')) {
      matcher = await timed('matcher (decide)', async () =>
        runMatcher({ mode: 'decide', automations: counts.automations, maxEvents: counts.matcherMaxEvents, maxMs: counts.matcherMaxMs }),
      );
      matcherExplaining = await timed('matcher (evaluate)', async () =>
        runMatcher({ mode: 'evaluate', automations: counts.automations, maxEvents: counts.matcherMaxEvents, maxMs: counts.matcherMaxMs / 2 }),
      );
    }

    // 1. The ceiling: the minimal sender in its own process, the same load and receiver as Herald.
    if (scenarios.has('ceiling')) {
      const key = generateApiKey().key;
      const spawnedAt = Date.now();
      const proc = ServerProcess.spawn('ceiling', process.execPath, ['-r', 'ts-node/register/transpile-only', 'bench/ceiling-server.ts'], {
        cwd: ROOT,
        env: { ...process.env, PORT: '0', CEILING_RECEIVER_URL: receiver.url('/ceiling'), CEILING_API_KEY: key, TS_NODE_PROJECT: 'bench/tsconfig.json' },
      });
      try {
        const port = Number((await proc.waitForOutput(/LISTENING (\d+)/, 60_000))[1]);
        ceiling.startMs = Date.now() - spawnedAt;
        proc.findServingProcess('ceiling-server');
        const client = new ApiClient(`http://127.0.0.1:${port}`, key);
        await saturate({ client, receiver, path: '/ceiling', tag: 'warm', events: counts.warmEvents, perRequest: 50, inFlight: counts.inFlight, budgetMs: 20_000 });
        await sleep(1000);
        ceiling.idleRssMb = proc.memory().rssMb;
        const peak = new ProcessGroup([proc]).sampleRss();
        ceiling.single = await timed('ceiling 1/request', () =>
          withCpu(new ProcessGroup([proc]), () =>
            saturate({ client, receiver, path: '/ceiling', tag: 'single', events: counts.e2eEvents, perRequest: 1, inFlight: counts.inFlight, budgetMs: counts.saturateBudgetMs }),
          ),
        );
        ceiling.batch = await timed('ceiling 50/request', () =>
          withCpu(new ProcessGroup([proc]), () =>
            saturate({ client, receiver, path: '/ceiling', tag: 'batch', events: counts.e2eEvents, perRequest: 50, inFlight: counts.inFlight, budgetMs: counts.saturateBudgetMs }),
          ),
        );
        ceiling.rate = await timed(`ceiling ${counts.ratePerSecond}/s`, () =>
          fixedRate({ client, receiver, path: '/ceiling', tag: 'rate', ratePerSecond: counts.ratePerSecond, events: counts.rateEvents, budgetMs: rateBudget(counts.rateEvents, counts.ratePerSecond, counts) }),
        );
        ceiling.highRate = await timed(`ceiling ${counts.highRatePerSecond}/s`, () =>
          fixedRate({
            client, receiver, path: '/ceiling', tag: 'fast', ratePerSecond: counts.highRatePerSecond, events: counts.highRateEvents,
            budgetMs: rateBudget(counts.highRateEvents, counts.highRatePerSecond, counts),
          }),
        );
        ceiling.peakRssMb = peak();
        client.close();
      } finally {
        await proc.stop();
      }
    }

    // 3–5. Herald itself, started with `npm start` on a fresh SQLite database.
    if (scenarios.has('ingest') || scenarios.has('e2e')) {
      log(profile ? 'building Herald and starting it under --cpu-prof…' : 'starting Herald with npm start (scripts/build.js, then node dist/main.js)…');
      Object.assign(herald, await heraldScenarios('', () => startHerald(ROOT, profile ? { profileDir: join(RESULTS, 'profiles', stamp) } : {})));
    }
    // 6. Soak: a fixed rate, a flapping receiver, SIGKILL and restart halfway; nothing lost.
    if (scenarios.has('soak')) {
      soak = await timed(`soak (${soakSeconds} s at ${SOAK_RATE}/s, flapping receiver, SIGKILL + restart halfway)`, () =>
        runSoak({ root: ROOT, durationS: soakSeconds, ratePerSecond: SOAK_RATE, graceMs: 90_000 }),
      );
      log(
        `soak: ${soak.accepted} accepted, ${soak.delivered} delivered, ${soak.duplicates} duplicates, ${soak.lost} lost; ` +
          `ingest p99 ${soak.ingestLatencyMs.p99.toFixed(1)} ms, delivery p99 ${(soak.deliveryLatencyMs.p99 / 1000).toFixed(1)} s; ` +
          `restart ${soak.restartMs} ms; RSS ${soak.rss.map(([t, mb]) => `${t}s:${mb}`).join(' ')} MiB`,
      );
    }
    // Last, outside the whole run's bound: the same on PostgreSQL and Redis as the scaled mode is deployed (API and worker processes),
    // when both answer on this machine (BENCH_DATABASE_URL, BENCH_REDIS_URL, or the defaults).
    boundedS = Math.round((Date.now() - began) / 1000);
    if (scenarios.has('scaled')) {
      const services = scaledServices();
      const problem = await scaledServicesProblem(services);
      if (problem !== null) {
        scaledSkipped = `PostgreSQL + Redis rows skipped: ${problem}`;
        log(scaledSkipped);
      } else {
        const schema = `herald_bench_${randomBytes(4).toString('hex')}`;
        await onDatabase(services.databaseUrl, `CREATE SCHEMA "${schema}"`);
        // Only the Herald scenarios asked for; both when `scaled` was asked for alone.
        const only = scenarios.has('ingest') || scenarios.has('e2e') ? undefined : new Set<Scenario>(['ingest', 'e2e']);
        try {
          log(`starting Herald on PostgreSQL (schema ${schema}) and Redis: 1 API process and ${workers} worker process(es)…`);
          const profileDir = profile ? join(RESULTS, 'profiles', stamp, 'scaled') : undefined;
          scaled = await heraldScenarios('PostgreSQL + Redis: ', () => startHerald(ROOT, { profileDir, scaled: { ...services, schema, workers } }), '/scaled', only);
          scaled.processes = `1 API + ${workers} worker`;
        } finally {
          await onDatabase(services.databaseUrl, `DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        }
      }
    }
  } finally {
    await receiver.close();
  }

  const rows = [...tableRows(counts, matcher, matcherExplaining, ceiling, herald, scaled), ...soakRows(soak)];
  Object.assign(results, { soak, matcher, matcherExplaining, ceiling, herald, scaled, receiver: { requests: receiver.requests, duplicates: receiver.duplicates } });
  const durationS = Math.round((Date.now() - began) / 1000);
  mkdirSync(RESULTS, { recursive: true });
  const file = join(RESULTS, `bench-${stamp}.json`);
  const document = { startedAt: new Date(began).toISOString(), durationS, boundedS, scaledSkipped, quick, profile, machine, counts, windows, rows, results };
  writeFileSync(file, JSON.stringify(document, null, 2));
  writeFileSync(join(RESULTS, 'latest.json'), JSON.stringify(document, null, 2));

  process.stdout.write(`\n${renderTable(rows)}\n\n`);
  for (const [name, figures] of [['Herald', herald], ['Herald on PostgreSQL + Redis', scaled]] as const) {
    if (figures?.crashed) process.stdout.write(`${name} ended during the scenarios (${figures.crashed.status}): see the JSON for its last output.\n`);
  }
  process.stdout.write(
    `${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGb} GB, Node ${machine.node}, commit ${machine.commit}; ` +
      `load average at start ${machine.loadAverageAtStart.join(' ')}; whole run ${durationS} s` +
      (scaled ? ` (${boundedS} s before the scaled rows, which the time bound leaves out)` : '') +
      '.\n' +
      (scaled
        ? `(scaled): PostgreSQL + Redis, ${scaled.processes} process (HERALD_ROLE=api, worker); CPU and RSS summed over them (idle RSS per process: ${JSON.stringify(scaled.idleRssByProcessMb)} MB; CPU per 1 000 deliveries per process at 1 / 50 events per request: ${perThousand(scaled.single)} / ${perThousand(scaled.batch)} ms).\n`
        : '') +
      (scaledSkipped ? `${scaledSkipped}\n` : '') +
      `ratio = value / ceiling figure of this run (throughputs of matcher and ingest against the ceiling's 50 events/request).\n` +
      `Figures: ${relative(ROOT, file)}\n`,
  );
  if (soak && soak.lost > 0) {
    process.stdout.write(`Soak: ${soak.lost} accepted events were never delivered: ${JSON.stringify(soak.lostSamples)}\n`);
    process.exitCode = 1;
  }
  // A scenario cut by its time budget is a figure (printed as ≥, with how many arrived), not a
  // failure; a request Herald answered with an error, or an event the soak lost, is.
  const runs = [herald, ceiling, scaled ?? {}].flatMap((f) => Object.values(prefixed('', f))).filter((r) => r);
  if (runs.some((r) => r.timedOut || r.requestErrors > 0)) {
    process.stdout.write('Some deliveries did not arrive within the time budget or some requests failed (details in the JSON):\n');
    for (const [name, run] of Object.entries({ ...prefixed('ceiling', ceiling), ...prefixed('Herald', herald), ...prefixed('Herald scaled', scaled ?? {}) })) {
      if (run.timedOut || run.requestErrors > 0) {
        const unanswered = run.unanswered > 0 ? `; ${run.unanswered} requests unanswered at the end` : '';
        process.stdout.write(`  ${name}: ${run.delivered}/${run.events} delivered; ${run.requestErrors} request errors ${run.errorSamples.join(' | ')}${unanswered}\n`);
      }
    }
    if (runs.some((r) => r.requestErrors > 0)) process.exitCode = 1;
  }
}

/** Each process's CPU per 1 000 deliveries of a run, `api 1 234, worker-1 567`. */
function perThousand(run: CpuRun | undefined): string {
  if (!run || run.delivered === 0) return '—';
  return Object.entries(run.cpuMsByProcess).map(([name, ms]) => `${name} ${Math.round((ms * 1000) / run.delivered)}`).join(', ');
}

/** The soak's fixed ingestion rate, events per second. */
const SOAK_RATE = 50;

function soakRows(soak: SoakRun | undefined): Row[] {
  if (!soak) return [];
  const row = (figure: string, value: number, unit: string, target = '', met: boolean | null = null, note?: string): Row => ({
    scenario: '6 soak',
    figure,
    value,
    ceiling: null,
    unit,
    target,
    met,
    note,
  });
  const peak = Math.max(...soak.rss.map(([, mb]) => mb));
  return [
    row('events accepted', soak.accepted, '', '', null, `${soak.ratePerSecond}/s for ${soak.durationS} s; ${soak.postRetries} posts retried around the SIGKILL`),
    row('delivered', soak.delivered, ''),
    row('lost', soak.lost, '', '= 0', soak.lost === 0),
    row('duplicates (2xx twice)', soak.duplicates, ''),
    row('ingest p99', soak.ingestLatencyMs.p99, 'ms'),
    row('delivery p99 (retries included)', soak.deliveryLatencyMs.p99, 'ms'),
    row('restart after SIGKILL', soak.restartMs, 'ms'),
    row('peak RSS', peak, 'MB', '', null, `${soak.rss[0]?.[1]} MB at the start, ${soak.rss[soak.rss.length - 1]?.[1]} MB at the end; every 5 s in the JSON`),
  ];
}

/** A closed-loop delivery run with the CPU time Herald's processes spent on it (summed, and each one's). */
type CpuRun = DeliveryRun & { cpuMs: number; cpuMsPer1000: number; cpuMsByProcess: Record<string, number> };

/** Runs a scenario and measures the CPU time of Herald's processes (all of them, summed) over it, per 1 000 deliveries. */
async function withCpu(processes: ProcessGroup, work: () => Promise<DeliveryRun>): Promise<CpuRun> {
  const before = processes.cpuMsByName();
  const run = await work();
  const after = processes.cpuMsByName();
  const cpuMsByProcess = Object.fromEntries(Object.entries(after).map(([name, ms]) => [name, ms - before[name]]));
  const cpuMs = Object.values(cpuMsByProcess).reduce((sum, ms) => sum + ms, 0);
  return { ...run, cpuMs, cpuMsPer1000: run.delivered > 0 ? (cpuMs * 1000) / run.delivered : Number.NaN, cpuMsByProcess };
}

interface DeliveryFigures {
  single?: CpuRun;
  batch?: CpuRun;
  rate?: DeliveryRun;
  highRate?: DeliveryRun;
}

interface CeilingFigures extends DeliveryFigures {
  idleRssMb?: number;
  peakRssMb?: number;
  /** Spawn to listening (its node runs the TypeScript through ts-node). */
  startMs?: number;
}

interface HeraldFigures extends DeliveryFigures {
  idleRssMb?: number;
  peakRssMb?: number;
  setup?: unknown;
  ingest?: IngestRun;
  /** `npm start` to a healthy /health: the first start (builds when the sources changed), and a second one with nothing changed. */
  startMs?: number;
  restartMs?: number;
  /** Deliveries of earlier scenarios not yet arrived when the 50/request and fixed-rate scenarios began (upper bound). */
  backlog?: { batch: number; rate: number; highRate: number };
  /** Each process's RSS idle, MiB (the scaled mode's API and workers; `idleRssMb` is their sum). */
  idleRssByProcessMb?: Record<string, number>;
  /** The scaled mode's processes: `1 API + 1 worker`. */
  processes?: string;
  /** Set when Herald exited before the bench stopped it. */
  crashed?: { status: string; output: string };
}

function prefixed(prefix: string, runs: DeliveryFigures): Record<string, DeliveryRun> {
  const out: Record<string, DeliveryRun> = {};
  for (const key of ['single', 'batch', 'rate', 'highRate'] as const) if (runs[key]) out[`${prefix} ${key}`] = runs[key]!;
  return out;
}

function tableRows(
  counts: Counts,
  matcher: ReturnType<typeof runMatcher> | undefined,
  matcherExplaining: ReturnType<typeof runMatcher> | undefined,
  ceiling: CeilingFigures,
  herald: HeraldFigures,
  scaled: HeraldFigures | undefined,
): Row[] {
  const rows: Row[] = [];
  const rate = `${counts.ratePerSecond} events/s`;
  const highRate = `${counts.highRatePerSecond} events/s`;
  const c1 = ceiling.single?.deliveriesPerSecond ?? null;
  const c50 = ceiling.batch?.deliveriesPerSecond ?? null;
  const atLeast = (value: number | undefined, limit: number) => (value === undefined ? null : value >= limit);
  const incomplete = (run: DeliveryRun | undefined, inherited = 0) => {
    if (!run) return undefined;
    const notes: string[] = [];
    if (run.timedOut) notes.push(`${run.delivered}/${run.events} arrived within the time budget`);
    if (run.requestErrors > 0) notes.push(`${run.requestErrors} request errors`);
    if (inherited > 0) notes.push(`began with up to ${inherited} earlier deliveries queued`);
    return notes.length > 0 ? notes.join(', ') : undefined;
  };

  if (ceiling.single) {
    rows.push({ scenario: '1 ceiling', figure: 'deliveries/s, 1 event/request', value: c1, ceiling: c1, unit: '/s', target: '', met: null, note: incomplete(ceiling.single) });
    rows.push({ scenario: '1 ceiling', figure: 'deliveries/s, 50 events/request', value: c50, ceiling: c50, unit: '/s', target: '', met: null, note: incomplete(ceiling.batch) });
    for (const [which, run] of [['1 event/request', ceiling.single], ['50 events/request', ceiling.batch]] as const) {
      const value = run?.cpuMsPer1000 ?? null;
      rows.push({ scenario: '1 ceiling', figure: `CPU per 1 000 deliveries, ${which}`, value, ceiling: value, unit: 'ms', target: '', met: null });
    }
    for (const [at, run] of [[rate, ceiling.rate], [highRate, ceiling.highRate]] as const) {
      for (const p of ['p50', 'p95', 'p99'] as const) {
        const value = run?.latencyMs[p] ?? null;
        rows.push({ scenario: '1 ceiling', figure: `latency ${p} at ${at}`, value, ceiling: value, unit: 'ms', target: '', met: null, atLeast: (run?.latencyCensored ?? 0) > 0 });
      }
    }
  }
  if (matcher) {
    rows.push({
      scenario: '2 matcher',
      figure: `events/s, ${matcher.automations} automations, 1 core (decide)`,
      value: matcher.eventsPerSecond,
      ceiling: c50,
      unit: '/s',
      target: '≥ 100 000/s',
      met: matcher.automations >= 10_000 ? atLeast(matcher.eventsPerSecond, 100_000) : null,
      note: `${matcher.candidatesPerEvent.toFixed(1)} candidates/event`,
    });
    rows.push({ scenario: '2 matcher', figure: 'time per event p99', value: matcher.latencyUs.p99, ceiling: null, unit: 'µs', target: '', met: null });
  }
  if (matcherExplaining) {
    rows.push({
      scenario: '2 matcher',
      figure: 'events/s with every verdict (evaluate)',
      value: matcherExplaining.eventsPerSecond,
      ceiling: c50,
      unit: '/s',
      target: '',
      met: null,
    });
  }
  /** Scenarios 3–6 of one Herald (`where` names the scaled mode in each figure). */
  const heraldRows = (h: HeraldFigures, where: string): void => {
    if (h.ingest) {
      const ingest = h.ingest;
      const verified = ingest.sentinelDeliveries === ingest.sentinelExpected && ingest.requestErrors === 0;
      rows.push({
        scenario: '3 ingest',
        figure: `events/s stored, ${ingest.batchSize}/request${where}`,
        value: ingest.eventsPerSecond,
        ceiling: c50,
        unit: '/s',
        target: '≥ 20 000/s',
        met: atLeast(ingest.eventsPerSecond, 20_000),
        note:
          (verified ? 'windows verified' : `windows NOT verified: sentinel ${ingest.sentinelDeliveries}/${ingest.sentinelExpected}, ${ingest.requestErrors} errors`) +
          (ingest.events < ingest.eventsPlanned ? `; ${ingest.events}/${ingest.eventsPlanned} events within the time budget` : ''),
      });
      rows.push({ scenario: '3 ingest', figure: `request p99 (${ingest.batchSize} events)${where}`, value: ingest.requestMs.p99, ceiling: null, unit: 'ms', target: '', met: null });
    }
    for (const [which, run, c, inherited] of [['1 event/request', h.single, c1, 0], ['50 events/request', h.batch, c50, h.backlog?.batch]] as const) {
      if (!run) continue;
      rows.push({
        scenario: '4 end to end',
        figure: `deliveries/s, ${which}${where}`,
        value: run.deliveriesPerSecond,
        ceiling: c,
        unit: '/s',
        target: '≥ 0.60 × ceiling',
        met: c === null ? null : run.deliveriesPerSecond >= 0.6 * c,
        note: incomplete(run, inherited),
      });
    }
    for (const [which, run, ceilingRun] of [['1 event/request', h.single, ceiling.single], ['50 events/request', h.batch, ceiling.batch]] as const) {
      if (!run) continue;
      const limit = ceilingRun ? 2 * ceilingRun.cpuMsPer1000 : null;
      rows.push({
        scenario: '4 end to end',
        figure: `CPU per 1 000 deliveries, ${which}${where}`,
        value: run.cpuMsPer1000,
        ceiling: ceilingRun?.cpuMsPer1000 ?? null,
        unit: 'ms',
        target: '≤ 2 × ceiling',
        met: limit === null ? null : run.cpuMsPer1000 <= limit,
      });
    }
    for (const [at, run, ceilingRun, limit, inherited] of [
      [rate, h.rate, ceiling.rate, 15, h.backlog?.rate],
      [highRate, h.highRate, ceiling.highRate, 50, h.backlog?.highRate],
    ] as const) {
      if (!run) continue;
      for (const p of ['p50', 'p95', 'p99'] as const) {
        rows.push({
          scenario: '4 end to end',
          figure: `latency ${p} at ${at}${where}`,
          value: run.latencyMs[p],
          ceiling: ceilingRun?.latencyMs[p] ?? null,
          unit: 'ms',
          target: p === 'p99' ? `≤ ${limit} ms` : '',
          met: p === 'p99' ? run.latencyMs.p99 <= limit && !run.timedOut : null,
          note: p === 'p99' ? incomplete(run, inherited) : undefined,
          atLeast: run.latencyCensored > 0,
        });
      }
    }
    if (h.idleRssMb !== undefined) {
      const full = counts.automations >= 10_000;
      rows.push({
        scenario: '5 memory',
        figure: `RSS idle, ${counts.automations} automations${where}`,
        value: h.idleRssMb,
        ceiling: ceiling.idleRssMb ?? null,
        unit: 'MB',
        target: '≤ 200 MB',
        met: full ? h.idleRssMb <= 200 : null,
      });
    }
    if (h.peakRssMb !== undefined) {
      rows.push({
        scenario: '5 memory',
        figure: `RSS peak during scenario 4${where}`,
        value: h.peakRssMb,
        ceiling: ceiling.peakRssMb ?? null,
        unit: 'MB',
        target: '≤ 200 MB',
        met: counts.automations >= 10_000 ? h.peakRssMb <= 200 : null,
      });
    }
    if (h.startMs !== undefined) {
      rows.push({ scenario: '6 start', figure: `npm start to healthy (builds if the sources changed)${where}`, value: h.startMs, ceiling: ceiling.startMs ?? null, unit: 'ms', target: '', met: null });
    }
    if (h.restartMs !== undefined) {
      rows.push({
        scenario: '6 start',
        figure: `second npm start to healthy, nothing changed${where}`,
        value: h.restartMs,
        ceiling: ceiling.startMs ?? null,
        unit: 'ms',
        target: '≤ 3 000 ms',
        met: h.restartMs <= 3000,
      });
    }
  };
  heraldRows(herald, '');
  if (scaled) heraldRows(scaled, ' (scaled)');
  return rows;
}

/** A fixed-rate scenario's budget: its schedule, then a grace for the last deliveries. */
function rateBudget(events: number, ratePerSecond: number, counts: Counts): number {
  return (events * 1000) / ratePerSecond + counts.rateGraceMs;
}

function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
