import { isAbsolute, resolve } from 'node:path';
import { ALLOWED_NETWORKS_VARIABLE, AddressPolicy, NetworkListError } from '../delivery/address-policy';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export type HeraldRole = 'api' | 'worker' | 'all';

/** Where the data lives: the embedded SQLite file, or PostgreSQL (the scaled mode). */
export type DatabaseTarget = { type: 'sqlite'; dataDir: string } | { type: 'postgres'; url: string; schema: string };
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
  /** HERALD_ALLOWED_NETWORKS parsed once: the executor's and every check's SSRF policy. */
  declare addressPolicy: AddressPolicy;
  /** HERALD_EVENT_RETENTION_DAYS: stored events older than this are pruned (default 30). */
  declare eventRetentionDays: number;
  /** HERALD_DISABLE_AFTER: a webhook failing without a success this long is disabled (default 24 h). */
  declare disableAfterMs: number;
  /** HERALD_HTTP_CONNECT_TIMEOUT_MS / HERALD_HTTP_DEADLINE_MS: outbound request limits (5 s / 15 s). */
  declare httpConnectTimeoutMs: number;
  declare httpDeadlineMs: number;
  /** HERALD_SENDER_THREAD: `on` (default) runs the HTTP exchanges of deliveries on a thread of their own; `off` on the main thread. */
  declare senderThread: boolean;
  /** HERALD_LEASE_MARGIN_MS: a claimed delivery's lease outlives the deadline by this much (30 s). */
  declare leaseMarginMs: number;
  /** DATABASE_URL (postgres://…) and DATABASE_SCHEMA, or the SQLite file in dataDir. */
  declare database: DatabaseTarget;
  /** REDIS_URL: the BullMQ delivery queue, shared rate limits and cache invalidation; null in embedded mode. */
  declare redisUrl: string | null;
  /** HERALD_QUEUE_PREFIX: BullMQ key prefix and pub/sub channel prefix in Redis (default `herald`). */
  declare queuePrefix: string;
  /** HERALD_SWEEP_INTERVAL_MS: how often a worker re-enqueues due deliveries that lost their job (5 s). */
  declare sweepIntervalMs: number;
  /** HERALD_ROLE: `api` serves the API, `worker` delivers, `all` both (default). */
  declare role: HeraldRole;
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
const ROLES: readonly HeraldRole[] = ['api', 'worker', 'all'];
const ON_OFF = ['on', 'off'] as const;
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

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
  const disableAfterMs = duration('HERALD_DISABLE_AFTER', value('HERALD_DISABLE_AFTER'), 86_400_000, problems);
  const httpConnectTimeoutMs = integer('HERALD_HTTP_CONNECT_TIMEOUT_MS', value('HERALD_HTTP_CONNECT_TIMEOUT_MS'), 5000, 10, 60_000, problems);
  const httpDeadlineMs = integer('HERALD_HTTP_DEADLINE_MS', value('HERALD_HTTP_DEADLINE_MS'), 15_000, 10, 300_000, problems);
  const allowedNetworks = value(ALLOWED_NETWORKS_VARIABLE) ?? '';
  let addressPolicy = AddressPolicy.NONE;
  try {
    addressPolicy = AddressPolicy.parse(allowedNetworks);
  } catch (error) {
    if (!(error instanceof NetworkListError)) throw error;
    problems.push(`${ALLOWED_NETWORKS_VARIABLE} ${error.reason}`);
  }

  const senderThread = oneOf('HERALD_SENDER_THREAD', value('HERALD_SENDER_THREAD'), ON_OFF, 'on', problems) === 'on';
  const leaseMarginMs = integer('HERALD_LEASE_MARGIN_MS', value('HERALD_LEASE_MARGIN_MS'), 30_000, 100, 600_000, problems);
  const sweepIntervalMs = integer('HERALD_SWEEP_INTERVAL_MS', value('HERALD_SWEEP_INTERVAL_MS'), 5000, 100, 600_000, problems);
  const role = oneOf('HERALD_ROLE', value('HERALD_ROLE'), ROLES, 'all', problems);
  const databaseUrl = value('DATABASE_URL');
  const schema = value('DATABASE_SCHEMA') ?? 'public';
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\/[^\s]+$/.test(databaseUrl)) {
    problems.push('DATABASE_URL must be a PostgreSQL URL, postgres://user:password@host:5432/database (unset: the embedded SQLite file)');
  }
  if (!SCHEMA_NAME.test(schema)) problems.push(`DATABASE_SCHEMA must be a lower-case PostgreSQL identifier (got "${schema}")`);
  if (databaseUrl !== undefined && masterKeyRaw === undefined) {
    problems.push('HERALD_MASTER_KEY is required with DATABASE_URL: every process must encrypt and decrypt secrets with the same key');
  }
  const redisUrl = value('REDIS_URL') ?? null;
  if (redisUrl !== null && !/^rediss?:\/\/[^\s]+$/.test(redisUrl)) problems.push('REDIS_URL must be a Redis URL, redis://host:6379/0');
  if (redisUrl !== null && databaseUrl === undefined) {
    problems.push('REDIS_URL needs DATABASE_URL: processes sharing a queue must share a PostgreSQL database');
  }
  if (role !== 'all' && (redisUrl === null || databaseUrl === undefined)) {
    problems.push(`HERALD_ROLE=${role} needs DATABASE_URL and REDIS_URL: separate API and worker processes share PostgreSQL and Redis`);
  }
  const queuePrefix = value('HERALD_QUEUE_PREFIX') ?? 'herald';
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(queuePrefix)) problems.push(`HERALD_QUEUE_PREFIX must be 1-64 characters of [A-Za-z0-9_-] (got "${queuePrefix}")`);

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
    addressPolicy,
    eventRetentionDays,
    disableAfterMs,
    httpConnectTimeoutMs,
    httpDeadlineMs,
    senderThread,
    leaseMarginMs,
    database: databaseUrl === undefined ? { type: 'sqlite', dataDir } : { type: 'postgres', url: databaseUrl, schema },
    redisUrl,
    queuePrefix,
    sweepIntervalMs,
    role,
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

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration: a number with a unit (`500ms`, `30s`, `10m`, `24h`, `7d`); a bare number is seconds. */
function duration(name: string, raw: string | undefined, fallback: number, problems: string[]): number {
  if (raw === undefined) return fallback;
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(raw);
  const ms = match ? Number(match[1]) * DURATION_UNITS[match[2] ?? 's'] : NaN;
  if (!Number.isSafeInteger(ms) || ms <= 0) {
    problems.push(`${name} must be a positive duration such as 90s, 30m, 24h or 7d (got "${raw}")`);
    return fallback;
  }
  return ms;
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
