import { type BeforeApplicationShutdown, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { Clock } from '../common/clock';
import { HeraldConfig } from '../config/config';
import { TransactionRunner } from '../database/transaction-runner';
import { effectiveDeliverySettings } from '../webhooks/webhook-rules';
import type { WebhookEntity } from '../webhooks/webhook.entity';
import { AttemptRunner } from './attempt-runner';
import type { DeliveryEntity } from './delivery.entity';
import { DeliveryStore } from './delivery-store';
import { DeliveryDispatcher, type DueDelivery } from './dispatcher';
import { WebhookRateLimiter } from './rate-limiter';

interface Claimed {
  delivery: DeliveryEntity;
  webhook: WebhookEntity;
  /** Frees the webhook's concurrency slot. */
  release: () => void;
}

/** Sends in flight at once, across webhooks (each webhook also has its own limits). */
const MAX_IN_FLIGHT = 32;
/** How often expired leases are looked for (a lease outlives the HTTP deadline). */
const LEASE_SWEEP_MS = 30_000;
/** The longest the worker sleeps before looking again, whatever the next due time. */
const MAX_SLEEP_MS = 60_000;

/**
 * The embedded delivery worker (no REDIS_URL): woken after each ingestion commit, it claims
 * due deliveries with a lease in a short transaction, sends them outside any transaction under
 * each webhook's rate and concurrency limits (in memory: this process is the only sender) and
 * records every attempt (AttemptRunner). At start it reclaims every `sending` row; on
 * shutdown it stops claiming and finishes the sends in flight. Idle when REDIS_URL is set.
 */
@Injectable()
export class DeliveryWorker extends DeliveryDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('DeliveryWorker');
  private readonly limiter: WebhookRateLimiter;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly active: boolean;
  private pumping: Promise<void> | null = null;
  private wakeRequested = false;
  private stopped = false;
  /** The last claim filled every free slot: more may be due, so a finished send claims again. */
  private backlog = false;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private sweeper: NodeJS.Timeout | null = null;

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
    await this.pumping;
    await Promise.all(this.inFlight);
  }

  dispatch(due: DueDelivery[]): void {
    const now = this.clock.now();
    let later = Infinity;
    for (const d of due) {
      if (d.dueAt <= now) return this.wake();
      later = Math.min(later, d.dueAt);
    }
    if (later < Infinity) this.wakeAt(later);
  }

  /** Asks for a pass over due deliveries; passes never overlap, a wake during one starts another. */
  wake(): void {
    if (this.stopped || !this.active) return;
    if (this.pumping) {
      this.wakeRequested = true;
      return;
    }
    this.pumping = this.pump().finally(() => {
      this.pumping = null;
      if (this.wakeRequested) {
        this.wakeRequested = false;
        this.wake();
      }
    });
  }

  /** Resolves once nothing is being claimed or sent (tests wait on it; due-later retries may remain). */
  async idle(): Promise<void> {
    while (this.pumping || this.inFlight.size > 0) {
      await this.pumping;
      await Promise.all(this.inFlight);
    }
  }

  private async pump(): Promise<void> {
    try {
      while (!this.stopped && this.inFlight.size < MAX_IN_FLIGHT) {
        const wanted = MAX_IN_FLIGHT - this.inFlight.size;
        const { claimed, scanned, postponedUntil } = await this.claim(wanted);
        for (const { delivery, webhook, release } of claimed) this.send(delivery, webhook, release);
        if (postponedUntil !== null) this.wakeAt(postponedUntil);
        this.backlog = scanned === wanted;
        // Fewer due rows than asked for: none is left. Rows pushed back by their webhook's
        // limits are no longer due: scan on, so one rate-limited webhook never delays the others.
        if (scanned < wanted) break;
      }
      // Sends in flight set their own timers (retries); an idle worker looks for the next due time.
      if (!this.stopped && this.inFlight.size === 0) await this.sleepUntilNextDue();
    } catch (error) {
      this.logger.error(`Delivery pass failed: ${(error as Error).message}`);
      this.wakeAt(this.clock.now() + 1000);
    }
  }

  private send(delivery: DeliveryEntity, webhook: WebhookEntity, release: () => void): void {
    const sending = this.attempts
      .attempt(delivery, webhook, release)
      .then((next) => {
        if (next) this.wakeAt(next.dueAt);
      })
      .catch((error: Error) => this.logger.error(`Delivery ${delivery.id} attempt failed: ${(error as Error).message}`))
      .finally(() => {
        this.inFlight.delete(sending);
        // New deliveries wake the worker themselves (dispatch); a finished send claims again
        // only when due rows were left waiting for a slot.
        if (this.backlog) this.wake();
      });
    this.inFlight.add(sending);
  }

  /**
   * Claims due deliveries whose webhook has a free slot and token now; the others are pushed
   * back to when their limiter says, without counting an attempt. `scanned` counts the due
   * rows looked at (each is claimed, pushed back or settled, so none is seen twice).
   */
  private claim(max: number): Promise<{ claimed: Claimed[]; scanned: number; postponedUntil: number | null }> {
    return this.tx.runHot(async (em) => {
      const now = this.clock.now();
      const due = await this.store.due(em, now, max);
      if (due.length === 0) return { claimed: [], scanned: 0, postponedUntil: null };
      const webhooks = await this.store.webhooks(em, [...new Set(due.map((d) => d.webhookId))]);
      const ready: Claimed[] = [];
      let postponedUntil: number | null = null;
      for (const delivery of due) {
        const webhook = webhooks.get(delivery.webhookId) ?? null;
        if (!(await this.attempts.triage(em, delivery, webhook, now))) continue;
        const slot = this.limiter.tryAcquire(webhook!.id, effectiveDeliverySettings(webhook!.kind, webhook!.delivery));
        if (!slot.ok) {
          const at = now + Math.max(1, slot.retryInMs);
          await this.store.postpone(em, delivery.id, at);
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
      return { claimed, scanned: due.length, postponedUntil };
    });
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
      this.wake();
    }, fireAt - now);
    this.timer.unref();
  }
}
