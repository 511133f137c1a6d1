import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { epochMs } from '../database/columns';
import { DeliveryEntity } from './delivery.entity';

/** One HTTP attempt of a delivery: what happened, secrets redacted. */
@Entity('delivery_attempts')
@Index('idx_delivery_attempts_delivery', ['deliveryId', 'series', 'number'])
export class DeliveryAttemptEntity {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id!: string;

  @Column({ name: 'delivery_id', type: 'varchar', length: 40 })
  deliveryId!: string;

  @ManyToOne(() => DeliveryEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'delivery_id' })
  delivery?: DeliveryEntity;

  @Column({ type: 'integer' })
  series!: number;

  @Column({ type: 'integer' })
  number!: number;

  @Column({ name: 'started_at', type: 'bigint', transformer: epochMs })
  startedAt!: number;

  @Column({ name: 'duration_ms', type: 'integer' })
  durationMs!: number;

  @Column({ name: 'status_code', type: 'integer', nullable: true })
  statusCode!: number | null;

  /** At most 2 KiB of the response, secrets redacted. */
  @Column({ name: 'response_excerpt', type: 'text' })
  responseExcerpt!: string;

  @Column({ name: 'error_class', type: 'varchar', length: 32, nullable: true })
  errorClass!: string | null;

  @Column({ name: 'error_message', type: 'text', nullable: true })
  errorMessage!: string | null;

  @Column({ name: 'will_retry', type: 'boolean' })
  willRetry!: boolean;
}
