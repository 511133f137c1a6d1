import { AutomationStateEntity } from '../automations/automation-state.entity';
import { AutomationEntity } from '../automations/automation.entity';
import { AutomationCatalog, type TeamCatalog } from '../automations/automation-catalog';
import { DeliveryEntity } from '../delivery/delivery.entity';
import { AutomationsService } from '../automations/automations.service';
import type { TeamFixture } from '../../test/support/fixtures';
import { MediumContext } from '../../test/support/medium';
import { EventEntity } from './event.entity';
import { IngestionService } from './ingestion.service';
import { IngestionStore } from './ingestion-store';
import { RunEntity } from './run.entity';

/**
 * Watches IngestionService's group commit: how many transactions it wrote, and how many requests
 * in all (more than were posted when a failed transaction's requests were retried one by one).
 */
function watchTransactions(ingestion: IngestionService) {
  const spy = jest.spyOn(ingestion as unknown as { write(requests: unknown[]): Promise<unknown[]> }, 'write');
  // What the spy saw, kept when it is restored (restoring clears its calls).
  let kept: unknown[][][] | null = null;
  const calls = () => kept ?? spy.mock.calls;
  return {
    transactions: () => calls().length,
    requests: () => calls().reduce((sum, [requests]) => sum + requests.length, 0),
    restore: () => {
      kept = [...spy.mock.calls];
      spy.mockRestore();
    },
  };
}

/**
 * Pins the teams' catalogs as they are now, so that requests posted together reach the group
 * commit in the order posted and within one turn, hence one transaction: on PostgreSQL the
 * catalog's version check otherwise awaits the database, each request for its own time.
 */
async function pinCatalogs(ctx: MediumContext, ...teams: TeamFixture[]): Promise<() => void> {
  const catalogs = ctx.get(AutomationCatalog);
  const pinned = new Map<string, TeamCatalog>();
  for (const team of teams) pinned.set(team.id, await catalogs.forTeam(team.id));
  const spy = jest.spyOn(catalogs, 'forTeam').mockImplementation(async (teamId: string) => pinned.get(teamId)!);
  return () => spy.mockRestore();
}

