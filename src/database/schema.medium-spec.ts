import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source-options';
import { MIGRATIONS } from './migrations';

describe('migrations (medium: real SQLite file)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-schema-'));
  let db: DataSource;

  beforeAll(async () => {
    db = await new DataSource(dataSourceOptions({ type: 'sqlite', dataDir: dir })).initialize();
  });
  afterAll(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('produce exactly the schema the entities describe', async () => {
    const pending = await db.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('run in WAL mode with synchronous=NORMAL and foreign keys on', async () => {
    expect(await db.query('PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
    expect(await db.query('PRAGMA synchronous')).toEqual([{ synchronous: 1 }]);
    expect(await db.query('PRAGMA foreign_keys')).toEqual([{ foreign_keys: 1 }]);
  });

  it('are recorded, so a second start applies nothing', async () => {
    expect(await db.showMigrations()).toBe(false);
    const again = await new DataSource(dataSourceOptions({ type: 'sqlite', dataDir: dir })).initialize();
    expect(await again.showMigrations()).toBe(false);
    await again.destroy();
  });

  it('revert cleanly, one after another, down to no table of Herald\'s', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'herald-schema-down-'));
    const other = await new DataSource(dataSourceOptions({ type: 'sqlite', dataDir: scratch })).initialize();
    for (let i = 0; i < MIGRATIONS.length; i++) await other.undoLastMigration();
    const tables = await other.query(
      `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'migrations'`,
    );
    expect(tables).toEqual([]);
    await other.destroy();
    rmSync(scratch, { recursive: true, force: true });
  });
});
