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
    });
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
      },
      '/x',
    );
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
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const name of ['PORT', 'HERALD_MASTER_KEY', 'HERALD_BOOTSTRAP_TOKEN', 'HERALD_LOG_LEVEL', 'HERALD_LOG_FORMAT']) {
      expect(message).toContain(name);
    }
    expect(message).toMatch(/HERALD_ALLOWED_NETWORKS .*10\.0\.0\.0\/99/);
    expect((error as ConfigError).problems).toHaveLength(6);
  });
});
