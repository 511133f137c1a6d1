import { randomBytes } from 'node:crypto';
import { ConfigError, loadConfig, parseMasterKey } from './config';

describe('parseMasterKey', () => {
  const key = randomBytes(32);

  it('accepts 64 hex characters', () => {
    expect(parseMasterKey(key.toString('hex'))).toEqual(key);
  });

  it('accepts base64 and base64url, padded or not', () => {
    expect(parseMasterKey(key.toString('base64'))).toEqual(key);
    expect(parseMasterKey(key.toString('base64url'))).toEqual(key);
  });

  it('explains what is wrong with other input', () => {
    expect(parseMasterKey(randomBytes(16).toString('base64'))).toMatch(/decodes to 16 bytes/);
    expect(parseMasterKey('not a key!')).toMatch(/64 hex characters or as base64/);
  });
});

describe('loadConfig', () => {
  it('has working defaults for a fresh machine', () => {
    const config = loadConfig({}, '/srv/herald');
    expect(config).toMatchObject({
      port: 8080,
      dataDir: '/srv/herald/data',
      masterKey: null,
      bootstrapToken: null,
      logLevel: 'info',
      logFormat: 'pretty',
      eventRetentionDays: 30,
      disableAfterMs: 86_400_000,
      httpConnectTimeoutMs: 5000,
      httpDeadlineMs: 15_000,
      senderThread: true,
    });
  });

  it('reads HERALD_DISABLE_AFTER as a duration with a unit, a bare number being seconds', () => {
    const ms = (value: string) => loadConfig({ HERALD_DISABLE_AFTER: value }).disableAfterMs;
    expect(ms('500ms')).toBe(500);
    expect(ms('90')).toBe(90_000);
    expect(ms('30m')).toBe(1_800_000);
    expect(ms('24h')).toBe(86_400_000);
    expect(ms('7d')).toBe(604_800_000);
    for (const bad of ['0s', '-5m', '1.5h', '10 m', '3w', 'soon']) {
      expect(() => ms(bad)).toThrow(/HERALD_DISABLE_AFTER must be a positive duration/);
    }
  });

  it('uses JSON logs in production', () => {
    expect(loadConfig({ NODE_ENV: 'production' }).logFormat).toBe('json');
  });

  it('reads every variable', () => {
    const key = randomBytes(32);
    const config = loadConfig(
      {
        PORT: '0',
        HERALD_DATA_DIR: '/tmp/h',
        HERALD_MASTER_KEY: key.toString('hex'),
        HERALD_BOOTSTRAP_TOKEN: 'hrd_' + 'a'.repeat(30),
        HERALD_LOG_LEVEL: 'debug',
        HERALD_LOG_FORMAT: 'json',
        HERALD_ALLOWED_NETWORKS: '127.0.0.1/32, ::1/128',
        HERALD_EVENT_RETENTION_DAYS: '7',
        HERALD_DISABLE_AFTER: '2h',
        HERALD_HTTP_CONNECT_TIMEOUT_MS: '250',
        HERALD_HTTP_DEADLINE_MS: '1000',
        HERALD_SENDER_THREAD: 'off',
      },
      '/x',
    );
    expect(config).toMatchObject({ eventRetentionDays: 7, disableAfterMs: 7_200_000, httpConnectTimeoutMs: 250, httpDeadlineMs: 1000, senderThread: false });
    expect(config.allowedNetworks).toBe('127.0.0.1/32, ::1/128');
    expect(config).toMatchObject({ port: 0, dataDir: '/tmp/h', logLevel: 'debug', logFormat: 'json' });
    expect(config.masterKey).toEqual(key);
  });

  it('names every bad variable at once', () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: '70000',
        HERALD_MASTER_KEY: 'short',
        HERALD_BOOTSTRAP_TOKEN: 'letmein',
        HERALD_LOG_LEVEL: 'loud',
        HERALD_LOG_FORMAT: 'xml',
        HERALD_ALLOWED_NETWORKS: '127.0.0.1/32,10.0.0.0/99',
        HERALD_HTTP_DEADLINE_MS: '5',
        HERALD_HTTP_CONNECT_TIMEOUT_MS: 'fast',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const name of ['PORT', 'HERALD_MASTER_KEY', 'HERALD_BOOTSTRAP_TOKEN', 'HERALD_LOG_LEVEL', 'HERALD_LOG_FORMAT', 'HERALD_HTTP_DEADLINE_MS', 'HERALD_HTTP_CONNECT_TIMEOUT_MS']) {
      expect(message).toContain(name);
    }
    expect(message).toMatch(/HERALD_ALLOWED_NETWORKS .*10\.0\.0\.0\/99/);
    expect((error as ConfigError).problems).toHaveLength(8);
  });

  describe('deployment modes', () => {
    const key = randomBytes(32).toString('hex');

    it('defaults to the embedded SQLite file, no Redis, role all', () => {
      const config = loadConfig({}, '/srv/herald');
      expect(config.database).toEqual({ type: 'sqlite', dataDir: '/srv/herald/data' });
      expect(config).toMatchObject({ redisUrl: null, role: 'all', queuePrefix: 'herald', sweepIntervalMs: 5000, leaseMarginMs: 30_000 });
    });

    it('reads the scaled mode', () => {
      const config = loadConfig({
        DATABASE_URL: 'postgres://herald:pw@db:5432/herald',
        DATABASE_SCHEMA: 'tenant_a',
        REDIS_URL: 'redis://cache:6379/2',
        HERALD_MASTER_KEY: key,
        HERALD_ROLE: 'worker',
        HERALD_QUEUE_PREFIX: 'herald-prod',
        HERALD_SWEEP_INTERVAL_MS: '1000',
      });
      expect(config.database).toEqual({ type: 'postgres', url: 'postgres://herald:pw@db:5432/herald', schema: 'tenant_a' });
      expect(config).toMatchObject({ redisUrl: 'redis://cache:6379/2', role: 'worker', queuePrefix: 'herald-prod', sweepIntervalMs: 1000 });
    });

    it.each([
      [{ DATABASE_URL: 'mysql://db/herald', HERALD_MASTER_KEY: key }, /DATABASE_URL must be a PostgreSQL URL/],
      [{ DATABASE_URL: 'postgres://db/herald' }, /HERALD_MASTER_KEY is required with DATABASE_URL/],
      [{ REDIS_URL: 'redis://cache:6379' }, /REDIS_URL needs DATABASE_URL/],
      [{ DATABASE_URL: 'postgres://db/h', HERALD_MASTER_KEY: key, REDIS_URL: 'http://cache' }, /REDIS_URL must be a Redis URL/],
      [{ HERALD_ROLE: 'api' }, /HERALD_ROLE=api needs DATABASE_URL and REDIS_URL/],
      [{ HERALD_ROLE: 'scheduler' }, /HERALD_ROLE must be one of api, worker, all/],
      [{ DATABASE_URL: 'postgres://db/h', HERALD_MASTER_KEY: key, DATABASE_SCHEMA: 'Robert"; DROP' }, /DATABASE_SCHEMA must be a lower-case PostgreSQL identifier/],
      [{ HERALD_QUEUE_PREFIX: 'a b' }, /HERALD_QUEUE_PREFIX must be 1-64 characters/],
      [{ HERALD_SENDER_THREAD: 'yes' }, /HERALD_SENDER_THREAD must be one of on, off/],
    ])('refuses %j', (env, message) => {
      expect(() => loadConfig(env)).toThrow(message);
    });
  });
});
