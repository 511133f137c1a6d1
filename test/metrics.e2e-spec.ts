import { DataSource } from 'typeorm';
import { DeliveryEntity } from '../src/delivery/delivery.entity';
import { FakeClock, TestHerald, bearer } from './support/herald';

/** The value of one sample line of the exposition text, e.g. `herald_deliveries{status="held"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('GET /metrics (e2e)', () => {
  let herald: TestHerald;
  let admin: Record<string, string>;
  const clock = new FakeClock();

  beforeAll(async () => {
    herald = await TestHerald.start({ clock });
    admin = bearer(herald.adminKey);
  });
  afterAll(async () => {
    await herald.destroy();
  });

  const scrape = async () => {
    const res = await herald.http().get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain;/);
    expect(res.headers['content-type']).toContain('version=0.0.4');
    return res.text;
  };

  it('answers without an API key in the Prometheus text format, with Herald\'s metrics and the process metrics', async () => {
    const text = await scrape();
    for (const name of [
      'herald_events_ingested_total',
      'herald_matches_total',
      'herald_delivery_attempts_total',
      'herald_delivery_attempt_duration_seconds',
      'herald_webhooks_disabled_total',
      'herald_deliveries',
      'herald_delivery_queue_depth',
      'herald_delivery_oldest_pending_age_seconds',
      'herald_webhooks_disabled',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(text).toContain('# TYPE herald_process_cpu_user_seconds_total counter');
    expect(text).toContain('# TYPE herald_nodejs_heap_size_used_bytes gauge');
    expect(sample(text, 'herald_delivery_queue_depth')).toBe(0);
    expect(sample(text, 'herald_delivery_oldest_pending_age_seconds')).toBe(0);
    expect(sample(text, 'herald_deliveries{status="pending"}')).toBe(0);
  });

  it('ignores an API key and does not need one: a wrong key is not refused', async () => {
    await herald.http().get('/metrics').set(bearer('hrd_not_a_real_key')).expect(200);
  });

  it('counts deliveries and disabled webhooks from the database, with no team labels', async () => {
    const team = await herald.team();
    const hook = await herald.fixtures.newWebhook(team, { name: 'w', url: 'https://example.org/x' });
    await herald.fixtures.newAutomation(team, hook, { name: 'a', trigger: { event: 'ALERT', levels: ['INFO'] } });
    await herald.http().patch(`/v1/webhooks/${hook.id}`).set(admin).send({ enabled: false }).expect(200);

    const posted = await herald
      .http()
      .post('/v1/events')
      .set(admin)
      .send([
        { type: 'ALERT', project: 'p', title: 't', level: 'INFO' },
        { type: 'ALERT', project: 'p', title: 'not matching', level: 'ERROR' },
      ])
      .expect(200);
    // A match on a webhook its user disabled is recorded as a cancelled delivery, not sent.
    expect(posted.body.results).toHaveLength(2);
    await herald.settle();

    const text = await scrape();
    expect(sample(text, 'herald_deliveries{status="cancelled"}')).toBe(1);
    expect(sample(text, 'herald_deliveries{status="pending"}')).toBe(0);
    expect(sample(text, 'herald_deliveries{status="succeeded"}')).toBe(0);
    expect(sample(text, 'herald_webhooks_disabled{reason="user"}')).toBe(1);
    expect(sample(text, 'herald_webhooks_disabled{reason="gone"}')).toBe(0);
    expect(sample(text, 'herald_delivery_queue_depth')).toBe(0);
    expect(text).not.toMatch(/team/i);
    expect(text).not.toContain(hook.id);

    // Enabling the webhook again takes it out of the disabled count at the next scrape.
    await herald.http().post(`/v1/webhooks/${hook.id}/enable`).set(admin).expect(200);
    expect(sample(await scrape(), 'herald_webhooks_disabled{reason="user"}')).toBe(0);
  });

  it('reports the queue depth and the age of the oldest queued delivery on the server clock', async () => {
    // A retrying delivery due in an hour, for a webhook that does not exist: the worker leaves
    // it alone until then, and would fail it rather than send anything.
    const deliveries = herald.app.get(DataSource).getRepository(DeliveryEntity);
    const [existing] = await deliveries.find({ where: { status: 'cancelled' }, take: 1 });
    await deliveries.insert({
      ...existing,
      id: 'msg_metrics_queued',
      webhookId: 'wh_metrics_nowhere',
      status: 'retrying',
      createdAt: clock.now() - 90_000,
      updatedAt: clock.now(),
      nextAttemptAt: clock.now() + 3_600_000,
    });

    let text = await scrape();
    expect(sample(text, 'herald_delivery_queue_depth')).toBe(1);
    expect(sample(text, 'herald_deliveries{status="retrying"}')).toBe(1);
    expect(sample(text, 'herald_delivery_oldest_pending_age_seconds')).toBe(90);

    clock.advance(30_000);
    text = await scrape();
    expect(sample(text, 'herald_delivery_oldest_pending_age_seconds')).toBe(120);
  });
});
