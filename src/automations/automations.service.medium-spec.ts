import { alertEvent, type TeamFixture } from '../../test/support/fixtures';
import { MediumContext } from '../../test/support/medium';
import { TeamEntity } from '../auth/team.entity';
import { ApiError } from '../common/errors/api-error';
import { NameTakenError } from '../common/errors/domain-errors';
import { DeliveryEntity } from '../delivery/delivery.entity';
import { EventEntity } from '../events/event.entity';
import { SecretsService } from '../secrets/secrets.service';
import type { WebhookDto } from '../webhooks/dto/webhook.dto';
import { AutomationStateEntity } from './automation-state.entity';
import { AutomationEntity } from './automation.entity';
import { AutomationsService } from './automations.service';

const HOUR = 3_600_000;
/** GPU utilisation of one run, one RUN_METRICS event per value. */
const gpu = (run: string, value: number) => ({ type: 'RUN_METRICS', project: 'llm', run: { id: run, name: run }, metrics: { gpu: value } });
const gpuAbove = (threshold: number) => ({ event: 'RUN_METRIC_THRESHOLD', metric: 'gpu', agg: 'LAST', window: 1, op: '>', threshold });

describe('AutomationsService (medium: real database after migrations)', () => {
  let ctx: MediumContext;
  let automations: AutomationsService;
  let team: TeamFixture;
  let hook: WebhookDto;

  beforeAll(async () => {
    ctx = await MediumContext.start();
    automations = ctx.get(AutomationsService);
  });
  afterAll(() => ctx.close());
  beforeEach(async () => {
    team = await ctx.newTeam();
    hook = await ctx.newWebhook(team);
  });

  const version = async () => (await ctx.repo(TeamEntity).findOneByOrFail({ id: team.id })).automationsVersion;
  const row = (id: string) => ctx.repo(AutomationEntity).findOneByOrFail({ id });
  const refusal = (promise: Promise<unknown>) => promise.then(() => null, (error: unknown) => error);
  const fired = async (events: Record<string, unknown>[]) => (await ctx.newEvents(team, events)).map((r) => r.matched);

  describe('create', () => {
    it('stores the automation at trigger version 1, bumps the team\'s catalog version, answers the view with defaults filled in', async () => {
      const before = await version();
      const view = await ctx.newAutomation(team, hook, { name: 'gpu hot', scope: { type: 'project', name: 'llm' }, trigger: gpuAbove(90) });
      expect(view).toMatchObject({
        name: 'gpu hot',
        enabled: true,
        cooldownSeconds: 86_400, // edge-triggered kinds default to a day
        fireCount: 0,
        lastFiredAt: null,
        createdAt: new Date(ctx.clock.now()).toISOString(),
      });
      expect(await row(view.id)).toMatchObject({
        teamId: team.id,
        webhookId: hook.id,
        triggerEvent: 'RUN_METRIC_THRESHOLD',
        trigger: gpuAbove(90),
        cooldownSeconds: null,
        triggerVersion: 1,
        fireCount: 0,
      });
      expect(await version()).toBe(before + 1);
      expect((await ctx.newAutomation(team, hook)).cooldownSeconds).toBe(0); // alerts are not edge-triggered
    });

    it('refuses a webhook of another team and a taken name, storing nothing and bumping nothing', async () => {
      const other = await ctx.newTeam();
      const theirs = await ctx.newWebhook(other);
      const before = await version();

      const refused = await refusal(ctx.newAutomation(team, theirs, { name: 'borrowed' }));
      expect(refused).toBeInstanceOf(ApiError);
      expect((refused as ApiError).details).toEqual([{ field: 'action.webhookId', reason: expect.stringContaining('does not exist in this team') }]);

      await ctx.newAutomation(team, hook, { name: 'taken' });
      const taken = await version();
      expect(await refusal(ctx.newAutomation(team, hook, { name: 'taken' }))).toBeInstanceOf(NameTakenError);

      expect(await version()).toBe(taken);
      expect(taken).toBe(before + 1);
      expect(await ctx.repo(AutomationEntity).countBy({ teamId: team.id })).toBe(1);
    });
  });

  describe('update', () => {
    it('a new trigger or scope bumps the trigger version; other changes keep it; every change bumps the catalog version', async () => {
      const a = await ctx.newAutomation(team, hook, { trigger: gpuAbove(90), scope: { type: 'project', name: 'llm' } });
      const steps: [Record<string, unknown>, number][] = [
        [{ name: 'renamed' }, 1],
        [{ cooldownSeconds: 60, description: 'hot GPUs' }, 1],
        [{ action: { webhookId: hook.id, payload: { gpu: '${metric_value}' } } }, 1],
        [{ enabled: false }, 1],
        [{ trigger: gpuAbove(80) }, 2],
        [{ scope: { type: 'team' } }, 3],
      ];
      for (const [patch, triggerVersion] of steps) {
        const before = await version();
        await automations.update(team.auth, a.id, patch);
        expect([patch, (await row(a.id)).triggerVersion]).toEqual([patch, triggerVersion]);
        expect(await version()).toBe(before + 1);
      }
      expect(await row(a.id)).toMatchObject({ name: 'renamed', cooldownSeconds: 60, enabled: false, scope: { type: 'team' } });
    });

    it('a new trigger resets the edge: the next matching event fires again; an unrelated change keeps it', async () => {
      const a = await ctx.newAutomation(team, hook, { trigger: gpuAbove(90), cooldownSeconds: 0 });
      expect(await fired([gpu('r1', 95), gpu('r1', 96)])).toEqual([1, 0]); // a rising edge fires once
      await automations.update(team.auth, a.id, { name: 'renamed' });
      expect(await fired([gpu('r1', 97)])).toEqual([0]);
      await automations.update(team.auth, a.id, { trigger: gpuAbove(80) });
      expect(await fired([gpu('r1', 98), gpu('r1', 99)])).toEqual([1, 0]);
      expect(await row(a.id)).toMatchObject({ triggerVersion: 2, fireCount: 2 });
    });

    it('is seen by the very next ingestion: disabled stops matching, enabled starts again', async () => {
      const a = await ctx.newAutomation(team, hook);
      expect((await ctx.newEvent(team)).matched).toBe(1);
      await automations.update(team.auth, a.id, { enabled: false });
      expect((await ctx.newEvent(team)).matched).toBe(0);
      await automations.update(team.auth, a.id, { enabled: true });
      expect((await ctx.newEvent(team)).matched).toBe(1);
    });
  });

  it('delete removes the automation and its edge states; the next ingestion no longer matches it', async () => {
    const a = await ctx.newAutomation(team, hook, { trigger: gpuAbove(90) });
    expect(await fired([gpu('r1', 95)])).toEqual([1]);
    expect(await ctx.repo(AutomationStateEntity).countBy({ automationId: a.id })).toBe(1);
    const before = await version();

    await automations.delete(team.auth, a.id);
    expect(await ctx.repo(AutomationEntity).countBy({ id: a.id })).toBe(0);
    expect(await ctx.repo(AutomationStateEntity).countBy({ automationId: a.id })).toBe(0);
    expect(await version()).toBe(before + 1);
    expect(await fired([gpu('r2', 95)])).toEqual([0]);
    expect((await refusal(automations.get(team.auth, a.id)) as ApiError).getStatus()).toBe(404);
  });

  it('list pages by name within the team', async () => {
    for (const name of ['c', 'a', 'b']) await ctx.newAutomation(team, hook, { name });
    const other = await ctx.newTeam();
    await ctx.newAutomation(other, await ctx.newWebhook(other), { name: 'a0' });
    const first = await automations.list(team.auth, { limit: 2 });
    expect(first.items.map((a) => a.name)).toEqual(['a', 'b']);
    const second = await automations.list(team.auth, { limit: 2, cursor: first.nextCursor! });
    expect(second).toMatchObject({ items: [{ name: 'c' }], nextCursor: null });
  });

  describe('preview', () => {
    it('explains what an event would do against the stored edge and cooldown state, writing nothing', async () => {
      const a = await ctx.newAutomation(team, hook, { trigger: gpuAbove(90), cooldownSeconds: 3600, runFilter: { nameRegex: '^r' } });
      expect(await automations.preview(team.auth, a.id, gpu('r1', 95))).toMatchObject({ wouldFire: true, cooldownActive: false });
      expect(await automations.preview(team.auth, a.id, { ...gpu('r1', 95), run: { id: 'r1', name: 'x1' } })).toMatchObject({
        wouldFire: false,
        filters: expect.arrayContaining([expect.objectContaining({ filter: 'runFilter.nameRegex', passed: false })]),
      });

      expect(await fired([gpu('r1', 95), gpu('r1', 40)])).toEqual([1, 0]); // fired; then dropped below
      const state = await ctx.repo(AutomationStateEntity).findOneByOrFail({ automationId: a.id });
      // A rise inside the cooldown would not fire.
      expect(await automations.preview(team.auth, a.id, gpu('r1', 97))).toMatchObject({ wouldFire: false, cooldownActive: true });
      ctx.clock.advance(HOUR);
      expect(await automations.preview(team.auth, a.id, gpu('r1', 97))).toMatchObject({ wouldFire: true, cooldownActive: false });

      expect(await ctx.repo(AutomationStateEntity).findOneByOrFail({ automationId: a.id })).toEqual(state);
      expect(await ctx.repo(EventEntity).countBy({ teamId: team.id })).toBe(2);
      expect(await ctx.repo(DeliveryEntity).countBy({ automationId: a.id })).toBe(1);
    });

    it('adds the event\'s metrics to the run\'s stored window', async () => {
      const a = await ctx.newAutomation(team, hook, { trigger: { ...gpuAbove(90), agg: 'AVERAGE', window: 2 } });
      expect(await fired([gpu('w1', 100)])).toEqual([0]); // the window of 2 is not full yet
      expect(await automations.preview(team.auth, a.id, gpu('w1', 100))).toMatchObject({ wouldFire: true });
      expect(await automations.preview(team.auth, a.id, gpu('w2', 100))).toMatchObject({ wouldFire: false });
    });

    it('renders the body with secret values masked', async () => {
      await ctx.get(SecretsService).create(team.auth, 'GH_TOKEN', 'ghp_secret_value_123456');
      const github = await ctx.newWebhook(team, { kind: 'github', accessTokenSecret: 'GH_TOKEN' });
      const a = await ctx.newAutomation(team, github, { action: { payload: { token: '${ACCESS_TOKEN}', title: '${alert_title}' } } });
      const result = await automations.preview(team.auth, a.id, alertEvent({ title: 'disk full' }));
      expect(result).toMatchObject({ wouldFire: true, body: { token: '••••••', title: 'disk full' } });
      expect(JSON.stringify(result)).not.toContain('ghp_secret_value_123456');
    });

    it('of an unsaved automation validates it (fields under automation.) and stores nothing', async () => {
      const before = await version();
      const draft = { name: 'draft', scope: { type: 'team' }, trigger: { event: 'ALERT', levels: ['ERROR'] }, action: { webhookId: hook.id } };
      expect(await automations.previewUnsaved(team.auth, { automation: draft, event: alertEvent() })).toMatchObject({ wouldFire: true });
      const refused = await refusal(automations.previewUnsaved(team.auth, { automation: { ...draft, action: { webhookId: 'wh_nope' } }, event: alertEvent() }));
      expect((refused as ApiError).details).toEqual([{ field: 'automation.action.webhookId', reason: expect.any(String) }]);
      expect(await ctx.repo(AutomationEntity).countBy({ teamId: team.id })).toBe(0);
      expect(await version()).toBe(before);
    });
  });
});
