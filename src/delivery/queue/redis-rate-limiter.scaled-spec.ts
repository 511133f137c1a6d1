import { Redis } from 'ioredis';
import { newQueuePrefix, requireRedis } from '../../../test/support/services';
import { RedisRateLimiter } from './redis-rate-limiter';

describe('RedisRateLimiter (real Redis)', () => {
  let redis: Redis;
  const prefix = newQueuePrefix('limits');

  beforeAll(() => {
    redis = new Redis(requireRedis());
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('lets a burst through, then asks to wait about one token\'s time', async () => {
    const limiter = new RedisRateLimiter(redis, prefix, 10_000);
    const limits = { ratePerSecond: 5, burst: 5, maxConcurrency: null };
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await limiter.tryAcquire('wh_burst', limits));
    expect(results.slice(0, 5).every((r) => r.ok)).toBe(true);
    const refused = results[5];
    expect(refused.ok).toBe(false);
    if (!refused.ok) {
      expect(refused.retryInMs).toBeGreaterThan(0);
      expect(refused.retryInMs).toBeLessThanOrEqual(200);
    }
  });

  it('is shared: two limiters (two processes) draw from one bucket', async () => {
    const limits = { ratePerSecond: 1, burst: 2, maxConcurrency: null };
    const a = new RedisRateLimiter(redis, prefix, 10_000);
    const b = new RedisRateLimiter(redis, prefix, 10_000);
    expect((await a.tryAcquire('wh_shared', limits)).ok).toBe(true);
    expect((await b.tryAcquire('wh_shared', limits)).ok).toBe(true);
    expect((await a.tryAcquire('wh_shared', limits)).ok).toBe(false);
    expect((await b.tryAcquire('wh_shared', limits)).ok).toBe(false);
  });

  it('holds concurrency slots until released, and frees a slot whose holder never releases it when its lease ends', async () => {
    const limiter = new RedisRateLimiter(redis, prefix, 300);
    const limits = { ratePerSecond: null, burst: null, maxConcurrency: 2 };
    const first = await limiter.tryAcquire('wh_slots', limits);
    const second = await limiter.tryAcquire('wh_slots', limits);
    expect(first.ok && second.ok).toBe(true);
    expect((await limiter.tryAcquire('wh_slots', limits)).ok).toBe(false);
    if (first.ok) first.release();
    await new Promise((resolve) => setTimeout(resolve, 50)); // the release is fire-and-forget
    const third = await limiter.tryAcquire('wh_slots', limits);
    expect(third.ok).toBe(true);
    expect((await limiter.tryAcquire('wh_slots', limits)).ok).toBe(false);
    // Nobody releases `second` or `third` (a killed worker): after the 300 ms lease they expire.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect((await limiter.tryAcquire('wh_slots', limits)).ok).toBe(true);
  });

  it('takes nothing from Redis for a webhook without limits', async () => {
    const limiter = new RedisRateLimiter(redis, prefix, 10_000);
    const result = await limiter.tryAcquire('wh_free', { ratePerSecond: null, burst: null, maxConcurrency: null });
    expect(result.ok).toBe(true);
    expect(await redis.exists(`${prefix}:limits:rate:wh_free`, `${prefix}:rate:wh_free`)).toBe(0);
  });
});
