import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Clock } from '../common/clock';
import { newId } from '../common/ids';
import { HeraldConfig } from '../config/config';
import { GroupCommit } from '../database/group-commit';
import { TransactionRunner } from '../database/transaction-runner';
import { MetricsService } from '../metrics/metrics.service';
import { resolveDeferredSecrets } from '../rendering/payload-template';
import { deliverySettingsOf } from '../webhooks/webhook-rules';
import type { WebhookEntity } from '../webhooks/webhook.entity';
import { type WebhookGateState, statusAfterAttempt, statusWhileDisabled } from './delivery-lifecycle';
import { type AttemptFate, DeliveryFailureFeed, attemptFate } from './delivery-failures';
import { DeliverySender } from './delivery-sender';
import { type AttemptResult, type ClaimTarget, DeliveryStore, type NewAttempt } from './delivery-store';
import type { DeliveryEntity } from './delivery.entity';
import type { DueDelivery } from './dispatcher';
import type { SendOutcome } from './http-executor';
import { RetryPolicy } from './retry-policy';

/** One attempt's outcome, waiting to be recorded. */
export interface AttemptOutcome {
  delivery: DeliveryEntity;
  webhookId: string;
  outcome: SendOutcome;
  startedAt: number;
  /** What recording it decided, for DeliveryFailureFeed. */
  fate?: AttemptFate;
}

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
  /** Outcomes that complete together are recorded in one transaction. */
  private readonly recorder = new GroupCommit<AttemptOutcome, DueDelivery | null>((batch) => this.tx.runHot((em) => this.record(em, batch)));
  readonly leaseMs: number;

  constructor(
    private readonly sender: DeliverySender,
    private readonly store: DeliveryStore,
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    private readonly config: HeraldConfig,
    private readonly metrics: MetricsService,
    private readonly failures: DeliveryFailureFeed,
  ) {
    this.leaseMs = config.httpDeadlineMs + config.leaseMarginMs;
  }

  /**
   * Settles a due delivery that must not be sent: its webhook was deleted (failed) or disabled
   * (held until `enable`, whoever disabled it), if it still waits for the attempt `delivery`
   * describes. Returns whether it may be sent.
   */
  async triage(em: EntityManager, delivery: DeliveryEntity, webhook: WebhookGateState | null, now: number): Promise<boolean> {
    if (!webhook) {
      await this.store.settle(em, delivery, 'failed', 'The webhook was deleted', now);
      return false;
    }
    if (!webhook.enabled) {
      await this.store.settle(em, delivery, statusWhileDisabled(), null, now);
      return false;
    }
    return true;
  }

  /**
   * Claims deliveries for sending, with a lease, each only if it is still waiting for the
   * attempt the caller saw; answers the ids claimed (DeliveryStore.claim).
   */
  claim(em: EntityManager, targets: readonly ClaimTarget[], now: number): Promise<Set<string>> {
    return this.store.claim(em, targets, now + this.leaseMs, now);
  }

  /**
   * Sends once and records the outcome (the queued mode; the embedded worker records through
   * its own group commit, which also claims the next due deliveries). `release` frees the
   * webhook's concurrency slot as soon as the HTTP exchange ends. Returns the next attempt when
   * one is scheduled.
   */
  async attempt(delivery: DeliveryEntity, webhook: WebhookEntity, release: () => void): Promise<DueDelivery | null> {
    const outcome = await this.send(delivery, webhook, release);
    try {
      const next = await this.recorder.submit(outcome);
      await this.afterRecord(outcome);
      return next;
    } catch (error) {
      this.recordFailed(delivery, error);
      return null;
    }
  }

  /** The HTTP exchange of one attempt, outside any transaction; `release` is called as soon as it ends. */
  async send(delivery: DeliveryEntity, webhook: WebhookEntity, release: () => void): Promise<AttemptOutcome> {
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
    return { delivery, webhookId: webhook.id, outcome, startedAt };
  }

  /**
   * Once the transaction that recorded `outcome` has committed: reports a delivery that ended
   * failed or a webhook it disabled (DeliveryFailureFeed → WEBHOOK_DISABLED, DELIVERY_FAILED events). Never throws.
   */
  afterRecord(outcome: AttemptOutcome): Promise<void> {
    return this.failures.recorded(outcome);
  }

  /** An outcome that could not be recorded: the lease expires and the delivery is sent again (at-least-once; receivers dedupe on its id). */
  recordFailed(delivery: DeliveryEntity, error: unknown): void {
    this.logger.error(`Could not record attempt of delivery ${delivery.id}: ${(error as Error).message}`);
  }

  /**
   * Records a batch of outcomes in the caller's transaction: each webhook read once, the
   * attempts in one multi-row INSERT, the deliveries' new states in one UPDATE. Outcomes are
   * applied in the order they completed, so a webhook's health sees them as they happened (the
   * states decided before an outcome disables a webhook are written before it holds the
   * webhook's waiting deliveries). Answers, for each, the next attempt when one is scheduled.
   */
  async record(em: EntityManager, batch: readonly AttemptOutcome[]): Promise<(DueDelivery | null)[]> {
    const now = this.clock.now();
    const webhooks = await this.store.webhooks(em, [...new Set(batch.map((b) => b.webhookId))]);
    const finished: AttemptResult[] = [];
    const results: (DueDelivery | null)[] = [];
    for (const item of batch) {
      const { delivery, webhookId, outcome, startedAt } = item;
      const webhook = webhooks.get(webhookId) ?? null;
      const settings = webhook ? deliverySettingsOf(webhook) : null;
      const number = delivery.attemptCount + 1;
      const decision = settings ? this.policy.decide(outcome, number, settings) : { retry: false, delayMs: null, reason: 'webhook deleted' };

      const wasEnabled = webhook?.enabled === true;
      if (webhook) await this.updateHealth(em, webhook, outcome, now, finished);
      // Health first: a retry for a webhook this outcome has just disabled waits for `enable`.
      const status = statusAfterAttempt(outcome.kind === 'success', decision.retry, webhook);
      item.fate = attemptFate(status, wasEnabled, webhook);

      const attempt: NewAttempt = {
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
      };
      const nextAttemptAt = status === 'retrying' ? now + (decision.delayMs ?? 0) : null;
      finished.push({
        id: delivery.id,
        attempt,
        status,
        attemptCount: number,
        nextAttemptAt,
        lastStatusCode: outcome.statusCode,
        lastError: outcome.kind === 'success' ? null : (outcome.errorMessage ?? `HTTP ${outcome.statusCode}`),
      });
      results.push(nextAttemptAt === null ? null : { id: delivery.id, series: delivery.series, attempt: number + 1, dueAt: nextAttemptAt });
    }
    await this.store.finishAttempts(em, finished, now);
    return results;
  }

  /**
   * A success clears the failure streak; a failure starts one or, past HERALD_DISABLE_AFTER,
   * disables the webhook (`failing`); a 410 disables it at once (`gone`). Disabling holds the
   * webhook's pending and retrying deliveries until `enable`, after writing the states in
   * `finished` (decided earlier in the batch), which then leaves it empty. Keeps `webhook`
   * current, so the next outcome of the same batch sees what this one did.
   */
  private async updateHealth(em: EntityManager, webhook: WebhookEntity, outcome: SendOutcome, now: number, finished: AttemptResult[]): Promise<void> {
    if (outcome.kind === 'success') {
      if (webhook.failingSince !== null || webhook.lastSuccessAt === null || now - webhook.lastSuccessAt > 1000) {
        await this.store.recordSuccess(em, webhook.id, now);
        webhook.failingSince = null;
        webhook.lastSuccessAt = now;
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
      await this.store.finishAttempts(em, finished.splice(0), now);
      await this.store.disableWebhook(em, webhook.id, reason, failingSince, now);
      this.metrics.webhookDisabled(reason);
      this.logger.warn(`Webhook ${webhook.id} disabled (${reason}); its deliveries are held until it is enabled`);
    } else if (webhook.failingSince === null) {
      await this.store.startFailing(em, webhook.id, failingSince);
    }
    webhook.failingSince = failingSince;
  }

  /**
   * Makes deliveries whose lease expired due again (their attempt's outcome was never
   * recorded: the sender died or could not write). `all` reclaims every `sending` row, for a
   * process that knows it is the only worker (embedded mode, at start). Returns how many.
   */
  async reclaimLeases(all = false): Promise<number> {
    return this.tx.runHot((em) => this.store.reclaimLeases(em, this.clock.now(), all));
  }
}
