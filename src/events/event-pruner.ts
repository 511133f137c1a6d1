import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Clock } from '../common/clock';
import { HeraldConfig } from '../config/config';
import { TransactionRunner } from '../database/transaction-runner';
import { UNSETTLED, sqlList } from '../delivery/delivery-lifecycle';
import { EventEntity } from './event.entity';

const DAY_MS = 86_400_000;
const PRUNE_EVERY_MS = 3_600_000;
/** Rows deleted per transaction, so pruning never holds the (SQLite) writer for long. */
const PRUNE_BATCH = 1000;

/**
 * Deletes events older than HERALD_EVENT_RETENTION_DAYS, hourly and at start, in small
 * batches. An event with a delivery that is not final (pending, sending, retrying, held)
 * is kept until it is.
 */
@Injectable()
export class EventPruner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('EventPruner');
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;

  constructor(
    private readonly config: HeraldConfig,
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.runOnce(), PRUNE_EVERY_MS);
    this.timer.unref();
    void this.runOnce();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** Prunes now; answers how many events were deleted. */
  runOnce(): Promise<number> {
    this.running ??= this.prune()
      .catch((error: Error) => {
        this.logger.error(`Pruning events failed: ${error.message}`);
        return 0;
      })
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  private async prune(): Promise<number> {
    const cutoff = this.clock.now() - this.config.eventRetentionDays * DAY_MS;
    let total = 0;
    for (;;) {
      const deleted = await this.tx.run(async (em) => {
        const rows: { team_id: string; id: string; project: string }[] = await em
          .createQueryBuilder()
          .select(['e.team_id AS team_id', 'e.id AS id', 'e.project AS project'])
          .from('events', 'e')
          .where('e.received_at < :cutoff', { cutoff })
          .andWhere(
            `NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.team_id = e.team_id AND d.event_id = e.id
               AND d.status IN ${sqlList(UNSETTLED)})`,
          )
          .limit(PRUNE_BATCH)
          .getRawMany();
        for (const row of rows) await em.delete(EventEntity, { teamId: row.team_id, id: row.id, project: row.project });
        return rows.length;
      });
      total += deleted;
      if (deleted < PRUNE_BATCH) break;
    }
    if (total > 0) this.logger.log(`Pruned ${total} events older than ${this.config.eventRetentionDays} days`);
    return total;
  }
}
