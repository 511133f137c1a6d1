import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { readNumber } from '../database/columns';
import { Sql, readBool } from '../database/sql';
import type { DeliverySettings, DisabledReason, SignatureSchemeName, WebhookKind } from '../webhooks/webhook-kinds';
import type { WebhookEntity } from '../webhooks/webhook.entity';
import type { BodyForm, DeliveryStatus } from './delivery-status';
import type { DeliveryEntity } from './delivery.entity';

export interface NewAttempt {
  id: string;
  deliveryId: string;
  series: number;
  number: number;
  startedAt: number;
  durationMs: number;
  statusCode: number | null;
  responseExcerpt: string;
  errorClass: string | null;
  errorMessage: string | null;
  willRetry: boolean;
}

/** A delivery's state after an attempt. */
export interface AttemptResult {
  id: string;
  status: DeliveryStatus;
  attemptCount: number;
  nextAttemptAt: number | null;
  lastStatusCode: number | null;
  lastError: string | null;
}

const WEBHOOK_COLUMNS = `id, team_id, name, url, kind, access_token_secret, signing_secret, signature_schemes, payload_secrets, headers,
  delivery, enabled, disabled_reason, failing_since, last_success_at, created_at, updated_at`;

const DELIVERY_COLUMNS = `id, team_id, automation_id, automation_name, webhook_id, event_id, event_type, status, body, body_form,
  series, attempt_count, next_attempt_at, lease_until, last_status_code, last_error, created_at, updated_at`;

/**
 * The delivery worker's hot-path SQL (claims, leases, attempt records), each statement constant
 * text (see `Sql`). Rare paths (webhook disabling, redelivery, history) stay on repositories.
 */
@Injectable()
export class DeliveryStore {
  constructor(private readonly sql: Sql) {}

  /** Queued deliveries due at `now`, oldest due first. */
  async due(em: EntityManager, now: number, max: number): Promise<DeliveryEntity[]> {
    const rows = await this.sql.query(
      em,
      `SELECT ${DELIVERY_COLUMNS} FROM deliveries
       WHERE status IN ('pending', 'retrying') AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?`,
      [now, max],
    );
    return rows.map(deliveryOf);
  }

  /** When the next queued delivery is due; null when none is queued. */
  async nextDueAt(em: EntityManager): Promise<number | null> {
    const [row] = await this.sql.query<{ next_attempt_at: unknown }>(
      em,
      "SELECT next_attempt_at FROM deliveries WHERE status IN ('pending', 'retrying') ORDER BY next_attempt_at LIMIT 1",
    );
    return row ? readNumber(row.next_attempt_at) : null;
  }

  /** Marks these deliveries as being sent until `leaseUntil`. */
  async lease(em: EntityManager, ids: string[], leaseUntil: number, now: number): Promise<void> {
    if (ids.length === 0) return;
    await this.sql.query(em, `UPDATE deliveries SET status = 'sending', lease_until = ?, updated_at = ? WHERE ${this.sql.inList('id')}`, [
      leaseUntil,
      now,
      this.sql.list(ids),
    ]);
  }

  /** Pushes a due delivery back (its webhook's limits), without counting an attempt. */
  async postpone(em: EntityManager, id: string, nextAttemptAt: number): Promise<void> {
    await this.sql.query(em, 'UPDATE deliveries SET next_attempt_at = ? WHERE id = ?', [nextAttemptAt, id]);
  }

  /** Settles a delivery that will not be sent (its webhook was deleted or disabled). */
  async settle(em: EntityManager, id: string, status: DeliveryStatus, lastError: string | null, now: number): Promise<void> {
    await this.sql.query(
      em,
      'UPDATE deliveries SET status = ?, next_attempt_at = NULL, lease_until = NULL, last_error = COALESCE(?, last_error), updated_at = ? WHERE id = ?',
      [status, lastError, now, id],
    );
  }

  /** These webhooks, whole (the sender needs every field; the recorder their health). */
  async webhooks(em: EntityManager, ids: string[]): Promise<Map<string, WebhookEntity>> {
    const rows = await this.sql.query(em, `SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE ${this.sql.inList('id')}`, [this.sql.list(ids)]);
    return new Map(rows.map((row) => [row.id as string, webhookOf(row)]));
  }

  /** A success ends the webhook's failure streak. */
  async recordSuccess(em: EntityManager, webhookId: string, now: number): Promise<void> {
    await this.sql.query(em, 'UPDATE webhooks SET failing_since = NULL, last_success_at = ? WHERE id = ?', [now, webhookId]);
  }

  /** A failure starts the webhook's failure streak (when none is running). */
  async startFailing(em: EntityManager, webhookId: string, since: number): Promise<void> {
    await this.sql.query(em, 'UPDATE webhooks SET failing_since = ? WHERE id = ?', [since, webhookId]);
  }

  async insertAttempts(em: EntityManager, attempts: NewAttempt[]): Promise<void> {
    await this.sql.insertMany(
      em,
      `delivery_attempts (id, delivery_id, series, number, started_at, duration_ms, status_code, response_excerpt,
        error_class, error_message, will_retry)`,
      11,
      attempts,
      (a) => [a.id, a.deliveryId, a.series, a.number, a.startedAt, a.durationMs, a.statusCode, a.responseExcerpt, a.errorClass, a.errorMessage, a.willRetry],
    );
  }

  /** Records where an attempt left its delivery (the lease ends). */
  async finishAttempt(em: EntityManager, result: AttemptResult, now: number): Promise<void> {
    await this.sql.query(
      em,
      `UPDATE deliveries SET status = ?, attempt_count = ?, next_attempt_at = ?, lease_until = NULL, last_status_code = ?, last_error = ?,
        updated_at = ? WHERE id = ?`,
      [result.status, result.attemptCount, result.nextAttemptAt, result.lastStatusCode, result.lastError, now, result.id],
    );
  }
}

function deliveryOf(row: Record<string, unknown>): DeliveryEntity {
  return {
    id: row.id as string,
    teamId: row.team_id as string,
    automationId: row.automation_id as string | null,
    automationName: row.automation_name as string | null,
    webhookId: row.webhook_id as string,
    eventId: row.event_id as string | null,
    eventType: row.event_type as string,
    status: row.status as DeliveryStatus,
    body: row.body as string,
    bodyForm: row.body_form as BodyForm,
    series: Number(row.series),
    attemptCount: Number(row.attempt_count),
    nextAttemptAt: readNumber(row.next_attempt_at),
    leaseUntil: readNumber(row.lease_until),
    lastStatusCode: readNumber(row.last_status_code),
    lastError: row.last_error as string | null,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function webhookOf(row: Record<string, unknown>): WebhookEntity {
  return {
    id: row.id as string,
    teamId: row.team_id as string,
    name: row.name as string,
    url: row.url as string,
    kind: row.kind as WebhookKind,
    accessTokenSecret: row.access_token_secret as string | null,
    signingSecret: row.signing_secret as string | null,
    signatureSchemes: JSON.parse(row.signature_schemes as string) as SignatureSchemeName[],
    payloadSecrets: JSON.parse(row.payload_secrets as string) as string[],
    headers: JSON.parse(row.headers as string) as Record<string, string>,
    delivery: JSON.parse(row.delivery as string) as Partial<DeliverySettings>,
    enabled: readBool(row.enabled),
    disabledReason: row.disabled_reason as DisabledReason | null,
    failingSince: readNumber(row.failing_since),
    lastSuccessAt: readNumber(row.last_success_at),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}
