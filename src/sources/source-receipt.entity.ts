import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { epochMs, jsonText } from '../database/columns';
import type { EventType } from '../events/event.types';
import type { ReceiptVerdict } from './source-kinds';
import { SourceEntity } from './source.entity';

/** An event a receipt stored (or found already stored: a duplicate). */
export interface ReceiptEvent {
  id: string;
  type: EventType;
  duplicate: boolean;
}

/**
 * What became of one request to a source's receive URL. Only facts about the request and
 * Herald's answer: never a header value, a body or a secret.
 */
@Entity('source_receipts')
@Index('idx_source_receipts_source_received', ['sourceId', 'receivedAt'])
export class SourceReceiptEntity {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id!: string;

  @Column({ name: 'source_id', type: 'varchar', length: 40 })
  sourceId!: string;

  @ManyToOne(() => SourceEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'source_id' })
  source?: SourceEntity;

  @Column({ name: 'received_at', type: 'bigint', transformer: epochMs })
  receivedAt!: number;

  /** The sender's delivery or event id, or the id Herald derived; null when unknown. */
  @Column({ name: 'sender_id', type: 'varchar', length: 128, nullable: true })
  senderId!: string | null;

  /** The sender's name for the event (`model_version.created`, `TASK_LOG`, …). */
  @Column({ name: 'sender_event', type: 'varchar', length: 128, nullable: true })
  senderEvent!: string | null;

  @Column({ type: 'varchar', length: 16 })
  verdict!: ReceiptVerdict;

  /** The HTTP status Herald answered the sender with. */
  @Column({ name: 'status_code', type: 'integer' })
  statusCode!: number;

  /** Why it was ignored or refused; for accepted receipts, a note such as "duplicate". */
  @Column({ type: 'text', nullable: true })
  reason!: string | null;

  @Column({ type: 'text', transformer: jsonText })
  events!: ReceiptEvent[];
}
