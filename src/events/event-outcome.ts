/**
 * What ingestion decided for one event, stored with it: the answer to "why did (or didn't)
 * it fire?" in GET /v1/events/:id, and the answer repeated for a duplicate post.
 */
export interface EventOutcome {
  /** Automations that fired, with the delivery each made. */
  matched: { automationId: string; automationName: string; deliveryId: string }[];
  /**
   * Automations whose conditions held but that did not send: `cooldown` (inside the cooldown),
   * `edge` (still matching since it last fired), `webhook_disabled` (a cancelled delivery
   * records it).
   */
  suppressed: { automationId: string; automationName: string; reason: SuppressionReason; deliveryId?: string }[];
  /** Automations that matched but could not be rendered. */
  failed: { automationId: string; automationName: string; error: string }[];
}

export type SuppressionReason = 'cooldown' | 'edge' | 'webhook_disabled';
