import { type MigrationInterface, type QueryRunner, TableColumn, TableIndex } from 'typeorm';

/**
 * A run's context (docs/automations.md › Run context): the latest `run.group`, `run.tags` and
 * `run.config` its events carried, and an index on the group for RUN_GROUP_FINISHED's counts.
 */
export class RunContext1764720000000 implements MigrationInterface {
  name = 'RunContext1764720000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumns('runs', [
      new TableColumn({ name: 'run_group', type: 'varchar', length: '256', isNullable: true }),
      new TableColumn({ name: 'tags', type: 'text', isNullable: true }),
      new TableColumn({ name: 'config', type: 'text', isNullable: true }),
    ]);
    await queryRunner.createIndex('runs', new TableIndex({ name: 'idx_runs_group', columnNames: ['team_id', 'project', 'run_group'] }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('runs', 'idx_runs_group');
    for (const column of ['config', 'tags', 'run_group']) await queryRunner.dropColumn('runs', column);
  }
}
