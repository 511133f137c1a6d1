import 'reflect-metadata';
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
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

  it('keep a transaction\'s statement journals in memory, not in temporary files', async () => {
    // SQLite's temporary files are unlinked as soon as opened: only the process's descriptors show them.
    const temporaryFiles = () => readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`).includes('etilqs_');
      } catch {
        return false; // closed meanwhile (readdir's own descriptor)
      }
    });
    const rows = 40;
    await db.transaction(async (em) => {
      // One multi-row INSERT of ~160 KiB: its statement journal is past the 64 KiB SQLite keeps in memory by default.
      await em.query(`INSERT INTO settings (key, value, updated_at) VALUES ${new Array(rows).fill('(?, ?, 0)').join(', ')}`, Array.from({ length: rows }, (_, i) => [`journal-${i}`, 'x'.repeat(4000)]).flat());
      expect(temporaryFiles()).toEqual([]);
    });
    expect(await db.query('PRAGMA temp_store')).toEqual([{ temp_store: 2 }]);
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
