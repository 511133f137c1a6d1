import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import type { AuthContext } from '../auth/auth-context';
import { Clock } from '../common/clock';
import { ApiError } from '../common/errors/api-error';
import { decodeTimeCursor, limitOf, type Page, timeSortKey, toPage } from '../common/pagination/pagination';
import { isoTime } from '../database/columns';
import { TransactionRunner } from '../database/transaction-runner';
import { HeraldConfig } from '../config/config';
import { maskedUrl, urlIsCredential } from '../webhooks/webhook-kinds';
import { WebhookEntity } from '../webhooks/webhook.entity';
import { describeDeliveryRequest } from './delivery-request';
import { isInFlight } from './delivery-lifecycle';
import { DeliveryStore } from './delivery-store';
import { DeliveryDispatcher } from './dispatcher';
import { DeliveryEntity } from './delivery.entity';
import type { DeliveryDetailDto, DeliveryDto, DeliveryListQueryDto } from './dto/delivery.dto';

/** Delivery history (newest first) and redelivery. */
@Injectable()
export class DeliveriesService {
  constructor(
    @InjectRepository(DeliveryEntity) private readonly deliveries: Repository<DeliveryEntity>,
    private readonly dispatcher: DeliveryDispatcher,
    private readonly store: DeliveryStore,
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    @InjectRepository(WebhookEntity) private readonly webhooks: Repository<WebhookEntity>,
    private readonly config: HeraldConfig,
  ) {}

  async list(auth: AuthContext, query: DeliveryListQueryDto): Promise<Page<DeliveryDto>> {
    const limit = limitOf(query);
    const qb = this.deliveries.createQueryBuilder('d').where('d.team_id = :teamId', { teamId: auth.teamId });
    if (query.automation) qb.andWhere('d.automation_id = :automation', { automation: query.automation });
    if (query.webhook) qb.andWhere('d.webhook_id = :webhook', { webhook: query.webhook });
    if (query.status) qb.andWhere('d.status = :status', { status: query.status });
    if (query.event) qb.andWhere('d.event_id = :event', { event: query.event });
    if (query.from) qb.andWhere('d.created_at >= :from', { from: Date.parse(query.from) });
    if (query.to) qb.andWhere('d.created_at < :to', { to: Date.parse(query.to) });
    const after = decodeTimeCursor(query.cursor);
    if (after) qb.andWhere('(d.created_at < :time OR (d.created_at = :time AND d.id < :id))', after);
    const rows = await qb.orderBy('d.created_at', 'DESC').addOrderBy('d.id', 'DESC').take(limit + 1).getMany();
    return toPage(rows, limit, (row) => timeSortKey(row.createdAt, row.id), toDto);
  }

  async get(auth: AuthContext, id: string): Promise<DeliveryDetailDto> {
    const row = await this.find(auth.teamId, id);
    const attempts = await this.store.attempts(this.deliveries.manager, row);
    const webhook = await this.webhooks.findOneBy({ teamId: auth.teamId, id: row.webhookId });
    let request: DeliveryDetailDto['request'] = null;
    if (webhook) {
      request = describeDeliveryRequest(webhook, row, this.config.version);
      if (auth.role !== 'admin' && urlIsCredential(webhook.kind)) request.url = maskedUrl(request.url);
    }
    return {
      ...toDto(row),
      request,
      body: row.body,
      attempts: attempts.map((a) => ({
        series: a.series,
        number: a.number,
        startedAt: isoTime(a.startedAt)!,
        durationMs: a.durationMs,
        statusCode: a.statusCode,
        responseExcerpt: a.responseExcerpt,
        errorClass: a.errorClass,
        errorMessage: a.errorMessage,
        willRetry: a.willRetry,
      })),
    };
  }

  /**
   * Sends the stored body again (current secret values, fresh signatures) as a new attempt
   * series of the same delivery id. 409 while it is being sent or awaiting a retry, or when
   * its webhook is gone, deleted or disabled.
   */
  async redeliver(auth: AuthContext, id: string): Promise<DeliveryDto> {
    const row = await this.tx.run(async (em) => {
      const delivery = await em.findOneBy(DeliveryEntity, { teamId: auth.teamId, id });
      if (!delivery) throw ApiError.notFound(`Delivery ${id}`);
      if (isInFlight(delivery.status)) {
        throw ApiError.conflict(`Delivery ${id} is ${delivery.status}: it will be sent without a redelivery`);
      }
      const webhook = await em.findOneBy(WebhookEntity, { teamId: auth.teamId, id: delivery.webhookId });
      if (!webhook) throw ApiError.conflict(`Delivery ${id} cannot be redelivered: its webhook was deleted`);
      if (!webhook.enabled) {
        throw ApiError.conflict(
          `Delivery ${id} cannot be redelivered: webhook ${webhook.name} is disabled (${webhook.disabledReason}); enable it first`,
        );
      }
      await this.store.startNewSeries(em, [delivery.id], this.clock.now());
      return (await em.findOneBy(DeliveryEntity, { id: delivery.id }))!;
    });
    this.dispatcher.dispatch([{ id: row.id, series: row.series, attempt: 1, dueAt: row.nextAttemptAt ?? this.clock.now() }]);
    return toDto(row);
  }

  private async find(teamId: string, id: string): Promise<DeliveryEntity> {
    const row = await this.deliveries.findOneBy({ teamId, id });
    if (!row) throw ApiError.notFound(`Delivery ${id}`);
    return row;
  }
}

function toDto(row: DeliveryEntity): DeliveryDto {
  return {
    id: row.id,
    status: row.status,
    automationId: row.automationId,
    automationName: row.automationName,
    webhookId: row.webhookId,
    eventId: row.eventId,
    eventType: row.eventType,
    series: row.series,
    attemptCount: row.attemptCount,
    nextAttemptAt: isoTime(row.nextAttemptAt),
    lastStatusCode: row.lastStatusCode,
    lastError: row.lastError,
    createdAt: isoTime(row.createdAt)!,
    updatedAt: isoTime(row.updatedAt)!,
  };
}
