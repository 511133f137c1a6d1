import { type MigrationInterface, type QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';

/** Sources: other platforms' webhooks in, Herald events out (issue 15), and their receipts. */
export class Sources1764288000000 implements MigrationInterface {
  name = 'Sources1764288000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'sources',
        columns: [
          { name: 'id', type: 'varchar', length: '40', isPrimary: true },
          { name: 'team_id', type: 'varchar', length: '40' },
          { name: 'name', type: 'varchar', length: '64' },
          { name: 'kind', type: 'varchar', length: '16' },
          { name: 'project', type: 'varchar', length: '256' },
          { name: 'secret', type: 'varchar', length: '64', isNullable: true },
          { name: 'token_hash', type: 'varchar', length: '64', isNullable: true },
          { name: 'created_at', type: 'bigint' },
          { name: 'updated_at', type: 'bigint' },
        ],
        foreignKeys: [
          new TableForeignKey({ columnNames: ['team_id'], referencedTableName: 'teams', referencedColumnNames: ['id'], onDelete: 'CASCADE' }),
        ],
        indices: [new TableIndex({ name: 'uq_sources_team_name', columnNames: ['team_id', 'name'], isUnique: true })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'source_receipts',
        columns: [
          { name: 'id', type: 'varchar', length: '40', isPrimary: true },
          { name: 'source_id', type: 'varchar', length: '40' },
          { name: 'received_at', type: 'bigint' },
          { name: 'sender_id', type: 'varchar', length: '128', isNullable: true },
          { name: 'sender_event', type: 'varchar', length: '128', isNullable: true },
          { name: 'verdict', type: 'varchar', length: '16' },
          { name: 'status_code', type: 'integer' },
          { name: 'reason', type: 'text', isNullable: true },
          { name: 'events', type: 'text' },
        ],
        foreignKeys: [
          new TableForeignKey({ columnNames: ['source_id'], referencedTableName: 'sources', referencedColumnNames: ['id'], onDelete: 'CASCADE' }),
        ],
        indices: [new TableIndex({ name: 'idx_source_receipts_source_received', columnNames: ['source_id', 'received_at'] })],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('source_receipts');
    await queryRunner.dropTable('sources');
  }
}
