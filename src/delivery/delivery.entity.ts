import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { TeamEntity } from '../auth/team.entity';
import { epochMs } from '../database/columns';
import { LEASED_ROWS, WAITING_ROWS } from '../database/migrations/1764374400000-DeliveryQueueIndexes';
import { FAILED_ROWS, HELD_ROWS } from '../database/migrations/1765152000000-DeliveryWebhookIndexes';
import type { BodyForm, DeliveryStatus } from './delivery-status';

/**
 * One match = one delivery with a stable id (`msg_…`) reused by every attempt. Automation and
 * webhook are plain columns, not foreign keys: history outlives them.
 */
@Entity('deliveries')
@Index('idx_deliveries_waiting', ['nextAttemptAt'], { where: WAITING_ROWS })
@Index('idx_deliveries_leased', ['leaseUntil'], { where: LEASED_ROWS })
@Index('idx_deliveries_team_created', ['teamId', 'createdAt'])
@Index('idx_deliveries_webhook_created', ['webhookId', 'createdAt'])
@Index('idx_deliveries_webhook_waiting', ['webhookId'], { where: WAITING_ROWS })
@Index('idx_deliveries_webhook_held', ['webhookId'], { where: HELD_ROWS })
@Index('idx_deliveries_webhook_failed', ['webhookId', 'updatedAt'], { where: FAILED_ROWS })
@Index('idx_deliveries_automation', ['automationId'])
@Index('idx_deliveries_event', ['teamId', 'eventId'])
export class DeliveryEntity {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id!: string;

  @Column({ name: 'team_id', type: 'varchar', length: 40 })
  teamId!: string;

  @ManyToOne(() => TeamEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'team_id' })
  team?: TeamEntity;

  @Column({ name: 'automation_id', type: 'varchar', length: 40, nullable: true })
  automationId!: string | null;

  @Column({ name: 'automation_name', type: 'varchar', length: 64, nullable: true })
  automationName!: string | null;

  @Column({ name: 'webhook_id', type: 'varchar', length: 40 })
  webhookId!: string;

  @Column({ name: 'event_id', type: 'varchar', length: 128, nullable: true })
  eventId!: string | null;

  @Column({ name: 'event_type', type: 'varchar', length: 32 })
  eventType!: string;

  @Column({ type: 'varchar', length: 16 })
  status!: DeliveryStatus;

  /** The rendered body; secrets only as `${NAME}` placeholders (form `deferred`). */
  @Column({ type: 'text' })
  body!: string;

  @Column({ name: 'body_form', type: 'varchar', length: 16 })
  bodyForm!: BodyForm;

  /** Redeliveries start a new series; attempts are numbered within their series. */
  @Column({ type: 'integer' })
  series!: number;

  @Column({ name: 'attempt_count', type: 'integer' })
  attemptCount!: number;

  @Column({ name: 'next_attempt_at', type: 'bigint', nullable: true, transformer: epochMs })
  nextAttemptAt!: number | null;

  @Column({ name: 'lease_until', type: 'bigint', nullable: true, transformer: epochMs })
  leaseUntil!: number | null;

  @Column({ name: 'last_status_code', type: 'integer', nullable: true })
  lastStatusCode!: number | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  /** Series 1's first attempt (a `StoredFirstAttempt` as JSON) once recorded; every other attempt is a delivery_attempts row (DeliveryStore.attempts reads both). */
  @Column({ name: 'first_attempt', type: 'text', nullable: true })
  firstAttempt!: string | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt!: number;

  @Column({ name: 'updated_at', type: 'bigint', transformer: epochMs })
  updatedAt!: number;
}
