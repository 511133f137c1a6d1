import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { TeamEntity } from '../auth/team.entity';
import { epochMs, jsonText } from '../database/columns';
import { WebhookEntity } from '../webhooks/webhook.entity';
import type { AttributeFilter, AutomationAction, RunFilter, Scope, Trigger, TriggerEvent } from './automation.types';

@Entity('automations')
@Index('uq_automations_team_name', ['teamId', 'name'], { unique: true })
@Index('idx_automations_webhook', ['webhookId'])
export class AutomationEntity {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id!: string;

  @Column({ name: 'team_id', type: 'varchar', length: 40 })
  teamId!: string;

  @ManyToOne(() => TeamEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'team_id' })
  team?: TeamEntity;

  @Column({ type: 'varchar', length: 64 })
  name!: string;

  @Column({ type: 'text' })
  description!: string;

  @Column({ type: 'boolean' })
  enabled!: boolean;

  @Column({ type: 'text', transformer: jsonText })
  scope!: Scope;

  /** The trigger's event, kept in a column of its own for the matcher's index. */
  @Column({ name: 'trigger_event', type: 'varchar', length: 32 })
  triggerEvent!: TriggerEvent;

  @Column({ type: 'text', transformer: jsonText })
  trigger!: Trigger;

  @Column({ name: 'run_filter', type: 'text', nullable: true, transformer: jsonText })
  runFilter!: RunFilter | null;

  /** The attribute filter, checked after the trigger (matching/attribute-filter.ts). */
  @Column({ type: 'text', nullable: true, transformer: jsonText })
  filter!: AttributeFilter | null;

  @Column({ type: 'text', transformer: jsonText })
  action!: AutomationAction;

  /** Kept beside `action` so a webhook in use cannot be deleted (the foreign key refuses it). */
  @Column({ name: 'webhook_id', type: 'varchar', length: 40 })
  webhookId!: string;

  @ManyToOne(() => WebhookEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'webhook_id' })
  webhook?: WebhookEntity;

  /** null: the default (86400 s for metric and log triggers, 0 otherwise; triggers.ts). */
  @Column({ name: 'cooldown_seconds', type: 'integer', nullable: true })
  cooldownSeconds!: number | null;

  /** Bumped when the trigger or scope changes: edge and cooldown state of older versions is ignored. */
  @Column({ name: 'trigger_version', type: 'integer' })
  triggerVersion!: number;

  @Column({ name: 'last_fired_at', type: 'bigint', nullable: true, transformer: epochMs })
  lastFiredAt!: number | null;

  @Column({ name: 'fire_count', type: 'integer' })
  fireCount!: number;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt!: number;

  @Column({ name: 'updated_at', type: 'bigint', transformer: epochMs })
  updatedAt!: number;
}
