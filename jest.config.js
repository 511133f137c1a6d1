/**
 * Three tiers (docs/architecture.md › Tests): unit specs beside the code, medium specs on a
 * real temporary database, and e2e specs against the whole app with real HTTP. `npm test`
 * type-checks everything with tsc first, so ts-jest only transpiles.
 *
 * The scaled-mode tiers need the real PostgreSQL and Redis: `medium-pg` and `e2e-pg` run the
 * medium and e2e specs again on PostgreSQL (each database in a schema of its own), `scaled`
 * runs the multi-process suites (PostgreSQL + Redis). They are included when the services
 * answer (DATABASE_URL_TEST / REDIS_URL_TEST, default the local ones) and left out with a
 * message otherwise; HERALD_REQUIRE_SERVICES=1 (set by .ci/run) makes a missing service an
 * error instead.
 */
const { randomBytes } = require('node:crypto');
const { probeServices } = require('./test/support/probe-services');

const transform = { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }] };
const base = { testEnvironment: 'node', transform, moduleFileExtensions: ['ts', 'js', 'json'], rootDir: __dirname };
/** SQLite-specific suites: a child process on a SQLite file, `npm start`, the browser console, the Python client. */
const SQLITE_ONLY = ['/test/crash\\.e2e-spec\\.ts$', '/test/start\\.e2e-spec\\.ts$', '/test/console\\.e2e-spec\\.ts$', '/test/python-client\\.e2e-spec\\.ts$'];
/** SQLite's own migration checks (PRAGMAs, sqlite_master); schema.scaled-spec.ts checks PostgreSQL's. */
const SQLITE_ONLY_MEDIUM = ['/src/database/schema\\.medium-spec\\.ts$'];

module.exports = async () => {
  const found = await probeServices();
  const both = found.postgres !== null && found.redis !== null;
  if (!both) {
    const message = `Scaled-mode suites (medium-pg, e2e-pg, scaled) ${process.env.HERALD_REQUIRE_SERVICES === '1' ? 'cannot run' : 'skipped'}: ${found.problems.join('; ')}`;
    if (process.env.HERALD_REQUIRE_SERVICES === '1') throw new Error(`${message}. HERALD_REQUIRE_SERVICES=1 requires them.`);
    process.stderr.write(`\n*** ${message}\n*** Start them (see README › Scaled deployment) or set DATABASE_URL_TEST / REDIS_URL_TEST.\n\n`);
  } else {
    process.env.HERALD_TEST_POSTGRES_URL = found.postgres;
    process.env.HERALD_TEST_REDIS_URL = found.redis;
    process.env.HERALD_TEST_RUN = process.env.HERALD_TEST_RUN || randomBytes(3).toString('hex');
  }
  return {
    maxWorkers: 2,
    // Generous: under a loaded CI machine an app start on PostgreSQL can take seconds. Tests
    // still assert no timings; this only bounds a hang.
    testTimeout: 30_000,
    globalTeardown: '<rootDir>/test/support/drop-test-schemas.js',
    projects: [
      { ...base, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.spec.ts'] },
      { ...base, displayName: 'medium', testMatch: ['<rootDir>/src/**/*.medium-spec.ts'] },
      { ...base, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'], slowTestThreshold: 30 },
      ...(both
        ? [
            {
              ...base,
              displayName: 'medium-pg',
              testMatch: ['<rootDir>/src/**/*.medium-spec.ts'],
              testPathIgnorePatterns: SQLITE_ONLY_MEDIUM,
              setupFiles: ['<rootDir>/test/support/postgres-dialect.js'],
            },
            {
              ...base,
              displayName: 'e2e-pg',
              testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
              testPathIgnorePatterns: SQLITE_ONLY,
              setupFiles: ['<rootDir>/test/support/postgres-dialect.js'],
              slowTestThreshold: 30,
            },
            {
              ...base,
              displayName: 'scaled',
              testMatch: ['<rootDir>/src/**/*.scaled-spec.ts', '<rootDir>/test/**/*.scaled-spec.ts'],
              slowTestThreshold: 60,
            },
          ]
        : []),
    ],
  };
};
