import { join } from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';

export const DATABASE_FILE = 'herald.db';

/**
 * The embedded database: one SQLite file in the data directory, WAL journal with
 * synchronous=NORMAL (durable across process crashes, not across power loss), foreign keys
 * on, migrations applied at start and never `synchronize`.
 */
export function dataSourceOptions(dataDir: string): DataSourceOptions {
  return {
    type: 'better-sqlite3',
    database: join(dataDir, DATABASE_FILE),
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsRun: true,
    migrationsTransactionMode: 'each',
    synchronize: false,
    enableWAL: true,
    timeout: 5000,
    prepareDatabase: (db: { pragma(sql: string): unknown }) => {
      db.pragma('synchronous = NORMAL');
    },
  };
}
