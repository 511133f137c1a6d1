/**
 * Interleaved A/B of the end-to-end scenario between Herald checkouts, for changes whose effect
 * is smaller than the noise between two bench runs minutes apart:
 *
 *   node -r ts-node/register/transpile-only bench/ab.ts <checkout> <checkout> […]
 *   (PER=1|50 events per request, N events per round, ROUNDS, BG background automations;
 *   RATE=500: rounds at that fixed rate of one-event requests instead, comparing latency;
 *   SCALED=1 for the scaled mode: PostgreSQL + Redis, one API and one worker process per
 *   checkout; BUDGET_S per round, 120; PROFILE=<dir>: each checkout's processes under --cpu-prof,
 *   profiles in <dir>/<n>/, the whole run (set-up and warm-up included))
 *
 * Each checkout is started with `npm start` (as bench/run.ts starts it) on its own SQLite
 * database and set up with the bench's webhooks and automations; then rounds of the closed-loop
 * end-to-end scenario alternate between them (order reversed every other round), and each
 * round's CPU per 1 000 deliveries is read from the serving process (/proc). Median per
 * checkout. With RATE, each round also gives its latency p50 / p99 (event sent → delivered),
 * and the medians of those are printed. With SCALED=1 each checkout gets its own schema and
 * queue prefix on the bench's PostgreSQL and Redis (as bench/run.ts's scaled rows), and the CPU
 * is also given per process (API, worker) and, apart from the sum, for the PostgreSQL and Redis
 * servers (`postgres`, `redis-server`: their processes on this machine, whoever used them meanwhile).
 * Each checkout's peak RSS over the whole run (set-up included) closes its line. 127.0.0.1 only, like the rest of the bench.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { onDatabase, scaledServices, setupHerald, startHerald } from './herald';
import { type DeliveryRun, fixedRate, saturate } from './load';
import { serviceCpuMs } from './processes';
import { BenchReceiver } from './receiver';

/** The scaled mode's servers, whose CPU per round is given beside Herald's processes' (not in their sum). */
const SERVICE_PROCESSES = ['postgres', 'redis-server'];

