import { type BeforeApplicationShutdown, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Clock } from '../common/clock';
import { HeraldConfig } from '../config/config';
import { GroupCommit } from '../database/group-commit';
import { TransactionRunner } from '../database/transaction-runner';
import { deliverySettingsOf } from '../webhooks/webhook-rules';
import type { WebhookEntity } from '../webhooks/webhook.entity';
import { type AttemptOutcome, AttemptRunner } from './attempt-runner';
import type { DeliveryEntity } from './delivery.entity';
import { DeliveryStore } from './delivery-store';
import { DeliveryDispatcher, type DueDelivery, type HandOver } from './dispatcher';
import { WebhookRateLimiter } from './rate-limiter';

interface Claimed {
  delivery: DeliveryEntity;
  webhook: WebhookEntity;
  /** Frees the webhook's concurrency slot. */
  release: () => void;
}

interface Claim {
  claimed: Claimed[];
  /** The slots the claim could fill; it counted them as reserved until `started` or `abandon`. */
  wanted: number;
  /** Due rows looked at (claimed, pushed back or settled: none is seen twice). */
  scanned: number;
  /** The earliest time a row pushed back by its webhook's limits is due again. */
  postponedUntil: number | null;
}

/** HTTP exchanges at once, across webhooks (each webhook also has its own limits). */
const MAX_IN_FLIGHT = 32;
/** How often expired leases are looked for (a lease outlives the HTTP deadline). */
const LEASE_SWEEP_MS = 30_000;
/** The longest the worker sleeps before looking again, whatever the next due time. */
const MAX_SLEEP_MS = 60_000;
/** Waiting deliveries the worker holds as written (`known`), at most: beyond, it reads them back. */
const KNOWN_MAX = 4096;
/** …and at most this many bytes of their bodies. */
const KNOWN_MAX_BODY_BYTES = 16 * 1024 * 1024;

/**
 * The embedded delivery worker (no REDIS_URL). A delivery reaches it in one of three ways:
 * handed over by ingestion, which leased it in its own transaction when a slot was free
 * (`reserve`); claimed by the transaction that records finished attempts, when deliveries are
 * waiting for a slot; or claimed by a pass over due rows (woken after a commit that made rows
 * due, by a retry's timer, or by the lease sweep). Deliveries ingestion wrote waiting, due now,
 * are also handed to it as written (`dispatch`) and held in memory (`known`, bounded): while
 * the worker knows that no other row is due (its last scan found every due row and nothing
 * has woken it since), claims take them from there, oldest first, instead of reading them
 * back; the claim's conditional UPDATE still decides, so a row claimed or settled meanwhile is
 * skipped. It sends outside any transaction under each
 * webhook's rate and concurrency limits (in memory: this process is the only sender), at most
 * MAX_IN_FLIGHT at once, and records the attempts that end together in one transaction. At
 * start it reclaims every `sending` row; on shutdown it stops claiming and finishes the sends
 * in flight. Idle when REDIS_URL is set.
 */
