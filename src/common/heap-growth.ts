import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the old generation grow past what survived its last full collection before
 * it collects again, in percent. V8's own factor (up to 4× on a fast machine) let a process
 * with ~60 MB of live objects hold 200 MB of old space under load, and as much again of
 * garbage from loading 10 000 automations; 20 % keeps the heap near its live size
 * (docs/performance.md › Memory). It is a growth rule, not a cap: a process that needs more
 * memory still gets it, it only collects more often on the way.
 */
export const HEAP_GROWING_PERCENT = 20;

/**
 * Applies HEAP_GROWING_PERCENT unless node was started with its own
 * `--heap-growing-percent` (V8 refuses it in NODE_OPTIONS, so only the command line can set
 * it). V8 reads the flag at every heap-limit computation, so setting it once the process runs
 * takes effect from the next collection.
 */
export function boundHeapGrowth(execArgv: readonly string[] = process.execArgv, setFlags: (flags: string) => void = setFlagsFromString): void {
  if (execArgv.some((arg) => /^--heap[-_]growing[-_]percent(=|$)/.test(arg))) return;
  setFlags(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
