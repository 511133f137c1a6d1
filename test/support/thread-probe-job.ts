import { type MessagePort, threadId } from 'node:worker_threads';
import type { JobRun } from '../../src/common/background-thread';

export interface ProbeOptions {
  name: string;
  /** Throws from `run`, as a job that cannot start does. */
  failAtStart?: boolean;
}

/**
 * A job for BackgroundThread's spec: answers each message with its name and the thread it runs
 * on; 'crash' throws outside any handler, which fails the whole thread.
 */
export const run: JobRun<ProbeOptions> = (options: ProbeOptions, port: MessagePort) => {
  if (options.failAtStart) throw new Error(`${options.name} cannot start`);
  port.on('message', (message: unknown) => {
    if (message === 'crash') {
      setImmediate(() => {
        throw new Error('the thread crashed');
      });
      return;
    }
    port.postMessage({ name: options.name, threadId });
  });
};
