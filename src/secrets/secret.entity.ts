import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { TeamEntity } from '../auth/team.entity';
import { epochMs, jsonText } from '../database/columns';
import type { PreviousValue } from './secret-rotation';

@Entity('secrets')
@Index('uq_secrets_team_name', ['teamId', 'name'], { unique: true })
export class SecretEntity {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id!: string;

  @Column({ name: 'team_id', type: 'varchar', length: 40 })
  teamId!: string;

  @ManyToOne(() => TeamEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'team_id' })
  team?: TeamEntity;

  @Column({ type: 'varchar', length: 64 })
  name!: string;

  /** `v1.<base64(nonce ‖ tag ‖ ciphertext)>`, AES-256-GCM under the master key. */
  @Column({ type: 'text' })
  ciphertext!: string;

  /** Earlier values still signing during a rotation's overlap (secret-rotation.ts); null when there never was one. */
  @Column({ name: 'previous_values', type: 'text', nullable: true, transformer: jsonText })
  previousValues!: PreviousValue[] | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt!: number;

  @Column({ name: 'updated_at', type: 'bigint', transformer: epochMs })
  updatedAt!: number;
}
