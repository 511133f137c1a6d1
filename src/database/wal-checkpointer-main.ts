import Database from 'better-sqlite3';
import type { MessagePort } from 'node:worker_threads';
import type { JobRun } from '../common/background-thread';

/** What the checkpointer's job is started with. */
export interface CheckpointerOptions {
  /** The database file. */
  file: string;
  intervalMs: number;
}

/** What the job answers: a checkpoint that failed, or its last checkpoint done. */
export type CheckpointerMessage = { error: string } | 'stopped';

/**
 * The WAL checkpointer's job in the background thread (wal-checkpointer.ts attaches it): its
 * own connection to the database file, a PASSIVE checkpoint every interval (it never waits
 * for, nor blocks, the main connection's readers and writers) and a last one when asked to
 * stop. `synchronous = NORMAL` on this connection is what makes a checkpoint sync the WAL
 * before and the database file after, as SQLite's automatic ones did.
 */
export const run: JobRun<CheckpointerOptions> = (options: CheckpointerOptions, port: MessagePort) => {
  const db = new Database(options.file, { timeout: 5000 });
  db.pragma('synchronous = NORMAL');
  const answer = (message: CheckpointerMessage) => port.postMessage(message);
  const checkpoint = () => {
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
    } catch (error) {
      answer({ error: error instanceof Error ? error.message : String(error) });
    }
  };
  const timer = setInterval(checkpoint, options.intervalMs);
  const close = () => {
    clearInterval(timer);
    if (db.open) db.close();
  };
  port.on('close', close);
  port.on('message', (message: unknown) => {
    if (message !== 'stop') return;
    clearInterval(timer);
    checkpoint();
    close();
    answer('stopped');
  });
};
