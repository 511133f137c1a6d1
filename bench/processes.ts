import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { sleep } from './stats';

/**
 * A server the bench starts as a child process in its own process group (so `npm start`'s
 * children stop with it), with the resident memory of the process that actually serves.
 */
/** Every child still running, so an interrupted bench stops them too (they run in their own process groups). */
const running = new Set<ServerProcess>();

function killAll(): void {
  for (const server of running) server.kill();
}
process.once('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    killAll();
    process.exit(130);
  });
}

/** USER_HZ: Linux reports process times in 1/100 s on every platform Node supports. */
const CLOCK_TICKS_PER_SECOND = 100;

export class ServerProcess {
  private readonly output: string[] = [];
  private exited = false;
  /** How the process ended, once it has: `code 1`, `signal SIGKILL`. */
  exitStatus: string | null = null;
  /** The pid of the serving process (for `npm start`, the node grandchild running dist/main.js). */
  servingPid: number | null = null;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    const keep = (chunk: Buffer): void => {
      this.output.push(chunk.toString());
      if (this.output.length > 200) this.output.splice(0, this.output.length - 200);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    running.add(this);
    child.once('exit', (code, signal) => {
      this.exited = true;
      this.exitStatus = signal ? `signal ${signal}` : `code ${code}`;
      running.delete(this);
    });
  }

  static spawn(name: string, command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): ServerProcess {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    return new ServerProcess(name, child);
  }

  /** Whether the serving process is gone (npm's own process may outlive it only briefly). */
  hasEnded(): boolean {
    if (this.exited) return true;
    if (this.servingPid === null) return false;
    try {
      process.kill(this.servingPid, 0);
      return false;
    } catch {
      return true;
    }
  }

  get pid(): number {
    return this.child.pid!;
  }

  recentOutput(): string {
    return this.output.join('').slice(-4000);
  }

