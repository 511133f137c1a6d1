import type { TeamFixture } from '../../test/support/fixtures';
import { MediumContext } from '../../test/support/medium';
import { ApiError } from '../common/errors/api-error';
import { DeliveryStore } from '../delivery/delivery-store';
import type { DeliveryEntity } from '../delivery/delivery.entity';
import type { DisabledReason } from './webhook-kinds';
import { WebhookEntity } from './webhook.entity';
import { WebhooksService } from './webhooks.service';

const HOUR = 3_600_000;

describe('WebhooksService re-arming (medium: real database after migrations)', () => {
  let ctx: MediumContext;
  let webhooks: WebhooksService;
  let team: TeamFixture;

  beforeAll(async () => {
    ctx = await MediumContext.start();
    webhooks = ctx.get(WebhooksService);
    team = await ctx.newTeam();
  });
  afterAll(() => ctx.close());

  const now = () => ctx.clock.now();
  const webhookRow = (id: string) => ctx.repo(WebhookEntity).findOneByOrFail({ id });

  /**
   * A webhook whose failure streak began an hour ago and that Herald (or its user) then
   * disabled, with one delivery in each state its history can leave behind.
   */
  async function disabledWebhook(reason: DisabledReason) {
    const hook = await ctx.newWebhook(team);
    const streakStart = now() - HOUR;
    const at = (ms: number) => ({ updatedAt: ms, nextAttemptAt: null });
    const rows = {
      held: await ctx.newDelivery(team, hook, { status: 'held', series: 1, attemptCount: 2, ...at(now() - 60_000) }),
      failedInStreak: await ctx.newDelivery(team, hook, { status: 'failed', attemptCount: 8, lastStatusCode: 503, ...at(streakStart) }),
      failedBefore: await ctx.newDelivery(team, hook, { status: 'failed', attemptCount: 1, lastStatusCode: 400, ...at(streakStart - 1) }),
      succeeded: await ctx.newDelivery(team, hook, { status: 'succeeded', attemptCount: 1, ...at(streakStart + 10) }),
      cancelled: await ctx.newDelivery(team, hook, { status: 'cancelled', ...at(streakStart + 10) }),
    };
    if (reason === 'user') {
      await ctx.tx((em) => ctx.get(DeliveryStore).startFailing(em, hook.id, streakStart));
      await webhooks.update(team.auth, hook.id, { enabled: false });
    } else {
      await ctx.tx((em) => ctx.get(DeliveryStore).disableWebhook(em, hook.id, reason, streakStart, now() - 30_000));
    }
    ctx.clock.advance(1_000);
    return { hook, rows };
  }

  const unchanged = async (...rows: DeliveryEntity[]) => {
    for (const row of rows) expect(await ctx.delivery(row.id)).toEqual(row);
  };

  it.each(['failing', 'gone'] as const)(
    'enable after Herald disabled it (%s): held deliveries continue, those failed during the streak start a new series',
    async (reason) => {
      const { hook, rows } = await disabledWebhook(reason);
      const wakes = ctx.dispatcher.wakes;

      const answer = await webhooks.enable(team.auth, hook.id);
      expect(answer).toMatchObject({ id: hook.id, enabled: true, disabledReason: null });
      expect(await webhookRow(hook.id)).toMatchObject({ enabled: true, disabledReason: null, failingSince: null });

      expect(await ctx.delivery(rows.held.id)).toMatchObject({ status: 'pending', series: 1, attemptCount: 2, nextAttemptAt: now() });
      expect(await ctx.delivery(rows.failedInStreak.id)).toMatchObject({ status: 'pending', series: 2, attemptCount: 0, nextAttemptAt: now(), leaseUntil: null });
      await unchanged(rows.failedBefore, rows.succeeded, rows.cancelled);
      // The worker is told to look: the released deliveries are due now.
      expect(ctx.dispatcher.wakes).toBe(wakes + 1);
    },
  );

  it('enable after its user disabled it releases held deliveries but re-sends nothing that failed', async () => {
    const { hook, rows } = await disabledWebhook('user');
    expect(await webhookRow(hook.id)).toMatchObject({ enabled: false, disabledReason: 'user' });
    await webhooks.enable(team.auth, hook.id);
    expect(await webhookRow(hook.id)).toMatchObject({ enabled: true, disabledReason: null, failingSince: null });
    expect(await ctx.delivery(rows.held.id)).toMatchObject({ status: 'pending', nextAttemptAt: now() });
    await unchanged(rows.failedInStreak, rows.failedBefore, rows.succeeded, rows.cancelled);
  });

  it('PATCH enabled: false by a person holds its waiting deliveries; enable releases them', async () => {
    const hook = await ctx.newWebhook(team);
    const pending = await ctx.newDelivery(team, hook, { status: 'pending', nextAttemptAt: now() + 1000 });
    const retrying = await ctx.newDelivery(team, hook, { status: 'retrying', nextAttemptAt: now() + 60_000, attemptCount: 2 });
    const done = await ctx.newDelivery(team, hook, { status: 'succeeded', nextAttemptAt: null });
    await webhooks.update(team.auth, hook.id, { enabled: false });
    expect(await webhookRow(hook.id)).toMatchObject({ enabled: false, disabledReason: 'user' });
    expect(await ctx.delivery(pending.id)).toMatchObject({ status: 'held', nextAttemptAt: null });
    expect(await ctx.delivery(retrying.id)).toMatchObject({ status: 'held', nextAttemptAt: null, attemptCount: 2 });
    await unchanged(done);
    await webhooks.update(team.auth, hook.id, { enabled: true });
    expect(await ctx.delivery(pending.id)).toMatchObject({ status: 'pending', nextAttemptAt: now() });
    expect(await ctx.delivery(retrying.id)).toMatchObject({ status: 'pending', nextAttemptAt: now(), attemptCount: 2, series: 1 });
  });

  it('PATCH enabled: true re-arms as enable does', async () => {
    const { hook, rows } = await disabledWebhook('failing');
    await webhooks.update(team.auth, hook.id, { enabled: true });
    expect(await webhookRow(hook.id)).toMatchObject({ enabled: true, disabledReason: null, failingSince: null });
    expect(await ctx.delivery(rows.held.id)).toMatchObject({ status: 'pending', series: 1, nextAttemptAt: now() });
    expect(await ctx.delivery(rows.failedInStreak.id)).toMatchObject({ status: 'pending', series: 2, attemptCount: 0 });
    await unchanged(rows.failedBefore, rows.succeeded, rows.cancelled);
  });

  it('a PATCH that leaves it disabled, or an enable of an enabled webhook, re-arms nothing', async () => {
    const { hook, rows } = await disabledWebhook('failing');
    await webhooks.update(team.auth, hook.id, { name: 'renamed while disabled' });
    expect(await webhookRow(hook.id)).toMatchObject({ name: 'renamed while disabled', enabled: false, disabledReason: 'failing' });
    await unchanged(...Object.values(rows));

    const enabled = await ctx.newWebhook(team);
    const failed = await ctx.newDelivery(team, enabled, { status: 'failed', nextAttemptAt: null });
    await ctx.tx((em) => ctx.get(DeliveryStore).startFailing(em, enabled.id, now() - HOUR));
    await webhooks.enable(team.auth, enabled.id);
    await unchanged(failed);
  });

  it('another team cannot enable it: 404, nothing re-armed', async () => {
    const { hook, rows } = await disabledWebhook('failing');
    const other = await ctx.newTeam();
    const refused = await webhooks.enable(other.auth, hook.id).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).getStatus()).toBe(404);
    expect(await webhookRow(hook.id)).toMatchObject({ enabled: false, disabledReason: 'failing' });
    await unchanged(...Object.values(rows));
  });
});
