/** A delivery that is due (now or at `dueAt`) for attempt `attempt` of series `series`. */
export interface DueDelivery {
  id: string;
  series: number;
  /** The attempt number about to be made (attempt_count + 1). */
  attempt: number;
  /** Epoch ms; now or later. */
  dueAt: number;
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
}

/** The BullMQ job id of one attempt: duplicates collapse, retries and redeliveries are new jobs (docs/design.md › Deployment modes). */
export function jobIdOf(due: Pick<DueDelivery, 'id' | 'series' | 'attempt'>): string {
  return `${due.id}-${due.series}-${due.attempt}`;
}
