import { type MigrationInterface, type QueryRunner, TableColumn } from 'typeorm';

/** Webhook health (docs/design.md › Delivery): when its current failure streak began, its last success. */
export class WebhookHealth1764115200000 implements MigrationInterface {
  name = 'WebhookHealth1764115200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumns('webhooks', [
      new TableColumn({ name: 'failing_since', type: 'bigint', isNullable: true }),
      new TableColumn({ name: 'last_success_at', type: 'bigint', isNullable: true }),
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumns('webhooks', ['failing_since', 'last_success_at']);
  }
}
