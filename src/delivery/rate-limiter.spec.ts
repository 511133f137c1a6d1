import { CONCURRENCY_RETRY_MS, type AcquireResult, type Limits, WebhookRateLimiter } from './rate-limiter';

const UNLIMITED: Limits = { ratePerSecond: null, burst: null, maxConcurrency: null };
const rate = (ratePerSecond: number, burst: number | null = null): Limits => ({ ratePerSecond, burst, maxConcurrency: null });
const concurrency = (maxConcurrency: number): Limits => ({ ratePerSecond: null, burst: null, maxConcurrency });

/** A limiter on a fake clock that only moves when a test moves it. */
function setup(start = 1_000_000) {
  const clock = { ms: start };
  const limiter = new WebhookRateLimiter(() => clock.ms);
  const advance = (ms: number) => {
    clock.ms += ms;
  };
  return { clock, limiter, advance };
}

function granted(result: AcquireResult): () => void {
  if (!result.ok) throw new Error(`expected a grant, got a wait of ${result.retryInMs} ms`);
  return result.release;
}

function refusedFor(result: AcquireResult): number {
  if (result.ok) throw new Error('expected a refusal, got a grant');
  return result.retryInMs;
}

describe('WebhookRateLimiter token bucket', () => {
  it('sends 20 at 5/s burst 5: 5 at once, then one per 200 ms, 3 s in all', () => {
    const { clock, limiter, advance } = setup(0);
    const sentAt: number[] = [];
    const waits: number[] = [];
    while (sentAt.length < 20) {
      const result = limiter.tryAcquire('wh', rate(5, 5));
      if (result.ok) {
        sentAt.push(clock.ms);
        result.release();
      } else {
        waits.push(result.retryInMs);
        advance(result.retryInMs);
      }
    }
    expect(sentAt.slice(0, 5)).toEqual([0, 0, 0, 0, 0]);
    expect(sentAt.slice(5)).toEqual(Array.from({ length: 15 }, (_, i) => 200 * (i + 1)));
    expect(waits).toEqual(Array(15).fill(200));
    expect(clock.ms).toBeGreaterThanOrEqual(3_000);
  });

  it('starts full: burst sends pass at once, the next waits', () => {
    const { limiter } = setup();
    for (let i = 0; i < 3; i++) granted(limiter.tryAcquire('wh', rate(1, 3)));
    expect(refusedFor(limiter.tryAcquire('wh', rate(1, 3)))).toBe(1_000);
  });

  it('reports the exact wait for the missing part of a token', () => {
    const { limiter, advance } = setup();
    granted(limiter.tryAcquire('wh', rate(4, 1)));
    expect(refusedFor(limiter.tryAcquire('wh', rate(4, 1)))).toBe(250);
    advance(100);
    expect(refusedFor(limiter.tryAcquire('wh', rate(4, 1)))).toBe(150);
    advance(149);
    expect(refusedFor(limiter.tryAcquire('wh', rate(4, 1)))).toBe(1);
    advance(1);
    granted(limiter.tryAcquire('wh', rate(4, 1)));
  });

  it('rounds a fractional wait up, so waiting that long is always enough', () => {
    const { limiter, advance } = setup(0);
    const third = rate(3, 1);
    granted(limiter.tryAcquire('wh', third));
    const wait = refusedFor(limiter.tryAcquire('wh', third));
    expect(wait).toBe(334);
    advance(333);
    expect(refusedFor(limiter.tryAcquire('wh', third))).toBe(1);
    advance(1);
    granted(limiter.tryAcquire('wh', third));
  });

  it('waits 1 / rate for a slow rate', () => {
    const { limiter, advance } = setup();
    granted(limiter.tryAcquire('slack-ish', rate(0.5)));
    expect(refusedFor(limiter.tryAcquire('slack-ish', rate(0.5)))).toBe(2_000);
    advance(2_000);
    granted(limiter.tryAcquire('slack-ish', rate(0.5)));
  });

  it('refills continuously, never beyond the burst', () => {
    const { limiter, advance } = setup();
    for (let i = 0; i < 5; i++) granted(limiter.tryAcquire('wh', rate(5, 5)));
    advance(60_000);
    for (let i = 0; i < 5; i++) granted(limiter.tryAcquire('wh', rate(5, 5)));
    expect(refusedFor(limiter.tryAcquire('wh', rate(5, 5)))).toBe(200);
  });

  it('earns partial tokens between calls', () => {
    const { limiter, advance } = setup();
    granted(limiter.tryAcquire('wh', rate(10, 2)));
    granted(limiter.tryAcquire('wh', rate(10, 2)));
    advance(150); // 1.5 tokens
    granted(limiter.tryAcquire('wh', rate(10, 2)));
    expect(refusedFor(limiter.tryAcquire('wh', rate(10, 2)))).toBe(50);
  });

  it('uses the rate rounded up as the bucket when burst is null', () => {
    const { limiter } = setup();
    for (let i = 0; i < 3; i++) granted(limiter.tryAcquire('wh', rate(2.5)));
    expect(refusedFor(limiter.tryAcquire('wh', rate(2.5)))).toBe(400);
  });

  it('keeps a bucket of at least 1 for a rate below 1/s', () => {
    const { limiter } = setup();
    granted(limiter.tryAcquire('wh', rate(0.1)));
    expect(refusedFor(limiter.tryAcquire('wh', rate(0.1)))).toBe(10_000);
  });

  it('keeps one bucket per webhook', () => {
    const { limiter } = setup();
    granted(limiter.tryAcquire('a', rate(1, 1)));
    granted(limiter.tryAcquire('b', rate(1, 1)));
    expect(refusedFor(limiter.tryAcquire('a', rate(1, 1)))).toBe(1_000);
    expect(refusedFor(limiter.tryAcquire('b', rate(1, 1)))).toBe(1_000);
  });

  it('takes no token on a refusal', () => {
    const { limiter, advance } = setup();
    granted(limiter.tryAcquire('wh', rate(1, 1)));
    for (let i = 0; i < 5; i++) refusedFor(limiter.tryAcquire('wh', rate(1, 1)));
    advance(1_000);
    granted(limiter.tryAcquire('wh', rate(1, 1)));
  });

  it('neither earns nor loses tokens when the clock steps back', () => {
    const { limiter, advance } = setup();
    granted(limiter.tryAcquire('wh', rate(1, 1)));
    advance(-5_000);
    expect(refusedFor(limiter.tryAcquire('wh', rate(1, 1)))).toBe(1_000);
    advance(5_999);
    expect(refusedFor(limiter.tryAcquire('wh', rate(1, 1)))).toBe(1);
    advance(1);
    granted(limiter.tryAcquire('wh', rate(1, 1)));
  });

  it('lets anything through with no rate and no concurrency limit', () => {
    const { limiter } = setup();
    for (let i = 0; i < 1_000; i++) granted(limiter.tryAcquire('wh', UNLIMITED));
  });

  it('ignores burst when there is no rate', () => {
    const { limiter } = setup();
    for (let i = 0; i < 10; i++) granted(limiter.tryAcquire('wh', { ratePerSecond: null, burst: 1, maxConcurrency: null }));
  });
});

