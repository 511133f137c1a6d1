import { defaultBurst } from '../webhooks/webhook-kinds';

/**
 * Per-webhook token bucket and concurrency gate for the embedded mode, where this process is
 * the only sender (docs/design.md › Webhooks, delivery policy; the scaled mode uses a Redis bucket).
 * Pure: the clock is injected and nothing here schedules a timer.
 */
export interface Limits {
  /** Tokens added per second, continuously; null: no rate limit. */
  ratePerSecond: number | null;
  /** Bucket size; null: the rate rounded up, at least 1. */
  burst: number | null;
  /** Sends in flight at once; null: no limit. */
  maxConcurrency: number | null;
}

export type AcquireResult = { ok: true; release: () => void } | { ok: false; retryInMs: number };

/**
 * How long to wait when every concurrency slot is taken. A send ends within the executor's
 * 15 s deadline but could end any moment, so a short fixed poll is used rather than a wait
 * on release: the limiter stays a plain synchronous class and the caller needs no callback.
 */
export const CONCURRENCY_RETRY_MS = 50;

/** Token counts are floats; a shortfall below this is rounding error, not a missing token. */
const EPSILON = 1e-9;

interface WebhookState {
  /** Tokens in the bucket as of `refilledAt`; meaningful only while `ratePerSecond` is set. */
  tokens: number;
  refilledAt: number;
  ratePerSecond: number | null;
  capacity: number;
  inFlight: number;
}

/** burst, or when unset the default (webhook-kinds' defaultBurst, as effectiveDeliverySettings fills it in). */
export function bucketCapacity(limits: Limits): number {
  return limits.burst ?? defaultBurst(limits.ratePerSecond);
}

function checkLimits(limits: Limits): void {
  const { ratePerSecond, burst, maxConcurrency } = limits;
  // Validation at the edge refuses these; a zero rate or burst would block a webhook forever.
  if (ratePerSecond !== null && !(Number.isFinite(ratePerSecond) && ratePerSecond > 0)) {
    throw new RangeError(`ratePerSecond must be a positive number or null, got ${ratePerSecond}`);
  }
  if (burst !== null && !(Number.isFinite(burst) && burst >= 1)) {
    throw new RangeError(`burst must be at least 1 or null, got ${burst}`);
  }
  if (maxConcurrency !== null && !(Number.isInteger(maxConcurrency) && maxConcurrency >= 1)) {
    throw new RangeError(`maxConcurrency must be an integer ≥ 1 or null, got ${maxConcurrency}`);
  }
}

export class WebhookRateLimiter {
  private readonly states = new Map<string, WebhookState>();

  constructor(private readonly now: () => number) {}

  /**
   * Try to start a send to `webhookId` now. Returns {ok: true, release} (call release() when the
   * send ends; calling it again does nothing), or {ok: false, retryInMs}: the wait until a
   * token may be there, or CONCURRENCY_RETRY_MS (at least) while every slot is taken. A refused
   * call takes nothing. The limits given apply from this call on, so settings edits take effect.
   */
  tryAcquire(webhookId: string, limits: Limits): AcquireResult {
    checkLimits(limits);
    const now = this.now();
    const state = this.stateFor(webhookId, now);
    this.refill(state, now);
    this.applyLimits(state, limits, now);

    const tokenWaitMs = this.tokenWaitMs(state);
    const slotFree = limits.maxConcurrency === null || state.inFlight < limits.maxConcurrency;
    if (!slotFree) return { ok: false, retryInMs: Math.max(CONCURRENCY_RETRY_MS, tokenWaitMs) };
    if (tokenWaitMs > 0) return { ok: false, retryInMs: tokenWaitMs };

    if (state.ratePerSecond !== null) state.tokens -= 1;
    state.inFlight += 1;
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        state.inFlight -= 1;
      },
    };
  }

  /**
   * Forget webhooks with a full bucket and no send in flight: their next call starts from a
   * fresh (full) bucket, which is exactly their present state, so nothing is lost.
   */
  prune(): void {
    const now = this.now();
    for (const [webhookId, state] of this.states) {
      if (state.inFlight > 0) continue;
      this.refill(state, now);
      if (state.ratePerSecond === null || state.tokens >= state.capacity - EPSILON) this.states.delete(webhookId);
    }
  }

  /** How many webhooks the limiter holds state for (for metrics and tests). */
  get size(): number {
    return this.states.size;
  }

  private stateFor(webhookId: string, now: number): WebhookState {
    let state = this.states.get(webhookId);
    if (state === undefined) {
      state = { tokens: 0, refilledAt: now, ratePerSecond: null, capacity: 1, inFlight: 0 };
      this.states.set(webhookId, state);
    }
    return state;
  }

  /** Adds the tokens earned since the last refill, at the rate in force during that time. */
  private refill(state: WebhookState, now: number): void {
    // A clock that steps back earns nothing and does not move refilledAt back.
    if (now <= state.refilledAt) return;
    if (state.ratePerSecond !== null) {
      state.tokens = Math.min(state.capacity, state.tokens + ((now - state.refilledAt) / 1000) * state.ratePerSecond);
    }
    state.refilledAt = now;
  }

  private applyLimits(state: WebhookState, limits: Limits, now: number): void {
    const capacity = bucketCapacity(limits);
    if (limits.ratePerSecond !== null && state.ratePerSecond === null) {
      // A bucket starts full, including when a previously unlimited webhook gets a rate.
      state.tokens = capacity;
      state.refilledAt = Math.max(state.refilledAt, now);
    }
    // A smaller bucket drops the excess; a larger one fills up at the rate, not at once.
    state.tokens = Math.min(state.tokens, capacity);
    state.capacity = capacity;
    state.ratePerSecond = limits.ratePerSecond;
  }

  /** 0 when a token is there (or there is no rate), else whole ms until one will be. */
  private tokenWaitMs(state: WebhookState): number {
    if (state.ratePerSecond === null) return 0;
    const missing = 1 - state.tokens;
    if (missing <= EPSILON) return 0;
    return Math.max(1, Math.ceil((missing * 1000) / state.ratePerSecond - EPSILON));
  }
}
