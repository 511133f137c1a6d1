import { type MigrationInterface, type QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';

/**
 * Teams, API keys, secrets and instance settings. Written with the dialect-neutral schema
 * API so SQLite and PostgreSQL get the same tables.
 */
export class Foundation1763856000000 implements MigrationInterface {
  name = 'Foundation1763856000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const id = { name: 'id', type: 'varchar', length: '40', isPrimary: true };
    const teamId = { name: 'team_id', type: 'varchar', length: '40' };
    const createdAt = { name: 'created_at', type: 'bigint' };
    const teamFk = () =>
      new TableForeignKey({ columnNames: ['team_id'], referencedTableName: 'teams', referencedColumnNames: ['id'], onDelete: 'CASCADE' });

    await queryRunner.createTable(
      new Table({
        name: 'teams',
        columns: [id, { name: 'name', type: 'varchar', length: '64', isUnique: true }, createdAt],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'api_keys',
        columns: [
          id,
          teamId,
          { name: 'name', type: 'varchar', length: '100' },
          { name: 'role', type: 'varchar', length: '16' },
          { name: 'projects', type: 'text', isNullable: true },
          { name: 'prefix', type: 'varchar', length: '16' },
          { name: 'key_hash', type: 'varchar', length: '64', isUnique: true },
          createdAt,
          { name: 'last_used_at', type: 'bigint', isNullable: true },
          { name: 'revoked_at', type: 'bigint', isNullable: true },
        ],
        foreignKeys: [teamFk()],
        indices: [new TableIndex({ name: 'idx_api_keys_team', columnNames: ['team_id', 'id'] })],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'secrets',
        columns: [
          id,
          teamId,
          { name: 'name', type: 'varchar', length: '64' },
          { name: 'ciphertext', type: 'text' },
          createdAt,
          { name: 'updated_at', type: 'bigint' },
        ],
        foreignKeys: [teamFk()],
        indices: [new TableIndex({ name: 'uq_secrets_team_name', columnNames: ['team_id', 'name'], isUnique: true })],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'settings',
        columns: [
          { name: 'key', type: 'varchar', length: '100', isPrimary: true },
          { name: 'value', type: 'text' },
          { name: 'updated_at', type: 'bigint' },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['settings', 'secrets', 'api_keys', 'teams']) await queryRunner.dropTable(table);
  }
}
