import type { DeliverySettings } from '../webhooks/webhook-kinds';
import { DEFAULT_SCHEDULE_SECONDS } from '../webhooks/webhook-kinds';
import type { SendOutcome } from './http-executor';
import { MAX_RETRY_AFTER_MS } from './response-classifier';

/**
 * Whether an attempt series goes on after an attempt, and when (docs/design.md › Delivery,
 * Outcomes). Pure: randomness is injected, nothing here reads the clock.
 */
export interface RetryDecision {
  retry: boolean;
  /** When retry: the delay before the next attempt, in ms; null otherwise. */
  delayMs: number | null;
  /** For the attempt record and logs, e.g. 'final: 400' or 'retryable: 503, attempt 2 of 8'. */
  reason: string;
}

/** Scheduled delays are spread by up to this fraction either way, so retries do not arrive in lockstep. */
export const JITTER_FRACTION = 0.2;

export type RetryOutcome = Pick<SendOutcome, 'kind' | 'retryAfterMs' | 'statusCode'>;

function statusText(statusCode: number | null): string {
  return statusCode === null ? 'no response' : String(statusCode);
}

function durationText(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

function checkAttempt(attempt: number): void {
  if (!Number.isInteger(attempt) || attempt < 1) throw new RangeError(`attempt must be an integer ≥ 1, got ${attempt}`);
}

export class RetryPolicy {
  /** `random` returns a number in [0, 1], like Math.random; 0.5 means no jitter. */
  constructor(private readonly random: () => number = Math.random) {}

  /** After attempt number `attempt` (1-based) of a series ended with `outcome`, under `settings`. */
  decide(
    outcome: RetryOutcome,
    attempt: number,
    settings: Pick<DeliverySettings, 'maxAttempts' | 'scheduleSeconds'>,
  ): RetryDecision {
    checkAttempt(attempt);
    if (outcome.kind === 'success') return { retry: false, delayMs: null, reason: 'success' };
    if (outcome.kind === 'final') return { retry: false, delayMs: null, reason: `final: ${statusText(outcome.statusCode)}` };
    if (attempt >= settings.maxAttempts) {
      return { retry: false, delayMs: null, reason: `attempts exhausted (${settings.maxAttempts})` };
    }

    const reason = `retryable: ${statusText(outcome.statusCode)}, attempt ${attempt} of ${settings.maxAttempts}`;
    const asked = outcome.retryAfterMs;
    // NaN carries no request; Infinity is a request for "later", which the cap turns into 1 h.
    if (asked !== null && !Number.isNaN(asked)) {
      // The receiver named its own delay: no jitter, never sooner than asked (ceil), at most 1 h.
      const delayMs = Math.min(MAX_RETRY_AFTER_MS, Math.max(0, Math.ceil(asked)));
      return { retry: true, delayMs, reason: `${reason}, Retry-After ${durationText(delayMs)}` };
    }
    return { retry: true, delayMs: this.delayBefore(attempt + 1, settings), reason };
  }

  /**
   * The delay before attempt `attempt` (1-based; attempt 1 uses scheduleSeconds[0], normally 0),
   * with ±20 % jitter; entries past the end of the schedule repeat its last entry. An empty
   * schedule (which validation refuses) means the default one rather than retrying at once.
   */
  delayBefore(attempt: number, settings: Pick<DeliverySettings, 'scheduleSeconds'>): number {
    checkAttempt(attempt);
    const schedule = settings.scheduleSeconds.length > 0 ? settings.scheduleSeconds : DEFAULT_SCHEDULE_SECONDS;
    const seconds = schedule[Math.min(attempt - 1, schedule.length - 1)];
    const baseMs = Math.max(0, seconds * 1000);
    if (baseMs === 0) return 0;
    // Clamped so that a misbehaving source cannot push the delay outside ±20 % (NaN: no jitter).
    const raw = this.random();
    const unit = Number.isNaN(raw) ? 0.5 : Math.min(1, Math.max(0, raw));
    const factor = 1 - JITTER_FRACTION + 2 * JITTER_FRACTION * unit;
    return Math.max(0, Math.round(baseMs * factor));
  }
}
