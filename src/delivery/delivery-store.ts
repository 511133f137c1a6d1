import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { readNumber } from '../database/columns';
import { Sql, readBool } from '../database/sql';
import type { DeliverySettings, DisabledReason, SignatureSchemeName, WebhookKind } from '../webhooks/webhook-kinds';
import type { WebhookEntity } from '../webhooks/webhook.entity';
import { WAITING, sqlList } from './delivery-lifecycle';
import type { BodyForm, DeliveryStatus } from './delivery-status';
import type { DeliveryEntity } from './delivery.entity';
import type { DueDelivery } from './dispatcher';

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

/** A delivery's state after an attempt, and the attempt. */
export interface AttemptResult {
  id: string;
  attempt: NewAttempt;
  status: DeliveryStatus;
  attemptCount: number;
  nextAttemptAt: number | null;
  lastStatusCode: number | null;
  lastError: string | null;
}

/** Every column of `webhooks` / `deliveries`, as the row mappers below read them (a medium spec checks them against the entities). */
export const WEBHOOK_COLUMNS = `id, team_id, name, url, kind, access_token_secret, signing_secret, signature_schemes, payload_secrets, headers,
  delivery, enabled, disabled_reason, failing_since, last_success_at, created_at, updated_at`;

export const DELIVERY_COLUMNS = `id, team_id, automation_id, automation_name, webhook_id, event_id, event_type, status, body, body_form,
  series, attempt_count, next_attempt_at, lease_until, last_status_code, last_error, first_attempt, created_at, updated_at`;

/** Series 1's first attempt, as its delivery row keeps it (deliveries.first_attempt): the rest of a NewAttempt is implied. */
type StoredFirstAttempt = Omit<NewAttempt, 'deliveryId' | 'series' | 'number'>;

/** The one rule for where an attempt is stored: series 1's first in its delivery's row, every other in delivery_attempts. */
function isFirstAttempt(attempt: Pick<NewAttempt, 'series' | 'number'>): boolean {
  return attempt.series === 1 && attempt.number === 1;
}

function storedFirstAttempt(attempt: NewAttempt): string {
  const { deliveryId: _delivery, series: _series, number: _number, ...stored } = attempt;
  return JSON.stringify(stored satisfies StoredFirstAttempt);
}

/** `('pending', 'retrying')`: deliveries waiting for a sender (delivery-lifecycle.ts). */
const WAITING_LIST = sqlList(WAITING);

/** The attempt a claim expects a delivery to be due for (a stale job or a second worker finds it moved on). */
export interface ClaimTarget {
  id: string;
  series: number;
  /** Attempts made in the series so far (the claim is for attempt attemptCount + 1). */
  attemptCount: number;
}

/** Where a scan of the due deliveries stopped: its last row's due time and id. */
export interface DueCursor {
  at: number;
  id: string;
}

