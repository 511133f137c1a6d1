import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { HeraldConfig } from '../../config/config';
import { GroupCommit } from '../../database/group-commit';
import { RedisConnections } from './redis-connections';

/** A token read slower than this counts as unreadable: the caller reads PostgreSQL instead. */
const READ_TIMEOUT_MS = 250;

/**
 * The scaled mode's cache token (REDIS_URL): one Redis string, `<queue prefix>:cache-token`,
 * that a process sets to a new random value after committing any change its API processes
 * cache (a key revocation, an automation change) and before answering the request that made
 * it. Caches of API keys and catalog versions keep what they read under the token they read
 * before it; a request reads the token again (one GET) and drops what was kept under another.
 * So a change acknowledged to its caller holds from the next request on, in every process, at
 * the cost of one Redis GET per turn of the event loop (shared by the requests it serves)
 * instead of PostgreSQL reads per request.
 *
 * Tokens are random, never counters: a Redis restart or FLUSHDB cannot bring back a value a
 * cache was kept under. Without a readable token (no Redis, not connected, not set yet, or slow)
 * `read` answers null and callers keep nothing and read PostgreSQL, as without the cache.
 */
@Injectable()
export class CacheToken {
  private readonly key: string;
  /** Concurrent reads, one GET per group (see `read`). */
  private readonly reads = new GroupCommit<undefined, string | null>(async (callers) => {
    const token = await this.get();
    return callers.map(() => token);
  });

  constructor(
    config: HeraldConfig,
    private readonly redis: RedisConnections,
  ) {
    this.key = `${config.queuePrefix}:cache-token`;
  }

  get enabled(): boolean {
    return this.redis.enabled;
  }

  /**
   * The token as of this call or later, or null when there is none to trust. The calls of one
   * turn of the event loop share one GET, sent after all of them (and the calls made while it
   * is answered share the next): a request never gets an answer read before it asked.
   */
  read(): Promise<string | null> {
    if (!this.redis.enabled) return Promise.resolve(null);
    return this.reads.submit(undefined);
  }

  private async get(): Promise<string | null> {
    const client = this.redis.shared();
    if (client.status !== 'ready') return null;
    let timer: NodeJS.Timeout | undefined;
    try {
      const token = await Promise.race([
        client.get(this.key),
        new Promise<null>((resolve) => {
          timer = setTimeout(() => resolve(null), READ_TIMEOUT_MS);
        }),
      ]);
      // Not set yet (a new Redis, FLUSHDB): set one for the next requests; this one keeps nothing.
      if (token === null) client.set(this.key, newToken(), 'NX').catch(() => undefined);
      return token;
    } catch {
      return null;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Call after the commit of a change that caches hold, before answering its request: every
   * process's next `read` answers a token no cache was kept under. Waits for Redis (the
   * change is not acknowledged until every process will see it).
   */
  async bump(): Promise<void> {
    if (!this.redis.enabled) return;
    await this.redis.shared().set(this.key, newToken());
  }
}

function newToken(): string {
  return randomBytes(12).toString('base64url');
}
