import { register as globalRegistry } from 'prom-client';
import type { DataSource } from 'typeorm';
import { Clock } from '../common/clock';
import { MetricsService } from './metrics.service';

const NOW = Date.parse('2026-11-22T08:00:00Z');

class FixedClock extends Clock {
  override now(): number {
    return NOW;
  }
}

/** What the fake database answers for each of the scrape-time queries. */
interface FakeTables {
  byStatus: { status: string; n: string | number }[];
  queued: { n: string | number }[];
  oldest: { oldest: string | number | null }[];
  disabled: { reason: string | null; n: string | number }[];
}

function fakeDataSource(tables: FakeTables): DataSource {
  const query = async (sql: string) => {
    if (/FROM webhooks/.test(sql)) return tables.disabled;
    if (/GROUP BY status/.test(sql)) return tables.byStatus;
    if (/MIN\(created_at\)/.test(sql)) return tables.oldest;
    if (/COUNT\(\*\)/.test(sql)) return tables.queued;
    throw new Error(`unexpected query: ${sql}`);
  };
  return { query } as unknown as DataSource;
}

const emptyTables = (): FakeTables => ({ byStatus: [], queued: [{ n: 0 }], oldest: [{ oldest: null }], disabled: [] });

/** The sample lines of one metric family (`name` and `name_bucket`, `name_sum`, …), comments dropped. */
async function samples(service: MetricsService, name: string): Promise<string[]> {
  const text = await service.registry.getSingleMetricAsString(name);
  return text.split('\n').filter((line) => !line.startsWith('#'));
}

/** The value of one sample line, e.g. `herald_deliveries{status="held"}`. */
async function sample(service: MetricsService, name: string, series: string): Promise<number> {
  const line = (await samples(service, name)).find((l) => l.startsWith(`${series} `));
  if (!line) throw new Error(`no sample ${series} in ${name}`);
  return Number(line.slice(series.length + 1));
}

