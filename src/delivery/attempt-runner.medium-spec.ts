import type { TeamFixture } from '../../test/support/fixtures';
import { MediumContext } from '../../test/support/medium';
import type { WebhookDto } from '../webhooks/dto/webhook.dto';
import { WebhookEntity } from '../webhooks/webhook.entity';
import { AttemptRunner } from './attempt-runner';
import type { SendRequest, SendTarget } from './delivery-sender';
import { DeliveryStore } from './delivery-store';
import type { DeliveryEntity } from './delivery.entity';
import type { SendOutcome } from './http-executor';

/** Stands in for DeliverySender: answers scripted outcomes (success by default) and records each send. */
class ScriptedSender {
  readonly sent: { target: SendTarget; deliveryId: string; eventType: string; body: string }[] = [];
  private readonly script: Partial<SendOutcome>[] = [];
  /** The secret values the sender "resolves" for a deferred body. */
  readonly secrets = new Map([['TOKEN', 'tok-live-value']]);

  answer(...outcomes: Partial<SendOutcome>[]): void {
    this.script.push(...outcomes);
  }

  async send(target: SendTarget, request: SendRequest): Promise<SendOutcome> {
    this.sent.push({ target, deliveryId: request.deliveryId, eventType: request.eventType, body: request.body((name) => this.secrets.get(name)) });
    return { ...OK, ...this.script.shift() };
  }
}

const OK: SendOutcome = {
  kind: 'success',
  statusCode: 200,
  durationMs: 12,
  responseExcerpt: 'ok',
  errorClass: null,
  errorMessage: null,
  retryAfterMs: null,
  gone: false,
};
const http = (statusCode: number, kind: SendOutcome['kind'] = 'retryable'): Partial<SendOutcome> => ({ kind, statusCode, responseExcerpt: `status ${statusCode}` });
const HOUR = 3_600_000;

