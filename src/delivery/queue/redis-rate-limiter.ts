import type { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { type AcquireResult, CONCURRENCY_RETRY_MS, type Limits, bucketCapacity } from '../rate-limiter';

/**
 * Token bucket and concurrency slots of one webhook, shared by every worker process: one Lua
 * script, atomic in Redis, timed by Redis's own clock (so processes' clocks need not agree).
 * Slots are members of a sorted set scored by their expiry, so a worker killed mid-send frees
 * its slot after `leaseMs` without anyone releasing it.
 *
 * KEYS: bucket hash, slots sorted set. ARGV: rate/s (0: none), burst, max concurrency (0: none),
 * lease ms, slot id. Returns {1, 0} (acquired) or {0, ms to wait}.
 */
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate, burst, maxc, lease = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if maxc > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  if redis.call('ZCARD', KEYS[2]) >= maxc then return {0, ${CONCURRENCY_RETRY_MS}} end
end
if rate > 0 then
  local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
  local tokens = tonumber(state[1]) or burst
  local at = tonumber(state[2]) or now
  tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
  if tokens < 1 - 1e-9 then
    redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
    return {0, math.max(1, math.ceil((1 - tokens) * 1000 / rate))}
  end
  redis.call('HSET', KEYS[1], 'tokens', tostring(tokens - 1), 'at', now)
  redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 60000)
end
if maxc > 0 then
  redis.call('ZADD', KEYS[2], now + lease, ARGV[5])
  redis.call('PEXPIRE', KEYS[2], lease + 60000)
end
return {1, 0}
`;

export class RedisRateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly leaseMs: number,
  ) {}

  async tryAcquire(webhookId: string, limits: Limits): Promise<AcquireResult> {
    if (limits.ratePerSecond === null && limits.maxConcurrency === null) return { ok: true, release: () => undefined };
    const bucket = `${this.prefix}:rate:${webhookId}`;
    const slots = `${this.prefix}:slots:${webhookId}`;
    const slot = randomUUID();
    const burst = bucketCapacity(limits);
    const [ok, waitMs] = (await this.redis.eval(
      ACQUIRE,
      2,
      bucket,
      slots,
      String(limits.ratePerSecond ?? 0),
      String(burst),
      String(limits.maxConcurrency ?? 0),
      String(this.leaseMs),
      slot,
    )) as [number, number];
    if (ok !== 1) return { ok: false, retryInMs: waitMs };
    let released = limits.maxConcurrency === null;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        this.redis.zrem(slots, slot).catch(() => undefined); // an unreleased slot expires with its lease
      },
    };
  }
}
