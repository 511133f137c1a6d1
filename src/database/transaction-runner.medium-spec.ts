import { MediumContext } from '../../test/support/medium';
import { onPostgres } from '../../test/support/services';
import { SharedTransactionLost } from './group-commit';
import { Sql } from './sql';
import { TransactionRunner } from './transaction-runner';

/**
 * Hot units of work submitted together share one SQLite transaction, each in its own
 * savepoint: one COMMIT for all, a failing unit undoes only its own writes and gets its own
 * error, and a unit whose failure ends the transaction makes the others run again.
 */
(onPostgres ? describe.skip : describe)('TransactionRunner.runHot (medium, SQLite)', () => {
  let ctx: MediumContext;
  let sql: Sql;
  let tx: TransactionRunner;
  beforeAll(async () => {
    ctx = await MediumContext.start();
    sql = ctx.get(Sql);
    tx = ctx.get(TransactionRunner);
  });
  afterAll(() => ctx.close());

  const put = (key: string) => (em: Parameters<Parameters<TransactionRunner['runHot']>[0]>[0]) =>
    sql.query(em, 'INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)', [key, 'v', 0]);
  const stored = (key: string) => sql.querySqlite('SELECT key FROM settings WHERE key = ?', [key]).length === 1;

  it('commits the units submitted together in one transaction', async () => {
    const before = tx.hotTransactions;
    await Promise.all([tx.runHot(put('together-1')), tx.runHot(put('together-2')), tx.runHot(put('together-3'))]);
    expect(tx.hotTransactions - before).toBe(1);
    expect(['together-1', 'together-2', 'together-3'].every(stored)).toBe(true);
  });

  it('answers a unit only once the transaction it shares has committed', async () => {
    let inTransactionAtAnswer: boolean | null = null;
    const first = tx.runHot(put('answered-1')).then(() => (inTransactionAtAnswer = sql.inSqliteTransaction()));
    await Promise.all([first, tx.runHot(async (em) => {
      await put('answered-2')(em);
      // The first unit's work is done, but its answer waits for the COMMIT.
      expect(inTransactionAtAnswer).toBeNull();
    })]);
    expect(inTransactionAtAnswer).toBe(false);
  });

  it('rolls a failing unit back to its savepoint: the others commit, each gets its own answer', async () => {
    const before = tx.hotTransactions;
    const results = await Promise.allSettled([
      tx.runHot(put('kept-1')),
      tx.runHot(async (em) => {
        await put('undone')(em);
        throw new Error('refused');
      }),
      // A constraint violation: the unit's statement fails inside the shared transaction.
      tx.runHot(put('kept-1')),
      tx.runHot(put('kept-2')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toEqual(new Error('refused'));
    expect(String((results[2] as PromiseRejectedResult).reason)).toMatch(/UNIQUE/);
    expect(tx.hotTransactions - before).toBe(1);
    expect([stored('kept-1'), stored('undone'), stored('kept-2')]).toEqual([true, false, true]);
  });

  it('a unit whose failure ends the transaction fails alone; the others learn nothing of theirs was written', async () => {
    const results = await Promise.allSettled([
      tx.runHot(put('lost-1')),
      tx.runHot(async (em) => {
        await put('lost-2')(em);
        // What SQLite does on some errors (disk full, I/O): the whole transaction is gone.
        sql.querySqlite('ROLLBACK');
        throw new Error('disk full');
      }),
      tx.runHot(put('lost-3')),
    ]);
    expect((results[0] as PromiseRejectedResult).reason).toBeInstanceOf(SharedTransactionLost);
    expect((results[1] as PromiseRejectedResult).reason).toEqual(new Error('disk full'));
    expect((results[2] as PromiseRejectedResult).reason).toBeInstanceOf(SharedTransactionLost);
    expect(['lost-1', 'lost-2', 'lost-3'].some(stored)).toBe(false);
    expect(sql.inSqliteTransaction()).toBe(false);
    // And the connection goes on.
    await tx.runHot(put('after-loss'));
    expect(stored('after-loss')).toBe(true);
  });

  it('a unit alone is rolled back whole when it fails', async () => {
    await expect(
      tx.runHot(async (em) => {
        await put('alone')(em);
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect(stored('alone')).toBe(false);
    expect(sql.inSqliteTransaction()).toBe(false);
  });
});