describe('AttemptRunner (medium: real database, scripted sender)', () => {
  let ctx: MediumContext;
  let runner: AttemptRunner;
  let store: DeliveryStore;
  let sender: ScriptedSender;
  let team: TeamFixture;

  beforeAll(async () => {
    sender = new ScriptedSender();
    ctx = await MediumContext.start({
      sender,
      env: { HERALD_DISABLE_AFTER: '1h', HERALD_HTTP_DEADLINE_MS: '2000', HERALD_LEASE_MARGIN_MS: '3000' },
    });
    runner = ctx.get(AttemptRunner);
    store = ctx.get(DeliveryStore);
    team = await ctx.newTeam();
  });
  afterAll(() => ctx.close());

  const now = () => ctx.clock.now();
  const attemptsOf = (deliveryId: string) => ctx.tx(async (em) => store.attempts(em, await ctx.delivery(deliveryId)));
  const webhookRow = (id: string) => ctx.repo(WebhookEntity).findOneByOrFail({ id });
  const newHook = (delivery: Record<string, unknown> = { scheduleSeconds: [0, 60], maxAttempts: 3 }) => ctx.newWebhook(team, { delivery });

  /** What a worker does with a due delivery: read its webhook, claim it, send once and record. */
  async function claimAndSend(delivery: DeliveryEntity, beforeSend: (webhook: WebhookEntity) => Promise<void> = async () => undefined) {
    const webhook = (await ctx.tx((em) => store.webhooks(em, [delivery.webhookId]))).get(delivery.webhookId)!;
    const target = { id: delivery.id, series: delivery.series, attemptCount: delivery.attemptCount };
    expect(await ctx.tx((em) => runner.claim(em, [target], now()))).toEqual(new Set([delivery.id]));
    await beforeSend(webhook);
    let released = 0;
    const next = await runner.attempt(await ctx.delivery(delivery.id), webhook, () => released++);
    expect(released).toBe(1);
    return next;
  }

  it('claim leases a delivery for the HTTP deadline plus the lease margin', async () => {
    const d = await ctx.newDelivery(team, await newHook());
    expect(await ctx.tx((em) => runner.claim(em, [{ id: d.id, series: 1, attemptCount: 0 }], now()))).toEqual(new Set([d.id]));
    expect(await ctx.delivery(d.id)).toMatchObject({ status: 'sending', leaseUntil: now() + 2_000 + 3_000 });
  });

  describe('triage before claiming', () => {
    it('fails a delivery whose webhook was deleted, and holds one whose webhook is disabled, whoever disabled it', async () => {
      const hook = await newHook();
      const [deleted, byHerald, byUser, enabled] = await Promise.all([1, 2, 3, 4].map(() => ctx.newDelivery(team, hook)));
      const triage = (d: DeliveryEntity, webhook: Parameters<AttemptRunner['triage']>[2]) => ctx.tx((em) => runner.triage(em, d, webhook, now()));

      expect(await triage(deleted, null)).toBe(false);
      expect(await triage(byHerald, { enabled: false, disabledReason: 'failing' })).toBe(false);
      expect(await triage(byUser, { enabled: false, disabledReason: 'user' })).toBe(false);
      expect(await triage(enabled, { enabled: true, disabledReason: null })).toBe(true);

      expect(await ctx.delivery(deleted.id)).toMatchObject({ status: 'failed', lastError: 'The webhook was deleted', nextAttemptAt: null });
      expect(await ctx.delivery(byHerald.id)).toMatchObject({ status: 'held', nextAttemptAt: null });
      // A person's pause keeps the queue: held, released by enable (not cancelled).
      expect(await ctx.delivery(byUser.id)).toMatchObject({ status: 'held', nextAttemptAt: null });
      expect(await ctx.delivery(enabled.id)).toEqual(enabled);
    });
  });

  describe('an attempt and its record', () => {
    it('a success: delivery succeeded, the attempt recorded, the webhook\'s failure streak ended', async () => {
      const hook = await newHook();
      await ctx.tx((em) => store.startFailing(em, hook.id, now() - 60_000));
      const d = await ctx.newDelivery(team, hook, { eventType: 'RUN_STATE', body: '{"token":"${TOKEN}"}', bodyForm: 'deferred' });
      ctx.clock.advance(100);

      expect(await claimAndSend(d)).toBeNull();
      expect(sender.sent.at(-1)).toMatchObject({ deliveryId: d.id, eventType: 'RUN_STATE', body: '{"token":"tok-live-value"}', target: { url: hook.url } });
      expect(await ctx.delivery(d.id)).toMatchObject({
        status: 'succeeded',
        attemptCount: 1,
        nextAttemptAt: null,
        leaseUntil: null,
        lastStatusCode: 200,
        lastError: null,
        updatedAt: now(),
      });
      expect(await attemptsOf(d.id)).toEqual([
        expect.objectContaining({ series: 1, number: 1, startedAt: now(), durationMs: 12, statusCode: 200, responseExcerpt: 'ok', errorClass: null, willRetry: false }),
      ]);
      expect(await webhookRow(hook.id)).toMatchObject({ enabled: true, failingSince: null, lastSuccessAt: now() });
    });

    it('a final body is sent as stored', async () => {
      const d = await ctx.newDelivery(team, await newHook(), { body: '{"price":"${TOKEN}"}', bodyForm: 'final' });
      await claimAndSend(d);
      expect(sender.sent.at(-1)!.body).toBe('{"price":"${TOKEN}"}');
    });

    it('a retryable failure: retrying on the webhook\'s schedule, the next attempt answered, a streak started', async () => {
      const hook = await newHook();
      const d = await ctx.newDelivery(team, hook);
      sender.answer(http(503));
      const next = await claimAndSend(d);

      const row = await ctx.delivery(d.id);
      expect(row).toMatchObject({ status: 'retrying', attemptCount: 1, leaseUntil: null, lastStatusCode: 503, lastError: 'HTTP 503' });
      // schedule [0, 60]: the second attempt 60 s later, ±20 % jitter
      expect(row.nextAttemptAt).toBeGreaterThanOrEqual(now() + 48_000);
      expect(row.nextAttemptAt).toBeLessThanOrEqual(now() + 72_000);
      expect(next).toEqual({ id: d.id, series: 1, attempt: 2, dueAt: row.nextAttemptAt });
      expect(await attemptsOf(d.id)).toEqual([expect.objectContaining({ number: 1, statusCode: 503, willRetry: true })]);
      expect(await webhookRow(hook.id)).toMatchObject({ enabled: true, failingSince: now() });
    });

    it('Retry-After sets the delay; a network error is recorded with its class', async () => {
      const d = await ctx.newDelivery(team, await newHook());
      sender.answer({ kind: 'retryable', statusCode: 429, retryAfterMs: 2_000 });
      expect(await claimAndSend(d)).toEqual({ id: d.id, series: 1, attempt: 2, dueAt: now() + 2_000 });

      ctx.clock.advance(2_000);
      sender.answer({ kind: 'retryable', statusCode: null, responseExcerpt: '', errorClass: 'network', errorMessage: 'socket hang up' });
      await claimAndSend(await ctx.delivery(d.id));
      expect(await ctx.delivery(d.id)).toMatchObject({ status: 'retrying', attemptCount: 2, lastStatusCode: null, lastError: 'socket hang up' });
      expect((await attemptsOf(d.id)).map((a) => [a.number, a.statusCode, a.errorClass, a.errorMessage])).toEqual([
        [1, 429, null, null],
        [2, null, 'network', 'socket hang up'],
      ]);
    });

    it('a final answer, or the last attempt of the series, fails the delivery', async () => {
      const hook = await newHook();
      const final = await ctx.newDelivery(team, hook);
      sender.answer(http(400, 'final'));
      expect(await claimAndSend(final)).toBeNull();
      expect(await ctx.delivery(final.id)).toMatchObject({ status: 'failed', attemptCount: 1, nextAttemptAt: null, lastStatusCode: 400 });

      const last = await ctx.newDelivery(team, hook, { status: 'retrying', attemptCount: 2 }); // maxAttempts 3
      sender.answer(http(500));
      expect(await claimAndSend(last)).toBeNull();
      expect(await ctx.delivery(last.id)).toMatchObject({ status: 'failed', attemptCount: 3, nextAttemptAt: null });
      expect(await attemptsOf(last.id)).toEqual([expect.objectContaining({ number: 3, willRetry: false })]);
      // a failure does not disable before HERALD_DISABLE_AFTER
      expect(await webhookRow(hook.id)).toMatchObject({ enabled: true, disabledReason: null });
    });

    it('attempts of a new series are numbered from 1 in that series', async () => {
      const d = await ctx.newDelivery(team, await newHook(), { series: 2, attemptCount: 0 });
      await claimAndSend(d);
      expect(await attemptsOf(d.id)).toEqual([expect.objectContaining({ series: 2, number: 1 })]);
    });

    it('a webhook deleted during the send fails the delivery, with its attempt recorded', async () => {
      const hook = await newHook();
      const d = await ctx.newDelivery(team, hook);
      sender.answer(http(500));
      const next = await claimAndSend(d, () => ctx.repo(WebhookEntity).delete({ id: hook.id }).then(() => undefined));
      expect(next).toBeNull();
      expect(await ctx.delivery(d.id)).toMatchObject({ status: 'failed', attemptCount: 1, nextAttemptAt: null });
      expect(await attemptsOf(d.id)).toEqual([expect.objectContaining({ number: 1, statusCode: 500, willRetry: false })]);
    });

    it('outcomes that complete together are each recorded', async () => {
      const hook = await newHook();
      const deliveries = await Promise.all([1, 2, 3].map(() => ctx.newDelivery(team, hook)));
      sender.answer(OK, http(502), OK);
      await Promise.all(deliveries.map((d) => claimAndSend(d)));
      const statuses = await Promise.all(deliveries.map(async (d) => (await ctx.delivery(d.id)).status));
      expect([...statuses].sort()).toEqual(['retrying', 'succeeded', 'succeeded']);
      for (const d of deliveries) expect(await attemptsOf(d.id)).toHaveLength(1);
    });
  });

  describe('webhook health', () => {
    it('410 disables the webhook as gone and holds its waiting deliveries', async () => {
      const hook = await newHook();
      const [d, waiting, retrying] = await Promise.all([
        ctx.newDelivery(team, hook),
        ctx.newDelivery(team, hook),
        ctx.newDelivery(team, hook, { status: 'retrying', nextAttemptAt: now() + 60_000 }),
      ]);
      sender.answer({ kind: 'final', statusCode: 410, gone: true });
      expect(await claimAndSend(d)).toBeNull();

      expect(await webhookRow(hook.id)).toMatchObject({ enabled: false, disabledReason: 'gone', failingSince: now() });
      expect(await ctx.delivery(d.id)).toMatchObject({ status: 'failed', lastStatusCode: 410 });
      for (const other of [waiting, retrying]) expect(await ctx.delivery(other.id)).toMatchObject({ status: 'held', nextAttemptAt: null });
    });

    it('in one recorded batch, a retry decided before a 410 is held by it, not left due', async () => {
      const hook = await newHook();
      const [first, second] = await Promise.all([ctx.newDelivery(team, hook), ctx.newDelivery(team, hook)]);
      await ctx.tx((em) => runner.claim(em, [first, second], now()));
      const outcome = (delivery: DeliveryEntity, answer: Partial<SendOutcome>) => ({ delivery, webhookId: hook.id, outcome: { ...OK, ...answer }, startedAt: now() });
      const next = await ctx.tx((em) =>
        runner.record(em, [outcome(first, http(503)), outcome(second, { kind: 'final', statusCode: 410, gone: true })]),
      );
      expect(next).toEqual([expect.objectContaining({ id: first.id }), null]);
      expect(await ctx.delivery(first.id)).toMatchObject({ status: 'held', attemptCount: 1, nextAttemptAt: null, leaseUntil: null });
      expect(await ctx.delivery(second.id)).toMatchObject({ status: 'failed', attemptCount: 1, lastStatusCode: 410 });
      expect(await webhookRow(hook.id)).toMatchObject({ enabled: false, disabledReason: 'gone' });
    });

    it('a failure streak longer than HERALD_DISABLE_AFTER disables it as failing; the retry waits, held, for enable', async () => {
      const hook = await newHook();
      const d = await ctx.newDelivery(team, hook);
      const waiting = await ctx.newDelivery(team, hook);
      sender.answer(http(503));
      await claimAndSend(d);
      const started = now();
      expect(await webhookRow(hook.id)).toMatchObject({ enabled: true, failingSince: started });

      // Still inside the streak's allowance: the streak is not restarted, the webhook stays enabled.
      ctx.clock.advance(HOUR - 1);
      sender.answer(http(503));
      await claimAndSend(await ctx.delivery(waiting.id));
      expect(await webhookRow(hook.id)).toMatchObject({ enabled: true, failingSince: started });

      ctx.clock.advance(1);
      const third = await ctx.newDelivery(team, hook);
      sender.answer(http(503));
      expect(await claimAndSend(third)).toBeNull();
      expect(await webhookRow(hook.id)).toMatchObject({ enabled: false, disabledReason: 'failing', failingSince: started });
      expect(await ctx.delivery(third.id)).toMatchObject({ status: 'held', attemptCount: 1, nextAttemptAt: null });
      expect(await attemptsOf(third.id)).toEqual([expect.objectContaining({ willRetry: false })]);
      for (const other of [d, waiting]) expect(await ctx.delivery(other.id)).toMatchObject({ status: 'held', nextAttemptAt: null });
    });
  });

  describe('reclaimLeases', () => {
    it('makes expired leases due again, or every lease when asked for all', async () => {
      await ctx.clear();
      team = await ctx.newTeam();
      const hook = await newHook();
      const expired = await ctx.newDelivery(team, hook, { status: 'sending', leaseUntil: now() - 1 });
      const live = await ctx.newDelivery(team, hook, { status: 'sending', leaseUntil: now() + 10_000 });

      expect(await runner.reclaimLeases()).toBe(1);
      expect(await ctx.delivery(expired.id)).toMatchObject({ status: 'retrying', leaseUntil: null, nextAttemptAt: now() });
      expect(await ctx.delivery(live.id)).toMatchObject({ status: 'sending' });
      expect(await runner.reclaimLeases(true)).toBe(1);
      expect(await ctx.delivery(live.id)).toMatchObject({ status: 'retrying', leaseUntil: null, nextAttemptAt: now() });
    });
  });
});
