import { type MigrationInterface, type QueryRunner, TableColumn } from 'typeorm';

/**
 * A delivery's first attempt (series 1, attempt 1: for most deliveries the only one) is kept in
 * its row, as JSON, instead of a delivery_attempts row with its two indexes: the record that
 * rewrites the delivery row anyway carries it (docs/performance.md › Sixth round). Every other
 * attempt, and every attempt recorded before this migration, stays in delivery_attempts;
 * DeliveryStore.attempts reads both.
 */
export class FirstAttemptInRow1765238400000 implements MigrationInterface {
  name = 'FirstAttemptInRow1765238400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn('deliveries', new TableColumn({ name: 'first_attempt', type: 'text', isNullable: true }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('deliveries', 'first_attempt');
  }
}
