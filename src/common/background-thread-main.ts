import { parentPort } from 'node:worker_threads';
import type { JobFailure, JobRun, JobStart } from './background-thread';

/**
 * The background thread's code (background-thread.ts starts it): starts each job it is sent.
 * A job whose start throws is reported and dropped; the thread and its other jobs go on.
 */
parentPort!.on('message', ({ id, file, options, port }: JobStart) => {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require(file) as { run: JobRun<unknown> }).run(options, port);
  } catch (error) {
    port.close();
    const failure: JobFailure = { id, error: error instanceof Error ? error.message : String(error) };
    parentPort!.postMessage(failure);
  }
});
