import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { createSchema, newSchema, requirePostgres } from '../../test/support/services';
import { dataSourceOptions, initializeDataSource } from './data-source-options';
import { MIGRATIONS } from './migrations';

describe('migrations on PostgreSQL (real server, a schema of its own)', () => {
  const schema = newSchema('migrations');
  const target = () => ({ type: 'postgres' as const, url: requirePostgres(), schema });
  let db: DataSource;

  beforeAll(async () => {
    await createSchema(schema);
    db = await initializeDataSource(dataSourceOptions(target()));
  });
  afterAll(async () => {
    await db?.destroy();
  });

  it('produce exactly the schema the entities describe', async () => {
    const pending = await db.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('create every table in the configured schema, none in public', async () => {
    const tables: { table_name: string }[] = await db.query(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
      [schema],
    );
    expect(tables.map((t) => t.table_name)).toEqual(expect.arrayContaining(['teams', 'api_keys', 'secrets', 'webhooks', 'automations', 'events', 'deliveries', 'migrations']));
  });

  it('are applied once when several processes start together (advisory lock)', async () => {
    const fresh = newSchema('migrations_race');
    await createSchema(fresh);
    const started = await Promise.all([1, 2, 3].map(() => initializeDataSource(dataSourceOptions({ ...target(), schema: fresh }))));
    const applied: { name: string }[] = await started[0].query('SELECT name FROM migrations');
    expect(applied).toHaveLength(MIGRATIONS.length);
    for (const one of started) expect(await one.showMigrations()).toBe(false);
    await Promise.all(started.map((one) => one.destroy()));
  });

  it('are recorded, so a second start applies nothing', async () => {
    const again = await initializeDataSource(dataSourceOptions(target()));
    expect(await again.showMigrations()).toBe(false);
    await again.destroy();
  });

  it('revert cleanly, one after another, down to no table of Herald\'s', async () => {
    const scratch = newSchema('migrations_down');
    await createSchema(scratch);
    const other = await initializeDataSource(dataSourceOptions({ ...target(), schema: scratch }));
    for (let i = 0; i < MIGRATIONS.length; i++) await other.undoLastMigration();
    const tables: { table_name: string }[] = await other.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_name <> 'migrations'",
      [scratch],
    );
    expect(tables).toEqual([]);
    await other.destroy();
  });
});
