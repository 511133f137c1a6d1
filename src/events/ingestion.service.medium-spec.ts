import { AutomationStateEntity } from '../automations/automation-state.entity';
import { AutomationEntity } from '../automations/automation.entity';
import { AutomationCatalog } from '../automations/automation-catalog';
import { AutomationsService } from '../automations/automations.service';
import type { TeamFixture } from '../../test/support/fixtures';
import { MediumContext } from '../../test/support/medium';
import { EventEntity } from './event.entity';
import { IngestionService } from './ingestion.service';
import { IngestionStore } from './ingestion-store';

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
        await ctx.newEvents(team, [alert(), alert()]);
        expect(lookups.mock.calls.map(([, , events]) => events.length)).toEqual([0]);
        expect(await ctx.repo(EventEntity).countBy({ teamId: team.id })).toBe(6);
      } finally {
        lookups.mockRestore();
      }
    });
    it('counts an automation\'s fires once per transaction, whatever the number of requests it writes', async () => {
      const hook = await ctx.newWebhook(team);
      const automation = await ctx.newAutomation(team, hook);
      const store = ctx.get(IngestionStore);
      const counts = jest.spyOn(store, 'countFires');
      try {
        // Requests that arrive together share a transaction (GroupCommit: on SQLite all five, on
        // PostgreSQL the first alone and the four that queued behind it).
        const results = await Promise.all(Array.from({ length: 5 }, () => ctx.newEvents(team, [alert()])));
        expect(results.map(([r]) => r.matched)).toEqual([1, 1, 1, 1, 1]);
        expect(counts.mock.calls.every(([, id]) => id === automation.id)).toBe(true);
        expect(counts.mock.calls.reduce((sum, [, , n]) => sum + n, 0)).toBe(5);
        expect(counts.mock.calls.length).toBeLessThanOrEqual(2);
      } finally {
        counts.mockRestore();
      }
      expect(await ctx.repo(AutomationEntity).findOneByOrFail({ id: automation.id })).toMatchObject({ fireCount: 5, lastFiredAt: ctx.clock.now() });
    });
  });
});
