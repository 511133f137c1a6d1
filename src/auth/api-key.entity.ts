import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { epochMs, jsonText } from '../database/columns';
import type { ApiKeyRole } from './api-key-format';
import { TeamEntity } from './team.entity';

@Entity('api_keys')
@Index('idx_api_keys_team', ['teamId', 'id'])
export class ApiKeyEntity {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id!: string;

  @Column({ name: 'team_id', type: 'varchar', length: 40 })
  teamId!: string;

  @ManyToOne(() => TeamEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'team_id' })
  team?: TeamEntity;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @Column({ type: 'varchar', length: 16 })
  role!: ApiKeyRole;

  /** Ingest keys may be limited to these projects; null means every project of the team. */
  @Column({ type: 'text', nullable: true, transformer: jsonText })
  projects!: string[] | null;

  @Column({ type: 'varchar', length: 16 })
  prefix!: string;

  /** SHA-256 of the whole key, hex. The key itself is never stored. */
  @Column({ name: 'key_hash', type: 'varchar', length: 64, unique: true })
  keyHash!: string;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt!: number;

  @Column({ name: 'last_used_at', type: 'bigint', nullable: true, transformer: epochMs })
  lastUsedAt!: number | null;

  @Column({ name: 'revoked_at', type: 'bigint', nullable: true, transformer: epochMs })
  revokedAt!: number | null;
}
