import type { EntityManager } from 'typeorm';
import type { AutomationView } from '../automations/automations.service';
import { AutomationStateEntity } from '../automations/automation-state.entity';
import { AutomationEntity } from '../automations/automation.entity';
import { newId } from '../common/ids';
import { DeliveryEntity } from '../delivery/delivery.entity';
import type { WebhookDto } from '../webhooks/dto/webhook.dto';
import type { TeamFixture } from '../../test/support/fixtures';
import { MediumContext } from '../../test/support/medium';
import { onPostgres } from '../../test/support/services';
import type { EventOutcome } from './event-outcome';
import { EventEntity } from './event.entity';
import type { HeraldEvent, RunState } from './event.types';
import { IngestionStore, type NewEvent, type StoredRun, type StoredState, eventKey, runKey } from './ingestion-store';
import { RunEntity } from './run.entity';

describe('IngestionStore (medium: real database after migrations)', () => {
  let ctx: MediumContext;
  let store: IngestionStore;
  let team: TeamFixture;
  let hook: WebhookDto;
  let automation: AutomationView;

  beforeAll(async () => {
    ctx = await MediumContext.start();
    store = ctx.get(IngestionStore);
  });
  afterAll(() => ctx.close());
  beforeEach(async () => {
    team = await ctx.newTeam();
    hook = await ctx.newWebhook(team);
    automation = await ctx.newAutomation(team, hook);
  });

  const now = () => ctx.clock.now();
  const outcome = (deliveryId: string): EventOutcome => ({
    matched: [{ automationId: automation.id, automationName: automation.name, deliveryId }],
    suppressed: [{ automationId: 'aut_other', automationName: 'other', reason: 'edge' }],
    failed: [],
  });
  const event = (id: string, extra: Partial<HeraldEvent> = {}): HeraldEvent => ({
    id,
    type: 'RUN_METRICS',
    occurredAt: '2026-11-22T07:59:58.250Z',
    project: 'llm',
    run: { id: 'run-1', name: 'bert' },
    metrics: { loss: 0.25 },
    ...extra,
  });

  describe('events', () => {
    it('are stored as given (body, outcome, run, times) and their outcomes known to their team only', async () => {
      const other = await ctx.newTeam();
      const events: NewEvent[] = [
        { teamId: team.id, event: event('evt-a'), receivedAt: now(), batchIndex: 0, outcome: outcome('msg_a') },
        { teamId: team.id, event: event('evt-b', { type: 'ALERT', run: undefined, metrics: undefined }), receivedAt: now() + 1, batchIndex: 0, outcome: outcome('msg_b') },
        { teamId: other.id, event: event('evt-a'), receivedAt: now(), batchIndex: 0, outcome: outcome('msg_other') },
      ];
      await ctx.tx((em) => store.insertEvents(em, events));

      await ctx.expectAsStored(EventEntity, {
        teamId: team.id,
        id: 'evt-a',
        type: 'RUN_METRICS',
        project: 'llm',
        runId: 'run-1',
        occurredAt: Date.parse('2026-11-22T07:59:58.250Z'),
        receivedAt: now(),
        batchIndex: 0,
        body: events[0].event,
        outcome: outcome('msg_a'),
      });
      expect(await ctx.repo(EventEntity).findOneByOrFail({ teamId: team.id, id: 'evt-b' })).toMatchObject({ runId: null, type: 'ALERT' });

      const inLlm = (...ids: string[]) => ids.map((id) => ({ id, project: 'llm' }));
      const known = await ctx.tx((em) => store.knownOutcomes(em, team.id, inLlm('evt-a', 'evt-b', 'evt-unknown')));
      expect(known).toEqual(new Map([[eventKey({ id: 'evt-a', project: 'llm' }), outcome('msg_a')], [eventKey({ id: 'evt-b', project: 'llm' }), outcome('msg_b')]]));
      expect(await ctx.tx((em) => store.knownOutcomes(em, other.id, inLlm('evt-a', 'evt-b')))).toEqual(new Map([[eventKey({ id: 'evt-a', project: 'llm' }), outcome('msg_other')]]));
      // Ids are unique per project: the same id in another project is another event.
      expect(await ctx.tx((em) => store.knownOutcomes(em, team.id, [{ id: 'evt-a', project: 'vision' }]))).toEqual(new Map());
      await ctx.tx((em) => store.insertEvents(em, [{ teamId: team.id, event: { ...events[0].event, project: 'vision' }, receivedAt: now(), batchIndex: 0, outcome: outcome('msg_v') }]));
      expect(await ctx.repo(EventEntity).countBy({ teamId: team.id, id: 'evt-a' })).toBe(2);
      expect(await ctx.tx((em) => store.knownOutcomes(em, team.id, []))).toEqual(new Map());
    });

    it('a batch larger than one multi-row INSERT is stored whole', async () => {
      const events = Array.from({ length: 250 }, (_, i): NewEvent => ({ teamId: team.id, event: event(`bulk-${i}`), receivedAt: now(), batchIndex: 0, outcome: outcome(`msg_${i}`) }));
      await ctx.tx((em) => store.insertEvents(em, events));
      expect(await ctx.repo(EventEntity).countBy({ teamId: team.id })).toBe(250);
      const known = await ctx.tx((em) => store.knownOutcomes(em, team.id, events.map((e) => e.event)));
      expect(known.size).toBe(250);
    });
  });

  describe('runs', () => {
    const NO_CONTEXT = { group: null, tags: null, config: null };
    // One run read and written through the bulk statements.
    const readRun = async (em: EntityManager, teamId: string, project: string, runId: string) => (await store.runs(em, teamId, [{ project, runId }])).get(runKey({ project, runId })) ?? null;
    const writeRun = (em: EntityManager, teamId: string, project: string, runId: string, run: StoredRun, at: number) => store.saveRuns(em, teamId, [{ project, runId, run }], at);
    it('are null until saved, then read back; a second save replaces state, windows, context and time', async () => {
      const context = { group: 'sweep-1', tags: ['a', 'b'], config: { lr: 0.1, nested: { layers: [1, 2] } } };
      expect(await ctx.tx((em) => readRun(em, team.id, 'llm', 'r1'))).toBeNull();
      await ctx.tx((em) => writeRun(em, team.id, 'llm', 'r1', { state: 'RUNNING', windows: { loss: [0.5, 'NaN', 0.25] }, context: NO_CONTEXT }, now()));
      expect(await ctx.tx((em) => readRun(em, team.id, 'llm', 'r1'))).toEqual({ state: 'RUNNING', windows: { loss: [0.5, 'NaN', 0.25] }, context: NO_CONTEXT });
      await ctx.expectAsStored(RunEntity, { teamId: team.id, project: 'llm', runId: 'r1', state: 'RUNNING', windows: { loss: [0.5, 'NaN', 0.25] }, ...NO_CONTEXT, updatedAt: now() });

      ctx.clock.advance(1_000);
      await ctx.tx((em) => writeRun(em, team.id, 'llm', 'r1', { state: null, windows: { acc: [1] }, context }, now()));
      await ctx.expectAsStored(RunEntity, { teamId: team.id, project: 'llm', runId: 'r1', state: null, windows: { acc: [1] }, ...context, updatedAt: now() });
      expect(await ctx.tx((em) => readRun(em, team.id, 'llm', 'r1'))).toEqual({ state: null, windows: { acc: [1] }, context });
      expect(await ctx.repo(RunEntity).countBy({ teamId: team.id })).toBe(1);
    });

    it('are kept per team and project', async () => {
      const other = await ctx.newTeam();
      await ctx.tx((em) => writeRun(em, team.id, 'llm', 'r1', { state: 'FAILED', windows: {}, context: NO_CONTEXT }, now()));
      expect(await ctx.tx((em) => readRun(em, other.id, 'llm', 'r1'))).toBeNull();
      expect(await ctx.tx((em) => readRun(em, team.id, 'vision', 'r1'))).toBeNull();
    });

    (onPostgres ? it : it.skip)('are locked by runs() until the transaction ends (PostgreSQL; SQLite serializes transactions)', async () => {
      await ctx.tx((em) => writeRun(em, team.id, 'llm', 'locked', { state: 'RUNNING', windows: { loss: [1] }, context: NO_CONTEXT }, now()));
      let readByFirst!: () => void;
      const firstHasRead = new Promise<void>((resolve) => (readByFirst = resolve));
      const first = ctx.tx(async (em) => {
        await readRun(em, team.id, 'llm', 'locked');
        readByFirst();
        await new Promise((resolve) => setTimeout(resolve, 300));
        await writeRun(em, team.id, 'llm', 'locked', { state: 'RUNNING', windows: { loss: [1, 2] }, context: NO_CONTEXT }, now());
      });
      await firstHasRead;
      // Without the lock this read would see the row as it was before the first transaction wrote.
      const second = await ctx.tx((em) => readRun(em, team.id, 'llm', 'locked'));
      await first;
      expect(second).toEqual({ state: 'RUNNING', windows: { loss: [1, 2] }, context: NO_CONTEXT });
    });

    (onPostgres ? it : it.skip)('lock only the runs asked for, not the other pairs of their projects and ids (PostgreSQL)', async () => {
      const run: StoredRun = { state: 'RUNNING', windows: {}, context: NO_CONTEXT };
      await ctx.tx((em) => store.saveRuns(em, team.id, [{ project: 'llm', runId: 'r1', run }, { project: 'vision', runId: 'r2', run }, { project: 'llm', runId: 'r2', run }], now()));
      const order: string[] = [];
      let readByFirst!: () => void;
      const firstHasRead = new Promise<void>((resolve) => (readByFirst = resolve));
      const first = ctx.tx(async (em) => {
        await store.runs(em, team.id, [{ project: 'llm', runId: 'r1' }, { project: 'vision', runId: 'r2' }]);
        readByFirst();
        await new Promise((resolve) => setTimeout(resolve, 500));
        order.push('first');
      });
      await firstHasRead;
      // llm/r2 pairs the first's project and run id lists but was not asked for: not waited for.
      await ctx.tx((em) => store.runs(em, team.id, [{ project: 'llm', runId: 'r2' }]));
      order.push('second');
      await first;
      expect(order).toEqual(['second', 'first']);
    });

    it('are read together: every run asked for that has a row, and no other pair of the lists', async () => {
      const run = (state: RunState, group: string | null = null): StoredRun => ({ state, windows: { loss: [1] }, context: { group, tags: null, config: null } });
      await ctx.tx((em) =>
        store.saveRuns(em, team.id, [
          { project: 'llm', runId: 'r1', run: run('RUNNING') },
          { project: 'vision', runId: 'r2', run: run('FINISHED', 'g') },
          // Stored, and a pair of the two lists below (llm × r2), but not asked for.
          { project: 'llm', runId: 'r2', run: run('FAILED') },
        ], now()),
      );
      const read = await ctx.tx((em) => store.runs(em, team.id, [{ project: 'llm', runId: 'r1' }, { project: 'vision', runId: 'r2' }, { project: 'llm', runId: 'new' }]));
      expect(read).toEqual(new Map([[runKey({ project: 'llm', runId: 'r1' }), run('RUNNING')], [runKey({ project: 'vision', runId: 'r2' }), run('FINISHED', 'g')]]));
      expect((await ctx.tx((em) => store.runs(em, team.id, []))).size).toBe(0);
    });
  });

  describe('edge and cooldown states', () => {
    const state = (automationId: string, subject: string, extra: Partial<StoredState> = {}): StoredState => ({
      automationId,
      subject,
      triggerVersion: 1,
      matching: true,
      lastFiredAt: now() - 100,
      updatedAt: now(),
      ...extra,
    });

    it('are read by blocks of automations × subjects, only the pairs asked, each handed over as stored', async () => {
      const second = await ctx.newAutomation(team, hook);
      const stored = [
        state(automation.id, 'run:llm/r1'),
        state(second.id, 'run:llm/r1', { matching: false, lastFiredAt: null, triggerVersion: 3 }),
        state(automation.id, 'project:llm', { matching: false }),
      ];
      await ctx.tx((em) => store.saveStates(em, stored));
      for (const s of stored) await ctx.expectAsStored(AutomationStateEntity, { ...s });

      const read: Omit<StoredState, 'updatedAt'>[] = [];
      const found = (automationId: string, subject: string, triggerVersion: number, matching: boolean, lastFiredAt: number | null) =>
        read.push({ automationId, subject, triggerVersion, matching, lastFiredAt });
      await ctx.tx((em) =>
        store.states(
          em,
          [
            { automationIds: [automation.id, second.id], subjects: ['run:llm/r1'] },
            { automationIds: [second.id], subjects: ['project:llm', 'run:llm/r2'] },
            { automationIds: [], subjects: ['project:llm'] },
          ],
          found,
        ),
      );
      const withoutTime = ({ updatedAt: _, ...rest }: StoredState) => rest;
      expect(read.sort((a, b) => a.automationId.localeCompare(b.automationId))).toEqual([stored[0], stored[1]].map(withoutTime).sort((a, b) => a.automationId.localeCompare(b.automationId)));
      read.length = 0;
      await ctx.tx((em) => store.states(em, [], found));
      expect(read).toEqual([]);
    });

    it('a second save replaces a state (upsert), in batches larger than one INSERT', async () => {
      const subjects = Array.from({ length: 120 }, (_, i) => `run:llm/r${i}`);
      await ctx.tx((em) => store.saveStates(em, subjects.map((s) => state(automation.id, s))));
      ctx.clock.advance(5_000);
      const next = subjects.map((s) => state(automation.id, s, { matching: false, lastFiredAt: now(), triggerVersion: 2 }));
      await ctx.tx((em) => store.saveStates(em, next));
      expect(await ctx.repo(AutomationStateEntity).countBy({ automationId: automation.id })).toBe(120);
      await ctx.expectAsStored(AutomationStateEntity, { ...next[119] });
    });
  });

  it('insertDeliveries writes every column of each delivery, in batches larger than one INSERT', async () => {
    const deliveries = Array.from({ length: 130 }, (_, i): DeliveryEntity => ({
      id: newId('msg'),
      teamId: team.id,
      automationId: automation.id,
      automationName: automation.name,
      webhookId: hook.id,
      eventId: `evt-${i}`,
      eventType: 'RUN_METRICS',
      status: i % 2 === 0 ? 'pending' : 'held',
      body: `{"i":${i},"t":"\${TOKEN}"}`,
      bodyForm: 'deferred',
      series: 1,
      attemptCount: 0,
      nextAttemptAt: now() + i,
      leaseUntil: now() + 2 * i,
      lastStatusCode: 200 + i,
      lastError: `error ${i}`,
      firstAttempt: null, // recorded by the first attempt, never at insert
      createdAt: now() - i,
      updatedAt: now(),
    }));
    expect(ctx.nullColumns(DeliveryEntity, deliveries[0])).toEqual(['firstAttempt']);
    await ctx.tx((em) => store.insertDeliveries(em, deliveries));
    expect(await ctx.repo(DeliveryEntity).countBy({ automationId: automation.id })).toBe(130);
    for (const d of [deliveries[0], deliveries[101], deliveries[129]]) await ctx.expectAsStored(DeliveryEntity, d);
  });

  it('countFires adds to the automation\'s fire count and records when it last fired', async () => {
    await ctx.tx((em) => store.countFires(em, automation.id, 3, now()));
    ctx.clock.advance(60_000);
    await ctx.tx((em) => store.countFires(em, automation.id, 2, now()));
    expect(await ctx.repo(AutomationEntity).findOneByOrFail({ id: automation.id })).toMatchObject({ fireCount: 5, lastFiredAt: now() });
  });
});
