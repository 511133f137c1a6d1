import { isAbsolute, resolve } from 'node:path';
import { AddressPolicy } from '../delivery/address-policy';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export type LogFormat = 'json' | 'pretty';

/**
 * Typed, validated process configuration, built once from the environment by `loadConfig`.
 * An abstract class so it serves as its own injection token.
 */
export abstract class HeraldConfig {
  declare port: number;
  declare host: string;
  declare dataDir: string;
  /** HERALD_MASTER_KEY parsed to 32 bytes, or null to use the key file in dataDir. */
  declare masterKey: Buffer | null;
  declare bootstrapToken: string | null;
  declare logLevel: LogLevel;
  declare logFormat: LogFormat;
  /** Body limit for every endpoint except event ingestion, in bytes. */
  declare bodyLimitBytes: number;
  /** Body limit for POST /v1/events, in bytes. */
  declare eventsBodyLimitBytes: number;
  declare version: string;
  /**
   * HERALD_ALLOWED_NETWORKS: comma-separated CIDRs of non-public addresses webhooks may
   * reach (loopback, private ranges…). Empty: only public addresses.
   */
  declare allowedNetworks: string;
  /** HERALD_EVENT_RETENTION_DAYS: stored events older than this are pruned (default 30). */
  declare eventRetentionDays: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

export const API_KEY_PATTERN = /^hrd_[A-Za-z0-9_-]{24,200}$/;
const LOG_LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug'];
const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty'];

/**
 * Parses a 32-byte key given as 64 hex characters or as base64/base64url.
 * Returns the key, or a reason it is not one.
 */
export function parseMasterKey(raw: string): Buffer | string {
  const text = raw.trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) {
    return 'must be 32 bytes written as 64 hex characters or as base64';
  }
  const bytes = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (bytes.length !== 32) {
    return `must be 32 bytes written as 64 hex characters or as base64 (it decodes to ${bytes.length} bytes)`;
  }
  return bytes;
}

/** Reads and validates the configuration; throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv, cwd = process.cwd()): HeraldConfig {
  const problems: string[] = [];
  const value = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };

  const port = integer('PORT', value('PORT'), 8080, 0, 65535, problems);
  const host = value('HOST') ?? '0.0.0.0';

  const dataDirRaw = value('HERALD_DATA_DIR') ?? './data';
  const dataDir = isAbsolute(dataDirRaw) ? dataDirRaw : resolve(cwd, dataDirRaw);

  let masterKey: Buffer | null = null;
  const masterKeyRaw = value('HERALD_MASTER_KEY');
  if (masterKeyRaw !== undefined) {
    const parsed = parseMasterKey(masterKeyRaw);
    if (typeof parsed === 'string') problems.push(`HERALD_MASTER_KEY ${parsed}`);
    else masterKey = parsed;
  }

  const bootstrapToken = value('HERALD_BOOTSTRAP_TOKEN') ?? null;
  if (bootstrapToken !== null && !API_KEY_PATTERN.test(bootstrapToken)) {
    problems.push(
      'HERALD_BOOTSTRAP_TOKEN must look like an API key: "hrd_" followed by at least 24 characters of [A-Za-z0-9_-]',
    );
  }

  const logLevel = oneOf('HERALD_LOG_LEVEL', value('HERALD_LOG_LEVEL'), LOG_LEVELS, 'info', problems);
  const defaultFormat: LogFormat = env.NODE_ENV === 'production' ? 'json' : 'pretty';
  const logFormat = oneOf('HERALD_LOG_FORMAT', value('HERALD_LOG_FORMAT'), LOG_FORMATS, defaultFormat, problems);

  const eventRetentionDays = integer('HERALD_EVENT_RETENTION_DAYS', value('HERALD_EVENT_RETENTION_DAYS'), 30, 1, 3650, problems);
  const allowedNetworks = value('HERALD_ALLOWED_NETWORKS') ?? '';
  try {
    AddressPolicy.parse(allowedNetworks);
  } catch (error) {
    problems.push(`HERALD_ALLOWED_NETWORKS ${(error as Error).message}`);
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    port,
    host,
    dataDir,
    masterKey,
    bootstrapToken,
    logLevel,
    logFormat,
    bodyLimitBytes: 1024 * 1024,
    eventsBodyLimitBytes: 8 * 1024 * 1024,
    version: env.npm_package_version ?? readPackageVersion(),
    allowedNetworks,
    eventRetentionDays,
  };
}

function integer(
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
  problems: string[],
): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    problems.push(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
    return fallback;
  }
  return Number(raw);
}

function oneOf<T extends string>(
  name: string,
  raw: string | undefined,
  allowed: readonly T[],
  fallback: T,
  problems: string[],
): T {
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    problems.push(`${name} must be one of ${allowed.join(', ')} (got "${raw}")`);
    return fallback;
  }
  return raw as T;
}

function readPackageVersion(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('../../package.json') as { version: string }).version;
}
