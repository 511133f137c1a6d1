import { Injectable, Logger } from '@nestjs/common';
import { isOperationalEventType } from '../events/event.types';
import type { DisabledReason } from '../webhooks/webhook-kinds';
import type { WebhookEntity } from '../webhooks/webhook.entity';
import type { DeliveryStatus } from './delivery-status';
import type { DeliveryEntity } from './delivery.entity';
import type { SendOutcome } from './http-executor';

/**
 * Why an attempt failed without an HTTP answer to judge (an attempt with a response has none:
 * its statusCode says it). The executor and the sender record only these; the API documents them.
 */
export const ATTEMPT_ERROR_CLASSES = {
  refused_address: 'the URL resolves to an address HERALD_ALLOWED_NETWORKS does not allow (final)',
  invalid_url: 'the URL is not a valid http or https URL (final)',
  invalid_request: 'a header or the body cannot be sent as rendered (final)',
  secret_unavailable: 'a secret the webhook uses could not be read (final)',
  preparation_failed: 'the request could not be prepared (final)',
  timeout: 'no complete response within the deadline (retried)',
  connect_timeout: 'no connection within the connect deadline (retried)',
  dns: 'the host name did not resolve (retried)',
  tls: 'the TLS handshake or certificate failed (retried)',
  network: 'the connection failed or was reset (retried)',
} as const;
export type AttemptErrorClass = keyof typeof ATTEMPT_ERROR_CLASSES;

/** The webhook as the failure feed names it. */
type WebhookIdentity = Pick<WebhookEntity, 'id' | 'name' | 'teamId'>;

/** What recording an attempt decided: where it left the delivery, and whether it disabled the webhook. */
export interface AttemptFate {
  status: DeliveryStatus;
  /** Set when this very attempt disabled the webhook (Herald disables with gone or failing only). */
  disabled: 'gone' | 'failing' | null;
  /** The webhook as the record read it; null when it was deleted meanwhile. */
  webhook: WebhookIdentity | null;
}

/**
 * The fate of an attempt, from the status it recorded and the webhook before and after its
 * health was updated (`wasEnabled`: before; `webhook`: after, null when deleted).
 */
export function attemptFate(
  status: DeliveryStatus,
  wasEnabled: boolean,
  webhook: (WebhookIdentity & Pick<WebhookEntity, 'enabled' | 'disabledReason'>) | null,
): AttemptFate {
  const reason: DisabledReason | null = wasEnabled && webhook !== null && !webhook.enabled ? webhook.disabledReason : null;
  return {
    status,
    disabled: reason === 'gone' || reason === 'failing' ? reason : null,
    webhook: webhook === null ? null : { id: webhook.id, name: webhook.name, teamId: webhook.teamId },
  };
}

/**
 * Something operators should hear about, known once the attempt's transaction has committed: a
 * delivery that just ended `failed`, a webhook an attempt just disabled, or both (a 410).
 */
export interface DeliveryFailure {
  teamId: string;
  webhook: { id: string; name: string };
  delivery: Pick<DeliveryEntity, 'id' | 'series' | 'automationId' | 'automationName' | 'eventId' | 'eventType'>;
  /** Attempts made in the delivery's series, this one included. */
  attempts: number;
  statusCode: number | null;
  error: string | null;
  /** The delivery ended `failed`. */
  failed: boolean;
  /** This attempt disabled the webhook. */
  disabled: 'gone' | 'failing' | null;
}

/** An attempt as recorded (AttemptRunner): the delivery as claimed, the outcome, the fate once recorded. */
export interface RecordedAttempt {
  delivery: DeliveryEntity;
  outcome: SendOutcome;
  fate?: AttemptFate;
}

/**
 * What a recorded attempt has to tell, or null: nothing failed or was disabled, the webhook was
 * deleted, or the delivery itself carried one of Herald's operational events, whose failure
 * must emit nothing (no loops: a failing alert channel would otherwise report on itself).
 */
export function failureOf(attempt: RecordedAttempt): DeliveryFailure | null {
  const { delivery, outcome, fate } = attempt;
  if (!fate || fate.webhook === null || isOperationalEventType(delivery.eventType)) return null;
  const { webhook } = fate;
  const failed = fate.status === 'failed';
  if (!failed && fate.disabled === null) return null;
  return {
    teamId: webhook.teamId,
    webhook: { id: webhook.id, name: webhook.name },
    delivery,
    attempts: delivery.attemptCount + 1,
    statusCode: outcome.statusCode,
    error: outcome.kind === 'success' ? null : (outcome.errorMessage ?? `HTTP ${outcome.statusCode}`),
    failed,
    disabled: fate.disabled,
  };
}

export type DeliveryFailureListener = (failure: DeliveryFailure) => Promise<void>;

/**
 * Where the delivery worker reports, after the commit, the deliveries that just failed and the
 * webhooks just disabled; the events module listens and turns them into WEBHOOK_DISABLED and
 * DELIVERY_FAILED events (OperationalEvents), without the delivery module depending on it.
 */
@Injectable()
export class DeliveryFailureFeed {
  private readonly logger = new Logger('DeliveryWorker');
  private readonly listeners: DeliveryFailureListener[] = [];

  subscribe(listener: DeliveryFailureListener): void {
    this.listeners.push(listener);
  }

  /** Called once an attempt's record has committed. Never throws: a listener's failure is logged. */
  async recorded(attempt: RecordedAttempt): Promise<void> {
    const failure = failureOf(attempt);
    if (failure === null) return;
    for (const listener of this.listeners) {
      try {
        await listener(failure);
      } catch (error) {
        this.logger.error(`Could not report the failure of delivery ${failure.delivery.id}: ${(error as Error).message}`);
      }
    }
  }
}