describe('WebhookRateLimiter concurrency', () => {
  it('allows at most maxConcurrency in flight', () => {
    const { limiter } = setup();
    granted(limiter.tryAcquire('wh', concurrency(2)));
    granted(limiter.tryAcquire('wh', concurrency(2)));
    expect(refusedFor(limiter.tryAcquire('wh', concurrency(2)))).toBe(CONCURRENCY_RETRY_MS);
  });

  it('frees a slot on release', () => {
    const { limiter } = setup();
    const release = granted(limiter.tryAcquire('wh', concurrency(1)));
    refusedFor(limiter.tryAcquire('wh', concurrency(1)));
    release();
    granted(limiter.tryAcquire('wh', concurrency(1)));
  });

  it('treats a second release as a no-op', () => {
    const { limiter } = setup();
    const first = granted(limiter.tryAcquire('wh', concurrency(2)));
    granted(limiter.tryAcquire('wh', concurrency(2)));
    first();
    first();
    granted(limiter.tryAcquire('wh', concurrency(2)));
    // Had the second release counted, this third send would be let through.
    expect(refusedFor(limiter.tryAcquire('wh', concurrency(2)))).toBe(CONCURRENCY_RETRY_MS);
  });

  it('does not free a slot with time alone', () => {
    const { limiter, advance } = setup();
    granted(limiter.tryAcquire('wh', concurrency(1)));
    advance(3_600_000);
    refusedFor(limiter.tryAcquire('wh', concurrency(1)));
  });

  it('counts in-flight sends per webhook', () => {
    const { limiter } = setup();
    granted(limiter.tryAcquire('a', concurrency(1)));
    granted(limiter.tryAcquire('b', concurrency(1)));
    refusedFor(limiter.tryAcquire('a', concurrency(1)));
  });

  it('takes no token when refused for concurrency', () => {
    const { limiter } = setup();
    const limits: Limits = { ratePerSecond: 1, burst: 2, maxConcurrency: 1 };
    const release = granted(limiter.tryAcquire('wh', limits));
    refusedFor(limiter.tryAcquire('wh', limits));
    refusedFor(limiter.tryAcquire('wh', limits));
    release();
    granted(limiter.tryAcquire('wh', limits));
  });

  it('waits for the token when both the slots and the bucket are empty', () => {
    const { limiter } = setup();
    const limits: Limits = { ratePerSecond: 1, burst: 1, maxConcurrency: 1 };
    granted(limiter.tryAcquire('wh', limits));
    expect(refusedFor(limiter.tryAcquire('wh', limits))).toBe(1_000);
  });

  it('polls at the fixed wait when the slots are full but a token is due sooner', () => {
    const { limiter, advance } = setup();
    const limits: Limits = { ratePerSecond: 1, burst: 1, maxConcurrency: 1 };
    granted(limiter.tryAcquire('wh', limits));
    advance(990);
    expect(refusedFor(limiter.tryAcquire('wh', limits))).toBe(CONCURRENCY_RETRY_MS);
  });

  it('returns the token wait, not the concurrency wait, when a slot is free', () => {
    const { limiter } = setup();
    const limits: Limits = { ratePerSecond: 100, burst: 1, maxConcurrency: 5 };
    granted(limiter.tryAcquire('wh', limits));
    expect(refusedFor(limiter.tryAcquire('wh', limits))).toBe(10);
  });
});

