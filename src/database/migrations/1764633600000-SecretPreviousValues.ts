import { type MigrationInterface, type QueryRunner, TableColumn } from 'typeorm';

/**
 * A secret's earlier values during a rotation's overlap (docs/signatures.md › Rotating a
 * signing secret): a JSON list of `{ciphertext, retiredAt, validUntil}`, each value encrypted
 * as the current one is; null or `[]` when there is none.
 */
export class SecretPreviousValues1764633600000 implements MigrationInterface {
  name = 'SecretPreviousValues1764633600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn('secrets', new TableColumn({ name: 'previous_values', type: 'text', isNullable: true }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('secrets', 'previous_values');
  }
}