describe('MetricsService', () => {
  const newService = (tables: FakeTables = emptyTables()) => new MetricsService(fakeDataSource(tables), new FixedClock());

  describe('counters', () => {
    it('adds ingested events and matches by the count given', async () => {
      const metrics = newService();
      metrics.eventsIngested(3);
      metrics.eventsIngested(2);
      metrics.matches(4);
      expect(await samples(metrics, 'herald_events_ingested_total')).toEqual(['herald_events_ingested_total 5']);
      expect(await samples(metrics, 'herald_matches_total')).toEqual(['herald_matches_total 4']);
    });

    it('ignores counts that are zero, negative or not numbers instead of throwing into the caller', async () => {
      const metrics = newService();
      metrics.eventsIngested(2);
      expect(() => metrics.eventsIngested(0)).not.toThrow();
      expect(() => metrics.eventsIngested(-1)).not.toThrow();
      expect(() => metrics.matches(Number.NaN)).not.toThrow();
      expect(await sample(metrics, 'herald_events_ingested_total', 'herald_events_ingested_total')).toBe(2);
      expect(await sample(metrics, 'herald_matches_total', 'herald_matches_total')).toBe(0);
    });

    it('counts attempts per outcome, every outcome present from the start', async () => {
      const metrics = newService();
      expect(await samples(metrics, 'herald_delivery_attempts_total')).toEqual([
        'herald_delivery_attempts_total{outcome="success"} 0',
        'herald_delivery_attempts_total{outcome="retryable"} 0',
        'herald_delivery_attempts_total{outcome="final"} 0',
      ]);
      metrics.attempt('success', 12);
      metrics.attempt('success', 30);
      metrics.attempt('retryable', 15_000);
      expect(await sample(metrics, 'herald_delivery_attempts_total', 'herald_delivery_attempts_total{outcome="success"}')).toBe(2);
      expect(await sample(metrics, 'herald_delivery_attempts_total', 'herald_delivery_attempts_total{outcome="retryable"}')).toBe(1);
      expect(await sample(metrics, 'herald_delivery_attempts_total', 'herald_delivery_attempts_total{outcome="final"}')).toBe(0);
    });

    it('counts disabled webhooks per reason', async () => {
      const metrics = newService();
      metrics.webhookDisabled('gone');
      metrics.webhookDisabled('failing');
      metrics.webhookDisabled('gone');
      const name = 'herald_webhooks_disabled_total';
      expect(await sample(metrics, name, `${name}{reason="gone"}`)).toBe(2);
      expect(await sample(metrics, name, `${name}{reason="failing"}`)).toBe(1);
      expect(await sample(metrics, name, `${name}{reason="user"}`)).toBe(0);
    });
  });

  describe('attempt duration histogram', () => {
    const name = 'herald_delivery_attempt_duration_seconds';

    it('observes milliseconds as seconds in buckets from 5 ms to the 15 s deadline', async () => {
      const metrics = newService();
      metrics.attempt('success', 3);
      metrics.attempt('success', 120);
      metrics.attempt('final', 900);
      metrics.attempt('retryable', 15_000);
      metrics.attempt('retryable', 20_000);
      const bucket = (le: string) => sample(metrics, name, `${name}_bucket{le="${le}"}`);
      expect(await bucket('0.005')).toBe(1);
      expect(await bucket('0.1')).toBe(1);
      expect(await bucket('0.25')).toBe(2);
      expect(await bucket('1')).toBe(3);
      expect(await bucket('10')).toBe(3);
      expect(await bucket('15')).toBe(4);
      expect(await bucket('+Inf')).toBe(5);
      expect(await sample(metrics, name, `${name}_count`)).toBe(5);
      expect(await sample(metrics, name, `${name}_sum`)).toBeCloseTo(36.023, 9);
    });

    it('counts an attempt with a duration that is not a number without observing it; a negative one is 0', async () => {
      const metrics = newService();
      metrics.attempt('final', Number.NaN);
      metrics.attempt('final', -5);
      expect(await sample(metrics, 'herald_delivery_attempts_total', 'herald_delivery_attempts_total{outcome="final"}')).toBe(2);
      expect(await sample(metrics, name, `${name}_count`)).toBe(1);
      expect(await sample(metrics, name, `${name}_bucket{le="0.005"}`)).toBe(1);
      expect(await sample(metrics, name, `${name}_sum`)).toBe(0);
    });
  });

  describe('gauges read from the database at scrape time', () => {
    it('reports every delivery status, 0 for the absent ones, PostgreSQL string counts as numbers', async () => {
      const metrics = newService({
        ...emptyTables(),
        byStatus: [
          { status: 'succeeded', n: '1234' },
          { status: 'retrying', n: 2 },
          { status: 'cancelled', n: '1' },
        ],
      });
      await metrics.scrape();
      expect(await samples(metrics, 'herald_deliveries')).toEqual([
        'herald_deliveries{status="pending"} 0',
        'herald_deliveries{status="sending"} 0',
        'herald_deliveries{status="succeeded"} 1234',
        'herald_deliveries{status="retrying"} 2',
        'herald_deliveries{status="failed"} 0',
        'herald_deliveries{status="held"} 0',
        'herald_deliveries{status="cancelled"} 1',
      ]);
    });

    it('reflects the database as it is at each scrape, not what earlier scrapes saw', async () => {
      const tables = { ...emptyTables(), byStatus: [{ status: 'pending', n: 3 }] };
      const metrics = newService(tables);
      expect(await metrics.scrape()).toContain('herald_deliveries{status="pending"} 3');
      tables.byStatus = [{ status: 'succeeded', n: 3 }];
      const text = await metrics.scrape();
      expect(text).toContain('herald_deliveries{status="pending"} 0');
      expect(text).toContain('herald_deliveries{status="succeeded"} 3');
    });

    it('reports the queue depth and the oldest queued delivery\'s age from the clock, a bigint string on PostgreSQL', async () => {
      const metrics = newService({ ...emptyTables(), queued: [{ n: '7' }], oldest: [{ oldest: String(NOW - 90_500) }] });
      const text = await metrics.scrape();
      expect(text).toContain('\nherald_delivery_queue_depth 7\n');
      expect(text).toContain('\nherald_delivery_oldest_pending_age_seconds 90.5\n');
    });

    it('reports age 0 when nothing is queued, and never a negative age', async () => {
      const idle = newService();
      expect(await idle.scrape()).toContain('\nherald_delivery_oldest_pending_age_seconds 0\n');
      const ahead = newService({ ...emptyTables(), queued: [{ n: 1 }], oldest: [{ oldest: NOW + 5_000 }] });
      expect(await ahead.scrape()).toContain('\nherald_delivery_oldest_pending_age_seconds 0\n');
    });

    it('reports disabled webhooks per reason, 0 for the absent ones', async () => {
      const metrics = newService({ ...emptyTables(), disabled: [{ reason: 'user', n: '2' }, { reason: 'gone', n: 1 }] });
      await metrics.scrape();
      expect(await samples(metrics, 'herald_webhooks_disabled')).toEqual([
        'herald_webhooks_disabled{reason="user"} 2',
        'herald_webhooks_disabled{reason="gone"} 1',
        'herald_webhooks_disabled{reason="failing"} 0',
      ]);
    });

    it('fails the scrape when the database does not answer', async () => {
      const broken = { query: async () => Promise.reject(new Error('database is locked')) } as unknown as DataSource;
      await expect(new MetricsService(broken, new FixedClock()).scrape()).rejects.toThrow('database is locked');
    });
  });

  describe('registry', () => {
    it('includes the process metrics with the herald_ prefix', async () => {
      const text = await newService().scrape();
      expect(text).toContain('# TYPE herald_process_cpu_user_seconds_total counter');
      expect(text).toContain('# TYPE herald_nodejs_heap_size_used_bytes gauge');
      expect(text).toMatch(/^herald_process_start_time_seconds \d+/m);
    });

    it('is private to each service: two instances do not collide, and the global registry stays empty', async () => {
      const a = newService();
      const b = newService();
      a.matches(5);
      expect(await sample(b, 'herald_matches_total', 'herald_matches_total')).toBe(0);
      expect(await globalRegistry.metrics()).not.toContain('herald_');
      expect(a.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    });
  });
});
