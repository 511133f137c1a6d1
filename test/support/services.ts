import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/**
 * The real PostgreSQL and Redis the scaled-mode suites run against. jest.config.js probes
 * them once (test/support/probe-services.js) and sets HERALD_TEST_POSTGRES_URL /
 * HERALD_TEST_REDIS_URL only when they answer; suites that need them are left out otherwise,
 * with a message saying so (or fail under HERALD_REQUIRE_SERVICES=1).
 */
export const services = {
  postgresUrl: process.env.HERALD_TEST_POSTGRES_URL ?? null,
  redisUrl: process.env.HERALD_TEST_REDIS_URL ?? null,
};

/** Whether this jest project runs its specs on PostgreSQL (the `medium-pg` and `e2e-pg` projects). */
export const onPostgres = process.env.HERALD_TEST_DIALECT === 'postgres';

/** One master key per test process: restarts within a file must decrypt what they stored. */
export const TEST_MASTER_KEY = randomBytes(32).toString('hex');

/** Run id + a counter: each test app gets its own schema; globalTeardown drops this run's. */
export const SCHEMA_PREFIX = `herald_test_${process.env.HERALD_TEST_RUN ?? 'adhoc'}_`;

export function requirePostgres(): string {
  if (!services.postgresUrl) throw new Error('PostgreSQL is not available to this test run (HERALD_TEST_POSTGRES_URL unset)');
  return services.postgresUrl;
}

export function requireRedis(): string {
  if (!services.redisUrl) throw new Error('Redis is not available to this test run (HERALD_TEST_REDIS_URL unset)');
  return services.redisUrl;
}

/** The PostgreSQL schema for a data directory: the same directory (a restart) gets the same schema. */
export function schemaFor(dataDir: string): string {
  const tail = dataDir.replace(/[^A-Za-z0-9]/g, '').slice(-16).toLowerCase();
  return `${SCHEMA_PREFIX}${tail}`.slice(0, 63);
}

export async function createSchema(schema: string): Promise<void> {
  const client = new Client({ connectionString: requirePostgres() });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  } finally {
    await client.end();
  }
}

/** A fresh schema name (for tests that start processes themselves). */
export function newSchema(label: string): string {
  return `${SCHEMA_PREFIX}${label.toLowerCase().replace(/[^a-z0-9]/g, '')}_${randomBytes(4).toString('hex')}`.slice(0, 63);
}

/** A BullMQ/pub-sub prefix unique to one test, so files can share a Redis database. */
export function newQueuePrefix(label: string): string {
  return `ht-${label.replace(/[^A-Za-z0-9]/g, '')}-${randomBytes(4).toString('hex')}`;
}

/** The scaled-mode environment for a Herald process of the given role. */
export function scaledEnv(schema: string, queuePrefix: string, role: 'api' | 'worker' | 'all' = 'all'): Record<string, string> {
  return {
    DATABASE_URL: requirePostgres(),
    DATABASE_SCHEMA: schema,
    REDIS_URL: requireRedis(),
    HERALD_QUEUE_PREFIX: queuePrefix,
    HERALD_MASTER_KEY: TEST_MASTER_KEY,
    HERALD_ROLE: role,
  };
}