describe('IngestionService (medium: real database after migrations)', () => {
  let ctx: MediumContext;
  let team: TeamFixture;

  beforeAll(async () => {
    ctx = await MediumContext.start();
  });
  afterAll(() => ctx.close());
  beforeEach(async () => {
    team = await ctx.newTeam();
  });

  /**
   * Ingestion keeps edge/cooldown states in columns by the catalog's slots for one transaction
   * (matching/subject-states.ts) and reads and writes them by automation id: a catalog numbered
   * otherwise (automations added or removed before it, a process started afresh) reads the same states.
   */
  describe('edge/cooldown states across catalogs', () => {
    it('follow the automation id when the catalog numbers it otherwise, and when it is loaded afresh', async () => {
      const hook = await ctx.newWebhook(team);
      const watcher = await ctx.newAutomation(team, hook, {
        name: 'loss-high',
        scope: { type: 'project', name: 'llm' },
        trigger: { event: 'RUN_METRIC_THRESHOLD', metric: 'loss', agg: 'LAST', window: 1, op: '>', threshold: 1 },
      });
      // A run's events, in turn; a reported step per call, so none repeats another.
      let step = 0;
      const post = async (loss: number, project = 'llm') => {
        const [result] = await ctx.newEvents(team, [{ type: 'RUN_METRICS', project, run: { id: 'r1', name: 'r1' }, step: step++, metrics: { loss } }]);
        const row = await ctx.repo(EventEntity).findOneByOrFail({ teamId: team.id, id: result.id });
        return { fired: result.matched, held: row.outcome.suppressed.filter((s) => s.reason === 'edge').map((s) => s.automationId) };
      };
      const stored = () => ctx.repo(AutomationStateEntity).findOneByOrFail({ automationId: watcher.id, subject: 'run:llm/r1' });

      expect(await post(2)).toEqual({ fired: 1, held: [] });
      expect(await stored()).toMatchObject({ matching: true, triggerVersion: 1 });
      expect(await post(3)).toEqual({ fired: 0, held: [watcher.id] });

      // Team-scoped automations take the first slots: one created now moves the watcher's slot.
      const automations = ctx.get(AutomationsService);
      const teamWide = await ctx.newAutomation(team, hook, { scope: { type: 'team' }, trigger: { event: 'RUN_METRIC_THRESHOLD', metric: 'acc', op: 'NON_FINITE' } });
      const other = await ctx.newAutomation(team, hook, { scope: { type: 'team' }, trigger: { event: 'RUN_METRIC_THRESHOLD', metric: 'loss', agg: 'LAST', window: 1, op: '>', threshold: 100 } });
      const catalog = await ctx.get(AutomationCatalog).forTeam(team.id);
      expect(catalog.index.slotOf(watcher.id)).toBe(2);
      // Still high: held, not fired again; the other automation's low state is its own.
      expect(await post(4)).toEqual({ fired: 0, held: [watcher.id] });
      expect(await post(200)).toEqual({ fired: 1, held: [watcher.id] });

      // Removed again: the watcher's slot goes back; the state follows its id.
      await automations.delete(team.auth, teamWide.id);
      await automations.delete(team.auth, other.id);
      expect((await ctx.get(AutomationCatalog).forTeam(team.id)).index.slotOf(watcher.id)).toBe(0);
      expect(await post(5)).toEqual({ fired: 0, held: [watcher.id] });

      // A process started afresh (a catalog loaded from the rows): the edge falls, then rises again.
      await ctx.get(AutomationCatalog).invalidate(team.id);
      expect(await post(0)).toEqual({ fired: 0, held: [] });
      expect(await stored()).toMatchObject({ matching: false });
      // Past the cooldown (metric triggers have one by default), the next rise fires.
      ctx.clock.advance(86_400_000);
      expect(await post(2)).toEqual({ fired: 1, held: [] });
      expect(await stored()).toMatchObject({ matching: true });
    });

    it("RUN_GROUP_FINISHED reads the states of the run's group as of each event, a group posted earlier in the batch included", async () => {
      const hook = await ctx.newWebhook(team);
      const finished = await ctx.newAutomation(team, hook, { scope: { type: 'project', name: 'llm' }, trigger: { event: 'RUN_GROUP_FINISHED' } });
      const state = (id: string, runState: string, group?: string) => ({ type: 'RUN_STATE', project: 'llm', run: { id, name: id, state: runState, ...(group ? { group } : {}) } });
      await ctx.newEvents(team, [state('s1', 'RUNNING', 'sweep-1')]);
      expect((await ctx.newEvents(team, [state('s1', 'FINISHED')]))[0].matched).toBe(1);
      await ctx.newEvents(team, [state('m', 'RUNNING', 'grid-1')]);
      expect((await ctx.newEvents(team, [state('m', 'FINISHED')]))[0].matched).toBe(1);
      // One batch: m joins sweep-1 in a metrics report, then reports its end without a group.
      // sweep-1 is still finished and already notified: its edge holds (read from sweep-1's
      // states, not grid-1's, the group stored before the batch).
      const [, end] = await ctx.newEvents(team, [
        { type: 'RUN_METRICS', project: 'llm', run: { id: 'm', name: 'm', group: 'sweep-1' }, step: 0, metrics: { loss: 1 } },
        state('m', 'FINISHED'),
      ]);
      expect(end.matched).toBe(0);
      const row = await ctx.repo(EventEntity).findOneByOrFail({ teamId: team.id, id: end.id });
      expect(row.outcome.suppressed).toEqual([expect.objectContaining({ automationId: finished.id, reason: 'edge' })]);
    });

    it("Herald's RUN_STALE of a RUNNING run is decided with the run's states and context", async () => {
      const hook = await ctx.newWebhook(team);
      const stale = await ctx.newAutomation(team, hook, { scope: { type: 'project', name: 'llm' }, trigger: { event: 'RUN_STALE', staleSeconds: 1 }, filter: { 'run.tags': { $contains: 'watched' } } });
      await ctx.newEvents(team, [{ type: 'RUN_STATE', project: 'llm', run: { id: 's', name: 's', state: 'RUNNING', tags: ['watched'] } }]);
      const at = new Date(ctx.clock.now()).toISOString();
      const event = { id: 'herald:stale:s', type: 'RUN_STALE', project: 'llm', occurredAt: at, run: { id: 's', name: 's', state: 'RUNNING' }, lastSeenAt: at, staleSeconds: 1 };
      const { results } = await ctx.get(IngestionService).ingest(team.auth, event, 'herald');
      expect(results[0].matched).toBe(1);
      expect(await ctx.repo(AutomationStateEntity).findOneByOrFail({ automationId: stale.id, subject: 'run:llm/s' })).toMatchObject({ lastFiredAt: ctx.clock.now() });
    });
  });

  describe('repeated events and fire counts', () => {
    const alert = (id?: string) => ({ type: 'ALERT', project: 'llm', title: 'x', level: 'ERROR', ...(id === undefined ? {} : { id }) });

    it('looks up only the events whose id the client chose; those repeat their first answer', async () => {
      const store = ctx.get(IngestionStore);
      const lookups = jest.spyOn(store, 'knownOutcomes');
      try {
        const first = await ctx.newEvents(team, [alert(), alert('client-1'), alert()]);
        expect(first.map((r) => r.duplicate)).toEqual([false, false, false]);
        expect(lookups.mock.calls.map(([, , events]) => events.map((e) => e.id))).toEqual([['client-1']]);
        lookups.mockClear();
        const second = await ctx.newEvents(team, [alert('client-1'), alert()]);
        expect(second.map((r) => [r.id === 'client-1', r.duplicate])).toEqual([[true, true], [false, false]]);
        expect(lookups.mock.calls.map(([, , events]) => events.map((e) => e.id))).toEqual([['client-1']]);
        lookups.mockClear();
        // No id of the client's: no lookup at all.
        await ctx.newEvents(team, [alert(), alert()]);
        expect(lookups).not.toHaveBeenCalled();
        expect(await ctx.repo(EventEntity).countBy({ teamId: team.id })).toBe(6);
      } finally {
        lookups.mockRestore();
      }
    });
    it('answers a repeat within one request with the first answer, wherever it stands in the batch', async () => {
      const hook = await ctx.newWebhook(team);
      await ctx.newAutomation(team, hook);
      const results = await ctx.newEvents(team, [alert('x'), alert(), alert('y'), alert('x'), alert('y')]);
      expect(results.map((r) => [r.index, r.duplicate, r.matched])).toEqual([[0, false, 1], [1, false, 1], [2, false, 1], [3, true, 1], [4, true, 1]]);
      expect(results[3]).toEqual({ ...results[0], index: 3, duplicate: true });
      expect(results[4]).toEqual({ ...results[2], index: 4, duplicate: true });
      expect(await ctx.repo(EventEntity).countBy({ teamId: team.id })).toBe(3);
    });
    it('counts an automation\'s fires once per transaction, whatever the number of requests it writes', async () => {
      const hook = await ctx.newWebhook(team);
      const automation = await ctx.newAutomation(team, hook);
      const store = ctx.get(IngestionStore);
      const counts = jest.spyOn(store, 'countFires');
      const unpin = await pinCatalogs(ctx, team);
      const written = watchTransactions(ctx.get(IngestionService));
      try {
        const results = await Promise.all(Array.from({ length: 5 }, () => ctx.newEvents(team, [alert()])));
        expect(results.map(([r]) => r.matched)).toEqual([1, 1, 1, 1, 1]);
        expect([written.transactions(), written.requests()]).toEqual([1, 5]);
        expect(counts.mock.calls).toEqual([[expect.anything(), automation.id, 5, ctx.clock.now()]]);
      } finally {
        counts.mockRestore();
        written.restore();
        unpin();
      }
      expect(await ctx.repo(AutomationEntity).findOneByOrFail({ id: automation.id })).toMatchObject({ fireCount: 5, lastFiredAt: ctx.clock.now() });
    });
  });

  /**
   * Requests that arrive together share a transaction (GroupCommit: on SQLite all of them, on
   * PostgreSQL the first alone and those that queued behind it), and a team's requests in it
   * share one unit of work: read once, written once, each seeing the earlier ones in memory.
   */
  describe('requests sharing a transaction', () => {
    const metrics = (run: string, step: number, loss: number, id?: string) => ({
      type: 'RUN_METRICS',
      project: 'llm',
      run: { id: run, name: run },
      step,
      metrics: { loss },
      ...(id === undefined ? {} : { id }),
    });
    /** Posts together, the teams' catalogs pinned (pinCatalogs): one transaction, in the order posted. */
    const together = async <T>(posts: (() => Promise<T>)[], ...teams: TeamFixture[]): Promise<T[]> => {
      const unpin = await pinCatalogs(ctx, ...(teams.length > 0 ? teams : [team]));
      try {
        return await Promise.all(posts.map((post) => post()));
      } finally {
        unpin();
      }
    };

    it("read and write each kind of row once per transaction, whatever the number of requests", async () => {
      const hook = await ctx.newWebhook(team);
      await ctx.newAutomation(team, hook, { scope: { type: 'project', name: 'llm' }, trigger: { event: 'RUN_METRIC_THRESHOLD', metric: 'loss', agg: 'LAST', window: 1, op: '>', threshold: 1 } });
      const store = ctx.get(IngestionStore);
      const spies = (['runs', 'states', 'insertEvents', 'saveRuns', 'saveStates', 'insertDeliveries'] as const).map((name) => [name, jest.spyOn(store, name)] as const);
      const written = watchTransactions(ctx.get(IngestionService));
      try {
        const results = await together(Array.from({ length: 6 }, (_, i) => () => ctx.newEvents(team, [metrics(`r${i % 3}`, i, 2)])));
        // Three runs, each crossing the threshold once: its first event fires, its second is held by the edge.
        expect(results.map(([r]) => r.matched)).toEqual([1, 1, 1, 0, 0, 0]);
        expect([written.transactions(), written.requests()]).toEqual([1, 6]);
        for (const [name, spy] of spies) expect([name, spy.mock.calls.length]).toEqual([name, 1]);
      } finally {
        for (const [, spy] of spies) spy.mockRestore();
        written.restore();
      }
      expect(await ctx.repo(EventEntity).countBy({ teamId: team.id })).toBe(6);
      expect(await ctx.repo(RunEntity).countBy({ teamId: team.id })).toBe(3);
      expect(await ctx.repo(DeliveryEntity).countBy({ teamId: team.id })).toBe(3);
      expect(await ctx.repo(RunEntity).findOneByOrFail({ teamId: team.id, project: 'llm', runId: 'r0' })).toMatchObject({ windows: { loss: [2] } });
    });

    it("see the earlier requests' runs, windows, edges and events: the answers of one request after another", async () => {
      const hook = await ctx.newWebhook(team);
      // Fires when the mean of the last two losses exceeds 1: only with the first request's loss in the window.
      const mean = await ctx.newAutomation(team, hook, { scope: { type: 'project', name: 'llm' }, trigger: { event: 'RUN_METRIC_THRESHOLD', metric: 'loss', agg: 'AVERAGE', window: 2, op: '>', threshold: 1 } });
      // Written as posted, not retried one by one after a failed transaction.
      const written = watchTransactions(ctx.get(IngestionService));
      const [[first], [second], [again], [repeat]] = await together([
        () => ctx.newEvents(team, [metrics('w', 0, 0)]),
        () => ctx.newEvents(team, [metrics('w', 1, 4, 'client-a')]),
        () => ctx.newEvents(team, [metrics('w', 2, 4)]),
        () => ctx.newEvents(team, [metrics('w', 1, 4, 'client-a')]),
      ]).finally(() => written.restore());
      expect([written.transactions(), written.requests()]).toEqual([1, 4]);
      expect(first).toMatchObject({ duplicate: false, matched: 0 });
      // (0 + 4) / 2 = 2 > 1: fires; then held by the edge; the client's id repeated answers the first answer.
      expect(second).toMatchObject({ id: 'client-a', duplicate: false, matched: 1 });
      expect(again).toMatchObject({ duplicate: false, matched: 0 });
      expect(repeat).toEqual({ ...second, index: 0, duplicate: true });
      expect(await ctx.repo(EventEntity).countBy({ teamId: team.id })).toBe(3);
      expect(await ctx.repo(AutomationStateEntity).findOneByOrFail({ automationId: mean.id, subject: 'run:llm/w' })).toMatchObject({ matching: true });
      expect(await ctx.repo(RunEntity).findOneByOrFail({ teamId: team.id, project: 'llm', runId: 'w' })).toMatchObject({ windows: { loss: [4, 4] } });
    });

    it('of two teams with the same project and run names, keep each team to its own rows', async () => {
      const other = await ctx.newTeam();
      const mine = await ctx.newAutomation(team, await ctx.newWebhook(team), { scope: { type: 'project', name: 'llm' }, trigger: { event: 'RUN_METRIC_THRESHOLD', metric: 'loss', agg: 'LAST', window: 1, op: '>', threshold: 1 } });
      const theirs = await ctx.newAutomation(other, await ctx.newWebhook(other), { scope: { type: 'project', name: 'llm' }, trigger: { event: 'RUN_METRIC_THRESHOLD', metric: 'loss', agg: 'LAST', window: 1, op: '>', threshold: 1 } });
      const answers = await together([
        () => ctx.newEvents(team, [metrics('same', 0, 2, 'same-id')]),
        () => ctx.newEvents(other, [metrics('same', 0, 2, 'same-id')]),
        () => ctx.newEvents(team, [metrics('same', 1, 3)]),
        () => ctx.newEvents(other, [metrics('same', 1, 0)]),
      ], team, other);
      expect(answers.map(([r]) => [r.duplicate, r.matched])).toEqual([[false, 1], [false, 1], [false, 0], [false, 0]]);
      expect(await ctx.repo(RunEntity).findOneByOrFail({ teamId: team.id, project: 'llm', runId: 'same' })).toMatchObject({ windows: { loss: [3] } });
      expect(await ctx.repo(RunEntity).findOneByOrFail({ teamId: other.id, project: 'llm', runId: 'same' })).toMatchObject({ windows: { loss: [0] } });
      expect(await ctx.repo(AutomationStateEntity).findOneByOrFail({ automationId: mine.id, subject: 'run:llm/same' })).toMatchObject({ matching: true });
      expect(await ctx.repo(AutomationStateEntity).findOneByOrFail({ automationId: theirs.id, subject: 'run:llm/same' })).toMatchObject({ matching: false });
    });

    it("of one team read with catalogs before and after a change each decide with their own, in order", async () => {
      const hook = await ctx.newWebhook(team);
      const high = await ctx.newAutomation(team, hook, { scope: { type: 'project', name: 'llm' }, trigger: { event: 'RUN_METRIC_THRESHOLD', metric: 'loss', agg: 'LAST', window: 1, op: '>', threshold: 1 }, cooldownSeconds: 0 });
      const catalogs = ctx.get(AutomationCatalog);
      const before = await catalogs.forTeam(team.id);
      const ingestion = ctx.get(IngestionService);
      const post = (catalog: TeamCatalog, step: number, loss: number) => {
        jest.spyOn(catalogs, 'forTeam').mockResolvedValueOnce(catalog);
        return ingestion.ingest(team.auth, metrics('c', step, loss));
      };
      // A team-scoped automation moves `high` to another slot in the new catalog.
      await ctx.newAutomation(team, hook, { scope: { type: 'team' }, trigger: { event: 'RUN_METRIC_THRESHOLD', metric: 'acc', op: 'NON_FINITE' } });
      const after = await catalogs.forTeam(team.id);
      expect(after.index.slotOf(high.id)).not.toBe(before.index.slotOf(high.id));
      const answers = await together([() => post(before, 0, 2), () => post(after, 1, 3), () => post(before, 2, 0), () => post(after, 3, 5)]);
      // Fired, held by the edge (the state follows the automation across catalogs), fell, fired again.
      expect(answers.map(({ results: [r] }) => r.matched)).toEqual([1, 0, 0, 1]);
      expect(await ctx.repo(RunEntity).findOneByOrFail({ teamId: team.id, project: 'llm', runId: 'c' })).toMatchObject({ windows: { loss: [5] } });
    });
  });
});
