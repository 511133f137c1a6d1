import { OperationalEvents } from '../src/events/operational-events.service';
import type { TeamFixture } from './support/fixtures';
import { TestHerald, bearer } from './support/herald';
import { alertPipeline } from './support/pipeline';
import { TestReceiver } from './support/receiver';
import { waitFor } from './support/wait';

interface EventSummary {
  id: string;
  type: string;
  project: string;
  matched: number;
}

describe('operational events: WEBHOOK_DISABLED and DELIVERY_FAILED (e2e)', () => {
  let herald: TestHerald;
  let endpoint: TestReceiver;
  let alerts: TestReceiver;
  let admin: Record<string, string>;
  let alertsWebhook: string;
  let team: TeamFixture;

  beforeAll(async () => {
    herald = await TestHerald.start({ env: { HERALD_ALLOWED_NETWORKS: '127.0.0.1/32', HERALD_HTTP_DEADLINE_MS: '1000' } });
    endpoint = await TestReceiver.start();
    alerts = await TestReceiver.start();
    admin = bearer(herald.adminKey);
    team = await herald.team();
    // The admins' channel: a second receiver, one attempt per delivery.
    alertsWebhook = (
      await herald.http().post('/v1/webhooks').set(admin).send({ name: 'ops-channel', url: alerts.url('/ops'), kind: 'generic', delivery: { maxAttempts: 1 } }).expect(201)
    ).body.id;
    const payload = {
      text: 'Webhook ${webhook_name} (${webhook_id}) disabled: ${disabled_reason}, last ${status_code} ${error}, delivery ${delivery_id}, ${attempts} attempt(s), project ${project_name}',
    };
    await herald
      .http()
      .post('/v1/automations')
      .set(admin)
      .send({ name: 'ops-disabled', scope: { type: 'team' }, trigger: { event: 'WEBHOOK_DISABLED' }, action: { webhookId: alertsWebhook, payload } })
      .expect(201);
    await herald
      .http()
      .post('/v1/automations')
      .set(admin)
      .send({ name: 'ops-failed', scope: { type: 'team' }, trigger: { event: 'DELIVERY_FAILED' }, action: { webhookId: alertsWebhook, template: 'slack' } })
      .expect(201);
  });
  afterAll(async () => {
    await endpoint.close();
    await alerts.close();
    await herald.destroy();
  });

  const events = async (type: string): Promise<EventSummary[]> =>
    (await herald.http().get(`/v1/events?type=${type}&limit=200`).set(admin).expect(200)).body.items;

  /** A webhook to the failing endpoint, an automation on ERROR alerts of its own project; `post` answers the delivery id. */
  async function failingPipeline() {
    const p = await alertPipeline(herald, team, endpoint);
    return { ...p, post: async () => (await p.post())[0] };
  }

  it('a webhook driven to gone by a 410 emits WEBHOOK_DISABLED and DELIVERY_FAILED, whose automations deliver to a second receiver', async () => {
    endpoint.respondWith({ status: 410, body: 'gone' });
    const p = await failingPipeline();
    const deliveryId = await p.post();

    const disabled = await waitFor('WEBHOOK_DISABLED', async () => (await events('WEBHOOK_DISABLED'))[0]);
    expect(disabled).toMatchObject({ id: `herald:webhook-disabled:${p.webhookId}:${deliveryId}.1.1`, project: 'herald', matched: 1 });
    const failed = await waitFor('DELIVERY_FAILED', async () => (await events('DELIVERY_FAILED'))[0]);
    expect(failed).toMatchObject({ id: `herald:delivery-failed:${deliveryId}.1`, project: p.name, matched: 1 });

    const detail = (await herald.http().get(`/v1/events/${encodeURIComponent(disabled.id)}`).set(admin).expect(200)).body;
    expect(detail.event).toMatchObject({
      type: 'WEBHOOK_DISABLED',
      author: 'herald',
      webhook: { id: p.webhookId, name: p.name },
      reason: 'gone',
      statusCode: 410,
      error: 'HTTP 410',
      delivery: { id: deliveryId, series: 1, attempts: 1, automationName: p.name, eventType: 'ALERT' },
    });
    expect(detail.outcome.matched).toEqual([expect.objectContaining({ automationName: 'ops-disabled' })]);

    const [first, second] = await alerts.waitForRequests(2, 20_000, '/ops');
    const bodies = [first, second].map((r) => JSON.parse(r.body));
    const custom = bodies.find((b) => typeof b.text === 'string' && b.text.startsWith(`Webhook ${p.name}`));
    expect(custom.text).toBe(
      `Webhook ${p.name} (${p.webhookId}) disabled: gone, last 410 HTTP 410, delivery ${deliveryId}, 1 attempt(s), project herald`,
    );
    const slack = bodies.find((b) => Array.isArray(b.blocks));
    expect(slack.text).toMatch(new RegExp(`^Delivery to webhook ${p.name} failed after 1 attempt`));
    expect(JSON.stringify(slack.blocks)).toContain(deliveryId);
    for (const request of [first, second]) expect(request.headers['x-herald-event']).toMatch(/^(WEBHOOK_DISABLED|DELIVERY_FAILED)$/);
  });

  it('a failing operational delivery emits nothing further (no loops), even when it disables its webhook', async () => {
    await herald.settle();
    const before = { disabled: (await events('WEBHOOK_DISABLED')).length, failed: (await events('DELIVERY_FAILED')).length };
    alerts.respondWith({ status: 410, body: 'channel gone' });
    endpoint.respondWith({ status: 400, body: 'bad' });
    const p = await failingPipeline();
    const deliveryId = await p.post();
    await waitFor('the failure event', async () => (await events('DELIVERY_FAILED')).length === before.failed + 1);

    // Its delivery to the ops channel fails (410) and disables that webhook: neither emits an event.
    await waitFor('ops channel gone', async () => (await herald.http().get(`/v1/webhooks/${alertsWebhook}`).set(admin)).body.disabledReason === 'gone');
    const ops = (await herald.http().get(`/v1/deliveries?webhook=${alertsWebhook}&limit=200`).set(admin).expect(200)).body.items;
    expect(ops.filter((d: { status: string }) => d.status === 'failed')).toHaveLength(1);
    await herald.settle();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await herald.settle();
    const after = { disabled: await events('WEBHOOK_DISABLED'), failed: await events('DELIVERY_FAILED') };
    expect(after.disabled).toHaveLength(before.disabled);
    expect(after.failed).toHaveLength(before.failed + 1);
    expect(after.failed[0].id).toBe(`herald:delivery-failed:${deliveryId}.1`);
    expect((await herald.http().get(`/v1/webhooks/${p.webhookId}`).set(admin)).body.enabled).toBe(true);
  });

  it('emitting the same failure twice stores one event (deterministic ids)', async () => {
    const count = (await events('DELIVERY_FAILED')).length;
    const [latest] = await events('DELIVERY_FAILED');
    const detail = (await herald.http().get(`/v1/events/${encodeURIComponent(latest.id)}`).set(admin).expect(200)).body.event;
    const emitter = herald.app.get(OperationalEvents);
    const failure = {
      teamId: team.id,
      webhook: detail.webhook,
      delivery: { id: detail.delivery.id, series: detail.delivery.series, automationId: null, automationName: null, eventId: null, eventType: 'ALERT' },
      attempts: detail.delivery.attempts,
      statusCode: 400,
      error: 'HTTP 400',
      failed: true,
      disabled: null,
    };
    await emitter.emit(failure);
    await emitter.emit(failure);
    expect(await events('DELIVERY_FAILED')).toHaveLength(count);
  });

  it('only Herald posts them, only team-scoped automations take them, and previews explain them', async () => {
    const posted = await herald
      .http()
      .post('/v1/events')
      .set(admin)
      .send({ type: 'WEBHOOK_DISABLED', project: 'herald', webhook: { id: 'wh_x', name: 'x' }, reason: 'gone' })
      .expect(400);
    expect(posted.body.details).toEqual([{ field: 'type', reason: expect.stringMatching(/Herald emits WEBHOOK_DISABLED itself/) }]);
    const spoof = await herald.http().post('/v1/events').set(admin).send({ id: 'herald:delivery-failed:msg_x.1', type: 'ALERT', project: 'p', title: 't', level: 'INFO' }).expect(400);
    expect(spoof.body.details).toEqual([{ field: 'id', reason: expect.stringMatching(/must not start with herald:/) }]);

    const scoped = await herald
      .http()
      .post('/v1/automations')
      .set(admin)
      .send({ name: 'ops-project', scope: { type: 'project', name: 'p' }, trigger: { event: 'DELIVERY_FAILED' }, action: { webhookId: alertsWebhook } })
      .expect(400);
    expect(scoped.body.details).toEqual([{ field: 'scope.type', reason: expect.stringMatching(/^must be team for DELIVERY_FAILED/) }]);

    const preview = await herald
      .http()
      .post('/v1/automations/preview')
      .set(admin)
      .send({
        automation: { name: 'ops-preview', scope: { type: 'team' }, trigger: { event: 'WEBHOOK_DISABLED' }, action: { webhookId: alertsWebhook, payload: { w: '${webhook_name}', r: '${disabled_reason}' } } },
        event: { type: 'WEBHOOK_DISABLED', project: 'herald', webhook: { id: 'wh_x', name: 'billing' }, reason: 'failing' },
      })
      .expect(200);
    expect(preview.body).toMatchObject({ wouldFire: true, body: { w: 'billing', r: 'failing' } });

    const variables = await herald.http().get('/v1/automations/variables?trigger=DELIVERY_FAILED').set(admin).expect(200);
    const applying = variables.body.items.filter((v: { applies: boolean }) => v.applies).map((v: { name: string }) => v.name);
    expect(applying).toEqual(expect.arrayContaining(['webhook_name', 'webhook_id', 'delivery_id', 'error', 'status_code']));
  });
});
