import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { epochMs } from '../database/columns';
import { AutomationEntity } from './automation.entity';

/** Edge and cooldown state per (automation, subject): a run, an artifact collection or a project. */
@Entity('automation_states')
export class AutomationStateEntity {
  @PrimaryColumn({ name: 'automation_id', type: 'varchar', length: 40 })
  automationId!: string;

  @ManyToOne(() => AutomationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'automation_id' })
  automation?: AutomationEntity;

  /** `run:<project>/<run id>`, `collection:<project>/<collection>` or `project:<project>`. */
  @PrimaryColumn({ type: 'varchar', length: 1600 })
  subject!: string;

  @Column({ name: 'trigger_version', type: 'integer' })
  triggerVersion!: number;

  @Column({ type: 'boolean' })
  matching!: boolean;

  @Column({ name: 'last_fired_at', type: 'bigint', nullable: true, transformer: epochMs })
  lastFiredAt!: number | null;

  @Column({ name: 'updated_at', type: 'bigint', transformer: epochMs })
  updatedAt!: number;
}
