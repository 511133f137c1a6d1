import type { DisabledReason } from '../webhooks/webhook-kinds';
import type { DeliveryStatus } from './delivery-status';

/**
 * The one owner of a delivery's lifecycle (docs/design.md › Delivery): which statuses belong
 * together, what a disabled webhook does to a delivery, what follows an attempt's outcome,
 * and what a new attempt series resets. Stores, workers, services and metrics ask here; the
 * SQL lists below are built from these groups, never written out again.
 *
 *   pending → sending (leased) → succeeded | retrying → sending … → failed (redeliverable)
 *   held: waits for its webhook's `enable`;  cancelled: matched while a person had paused it, never sent
 *
 * A new attempt series (a redelivery, or `enable` re-queuing what failed during a failure
 * streak) keeps the delivery id, adds 1 to `series` and counts attempts from 1 again, due now:
 * `DeliveryStore.startNewSeries` is its one implementation.
 */

/** Due at `next_attempt_at` and waiting for a sender. */
export const WAITING = ['pending', 'retrying'] as const satisfies readonly DeliveryStatus[];
/** May still be sent: waiting, being sent, or held until its webhook is enabled. */
export const UNSETTLED = ['pending', 'sending', 'retrying', 'held'] as const satisfies readonly DeliveryStatus[];
/** Nothing more happens without a person: succeeded, failed (redeliverable), cancelled. */
export const FINAL = ['succeeded', 'failed', 'cancelled'] as const satisfies readonly DeliveryStatus[];
/** Will be sent without anyone asking: waiting or being sent (a redelivery is refused then). */
export const IN_FLIGHT = ['pending', 'sending', 'retrying'] as const satisfies readonly DeliveryStatus[];

export type WaitingStatus = (typeof WAITING)[number];

export function isWaiting(status: DeliveryStatus): status is WaitingStatus {
  return (WAITING as readonly DeliveryStatus[]).includes(status);
}

export function isInFlight(status: DeliveryStatus): boolean {
  return (IN_FLIGHT as readonly DeliveryStatus[]).includes(status);
}

/**
 * A status group as an SQL list literal, `('pending', 'retrying')`, for constant statement
 * text. Only these constants ever reach it, never input.
 */
export function sqlList(statuses: readonly DeliveryStatus[]): string {
  return `(${statuses.map((s) => `'${s}'`).join(', ')})`;
}

/** What ingestion and the workers know of a webhook when they decide a delivery's fate. */
export interface WebhookGateState {
  enabled: boolean;
  disabledReason: DisabledReason | null;
}

/**
 * A delivery already queued when its webhook is disabled, whoever disabled it: `held`, sent
 * after `enable`. Pausing a webhook (a person's PATCH `enabled: false`) keeps its queue; so do
 * a 410 and a failure streak.
 */
export function statusWhileDisabled(): 'held' {
  return 'held';
}

/**
 * The status of a new match: pending; or, its webhook disabled, `held` when Herald disabled it
 * (410, failure streak: sent after `enable`), `cancelled` when a person did (what matches while
 * a webhook is paused is recorded, never sent).
 */
export function statusAtMatch(webhook: WebhookGateState): DeliveryStatus {
  if (webhook.enabled) return 'pending';
  return webhook.disabledReason === 'user' ? 'cancelled' : 'held';
}

/**
 * Where an attempt leaves its delivery: succeeded, retrying (the policy allows another attempt
 * and the webhook still takes deliveries; otherwise held, statusWhileDisabled), or failed. `webhook` is null when it was deleted meanwhile.
 */
export function statusAfterAttempt(succeeded: boolean, retry: boolean, webhook: WebhookGateState | null): DeliveryStatus {
  if (succeeded) return 'succeeded';
  if (!retry) return 'failed';
  if (webhook && !webhook.enabled) return statusWhileDisabled();
  return 'retrying';
}
