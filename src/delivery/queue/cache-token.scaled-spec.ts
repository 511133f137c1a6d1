import type { HeraldConfig } from '../../config/config';
import { newQueuePrefix, requireRedis } from '../../../test/support/services';
import { CacheToken } from './cache-token';
import { RedisConnections } from './redis-connections';

describe('CacheToken (real Redis)', () => {
  const opened: RedisConnections[] = [];
  const prefixes = new Set<string>();
  /** A process's token on the shared Redis (two calls with one prefix: two processes of one Herald). */
  const tokenOf = (queuePrefix: string, redisUrl: string | null = requireRedis()) => {
    prefixes.add(queuePrefix);
    const config = { redisUrl, queuePrefix } as HeraldConfig;
    const redis = new RedisConnections(config);
    opened.push(redis);
    return { token: new CacheToken(config, redis), redis };
  };
  const ready = async (redis: RedisConnections) => {
    const client = redis.shared();
    if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve));
  };

  afterAll(async () => {
    const client = opened.find((r) => r.enabled)?.shared();
    if (client) await client.del(...[...prefixes].map((p) => `${p}:cache-token`));
    for (const redis of opened) await redis.onApplicationShutdown();
  });

  it('is unset at first (nothing may be kept), then set; reads of one turn share one GET', async () => {
    const { token, redis } = tokenOf(newQueuePrefix('token'));
    await ready(redis);
    expect(await token.read()).toBeNull();
    const get = jest.spyOn(redis.shared(), 'get');
    const reads = await Promise.all([token.read(), token.read(), token.read()]);
    expect(get).toHaveBeenCalledTimes(1);
    expect(reads[0]).toEqual(expect.any(String));
    expect(new Set(reads).size).toBe(1);
    get.mockRestore();
  });

  it('a bump in one process gives every process a token never read before, also after the key is lost', async () => {
    const prefix = newQueuePrefix('token');
    const a = tokenOf(prefix);
    const b = tokenOf(prefix);
    await Promise.all([ready(a.redis), ready(b.redis)]);
    await a.token.bump();
    const seen = new Set<string | null>();
    const first = await b.token.read();
    expect(first).toEqual(expect.any(String));
    seen.add(first);
    for (let i = 0; i < 5; i++) {
      await a.token.bump();
      const next = await b.token.read();
      expect(seen.has(next)).toBe(false);
      seen.add(next);
    }
    // FLUSHDB or a Redis restart: unset (keep nothing), then a fresh token, not an old one.
    await a.redis.shared().del(`${prefix}:cache-token`);
    expect(await b.token.read()).toBeNull();
    const fresh = await b.token.read();
    expect(fresh).toEqual(expect.any(String));
    expect(seen.has(fresh)).toBe(false);
  });

  it('without Redis (the embedded mode) reads nothing and bumps nothing', async () => {
    const { token } = tokenOf(newQueuePrefix('token'), null);
    expect(token.enabled).toBe(false);
    expect(await token.read()).toBeNull();
    await expect(token.bump()).resolves.toBeUndefined();
  });
});
