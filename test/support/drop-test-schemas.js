// Drops the PostgreSQL schemas this test run created (herald_test_<run>_…).
const { Client } = require('pg');

module.exports = async () => {
  const url = process.env.HERALD_TEST_POSTGRES_URL;
  const run = process.env.HERALD_TEST_RUN;
  if (!url || !run) return;
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(
      "SELECT nspname FROM pg_namespace WHERE nspname LIKE $1",
      [`herald_test_${run}_%`],
    );
    for (const { nspname } of rows) await client.query(`DROP SCHEMA IF EXISTS "${nspname}" CASCADE`);
  } finally {
    await client.end();
  }
};
