import { type MigrationInterface, type QueryRunner, TableColumn } from 'typeorm';

/**
 * A per-team counter bumped in the same transaction as every automation change, so each
 * process can tell, with one primary-key read, whether its cached automation index is
 * current (the scaled mode has several API processes; see docs/architecture.md).
 */
export class AutomationsVersion1764201600000 implements MigrationInterface {
  name = 'AutomationsVersion1764201600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn('teams', new TableColumn({ name: 'automations_version', type: 'bigint', default: 0 }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('teams', 'automations_version');
  }
}
