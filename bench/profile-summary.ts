import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';

/**
 * Prints the functions with the most self time in a V8 CPU profile (`node --cpu-prof`), and
 * the total time by module (Herald's src/ folders, each node_modules package, Node internals).
 *
 *   node -r ts-node/register/transpile-only bench/profile-summary.ts <file.cpuprofile> [--top=25]
 *        [--results=bench/results/latest.json --window=<scenario name prefix>]
 *
 * With --window, only the samples taken while that scenario ran count: the bench records each
 * scenario's start and end on the monotonic clock V8's profiler uses.
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const ROOT = resolve(__dirname, '..');

function shortUrl(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  if (path === '') return '';
  const modules = path.lastIndexOf('node_modules/');
  if (modules >= 0) return path.slice(modules + 'node_modules/'.length);
  if (path.startsWith('node:')) return path;
  return path.startsWith('/') ? relative(ROOT, path) : path;
}

/** The module a frame belongs to: `src/<folder>`, a package name, `node internals`, or a V8 category. */
function moduleOf(url: string, functionName: string): string {
  const path = shortUrl(url);
  if (path === '') return `(${functionName || 'anonymous'})`.replace(/^\(\((.*)\)\)$/, '($1)');
  if (path.startsWith('node:')) return 'node internals';
  const dist = path.match(/^(?:dist|src)\/([^/]+)/);
  if (dist) return `src/${dist[1].replace(/\.js$|\.ts$/, '')}`;
  if (url.includes('node_modules/')) {
    const parts = path.split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  return path;
}

function main(): void {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--'));
  if (!file) throw new Error('usage: profile-summary.ts <file.cpuprofile> [--top=N] [--results=<bench json> --window=<scenario>]');
  const top = Number(args.find((a) => a.startsWith('--top='))?.slice(6) ?? 25);
  const windowName = args.find((a) => a.startsWith('--window='))?.slice(9);
  const resultsFile = args.find((a) => a.startsWith('--results='))?.slice(10) ?? resolve(ROOT, 'bench/results/latest.json');
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;

  let from = -Infinity;
  let to = Infinity;
  if (windowName) {
    const results = JSON.parse(readFileSync(resultsFile, 'utf8')) as { windows: { scenario: string; startUs: number; endUs: number }[] };
    const window = results.windows.find((w) => w.scenario.startsWith(windowName));
    if (!window) throw new Error(`No scenario starting with "${windowName}" in ${resultsFile}: ${results.windows.map((w) => w.scenario).join(', ')}`);
    from = window.startUs;
    to = window.endUs;
  }

  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  let t = profile.startTime;
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i];
    const delta = profile.timeDeltas[i + 1] ?? 0;
    if (t < from || t > to) continue;
    selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + delta);
    total += delta;
  }
  if (total === 0) throw new Error('No samples in that window (was the profile taken during this bench run?)');

  const byFunction = new Map<string, number>();
  const byModule = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const { callFrame } = nodes.get(id)!;
    const name = callFrame.functionName || '(anonymous)';
    const where = shortUrl(callFrame.url);
    const key = where ? `${name}  ${where}:${callFrame.lineNumber + 1}` : name;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    const module = moduleOf(callFrame.url, callFrame.functionName);
    byModule.set(module, (byModule.get(module) ?? 0) + us);
  }
  const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)} %`;
  const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
  process.stdout.write(`${file}${windowName ? `, window "${windowName}"` : ''}: ${(total / 1e6).toFixed(2)} s sampled\n\n`);
  process.stdout.write(`Top ${top} functions by self time:\n`);
  for (const [key, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${pct(us)} ${ms(us)}  ${key}\n`);
  process.stdout.write(`\nSelf time by module:\n`);
  for (const [key, us] of [...byModule].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${pct(us)} ${ms(us)}  ${key}\n`);
}

main();
