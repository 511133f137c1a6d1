import { type MigrationInterface, type QueryRunner, TableColumn } from 'typeorm';

/** An automation's attribute filter (docs/automations.md › Attribute filters): JSON text, null for none. */
export class AutomationFilter1764979200000 implements MigrationInterface {
  name = 'AutomationFilter1764979200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn('automations', new TableColumn({ name: 'filter', type: 'text', isNullable: true }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('automations', 'filter');
  }
}
