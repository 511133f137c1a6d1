import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMs } from '../database/columns';

/**
 * When a RUNNING run becomes stale for one silence length (RUN_STALE's staleSeconds): one row
 * per (run, staleSeconds some automation of its project watches), re-armed by every report of
 * the run, cleared by a final state and once fired (run-staleness.ts). Durable, so a run that
 * went silent across a restart still fires after it.
 */
@Entity('run_stale_timers')
@Index('idx_run_stale_due', ['dueAt'])
export class RunStaleTimerEntity {
  @PrimaryColumn({ name: 'team_id', type: 'varchar', length: 40 })
  teamId!: string;

  @PrimaryColumn({ type: 'varchar', length: 256 })
  project!: string;

  @PrimaryColumn({ name: 'run_id', type: 'varchar', length: 256 })
  runId!: string;

  @PrimaryColumn({ name: 'stale_seconds', type: 'integer' })
  staleSeconds!: number;

  /** The run's name at its last report (the RUN_STALE event carries it). */
  @Column({ name: 'run_name', type: 'text' })
  runName!: string;

  @Column({ name: 'last_seen_at', type: 'bigint', transformer: epochMs })
  lastSeenAt!: number;

  /** last_seen_at + staleSeconds; null once fired or when the run reached a final state. */
  @Column({ name: 'due_at', type: 'bigint', nullable: true, transformer: epochMs })
  dueAt!: number | null;

  /** A process claimed the due row until then (it posts the event, then clears due_at). */
  @Column({ name: 'claimed_until', type: 'bigint', nullable: true, transformer: epochMs })
  claimedUntil!: number | null;
}
