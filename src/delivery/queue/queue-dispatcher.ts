import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Queue } from 'bullmq';
import { bullmq } from './lazy-modules';
import { In, LessThanOrEqual, type Repository } from 'typeorm';
import { Clock } from '../../common/clock';
import { HeraldConfig } from '../../config/config';
import { WAITING } from '../delivery-lifecycle';
import { DeliveryEntity } from '../delivery.entity';
import { DeliveryDispatcher, type DueDelivery, jobIdOf } from '../dispatcher';
import { RedisConnections } from './redis-connections';

export const DELIVERY_QUEUE = 'deliveries';
/** Due rows looked at per sweep query; a sweep repeats until it finds fewer. */
const SWEEP_BATCH = 1000;
/** A row due for less than this still has the job its writer is adding: the sweep leaves it. */
const SWEEP_GRACE_MS = 1000;

export interface AttemptJob {
  id: string;
  series: number;
  attempt: number;
}

/**
 * The scaled mode's dispatcher (REDIS_URL): one BullMQ job per attempt, id
 * `<delivery>-<series>-<attempt>` so a job added twice collapses while retries and
 * redeliveries are new jobs. The database stays the truth: `sweep` re-adds a job for every due
 * row (those that have one are ignored by BullMQ), so deliveries survive a Redis restart or
 * FLUSHDB. Jobs are removed once processed, so a re-added id is a new job.
 */
@Injectable()
export class QueueDispatcher extends DeliveryDispatcher {
  private readonly logger = new Logger('DeliveryQueue');
  private queueInstance: Queue<AttemptJob> | null = null;
  private sweeping: Promise<number> | null = null;
  /** The grace of a pass asked for while one runs (null: none asked). */
  private sweepAgain: number | null = null;
  /** Due deliveries dispatched in this turn of the event loop, added to the queue together at its end. */
  private pending: DueDelivery[] = [];

  constructor(
    private readonly config: HeraldConfig,
    private readonly redis: RedisConnections,
    private readonly clock: Clock,
    @InjectRepository(DeliveryEntity) private readonly deliveries: Repository<DeliveryEntity>,
  ) {
    super();
  }

  get queue(): Queue<AttemptJob> {
    this.queueInstance ??= new (bullmq().Queue)<AttemptJob>(DELIVERY_QUEUE, {
      connection: this.redis.shared(),
      prefix: this.config.queuePrefix,
      defaultJobOptions: { removeOnComplete: true, removeOnFail: true, attempts: 1 },
    });
    return this.queueInstance;
  }

  /**
   * Adds jobs for deliveries made due by a commit. The dispatches of one turn of the event loop
   * (the ingestion requests that committed together) share one `addBulk`: one round trip to
   * Redis per turn instead of per request.
   */
  dispatch(due: DueDelivery[]): void {
    if (due.length === 0) return;
    if (this.pending.length === 0) setImmediate(() => this.flush());
    for (const d of due) this.pending.push(d);
  }

  private flush(): void {
    const due = this.pending;
    this.pending = [];
    this.add(due).catch((error: Error) =>
      // Not lost: the rows are due in the database and the next sweep enqueues them.
      this.logger.warn(`Could not enqueue ${due.length} deliveries (the sweeper will): ${error.message}`),
    );
  }

  wake(): void {
    // The caller just made rows due and knows no job exists for them: no grace period.
    this.sweep(0).catch((error: Error) => this.logger.warn(`Sweep failed: ${error.message}`));
  }

  /**
   * Enqueues every due delivery that has no job (checked with one pipelined EXISTS per batch,
   * far cheaper than re-adding thousands of queued jobs). Overlapping calls run one more pass.
   */
  sweep(graceMs = SWEEP_GRACE_MS): Promise<number> {
    if (this.sweeping) {
      this.sweepAgain = Math.min(this.sweepAgain ?? graceMs, graceMs);
      return this.sweeping;
    }
    this.sweeping = this.sweepPasses(graceMs).finally(() => {
      this.sweeping = null;
    });
    return this.sweeping;
  }

  private async sweepPasses(graceMs: number): Promise<number> {
    let total = 0;
    for (let grace: number | null = graceMs; grace !== null; grace = this.sweepAgain) {
      this.sweepAgain = null;
      let after = -1;
      for (;;) {
        const rows = await this.deliveries.find({
          where: { status: In([...WAITING]), nextAttemptAt: LessThanOrEqual(this.clock.now() - grace) },
          select: { id: true, series: true, attemptCount: true, nextAttemptAt: true },
          order: { nextAttemptAt: 'ASC', id: 'ASC' },
          skip: after + 1,
          take: SWEEP_BATCH,
        });
        const due = rows.map((r) => ({ id: r.id, series: r.series, attempt: r.attemptCount + 1, dueAt: r.nextAttemptAt ?? 0 }));
        const lost = await this.withoutJob(due);
        await this.add(lost);
        total += lost.length;
        if (rows.length < SWEEP_BATCH) break;
        after += rows.length;
      }
    }
    return total;
  }

  private async withoutJob(due: DueDelivery[]): Promise<DueDelivery[]> {
    if (due.length === 0) return due;
    const pipeline = this.redis.shared().pipeline();
    for (const d of due) pipeline.exists(this.queue.toKey(jobIdOf(d)));
    const answers = (await pipeline.exec()) ?? [];
    // An error answer counts as "no job": adding a job that exists is harmless.
    return due.filter((_, i) => answers[i]?.[1] !== 1);
  }

  private async add(due: DueDelivery[]): Promise<void> {
    if (due.length === 0) return;
    const now = this.clock.now();
    await this.queue.addBulk(
      due.map((d) => ({
        name: 'attempt',
        data: { id: d.id, series: d.series, attempt: d.attempt },
        opts: { jobId: jobIdOf(d), delay: Math.max(0, d.dueAt - now) },
      })),
    );
  }
}
