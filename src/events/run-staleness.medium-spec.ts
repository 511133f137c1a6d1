import { MediumContext } from '../../test/support/medium';
import { Sql } from '../database/sql';
import { TransactionRunner } from '../database/transaction-runner';
import { RunStaleness, STALE_CLAIM_MS, STALE_POLL_MS } from './run-staleness';

/**
 * The stale-run poller writes only when a timer is due: polls that find nothing due (no timer,
 * none due yet, or only timers another process has claimed) open no write transaction, so they
 * never queue with ingestion's. Timers written by another process are seen all the same.
 */
describe('RunStaleness (medium)', () => {
  let ctx: MediumContext;
  let sql: Sql;
  let tx: TransactionRunner;
  let staleness: RunStaleness;
  let teamId: string;
  beforeAll(async () => {
    ctx = await MediumContext.start();
    sql = ctx.get(Sql);
    tx = ctx.get(TransactionRunner);
    staleness = ctx.get(RunStaleness);
    teamId = (await ctx.newTeam()).id;
  });
  afterAll(() => ctx.close());
  afterEach(() => jest.restoreAllMocks());

  /** A timer as ingestion (of this process or another) arms it. */
  const arm = (runId: string, dueAt: number, claimedUntil: number | null = null) =>
    ctx.tx((em) =>
      sql.query(
        em,
        'INSERT INTO run_stale_timers (team_id, project, run_id, stale_seconds, run_name, last_seen_at, due_at, claimed_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        [teamId, 'p', runId, 60, runId, dueAt - 60_000, dueAt, claimedUntil],
      ),
    );
  const dueAt = (runId: string) =>
    ctx.tx(async (em) => {
      const [row] = await sql.query<{ due_at: number | string | null }>(em, 'SELECT due_at FROM run_stale_timers WHERE team_id = ? AND run_id = ?', [teamId, runId]);
      return row.due_at === null ? null : Number(row.due_at);
    });

  it('opens no write transaction while no timer exists, polled or idle', async () => {
    const hot = jest.spyOn(tx, 'runHot');
    expect(await staleness.poll()).toBe(0);
    // The poller's own interval, several times over.
    await new Promise((resolve) => setTimeout(resolve, STALE_POLL_MS * 5));
    expect(hot).not.toHaveBeenCalled();
  });

  it('opens none while the only timers are not due yet or claimed by another process', async () => {
    const now = ctx.clock.now();
    await arm('later', now + 60_000);
    // Claimed for longer than this spec advances the clock.
    await arm('claimed', now - 1_000, now + 10 * STALE_CLAIM_MS);
    const hot = jest.spyOn(tx, 'runHot');
    expect(await staleness.poll()).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, STALE_POLL_MS * 3));
    expect(hot).not.toHaveBeenCalled();
    expect(await dueAt('later')).toBe(now + 60_000);
  });

  it('claims and fires a timer once it is due, whoever armed it', async () => {
    ctx.clock.advance(61_000);
    const hot = jest.spyOn(tx, 'runHot');
    // The interval may have fired it already; either way it was claimed and cleared in a write.
    await staleness.poll();
    const deadline = Date.now() + 5_000;
    while ((await dueAt('later')) !== null && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await dueAt('later')).toBeNull();
    expect(hot).toHaveBeenCalled();
    // The claimed one is left to the process that holds the claim.
    expect(await dueAt('claimed')).not.toBeNull();
  });
});
