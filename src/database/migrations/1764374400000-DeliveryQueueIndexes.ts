import { type MigrationInterface, type QueryRunner, TableIndex } from 'typeorm';

/**
 * Partial indexes for the delivery queue: the waiting deliveries by due time (claims and the
 * next-due lookup read them in order and stop at their LIMIT, whatever the history's size) and
 * the leased ones by lease end (the lease sweep). They replace (status, next_attempt_at), on
 * which the claims' `status IN (…) ORDER BY next_attempt_at` sorted every waiting row.
 */
export class DeliveryQueueIndexes1764374400000 implements MigrationInterface {
  name = 'DeliveryQueueIndexes1764374400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('deliveries', 'idx_deliveries_due');
    await queryRunner.createIndex(
      'deliveries',
      new TableIndex({ name: 'idx_deliveries_waiting', columnNames: ['next_attempt_at'], where: WAITING_ROWS }),
    );
    await queryRunner.createIndex('deliveries', new TableIndex({ name: 'idx_deliveries_leased', columnNames: ['lease_until'], where: LEASED_ROWS }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('deliveries', 'idx_deliveries_leased');
    await queryRunner.dropIndex('deliveries', 'idx_deliveries_waiting');
    await queryRunner.createIndex('deliveries', new TableIndex({ name: 'idx_deliveries_due', columnNames: ['status', 'next_attempt_at'] }));
  }
}

/** As the entity declares them (DeliveryEntity), so the schema check finds nothing to change. */
export const WAITING_ROWS = "status IN ('pending', 'retrying')";
export const LEASED_ROWS = "status = 'sending'";
