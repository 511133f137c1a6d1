// Probes the PostgreSQL and Redis the scaled-mode suites need, for jest.config.js. Plain
// JavaScript: it runs before ts-jest. Each probe is a real round trip (a query, a PING).
const { Client } = require('pg');
const { Socket } = require('node:net');

const DEFAULTS = {
  postgres: 'postgres://postgres@127.0.0.1:5432/test',
  redis: 'redis://127.0.0.1:6379/0',
};

async function probePostgres(url) {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return error.message || String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

function probeRedis(url) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (problem) => {
      socket.destroy();
      resolve(problem);
    };
    socket.setTimeout(3000, () => done('timed out'));
    socket.once('error', (error) => done(error.message));
    socket.connect(Number(port || 6379), hostname.replace(/^\[|\]$/g, ''), () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG') ? null : `answered ${JSON.stringify(data.toString().trim())}`));
  });
}

/** Returns {postgres, redis}: each a URL when reachable, else null, with the reason printed. */
async function probeServices(env = process.env) {
  const postgres = env.DATABASE_URL_TEST || DEFAULTS.postgres;
  const redis = env.REDIS_URL_TEST || DEFAULTS.redis;
  const [pgProblem, redisProblem] = await Promise.all([probePostgres(postgres), probeRedis(redis)]);
  return {
    postgres: pgProblem === null ? postgres : null,
    redis: redisProblem === null ? redis : null,
    problems: [
      ...(pgProblem === null ? [] : [`PostgreSQL at ${redact(postgres)} (DATABASE_URL_TEST): ${pgProblem}`]),
      ...(redisProblem === null ? [] : [`Redis at ${redact(redis)} (REDIS_URL_TEST): ${redisProblem}`]),
    ],
  };
}

function redact(url) {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:••••••@');
}

module.exports = { probeServices };
