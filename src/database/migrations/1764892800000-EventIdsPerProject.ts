import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Event ids are unique per (team, project), not per team (docs/security.md › Event ids): an
 * ingest key limited to one project can neither take another project's id first (its real
 * event would be answered `duplicate` and never stored) nor learn that one exists. The primary
 * key becomes (team_id, id, project), so a lookup by team and id still uses its prefix.
 * TypeORM rebuilds the table on SQLite and swaps the constraint on PostgreSQL.
 */
export class EventIdsPerProject1764892800000 implements MigrationInterface {
  name = 'EventIdsPerProject1764892800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await this.setProjectPrimary(queryRunner, true);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await this.setProjectPrimary(queryRunner, false);
  }

  private async setProjectPrimary(queryRunner: QueryRunner, primary: boolean): Promise<void> {
    const table = await queryRunner.getTable('events');
    const project = table!.findColumnByName('project')!;
    const changed = project.clone();
    changed.isPrimary = primary;
    await queryRunner.changeColumn(table!, project, changed);
  }
}
