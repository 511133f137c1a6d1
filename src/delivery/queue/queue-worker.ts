import { type BeforeApplicationShutdown, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Job, Worker } from 'bullmq';
import { bullmq } from './lazy-modules';
import type { EntityManager, Repository } from 'typeorm';
import { Clock } from '../../common/clock';
import { HeraldConfig } from '../../config/config';
import { GroupCommit } from '../../database/group-commit';
import { TransactionRunner } from '../../database/transaction-runner';
import type { WebhookEntity } from '../../webhooks/webhook.entity';
import { deliverySettingsOf } from '../../webhooks/webhook-rules';
import { AttemptRunner } from '../attempt-runner';
import { isWaiting } from '../delivery-lifecycle';
import { type ClaimTarget, DeliveryStore } from '../delivery-store';
import type { DueDelivery } from '../dispatcher';
import { DeliveryEntity } from '../delivery.entity';
import { type AttemptJob, type BatchJob, DELIVERY_QUEUE, QueueDispatcher, type QueueJob } from './queue-dispatcher';
import { RedisConnections } from './redis-connections';
import { RedisRateLimiter } from './redis-rate-limiter';

/** Attempts processed at once by one worker process (whether their jobs are batches or not). */
const CONCURRENCY = 32;

/**
 * A BullMQ worker (REDIS_URL, HERALD_ROLE worker or all). A job is one attempt or a batch of
 * attempts due now (QueueDispatcher), each processed as follows, at most 32 at once. Each attempt: it checks
 * the row is still due for exactly that attempt (a duplicate or stale job does nothing), takes
 * a token and a slot from the webhook's Redis limiter (or waits as a delayed job), claims the
 * row with a lease by a conditional UPDATE (so two workers never both send it), sends, records
 * and enqueues the retry. The reads and the claim are single statements of `DeliveryStore`
 * outside any transaction (a claim is one UPDATE, atomic by itself): per job, three round trips
 * to PostgreSQL before the send instead of two ORM reads and a BEGIN/UPDATE/COMMIT. Every `HERALD_SWEEP_INTERVAL_MS` it makes expired leases due again
 * and re-enqueues due rows that lost their job. Shutdown lets active jobs finish.
 */
