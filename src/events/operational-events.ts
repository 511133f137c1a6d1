import type { DeliveryFailure } from '../delivery/delivery-failures';
import { MAX_ERROR_CHARS, OPERATIONAL_ID_PREFIX } from './event-validation';
import type { EventDelivery, HeraldEvent } from './event.types';

/**
 * The events Herald emits about its own deliveries (docs/automations.md › Operational events).
 * Pure: a failure reported after its transaction committed → the events to ingest.
 *
 * - Ids are derived from what they report, so emitting twice stores once (ingestion answers a
 *   known id as a duplicate): `herald:delivery-failed:<delivery>.<series>` (a series ends
 *   failed at most once), `herald:webhook-disabled:<webhook>:<delivery>.<series>.<attempt>`
 *   (the attempt that disabled it).
 * - Projects: WEBHOOK_DISABLED belongs to the reserved project `herald` (a webhook serves the
 *   whole team); DELIVERY_FAILED to the project of the event the delivery carried, or `herald`
 *   when that event is unknown. Automations on them are team-scoped, so the project never
 *   decides a match; it renders as ${project_name}.
 */

/** The project of Herald's events about webhooks (and of failures whose event is unknown). */
export const HERALD_PROJECT = 'herald';
export const HERALD_AUTHOR = 'herald';

export function operationalEvents(failure: DeliveryFailure, project: string, occurredAt: string): HeraldEvent[] {
  const { delivery, webhook } = failure;
  const common = {
    occurredAt,
    author: HERALD_AUTHOR,
    webhook: { ...webhook },
    delivery: eventDelivery(failure),
    ...(failure.statusCode !== null ? { statusCode: failure.statusCode } : {}),
    ...(failure.error !== null ? { error: failure.error.slice(0, MAX_ERROR_CHARS) } : {}),
  };
  const events: HeraldEvent[] = [];
  if (failure.disabled !== null) {
    events.push({
      id: `${OPERATIONAL_ID_PREFIX}webhook-disabled:${webhook.id}:${delivery.id}.${delivery.series}.${failure.attempts}`,
      type: 'WEBHOOK_DISABLED',
      project: HERALD_PROJECT,
      reason: failure.disabled,
      ...common,
    });
  }
  if (failure.failed) {
    events.push({
      id: `${OPERATIONAL_ID_PREFIX}delivery-failed:${delivery.id}.${delivery.series}`,
      type: 'DELIVERY_FAILED',
      project,
      ...common,
    });
  }
  return events;
}

function eventDelivery({ delivery, attempts }: DeliveryFailure): EventDelivery {
  return {
    id: delivery.id,
    series: delivery.series,
    attempts,
    ...(delivery.automationId !== null ? { automationId: delivery.automationId } : {}),
    ...(delivery.automationName !== null ? { automationName: delivery.automationName } : {}),
    ...(delivery.eventId !== null ? { eventId: delivery.eventId } : {}),
    eventType: delivery.eventType,
  };
}
