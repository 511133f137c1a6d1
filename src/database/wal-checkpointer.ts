import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Worker } from 'node:worker_threads';
import type { DataSource } from 'typeorm';
import { Sql } from './sql';

/** SQLite's own wal_autocheckpoint (pages), restored should the checkpointer thread fail. */
const SQLITE_DEFAULT_AUTOCHECKPOINT = 1000;

/** How often the checkpointer copies the WAL's committed pages into the database file. */
export const CHECKPOINT_INTERVAL_MS = 1000;

/**
 * The thread's code: its own connection to the database file, a PASSIVE checkpoint every
 * interval (it never waits for, nor blocks, the main connection's readers and writers) and
 * a last one when asked to stop. `synchronous = NORMAL` on this connection is what makes a
 * checkpoint sync the WAL before and the database file after, as SQLite's automatic ones did.
 */
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { timeout: 5000 });
db.pragma('synchronous = NORMAL');
const checkpoint = () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message || error) });
  }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.postMessage('stopped');
});
`;

/**
 * Embedded mode: WAL checkpoints off the main thread. SQLite's automatic checkpoint runs in the
 * committing connection, so every thousandth page or so a COMMIT on Herald's one thread copied
 * the WAL into the database file and waited for its fsync — milliseconds in which no request
 * was served. The main connection's automatic checkpoints are turned off (data-source-options)
 * and this worker thread checkpoints instead, every second, with its own connection. The WAL
 * stays bounded: once a checkpoint has copied every frame, the next writer starts the WAL over,
 * and `journal_size_limit` truncates what it grew to. Durability is unchanged: a commit is
 * durable against a process crash once written to the WAL, as before.
 */
@Injectable()
export class WalCheckpointer implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Database');
  private worker: Worker | null = null;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly sql: Sql,
  ) {}

  onModuleInit(): void {
    const options = this.dataSource.options;
    if (options.type !== 'better-sqlite3' || options.database === ':memory:') return;
    this.worker = new Worker(THREAD, {
      eval: true,
      workerData: { driver: require.resolve('better-sqlite3'), file: options.database, intervalMs: CHECKPOINT_INTERVAL_MS },
    });
    this.worker.on('message', (message: unknown) => {
      if (typeof message === 'object' && message !== null && 'error' in message) this.logger.warn(`WAL checkpoint failed: ${(message as { error: string }).error}`);
    });
    this.worker.on('error', (error) => {
      // Never leave the WAL to grow: the main connection checkpoints again, as SQLite does by default.
      this.logger.error(`WAL checkpointer stopped (${error.message}); the main connection checkpoints again`);
      this.worker = null;
      this.sql.querySqlite(`PRAGMA wal_autocheckpoint = ${SQLITE_DEFAULT_AUTOCHECKPOINT}`);
    });
    // Never keeps the process alive on its own.
    this.worker.unref();
  }

  /** After the last write: a final checkpoint, then the thread's connection closes. */
  async onApplicationShutdown(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = null;
    // Held while it finishes: an unref'd thread would let the process exit mid-shutdown.
    worker.ref();
    await new Promise<void>((resolve) => {
      worker.on('message', (message) => message === 'stopped' && resolve());
      worker.once('exit', () => resolve());
      worker.once('error', () => resolve());
      worker.postMessage('stop');
    });
    await worker.terminate();
  }
}
