import { type MigrationInterface, type QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';

/**
 * Automations and their edge/cooldown state, events, runs (state and metric windows),
 * deliveries and their attempts (docs/design.md › Automations, Events, Delivery).
 */
export class Automations1764028800000 implements MigrationInterface {
  name = 'Automations1764028800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const teamFk = () =>
      new TableForeignKey({ columnNames: ['team_id'], referencedTableName: 'teams', referencedColumnNames: ['id'], onDelete: 'CASCADE' });
    const epoch = (name: string, isNullable = false) => ({ name, type: 'bigint', isNullable });

    await queryRunner.createTable(
      new Table({
        name: 'automations',
        columns: [
          { name: 'id', type: 'varchar', length: '40', isPrimary: true },
          { name: 'team_id', type: 'varchar', length: '40' },
          { name: 'name', type: 'varchar', length: '64' },
          { name: 'description', type: 'text' },
          { name: 'enabled', type: 'boolean' },
          { name: 'scope', type: 'text' },
          { name: 'trigger_event', type: 'varchar', length: '32' },
          { name: 'trigger', type: 'text' },
          { name: 'run_filter', type: 'text', isNullable: true },
          { name: 'action', type: 'text' },
          { name: 'webhook_id', type: 'varchar', length: '40' },
          { name: 'cooldown_seconds', type: 'integer', isNullable: true },
          { name: 'trigger_version', type: 'integer' },
          epoch('last_fired_at', true),
          { name: 'fire_count', type: 'integer' },
          epoch('created_at'),
          epoch('updated_at'),
        ],
        foreignKeys: [
          teamFk(),
          new TableForeignKey({ columnNames: ['webhook_id'], referencedTableName: 'webhooks', referencedColumnNames: ['id'], onDelete: 'RESTRICT' }),
        ],
        indices: [
          new TableIndex({ name: 'uq_automations_team_name', columnNames: ['team_id', 'name'], isUnique: true }),
          new TableIndex({ name: 'idx_automations_webhook', columnNames: ['webhook_id'] }),
        ],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'automation_states',
        columns: [
          { name: 'automation_id', type: 'varchar', length: '40', isPrimary: true },
          { name: 'subject', type: 'varchar', length: '1600', isPrimary: true },
          { name: 'trigger_version', type: 'integer' },
          { name: 'matching', type: 'boolean' },
          epoch('last_fired_at', true),
          epoch('updated_at'),
        ],
        foreignKeys: [
          new TableForeignKey({ columnNames: ['automation_id'], referencedTableName: 'automations', referencedColumnNames: ['id'], onDelete: 'CASCADE' }),
        ],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'events',
        columns: [
          { name: 'team_id', type: 'varchar', length: '40', isPrimary: true },
          { name: 'id', type: 'varchar', length: '128', isPrimary: true },
          { name: 'type', type: 'varchar', length: '32' },
          { name: 'project', type: 'varchar', length: '256' },
          { name: 'run_id', type: 'varchar', length: '256', isNullable: true },
          epoch('occurred_at'),
          epoch('received_at'),
          { name: 'body', type: 'text' },
          { name: 'outcome', type: 'text' },
        ],
        foreignKeys: [teamFk()],
        indices: [
          new TableIndex({ name: 'idx_events_team_received', columnNames: ['team_id', 'received_at'] }),
          new TableIndex({ name: 'idx_events_team_run', columnNames: ['team_id', 'run_id'] }),
        ],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'runs',
        columns: [
          { name: 'team_id', type: 'varchar', length: '40', isPrimary: true },
          { name: 'project', type: 'varchar', length: '256', isPrimary: true },
          { name: 'run_id', type: 'varchar', length: '256', isPrimary: true },
          { name: 'state', type: 'varchar', length: '16', isNullable: true },
          { name: 'windows', type: 'text' },
          epoch('updated_at'),
        ],
        foreignKeys: [teamFk()],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'deliveries',
        columns: [
          { name: 'id', type: 'varchar', length: '40', isPrimary: true },
          { name: 'team_id', type: 'varchar', length: '40' },
          { name: 'automation_id', type: 'varchar', length: '40', isNullable: true },
          { name: 'automation_name', type: 'varchar', length: '64', isNullable: true },
          { name: 'webhook_id', type: 'varchar', length: '40' },
          { name: 'event_id', type: 'varchar', length: '128', isNullable: true },
          { name: 'event_type', type: 'varchar', length: '32' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'body', type: 'text' },
          { name: 'body_form', type: 'varchar', length: '16' },
          { name: 'series', type: 'integer' },
          { name: 'attempt_count', type: 'integer' },
          epoch('next_attempt_at', true),
          epoch('lease_until', true),
          { name: 'last_status_code', type: 'integer', isNullable: true },
          { name: 'last_error', type: 'text', isNullable: true },
          epoch('created_at'),
          epoch('updated_at'),
        ],
        foreignKeys: [teamFk()],
        indices: [
          new TableIndex({ name: 'idx_deliveries_due', columnNames: ['status', 'next_attempt_at'] }),
          new TableIndex({ name: 'idx_deliveries_team_created', columnNames: ['team_id', 'created_at'] }),
          new TableIndex({ name: 'idx_deliveries_webhook_status', columnNames: ['webhook_id', 'status'] }),
          new TableIndex({ name: 'idx_deliveries_automation', columnNames: ['automation_id'] }),
          new TableIndex({ name: 'idx_deliveries_event', columnNames: ['team_id', 'event_id'] }),
        ],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'delivery_attempts',
        columns: [
          { name: 'id', type: 'varchar', length: '40', isPrimary: true },
          { name: 'delivery_id', type: 'varchar', length: '40' },
          { name: 'series', type: 'integer' },
          { name: 'number', type: 'integer' },
          epoch('started_at'),
          { name: 'duration_ms', type: 'integer' },
          { name: 'status_code', type: 'integer', isNullable: true },
          { name: 'response_excerpt', type: 'text' },
          { name: 'error_class', type: 'varchar', length: '32', isNullable: true },
          { name: 'error_message', type: 'text', isNullable: true },
          { name: 'will_retry', type: 'boolean' },
        ],
        foreignKeys: [
          new TableForeignKey({ columnNames: ['delivery_id'], referencedTableName: 'deliveries', referencedColumnNames: ['id'], onDelete: 'CASCADE' }),
        ],
        indices: [new TableIndex({ name: 'idx_delivery_attempts_delivery', columnNames: ['delivery_id', 'series', 'number'] })],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['delivery_attempts', 'deliveries', 'runs', 'events', 'automation_states', 'automations']) {
      await queryRunner.dropTable(table);
    }
  }
}
