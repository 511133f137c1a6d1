import type { NotFiredReason } from '../matching/matcher';

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
  /**
   * The other candidates (automations of the event's type and project) and why each did not
   * fire: `filter` (the scope or run filter failed), `window` (the metric window holds `have`
   * of the `need` values it needs), `condition` (evaluated: the condition does not hold). At
   * most MAX_NOT_FIRED are listed, the `condition` ones first left out; `notFiredOmitted` counts the rest. Absent in events stored
   * before Herald recorded them (the API answers an empty list). A candidate whose metric the event does not carry is not listed.
   */
  notFired?: NotFired[];
  notFiredOmitted?: number;
}

export type NotFired = { automationId: string; automationName: string } & NotFiredReason;

/**
 * Kept small: it is stored with every event, and a metric event of a busy project has many
 * candidates. When more did not fire, `condition` entries give way to the others.
 */
export const MAX_NOT_FIRED = 10;

export type SuppressionReason = 'cooldown' | 'edge' | 'webhook_disabled';
