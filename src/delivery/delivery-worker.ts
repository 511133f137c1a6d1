import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { LessThanOrEqual, In, type EntityManager } from 'typeorm';
import { Clock } from '../common/clock';
import { newId } from '../common/ids';
import { TransactionRunner } from '../database/transaction-runner';
import { resolveDeferredSecrets } from '../rendering/payload-template';
import { WebhookEntity } from '../webhooks/webhook.entity';
import { DeliveryAttemptEntity } from './delivery-attempt.entity';
import { DeliverySender } from './delivery-sender';
import type { DeliveryStatus } from './delivery-status';
import { DeliveryEntity } from './delivery.entity';
import type { SendOutcome } from './http-executor';

/** Longer than the executor's 15 s deadline plus margin (DESIGN › Delivery, Leases). */
export const LEASE_MS = 60_000;
const CLAIM_BATCH = 16;

/**
 * The embedded delivery worker: woken right after each ingestion commit (no polling delay),
 * it claims due deliveries in a short transaction, sends them outside any transaction, and
 * records each attempt. Every `sending` row left by a previous process is reclaimed at start
 * (this process is the only worker in embedded mode).
 */
@Injectable()
export class DeliveryWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('DeliveryWorker');
  private draining: Promise<void> | null = null;
  private wakeRequested = false;
  private stopped = false;

  constructor(
    private readonly sender: DeliverySender,
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.tx.run((em) =>
      em.update(DeliveryEntity, { status: 'sending' }, { status: 'pending', leaseUntil: null, nextAttemptAt: this.clock.now() }),
    );
    this.wake();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.draining;
  }

  /** Asks for a pass over due deliveries; passes never overlap, a wake during one starts another. */
  wake(): void {
    if (this.stopped) return;
    if (this.draining) {
      this.wakeRequested = true;
      return;
    }
    this.draining = this.drain().finally(() => {
      this.draining = null;
    });
  }

  /** Resolves once no pass is running (tests and shutdown wait on it). */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    do {
      this.wakeRequested = false;
      for (;;) {
        if (this.stopped) return;
        const batch = await this.claim();
        if (batch.length === 0) break;
        await Promise.all(batch.map((delivery) => this.attempt(delivery)));
      }
    } while (this.wakeRequested && !this.stopped);
  }

  private claim(): Promise<DeliveryEntity[]> {
    return this.tx.run(async (em) => {
      const now = this.clock.now();
      const due = await em.find(DeliveryEntity, {
        where: { status: In(['pending', 'retrying']), nextAttemptAt: LessThanOrEqual(now) },
        order: { nextAttemptAt: 'ASC' },
        take: CLAIM_BATCH,
      });
      if (due.length === 0) return [];
      const ids = due.map((d) => d.id);
      await em.update(DeliveryEntity, { id: In(ids) }, { status: 'sending', leaseUntil: now + LEASE_MS, updatedAt: now });
      return due;
    });
  }

  private async attempt(delivery: DeliveryEntity): Promise<void> {
    const startedAt = this.clock.now();
    let outcome: SendOutcome;
    const webhook = await this.tx.run((em) => em.findOneBy(WebhookEntity, { id: delivery.webhookId, teamId: delivery.teamId }));
    if (!webhook) {
      outcome = {
        kind: 'final',
        statusCode: null,
        durationMs: 0,
        responseExcerpt: '',
        errorClass: 'webhook_deleted',
        errorMessage: `Webhook ${delivery.webhookId} no longer exists`,
        retryAfterMs: null,
        gone: false,
      };
    } else {
      const stored = delivery.body;
      outcome = await this.sender.send(webhook, {
        deliveryId: delivery.id,
        eventType: delivery.eventType,
        body: delivery.bodyForm === 'deferred' ? (secrets) => resolveDeferredSecrets(stored, secrets) : () => stored,
      });
    }
    try {
      await this.tx.run((em) => this.record(em, delivery, outcome, startedAt));
    } catch (error) {
      // The lease expires and the delivery is retried: at-least-once, receivers dedupe on its id.
      this.logger.error(`Could not record attempt of delivery ${delivery.id}: ${(error as Error).message}`);
    }
  }

  private async record(em: EntityManager, delivery: DeliveryEntity, outcome: SendOutcome, startedAt: number): Promise<void> {
    const now = this.clock.now();
    const number = delivery.attemptCount + 1;
    // Retries with backoff arrive with the durable delivery work; until then one attempt is final.
    const status: DeliveryStatus = outcome.kind === 'success' ? 'succeeded' : 'failed';
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
      willRetry: false,
    });
    await em.update(DeliveryEntity, { id: delivery.id }, {
      status,
      attemptCount: number,
      nextAttemptAt: null,
      leaseUntil: null,
      lastStatusCode: outcome.statusCode,
      lastError: outcome.errorMessage,
      updatedAt: now,
    });
    if (outcome.gone) {
      await em.update(WebhookEntity, { id: delivery.webhookId }, { enabled: false, disabledReason: 'gone', updatedAt: now });
    }
  }
}
