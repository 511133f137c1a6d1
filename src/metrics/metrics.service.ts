import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import { Clock } from '../common/clock';
import { WAITING, sqlList } from '../delivery/delivery-lifecycle';
import { DELIVERY_STATUSES } from '../delivery/delivery-status';
import { DISABLED_REASONS, type DisabledReason } from '../webhooks/webhook-kinds';

export type AttemptOutcome = 'success' | 'retryable' | 'final';
const ATTEMPT_OUTCOMES: readonly AttemptOutcome[] = ['success', 'retryable', 'final'];

/** From a fast local receiver (5 ms) up to the 15 s total deadline of one attempt. */
const ATTEMPT_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15];

/** Deliveries waiting for a sender; the filter runs on the index deliveries(status, next_attempt_at). */
const WAITING_LIST = sqlList(WAITING);

/** PostgreSQL returns COUNT(*) and bigint columns as strings; SQLite as numbers. */
const toNumber = (value: string | number | null | undefined): number => (value === null || value === undefined ? 0 : Number(value));

/**
 * Herald's Prometheus metrics on a registry of its own (never prom-client's global one, so
 * two apps in one process, as in the tests, do not collide). Counters and the attempt
 * histogram are fed by the services that do the work; the gauges are read from the
 * database at scrape time. Everything is instance-wide: the endpoint is public, so no
 * team labels.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  private readonly eventsIngestedTotal = new Counter({
    name: 'herald_events_ingested_total',
    help: 'Events accepted by the ingestion API.',
    registers: [this.registry],
  });

  private readonly matchesTotal = new Counter({
    name: 'herald_matches_total',
    help: 'Automation matches (each makes one delivery).',
    registers: [this.registry],
  });

  private readonly attemptsTotal = new Counter<'outcome'>({
    name: 'herald_delivery_attempts_total',
    help: 'Delivery attempts by outcome: success (2xx), retryable, final.',
    labelNames: ['outcome'],
    registers: [this.registry],
  });

  private readonly attemptDuration = new Histogram({
    name: 'herald_delivery_attempt_duration_seconds',
    help: 'Duration of one delivery attempt (the HTTP exchange).',
    buckets: ATTEMPT_BUCKETS_SECONDS,
    registers: [this.registry],
  });

  private readonly webhooksDisabledTotal = new Counter<'reason'>({
    name: 'herald_webhooks_disabled_total',
    help: 'Webhooks disabled, by reason: gone (410), failing (no success for too long), user.',
    labelNames: ['reason'],
    registers: [this.registry],
  });

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {
    collectDefaultMetrics({ register: this.registry, prefix: 'herald_' });
    // Every label value starts at 0, so rate() and alerts see the series before the first event.
    for (const outcome of ATTEMPT_OUTCOMES) this.attemptsTotal.inc({ outcome }, 0);
    for (const reason of DISABLED_REASONS) this.webhooksDisabledTotal.inc({ reason }, 0);
    this.registerDatabaseGauges();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text; runs the database gauges' queries. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  // Metrics never break the work they describe: counts that cannot be counts are ignored.

  eventsIngested(count: number): void {
    if (count > 0) this.eventsIngestedTotal.inc(count);
  }

  matches(count: number): void {
    if (count > 0) this.matchesTotal.inc(count);
  }

  attempt(outcome: AttemptOutcome, durationMs: number): void {
    this.attemptsTotal.inc({ outcome });
    if (Number.isFinite(durationMs)) this.attemptDuration.observe(Math.max(0, durationMs) / 1000);
  }

  webhookDisabled(reason: DisabledReason): void {
    this.webhooksDisabledTotal.inc({ reason });
  }

  /**
   * Each collect() queries, then replaces the gauge's values in one synchronous step, so a
   * concurrent scrape never reads a half-filled gauge. A database error fails the scrape
   * (Prometheus marks the target down) rather than exporting stale or made-up zeros.
   */
  private registerDatabaseGauges(): void {
    const dataSource = this.dataSource;
    const clock = this.clock;

    new Gauge<'status'>({
      name: 'herald_deliveries',
      help: 'Deliveries by status.',
      labelNames: ['status'],
      registers: [this.registry],
      async collect() {
        const rows: { status: string; n: string | number }[] = await dataSource.query(
          'SELECT status, COUNT(*) AS n FROM deliveries GROUP BY status',
        );
        const counts = new Map<string, number>(DELIVERY_STATUSES.map((status) => [status, 0]));
        for (const row of rows) counts.set(row.status, toNumber(row.n));
        this.reset();
        for (const [status, n] of counts) this.set({ status }, n);
      },
    });

    new Gauge({
      name: 'herald_delivery_queue_depth',
      help: 'Deliveries waiting to be sent (pending or retrying).',
      registers: [this.registry],
      async collect() {
        const [row]: { n: string | number }[] = await dataSource.query(
          `SELECT COUNT(*) AS n FROM deliveries WHERE status IN ${WAITING_LIST}`,
        );
        this.set(toNumber(row?.n));
      },
    });

    new Gauge({
      name: 'herald_delivery_oldest_pending_age_seconds',
      help: 'Age of the oldest pending or retrying delivery; 0 when none.',
      registers: [this.registry],
      async collect() {
        const [row]: { oldest: string | number | null }[] = await dataSource.query(
          `SELECT MIN(created_at) AS oldest FROM deliveries WHERE status IN ${WAITING_LIST}`,
        );
        const oldest = row?.oldest;
        this.set(oldest === null || oldest === undefined ? 0 : Math.max(0, clock.now() - Number(oldest)) / 1000);
      },
    });

    new Gauge<'reason'>({
      name: 'herald_webhooks_disabled',
      help: 'Webhooks currently disabled, by reason.',
      labelNames: ['reason'],
      registers: [this.registry],
      async collect() {
        // FALSE: a boolean on PostgreSQL, 0 on SQLite (where TypeORM stores booleans as 0/1).
        const rows: { reason: string | null; n: string | number }[] = await dataSource.query(
          'SELECT disabled_reason AS reason, COUNT(*) AS n FROM webhooks WHERE enabled = FALSE GROUP BY disabled_reason',
        );
        const counts = new Map<string, number>(DISABLED_REASONS.map((reason) => [reason, 0]));
        for (const row of rows) {
          const reason = row.reason ?? 'unknown';
          counts.set(reason, (counts.get(reason) ?? 0) + toNumber(row.n));
        }
        this.reset();
        for (const [reason, n] of counts) this.set({ reason }, n);
      },
    });
  }
}
