import { extname, join } from 'node:path';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';

/**
 * The thread's young generation, in MB (V8's default is sized for a main thread: 16 MB
 * semi-spaces), when node's command line sets none. A command-line --max-semi-space-size
 * (`npm start`'s 4) sizes every isolate, this one too, over resourceLimits: 8 MB then. Making
 * the thread honour 3 or 6 MB there saved 4–6 MB of RSS for 7–13 % more CPU measured alone and
 * 25 % in the app (6 MB): not kept (docs/performance.md › Memory, sixth round).
 */
const THREAD_YOUNG_GENERATION_MB = 3;

/** What the thread is asked to start: `run(options, port)` of the module at `file`. */
export interface JobStart {
  id: number;
  /** A module path without its extension: dist/ runs the compiled .js, the test suites the sources through ts-node. */
  file: string;
  options: unknown;
  port: MessagePort;
}

/** The thread's word that a job's `run` threw: the job is gone, the thread and its other jobs go on. */
export interface JobFailure {
  id: number;
  error: string;
}

/** A job's exported entry point, called in the thread with its options and its end of the channel. */
export type JobRun<Options> = (options: Options, port: MessagePort) => void;

/** A job as its owner holds it. */
export interface ThreadJob {
  /** The owner's end of the job's channel: ref'd, it keeps the process alive (the thread itself never does). */
  port: MessagePort;
  /** Ends the job (its end of the channel closes in the thread); the thread stops after its last job. */
  detach(): Promise<void>;
}

interface Attached {
  port: MessagePort;
  ended: (error: Error | undefined) => void;
}

interface Running {
  worker: Worker;
  jobs: Map<number, Attached>;
  error?: Error;
}

/**
 * The process's one worker thread (docs/design.md › Delivery, Sender thread; › Embedded
 * database): what runs off the main thread — the sender's HTTP exchanges, the WAL checkpoints —
 * runs here as jobs, each the code of its owner's module with a channel of its own, so they
 * share one Node environment (~10 MB of RSS each thread would cost, docs/performance.md ›
 * Seventh round). The thread starts with the first job and stops after the last one detached.
 * A thread that fails (or is stopped) ends every job with it; each owner decides what follows
 * (the sender attaches again at its next send, the checkpointer hands checkpoints back to
 * SQLite), and the next attach starts a new thread. The thread never keeps the process alive:
 * a job's owner refs its port while it waits for an answer.
 */
export class BackgroundThread {
  private running: Running | null = null;
  private nextId = 1;

  /** Starts a job in the thread (the thread too, if none runs); `ended` is called if the thread or the job's start fails first. */
  attach(file: string, options: unknown, ended: (error: Error | undefined) => void): ThreadJob {
    const running = this.running ?? this.start();
    const id = this.nextId++;
    const { port1, port2 } = new MessageChannel();
    running.jobs.set(id, { port: port1, ended });
    const start: JobStart = { id, file, options, port: port2 };
    running.worker.postMessage(start, [port2]);
    return { port: port1, detach: () => this.detach(running, id) };
  }

  private async detach(running: Running, id: number): Promise<void> {
    const job = running.jobs.get(id);
    if (!job) return;
    running.jobs.delete(id);
    job.port.close();
    if (running.jobs.size > 0 || this.running !== running) return;
    this.running = null;
    await running.worker.terminate();
  }

  private start(): Running {
    const ext = extname(__filename);
    const worker = new Worker(join(__dirname, `background-thread-main${ext}`), {
      execArgv: ext === '.ts' ? ['-r', 'ts-node/register/transpile-only'] : [],
      // Its live objects are few (sockets, the requests in flight): a small young generation
      // keeps its share of the process's memory small. The old generation is left unbounded: a
      // thread that ran out of memory would fail every send in flight again and again.
      resourceLimits: { maxYoungGenerationSizeMb: THREAD_YOUNG_GENERATION_MB },
    });
    const running: Running = { worker, jobs: new Map() };
    worker.on('message', (failure: JobFailure) => {
      const job = running.jobs.get(failure.id);
      if (!job) return;
      running.jobs.delete(failure.id);
      job.port.close();
      job.ended(new Error(failure.error));
    });
    worker.on('error', (error) => (running.error = error));
    worker.on('exit', () => {
      if (this.running === running) this.running = null;
      const jobs = [...running.jobs.values()];
      running.jobs.clear();
      for (const job of jobs) {
        job.port.close();
        job.ended(running.error);
      }
    });
    worker.unref();
    this.running = running;
    return running;
  }
}
