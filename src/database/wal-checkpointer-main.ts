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
 * The WAL's length, in frames (pages: 16 MiB at 4 KiB), past which a checkpoint also restarts
 * it. A PASSIVE checkpoint copies the frames committed before it started; under sustained writes
 * more are committed meanwhile, so it never finds the WAL wholly copied when the next write
 * transaction begins, and only then does SQLite start the WAL over: the file grew without
 * bound (hundreds of MB in a bench run). A RESTART checkpoint takes the write lock — the main
 * connection's writers wait on it (busy timeout) while it copies what the PASSIVE one left,
 * a few frames, and syncs — so the next writer starts the WAL over.
 */
export const WAL_RESTART_FRAMES = 4096;

/** What the job answers: a checkpoint that failed, or its last checkpoint done. */
export type CheckpointerMessage = { error: string } | 'stopped';

/**
 * The WAL checkpointer's job in the background thread (wal-checkpointer.ts attaches it): its
 * own connection to the database file, a PASSIVE checkpoint every interval (it never waits
 * for, nor blocks, the main connection's readers and writers; a RESTART one too when the WAL
 * grew past WAL_RESTART_FRAMES) and a last one when asked to stop. `synchronous = NORMAL` on this connection is what makes a checkpoint sync the WAL
 * before and the database file after, as SQLite's automatic ones did.
 */
export const run: JobRun<CheckpointerOptions> = (options: CheckpointerOptions, port: MessagePort) => {
  const db = new Database(options.file, { timeout: 5000 });
  db.pragma('synchronous = NORMAL');
  const answer = (message: CheckpointerMessage) => port.postMessage(message);
  const checkpoint = () => {
    try {
      const [{ log }] = db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
      if (log >= WAL_RESTART_FRAMES) db.pragma('wal_checkpoint(RESTART)');
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