describe('WebhookRateLimiter limit changes', () => {
  it('shrinks the bucket when burst is lowered', () => {
    const { limiter } = setup();
    granted(limiter.tryAcquire('wh', rate(1, 10)));
    granted(limiter.tryAcquire('wh', rate(1, 2)));
    granted(limiter.tryAcquire('wh', rate(1, 2)));
    expect(refusedFor(limiter.tryAcquire('wh', rate(1, 2)))).toBe(1_000);
  });

  it('grows the bucket when burst is raised, filling it at the rate rather than at once', () => {
    const { limiter, advance } = setup();
    granted(limiter.tryAcquire('wh', rate(1, 1)));
    expect(refusedFor(limiter.tryAcquire('wh', rate(1, 3)))).toBe(1_000);
    advance(3_000);
    for (let i = 0; i < 3; i++) granted(limiter.tryAcquire('wh', rate(1, 3)));
    refusedFor(limiter.tryAcquire('wh', rate(1, 3)));
  });

  it('applies a new rate from the moment it is given', () => {
    const { limiter, advance } = setup();
    granted(limiter.tryAcquire('wh', rate(1, 1)));
    advance(500); // half a token earned at 1/s
    expect(refusedFor(limiter.tryAcquire('wh', rate(10, 1)))).toBe(50);
    advance(50);
    granted(limiter.tryAcquire('wh', rate(10, 1)));
  });

  it('keeps the time earned at the old rate when the rate is lowered', () => {
    const { limiter, advance } = setup();
    granted(limiter.tryAcquire('wh', rate(10, 1)));
    advance(50); // half a token earned at 10/s
    expect(refusedFor(limiter.tryAcquire('wh', rate(1, 1)))).toBe(500);
  });

  it('starts a full bucket when an unlimited webhook gets a rate', () => {
    const { limiter } = setup();
    for (let i = 0; i < 10; i++) granted(limiter.tryAcquire('wh', UNLIMITED));
    granted(limiter.tryAcquire('wh', rate(1, 2)));
    granted(limiter.tryAcquire('wh', rate(1, 2)));
    expect(refusedFor(limiter.tryAcquire('wh', rate(1, 2)))).toBe(1_000);
  });

  it('lifts the limit when the rate is removed', () => {
    const { limiter } = setup();
    granted(limiter.tryAcquire('wh', rate(1, 1)));
    refusedFor(limiter.tryAcquire('wh', rate(1, 1)));
    for (let i = 0; i < 5; i++) granted(limiter.tryAcquire('wh', UNLIMITED));
  });

  it('starts full again when a rate is restored after being removed', () => {
    const { limiter } = setup();
    granted(limiter.tryAcquire('wh', rate(1, 1)));
    granted(limiter.tryAcquire('wh', UNLIMITED));
    granted(limiter.tryAcquire('wh', rate(1, 1)));
    refusedFor(limiter.tryAcquire('wh', rate(1, 1)));
  });

  it('counts sends started while unlimited against a new concurrency limit', () => {
    const { limiter } = setup();
    const first = granted(limiter.tryAcquire('wh', UNLIMITED));
    granted(limiter.tryAcquire('wh', UNLIMITED));
    expect(refusedFor(limiter.tryAcquire('wh', concurrency(2)))).toBe(CONCURRENCY_RETRY_MS);
    first();
    granted(limiter.tryAcquire('wh', concurrency(2)));
  });

  it('lets more through when maxConcurrency is raised', () => {
    const { limiter } = setup();
    granted(limiter.tryAcquire('wh', concurrency(1)));
    refusedFor(limiter.tryAcquire('wh', concurrency(1)));
    granted(limiter.tryAcquire('wh', concurrency(2)));
  });
});

