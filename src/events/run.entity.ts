import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { TeamEntity } from '../auth/team.entity';
import { epochMs, jsonText } from '../database/columns';
import type { RunState } from './event.types';

/** What Herald remembers of a run: its last state, its context and the metric windows automations watch. */
@Entity('runs')
@Index('idx_runs_group', ['teamId', 'project', 'group'])
export class RunEntity {
  @PrimaryColumn({ name: 'team_id', type: 'varchar', length: 40 })
  teamId!: string;

  @ManyToOne(() => TeamEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'team_id' })
  team?: TeamEntity;

  @PrimaryColumn({ type: 'varchar', length: 256 })
  project!: string;

  @PrimaryColumn({ name: 'run_id', type: 'varchar', length: 256 })
  runId!: string;

  @Column({ type: 'varchar', length: 16, nullable: true })
  state!: RunState | null;

  /** Watched metrics only: name → latest values in arrival order (non-finite kept as strings). */
  @Column({ type: 'text', transformer: jsonText })
  windows!: Record<string, (number | string)[]>;

  /** The latest `run.group` its events carried (RunContext). */
  @Column({ name: 'run_group', type: 'varchar', length: 256, nullable: true })
  group!: string | null;

  @Column({ type: 'text', nullable: true, transformer: jsonText })
  tags!: string[] | null;

  @Column({ type: 'text', nullable: true, transformer: jsonText })
  config!: Record<string, unknown> | null;

  @Column({ name: 'updated_at', type: 'bigint', transformer: epochMs })
  updatedAt!: number;
}
