import { Column, Entity, PrimaryColumn } from 'typeorm';
import { epochMs } from '../database/columns';

@Entity('teams')
export class TeamEntity {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id!: string;

  /** Unique; also `${entity_name}` in payloads and the first part of artifact version strings. */
  @Column({ type: 'varchar', length: 64, unique: true })
  name!: string;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt!: number;

  /** Bumped with every automation change of the team: caches of its automation index compare it. */
  @Column({ name: 'automations_version', type: 'bigint', default: 0, transformer: epochMs })
  automationsVersion!: number;
}
