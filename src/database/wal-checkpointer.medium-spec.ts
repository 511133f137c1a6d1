import { statSync } from 'node:fs';
import { join } from 'node:path';
import { MediumContext } from '../../test/support/medium';
import { onPostgres } from '../../test/support/services';
import { DATABASE_FILE } from './data-source-options';
import { Sql } from './sql';
import { TransactionRunner } from './transaction-runner';

/**
 * The embedded database's checkpoints run on WalCheckpointer's thread: the main connection's
 * own automatic checkpoints are off, yet what it commits reaches the database file (not only
 * the WAL) within a checkpoint interval or two.
 */
(onPostgres ? describe.skip : describe)('WalCheckpointer (medium, SQLite)', () => {
  let ctx: MediumContext;
  beforeAll(async () => {
    ctx = await MediumContext.start();
  });
  afterAll(() => ctx.close());

  it('copies committed pages into the database file from its own thread', async () => {
    const sql = ctx.get(Sql);
    expect(sql.querySqlite<{ wal_autocheckpoint: number }>('PRAGMA wal_autocheckpoint')).toEqual([{ wal_autocheckpoint: 0 }]);
    const file = join(ctx.dataDirectory, DATABASE_FILE);
    const before = statSync(file).size;
    // Enough rows that the database file must grow by many pages once they are checkpointed.
    await ctx.get(TransactionRunner).runHot(async (em) => {
      for (let i = 0; i < 200; i++) {
        await sql.query(em, 'INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)', [`bulk-${i}`, 'x'.repeat(4000), 0]);
      }
    });
    expect(statSync(`${file}-wal`).size).toBeGreaterThan(200 * 4000);
    const deadline = Date.now() + 10_000;
    while (statSync(file).size < before + 200 * 4000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(statSync(file).size).toBeGreaterThanOrEqual(before + 200 * 4000);
  });
});
