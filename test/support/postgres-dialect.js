// The medium-pg and e2e-pg projects: the same specs, each database in a PostgreSQL schema of its own.
process.env.HERALD_TEST_DIALECT = 'postgres';
