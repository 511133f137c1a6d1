import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Queue } from 'bullmq';
import { bullmq } from './lazy-modules';
import type { Repository } from 'typeorm';
import { Clock } from '../../common/clock';
import { newId } from '../../common/ids';
import { HeraldConfig } from '../../config/config';
import { DeliveryStore, type DueCursor } from '../delivery-store';
import { DeliveryEntity } from '../delivery.entity';
import { DeliveryDispatcher, type DueDelivery, jobIdOf } from '../dispatcher';
import { RedisConnections } from './redis-connections';

export const DELIVERY_QUEUE = 'deliveries';
/** Due rows looked at per sweep query; a sweep repeats until it finds fewer. */
const SWEEP_BATCH = 1000;
/** A row due for less than this still has the job its writer is adding: the sweep leaves it. */
const SWEEP_GRACE_MS = 1000;

/** Entries of the batched hash looked at per step of a clean-up (HSCAN's COUNT). */
const CLEAN_PAGE = 1000;
/** Removes each (attempt, batch) pair's entry while the attempt is still listed under that batch; answers how many went. */
const UNLIST_IF_STILL = `local n = 0
for i = 1, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then n = n + redis.call('HDEL', KEYS[1], ARGV[i]) end
end
return n`;

/** Deliveries due now that one flush gives one job together, at most (more: several jobs). */
const BATCH_MAX = 64;

export interface AttemptJob {
  id: string;
  series: number;
  attempt: number;
}

/** A job of several attempts due now: the deliveries one ingestion commit (or turn) made due. */
export interface BatchJob {
  attempts: AttemptJob[];
}

export type QueueJob = AttemptJob | BatchJob;

/**
 * The scaled mode's dispatcher (REDIS_URL). The deliveries a turn's commits made due now go to
 * the queue as ONE job naming them (`BatchJob`, up to 64 each), so a delivery costs the
 * queue a share of one job's scripts instead of its own; a delayed attempt (a retry) is a job
 * of its own (`AttemptJob`, id `<delivery>-<series>-<attempt>`, so a job added twice collapses
 * while retries and redeliveries are new jobs). The batch's attempts are listed in one Redis
 * hash (`<prefix>:batched`, attempt's job id → batch job id) until the batch is processed (or
 * `cleanBatched` finds its job gone for good), so the sweep can tell a queued delivery from a
 * lost one. The database stays the truth: `sweep` adds a job for every due row that has none (neither its own nor a batch that still exists),
 * so deliveries survive a Redis restart, a FLUSHDB or a worker killed mid-batch. Jobs are
 * removed once processed, so a re-added id is a new job.
 */
@Injectable()
export class QueueDispatcher extends DeliveryDispatcher {
  private readonly logger = new Logger('DeliveryQueue');
  private queueInstance: Queue<QueueJob> | null = null;
  private sweeping: Promise<number> | null = null;
  /** The grace of a pass asked for while one runs (null: none asked). */
  private sweepAgain: number | null = null;
  /** The batches whose jobs the last `cleanBatched` found gone (their entries go if still so at the next). */
  private goneAtLastClean = new Set<string>();
  /** Due deliveries dispatched in this turn of the event loop, added to the queue together at its end. */
  private pending: DueDelivery[] = [];

  constructor(
    private readonly config: HeraldConfig,
    private readonly redis: RedisConnections,
    private readonly clock: Clock,
    private readonly store: DeliveryStore,
    @InjectRepository(DeliveryEntity) private readonly deliveries: Repository<DeliveryEntity>,
  ) {
    super();
  }

  get queue(): Queue<QueueJob> {
    this.queueInstance ??= new (bullmq().Queue)<QueueJob>(DELIVERY_QUEUE, {
      connection: this.redis.shared(),
      prefix: this.config.queuePrefix,
      defaultJobOptions: { removeOnComplete: true, removeOnFail: true, attempts: 1 },
    });
    return this.queueInstance;
  }

