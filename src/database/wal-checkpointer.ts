import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { BackgroundThread, type ThreadJob } from '../common/background-thread';
import { Sql } from './sql';
import type { CheckpointerMessage, CheckpointerOptions } from './wal-checkpointer-main';

/** SQLite's own wal_autocheckpoint (pages), restored should the checkpointer's thread fail. */
export const SQLITE_DEFAULT_AUTOCHECKPOINT = 1000;

/** How many event-loop turns the main connection's catch-up waits for a moment between transactions (then the next interval asks again). */
const CATCH_UP_TURNS = 100;

/** How often the checkpointer copies the WAL's committed pages into the database file. */
export const CHECKPOINT_INTERVAL_MS = 1000;

/**
 * Embedded mode: WAL checkpoints off the main thread. SQLite's automatic checkpoint runs in the
 * committing connection, so every thousandth page or so a COMMIT on Herald's one thread copied
 * the WAL into the database file and waited for its fsync — milliseconds in which no request
 * was served. The main connection's automatic checkpoints are turned off (data-source-options)
 * and a job in the background thread (wal-checkpointer-main.ts; the thread the sender's
 * exchanges share, so one Node environment for both) checkpoints instead, every second, with
 * its own connection. The WAL stays bounded: once a checkpoint has copied every frame, the next
 * writer starts the WAL over (past WAL_RESTART_FRAMES the main connection copies the last
 * frames itself, catchUp), and `journal_size_limit` truncates what it grew to. Durability is
 * unchanged: a commit is durable against a process crash once written to the WAL, as before.
 * Should the thread fail, the main connection checkpoints again as SQLite does by default.
 */
@Injectable()
export class WalCheckpointer implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Database');
  private job: ThreadJob | null = null;
  /** While the last checkpoint runs: called when it is done or the thread ended. */
  private stopped: (() => void) | null = null;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly sql: Sql,
    private readonly thread: BackgroundThread,
  ) {}

  onModuleInit(): void {
    const options = this.dataSource.options;
    if (options.type !== 'better-sqlite3' || options.database === ':memory:') return;
    const checkpointer: CheckpointerOptions = { file: options.database, intervalMs: CHECKPOINT_INTERVAL_MS };
    const job = this.thread.attach(join(__dirname, 'wal-checkpointer-main'), checkpointer, (error) => this.ended(error));
    job.port.on('message', (message: CheckpointerMessage) => {
      if (message === 'stopped') this.stopped?.();
      else if (message === 'catch-up') this.catchUp();
      else this.logger.warn(`WAL checkpoint failed: ${message.error}`);
    });
    // Never keeps the process alive on its own.
    job.port.unref();
    this.job = job;
  }

  /** After the last write: a final checkpoint, then the job's connection closes (before the main one: TypeORM's module shuts down after this one). */
  async onApplicationShutdown(): Promise<void> {
    const job = this.job;
    if (!job) return;
    this.job = null;
    // Held while it finishes: an unref'd port would let the process exit mid-shutdown.
    job.port.ref();
    await new Promise<void>((resolve) => {
      this.stopped = resolve;
      job.port.postMessage('stop');
    });
    this.stopped = null;
    await job.detach();
  }

  /**
   * The WAL passed WAL_RESTART_FRAMES: the main connection copies what the thread's checkpoint
   * left — the frames committed while it ran, a few — between two of its transactions, so that
   * every frame is copied when the next one begins and SQLite starts the WAL over. A PASSIVE
   * checkpoint never waits for a lock; this one syncs the WAL and the database file on this
   * thread (SQLite's automatic checkpoints did that every 1 000 pages, for the whole WAL).
   */
  private catchUp(turns = 0): void {
    if (!this.job) return;
    if (this.sql.inSqliteTransaction()) {
      // A unit of work is open across an await: after it (it never spans many turns).
      if (turns < CATCH_UP_TURNS) setImmediate(() => this.catchUp(turns + 1));
      return;
    }
    try {
      this.sql.querySqlite('PRAGMA wal_checkpoint(PASSIVE)');
    } catch (error) {
      this.logger.warn(`WAL checkpoint failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** The thread failed or stopped (or the job could not start). */
  private ended(error: Error | undefined): void {
    if (!this.job) return this.stopped?.();
    this.job = null;
    // Never leave the WAL to grow: the main connection checkpoints again, as SQLite does by default.
    this.logger.error(`WAL checkpointer stopped (${error?.message ?? 'its thread stopped'}); the main connection checkpoints again`);
    this.sql.querySqlite(`PRAGMA wal_autocheckpoint = ${SQLITE_DEFAULT_AUTOCHECKPOINT}`);
  }
}