describe('WebhookRateLimiter.prune', () => {
  it('forgets webhooks whose bucket is full and that have nothing in flight', () => {
    const { limiter, advance } = setup();
    granted(limiter.tryAcquire('a', rate(1, 1)))();
    granted(limiter.tryAcquire('b', UNLIMITED))();
    advance(1_000);
    limiter.prune();
    expect(limiter.size).toBe(0);
  });

  it('keeps webhooks with a send in flight', () => {
    const { limiter, advance } = setup();
    const release = granted(limiter.tryAcquire('wh', concurrency(1)));
    advance(3_600_000);
    limiter.prune();
    expect(limiter.size).toBe(1);
    // The slot is still taken after pruning, and release still frees it.
    refusedFor(limiter.tryAcquire('wh', concurrency(1)));
    release();
    granted(limiter.tryAcquire('wh', concurrency(1)));
  });

  it('keeps webhooks whose bucket is still refilling', () => {
    const { limiter, advance } = setup();
    granted(limiter.tryAcquire('wh', rate(1, 2)))();
    advance(999);
    limiter.prune();
    expect(limiter.size).toBe(1);
    granted(limiter.tryAcquire('wh', rate(1, 2)));
    expect(refusedFor(limiter.tryAcquire('wh', rate(1, 2)))).toBe(1);
  });

  it('prunes only the idle ones', () => {
    const { limiter, advance } = setup();
    granted(limiter.tryAcquire('idle', rate(5, 5)))();
    granted(limiter.tryAcquire('busy', UNLIMITED));
    granted(limiter.tryAcquire('draining', rate(1, 1)))();
    advance(200);
    limiter.prune();
    expect(limiter.size).toBe(2);
  });

  it('changes no behaviour: a pruned webhook comes back with a full bucket', () => {
    const { limiter, advance } = setup();
    granted(limiter.tryAcquire('wh', rate(1, 2)))();
    granted(limiter.tryAcquire('wh', rate(1, 2)))();
    advance(2_000);
    limiter.prune();
    granted(limiter.tryAcquire('wh', rate(1, 2)));
    granted(limiter.tryAcquire('wh', rate(1, 2)));
    expect(refusedFor(limiter.tryAcquire('wh', rate(1, 2)))).toBe(1_000);
  });

  it('keeps a released handle harmless after its webhook was pruned', () => {
    const { limiter } = setup();
    const release = granted(limiter.tryAcquire('wh', concurrency(1)));
    release();
    limiter.prune();
    release();
    granted(limiter.tryAcquire('wh', concurrency(1)));
    refusedFor(limiter.tryAcquire('wh', concurrency(1)));
  });
});

describe('WebhookRateLimiter limit validation', () => {
  it.each<[string, Limits]>([
    ['a zero rate', { ratePerSecond: 0, burst: null, maxConcurrency: null }],
    ['a negative rate', { ratePerSecond: -1, burst: null, maxConcurrency: null }],
    ['a NaN rate', { ratePerSecond: Number.NaN, burst: null, maxConcurrency: null }],
    ['an infinite rate', { ratePerSecond: Number.POSITIVE_INFINITY, burst: null, maxConcurrency: null }],
    ['a burst below 1', { ratePerSecond: 1, burst: 0.5, maxConcurrency: null }],
    ['a zero maxConcurrency', { ratePerSecond: null, burst: null, maxConcurrency: 0 }],
    ['a fractional maxConcurrency', { ratePerSecond: null, burst: null, maxConcurrency: 1.5 }],
  ])('refuses %s', (_, limits) => {
    const { limiter } = setup();
    expect(() => limiter.tryAcquire('wh', limits)).toThrow(RangeError);
  });
});
