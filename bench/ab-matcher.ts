/**
 * Interleaved in-process A/B of the matcher scenario between Herald checkouts:
 *
 *   node -r ts-node/register/transpile-only bench/ab-matcher.ts <checkout> <checkout> […]
 *   (ROUNDS (8), N events per round (60 000), MS per round at most (3 000), AUTOMATIONS (10 000))
 *
 * Each checkout's own `bench/matcher.ts` (and so its own `src/`) is loaded into this process;
 * rounds of `runMatcher` in `decide` mode alternate between them, the order reversed every other
 * round. Events per second of CPU time, median and best per checkout, and the fired and
 * non-match totals of each round (the same workload: equal totals mean the same decisions).
 */
import Module from 'node:module';
import { join, resolve } from 'node:path';
import type { MatcherRun, runMatcher as RunMatcher } from './matcher';

function main(): void {
  const roots = process.argv.slice(2).map((root) => resolve(root));
  if (roots.length < 2) throw new Error('usage: bench/ab-matcher.ts <checkout> <checkout> [...]');
  const rounds = Number(process.env.ROUNDS ?? 8);
  const maxEvents = Number(process.env.N ?? 60_000);
  const maxMs = Number(process.env.MS ?? 3_000);
  const automations = Number(process.env.AUTOMATIONS ?? 10_000);
  // A native addon loads once per process: every checkout's `re2` is the first one's (the same package, hard-linked).
  const re2 = require.resolve('re2', { paths: [roots[0]] });
  const resolver = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
  const original = resolver._resolveFilename;
  resolver._resolveFilename = (request, ...rest) => (request === 're2' ? re2 : original(request, ...rest));
  const subjects = roots.map((root) => ({
    root,
    run: (require(join(root, 'bench/matcher.ts')) as { runMatcher: typeof RunMatcher }).runMatcher,
    runs: [] as MatcherRun[],
  }));
  for (let i = 0; i < rounds; i++) {
    for (const subject of i % 2 ? [...subjects].reverse() : subjects) {
      const run = subject.run({ mode: 'decide', automations, maxEvents, maxMs });
      subject.runs.push(run);
      process.stdout.write(`round ${i} ${subject.root}: ${run.eventsPerSecond.toFixed(0)} events/s (${run.events} events, fired ${run.fired}, not fired ${run.notFired})\n`);
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const base = median(subjects[0].runs.map((r) => r.eventsPerSecond));
  for (const { root, runs } of subjects) {
    const rates = runs.map((r) => r.eventsPerSecond);
    const m = median(rates);
    process.stdout.write(`${root}: median ${m.toFixed(0)} events/s, best ${Math.max(...rates).toFixed(0)}, ${(m / base).toFixed(3)}× the first [${rates.map((r) => r.toFixed(0)).join(' ')}]\n`);
  }
}

main();
