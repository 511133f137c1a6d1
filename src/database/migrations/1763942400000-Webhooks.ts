import { type MigrationInterface, type QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';

/** Webhook endpoints (docs/design.md › Webhooks). JSON-valued settings are kept in text columns. */
export class Webhooks1763942400000 implements MigrationInterface {
  name = 'Webhooks1763942400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'webhooks',
        columns: [
          { name: 'id', type: 'varchar', length: '40', isPrimary: true },
          { name: 'team_id', type: 'varchar', length: '40' },
          { name: 'name', type: 'varchar', length: '64' },
          { name: 'url', type: 'text' },
          { name: 'kind', type: 'varchar', length: '16' },
          { name: 'access_token_secret', type: 'varchar', length: '64', isNullable: true },
          { name: 'signing_secret', type: 'varchar', length: '64', isNullable: true },
          { name: 'signature_schemes', type: 'text' },
          { name: 'payload_secrets', type: 'text' },
          { name: 'headers', type: 'text' },
          { name: 'delivery', type: 'text' },
          { name: 'enabled', type: 'boolean' },
          { name: 'disabled_reason', type: 'varchar', length: '16', isNullable: true },
          { name: 'created_at', type: 'bigint' },
          { name: 'updated_at', type: 'bigint' },
        ],
        foreignKeys: [
          new TableForeignKey({ columnNames: ['team_id'], referencedTableName: 'teams', referencedColumnNames: ['id'], onDelete: 'CASCADE' }),
        ],
        indices: [new TableIndex({ name: 'uq_webhooks_team_name', columnNames: ['team_id', 'name'], isUnique: true })],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('webhooks');
  }
}