@Injectable()
export class DeliveryWorker extends DeliveryDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('DeliveryWorker');
  private readonly limiter: WebhookRateLimiter;
  /** Attempts between their send and their record (shutdown and idle() wait for them). */
  private readonly attemptsInFlight = new Set<Promise<void>>();
  /** Attempts whose HTTP exchange has not ended: what MAX_IN_FLIGHT bounds. */
  private sending = 0;
  /** Slots handed to writers whose transactions have not committed yet. */
  private reserved = 0;
  private readonly active: boolean;
  private pumping: Promise<void> | null = null;
  private wakeRequested = false;
  private stopped = false;
  /**
   * Deliveries may be waiting for a slot: the last claim filled every free slot, or a writer
   * found none free. Finished attempts then claim the next due rows in their record's
   * transaction, and no hand-over jumps the queue.
   */
  private backlog = false;
  /** Waiting deliveries due now, as ingestion wrote them, oldest first (see the class comment). */
  private readonly known = new Map<string, DeliveryEntity>();
  private knownBodyBytes = 0;
  /** The database may hold due rows `known` lacks: claims scan it (start, wake, timers, overflow). */
  private scanNeeded = true;
  /** Counts the reasons to scan, so a scan that began before one does not clear it. */
  private scanReasons = 0;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private sweeper: NodeJS.Timeout | null = null;
  /** Attempts that end together are recorded in one transaction, which also claims due rows when some wait for a slot. */
  private readonly recorder = new GroupCommit<AttemptOutcome, DueDelivery | null>((batch) => this.recordAndClaim(batch));

  constructor(
    private readonly attempts: AttemptRunner,
    private readonly store: DeliveryStore,
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    config: HeraldConfig,
  ) {
    super();
    this.limiter = new WebhookRateLimiter(() => this.clock.now());
    this.active = config.redisUrl === null;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.active) return;
    // This process is the only worker: whatever was being sent when it last stopped is due again.
    await this.attempts.reclaimLeases(true);
    this.sweeper = setInterval(() => void this.reclaimExpiredLeases(), LEASE_SWEEP_MS);
    this.sweeper.unref();
    this.wake();
  }

  /** Before the database closes: stop claiming, let the sends in flight finish and be recorded. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.sweeper) clearInterval(this.sweeper);
    await this.idle();
  }

  dispatch(due: DueDelivery[]): void {
    if (this.stopped || !this.active) return;
    const now = this.clock.now();
    let later = Infinity;
    let dueNow = false;
    for (const d of due) {
      if (d.dueAt > now) {
        later = Math.min(later, d.dueAt);
        continue;
      }
      dueNow = true;
      if (!d.delivery || !this.remember(d.delivery)) this.needScan();
    }
    if (dueNow) this.startPass();
    if (later < Infinity) this.wakeAt(later);
  }

  override reserve(webhook: WebhookEntity): HandOver | null {
    if (this.stopped || !this.active) return null;
    if (this.backlog || this.freeSlots() === 0) {
      this.backlog = true;
      return null;
    }
    // Refused by the webhook's limits: the delivery is written pending and claimed when they allow.
    const slot = this.limiter.tryAcquire(webhook.id, deliverySettingsOf(webhook));
    if (!slot.ok) return null;
    this.reserved++;
    let settled = false;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      this.reserved--;
      return true;
    };
    return {
      leaseMs: this.attempts.leaseMs,
      send: (delivery) => {
        if (!settle()) return;
        // Stopping: the row stays leased and the next start sends it (every lease is reclaimed then).
        if (this.stopped) slot.release();
        else this.send({ delivery, webhook, release: slot.release });
      },
      cancel: () => {
        if (settle()) slot.release();
      },
    };
  }

  /** Asks for a pass over due deliveries, read from the database; passes never overlap, a wake during one starts another. */
  wake(): void {
    if (this.stopped || !this.active) return;
    this.needScan();
    this.startPass();
  }

  private needScan(): void {
    this.scanNeeded = true;
    this.scanReasons++;
  }

  /** Holds a waiting delivery as written, unless `known` is full (then it is read back by a scan). */
  private remember(delivery: DeliveryEntity): boolean {
    if (this.known.size >= KNOWN_MAX || this.knownBodyBytes + delivery.body.length > KNOWN_MAX_BODY_BYTES) return false;
    if (!this.known.has(delivery.id)) this.knownBodyBytes += delivery.body.length;
    this.known.set(delivery.id, delivery);
    return true;
  }

  private forget(id: string): void {
    const delivery = this.known.get(id);
    if (!delivery) return;
    this.known.delete(id);
    this.knownBodyBytes -= delivery.body.length;
  }

  private startPass(): void {
    if (this.pumping) {
      this.wakeRequested = true;
      return;
    }
    this.pumping = this.pump().finally(() => {
      this.pumping = null;
      if (this.wakeRequested) {
        this.wakeRequested = false;
        this.startPass();
      }
    });
  }

  /** Resolves once nothing is being claimed, sent or recorded (tests wait on it; due-later retries may remain). */
  async idle(): Promise<void> {
    while (this.pumping || this.attemptsInFlight.size > 0) {
      await this.pumping;
      await Promise.all(this.attemptsInFlight);
    }
  }

  private freeSlots(): number {
    return Math.max(0, MAX_IN_FLIGHT - this.sending - this.reserved);
  }

  private async pump(): Promise<void> {
    try {
      while (!this.stopped && this.freeSlots() > 0) {
        const claim = await this.claimInTransaction();
        this.started(claim);
        // Fewer due rows than asked for: none is left. Rows pushed back by their webhook's
        // limits are no longer due: scan on, so one rate-limited webhook never delays the others.
        if (claim.scanned < claim.wanted) break;
      }
      // Sends in flight set their own timers (retries); an idle worker looks for the next due time.
      if (!this.stopped && this.attemptsInFlight.size === 0) await this.sleepUntilNextDue();
    } catch (error) {
      this.logger.error(`Delivery pass failed: ${(error as Error).message}`);
      this.wakeAt(this.clock.now() + 1000);
    }
  }

  /** A claim alone in its transaction; a failed transaction gives its slots back. */
  private async claimInTransaction(): Promise<Claim> {
    let claim: Claim | null = null;
    try {
      return await this.tx.runHot(async (em) => (claim = await this.claim(em)));
    } catch (error) {
      if (claim) this.abandon(claim);
      throw error;
    }
  }

  /** After the commit of a claim: send what it leased, note whether rows were left waiting, set the postponed rows' timer. */
  private started(claim: Claim): void {
    this.reserved -= claim.claimed.length;
    for (const claimed of claim.claimed) this.send(claimed);
    if (claim.postponedUntil !== null) this.wakeAt(claim.postponedUntil);
    this.backlog = claim.scanned === claim.wanted;
  }

  /** The claim's transaction failed: its rows stay waiting, its slots go back. */
  private abandon(claim: Claim): void {
    this.reserved -= claim.claimed.length;
    for (const claimed of claim.claimed) claimed.release();
  }

  private send(claimed: Claimed): void {
    this.sending++;
    let sent = false;
    const release = () => {
      if (sent) return;
      sent = true;
      this.sending--;
      claimed.release();
    };
    const attempt = this.attempts
      .send(claimed.delivery, claimed.webhook, release)
      .then(async (outcome) => {
        const next = await this.recorder.submit(outcome);
        await this.attempts.afterRecord(outcome);
        return next;
      })
      .then((next) => {
        if (next) this.wakeAt(next.dueAt);
      })
      .catch((error: unknown) => this.attempts.recordFailed(claimed.delivery, error))
      .finally(() => this.attemptsInFlight.delete(attempt));
    this.attemptsInFlight.add(attempt);
  }

  /**
   * One transaction for the attempts that ended together and, when deliveries wait for a slot,
   * the claim of the next due ones (as many as the finished sends freed): the record and the
   * claim share a commit. The claimed deliveries are sent after it.
   */
  private async recordAndClaim(batch: AttemptOutcome[]): Promise<(DueDelivery | null)[]> {
    const claims: Claim[] = [];
    try {
      const next = await this.tx.runHot(async (em) => {
        const recorded = await this.attempts.record(em, batch);
        if (this.backlog && !this.stopped && this.freeSlots() > 0) claims.push(await this.claim(em));
        return recorded;
      });
      for (const claim of claims) this.started(claim);
      return next;
    } catch (error) {
      for (const claim of claims) this.abandon(claim);
      // What the failed claim took from `known` is still waiting in the database: read it back, as a failed pass does.
      this.needScan();
      this.wakeAt(this.clock.now() + 1000);
      throw error;
    }
  }

  /**
   * Claims due deliveries, as many as slots are free when the transaction runs, whose webhook
   * has a free slot and token now; the others are pushed back to when their limiter says,
   * without counting an attempt. The claimed slots count as reserved until the caller has
   * committed (`started`) or failed (`abandon`), so claims in other transactions meanwhile
   * cannot fill them twice.
   */
  private async claim(em: EntityManager): Promise<Claim> {
    const now = this.clock.now();
    const wanted = this.freeSlots();
    const due = wanted > 0 ? await this.dueNow(em, now, wanted) : [];
    if (due.length === 0) return { claimed: [], wanted, scanned: 0, postponedUntil: null };
    const webhooks = await this.store.webhooks(em, [...new Set(due.map((d) => d.webhookId))]);
    const ready: Claimed[] = [];
    let postponedUntil: number | null = null;
    for (const delivery of due) {
      const webhook = webhooks.get(delivery.webhookId) ?? null;
      if (!(await this.attempts.triage(em, delivery, webhook, now))) continue;
      const slot = this.limiter.tryAcquire(webhook!.id, deliverySettingsOf(webhook!));
      if (!slot.ok) {
        const at = now + Math.max(1, slot.retryInMs);
        await this.store.postpone(em, delivery, at);
        postponedUntil = Math.min(postponedUntil ?? at, at);
        continue;
      }
      ready.push({ delivery, webhook: webhook!, release: slot.release });
    }
    // Rows read in this transaction are still waiting: every claim succeeds, through the same rule as the queue worker's.
    const leased = await this.attempts.claim(em, ready.map((c) => c.delivery), now);
    const claimed: Claimed[] = [];
    for (const candidate of ready) {
      if (leased.has(candidate.delivery.id)) claimed.push(candidate);
      else candidate.release();
    }
    this.reserved += claimed.length;
    return { claimed, wanted, scanned: due.length, postponedUntil };
  }

  /**
   * Up to `max` waiting deliveries due now, oldest first: from `known` while no scan is needed,
   * else read from the database. Each one returned leaves `known` (it is claimed, settled or
   * pushed back in the caller's transaction). A scan that found fewer rows than asked for saw
   * every due row: unless a reason to scan came up meanwhile, `known` is complete again.
   */
  private async dueNow(em: EntityManager, now: number, max: number): Promise<DeliveryEntity[]> {
    if (!this.scanNeeded) {
      const taken: DeliveryEntity[] = [];
      for (const delivery of this.known.values()) {
        if (taken.length === max) break;
        taken.push(delivery);
      }
      for (const delivery of taken) this.forget(delivery.id);
      return taken;
    }
    const reasons = this.scanReasons;
    const due = await this.store.due(em, now, max);
    for (const delivery of due) this.forget(delivery.id);
    if (due.length < max && reasons === this.scanReasons) this.scanNeeded = false;
    return due;
  }

  /**
   * A lease that expired (its attempt could not be recorded) makes the delivery due again. The
   * sweep also wakes the worker, a backstop for any due time no timer was set for.
   */
  private async reclaimExpiredLeases(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.attempts.reclaimLeases();
    } catch (error) {
      this.logger.error(`Lease sweep failed: ${(error as Error).message}`);
    }
    this.wake();
  }

  private async sleepUntilNextDue(): Promise<void> {
    const next = await this.tx.runHot((em) => this.store.nextDueAt(em));
    if (next !== null) this.wakeAt(next);
  }

  /** Wakes the worker at `at` (epoch ms), unless a timer already wakes it earlier. */
  private wakeAt(at: number): void {
    if (this.stopped || !this.active) return;
    const now = this.clock.now();
    const fireAt = now + Math.min(Math.max(0, at - now), MAX_SLEEP_MS);
    if (this.timer && this.timerAt <= fireAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = fireAt;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = Infinity;
      // What a timer waits for (a retry, a row pushed back) is read from the database.
      this.wake();
    }, fireAt - now);
    this.timer.unref();
  }
}
