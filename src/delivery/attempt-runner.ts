import { Injectable, Logger } from '@nestjs/common';
import { type EntityManager, In, LessThan } from 'typeorm';
import { Clock } from '../common/clock';
import { newId } from '../common/ids';
import { HeraldConfig } from '../config/config';
import { TransactionRunner } from '../database/transaction-runner';
import { MetricsService } from '../metrics/metrics.service';
import { resolveDeferredSecrets } from '../rendering/payload-template';
import { effectiveDeliverySettings } from '../webhooks/webhook-rules';
import { WebhookEntity } from '../webhooks/webhook.entity';
import { DeliveryAttemptEntity } from './delivery-attempt.entity';
import { DeliverySender } from './delivery-sender';
import type { DeliveryStatus } from './delivery-status';
import { DeliveryEntity } from './delivery.entity';
import type { DueDelivery } from './dispatcher';
import type { SendOutcome } from './http-executor';
import { RetryPolicy } from './retry-policy';

export const QUEUED: DeliveryStatus[] = ['pending', 'retrying'];

/**
 * One delivery attempt, whoever schedules it (the embedded worker or a BullMQ worker): the
 * checks before claiming, the send outside any transaction, and the record of its outcome —
 * attempt row, next status, webhook health (410 → gone; a failure streak longer than
 * HERALD_DISABLE_AFTER → failing, queued deliveries held).
 */
@Injectable()
export class AttemptRunner {
  private readonly logger = new Logger('DeliveryWorker');
  private readonly policy = new RetryPolicy();
  readonly leaseMs: number;

  constructor(
    private readonly sender: DeliverySender,
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    private readonly config: HeraldConfig,
    private readonly metrics: MetricsService,
  ) {
    this.leaseMs = config.httpDeadlineMs + config.leaseMarginMs;
  }

  /**
   * Settles a due delivery that must not be sent: its webhook was deleted (failed) or disabled
   * (held when Herald disabled it, cancelled when a user did). Returns whether it may be sent.
   */
  async triage(em: EntityManager, delivery: DeliveryEntity, webhook: WebhookEntity | null, now: number): Promise<boolean> {
    if (!webhook) {
      await em.update(DeliveryEntity, { id: delivery.id }, {
        status: 'failed', nextAttemptAt: null, leaseUntil: null, lastError: 'The webhook was deleted', updatedAt: now,
      });
      return false;
    }
    if (!webhook.enabled) {
      const status: DeliveryStatus = webhook.disabledReason === 'user' ? 'cancelled' : 'held';
      await em.update(DeliveryEntity, { id: delivery.id }, { status, nextAttemptAt: null, leaseUntil: null, updatedAt: now });
      return false;
    }
    return true;
  }

  /** Marks a checked delivery as being sent, with a lease. */
  async lease(em: EntityManager, delivery: DeliveryEntity, now: number): Promise<void> {
    await em.update(DeliveryEntity, { id: delivery.id }, { status: 'sending', leaseUntil: now + this.leaseMs, updatedAt: now });
  }

  /**
   * Sends once and records the outcome. `release` frees the webhook's concurrency slot as soon
   * as the HTTP exchange ends. Returns the next attempt when one is scheduled.
   */
  async attempt(delivery: DeliveryEntity, webhook: WebhookEntity, release: () => void): Promise<DueDelivery | null> {
    const startedAt = this.clock.now();
    const stored = delivery.body;
    let outcome: SendOutcome;
    try {
      outcome = await this.sender.send(webhook, {
        deliveryId: delivery.id,
        eventType: delivery.eventType,
        body: delivery.bodyForm === 'deferred' ? (secrets) => resolveDeferredSecrets(stored, secrets) : () => stored,
      });
    } finally {
      release();
    }
    this.metrics.attempt(outcome.kind, outcome.durationMs);
    try {
      return await this.tx.run((em) => this.record(em, delivery, webhook.id, outcome, startedAt));
    } catch (error) {
      // The lease expires and the delivery is sent again: at-least-once, receivers dedupe on its id.
      this.logger.error(`Could not record attempt of delivery ${delivery.id}: ${(error as Error).message}`);
      return null;
    }
  }

