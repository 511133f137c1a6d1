import { statSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { MediumContext } from '../../test/support/medium';
import { onPostgres } from '../../test/support/services';
import { BackgroundThread } from '../common/background-thread';
import { HttpSender } from '../delivery/http-executor';
import { SenderThread } from '../delivery/sender-thread';
import { DATABASE_FILE } from './data-source-options';
import { Sql } from './sql';
import { TransactionRunner } from './transaction-runner';
import { SQLITE_DEFAULT_AUTOCHECKPOINT } from './wal-checkpointer';
import { WAL_RESTART_FRAMES } from './wal-checkpointer-main';

const ROW_BYTES = 4000;
/** SQLite's default page size, Herald's. */
const PAGE_BYTES = 4096;

/** Commits `rows` rows of ROW_BYTES each in one transaction. */
async function write(ctx: MediumContext, rows: number, prefix: string): Promise<void> {
  const sql = ctx.get(Sql);
  await ctx.get(TransactionRunner).runHot(async (em) => {
    for (let i = 0; i < rows; i++) {
      await sql.query(em, 'INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)', [`${prefix}-${i}`, 'x'.repeat(ROW_BYTES), 0]);
    }
  });
}

function files(ctx: MediumContext) {
  const file = join(ctx.dataDirectory, DATABASE_FILE);
  return { size: () => statSync(file).size, walSize: () => statSync(`${file}-wal`).size };
}

/**
 * Commits 25 rows every few milliseconds for `ms`: what was written, and the WAL file's largest
 * size meanwhile (the file is reused from its start once the WAL restarts, so its size is its
 * high-water mark).
 */
async function sustain(ctx: MediumContext, ms: number, prefix: string): Promise<{ written: number; largest: number }> {
  const { walSize } = files(ctx);
  let written = 0;
  let largest = 0;
  const until = Date.now() + ms;
  for (let turn = 0; Date.now() < until; turn++) {
    await write(ctx, 25, `${prefix}-${turn}`);
    written += 25 * ROW_BYTES;
    largest = Math.max(largest, walSize());
    await new Promise((r) => setTimeout(r, 2));
  }
  return { written, largest };
}

/**
 * Bounded: the WAL's high-water mark does not follow what was written. Without its restarts
 * the WAL holds everything written, and more (page and frame headers: ~1.06×); with them, a
 * restart's threshold plus what a checkpoint interval or two commit (a quarter of 4 s each).
 */
function expectBounded({ written, largest }: { written: number; largest: number }, thresholdBytes: number): void {
  expect(written).toBeGreaterThan(thresholdBytes);
  expect(largest).toBeLessThan(thresholdBytes + written * 0.7);
}

async function waitFor(condition: () => boolean): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  return condition();
}

/** The id the next worker thread gets: ids count every thread this process started. */
async function nextThreadId(): Promise<number> {
  const probe = new Worker('', { eval: true });
  const id = probe.threadId;
  await probe.terminate();
  return id + 1;
}

/**
 * The embedded database's checkpoints run as WalCheckpointer's job in the background thread
 * (the one the sender's exchanges use, or a thread of its own with HERALD_SENDER_THREAD=off):
 * the main connection's own automatic checkpoints are off, yet what it commits reaches the
 * database file (not only the WAL) within a checkpoint interval or two, and the WAL stays bounded.
 */
(onPostgres ? describe.skip : describe)('WalCheckpointer (medium, SQLite)', () => {
  describe.each(['on', 'off'])('HERALD_SENDER_THREAD=%s', (senderThread) => {
    let ctx: MediumContext;
    beforeAll(async () => {
      ctx = await MediumContext.start({ env: { HERALD_SENDER_THREAD: senderThread } });
    });
    afterAll(() => ctx.close());

    it('copies committed pages into the database file from the background thread', async () => {
      const sql = ctx.get(Sql);
      expect(sql.querySqlite<{ wal_autocheckpoint: number }>('PRAGMA wal_autocheckpoint')).toEqual([{ wal_autocheckpoint: 0 }]);
      const { size, walSize } = files(ctx);
      const before = size();
      // Enough rows that the database file must grow by many pages once they are checkpointed.
      await write(ctx, 200, 'bulk');
      expect(walSize()).toBeGreaterThan(200 * ROW_BYTES);
      expect(await waitFor(() => size() >= before + 200 * ROW_BYTES)).toBe(true);
    });

    it('keeps the WAL bounded under sustained writes', async () => {
      expectBounded(await sustain(ctx, 4000, 'load'), WAL_RESTART_FRAMES * PAGE_BYTES);
    });
  });

  it('runs in the thread the sender uses: the first send starts no thread of its own', async () => {
    const ctx = await MediumContext.start({ env: { HERALD_SENDER_THREAD: 'on' } });
    try {
      const sender = ctx.module.get(HttpSender);
      expect(sender).toBeInstanceOf(SenderThread);
      const before = await nextThreadId();
      // Refused by the SSRF policy (no allowed networks) in the thread: nothing is sent anywhere.
      expect(await sender.send({ url: 'http://127.0.0.1:9/hook', headers: {}, body: '{}' })).toMatchObject({ errorClass: 'refused_address' });
      // Only the probe's own thread was started in between.
      expect(await nextThreadId()).toBe(before + 1);
    } finally {
      await ctx.close();
    }
  });

  it('a thread that dies hands the checkpoints back to the main connection, whose WAL stays bounded', async () => {
    const ctx = await MediumContext.start();
    try {
      const sql = ctx.get(Sql);
      await (ctx.get(BackgroundThread) as unknown as { running: { worker: Worker } }).running.worker.terminate();
      expect(await waitFor(() => sql.querySqlite<{ wal_autocheckpoint: number }>('PRAGMA wal_autocheckpoint')[0].wal_autocheckpoint === SQLITE_DEFAULT_AUTOCHECKPOINT)).toBe(true);
      expect(ctx.logs.some((line) => line.includes('WAL checkpointer stopped'))).toBe(true);
      // SQLite's own checkpoints, in the committing connection: the WAL is reset and reused.
      expectBounded(await sustain(ctx, 4000, 'after'), SQLITE_DEFAULT_AUTOCHECKPOINT * PAGE_BYTES);
    } finally {
      await ctx.close();
    }
  });

  it('on shutdown, a last checkpoint runs before the main connection closes', async () => {
    const ctx = await MediumContext.start();
    const { size } = files(ctx);
    const before = size();
    let sizeAtClose = 0;
    const destroy = ctx.db.destroy.bind(ctx.db);
    ctx.db.destroy = () => {
      sizeAtClose = size();
      return destroy();
    };
    // Within one checkpoint interval of the close: only the last checkpoint copies these.
    await write(ctx, 200, 'last');
    await ctx.close();
    expect(sizeAtClose).toBeGreaterThanOrEqual(before + 200 * ROW_BYTES);
  });
});
