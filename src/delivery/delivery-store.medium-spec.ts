import type { TeamFixture } from '../../test/support/fixtures';
import { MediumContext } from '../../test/support/medium';
import { SecretsService } from '../secrets/secrets.service';
import type { WebhookDto } from '../webhooks/dto/webhook.dto';
import { WebhookEntity } from '../webhooks/webhook.entity';
import { DeliveryAttemptEntity } from './delivery-attempt.entity';
import { Sql } from '../database/sql';
import { DELIVERY_COLUMNS, DeliveryStore, type DueCursor, type NewAttempt, WEBHOOK_COLUMNS } from './delivery-store';
import { DeliveryEntity } from './delivery.entity';

const columnsOf = (list: string) => list.split(',').map((c) => c.trim()).sort();

describe('DeliveryStore (medium: real database after migrations)', () => {
  let ctx: MediumContext;
  let store: DeliveryStore;
  let team: TeamFixture;
  let hook: WebhookDto;

  beforeAll(async () => {
    ctx = await MediumContext.start();
    store = ctx.get(DeliveryStore);
  });
  afterAll(() => ctx.close());
  beforeEach(async () => {
    // due(), nextDueAt() and reclaimLeases() look across teams: each test starts from empty tables.
    await ctx.clear();
    team = await ctx.newTeam();
    hook = await ctx.newWebhook(team);
  });

  const now = () => ctx.clock.now();
  const statusOf = async (id: string) => (await ctx.delivery(id)).status;

  /** The statements `call` sends through Sql, with their parameters; none runs (their plans are asked for instead). */
  const statementsOf = async (call: Parameters<MediumContext['tx']>[0]): Promise<Array<[string, unknown[]]>> => {
    const seen: Array<[string, unknown[]]> = [];
    const spy = jest.spyOn(ctx.get(Sql), 'query').mockImplementation(async (_em, statement, parameters = []) => {
      seen.push([statement, parameters]);
      return [];
    });
    try {
      await ctx.tx(call);
    } finally {
      spy.mockRestore();
    }
    return seen;
  };
  /** SQLite's plan of a statement, its lines joined. */
  const sqlitePlan = (statement: string, parameters: unknown[]) =>
    ctx.get(Sql).querySqlite<{ detail: string }>(`EXPLAIN QUERY PLAN ${statement}`, parameters).map((r) => r.detail).join('; ');

  describe('column lists and row mappers match the entities', () => {
    it('the column lists name every column of deliveries and webhooks, and nothing else', () => {
      expect(columnsOf(DELIVERY_COLUMNS)).toEqual(ctx.db.getMetadata(DeliveryEntity).columns.map((c) => c.databaseName).sort());
      expect(columnsOf(WEBHOOK_COLUMNS)).toEqual(ctx.db.getMetadata(WebhookEntity).columns.map((c) => c.databaseName).sort());
    });

    it('a delivery read by due() is the row the repository reads, every column set', async () => {
      const row = await ctx.newDelivery(team, hook, {
        automationId: 'aut_round_trip',
        automationName: 'round trip',
        eventId: 'evt-round-trip',
        eventType: 'RUN_STATE',
        status: 'retrying',
        body: '{"token":"${TOKEN}","n":1}',
        bodyForm: 'deferred',
        series: 3,
        attemptCount: 2,
        nextAttemptAt: now() - 5,
        leaseUntil: now() + 77_000,
        lastStatusCode: 503,
        lastError: 'HTTP 503',
        firstAttempt: '{"id":"att_round_trip","startedAt":1,"durationMs":2,"statusCode":503,"responseExcerpt":"busy","errorClass":null,"errorMessage":null,"willRetry":true}',
        createdAt: now() - 60_000,
        updatedAt: now() - 10,
      });
      expect(ctx.nullColumns(DeliveryEntity, row)).toEqual([]);
      const [read] = await ctx.tx((em) => store.due(em, now(), 10));
      expect(read).toEqual(row);
      await ctx.expectAsStored(DeliveryEntity, read);
      // byId (a queued job's read, outside any transaction) reads the same row; null for an unknown id.
      expect(await store.byId(ctx.db.manager, row.id)).toEqual(row);
      expect(await store.byId(ctx.db.manager, 'dlv_unknown')).toBeNull();
      // byIds (the queue worker's grouped read) the same; unknown ids are missing from its map.
      expect(await store.byIds(ctx.db.manager, [row.id, 'dlv_unknown'])).toEqual(new Map([[row.id, row]]));
    });

    it('a webhook read by webhooks() is the row the repository reads, JSON, boolean and time columns included', async () => {
      const secrets = ctx.get(SecretsService);
      await secrets.create(team.auth, 'TOKEN', 'tok-0123456789');
      await secrets.create(team.auth, 'CHANNEL', 'alerts');
      await secrets.generate(team.auth, 'SIGNING', 'whsec');
      const full = await ctx.newWebhook(team, {
        kind: 'github',
        accessTokenSecret: 'TOKEN',
        signingSecret: 'SIGNING',
        signatureSchemes: ['standard', 'github'],
        payloadSecrets: ['CHANNEL'],
        headers: { 'X-Channel': '${CHANNEL}' },
        delivery: { maxAttempts: 3, scheduleSeconds: [0, 7] },
      });
      await ctx.repo(WebhookEntity).update(
        { id: full.id },
        { enabled: false, disabledReason: 'failing', failingSince: now() - 3_600_000, lastSuccessAt: now() - 7_200_000 },
      );
      const stored = await ctx.repo(WebhookEntity).findOneByOrFail({ id: full.id });
      expect(ctx.nullColumns(WebhookEntity, stored)).toEqual([]);

      const read = await ctx.tx((em) => store.webhooks(em, [full.id, hook.id, 'wh_missing']));
      expect([...read.keys()].sort()).toEqual([full.id, hook.id].sort());
      await ctx.expectAsStored(WebhookEntity, read.get(full.id)!);
      await ctx.expectAsStored(WebhookEntity, read.get(hook.id)!);
      expect(read.get(full.id)).toMatchObject({ enabled: false, signatureSchemes: ['standard', 'github'], headers: { 'X-Channel': '${CHANNEL}' } });
      expect(read.get(hook.id)).toMatchObject({ enabled: true, disabledReason: null, failingSince: null, lastSuccessAt: null });
      expect((await ctx.tx((em) => store.webhooks(em, []))).size).toBe(0);
    });

    it('attempts inserted in chunks read back as written', async () => {
      const delivery = await ctx.newDelivery(team, hook);
      const attempts: NewAttempt[] = Array.from({ length: 130 }, (_, i) => ({
        id: `att_chunk_${String(i).padStart(3, '0')}`,
        deliveryId: delivery.id,
        series: 1 + (i % 2),
        number: i + 1,
        startedAt: now() + i,
        durationMs: 10 + i,
        statusCode: i % 3 === 0 ? null : 500,
        responseExcerpt: `excerpt ${i}`,
        errorClass: i % 3 === 0 ? 'timeout' : null,
        errorMessage: i % 3 === 0 ? 'deadline passed' : null,
        willRetry: i % 2 === 0,
      }));
      await ctx.tx((em) => store.insertAttempts(em, attempts));
      expect(await ctx.repo(DeliveryAttemptEntity).countBy({ deliveryId: delivery.id })).toBe(130);
      for (const attempt of [attempts[0], attempts[1], attempts[129]]) await ctx.expectAsStored(DeliveryAttemptEntity, attempt);
    });
  });

  describe('due and nextDueAt', () => {
    it('answer waiting deliveries due by now, oldest due first, up to the limit', async () => {
      const later = await ctx.newDelivery(team, hook, { nextAttemptAt: now() - 1_000 });
      const oldest = await ctx.newDelivery(team, hook, { status: 'retrying', nextAttemptAt: now() - 3_000 });
      const middle = await ctx.newDelivery(team, hook, { nextAttemptAt: now() - 2_000 });
      await ctx.newDelivery(team, hook, { nextAttemptAt: now() + 1_000 }); // not due yet
      for (const status of ['sending', 'succeeded', 'failed', 'held', 'cancelled'] as const) {
        await ctx.newDelivery(team, hook, { status, nextAttemptAt: now() - 10_000 });
      }
      const due = await ctx.tx((em) => store.due(em, now(), 10));
      expect(due.map((d) => d.id)).toEqual([oldest.id, middle.id, later.id]);
      expect((await ctx.tx((em) => store.due(em, now(), 2))).map((d) => d.id)).toEqual([oldest.id, middle.id]);
      expect(await ctx.tx((em) => store.nextDueAt(em))).toBe(now() - 3_000);
    });

    it('nextDueAt is the earliest waiting delivery, future ones included, and null when none waits', async () => {
      expect(await ctx.tx((em) => store.nextDueAt(em))).toBeNull();
      await ctx.newDelivery(team, hook, { status: 'held', nextAttemptAt: now() - 9_000 });
      expect(await ctx.tx((em) => store.nextDueAt(em))).toBeNull();
      await ctx.newDelivery(team, hook, { status: 'retrying', nextAttemptAt: now() + 60_000 });
      await ctx.newDelivery(team, hook, { nextAttemptAt: now() + 5_000 });
      expect(await ctx.tx((em) => store.nextDueAt(em))).toBe(now() + 5_000);
    });
  });

  describe('claim', () => {
    it('leases each delivery still waiting for the attempt the caller saw, once', async () => {
      const pending = await ctx.newDelivery(team, hook);
      const retrying = await ctx.newDelivery(team, hook, { status: 'retrying', series: 2, attemptCount: 3 });
      const targets = [pending, retrying].map((d) => ({ id: d.id, series: d.series, attemptCount: d.attemptCount }));
      const leaseUntil = now() + 45_000;

      const claimed = await ctx.tx((em) => store.claim(em, targets, leaseUntil, now()));
      expect(claimed).toEqual(new Set([pending.id, retrying.id]));
      for (const d of [pending, retrying]) {
        expect(await ctx.delivery(d.id)).toMatchObject({ status: 'sending', leaseUntil, updatedAt: now(), series: d.series, attemptCount: d.attemptCount });
      }
      // A second worker that read the same rows claims nothing.
      expect(await ctx.tx((em) => store.claim(em, targets, leaseUntil, now()))).toEqual(new Set());
    });

    it('claims nothing for a stale series or attempt count, a delivery not waiting, or no target', async () => {
      const moved = await ctx.newDelivery(team, hook, { status: 'retrying', series: 2, attemptCount: 1 });
      const held = await ctx.newDelivery(team, hook, { status: 'held' });
      const claimed = await ctx.tx((em) =>
        store.claim(
          em,
          [
            { id: moved.id, series: 1, attemptCount: 1 },
            { id: moved.id, series: 2, attemptCount: 0 },
            { id: held.id, series: 1, attemptCount: 0 },
            { id: 'msg_missing', series: 1, attemptCount: 0 },
          ],
          now() + 1_000,
          now(),
        ),
      );
      expect(claimed).toEqual(new Set());
      expect(await statusOf(moved.id)).toBe('retrying');
      expect(await statusOf(held.id)).toBe('held');
      expect(await ctx.tx((em) => store.claim(em, [], now() + 1_000, now()))).toEqual(new Set());
    });
  });

  it('postpone moves the due time without counting an attempt', async () => {
    const d = await ctx.newDelivery(team, hook, { status: 'retrying', attemptCount: 2 });
    await ctx.tx((em) => store.postpone(em, d, now() + 1_500));
    expect(await ctx.delivery(d.id)).toMatchObject({ status: 'retrying', attemptCount: 2, nextAttemptAt: now() + 1_500 });
  });

  it('postpone and settle leave alone a row that moved on since the caller saw it', async () => {
    const sent = await ctx.newDelivery(team, hook, { status: 'sending', leaseUntil: now() + 45_000 });
    const later = await ctx.newDelivery(team, hook, { status: 'retrying', attemptCount: 2 });
    const before = { sent: await ctx.delivery(sent.id), later: await ctx.delivery(later.id) };
    await ctx.tx((em) => store.postpone(em, sent, now() + 1_500));
    await ctx.tx((em) => store.settle(em, sent, 'failed', 'The webhook was deleted', now()));
    // Seen at its first attempt; it has failed once since.
    await ctx.tx((em) => store.settle(em, { ...later, attemptCount: 1 }, 'held', null, now()));
    await ctx.tx((em) => store.postpone(em, { ...later, series: later.series + 1 }, now() + 1_500));
    expect(await ctx.delivery(sent.id)).toEqual(before.sent);
    expect(await ctx.delivery(later.id)).toEqual(before.later);
  });

  it('settle ends a delivery unsent: no due time, no lease, the error given or the last one kept', async () => {
    const a = await ctx.newDelivery(team, hook, { lastError: 'HTTP 500', leaseUntil: now() + 5 });
    const b = await ctx.newDelivery(team, hook, { lastError: 'HTTP 500' });
    ctx.clock.advance(1_000);
    await ctx.tx((em) => store.settle(em, a, 'failed', 'The webhook was deleted', now()));
    await ctx.tx((em) => store.settle(em, b, 'held', null, now()));
    expect(await ctx.delivery(a.id)).toMatchObject({ status: 'failed', nextAttemptAt: null, leaseUntil: null, lastError: 'The webhook was deleted', updatedAt: now() });
    expect(await ctx.delivery(b.id)).toMatchObject({ status: 'held', nextAttemptAt: null, lastError: 'HTTP 500', updatedAt: now() });
  });

  it('attempts reads series 1\'s first from the row and every other from delivery_attempts, oldest first', async () => {
    const d = await ctx.newDelivery(team, hook, { status: 'sending', leaseUntil: now() + 45_000 });
    const attempt = (series: number, number: number): NewAttempt => ({
      id: `att_${series}_${number}`,
      deliveryId: d.id,
      series,
      number,
      startedAt: now() + 10 * series + number,
      durationMs: 5,
      statusCode: 500,
      responseExcerpt: 'no',
      errorClass: null,
      errorMessage: null,
      willRetry: false,
    });
    const result = (a: NewAttempt) => ({ id: d.id, attempt: a, status: 'retrying' as const, attemptCount: a.number, nextAttemptAt: now(), lastStatusCode: 500, lastError: 'HTTP 500' });
    // Recorded newest series first, as a redelivery's may be before an old row is read back.
    for (const a of [attempt(2, 1), attempt(1, 2), attempt(1, 1), attempt(2, 2)]) await ctx.tx((em) => store.finishAttempts(em, [result(a)], now()));
    const read = await ctx.tx(async (em) => store.attempts(em, await ctx.delivery(d.id)));
    expect(read.map((a) => [a.series, a.number])).toEqual([[1, 1], [1, 2], [2, 1], [2, 2]]);
    expect(read[0]).toEqual(attempt(1, 1));
    expect(await ctx.repo(DeliveryAttemptEntity).countBy({ deliveryId: d.id })).toBe(3);
  });

  it('finishAttempts records where each attempt left its delivery and ends its lease, in one statement', async () => {
    const d = await ctx.newDelivery(team, hook, { status: 'sending', leaseUntil: now() + 45_000 });
    const ok = await ctx.newDelivery(team, hook, { status: 'sending', leaseUntil: now() + 45_000, lastError: 'HTTP 500' });
    const other = await ctx.newDelivery(team, hook, { status: 'sending', leaseUntil: now() + 45_000 });
    const before = await ctx.delivery(other.id);
    ctx.clock.advance(200);
    const attempt = (deliveryId: string, number: number, statusCode: number | null): NewAttempt => ({
      id: `att_${deliveryId}_${number}`,
      deliveryId,
      series: 1,
      number,
      startedAt: now() - 50,
      durationMs: 50,
      statusCode,
      responseExcerpt: `answer "${number}" ünïcode`,
      errorClass: statusCode === null ? 'timeout' : null,
      errorMessage: statusCode === null ? 'deadline passed' : null,
      willRetry: number === 1,
    });
    const first = attempt(d.id, 1, 502);
    const second = attempt(ok.id, 2, null);
    await ctx.tx((em) =>
      store.finishAttempts(
        em,
        [
          { id: d.id, attempt: first, status: 'retrying', attemptCount: 1, nextAttemptAt: now() + 5_000, lastStatusCode: 502, lastError: "HTTP 502 \"quoted\" ünïcode" },
          { id: ok.id, attempt: second, status: 'succeeded', attemptCount: 2, nextAttemptAt: null, lastStatusCode: null, lastError: null },
        ],
        now(),
      ),
    );
    // Series 1's first attempt is kept in its row; any other is a delivery_attempts row.
    expect(await ctx.tx(async (em) => store.attempts(em, await ctx.delivery(d.id)))).toEqual([first]);
    expect(await ctx.repo(DeliveryAttemptEntity).countBy({ deliveryId: d.id })).toBe(0);
    expect(await ctx.tx(async (em) => store.attempts(em, await ctx.delivery(ok.id)))).toEqual([second]);
    await ctx.expectAsStored(DeliveryAttemptEntity, second);
    await ctx.tx((em) => store.finishAttempts(em, [], now()));
    expect(await ctx.delivery(ok.id)).toMatchObject({ status: 'succeeded', attemptCount: 2, nextAttemptAt: null, leaseUntil: null, lastStatusCode: null, lastError: null });
    expect(await ctx.delivery(other.id)).toEqual(before);
    expect(await ctx.delivery(d.id)).toMatchObject({
      status: 'retrying',
      series: 1,
      attemptCount: 1,
      nextAttemptAt: now() + 5_000,
      leaseUntil: null,
      lastStatusCode: 502,
      lastError: 'HTTP 502 "quoted" ünïcode',
      updatedAt: now(),
    });
  });

  describe('webhook health', () => {
    const health = async (id: string) => {
      const { enabled, disabledReason, failingSince, lastSuccessAt } = await ctx.repo(WebhookEntity).findOneByOrFail({ id });
      return { enabled, disabledReason, failingSince, lastSuccessAt };
    };

    it('startFailing starts a streak; recordSuccess ends it', async () => {
      await ctx.tx((em) => store.startFailing(em, hook.id, now() - 500));
      expect(await health(hook.id)).toEqual({ enabled: true, disabledReason: null, failingSince: now() - 500, lastSuccessAt: null });
      await ctx.tx((em) => store.recordSuccess(em, hook.id, now()));
      expect(await health(hook.id)).toEqual({ enabled: true, disabledReason: null, failingSince: null, lastSuccessAt: now() });
    });

    it('disableWebhook disables it and holds its waiting deliveries only', async () => {
      const other = await ctx.newWebhook(team);
      const pending = await ctx.newDelivery(team, hook);
      const retrying = await ctx.newDelivery(team, hook, { status: 'retrying', nextAttemptAt: now() + 9_000 });
      const sending = await ctx.newDelivery(team, hook, { status: 'sending', leaseUntil: now() + 9_000 });
      const failed = await ctx.newDelivery(team, hook, { status: 'failed', nextAttemptAt: null });
      const elsewhere = await ctx.newDelivery(team, other);
      ctx.clock.advance(1_000);

      await ctx.tx((em) => store.disableWebhook(em, hook.id, 'failing', now() - 86_400_000, now()));
      expect(await health(hook.id)).toEqual({ enabled: false, disabledReason: 'failing', failingSince: now() - 86_400_000, lastSuccessAt: null });
      for (const d of [pending, retrying]) expect(await ctx.delivery(d.id)).toMatchObject({ status: 'held', nextAttemptAt: null, updatedAt: now() });
      expect(await statusOf(sending.id)).toBe('sending'); // its outcome decides
      expect(await statusOf(failed.id)).toBe('failed');
      expect(await statusOf(elsewhere.id)).toBe('pending');
      expect(await health(other.id)).toMatchObject({ enabled: true });
    });
  });

  describe('reclaimLeases', () => {
    it('makes deliveries whose lease expired due again, and answers how many', async () => {
      const expired = await ctx.newDelivery(team, hook, { status: 'sending', attemptCount: 1, leaseUntil: now() - 1 });
      const live = await ctx.newDelivery(team, hook, { status: 'sending', leaseUntil: now() + 30_000 });
      const waiting = await ctx.newDelivery(team, hook, { nextAttemptAt: now() - 50 });
      expect(await ctx.tx((em) => store.reclaimLeases(em, now(), false))).toBe(1);
      expect(await ctx.delivery(expired.id)).toMatchObject({ status: 'retrying', leaseUntil: null, nextAttemptAt: now(), attemptCount: 1 });
      expect(await statusOf(live.id)).toBe('sending');
      expect(await ctx.delivery(waiting.id)).toMatchObject({ status: 'pending', nextAttemptAt: now() - 50 });
    });

    it('takes every sending row when asked for all (the only worker, at start)', async () => {
      const live = await ctx.newDelivery(team, hook, { status: 'sending', leaseUntil: now() + 30_000 });
      expect(await ctx.tx((em) => store.reclaimLeases(em, now(), true))).toBe(1);
      expect(await ctx.delivery(live.id)).toMatchObject({ status: 'retrying', leaseUntil: null, nextAttemptAt: now() });
      expect(await ctx.tx((em) => store.reclaimLeases(em, now(), true))).toBe(0);
    });
  });

  describe('re-arming a webhook', () => {
    it('releaseHeld makes its held deliveries due now, keeping their series and attempts', async () => {
      const held = await ctx.newDelivery(team, hook, { status: 'held', series: 2, attemptCount: 3, nextAttemptAt: null });
      const cancelled = await ctx.newDelivery(team, hook, { status: 'cancelled', nextAttemptAt: null });
      const other = await ctx.newWebhook(team);
      const heldElsewhere = await ctx.newDelivery(team, other, { status: 'held', nextAttemptAt: null });
      ctx.clock.advance(1_000);
      await ctx.tx((em) => store.releaseHeld(em, hook.id, now()));
      expect(await ctx.delivery(held.id)).toMatchObject({ status: 'pending', series: 2, attemptCount: 3, nextAttemptAt: now(), updatedAt: now() });
      expect(await statusOf(cancelled.id)).toBe('cancelled');
      expect(await statusOf(heldElsewhere.id)).toBe('held');
    });

    it('failedDuring answers the webhook\'s deliveries that ended failed in the window, with their series', async () => {
      const since = now();
      const atStart = await ctx.newDelivery(team, hook, { status: 'failed', series: 2, updatedAt: since });
      const during = await ctx.newDelivery(team, hook, { status: 'failed', updatedAt: since + 10 });
      await ctx.newDelivery(team, hook, { status: 'failed', updatedAt: since - 1 });
      await ctx.newDelivery(team, hook, { status: 'failed', updatedAt: since + 20 });
      await ctx.newDelivery(team, hook, { status: 'succeeded', updatedAt: since + 10 });
      const other = await ctx.newWebhook(team);
      await ctx.newDelivery(team, other, { status: 'failed', updatedAt: since + 10 });
      const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
      expect((await ctx.tx((em) => store.failedDuring(em, hook.id, since, since + 20))).sort(byId)).toEqual(
        [{ id: atStart.id, series: 2 }, { id: during.id, series: 1 }].sort(byId),
      );
      expect(await ctx.tx((em) => store.failedDuring(em, hook.id, since))).toHaveLength(3);
    });

    it('startNewSeries queues each delivery again as series + 1, attempts from 1, due now', async () => {
      const a = await ctx.newDelivery(team, hook, { status: 'failed', series: 1, attemptCount: 8, nextAttemptAt: null, lastStatusCode: 500, lastError: 'HTTP 500' });
      const b = await ctx.newDelivery(team, hook, { status: 'succeeded', series: 2, attemptCount: 1, nextAttemptAt: null });
      const untouched = await ctx.newDelivery(team, hook, { status: 'failed', nextAttemptAt: null });
      ctx.clock.advance(1_000);
      await ctx.tx((em) => store.startNewSeries(em, [a.id, b.id], now()));
      expect(await ctx.delivery(a.id)).toMatchObject({ status: 'pending', series: 2, attemptCount: 0, nextAttemptAt: now(), leaseUntil: null, updatedAt: now() });
      expect(await ctx.delivery(b.id)).toMatchObject({ status: 'pending', series: 3, attemptCount: 0, nextAttemptAt: now() });
      expect(await ctx.delivery(untouched.id)).toEqual(untouched);
      await ctx.tx((em) => store.startNewSeries(em, [], now()));
      expect(await ctx.delivery(untouched.id)).toEqual(untouched);
    });
  });
  describe('dueAfter: the sweep\'s keyset scan of the due rows', () => {
    const scan = async (dueBy: number, max: number) => {
      const pages: string[][] = [];
      for (let after: DueCursor | null = null; ; ) {
        const page = await store.dueAfter(ctx.db.manager, dueBy, after, max);
        pages.push(page.map((d) => d.id));
        if (page.length < max) return pages;
        after = { at: page[page.length - 1]!.dueAt, id: page[page.length - 1]!.id };
      }
    };

    it('reads each waiting row due by then once, by due time then id, across pages that end inside a due time', async () => {
      const at = now() - 5_000;
      const same = await Promise.all([0, 1, 2, 3].map(() => ctx.newDelivery(team, hook, { status: 'pending', nextAttemptAt: at })));
      const earlier = await ctx.newDelivery(team, hook, { status: 'retrying', series: 2, attemptCount: 3, nextAttemptAt: at - 1 });
      const later = await ctx.newDelivery(team, hook, { status: 'pending', nextAttemptAt: at + 1 });
      await ctx.newDelivery(team, hook, { status: 'pending', nextAttemptAt: now() + 60_000 }); // not due yet
      await ctx.newDelivery(team, hook, { status: 'sending', nextAttemptAt: at, leaseUntil: now() + 30_000 });
      await ctx.newDelivery(team, hook, { status: 'succeeded', nextAttemptAt: null });
      const order = [earlier.id, ...same.map((d) => d.id).sort(), later.id];

      expect((await scan(now(), 3)).flat()).toEqual(order);
      expect((await scan(now(), 3)).map((page) => page.length)).toEqual([3, 3, 0]);
      expect((await scan(now(), 100)).flat()).toEqual(order);
      expect(await store.dueAfter(ctx.db.manager, now(), null, 1)).toEqual([{ id: earlier.id, series: 2, attempt: 4, dueAt: at - 1 }]);
      expect((await scan(at, 100)).flat()).toEqual(order.slice(0, -1));
    });

    it('a page starts after the last one\'s end, whatever left the rows before it (an offset would skip rows)', async () => {
      const at = now() - 5_000;
      const rows = await Promise.all([0, 1, 2, 3, 4].map((i) => ctx.newDelivery(team, hook, { status: 'pending', nextAttemptAt: at + i })));
      const first = await store.dueAfter(ctx.db.manager, now(), null, 2);
      expect(first.map((d) => d.id)).toEqual([rows[0].id, rows[1].id]);
      // Sent meanwhile: the first page's rows are no longer waiting.
      await ctx.db.getRepository(DeliveryEntity).update([rows[0].id, rows[1].id], { status: 'succeeded' });
      const second = await store.dueAfter(ctx.db.manager, now(), { at: first[1].dueAt, id: first[1].id }, 2);
      expect(second.map((d) => d.id)).toEqual([rows[2].id, rows[3].id]);
    });

    it('reads through idx_deliveries_waiting in its order (no full sort)', async () => {
      const sql = ctx.get(Sql);
      const [[statement, parameters]] = await statementsOf((em) => store.dueAfter(em, now(), { at: now() - 10, id: 'msg_x' }, 1000));
      if (ctx.db.options.type === 'better-sqlite3') {
        const plan = sqlitePlan(statement, parameters);
        // A range from the cursor; only the last term (id, within one due time) is sorted.
        expect(plan).toContain('USING INDEX idx_deliveries_waiting (next_attempt_at>? AND next_attempt_at<?)');
        expect(plan).not.toContain('USE TEMP B-TREE FOR ORDER BY');
        return;
      }
      // PostgreSQL's planner picks by statistics, and these tables are tiny: with scans that
      // ignore the index and whole sorts priced out, the plan shows whether the index can serve
      // the statement in its order (it falls back to them, at their price, when it cannot).
      const plan = await ctx.db.transaction(async (em) => {
        await em.query('SET LOCAL enable_seqscan = off');
        await em.query('SET LOCAL enable_bitmapscan = off');
        await em.query('SET LOCAL enable_sort = off');
        const [row] = await em.query(`EXPLAIN (FORMAT JSON) ${sql.text(statement)}`, parameters);
        return JSON.stringify(row['QUERY PLAN']);
      });
      expect(plan).toContain('"Index Name":"idx_deliveries_waiting"');
      // The scan starts at the cursor (not at the first due row, filtering up to it); only rows of equal due time are sorted by id.
      expect(plan).toMatch(/"Index Cond":"[^"]*next_attempt_at >= /);
      expect(plan).not.toContain('"Node Type":"Sort"');
      expect(plan).not.toContain('"Node Type":"Seq Scan"');
    });
  });

  describe('a webhook\'s deliveries are found through its indexes, whatever the history holds', () => {
    // The hot path writes none of these except at insert and claim (docs/performance.md ›
    // Sixth round): each reader must match its partial index's condition, or it scans.
    const plans: Array<[string, string, (em: Parameters<Parameters<MediumContext['tx']>[0]>[0]) => Promise<unknown>]> = [
      ['holdWaiting', 'idx_deliveries_webhook_waiting', (em) => store.holdWaiting(em, hook.id, now())],
      ['disableWebhook', 'idx_deliveries_webhook_waiting', (em) => store.disableWebhook(em, hook.id, 'failing', now(), now())],
      ['releaseHeld', 'idx_deliveries_webhook_held', (em) => store.releaseHeld(em, hook.id, now())],
      ['failedDuring', 'idx_deliveries_webhook_failed', (em) => store.failedDuring(em, hook.id, now(), now() + 1)],
    ];
    it.each(plans)('%s reads through %s', async (_name, index, call) => {
      if (ctx.db.options.type !== 'better-sqlite3') return; // PostgreSQL's planner picks by statistics
      const [statement, parameters] = (await statementsOf(call)).find(([text]) => text.includes('deliveries'))!;
      const plan = sqlitePlan(statement, parameters);
      expect(plan).toContain(`USING INDEX ${index}`);
    });
  });
});