  /** The hash of the attempts in batch jobs not processed yet: attempt's job id → batch job id. */
  get batchedKey(): string {
    return `${this.config.queuePrefix}:batched`;
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
      // A keyset scan of the due rows (DeliveryStore.dueAfter): each page where the last ended.
      const dueBy = this.clock.now() - grace;
      for (let after: DueCursor | null = null; ; ) {
        // The data source's own manager: each page is one statement, no transaction.
        const due = await this.store.dueAfter(this.deliveries.manager, dueBy, after, SWEEP_BATCH);
        const lost = await this.withoutJob(due);
        await this.add(lost);
        total += lost.length;
        if (due.length < SWEEP_BATCH) break;
        const last = due[due.length - 1]!;
        after = { at: last.dueAt, id: last.id };
      }
    }
    return total;
  }

  /** The due rows with neither a job of their own nor a batch job that still exists. */
  private async withoutJob(due: DueDelivery[]): Promise<DueDelivery[]> {
    if (due.length === 0) return due;
    const redis = this.redis.shared();
    const ids = due.map(jobIdOf);
    const pipeline = redis.pipeline();
    for (const id of ids) pipeline.exists(this.queue.toKey(id));
    pipeline.hmget(this.batchedKey, ...ids);
    const answers = (await pipeline.exec()) ?? [];
    // An error answer counts as "no job": adding a job that exists is harmless.
    const batches = (answers[ids.length]?.[1] as (string | null)[] | undefined) ?? [];
    const named = [...new Set(batches.filter((b): b is string => typeof b === 'string'))];
    const existing = new Set<string>();
    if (named.length > 0) {
      const check = redis.pipeline();
      for (const batch of named) check.exists(this.queue.toKey(batch));
      const found = (await check.exec()) ?? [];
      named.forEach((batch, i) => found[i]?.[1] === 1 && existing.add(batch));
    }
    return due.filter((_, i) => answers[i]?.[1] !== 1 && !(batches[i] && existing.has(batches[i]!)));
  }

  /**
   * Adds the jobs: the attempts due now as batch jobs (each listed in the batched hash, sent
   * first on the same connection), the others one job each. A batch's id is new each time:
   * the same attempt batched twice (a sweep's re-add) is two jobs, and the second finds the
   * row claimed or sent.
   */
  private async add(due: DueDelivery[], batch = true): Promise<void> {
    if (due.length === 0) return;
    const now = this.clock.now();
    const jobs: { name: string; data: QueueJob; opts: { jobId: string; delay?: number } }[] = [];
    const ready = batch ? due.filter((d) => d.dueAt <= now) : [];
    for (const d of due) {
      if (d.dueAt > now || ready.length <= 1) jobs.push({ name: 'attempt', data: attemptOf(d), opts: { jobId: jobIdOf(d), delay: Math.max(0, d.dueAt - now) } });
    }
    const listed: Promise<unknown>[] = [];
    for (let i = 0; ready.length > 1 && i < ready.length; i += BATCH_MAX) {
      const attempts = ready.slice(i, i + BATCH_MAX).map(attemptOf);
      const batchId = newId('batch');
      listed.push(this.redis.shared().hset(this.batchedKey, Object.fromEntries(attempts.map((a) => [jobIdOf(a), batchId]))));
      jobs.push({ name: 'batch', data: { attempts }, opts: { jobId: batchId } });
    }
    await Promise.all([...listed, this.queue.addBulk(jobs)]);
  }

  /** Adds a job of its own for each of these attempts now (a batch's attempts that must wait). */
  enqueueEach(due: DueDelivery[]): Promise<void> {
    return this.add(due, false);
  }

  /**
   * Removes the batched hash's entries whose batch job is gone, so the hash does not keep what
   * no worker will unlist: a batch BullMQ failed as stalled without running it again, a worker
   * killed after its sends but before `unlist`. (Entries of rows still due are replaced by the
   * sweep's re-add; these are the others.) An entry goes only when its batch was gone at the
   * previous clean-up too, as a batch is listed just before its job is added, maybe by another
   * process; and only while it still names that batch (one script per page), so an attempt
   * listed again meanwhile keeps its new entry. Answers the entries removed.
   */
  async cleanBatched(): Promise<number> {
    const redis = this.redis.shared();
    const goneNow = new Set<string>();
    let removed = 0;
    let cursor = '0';
    do {
      const [next, flat] = await redis.hscan(this.batchedKey, cursor, 'COUNT', CLEAN_PAGE);
      cursor = next;
      const batches = [...new Set(flat.filter((_, i) => i % 2 === 1))];
      if (batches.length === 0) continue;
      const check = redis.pipeline();
      for (const batch of batches) check.exists(this.queue.toKey(batch));
      const found = (await check.exec()) ?? [];
      // An error answer counts as "exists": the entry stays for a later clean-up.
      batches.forEach((batch, i) => found[i]?.[0] === null && found[i]?.[1] === 0 && goneNow.add(batch));
      const stale: string[] = [];
      for (let i = 0; i < flat.length; i += 2) {
        if (goneNow.has(flat[i + 1]!) && this.goneAtLastClean.has(flat[i + 1]!)) stale.push(flat[i]!, flat[i + 1]!);
      }
      if (stale.length > 0) removed += (await redis.eval(UNLIST_IF_STILL, 1, this.batchedKey, ...stale)) as number;
    } while (cursor !== '0');
    this.goneAtLastClean = goneNow;
    return removed;
  }

  /** A processed batch's attempts leave the batched hash (each now sent, or with a job of its own, or left to the sweep). */
  async unlist(attempts: readonly AttemptJob[]): Promise<void> {
    await this.redis.shared().hdel(this.batchedKey, ...attempts.map(jobIdOf));
  }
}

function attemptOf(d: Pick<DueDelivery, 'id' | 'series' | 'attempt'>): AttemptJob {
  return { id: d.id, series: d.series, attempt: d.attempt };
}
