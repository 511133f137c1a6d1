import { DEFAULT_SCHEDULE_SECONDS } from '../webhooks/webhook-kinds';
import { MAX_RETRY_AFTER_MS } from './response-classifier';
import { RetryPolicy, type RetryOutcome } from './retry-policy';

const DEFAULTS = { maxAttempts: DEFAULT_SCHEDULE_SECONDS.length, scheduleSeconds: [...DEFAULT_SCHEDULE_SECONDS] };

/** 0 → −20 %, 0.5 → exact, 1 → +20 %. */
const fixed = (value: number) => () => value;
const exact = new RetryPolicy(fixed(0.5));
const earliest = new RetryPolicy(fixed(0));
const latest = new RetryPolicy(fixed(1));

const retryable = (statusCode: number | null = 503, retryAfterMs: number | null = null): RetryOutcome => ({
  kind: 'retryable',
  statusCode,
  retryAfterMs,
});

describe('RetryPolicy.delayBefore', () => {
  it.each([
    [1, 0],
    [2, 5_000],
    [3, 30_000],
    [4, 120_000],
    [5, 600_000],
    [6, 1_800_000],
    [7, 3_600_000],
    [8, 10_800_000],
  ])('follows the default schedule without jitter: attempt %i after %i ms', (attempt, ms) => {
    expect(exact.delayBefore(attempt, DEFAULTS)).toBe(ms);
  });

  it.each([
    [2, 4_000, 6_000],
    [3, 24_000, 36_000],
    [4, 96_000, 144_000],
    [5, 480_000, 720_000],
    [6, 1_440_000, 2_160_000],
    [7, 2_880_000, 4_320_000],
    [8, 8_640_000, 12_960_000],
  ])('jitters attempt %i by 20 %% either way: %i to %i ms', (attempt, low, high) => {
    expect(earliest.delayBefore(attempt, DEFAULTS)).toBe(low);
    expect(latest.delayBefore(attempt, DEFAULTS)).toBe(high);
  });

  it('spreads jitter uniformly between the bounds', () => {
    expect(new RetryPolicy(fixed(0.25)).delayBefore(2, DEFAULTS)).toBe(4_500);
    expect(new RetryPolicy(fixed(0.75)).delayBefore(2, DEFAULTS)).toBe(5_500);
  });

  it('rounds a jittered delay to whole milliseconds', () => {
    // 1 s × (0.8 + 0.4 × 0.123456) = 849.3824 ms
    expect(new RetryPolicy(fixed(0.123456)).delayBefore(2, { scheduleSeconds: [0, 1] })).toBe(849);
    // 1 s × (0.8 + 0.4 × 0.12425) = 849.7 ms
    expect(new RetryPolicy(fixed(0.12425)).delayBefore(2, { scheduleSeconds: [0, 1] })).toBe(850);
  });

  it('keeps a 0 delay at 0 whatever the jitter, and does not draw randomness for it', () => {
    const random = jest.fn(() => 1);
    expect(new RetryPolicy(random).delayBefore(1, DEFAULTS)).toBe(0);
    expect(new RetryPolicy(random).delayBefore(2, { scheduleSeconds: [0, 0, 5] })).toBe(0);
    expect(random).not.toHaveBeenCalled();
  });

  it('follows a custom schedule', () => {
    const settings = { scheduleSeconds: [1, 2, 3] };
    expect(exact.delayBefore(1, settings)).toBe(1_000);
    expect(exact.delayBefore(2, settings)).toBe(2_000);
    expect(exact.delayBefore(3, settings)).toBe(3_000);
  });

  it('repeats the last entry past the end of the schedule', () => {
    const settings = { scheduleSeconds: [0, 10, 60] };
    expect(exact.delayBefore(4, settings)).toBe(60_000);
    expect(exact.delayBefore(50, settings)).toBe(60_000);
    expect(exact.delayBefore(9, DEFAULTS)).toBe(10_800_000);
    expect(latest.delayBefore(12, DEFAULTS)).toBe(12_960_000);
  });

  it('uses a one-entry schedule for every attempt', () => {
    expect(exact.delayBefore(1, { scheduleSeconds: [7] })).toBe(7_000);
    expect(exact.delayBefore(5, { scheduleSeconds: [7] })).toBe(7_000);
  });

  it('falls back to the default schedule when the schedule is empty', () => {
    expect(exact.delayBefore(3, { scheduleSeconds: [] })).toBe(30_000);
    expect(exact.delayBefore(20, { scheduleSeconds: [] })).toBe(10_800_000);
  });

  it('never returns a negative delay', () => {
    expect(latest.delayBefore(1, { scheduleSeconds: [-5] })).toBe(0);
    expect(earliest.delayBefore(1, { scheduleSeconds: [-5] })).toBe(0);
  });

  it('accepts fractional seconds', () => {
    expect(exact.delayBefore(1, { scheduleSeconds: [0.25] })).toBe(250);
  });

  it('keeps jitter within ±20 % when the random source strays outside [0, 1]', () => {
    expect(new RetryPolicy(fixed(-3)).delayBefore(2, DEFAULTS)).toBe(4_000);
    expect(new RetryPolicy(fixed(7)).delayBefore(2, DEFAULTS)).toBe(6_000);
    expect(new RetryPolicy(fixed(Number.NaN)).delayBefore(2, DEFAULTS)).toBe(5_000);
  });

  it('draws a fresh random value for each delay', () => {
    const values = [0, 1, 0.5];
    const policy = new RetryPolicy(() => values.shift() ?? 0.5);
    expect([2, 2, 2].map((attempt) => policy.delayBefore(attempt, DEFAULTS))).toEqual([4_000, 6_000, 5_000]);
  });

  it('stays within ±20 % with the real Math.random', () => {
    const policy = new RetryPolicy();
    for (let i = 0; i < 200; i++) {
      const delay = policy.delayBefore(3, DEFAULTS);
      expect(delay).toBeGreaterThanOrEqual(24_000);
      expect(delay).toBeLessThanOrEqual(36_000);
    }
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses attempt %p', (attempt) => {
    expect(() => exact.delayBefore(attempt, DEFAULTS)).toThrow(RangeError);
  });
});