@Injectable()
export class QueueWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('DeliveryQueue');
  private worker: Worker<QueueJob> | null = null;
  /** Attempts in process, and those waiting for one of the CONCURRENCY places. */
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private sweeper: NodeJS.Timeout | null = null;
  private limiter: RedisRateLimiter | null = null;
  private stopped = false;

  /** The data source's own manager: each statement on it commits by itself. */
  private readonly db: EntityManager;
  /** Each job's row, read after the job started, together with the other jobs' (null: gone). */
  private readonly rows = new GroupCommit<string, DeliveryEntity | null>(async (ids) => {
    const found = await this.store.byIds(this.db, [...new Set(ids)]);
    return ids.map((id) => found.get(id) ?? null);
  });
  /** Each job's webhook, read after its row, together with the other jobs' (null: deleted). */
  private readonly webhookRows = new GroupCommit<string, WebhookEntity | null>(async (ids) => {
    const found = await this.store.webhooks(this.db, [...new Set(ids)]);
    return ids.map((id) => found.get(id) ?? null);
  });
  /** Claims of the jobs that reach theirs together, in one conditional UPDATE (true: claimed). */
  private readonly claims = new GroupCommit<ClaimTarget, boolean>(async (targets) => {
    const claimed = await this.attempts.claim(this.db, targets, this.clock.now());
    return targets.map((t) => claimed.has(t.id));
  });

  constructor(
    private readonly config: HeraldConfig,
    private readonly redis: RedisConnections,
    private readonly dispatcher: QueueDispatcher,
    private readonly attempts: AttemptRunner,
    private readonly store: DeliveryStore,
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    @InjectRepository(DeliveryEntity) deliveries: Repository<DeliveryEntity>,
  ) {
    this.db = deliveries.manager;
  }

  get active(): boolean {
    return this.config.redisUrl !== null && this.config.role !== 'api';
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.active) return;
    this.limiter = new RedisRateLimiter(this.redis.shared(), `${this.config.queuePrefix}:limits`, this.attempts.leaseMs);
    this.worker = new (bullmq().Worker)<QueueJob>(DELIVERY_QUEUE, (job, token) => ('attempts' in job.data ? this.processBatch(job.data) : this.process(job as Job<AttemptJob>, token)), {
      connection: this.redis.open(),
      prefix: this.config.queuePrefix,
      concurrency: CONCURRENCY,
    });
    this.worker.on('error', (error) => this.logger.warn(`Queue worker: ${error.message}`));
    this.sweeper = setInterval(() => void this.sweep(), this.config.sweepIntervalMs);
    this.sweeper.unref();
    void this.sweep();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.sweeper) clearInterval(this.sweeper);
    // Stops taking jobs and waits for the active ones: their attempts are sent and recorded.
    await this.worker?.close();
  }

  /**
   * Expired leases become due, then every due row gets a job (ids it has are ignored), then the
   * batched hash loses the entries of batches gone for good.
   */
  async sweep(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.attempts.reclaimLeases();
      await this.dispatcher.sweep();
      await this.dispatcher.cleanBatched();
    } catch (error) {
      this.logger.warn(`Sweep failed: ${(error as Error).message}`);
    }
  }

  /** A job of one attempt: when it must wait, the job itself waits as a delayed job. */
  private async process(job: Job<AttemptJob>, token?: string): Promise<void> {
    const waitMs = await this.withPlace(() => this.attemptOnce(job.data));
    if (waitMs !== null) await this.later(job, token, waitMs);
  }

  /**
   * A batch job: its attempts side by side (an error in one leaves its row due, for the sweep,
   * without failing the others); one that must wait becomes a delayed job of its own. Then
   * they leave the batched hash, while the batch job still exists, so the sweep never sees
   * one of them in neither.
   */
  private async processBatch({ attempts }: BatchJob): Promise<void> {
    const later: DueDelivery[] = [];
    const results = await Promise.allSettled(
      attempts.map(async (attempt) => {
        const waitMs = await this.withPlace(() => this.attemptOnce(attempt));
        if (waitMs !== null) later.push({ ...attempt, dueAt: this.clock.now() + Math.max(1, waitMs) });
      }),
    );
    for (const result of results) {
      if (result.status === 'rejected') this.logger.warn(`Attempt failed before its record (the sweep retries it): ${(result.reason as Error).message}`);
    }
    if (later.length > 0) await this.dispatcher.enqueueEach(later);
    await this.dispatcher.unlist(attempts);
  }

  /**
   * One attempt, if its row is still due for exactly it. Answers null when done with it (sent
   * and recorded, triaged, or stale), or how long it must wait (not due yet, or the webhook's
   * rate limit).
   */
  private async attemptOnce({ id, series, attempt }: AttemptJob): Promise<number | null> {
    const delivery = await this.rows.submit(id);
    // A duplicate or stale job: the row moved on (sent, settled, redelivered) without it.
    if (!delivery || !isWaiting(delivery.status) || delivery.series !== series || delivery.attemptCount + 1 !== attempt) return null;
    const now = this.clock.now();
    if (delivery.nextAttemptAt !== null && delivery.nextAttemptAt > now) return delivery.nextAttemptAt - now;

    const webhook = await this.webhookRows.submit(delivery.webhookId);
    if (!webhook || !webhook.enabled) {
      await this.tx.run((em) => this.attempts.triage(em, delivery, webhook, now));
      return null;
    }
    const slot = await this.limiter!.tryAcquire(webhook.id, deliverySettingsOf(webhook));
    if (!slot.ok) return slot.retryInMs;

    if (!(await this.claims.submit({ id, series, attemptCount: attempt - 1 }))) {
      slot.release(); // another worker claimed it first
      return null;
    }
    const next = await this.attempts.attempt(delivery, webhook, slot.release);
    if (next) this.dispatcher.dispatch([next]);
    return null;
  }

  /** Runs `work` in one of the CONCURRENCY places, waiting for one. */
  private async withPlace<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= CONCURRENCY) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await work();
    } finally {
      // The place passes to the next waiting attempt as is, or is given back.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }

  /** Puts the job back as delayed (not an attempt, nothing dropped). */
  private async later(job: Job<AttemptJob>, token: string | undefined, waitMs: number): Promise<void> {
    await job.moveToDelayed(Date.now() + Math.max(1, waitMs), token);
    throw new (bullmq().DelayedError)();
  }
}
