import { AutomationsService } from '../automations/automations.service';
import type { TeamFixture } from '../../test/support/fixtures';
import { MediumContext } from '../../test/support/medium';
import type { StoredOutcome } from './event-outcome';
import { EventEntity } from './event.entity';
import { EventsService } from './events.service';
import { IngestionStore } from './ingestion-store';

describe('EventsService: recorded non-matches (medium: real database after migrations)', () => {
  let ctx: MediumContext;
  let events: EventsService;
  let team: TeamFixture;

  beforeAll(async () => {
    ctx = await MediumContext.start();
    events = ctx.get(EventsService);
  });
  afterAll(() => ctx.close());
  beforeEach(async () => {
    team = await ctx.newTeam();
  });

  const failedRuns = async (name: string) =>
    ctx.newAutomation(team, await ctx.newWebhook(team), { name, scope: { type: 'project', name: 'llm' }, trigger: { event: 'RUN_STATE', states: ['FAILED'] } });
  const running = (runId: string) => ({ type: 'RUN_STATE', project: 'llm', run: { id: runId, name: runId, state: 'RUNNING' } });

  it('stores them by id, without names, and names them when read: the current name, an automation deleted since counted apart', async () => {
    const kept = await failedRuns('failed-runs');
    const renamed = await failedRuns('before-rename');
    const deleted = await failedRuns('deleted-later');
    const [posted] = await ctx.newEvents(team, [running('r1')]);

    // Candidates come in the index's order, not the order created.
    const byId = <T extends { automationId: string }>(list: T[] | undefined) => list && [...list].sort((a, b) => a.automationId.localeCompare(b.automationId));
    const read = async () => {
      const { outcome } = await events.get(team.auth, posted.id);
      return { ...outcome, notFired: byId(outcome.notFired) };
    };
    const row = await ctx.repo(EventEntity).findOneByOrFail({ teamId: team.id, id: posted.id });
    expect({ ...row.outcome, notFiredIds: row.outcome.notFiredIds?.sort() }).toEqual({
      matched: [],
      suppressed: [],
      failed: [],
      notFiredIds: [[kept.id, 'c'], [renamed.id, 'c'], [deleted.id, 'c']].sort(),
    });
    const condition = (a: { id: string }, automationName: string) => ({ automationId: a.id, automationName, reason: 'condition' });
    expect(await read()).toEqual({
      matched: [],
      suppressed: [],
      failed: [],
      notFired: byId([condition(kept, 'failed-runs'), condition(renamed, 'before-rename'), condition(deleted, 'deleted-later')]),
    });

    const automations = ctx.get(AutomationsService);
    await automations.update(team.auth, renamed.id, { name: 'after-rename' });
    await automations.delete(team.auth, deleted.id);
    expect(await read()).toEqual({
      matched: [],
      suppressed: [],
      failed: [],
      notFired: byId([condition(kept, 'failed-runs'), condition(renamed, 'after-rename')]),
      notFiredOmitted: 1,
    });
  });

  it('names only automations of the event’s team', async () => {
    const theirs = await failedRuns('theirs');
    const [posted] = await ctx.newEvents(team, [running('r2')]);
    const other = await ctx.newTeam();
    // The same event id stored for another team, naming this team's automation: not named there.
    const outcome: StoredOutcome = { matched: [], suppressed: [], failed: [], notFiredIds: [[theirs.id, 'c']] };
    const row = await ctx.repo(EventEntity).findOneByOrFail({ teamId: team.id, id: posted.id });
    await ctx.tx((em) => ctx.get(IngestionStore).insertEvents(em, [{ teamId: other.id, event: row.body, receivedAt: ctx.clock.now(), batchIndex: 0, outcome }]));
    expect((await events.get(other.auth, posted.id)).outcome).toEqual({ matched: [], suppressed: [], failed: [], notFired: [], notFiredOmitted: 1 });
  });

  it('reads an event stored with names (before ids) as it was stored, and one stored before non-matches with an empty list', async () => {
    const store = ctx.get(IngestionStore);
    const event = (id: string) => ({ id, type: 'RUN_STATE' as const, occurredAt: '2026-11-22T07:59:58.250Z', project: 'llm', run: { id: 'r3', name: 'r3', state: 'RUNNING' as const } });
    const named: StoredOutcome = {
      matched: [],
      suppressed: [{ automationId: 'aut_held', automationName: 'held', reason: 'edge' }],
      failed: [],
      notFired: [
        { automationId: 'aut_gone', automationName: 'as it was', reason: 'window', have: 2, need: 5 },
        { automationId: 'aut_other', automationName: 'other', reason: 'filter', filter: 'runFilter' },
      ],
      notFiredOmitted: 7,
    };
    const before: StoredOutcome = { matched: [], suppressed: [], failed: [] };
    await ctx.tx((em) =>
      store.insertEvents(em, [
        { teamId: team.id, event: event('named'), receivedAt: ctx.clock.now(), batchIndex: 0, outcome: named },
        { teamId: team.id, event: event('before'), receivedAt: ctx.clock.now(), batchIndex: 1, outcome: before },
      ]),
    );
    expect((await events.get(team.auth, 'named')).outcome).toEqual(named);
    expect((await events.get(team.auth, 'before')).outcome).toEqual({ ...before, notFired: [] });
  });
});