/** Before every row: the first page of a scan. */
const SCAN_START: DueCursor = { at: Number.MIN_SAFE_INTEGER, id: '' };

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
       WHERE status IN ${WAITING_LIST} AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?`,
      [now, max],
    );
    return rows.map(deliveryOf);
  }

  /**
   * The waiting deliveries due by `dueBy` that come after `after` in (due time, id) order, at
   * most `max`, as the attempts they wait for (the scaled sweep's scan). A keyset page: it
   * starts in idx_deliveries_waiting where the last one ended (due time ≥ the cursor's; equal
   * due times, common as a commit's deliveries share one, ordered by id), so a scan reads each
   * row once however many pages it takes, and nothing skipped is read and thrown away.
   */
  async dueAfter(em: EntityManager, dueBy: number, after: DueCursor | null, max: number): Promise<DueDelivery[]> {
    const from = after ?? SCAN_START;
    const rows = await this.sql.query<{ id: string; series: number; attempt_count: number; next_attempt_at: unknown }>(
      em,
      `SELECT id, series, attempt_count, next_attempt_at FROM deliveries
       WHERE status IN ${WAITING_LIST} AND next_attempt_at <= ? AND next_attempt_at >= ? AND (next_attempt_at > ? OR id > ?)
       ORDER BY next_attempt_at, id LIMIT ?`,
      [dueBy, from.at, from.at, from.id, max],
    );
    return rows.map((row) => ({ id: row.id, series: Number(row.series), attempt: Number(row.attempt_count) + 1, dueAt: readNumber(row.next_attempt_at)! }));
  }

  /** One delivery, whole (a queued job's row); null when it is gone. */
  async byId(em: EntityManager, id: string): Promise<DeliveryEntity | null> {
    const [row] = await this.sql.query(em, `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE id = ?`, [id]);
    return row ? deliveryOf(row) : null;
  }

  /** These deliveries, whole (queued jobs' rows, read together); those gone are missing from the map. */
  async byIds(em: EntityManager, ids: readonly string[]): Promise<Map<string, DeliveryEntity>> {
    const rows = await this.sql.query(em, `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE ${this.sql.inList('id')}`, [this.sql.list(ids)]);
    return new Map(rows.map((row) => [row.id as string, deliveryOf(row)]));
  }

  /** When the next queued delivery is due; null when none is queued. */
  async nextDueAt(em: EntityManager): Promise<number | null> {
    const [row] = await this.sql.query<{ next_attempt_at: unknown }>(
      em,
      `SELECT next_attempt_at FROM deliveries WHERE status IN ${WAITING_LIST} ORDER BY next_attempt_at LIMIT 1`,
    );
    return row ? readNumber(row.next_attempt_at) : null;
  }

  /**
   * Claims deliveries for sending until `leaseUntil`: each only while it is still waiting for
   * exactly the attempt the caller saw (same series and attempt count), so a stale job, or a
   * second worker that read the same row, claims nothing. Answers the ids claimed. Both the
   * embedded worker and the BullMQ worker claim through here.
   */
  async claim(em: EntityManager, targets: readonly ClaimTarget[], leaseUntil: number, now: number): Promise<Set<string>> {
    if (targets.length === 0) return new Set();
    const rows =
      this.sql.dialect === 'postgres'
        ? await this.sql.query<{ id: string }>(
            em,
            `UPDATE deliveries AS d SET status = 'sending', lease_until = ?, updated_at = ?
             FROM unnest(?::text[], ?::int[], ?::int[]) AS k(id, series, attempt_count)
             WHERE d.id = k.id AND d.series = k.series AND d.attempt_count = k.attempt_count AND d.status IN ${WAITING_LIST}
             RETURNING d.id`,
            [leaseUntil, now, targets.map((t) => t.id), targets.map((t) => t.series), targets.map((t) => t.attemptCount)],
          )
        : await this.sql.query<{ id: string }>(
            em,
            // The ids drive the search (primary key); each row's series and attempt count are
            // read from the same JSON object, keyed by id (parsed once: SQLite caches it).
            `UPDATE deliveries SET status = 'sending', lease_until = ?, updated_at = ?
             WHERE id IN (SELECT key FROM json_each(?)) AND status IN ${WAITING_LIST}
               AND series = json_extract(?, '$."' || id || '"[0]') AND attempt_count = json_extract(?, '$."' || id || '"[1]')
             RETURNING id`,
            [leaseUntil, now, ...thrice(JSON.stringify(Object.fromEntries(targets.map((t) => [t.id, [t.series, t.attemptCount]]))))],
          );
    return new Set(rows.map((r) => r.id));
  }

  /**
   * Pushes a due delivery back (its webhook's limits), without counting an attempt; like a
   * claim, only while it still waits for the attempt the caller saw.
   */
  async postpone(em: EntityManager, target: ClaimTarget, nextAttemptAt: number): Promise<void> {
    await this.sql.query(
      em,
      `UPDATE deliveries SET next_attempt_at = ? WHERE id = ? AND series = ? AND attempt_count = ? AND status IN ${WAITING_LIST}`,
      [nextAttemptAt, target.id, target.series, target.attemptCount],
    );
  }

  /**
   * Settles a delivery that will not be sent (its webhook was deleted or disabled); like a
   * claim, only while it still waits for the attempt the caller saw (a row sent or settled
   * meanwhile keeps its status).
   */
  async settle(em: EntityManager, target: ClaimTarget, status: DeliveryStatus, lastError: string | null, now: number): Promise<void> {
    await this.sql.query(
      em,
      `UPDATE deliveries SET status = ?, next_attempt_at = NULL, lease_until = NULL, last_error = COALESCE(?, last_error), updated_at = ?
       WHERE id = ? AND series = ? AND attempt_count = ? AND status IN ${WAITING_LIST}`,
      [status, lastError, now, target.id, target.series, target.attemptCount],
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

  /**
   * Makes deliveries whose lease expired due again (their outcome was never recorded: the
   * sender died or could not write); `all` takes every `sending` row, for a process that knows
   * it is the only sender (embedded mode, at start). Answers how many.
   */
  async reclaimLeases(em: EntityManager, now: number, all: boolean): Promise<number> {
    const rows = await this.sql.query<{ id: string }>(
      em,
      `UPDATE deliveries SET status = 'retrying', lease_until = NULL, next_attempt_at = ?
       WHERE status = 'sending' AND (? OR lease_until < ?) RETURNING id`,
      [now, all, now],
    );
    return rows.length;
  }

  /** Herald disabled the webhook (410, failure streak): it stops taking deliveries, its waiting ones are held. */
  async disableWebhook(em: EntityManager, webhookId: string, reason: DisabledReason, failingSince: number, now: number): Promise<void> {
    await this.sql.query(em, 'UPDATE webhooks SET enabled = ?, disabled_reason = ?, failing_since = ?, updated_at = ? WHERE id = ?', [
      false,
      reason,
      failingSince,
      now,
      webhookId,
    ]);
    await this.sql.query(em, `UPDATE deliveries SET status = 'held', next_attempt_at = NULL, updated_at = ? WHERE webhook_id = ? AND status IN ${WAITING_LIST}`, [
      now,
      webhookId,
    ]);
  }

  /** A person paused the webhook (PATCH `enabled: false`): its waiting deliveries are held until `enable`, as statusWhileDisabled says. */
  async holdWaiting(em: EntityManager, webhookId: string, now: number): Promise<void> {
    await this.sql.query(em, `UPDATE deliveries SET status = 'held', next_attempt_at = NULL, updated_at = ? WHERE webhook_id = ? AND status IN ${WAITING_LIST}`, [
      now,
      webhookId,
    ]);
  }

  /** The webhook was enabled: its held deliveries continue their attempt series, due now. */
  async releaseHeld(em: EntityManager, webhookId: string, now: number): Promise<void> {
    await this.sql.query(em, "UPDATE deliveries SET status = 'pending', next_attempt_at = ?, updated_at = ? WHERE webhook_id = ? AND status = 'held'", [
      now,
      now,
      webhookId,
    ]);
  }

  /**
   * The webhook's deliveries that ended `failed` at or after `since` and before `until`: a
   * failed delivery is final, so its updated_at is when it failed. Served by
   * idx_deliveries_webhook_failed (the literal status is that index's condition).
   */
  async failedDuring(em: EntityManager, webhookId: string, since: number, until = Number.MAX_SAFE_INTEGER): Promise<{ id: string; series: number }[]> {
    const rows = await this.sql.query<{ id: string; series: unknown }>(
      em,
      "SELECT id, series FROM deliveries WHERE webhook_id = ? AND status = 'failed' AND updated_at >= ? AND updated_at < ?",
      [webhookId, since, until],
    );
    return rows.map((r) => ({ id: r.id, series: Number(r.series) }));
  }

  /**
   * A new attempt series for each of these deliveries (a redelivery; `enable` re-queuing what
   * failed during a failure streak): the same id, `series` + 1, attempts counted from 1 again,
   * due now. The one place this rule is written.
   */
  async startNewSeries(em: EntityManager, ids: readonly string[], now: number): Promise<void> {
    if (ids.length === 0) return;
    await this.sql.query(
      em,
      `UPDATE deliveries SET status = 'pending', series = series + 1, attempt_count = 0, next_attempt_at = ?, lease_until = NULL,
        updated_at = ? WHERE ${this.sql.inList('id')}`,
      [now, now, this.sql.list(ids)],
    );
  }

  /**
   * Records attempts and where they left their deliveries (their leases end): one UPDATE for
   * the deliveries, which also carries series 1's first attempt into its delivery's row, and one
   * INSERT for the other attempts.
   */
  async finishAttempts(em: EntityManager, results: readonly AttemptResult[], now: number): Promise<void> {
    if (results.length === 0) return;
    const first = (r: AttemptResult) => (isFirstAttempt(r.attempt) ? storedFirstAttempt(r.attempt) : null);
    if (this.sql.dialect === 'postgres') {
      await this.sql.query(
        em,
        `UPDATE deliveries AS d SET status = k.status, attempt_count = k.attempt_count, next_attempt_at = k.next_attempt_at, lease_until = NULL,
          last_status_code = k.last_status_code, last_error = k.last_error, first_attempt = COALESCE(k.first_attempt, d.first_attempt), updated_at = ?
         FROM unnest(?::text[], ?::text[], ?::int[], ?::bigint[], ?::int[], ?::text[], ?::text[])
           AS k(id, status, attempt_count, next_attempt_at, last_status_code, last_error, first_attempt)
         WHERE d.id = k.id`,
        [
          now,
          results.map((r) => r.id),
          results.map((r) => r.status),
          results.map((r) => r.attemptCount),
          results.map((r) => r.nextAttemptAt),
          results.map((r) => r.lastStatusCode),
          results.map((r) => r.lastError),
          results.map(first),
        ],
      );
    } else {
      // One JSON array of [id, status, attempt count, next attempt, last status code, last error, first attempt] per delivery.
      await this.sql.query(
        em,
        `UPDATE deliveries SET status = k.value ->> 1, attempt_count = k.value ->> 2, next_attempt_at = k.value ->> 3, lease_until = NULL,
          last_status_code = k.value ->> 4, last_error = k.value ->> 5, first_attempt = COALESCE(k.value ->> 6, first_attempt), updated_at = ?
         FROM json_each(?) AS k WHERE deliveries.id = k.value ->> 0`,
        [now, JSON.stringify(results.map((r) => [r.id, r.status, r.attemptCount, r.nextAttemptAt, r.lastStatusCode, r.lastError, first(r)]))],
      );
    }
    const others = results.filter((r) => !isFirstAttempt(r.attempt)).map((r) => r.attempt);
    if (others.length > 0) await this.insertAttempts(em, others);
  }

  /** Every attempt of a delivery, oldest first: series 1's first from its row, the others from delivery_attempts. */
  async attempts(em: EntityManager, delivery: Pick<DeliveryEntity, 'id' | 'firstAttempt'>): Promise<NewAttempt[]> {
    const rows = await this.sql.query(
      em,
      `SELECT id, delivery_id, series, number, started_at, duration_ms, status_code, response_excerpt, error_class, error_message, will_retry
       FROM delivery_attempts WHERE delivery_id = ? ORDER BY series, number`,
      [delivery.id],
    );
    const attempts = rows.map(attemptOf);
    if (delivery.firstAttempt !== null) {
      const stored = JSON.parse(delivery.firstAttempt) as StoredFirstAttempt;
      attempts.unshift({ ...stored, deliveryId: delivery.id, series: 1, number: 1 });
    }
    return attempts;
  }
}

function thrice<T>(value: T): [T, T, T] {
  return [value, value, value];
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
    firstAttempt: row.first_attempt as string | null,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function attemptOf(row: Record<string, unknown>): NewAttempt {
  return {
    id: row.id as string,
    deliveryId: row.delivery_id as string,
    series: Number(row.series),
    number: Number(row.number),
    startedAt: Number(row.started_at),
    durationMs: Number(row.duration_ms),
    statusCode: readNumber(row.status_code),
    responseExcerpt: row.response_excerpt as string,
    errorClass: row.error_class as string | null,
    errorMessage: row.error_message as string | null,
    willRetry: readBool(row.will_retry),
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
