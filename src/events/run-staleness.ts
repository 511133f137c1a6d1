import { createHash } from 'node:crypto';
import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import type { AuthContext } from '../auth/auth-context';
import { TeamEntity } from '../auth/team.entity';
import { Clock } from '../common/clock';
import { Sql } from '../database/sql';
import { TransactionRunner } from '../database/transaction-runner';
import { RUN_STALE } from './event.types';
import { IngestionService } from './ingestion.service';

/** How often due timers are looked for: well inside RUN_STALE's promptness bound (1 s or 5 %). */
export const STALE_POLL_MS = 250;
/** A claim lasts this long: a process that died holding one leaves it to another after it. */
export const STALE_CLAIM_MS = 30_000;
/** Timers claimed per poll. */
const CLAIM_BATCH = 100;

interface DueTimer {
  team_id: string;
  project: string;
  run_id: string;
  stale_seconds: number | string;
  run_name: string;
  last_seen_at: number | string;
  due_at: number | string;
}

/**
 * RUN_STALE (docs/automations.md › Stale runs). Ingestion keeps a timer per (RUNNING run,
 * silence length watched) in `run_stale_timers`, re-armed by every report of the run and
 * stopped by a final state. Here every process polls for due timers (a read of the earliest
 * unclaimed due time; nothing is written while none is due) and claims them in one
 * statement (`UPDATE … WHERE due_at <= now AND unclaimed … RETURNING`: on PostgreSQL a row
 * another process claimed first no longer matches once its lock is released), posts one
 * RUN_STALE event per timer through ingestion — an id derived from the run, the length and
 * the last report, so a repeat after a crash is a duplicate — then clears the timer unless the
 * run reported meanwhile. Deliveries come from the automations that match that event.
 */
@Injectable()
export class RunStaleness implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('RunStaleness');
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly sql: Sql,
    private readonly tx: TransactionRunner,
    private readonly ingestion: IngestionService,
    private readonly clock: Clock,
    @InjectRepository(TeamEntity) private readonly teams: Repository<TeamEntity>,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => {
      if (this.running !== null) return;
      this.running = this.poll().then(() => {
        this.running = null;
      });
    }, STALE_POLL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One poll: claims the due timers and posts their events; answers how many it posted. */
  async poll(): Promise<number> {
    let posted = 0;
    try {
      const now = this.clock.now();
      // A read first: the claim is a write transaction, queued with ingestion's, and almost
      // every poll finds nothing due (none at all when no automation watches for stale runs,
      // since only those arm timers). The read sees the other processes' timers and claims.
      const [next] = await this.sql.query<{ due: number | string | null }>(
        this.teams.manager,
        'SELECT MIN(due_at) AS due FROM run_stale_timers WHERE due_at IS NOT NULL AND (claimed_until IS NULL OR claimed_until < ?)',
        [now],
      );
      if (next?.due === null || next?.due === undefined || Number(next.due) > now) return 0;
      const due = await this.tx.runHot((em) =>
        this.sql.query<DueTimer>(
          em,
          `UPDATE run_stale_timers SET claimed_until = ?
           WHERE due_at IS NOT NULL AND due_at <= ? AND (claimed_until IS NULL OR claimed_until < ?)
             AND (team_id, project, run_id, stale_seconds) IN (
               SELECT team_id, project, run_id, stale_seconds FROM run_stale_timers
               WHERE due_at IS NOT NULL AND due_at <= ? AND (claimed_until IS NULL OR claimed_until < ?)
               ORDER BY due_at LIMIT ${CLAIM_BATCH})
           RETURNING team_id, project, run_id, stale_seconds, run_name, last_seen_at, due_at`,
          [now + STALE_CLAIM_MS, now, now, now, now],
        ),
      );
      for (const timer of due) if (await this.fire(timer)) posted++;
    } catch (error) {
      this.logger.error(`Stale-run poll failed: ${(error as Error).message}`);
    }
    return posted;
  }

  private async fire(timer: DueTimer): Promise<boolean> {
    const staleSeconds = Number(timer.stale_seconds);
    const lastSeenAt = Number(timer.last_seen_at);
    const team = await this.teams.findOneBy({ id: timer.team_id });
    if (team) {
      const auth: AuthContext = { teamId: team.id, teamName: team.name, keyId: 'herald', role: 'ingest', projects: null };
      const key = createHash('sha256').update(JSON.stringify([timer.project, timer.run_id, staleSeconds, lastSeenAt])).digest('hex').slice(0, 40);
      const event = {
        id: `herald:stale:${key}`,
        type: RUN_STALE,
        project: timer.project,
        occurredAt: new Date(this.clock.now()).toISOString(),
        run: { id: timer.run_id, name: timer.run_name, state: 'RUNNING' },
        lastSeenAt: new Date(lastSeenAt).toISOString(),
        staleSeconds,
      };
      try {
        await this.ingestion.ingest(auth, event, 'herald');
      } catch (error) {
        // The claim lapses and another poll tries again; the id makes a repeat a duplicate.
        this.logger.error(`Could not post ${event.id}: ${(error as Error).message}`);
        return false;
      }
    }
    // Fired once: cleared unless the run reported meanwhile (which moved due_at and dropped the claim).
    await this.tx.runHot((em) =>
      this.sql.query(
        em,
        'UPDATE run_stale_timers SET due_at = NULL, claimed_until = NULL WHERE team_id = ? AND project = ? AND run_id = ? AND stale_seconds = ? AND due_at = ?',
        [timer.team_id, timer.project, timer.run_id, staleSeconds, Number(timer.due_at)],
      ),
    );
    return team !== null;
  }
}