  /** Waits until `ready` holds; fails if the process exits or `timeoutMs` passes. */
  async waitUntil(what: string, ready: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.exited) throw new Error(`${this.name} exited before ${what}; output:\n${this.recentOutput()}`);
      if (await ready().catch(() => false)) return;
      if (Date.now() > deadline) throw new Error(`${this.name}: timed out waiting for ${what}; output:\n${this.recentOutput()}`);
      await sleep(100);
    }
  }

  /** A line of the process's output matching `pattern` (waits for it). */
  async waitForOutput(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    let match: RegExpMatchArray | null = null;
    await this.waitUntil(`output matching ${pattern}`, async () => (match = this.output.join('').match(pattern)) !== null, timeoutMs);
    return match!;
  }

  /** Finds the node process (the child itself or a descendant) whose command line contains `marker`. */
  findServingProcess(marker: string): number {
    const parents = new Map<number, number>();
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        // The command name is in parentheses and may hold spaces; the ppid is the 2nd field after it.
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        parents.set(Number(entry), ppid);
      } catch {
        // The process ended meanwhile.
      }
    }
    const isDescendant = (pid: number): boolean => {
      for (let p: number | undefined = pid, depth = 0; p !== undefined && p > 1 && depth < 16; p = parents.get(p), depth++) {
        if (p === this.pid) return true;
      }
      return false;
    };
    for (const pid of parents.keys()) {
      if (!isDescendant(pid)) continue;
      try {
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        // Not the `sh -c "node scripts/build.js && node dist/main.js"` npm runs the script in: node itself.
        const isNode = /(^|\/)node[^/]*$/.test(argv[0]) || argv[0] === process.execPath;
        if (isNode && argv.some((arg) => arg.includes(marker))) {
          this.servingPid = pid;
          return pid;
        }
      } catch {
        // Gone.
      }
    }
    throw new Error(`${this.name}: no process running ${marker} under pid ${this.pid}`);
  }

  /** Resident set size and its high-water mark of the serving process, in MiB. */
  memory(): { rssMb: number; peakRssMb: number } {
    const status = readFileSync(`/proc/${this.servingPid ?? this.pid}/status`, 'utf8');
    const kb = (field: string): number => Number(status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'))?.[1] ?? Number.NaN);
    return { rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 };
  }

  /** CPU time (user + system) the serving process has used so far, in ms (10 ms resolution on Linux). */
  cpuMs(): number {
    // Fields after the command name, which is in parentheses and may hold spaces: state is field 3, utime 14, stime 15.
    const stat = readFileSync(`/proc/${this.servingPid ?? this.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  }

  /** At once and without waiting: SIGKILL to the group and the serving process (an interrupted bench). */
  kill(): void {
    for (const pid of [-this.pid, this.servingPid]) {
      if (pid === null) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
  }

  /** SIGTERM to the whole group (a graceful stop, which also writes --cpu-prof profiles), SIGKILL after `graceMs`. */
  async stop(graceMs = 20_000): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    // Signal the serving process first so it can finish its shutdown hooks, then the group.
    const signal = (sig: NodeJS.Signals, pid: number): void => {
      try {
        process.kill(pid, sig);
      } catch {
        // Already gone.
      }
    };
    if (this.servingPid !== null && this.servingPid !== this.pid) signal('SIGTERM', this.servingPid);
    signal('SIGTERM', -this.pid);
    const killed = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
    if (!killed) {
      signal('SIGKILL', -this.pid);
      await exited;
    }
    // npm may exit before its child: wait for the serving process too.
    for (let i = 0; i < 100 && this.servingPid !== null && alive(this.servingPid); i++) await sleep(100);
  }
}

/**
 * CPU time (user + system, with that of reaped children) used so far by every process whose
 * command name is in `names`, in ms: the scaled mode's PostgreSQL backends and Redis, which
 * share the machine's cores with Herald but are not its processes. Machine-wide: whatever
 * else uses the same servers meanwhile counts too.
 */
export function serviceCpuMs(names: readonly string[]): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (!names.includes(stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')))) continue;
      // utime, stime, cutime, cstime: fields 14–17 (the postmaster's cutime holds its exited backends).
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += fields.slice(11, 15).reduce((sum, ticks) => sum + Number(ticks), 0);
    } catch {
      // The process ended meanwhile.
    }
  }
  return (total * 1000) / CLOCK_TICKS_PER_SECOND;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Herald's processes measured together (the scaled mode's API and worker processes; the
 * embedded mode's one): CPU time and RSS summed over every member, ended when any member is.
 */
export class ProcessGroup {
  constructor(readonly members: ServerProcess[]) {}

  /** The sum of every member's CPU time so far, in ms. */
  cpuMs(): number {
    return this.members.reduce((sum, p) => sum + p.cpuMs(), 0);
  }

  /** The sum of every member's RSS (and of their high-water marks), in MiB. */
  memory(): { rssMb: number; peakRssMb: number } {
    let rssMb = 0;
    let peakRssMb = 0;
    for (const p of this.members) {
      const m = p.memory();
      rssMb += m.rssMb;
      peakRssMb += m.peakRssMb;
    }
    return { rssMb, peakRssMb };
  }

  /** Each member's RSS in MiB, by name. */
  memoryByName(): Record<string, number> {
    return Object.fromEntries(this.members.map((p) => [p.name, Math.round(p.memory().rssMb)]));
  }

  /** Samples the summed RSS every `everyMs` until the returned function is called, which gives the largest sum. */
  sampleRss(everyMs = 100): () => number {
    let peak = this.memory().rssMb;
    const sample = (): void => {
      try {
        peak = Math.max(peak, this.memory().rssMb);
      } catch {
        // A member ended.
      }
    };
    const timer = setInterval(sample, everyMs);
    return () => {
      clearInterval(timer);
      sample();
      return peak;
    };
  }

  hasEnded(): boolean {
    return this.members.some((p) => p.hasEnded());
  }

  /** The first member that ended, how, and the end of its output. */
  ended(): { name: string; status: string; output: string } | null {
    const member = this.members.find((p) => p.hasEnded());
    return member ? { name: member.name, status: member.exitStatus ?? 'ended', output: member.recentOutput() } : null;
  }

  /** Each member's CPU time so far, in ms, by name. */
  cpuMsByName(): Record<string, number> {
    return Object.fromEntries(this.members.map((p) => [p.name, p.cpuMs()]));
  }

  /**
   * Stops the members together (SIGTERM, SIGKILL after `graceMs`): each writes its --cpu-prof
   * profile on the way out, which a loaded machine can make slow.
   */
  async stop(graceMs?: number): Promise<void> {
    await Promise.all(this.members.map((p) => p.stop(graceMs)));
  }
}