describe('RetryPolicy.decide', () => {
  it('stops after a success', () => {
    expect(exact.decide({ kind: 'success', statusCode: 200, retryAfterMs: null }, 1, DEFAULTS)).toEqual({
      retry: false,
      delayMs: null,
      reason: 'success',
    });
  });

  it('stops after a final answer, naming its status', () => {
    expect(exact.decide({ kind: 'final', statusCode: 400, retryAfterMs: null }, 1, DEFAULTS)).toEqual({
      retry: false,
      delayMs: null,
      reason: 'final: 400',
    });
    expect(exact.decide({ kind: 'final', statusCode: 410, retryAfterMs: null }, 3, DEFAULTS).reason).toBe('final: 410');
  });

  it('stops after a final failure that had no response', () => {
    expect(exact.decide({ kind: 'final', statusCode: null, retryAfterMs: null }, 1, DEFAULTS)).toEqual({
      retry: false,
      delayMs: null,
      reason: 'final: no response',
    });
  });

  it('ignores Retry-After on success and final outcomes', () => {
    expect(exact.decide({ kind: 'success', statusCode: 200, retryAfterMs: 5_000 }, 1, DEFAULTS).retry).toBe(false);
    expect(exact.decide({ kind: 'final', statusCode: 400, retryAfterMs: 5_000 }, 1, DEFAULTS).delayMs).toBeNull();
  });

  it('retries a retryable outcome after the delay scheduled for the next attempt', () => {
    expect(exact.decide(retryable(503), 2, DEFAULTS)).toEqual({
      retry: true,
      delayMs: 30_000,
      reason: 'retryable: 503, attempt 2 of 8',
    });
  });

  it('walks the whole default schedule, then fails', () => {
    const delays: (number | null)[] = [];
    for (let attempt = 1; attempt <= 8; attempt++) delays.push(exact.decide(retryable(), attempt, DEFAULTS).delayMs);
    expect(delays).toEqual([5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000, 10_800_000, null]);
  });

  it('jitters the scheduled delay', () => {
    expect(earliest.decide(retryable(), 1, DEFAULTS).delayMs).toBe(4_000);
    expect(latest.decide(retryable(), 1, DEFAULTS).delayMs).toBe(6_000);
  });

  it('names a retryable failure without a response', () => {
    expect(exact.decide(retryable(null), 1, DEFAULTS).reason).toBe('retryable: no response, attempt 1 of 8');
  });

  it('fails when the attempts are exhausted', () => {
    expect(exact.decide(retryable(), 8, DEFAULTS)).toEqual({ retry: false, delayMs: null, reason: 'attempts exhausted (8)' });
  });

  it('fails past maxAttempts too (a lowered setting)', () => {
    expect(exact.decide(retryable(), 9, { maxAttempts: 3, scheduleSeconds: [0, 1, 2] })).toEqual({
      retry: false,
      delayMs: null,
      reason: 'attempts exhausted (3)',
    });
  });

  it('fails after the only attempt when maxAttempts is 1', () => {
    expect(exact.decide(retryable(), 1, { maxAttempts: 1, scheduleSeconds: [0, 5] }).retry).toBe(false);
  });

  it('does not retry even with Retry-After once attempts are exhausted', () => {
    expect(exact.decide(retryable(429, 1_000), 8, DEFAULTS)).toEqual({
      retry: false,
      delayMs: null,
      reason: 'attempts exhausted (8)',
    });
  });

  it('follows a custom schedule', () => {
    const settings = { maxAttempts: 4, scheduleSeconds: [0, 1, 2, 3] };
    expect(exact.decide(retryable(), 1, settings).delayMs).toBe(1_000);
    expect(exact.decide(retryable(), 3, settings)).toEqual({
      retry: true,
      delayMs: 3_000,
      reason: 'retryable: 503, attempt 3 of 4',
    });
    expect(exact.decide(retryable(), 4, settings).retry).toBe(false);
  });

  it('repeats the last entry when maxAttempts is larger than the schedule', () => {
    const settings = { maxAttempts: 12, scheduleSeconds: [0, 5, 30] };
    expect(exact.decide(retryable(), 2, settings).delayMs).toBe(30_000);
    expect(exact.decide(retryable(), 3, settings).delayMs).toBe(30_000);
    expect(exact.decide(retryable(), 11, settings)).toEqual({
      retry: true,
      delayMs: 30_000,
      reason: 'retryable: 503, attempt 11 of 12',
    });
    expect(exact.decide(retryable(), 12, settings).retry).toBe(false);
  });

  it('lets Retry-After beat the schedule, without jitter', () => {
    expect(latest.decide(retryable(429, 2_000), 3, DEFAULTS)).toEqual({
      retry: true,
      delayMs: 2_000,
      reason: 'retryable: 429, attempt 3 of 8, Retry-After 2 s',
    });
    expect(earliest.decide(retryable(503, 2_000), 1, DEFAULTS).delayMs).toBe(2_000);
  });

  it('does not draw randomness for a Retry-After delay', () => {
    const random = jest.fn(() => 0);
    expect(new RetryPolicy(random).decide(retryable(503, 7_000), 1, DEFAULTS).delayMs).toBe(7_000);
    expect(random).not.toHaveBeenCalled();
  });

  it('honours a Retry-After longer than the scheduled delay', () => {
    expect(exact.decide(retryable(429, 900_000), 1, DEFAULTS).delayMs).toBe(900_000);
  });

  it('caps Retry-After at one hour', () => {
    expect(exact.decide(retryable(429, 5 * MAX_RETRY_AFTER_MS), 1, DEFAULTS)).toEqual({
      retry: true,
      delayMs: 3_600_000,
      reason: 'retryable: 429, attempt 1 of 8, Retry-After 3600 s',
    });
    expect(exact.decide(retryable(429, Number.POSITIVE_INFINITY), 1, DEFAULTS).delayMs).toBe(MAX_RETRY_AFTER_MS);
    expect(exact.decide(retryable(429, MAX_RETRY_AFTER_MS), 1, DEFAULTS).delayMs).toBe(MAX_RETRY_AFTER_MS);
  });

  it('treats a Retry-After of 0 or in the past as "now"', () => {
    expect(exact.decide(retryable(503, 0), 1, DEFAULTS)).toEqual({
      retry: true,
      delayMs: 0,
      reason: 'retryable: 503, attempt 1 of 8, Retry-After 0 s',
    });
    expect(exact.decide(retryable(503, -5_000), 1, DEFAULTS).delayMs).toBe(0);
  });

  it('never retries sooner than Retry-After asked (fractions round up)', () => {
    const decision = exact.decide(retryable(403, 1_500.2), 1, DEFAULTS);
    expect(decision.delayMs).toBe(1_501);
    expect(decision.reason).toBe('retryable: 403, attempt 1 of 8, Retry-After 1501 ms');
  });

  it('falls back to the schedule when Retry-After is NaN', () => {
    expect(exact.decide(retryable(503, Number.NaN), 1, DEFAULTS)).toEqual({
      retry: true,
      delayMs: 5_000,
      reason: 'retryable: 503, attempt 1 of 8',
    });
  });

  it.each([0, -2, 2.5])('refuses attempt %p', (attempt) => {
    expect(() => exact.decide(retryable(), attempt, DEFAULTS)).toThrow(RangeError);
  });
});
