import Database from 'better-sqlite3';
import type { MessagePort } from 'node:worker_threads';
import type { JobRun } from '../common/background-thread';

/** What the checkpointer's job is started with. */
export interface CheckpointerOptions {
  /** The database file. */
  file: string;
  intervalMs: number;
}

/**
 * The WAL's length, in frames (pages: 16 MiB at 4 KiB), past which the job asks the main
 * connection to catch up (WalCheckpointer). A PASSIVE checkpoint copies the frames committed
 * before it started; SQLite starts the WAL over only when a write transaction begins with every
 * frame copied, and under sustained writes more are committed while the thread copies, so that
 * never happened: the WAL grew without bound (hundreds of MB in a bench run). A RESTART
 * checkpoint here would take the write lock, and a deferred transaction of the main connection
 * (TypeORM's) that read first then fails at once with SQLITE_BUSY instead of waiting.
 */
export const WAL_RESTART_FRAMES = 4096;

/** What the job answers: a checkpoint that failed, the WAL past WAL_RESTART_FRAMES, or its last checkpoint done. */
export type CheckpointerMessage = { error: string } | 'catch-up' | 'stopped';

/**
 * The WAL checkpointer's job in the background thread (wal-checkpointer.ts attaches it): its
 * own connection to the database file, a PASSIVE checkpoint every interval (it never waits
 * for, nor blocks, the main connection's readers and writers; past WAL_RESTART_FRAMES it asks
 * the main connection to copy the rest) and a last one when asked to stop. `synchronous =
 * NORMAL` on this connection is what makes a checkpoint sync the WAL before and the database
 * file after, as SQLite's automatic ones did.
 */
export const run: JobRun<CheckpointerOptions> = (options: CheckpointerOptions, port: MessagePort) => {
  const db = new Database(options.file, { timeout: 5000 });
  db.pragma('synchronous = NORMAL');
  const answer = (message: CheckpointerMessage) => port.postMessage(message);
  const checkpoint = () => {
    try {
      const [{ log }] = db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
      if (log >= WAL_RESTART_FRAMES) answer('catch-up');
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
    checkpoint();
    close();
    answer('stopped');
  });
};