  private async record(em: EntityManager, delivery: DeliveryEntity, webhookId: string, outcome: SendOutcome, startedAt: number): Promise<DueDelivery | null> {
    const now = this.clock.now();
    const webhook = await em.findOneBy(WebhookEntity, { id: webhookId });
    const settings = webhook ? effectiveDeliverySettings(webhook.kind, webhook.delivery) : null;
    const number = delivery.attemptCount + 1;
    const decision = settings ? this.policy.decide(outcome, number, settings) : { retry: false, delayMs: null, reason: 'webhook deleted' };

    let status: DeliveryStatus;
    if (outcome.kind === 'success') status = 'succeeded';
    else if (decision.retry) status = 'retrying';
    else status = 'failed';

    if (webhook) await this.updateHealth(em, webhook, outcome, now);
    // A retry for a webhook Herald has just disabled waits for `enable`; a user's disabling cancels it.
    if (status === 'retrying' && webhook && !webhook.enabled) status = webhook.disabledReason === 'user' ? 'cancelled' : 'held';

    await em.insert(DeliveryAttemptEntity, {
      id: newId('att'),
      deliveryId: delivery.id,
      series: delivery.series,
      number,
      startedAt,
      durationMs: outcome.durationMs,
      statusCode: outcome.statusCode,
      responseExcerpt: outcome.responseExcerpt,
      errorClass: outcome.errorClass,
      errorMessage: outcome.errorMessage,
      willRetry: status === 'retrying',
    });
    const nextAttemptAt = status === 'retrying' ? now + (decision.delayMs ?? 0) : null;
    await em.update(DeliveryEntity, { id: delivery.id }, {
      status,
      attemptCount: number,
      nextAttemptAt,
      leaseUntil: null,
      lastStatusCode: outcome.statusCode,
      lastError: outcome.kind === 'success' ? null : (outcome.errorMessage ?? `HTTP ${outcome.statusCode}`),
      updatedAt: now,
    });
    return nextAttemptAt === null ? null : { id: delivery.id, series: delivery.series, attempt: number + 1, dueAt: nextAttemptAt };
  }

  /**
   * A success clears the failure streak; a failure starts one or, past HERALD_DISABLE_AFTER,
   * disables the webhook (`failing`); a 410 disables it at once (`gone`). Disabling holds the
   * webhook's pending and retrying deliveries until `enable`.
   */
  private async updateHealth(em: EntityManager, webhook: WebhookEntity, outcome: SendOutcome, now: number): Promise<void> {
    if (outcome.kind === 'success') {
      if (webhook.failingSince !== null || webhook.lastSuccessAt === null || now - webhook.lastSuccessAt > 1000) {
        await em.update(WebhookEntity, { id: webhook.id }, { failingSince: null, lastSuccessAt: now });
      }
      return;
    }
    // Failures Herald caused itself (a secret it cannot read, a refused address) still count:
    // the webhook cannot be delivered to, which is what the streak measures.
    const failingSince = webhook.failingSince ?? now;
    let reason: 'gone' | 'failing' | null = null;
    if (outcome.gone) reason = 'gone';
    else if (now - failingSince >= this.config.disableAfterMs) reason = 'failing';
    if (webhook.enabled && reason) {
      webhook.enabled = false;
      webhook.disabledReason = reason;
      await em.update(WebhookEntity, { id: webhook.id }, { enabled: false, disabledReason: reason, failingSince, updatedAt: now });
      await em.update(DeliveryEntity, { webhookId: webhook.id, status: In(QUEUED) }, { status: 'held', nextAttemptAt: null, updatedAt: now });
      this.metrics.webhookDisabled(reason);
      this.logger.warn(`Webhook ${webhook.id} disabled (${reason}); its deliveries are held until it is enabled`);
    } else if (webhook.failingSince === null) {
      await em.update(WebhookEntity, { id: webhook.id }, { failingSince });
    }
    webhook.failingSince = failingSince;
  }

  /**
   * Makes deliveries whose lease expired due again (their attempt's outcome was never
   * recorded: the sender died or could not write). `all` reclaims every `sending` row, for a
   * process that knows it is the only worker (embedded mode, at start). Returns how many.
   */
  async reclaimLeases(all = false): Promise<number> {
    const now = this.clock.now();
    const result = await this.tx.run((em) =>
      em.update(
        DeliveryEntity,
        all ? { status: 'sending' } : { status: 'sending', leaseUntil: LessThan(now) },
        { status: 'retrying', leaseUntil: null, nextAttemptAt: now },
      ),
    );
    return result.affected ?? 0;
  }
}
