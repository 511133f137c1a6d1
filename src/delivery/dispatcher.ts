import type { WebhookEntity } from '../webhooks/webhook.entity';
import type { DeliveryEntity } from './delivery.entity';

/** A delivery that is due (now or at `dueAt`) for attempt `attempt` of series `series`. */
export interface DueDelivery {
  id: string;
  series: number;
  /** The attempt number about to be made (attempt_count + 1). */
  attempt: number;
  /** Epoch ms; now or later. */
  dueAt: number;
  /**
   * The row as its writer committed it, when the writer has it (ingestion): the embedded
   * worker may then claim it without reading it back. Its webhook is still read at the claim.
   */
  delivery?: DeliveryEntity;
}

/**
 * A send slot taken for a delivery not written yet (embedded mode): the writer stores the
 * delivery as `sending` with a lease of `leaseMs` in its own transaction, then either hands
 * it over once that transaction has committed or cancels the slot if it failed.
 */
export interface HandOver {
  readonly leaseMs: number;
  /** After the commit: send it now (the slot is the delivery's from here on). */
  send(delivery: DeliveryEntity): void;
  /** The transaction failed: give the slot back. */
  cancel(): void;
}

/**
 * Hands due deliveries to whatever sends them: the in-process worker (embedded mode) or the
 * BullMQ queue (REDIS_URL). Called after the transaction that made them due has committed.
 */
export abstract class DeliveryDispatcher {
  /** These deliveries were just made due (a match, a redelivery, a retry). */
  abstract dispatch(due: DueDelivery[]): void;

  /** Some deliveries became due without the caller knowing which (a webhook enabled): look for them. */
  abstract wake(): void;

  /**
   * A send slot for a new delivery to this webhook, when one is free now and nothing older is
   * waiting for one (so a hand-over never overtakes a queued delivery); null otherwise, and
   * always in the queued mode. Saves the claim: the delivery is leased where it is written.
   */
  reserve(_webhook: WebhookEntity): HandOver | null {
    return null;
  }
}

/** The BullMQ job id of one attempt: duplicates collapse, retries and redeliveries are new jobs (docs/design.md › Deployment modes). */
export function jobIdOf(due: Pick<DueDelivery, 'id' | 'series' | 'attempt'>): string {
  return `${due.id}-${due.series}-${due.attempt}`;
}
