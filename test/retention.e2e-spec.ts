import { EventPruner } from '../src/events/event-pruner';
import { FakeClock, TestHerald, bearer } from './support/herald';
import { TestReceiver } from './support/receiver';

describe('event retention (e2e)', () => {
  it('prunes events older than HERALD_EVENT_RETENTION_DAYS, keeping those whose delivery is not final', async () => {
    const clock = new FakeClock();
    const herald = await TestHerald.start({ clock, env: { HERALD_EVENT_RETENTION_DAYS: '7', HERALD_ALLOWED_NETWORKS: '127.0.0.1/32' } });
    const receiver = await TestReceiver.start();
    try {
      const admin = bearer(herald.adminKey);
      // a webhook Herald disabled (410): its new matches are held, not final
      const team = await herald.team();
      const hook = await herald.fixtures.newWebhook(team, { name: 'gone', url: receiver.url() });
      receiver.respondWith({ status: 410 });
      await herald.fixtures.newAutomation(team, hook, { name: 'on-alert' });
      const alert = (id: string, level: string) => ({ id, type: 'ALERT', project: 'p', title: 't', level });
      await herald.http().post('/v1/events').set(admin).send([alert('first', 'ERROR')]).expect(200);
      await herald.settle();
      expect((await herald.http().get(`/v1/webhooks/${hook.id}`).set(admin)).body.disabledReason).toBe('gone');
      await herald.http().post('/v1/events').set(admin).send([alert('held', 'ERROR'), alert('plain', 'INFO')]).expect(200);
      await herald.settle();

      clock.advance(6 * 86_400_000);
      await herald.http().post('/v1/events').set(admin).send([alert('recent', 'INFO')]).expect(200);
      clock.advance(2 * 86_400_000);

      // first, plain, and the WEBHOOK_DISABLED and DELIVERY_FAILED events Herald emitted for the 410.
      expect(await herald.app.get(EventPruner).runOnce()).toBe(4);
      await herald.http().get('/v1/events/first').set(admin).expect(404); // its delivery failed: final
      await herald.http().get('/v1/events/plain').set(admin).expect(404);
      for (const type of ['WEBHOOK_DISABLED', 'DELIVERY_FAILED']) {
        expect((await herald.http().get(`/v1/events?type=${type}`).set(admin).expect(200)).body.items).toEqual([]);
      }
      await herald.http().get('/v1/events/held').set(admin).expect(200);
      await herald.http().get('/v1/events/recent').set(admin).expect(200);
    } finally {
      await receiver.close();
      await herald.destroy();
    }
  });
});
