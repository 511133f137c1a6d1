import { join } from 'node:path';
import { DataSource, type DataSourceOptions } from 'typeorm';
import type { DatabaseTarget } from '../config/config';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';

export const DATABASE_FILE = 'herald.db';

/**
 * The embedded database is one SQLite file in the data directory, WAL journal with
 * synchronous=NORMAL (durable across process crashes, not across power loss), foreign keys
 * on. The scaled mode uses PostgreSQL, in `schema` (every connection's search_path, so raw
 * SQL finds Herald's tables there too). Either way migrations run at start and
 * `synchronize` is never on.
 */
export function dataSourceOptions(target: DatabaseTarget): DataSourceOptions {
  const common = {
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsRun: true,
    migrationsTransactionMode: 'each' as const,
    synchronize: false,
  };
  if (target.type === 'postgres') {
    return {
      ...common,
      // initializeDataSource runs them under a lock: several processes may start at once.
      migrationsRun: false,
      type: 'postgres',
      url: target.url,
      schema: target.schema,
      poolSize: 20,
      // Custom plans for the named statements of SqlText: each execution is planned for its
      // values, as an unnamed one is (a generic plan, chosen after five runs on a table still
      // small, could keep a scan that stops fitting as it grows); the parse is still saved.
      extra: { options: `-c search_path=${target.schema} -c plan_cache_mode=force_custom_plan` },
    };
  }
  return {
    ...common,
    type: 'better-sqlite3',
    database: join(target.dataDir, DATABASE_FILE),
    enableWAL: true,
    timeout: 5000,
    // TypeORM's own prepared statements (repositories, CRUD). The hot path's constant SQL does
    // not go through it: Sql prepares those once on the same connection.
    statementCacheSize: 100,
    prepareDatabase: (db: { pragma(sql: string): unknown }) => {
      db.pragma('synchronous = NORMAL');
      // Checkpoints run on WalCheckpointer's thread, not in this connection's commits; the WAL
      // file is cut back to this size (bytes) after a checkpoint has emptied it.
      db.pragma('wal_autocheckpoint = 0');
      db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
      // A multi-row INSERT inside a transaction keeps a statement journal (to undo its own rows
      // should one fail); past 64 KiB SQLite spills it into a temporary file, opened, unlinked,
      // written and closed per statement. In memory instead (docs/performance.md › Seventh round).
      db.pragma('temp_store = MEMORY');
    },
  };
}

/** An arbitrary, fixed key for the advisory lock that serializes migrations across processes. */
const MIGRATION_LOCK = 4_242_001;

/**
 * Connects and brings the schema up to date. On PostgreSQL, where API and worker processes
 * may start together, migrations run while holding a session advisory lock, so exactly one
 * process applies them and the others then find nothing pending.
 */
export async function initializeDataSource(options: DataSourceOptions): Promise<DataSource> {
  const dataSource = await new DataSource(options).initialize();
  if (options.type !== 'postgres') return dataSource;
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await runner.release();
  }
  return dataSource;
}
