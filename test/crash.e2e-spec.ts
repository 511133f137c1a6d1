import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateApiKey } from '../src/auth/api-key-format';
import { TestReceiver } from './support/receiver';
import { ServerProcess } from './support/server-process';
import { waitFor } from './support/wait';

jest.setTimeout(300_000);

describe('crash safety: SIGKILL mid-delivery, restart on the same database (e2e)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-crash-'));
  let receiver: TestReceiver;
  let server: ServerProcess;
  afterAll(async () => {
    await ServerProcess.killAll();
    await receiver?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('delivers every delivery id at least once; duplicates only for attempts in flight at the kill', async () => {
    receiver = await TestReceiver.start();
    receiver.respondWith({ status: 200, body: 'ok', delayMs: 150 });
    const key = generateApiKey().key;
    const env = {
      HERALD_DATA_DIR: dataDir,
      HERALD_BOOTSTRAP_TOKEN: key,
      HERALD_ALLOWED_NETWORKS: '127.0.0.1/32',
      HERALD_LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
    };
    server = await ServerProcess.start(env);
    const api = (path: string, body: unknown) => server.api(key, 'POST', path, body);

    const hook = await api('/v1/webhooks', { name: 'slow', url: receiver.url('/slow'), kind: 'generic' });
    await api('/v1/automations', {
      name: 'every-alert',
      scope: { type: 'team' },
      trigger: { event: 'ALERT', levels: ['ERROR'] },
      action: { webhookId: hook.id, payload: { n: '${alert_title}' } },
    });
    const events = Array.from({ length: 200 }, (_, i) => ({ type: 'ALERT', project: 'p', level: 'ERROR', title: `e${i}` }));
    const posted = (await api('/v1/events', events)) as { results: { deliveries: string[] }[] };
    const ids = posted.results.flatMap((r) => r.deliveries);
    expect(new Set(ids).size).toBe(200);

    await receiver.waitForRequests(40, 60_000);
    await server.kill('SIGKILL');
    // Requests the server wrote before it died may be read by this process just after the
    // signal was sent: the cut is when its exit was seen, not when the signal left.
    const diedAt = Date.now();
    const arrivedBeforeKill = new Set(receiver.deliveryIds((r) => r.at <= diedAt));
    expect(arrivedBeforeKill.size).toBeLessThan(200);

    server = await ServerProcess.start({ ...env, PORT: String(server.port) });
    const seen = () => new Set(receiver.deliveryIds());
    await waitFor('every delivery id', () => seen().size >= 200, 120_000).catch((error: Error) => {
      throw new Error(`${error.message}: ${seen().size} of 200 arrived; server output:\n${server.output()}`);
    });
    expect(seen()).toEqual(new Set(ids));

    const counts = receiver.deliveryCounts();
    const duplicated = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
    // A duplicate is a delivery whose attempt reached the receiver before the kill but was
    // not recorded: its request arrived before the kill.
    for (const id of duplicated) expect(arrivedBeforeKill.has(id)).toBe(true);
    expect(Math.max(...counts.values())).toBeLessThanOrEqual(2);
  });
});
