import { type MigrationInterface, type QueryRunner, TableColumn } from 'typeorm';

/**
 * An event's position in the request that posted it (0 for a single event), so the events of
 * one batch, which share their received time, list in the order they were sent. Events stored
 * before have 0.
 */
export class EventBatchIndex1764806400000 implements MigrationInterface {
  name = 'EventBatchIndex1764806400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn('events', new TableColumn({ name: 'batch_index', type: 'integer', isNullable: false, default: 0 }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('events', 'batch_index');
  }
}