async function main(): Promise<void> {
  const roots = process.argv.slice(2);
  if (roots.length < 2) throw new Error('usage: bench/ab.ts <checkout> <checkout> [...]');
  const events = Number(process.env.N ?? 4000);
  const rounds = Number(process.env.ROUNDS ?? 6);
  const perRequest = Number(process.env.PER ?? 1);
  const background = Number(process.env.BG ?? 0);
  const rate = process.env.RATE ? Number(process.env.RATE) : null;
  const budgetMs = Number(process.env.BUDGET_S ?? 120) * 1000;
  const services = process.env.SCALED === '1' ? scaledServices() : null;
  const schemas: string[] = [];
  const receiver = await BenchReceiver.start();
  type Subject = {
    root: string;
    herald: Awaited<ReturnType<typeof startHerald>>;
    cpu: number[];
    rate: number[];
    p50: number[];
    p99: number[];
    byProcess: Record<string, number[]>;
  };
  const subjects: Subject[] = [];
  try {
    for (const root of roots) {
      let scaled: Parameters<typeof startHerald>[1] = {};
      if (services) {
        const schema = `herald_ab_${randomBytes(4).toString('hex')}`;
        await onDatabase(services.databaseUrl, `CREATE SCHEMA "${schema}"`);
        schemas.push(schema);
        scaled = { scaled: { ...services, schema, workers: 1 } };
      }
      const profileDir = process.env.PROFILE ? join(process.env.PROFILE, String(subjects.length)) : undefined;
      const herald = await startHerald(root, { ...scaled, profileDir });
      await setupHerald(herald.client, receiver, background, `/${subjects.length}`);
      subjects.push({ root, herald, cpu: [], rate: [], p50: [], p99: [], byProcess: {} });
    }
    const round = async (subject: Subject, count: number) => {
      const before = subject.herald.processes.cpuMs();
      const beforeByName = subject.herald.processes.cpuMsByName();
      const servicesBefore = services ? SERVICE_PROCESSES.map((name) => serviceCpuMs([name])) : [];
      const common = { client: subject.herald.client, receiver, path: `/${subjects.indexOf(subject)}/e2e`, events: count, budgetMs };
      const run: DeliveryRun =
        rate === null
          ? await saturate({ ...common, tag: perRequest === 1 ? 'single' : 'batch', perRequest, inFlight: 32 })
          : await fixedRate({ ...common, tag: 'rate', ratePerSecond: rate });
      // At a fixed rate an overloaded server may refuse a request: a figure of the round, not a failure of the comparison.
      if (run.timedOut || (rate === null && run.requestErrors > 0)) {
        const output = subject.herald.processes.members.map((p) => `--- ${p.name}\n${p.recentOutput()}`).join('\n');
        throw new Error(`${subject.root}: ${run.delivered}/${count} delivered, ${run.requestErrors} request errors ${JSON.stringify(run.errorSamples)}\n${output}`);
      }
      const cpu = ((subject.herald.processes.cpuMs() - before) * 1000) / run.delivered;
      const afterByName = subject.herald.processes.cpuMsByName();
      const byName = Object.fromEntries(Object.entries(afterByName).map(([name, ms]) => [name, ((ms - beforeByName[name]) * 1000) / run.delivered]));
      SERVICE_PROCESSES.forEach((name, i) => {
        if (services) byName[name] = ((serviceCpuMs([name]) - servicesBefore[i]) * 1000) / run.delivered;
      });
      process.stderr.write(
        `${subject.root}: ${cpu.toFixed(0)} ms CPU per 1 000, ${run.deliveriesPerSecond.toFixed(0)}/s, p50 ${run.latencyMs.p50.toFixed(1)} p99 ${run.latencyMs.p99.toFixed(1)} ms${run.requestErrors ? `, ${run.requestErrors} request errors (${run.errorSamples[0]})` : ''}\n`,
      );
      return { cpu, perSecond: run.deliveriesPerSecond, latency: run.latencyMs, byName };
    };
    for (const subject of subjects) await round(subject, 2000); // warm-up
    for (let i = 0; i < rounds; i++) {
      for (const subject of i % 2 ? [...subjects].reverse() : subjects) {
        const { cpu, perSecond, latency, byName } = await round(subject, events);
        subject.cpu.push(cpu);
        subject.rate.push(perSecond);
        subject.p50.push(latency.p50);
        subject.p99.push(latency.p99);
        for (const [name, ms] of Object.entries(byName)) (subject.byProcess[name] ??= []).push(ms);
      }
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    const list = (values: number[], digits = 0) => `[${values.map((v) => v.toFixed(digits)).join(' ')}]`;
    for (const { root, herald, cpu, rate: perSecond, p50, p99, byProcess } of subjects) {
      const mode = rate === null ? `${perRequest}/request` : `${rate} events/s`;
      const parts = Object.keys(byProcess).length > 1 ? ` (${Object.entries(byProcess).map(([name, ms]) => `${name} ${median(ms).toFixed(0)} ${list(ms)}`).join('; ')})` : '';
      const latency = rate === null ? '' : `; latency p50 median ${median(p50).toFixed(1)} ms, p99 median ${median(p99).toFixed(1)} ms ${list(p99, 1)}`;
      process.stdout.write(
        `${root} (${mode}): CPU per 1 000 deliveries median ${median(cpu).toFixed(0)} ms ${list(cpu)}${parts}; deliveries/s median ${median(perSecond).toFixed(0)}${latency}; peak RSS ${herald.processes.memory().peakRssMb.toFixed(0)} MB\n`,
      );
    }
  } finally {
    for (const { herald } of subjects) await herald.processes.stop(process.env.PROFILE ? 120_000 : undefined);
    await receiver.close();
    for (const schema of schemas) await onDatabase(services!.databaseUrl, `DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`ab failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
