import { Column, Entity, PrimaryColumn } from 'typeorm';
import { epochMs } from './columns';

/** Instance-wide facts that must survive restarts (master key fingerprint, bootstrap token hash). */
@Entity('settings')
export class SettingEntity {
  @PrimaryColumn({ type: 'varchar', length: 100 })
  key!: string;

  @Column({ type: 'text' })
  value!: string;

  @Column({ name: 'updated_at', type: 'bigint', transformer: epochMs })
  updatedAt!: number;
}
