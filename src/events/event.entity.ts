import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { TeamEntity } from '../auth/team.entity';
import { epochMs, jsonText } from '../database/columns';
import type { StoredOutcome } from './event-outcome';
import type { EventType, HeraldEvent } from './event.types';

/**
 * A stored event. Ids are unique per team and project (the client's idempotency key, or
 * `evt_…`): a key limited to one project can neither shadow nor probe another's ids.
 */
@Entity('events')
@Index('idx_events_team_received', ['teamId', 'receivedAt'])
@Index('idx_events_team_run', ['teamId', 'runId'])
export class EventEntity {
  @PrimaryColumn({ name: 'team_id', type: 'varchar', length: 40 })
  teamId!: string;

  @ManyToOne(() => TeamEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'team_id' })
  team?: TeamEntity;

  @PrimaryColumn({ type: 'varchar', length: 128 })
  id!: string;

  @Column({ type: 'varchar', length: 32 })
  type!: EventType;

  @PrimaryColumn({ type: 'varchar', length: 256 })
  project!: string;

  @Column({ name: 'run_id', type: 'varchar', length: 256, nullable: true })
  runId!: string | null;

  @Column({ name: 'occurred_at', type: 'bigint', transformer: epochMs })
  occurredAt!: number;

  @Column({ name: 'received_at', type: 'bigint', transformer: epochMs })
  receivedAt!: number;

  /** Its position in the request that posted it (0 for a single event): a batch lists in the order sent. */
  @Column({ name: 'batch_index', type: 'integer', default: 0 })
  batchIndex!: number;

  @Column({ type: 'text', transformer: jsonText })
  body!: HeraldEvent;

  /** What ingestion decided: matched, suppressed and failed automations with their deliveries; the others by id (StoredOutcome). */
  @Column({ type: 'text', transformer: jsonText })
  outcome!: StoredOutcome;
}
