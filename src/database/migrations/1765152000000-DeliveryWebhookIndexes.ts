import { type MigrationInterface, type QueryRunner, TableIndex } from 'typeorm';
import { WAITING_ROWS } from './1764374400000-DeliveryQueueIndexes';

/**
 * Deliveries by webhook, indexed on what never changes. `(webhook_id, status)` was rewritten by
 * every status change (pending → sending → succeeded: two deletes and three inserts per
 * delivery, in three transactions, over several leaf pages per webhook), which made it the most
 * expensive b-tree of the hot path (docs/performance.md › Sixth round). Its readers now have:
 * - the history filtered by webhook, newest first: `(webhook_id, created_at)`, written once;
 * - holding a paused or disabled webhook's waiting deliveries: `(webhook_id)` over the waiting
 *   rows only (written at insert, removed at the claim);
 * - releasing its held ones: `(webhook_id)` over the held rows (never on the hot path);
 * - recovering its failed ones by when they failed: `(webhook_id, updated_at)` over the failed
 *   rows (never on the success path).
 */
export class DeliveryWebhookIndexes1765152000000 implements MigrationInterface {
  name = 'DeliveryWebhookIndexes1765152000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('deliveries', 'idx_deliveries_webhook_status');
    for (const index of WEBHOOK_INDEXES) await queryRunner.createIndex('deliveries', new TableIndex(index));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const index of [...WEBHOOK_INDEXES].reverse()) await queryRunner.dropIndex('deliveries', index.name);
    await queryRunner.createIndex('deliveries', new TableIndex({ name: 'idx_deliveries_webhook_status', columnNames: ['webhook_id', 'status'] }));
  }
}

/** As the entity declares them (DeliveryEntity), so the schema check finds nothing to change. */
export const HELD_ROWS = "status = 'held'";
export const FAILED_ROWS = "status = 'failed'";

const WEBHOOK_INDEXES = [
  { name: 'idx_deliveries_webhook_created', columnNames: ['webhook_id', 'created_at'] },
  { name: 'idx_deliveries_webhook_waiting', columnNames: ['webhook_id'], where: WAITING_ROWS },
  { name: 'idx_deliveries_webhook_held', columnNames: ['webhook_id'], where: HELD_ROWS },
  { name: 'idx_deliveries_webhook_failed', columnNames: ['webhook_id', 'updated_at'], where: FAILED_ROWS },
];
