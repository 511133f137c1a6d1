import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { TeamEntity } from '../auth/team.entity';
import { epochMs, jsonText } from '../database/columns';
import type { DeliverySettings, DisabledReason, SignatureSchemeName, WebhookKind } from './webhook-kinds';

@Entity('webhooks')
@Index('uq_webhooks_team_name', ['teamId', 'name'], { unique: true })
export class WebhookEntity {
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
  url!: string;

  @Column({ type: 'varchar', length: 16 })
  kind!: WebhookKind;

  /** Secret name sent as `Authorization: Bearer …` and usable as `${ACCESS_TOKEN}`. */
  @Column({ name: 'access_token_secret', type: 'varchar', length: 64, nullable: true })
  accessTokenSecret!: string | null;

  @Column({ name: 'signing_secret', type: 'varchar', length: 64, nullable: true })
  signingSecret!: string | null;

  @Column({ name: 'signature_schemes', type: 'text', transformer: jsonText })
  signatureSchemes!: SignatureSchemeName[];

  @Column({ name: 'payload_secrets', type: 'text', transformer: jsonText })
  payloadSecrets!: string[];

  @Column({ type: 'text', transformer: jsonText })
  headers!: Record<string, string>;

  /** Only the settings the admin set; the kind's defaults fill the rest when read. */
  @Column({ type: 'text', transformer: jsonText })
  delivery!: Partial<DeliverySettings>;

  @Column({ type: 'boolean' })
  enabled!: boolean;

  @Column({ name: 'disabled_reason', type: 'varchar', length: 16, nullable: true })
  disabledReason!: DisabledReason | null;

  /** Start of the current failure streak (no success since); null when the last attempt succeeded. */
  @Column({ name: 'failing_since', type: 'bigint', nullable: true, transformer: epochMs })
  failingSince!: number | null;

  @Column({ name: 'last_success_at', type: 'bigint', nullable: true, transformer: epochMs })
  lastSuccessAt!: number | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt!: number;

  @Column({ name: 'updated_at', type: 'bigint', transformer: epochMs })
  updatedAt!: number;
}
