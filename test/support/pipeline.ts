import { type Body, type TeamFixture, alertEvent, uniqueName } from './fixtures';
import type { TestHerald } from './herald';
import type { ReceivedRequest, TestReceiver } from './receiver';
import { waitFor } from './wait';

/** A webhook on its own receiver path, fed by an automation on ERROR alerts of its own project. */
export interface AlertPipeline {
  /** The webhook's name, also its automation's and its project's. */
  name: string;
  webhookId: string;
  path: string;
  /** Posts `count` ERROR alerts to the pipeline's project (one batch); answers their delivery ids. */
  post(count?: number): Promise<string[]>;
  /** GET /v1/deliveries/:id, with its attempts. */
  delivery(id: string): Promise<any>;
  /** What the receiver got on the pipeline's path. */
  received(): ReceivedRequest[];
  /** Posts one alert and answers the request that delivered it. */
  deliverOne(): Promise<ReceivedRequest>;
}

/**
 * A webhook to `receiver` on a path of its own (`webhook` overrides its fields), an automation
 * firing on ERROR alerts of a project of its own with the payload `{"n": "${alert_title}"}`,
 * and helpers to post and look.
 */
export async function alertPipeline(herald: TestHerald, team: TeamFixture, receiver: TestReceiver, webhook: Body = {}): Promise<AlertPipeline> {
  const name = uniqueName('p');
  const path = `/${name}`;
  const { fixtures } = herald;
  const hook = await fixtures.newWebhook(team, { name, url: receiver.url(path), ...webhook });
  await fixtures.newAutomation(team, hook, { name, scope: { type: 'project', name }, action: { payload: { n: '${alert_title}' } } });
  const post = async (count = 1) => {
    const results = await fixtures.newEvents(team, Array.from({ length: count }, (_, i) => alertEvent({ project: name, title: `t${i}` })));
    return results.flatMap((r) => r.deliveries);
  };
  const delivery = (id: string) => herald.http().get(`/v1/deliveries/${id}`).set('Authorization', `Bearer ${team.adminKey}`).expect(200).then((r) => r.body);
  const received = () => receiver.requests.filter((r) => r.path === path);
  const deliverOne = async () => {
    const [id] = await post();
    return waitFor(`delivery ${id}`, () => received().find((r) => r.headers['webhook-id'] === id || r.headers['x-herald-delivery'] === id));
  };
  return { name, webhookId: hook.id, path, post, delivery, received, deliverOne };
}
