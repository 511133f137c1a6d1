import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';

/** RUN_STALE's durable due times (RunStaleTimerEntity), indexed by due time for the poller. */
export class RunStaleTimers1765065600000 implements MigrationInterface {
  name = 'RunStaleTimers1765065600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'run_stale_timers',
        columns: [
          { name: 'team_id', type: 'varchar', length: '40', isPrimary: true },
          { name: 'project', type: 'varchar', length: '256', isPrimary: true },
          { name: 'run_id', type: 'varchar', length: '256', isPrimary: true },
          { name: 'stale_seconds', type: 'integer', isPrimary: true },
          { name: 'run_name', type: 'text' },
          { name: 'last_seen_at', type: 'bigint' },
          { name: 'due_at', type: 'bigint', isNullable: true },
          { name: 'claimed_until', type: 'bigint', isNullable: true },
        ],
        indices: [new TableIndex({ name: 'idx_run_stale_due', columnNames: ['due_at'] })],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('run_stale_timers');
  }
}
