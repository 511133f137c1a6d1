// The e2e-pg project: the same e2e suites, each app on its own PostgreSQL schema.
process.env.HERALD_TEST_DIALECT = 'postgres';
