import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { TeamEntity } from '../auth/team.entity';
import { epochMs } from '../database/columns';
import type { SourceKind } from './source-kinds';

/** A platform whose webhooks Herald receives and turns into events (issue 15). */
@Entity('sources')
@Index('uq_sources_team_name', ['teamId', 'name'], { unique: true })
export class SourceEntity {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id!: string;

  @Column({ name: 'team_id', type: 'varchar', length: 40 })
  teamId!: string;

  @ManyToOne(() => TeamEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'team_id' })
  team?: TeamEntity;

  @Column({ type: 'varchar', length: 64 })
  name!: string;

  @Column({ type: 'varchar', length: 16 })
  kind!: SourceKind;

  /** The Herald project events land in (Determined experiments name their own). */
  @Column({ type: 'varchar', length: 256 })
  project!: string;

  /** Name of the team secret holding what the sender is configured with; null for Valohai. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  secret!: string | null;

  /** Valohai: SHA-256 (hex) of the receive URL's token, which is shown once. */
  @Column({ name: 'token_hash', type: 'varchar', length: 64, nullable: true })
  tokenHash!: string | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt!: number;

  @Column({ name: 'updated_at', type: 'bigint', transformer: epochMs })
  updatedAt!: number;
}
