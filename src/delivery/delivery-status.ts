/**
 * Delivery states (docs/design.md › Delivery), one enum everywhere: API filters, metrics, console.
 * pending → sending (leased) → succeeded | retrying → … → failed; held (webhook auto-disabled);
 * cancelled (webhook disabled by a user at match time: recorded, never sent).
 */
export const DELIVERY_STATUSES = ['pending', 'sending', 'succeeded', 'retrying', 'failed', 'held', 'cancelled'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** `deferred`: secret references still `${NAME}` (resolved at send time); `final`: sent as stored. */
export type BodyForm = 'deferred' | 'final';
