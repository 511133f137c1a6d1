import type { Locator, Page } from 'playwright-core';
import { ConsoleBrowser, DESKTOP, HORIZONTAL_OVERFLOW, NARROW, UNLABELLED_CONTROLS } from './support/browser';
import { TestHerald, bearer } from './support/herald';
import { TestReceiver } from './support/receiver';
import { determinedDelivery, determinedExperimentEvent } from './support/senders';
import { waitFor } from './support/wait';

/**
 * The web console in a real browser (Debian's Chromium, headless) against the real app on
 * 127.0.0.1, delivering to a real receiver on 127.0.0.1. The tests in "an admin's day" run
 * in order on one page, as a person would: each starts where the previous one left off.
 */
jest.setTimeout(30_000);

const RECEIVER_TOKEN = 'rcv-token-6f1d2c9a8b7e4d30';
const ROTATED_TOKEN = 'rcv-token-rotated-19c4e7a2d0';
const AUTOMATION = 'notify-failed-runs';
const WEBHOOK = 'local receiver';

/**
 * Browser-side expression: the visible list cells with text whose box is narrower than about
 * 10 characters of their font (0.6 em a character), as "column: text" lines.
 */
const SQUEEZED_CELLS = `[...document.querySelectorAll('main tbody td, main tbody th')]
  .filter((cell) => cell.getClientRects().length > 0 && cell.textContent.trim().length > 0 && !cell.hasAttribute('colspan'))
  .filter((cell) => cell.getBoundingClientRect().width < 10 * 0.6 * parseFloat(getComputedStyle(cell).fontSize))
  .map((cell) => (cell.dataset.label || cell.tagName) + ': ' + cell.textContent.trim().slice(0, 30))`;

describe('web console (e2e, Chromium)', () => {
  let herald: TestHerald;
  let receiver: TestReceiver;
  let browser: ConsoleBrowser;
  let page: Page;
  let admin: Record<string, string>;

  beforeAll(async () => {
    herald = await TestHerald.start({ env: { HERALD_ALLOWED_NETWORKS: '127.0.0.1/32,::1/128' } });
    receiver = await TestReceiver.start();
    admin = bearer(herald.adminKey);
    browser = await ConsoleBrowser.launch(herald.url);
    page = await browser.newPage(DESKTOP);
    page.setDefaultTimeout(10_000);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await receiver?.close();
    await herald?.destroy();
  });

  /** Waits until an element of `locator` shows `text`, and returns that element. */
  async function shows(locator: Locator, text: string | RegExp): Promise<Locator> {
    const match = locator.filter({ hasText: text }).first();
    await match.waitFor({ state: 'visible' });
    return match;
  }

  /** Follows a link in the top navigation and waits for the page's heading. */
  async function openPage(name: string): Promise<void> {
    await page.getByRole('navigation', { name: 'Console sections' }).getByRole('link', { name, exact: true }).click();
    await shows(page.locator('h1'), name);
  }

  /** Evaluates a browser-side expression (the test itself is compiled without DOM types). */
  const inPage = <T>(target: Page, expression: string) => target.evaluate<T>(expression);
  // Polled from the test side: Playwright's waitForFunction re-evaluates its predicate with eval
  // inside the page, which the console's CSP (script-src 'self') rightly refuses.
  const headingFocused = (text: string) =>
    waitFor(`focus on the "${text}" heading`, () =>
      inPage<boolean>(page, `document.activeElement.tagName === 'H1' && document.activeElement.textContent === ${JSON.stringify(text)}`),
    );

  describe('serving /console', () => {
    it('redirects /console to /console/ and serves the page without a key, under a strict policy', async () => {
      await herald.http().get('/console?x=1').expect(308).expect('Location', '/console/?x=1');
      const res = await herald.http().get('/console/').expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.text).toContain('<script type="module" src="js/main.js"></script>');
      const csp = res.headers['content-security-policy'];
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("connect-src 'self'");
      expect(csp).toContain("form-action 'none'");
      expect(res.headers).toMatchObject({ 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'cache-control': 'no-cache' });
      const again = await herald.http().get('/console/').set('If-None-Match', res.headers.etag).expect(304);
      expect(again.text ?? '').toBe('');
    });

    it('serves every asset the page links with its type, and nothing else', async () => {
      const index = (await herald.http().get('/console/').expect(200)).text;
      const linked = [...index.matchAll(/(?:src|href)="([^"#]+)"/g)].map((m) => m[1]);
      expect(linked).toEqual(expect.arrayContaining(['js/main.js', 'styles.css', 'favicon.svg']));
      for (const asset of linked) {
        const res = await herald.http().get(`/console/${asset}`).expect(200);
        const expected = asset.endsWith('.js') ? /^text\/javascript/ : asset.endsWith('.css') ? /^text\/css/ : /^image\/svg\+xml/;
        expect(res.headers['content-type']).toMatch(expected);
      }
      await herald.http().get('/console/js/pages/automations.js').expect(200).expect('Content-Type', /javascript/);
      for (const path of ['/console/nope.js', '/console/tsconfig.json', '/console/%2e%2e/package.json', '/console/js%2f..%2f..%2fpackage.json', '/console/.hidden.js']) {
        const res = await herald.http().get(path).expect(404);
        expect(res.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'Console file not found' });
      }
    });

    it('opens no API route: /v1 still needs a key, and the console is not in the OpenAPI document', async () => {
      await herald.http().get('/v1/webhooks').expect(401);
      const docs = await herald.http().get('/docs/json').expect(200);
      expect(Object.keys(docs.body.paths).filter((p) => p.startsWith('/console'))).toEqual([]);
    });
  });

  describe("an admin's day", () => {
    let eventId: string;
    let deliveryId: string;

    it('refuses an unknown key next to the key field, then signs in with the keyboard alone', async () => {
      await page.goto('/console');
      expect(page.url()).toBe(`${herald.url}/console/`);
      const key = page.getByLabel('API key');
      await key.fill(`hrd_${'x'.repeat(40)}`);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await shows(page.locator('[data-field="apiKey"] .field-error'), 'Unknown or revoked API key');
      expect(await key.getAttribute('aria-invalid')).toBe('true');
      const described = (await key.getAttribute('aria-describedby'))!.split(' ');
      expect(await page.locator(`#${described[described.length - 1]}`).textContent()).toContain('Unknown or revoked');

      // The field keeps focus after the error: select all, type, Enter.
      await page.keyboard.press('Control+A');
      await page.keyboard.type(herald.adminKey);
      await page.keyboard.press('Enter');
      await shows(page.locator('#session-role'), 'Signed in · admin');
      await shows(page.locator('h1'), 'Webhooks');

      expect(await inPage(page, 'localStorage.length')).toBe(0);
      expect(await inPage(page, 'JSON.stringify(sessionStorage)')).toContain(herald.adminKey);
      expect(page.url()).not.toContain(herald.adminKey);
      await browser.screenshot(page, 'webhooks-empty');
    });

    it('creates a secret: a bad name is shown next to the name, the value is never displayed', async () => {
      await openPage('Secrets');
      await page.getByRole('button', { name: 'New secret' }).click();
      const form = page.locator('section.panel form');
      await form.getByLabel('Name', { exact: true }).fill('receiver token');
      await form.getByLabel('Value', { exact: true }).fill(RECEIVER_TOKEN);
      await form.getByRole('button', { name: 'Create secret' }).click();
      await shows(form.locator('[data-field="name"] .field-error'), /must match/);
      expect(await form.locator('[data-field="value"] .field-error').isVisible()).toBe(false);

      await form.getByLabel('Name', { exact: true }).fill('RECEIVER_TOKEN');
      await form.getByRole('button', { name: 'Create secret' }).click();
      await shows(page.getByRole('status'), 'Secret RECEIVER_TOKEN created.');
      await shows(page.locator('tr[data-secret="RECEIVER_TOKEN"]'), 'Not used');
      expect(await form.isVisible()).toBe(false);

      const stored = await herald.http().get('/v1/secrets').set(admin).expect(200);
      expect(stored.body.items.map((s: { name: string }) => s.name)).toEqual(['RECEIVER_TOKEN']);
      expect(await page.locator('body').innerText()).not.toContain(RECEIVER_TOKEN);
      expect(await page.locator('input[type="password"]').evaluateAll((inputs) => inputs.map((i) => (i as unknown as { value: string }).value))).not.toContain(RECEIVER_TOKEN);
      await browser.screenshot(page, 'secrets');
    });

    it('creates a webhook to the local receiver: a bad URL is shown next to the URL', async () => {
      await openPage('Webhooks');
      await page.getByRole('button', { name: 'New webhook' }).click();
      const form = page.locator('section.panel form');
      await form.getByLabel('Name', { exact: true }).fill(WEBHOOK);
      await form.getByLabel('Kind', { exact: true }).selectOption('generic');
      await form.getByLabel('URL', { exact: true }).fill('ftp://127.0.0.1/hook');
      await form.getByLabel('Access token secret').selectOption('RECEIVER_TOKEN');
      await form.getByRole('button', { name: 'Create webhook' }).click();
      await shows(form.locator('[data-field="url"] .field-error'), /http or https/);
      expect(await form.getByLabel('URL', { exact: true }).getAttribute('aria-invalid')).toBe('true');
      expect(await form.locator('[data-field="name"] .field-error').isVisible()).toBe(false);

      await form.getByLabel('URL', { exact: true }).fill(receiver.url('/console-hook'));
      await form.getByRole('button', { name: 'Create webhook' }).click();
      await shows(page.locator(`tr[data-webhook="${WEBHOOK}"]`), 'enabled');

      const list = await herald.http().get('/v1/webhooks').set(admin).expect(200);
      expect(list.body.items).toEqual([
        expect.objectContaining({ name: WEBHOOK, kind: 'generic', url: receiver.url('/console-hook'), accessTokenSecret: 'RECEIVER_TOKEN', enabled: true }),
      ]);
    });

    it('tests the webhook and shows status, latency and the response, for a success and a failure', async () => {
      receiver.clear();
      const row = page.locator(`tr[data-webhook="${WEBHOOK}"]`);
      await row.getByRole('button', { name: `Test ${WEBHOOK}` }).click();
      const result = await shows(page.locator('tr.test-row .test-result'), 'Test delivered');
      const text = await result.innerText();
      expect(text).toContain('HTTP 200');
      expect(text).toMatch(/\d+ ms/);
      expect(await result.locator('pre.excerpt').innerText()).toBe('ok');

      const [sent] = await receiver.waitForRequests(1);
      expect(sent.path).toBe('/console-hook');
      expect(sent.headers['x-herald-event']).toBe('TEST');
      expect(sent.headers.authorization).toBe(`Bearer ${RECEIVER_TOKEN}`);
      await browser.screenshot(page, 'webhooks');

      receiver.respondWith({ status: 503, body: 'maintenance window' });
      await row.getByRole('button', { name: `Test ${WEBHOOK}` }).click();
      const failed = await shows(page.locator('tr.test-row .test-result'), 'Test failed');
      expect(await failed.innerText()).toContain('HTTP 503');
      expect(await failed.locator('pre.excerpt').innerText()).toBe('maintenance window');
      expect(await page.locator('tr.test-row').count()).toBe(1);
      receiver.respondWith({ status: 200, body: 'ok' });
      expect(await page.locator('body').innerText()).not.toContain(RECEIVER_TOKEN);

      // Both tests are listed under the webhook, newest first; neither is a delivery.
      const recent = page.locator('tr.test-row .recent-tests li');
      expect(await recent.count()).toBe(2);
      expect(await recent.nth(0).innerText()).toMatch(/failed · HTTP 503/);
      expect(await recent.nth(1).innerText()).toMatch(/delivered · HTTP 200/);
      const webhookId = (await herald.http().get('/v1/webhooks').set(admin).expect(200)).body.items[0].id;
      expect((await herald.http().get(`/v1/deliveries?webhook=${webhookId}`).set(admin).expect(200)).body.items).toEqual([]);
    });

    it('edits the webhook: the form comes back filled in, and only what changed is changed', async () => {
      const row = page.locator(`tr[data-webhook="${WEBHOOK}"]`);
      await row.getByRole('button', { name: `Edit ${WEBHOOK}` }).click();
      const form = page.locator('section.panel form');
      await shows(page.locator('section.panel h2'), `Edit webhook ${WEBHOOK}`);
      expect(await form.getByLabel('Name', { exact: true }).inputValue()).toBe(WEBHOOK);
      expect(await form.getByLabel('URL', { exact: true }).inputValue()).toBe(receiver.url('/console-hook'));
      expect(await form.getByLabel('Access token secret').inputValue()).toBe('RECEIVER_TOKEN');
      expect(await form.getByLabel('Max attempts').inputValue()).toBe('8');

      await form.getByLabel('Extra headers').fill('X-Team ml-platform');
      await form.getByRole('button', { name: 'Save webhook' }).click();
      await shows(form.locator('[data-field="headers"] .field-error'), 'line 1 must look like "Name: value"');
      await form.getByLabel('Extra headers').fill('X-Team: ml-platform\nAuthorization: Bearer nope');
      await form.getByRole('button', { name: 'Save webhook' }).click();
      await shows(form.locator('[data-field="headers"] .field-error'), /Authorization/);

      await form.getByLabel('Extra headers').fill('X-Team: ml-platform');
      await form.getByRole('button', { name: 'Save webhook' }).click();
      await shows(page.getByRole('status'), `Webhook ${WEBHOOK} saved.`);
      const [stored] = (await herald.http().get('/v1/webhooks').set(admin).expect(200)).body.items;
      expect(stored).toMatchObject({
        name: WEBHOOK,
        headers: { 'X-Team': 'ml-platform' },
        accessTokenSecret: 'RECEIVER_TOKEN',
        signingSecret: null,
        delivery: { maxAttempts: 8, ratePerSecond: null },
        enabled: true,
      });
    });

    it('generates a signing secret from the webhook form, shows it once and binds it', async () => {
      const row = page.locator(`tr[data-webhook="${WEBHOOK}"]`);
      await row.getByRole('button', { name: `Edit ${WEBHOOK}` }).click();
      const form = page.locator('section.panel form');
      await form.getByText('Generate a signing secret').click();
      expect(await form.getByLabel('Secret name').inputValue()).toBe('LOCAL_RECEIVER_SIGNING_SECRET');
      await form.getByLabel('Secret name').fill('bad name');
      await form.getByRole('button', { name: 'Generate and use' }).click();
      await shows(form.locator('[data-field="generate.name"] .field-error'), /must/);
      await form.getByLabel('Secret name').fill('CONSOLE_SIGNING_SECRET');
      await form.getByLabel('Format').selectOption('whsec');
      await form.getByRole('button', { name: 'Generate and use' }).click();
      await shows(form.locator('.generated'), 'shown only once');
      const value = await form.getByLabel('Value of CONSOLE_SIGNING_SECRET').inputValue();
      expect(value).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      expect(await form.getByLabel('Signing secret').inputValue()).toBe('CONSOLE_SIGNING_SECRET');
      // The previous test's save left the same message on the page: wait for this save's answer.
      const saved = page.waitForResponse((r) => r.request().method() === 'PATCH' && r.url().includes('/v1/webhooks/'));
      await form.getByRole('button', { name: 'Save webhook' }).click();
      expect((await saved).status()).toBe(200);
      await shows(page.getByRole('status'), `Webhook ${WEBHOOK} saved.`);
      const stored = (await herald.http().get('/v1/webhooks').query({ name: WEBHOOK }).set(admin).expect(200)).body.items;
      expect(stored.map((w: { signingSecret: string | null }) => w.signingSecret)).toEqual(['CONSOLE_SIGNING_SECRET']);
      expect(JSON.stringify((await herald.http().get('/v1/secrets').set(admin).expect(200)).body)).not.toContain(value);
    });

    it('creates an automation: fields follow the trigger, the payload is validated live, the preview explains', async () => {
      await openPage('Automations');
      await page.getByRole('button', { name: 'New automation' }).click();
      const form = page.locator('section.panel form');
      await form.getByLabel('Name', { exact: true }).fill(AUTOMATION);
      await form.getByLabel('Project or registry name').fill('console-demo');

      // The fields change with the trigger.
      const trigger = form.getByLabel('Trigger', { exact: true });
      await trigger.selectOption('RUN_METRIC_THRESHOLD');
      await form.getByLabel('Metric', { exact: true }).waitFor();
      expect(await form.getByLabel('Threshold', { exact: true }).isVisible()).toBe(true);
      expect(await form.getByText('The run enters one of these states').isVisible()).toBe(false);
      await form.getByLabel('Comparison').selectOption('NON_FINITE');
      expect(await form.getByLabel('Threshold', { exact: true }).isVisible()).toBe(false);
      expect(await form.getByLabel('Cooldown (seconds)').getAttribute('placeholder')).toBe('86400');
      await trigger.selectOption('RUN_STATE');
      await form.getByText('The run enters one of these states').waitFor();
      expect(await form.getByLabel('Metric', { exact: true }).count()).toBe(0);
      expect(await form.getByLabel('FAILED', { exact: true }).isChecked()).toBe(true);
      await form.getByLabel('CRASHED', { exact: true }).check();
      expect(await form.getByLabel('Cooldown (seconds)').getAttribute('placeholder')).toBe('0');

      await form.getByLabel('Send to webhook').selectOption({ label: `${WEBHOOK} (generic)` });
      await form.getByLabel('A custom payload').check();

      // The variables the trigger offers, applicable ones first; the webhook's token among its secrets.
      const variables = form.locator('.variables');
      await shows(variables.locator('li.applies'), '${run_name}');
      await shows(variables.locator('li.not-applies'), '${metric_value}');
      await shows(variables.locator('li'), '${ACCESS_TOKEN}');

      // Live validation: an unknown variable is reported next to the payload without pressing anything.
      const payload = form.getByLabel('Payload template');
      await payload.fill('{"text": "Run ${nope}", "token": "${ACCESS_TOKEN}"}');
      await shows(form.locator('[data-field="action.payload"] .field-error'), /unknown variable \$\{nope\}/);
      expect(await payload.getAttribute('aria-invalid')).toBe('true');

      // Insert a variable at the caret from the list.
      await payload.fill('{"text": "Run  is ${run_state}", "token": "${ACCESS_TOKEN}"}');
      await payload.evaluate((area: { setSelectionRange(start: number, end: number): void }) => area.setSelectionRange(14, 14));
      await variables.getByRole('button', { name: '${run_name}', exact: true }).click();
      expect(await payload.inputValue()).toBe('{"text": "Run ${run_name} is ${run_state}", "token": "${ACCESS_TOKEN}"}');
      await form.locator('[data-field="action.payload"] .field-error').waitFor({ state: 'hidden' });

      // Preview with the example event made for the trigger: every filter passes, the secret is masked.
      await form.getByRole('button', { name: 'Preview', exact: true }).click();
      const preview = form.locator('.preview-result');
      await shows(preview.locator('.verdict'), 'Would fire');
      await shows(preview.locator('tr', { hasText: 'trigger.states' }), 'passed');
      const body = await preview.locator('pre.body').innerText();
      expect(JSON.parse(body)).toEqual({ text: 'Run example-run is FAILED', token: '••••••' });
      expect(await page.locator('body').innerText()).not.toContain(RECEIVER_TOKEN);

      // An event it would not fire for: the failing filter says why.
      const example = form.getByLabel('Example event');
      const event = JSON.parse(await example.inputValue());
      expect(event).toMatchObject({ type: 'RUN_STATE', project: 'console-demo', run: { state: 'FAILED' } });
      await example.fill(JSON.stringify({ ...event, run: { ...event.run, state: 'RUNNING' } }));
      await form.getByRole('button', { name: 'Preview', exact: true }).click();
      await shows(preview.locator('.verdict'), 'Would not fire');
      const failedRow = await shows(preview.locator('tr', { hasText: 'trigger.states' }), 'failed');
      expect(await failedRow.innerText()).toContain('RUNNING');
      await browser.screenshot(page, 'automation-form');
      await form.getByRole('button', { name: 'Use an example event' }).click();
      await shows(preview.locator('.verdict'), 'Would fire');

      await form.getByRole('button', { name: 'Create automation' }).click();
      await shows(page.locator(`tr[data-automation="${AUTOMATION}"]`), 'A run enters FAILED or CRASHED');
      await shows(page.getByRole('status'), `Automation ${AUTOMATION} created.`);

      const stored = await herald.http().get('/v1/automations').set(admin).expect(200);
      expect(stored.body.items).toEqual([
        expect.objectContaining({
          name: AUTOMATION,
          enabled: true,
          scope: { type: 'project', name: 'console-demo' },
          trigger: { event: 'RUN_STATE', states: ['FAILED', 'CRASHED'] },
          action: expect.objectContaining({ payload: { text: 'Run ${run_name} is ${run_state}', token: '${ACCESS_TOKEN}' } }),
        }),
      ]);
      await browser.screenshot(page, 'automations');
    });

    it('edits the automation: the trigger fields and payload come back, a new cooldown is saved', async () => {
      await page.getByRole('button', { name: `Edit ${AUTOMATION}` }).click();
      const form = page.locator('section.panel form');
      await shows(page.locator('section.panel h2'), `Edit automation ${AUTOMATION}`);
      expect(await form.getByLabel('Trigger', { exact: true }).inputValue()).toBe('RUN_STATE');
      expect(await form.getByLabel('CRASHED', { exact: true }).isChecked()).toBe(true);
      expect(await form.getByLabel('KILLED', { exact: true }).isChecked()).toBe(false);
      expect(await form.getByLabel('A custom payload').isChecked()).toBe(true);
      expect(JSON.parse(await form.getByLabel('Payload template').inputValue())).toEqual({ text: 'Run ${run_name} is ${run_state}', token: '${ACCESS_TOKEN}' });

      // Unchanged, the preview asks about the stored automation.
      await form.getByRole('button', { name: 'Preview', exact: true }).click();
      await shows(form.locator('.preview-result .verdict'), 'Would fire');

      await form.getByLabel('Cooldown (seconds)').fill('-5');
      await form.getByRole('button', { name: 'Save automation' }).click();
      await shows(form.locator('[data-field="cooldownSeconds"] .field-error'), /must be an integer from 0 to 31536000/);
      await form.getByLabel('Cooldown (seconds)').fill('60');
      await form.getByRole('button', { name: 'Save automation' }).click();
      await shows(page.getByRole('status'), `Automation ${AUTOMATION} saved.`);
      const [stored] = (await herald.http().get('/v1/automations').set(admin).expect(200)).body.items;
      expect(stored).toMatchObject({ cooldownSeconds: 60, runFilter: null, trigger: { event: 'RUN_STATE', states: ['FAILED', 'CRASHED'] } });
    });

    it('toggles an automation off and on from the list', async () => {
      const toggle = page.getByLabel(`Enabled: ${AUTOMATION}`);
      await toggle.uncheck();
      await shows(page.getByRole('status'), `Automation ${AUTOMATION} disabled.`);
      const off = await herald.http().get('/v1/automations').set(admin).expect(200);
      expect(off.body.items[0].enabled).toBe(false);
      await toggle.check();
      await shows(page.getByRole('status'), `Automation ${AUTOMATION} enabled.`);
      const on = await herald.http().get('/v1/automations').set(admin).expect(200);
      expect(on.body.items[0].enabled).toBe(true);
    });

    it('shows the delivery of an event posted through the API, with its attempts, and redelivers it', async () => {
      receiver.clear();
      const posted = await herald
        .http()
        .post('/v1/events')
        .set(admin)
        .send({ type: 'RUN_STATE', project: 'console-demo', author: 'alice', run: { id: 'r-7', name: 'bert-<b>7</b>', state: 'FAILED' } })
        .expect(200);
      eventId = posted.body.results[0].id;
      [deliveryId] = posted.body.results[0].deliveries;
      expect(deliveryId).toMatch(/^msg_/);
      const [first] = await receiver.waitForRequests(1);
      expect(JSON.parse(first.body)).toEqual({ text: 'Run bert-<b>7</b> is FAILED', token: RECEIVER_TOKEN });
      await herald.settle();

      // The automation links to its deliveries, filtered.
      await openPage('Automations');
      await page.getByRole('link', { name: `Deliveries of ${AUTOMATION}` }).click();
      await shows(page.locator(`tr[data-delivery="${deliveryId}"]`), 'succeeded');
      expect(page.url()).toMatch(/#\/deliveries\?automation=aut_/);
      await openPage('Webhooks');
      await page.getByRole('link', { name: `Deliveries of ${WEBHOOK}` }).click();
      await shows(page.locator(`tr[data-delivery="${deliveryId}"]`), 'succeeded');
      expect(page.url()).toMatch(/#\/deliveries\?webhook=wh_/);

      await openPage('Deliveries');
      const row = await shows(page.locator(`tr[data-delivery="${deliveryId}"]`), 'succeeded');
      expect(await row.innerText()).toContain(AUTOMATION);
      expect(await row.innerText()).toContain(WEBHOOK);

      // Filters: none failed; the succeeded one is found, and the filter is in the address.
      await page.getByLabel('Status').selectOption('failed');
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await shows(page.locator('tr.empty'), 'No delivery matches these filters.');
      expect(page.url()).toContain('#/deliveries?status=failed');
      await page.getByLabel('Status').selectOption('succeeded');
      await page.getByLabel('Automation').selectOption({ label: AUTOMATION });
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await shows(page.locator(`tr[data-delivery="${deliveryId}"]`), 'succeeded');
      await browser.screenshot(page, 'deliveries');

      await page.getByRole('link', { name: deliveryId }).click();
      await shows(page.locator('h1'), `Delivery ${deliveryId}`);
      const series1 = page.locator('section.series[data-series="1"]');
      const attempt = await shows(series1.locator('li.attempt'), 'Attempt 1');
      expect(await attempt.innerText()).toContain('HTTP 200');
      expect(await attempt.locator('pre.excerpt').innerText()).toBe('ok');
      const storedBody = await page.locator('pre.body').innerText();
      expect(storedBody).toContain('bert-<b>7</b>');
      expect(storedBody).toContain('${ACCESS_TOKEN}');
      expect(storedBody).not.toContain(RECEIVER_TOKEN);
      expect(await page.locator('pre.body b').count()).toBe(0);

      // The request: the URL and the headers sent, the token as its placeholder, signatures not shown.
      expect(await page.locator('code.request-url').innerText()).toBe(receiver.url('/console-hook'));
      const headers = await page.locator('dl.headers').innerText();
      expect(headers).toContain('Bearer ${RECEIVER_TOKEN}');
      expect(headers).toContain('X-Team');
      expect(headers).toMatch(/webhook-signature\s+\(computed at each attempt\)/);
      expect(await page.locator('main').innerText()).not.toContain(RECEIVER_TOKEN);

      receiver.respondWith({ status: 200, body: 'received again' });
      await page.getByRole('button', { name: 'Redeliver' }).click();
      await shows(page.getByRole('status'), 'Redelivery queued as series 2.');
      // The status shown is never the old "succeeded" beside series 2 before its attempt exists.
      const shownAfter = await page.locator('dl.facts').innerText();
      const series2Attempts = await page.locator('section.series[data-series="2"] li.attempt').count();
      if (series2Attempts === 0) expect(shownAfter).toMatch(/pending|sending/);
      const replay = await shows(page.locator('section.series[data-series="2"] li.attempt'), 'HTTP 200');
      expect(await replay.locator('pre.excerpt').innerText()).toBe('received again');
      await shows(page.locator('dl.facts'), 'succeeded');
      const [, second] = await receiver.waitForRequests(2);
      expect(second.headers['x-herald-delivery']).toBe(deliveryId);
      expect(second.headers['x-herald-delivery']).toBe(first.headers['x-herald-delivery']);
      receiver.respondWith({ status: 200, body: 'ok' });
      await browser.screenshot(page, 'delivery');
    });

    it('shows the event with the automation it fired and the delivery it made', async () => {
      await page.getByRole('link', { name: `RUN_STATE ${eventId}` }).click();
      await shows(page.locator('h1'), `Event ${eventId}`);
      const fired = await shows(page.locator('li.fired'), AUTOMATION);
      expect(await fired.innerText()).toContain(deliveryId);
      expect(await fired.innerText()).toContain('succeeded');
      expect(await page.locator('pre.body').innerText()).toContain('"name": "bert-<b>7</b>"');
      expect(await page.locator('main b').count()).toBe(0);
      await browser.screenshot(page, 'event');

      await openPage('Events');
      await shows(page.locator(`tr[data-event="${eventId}"]`), '1 automation');
    });

    it('sends a test event for a project from the events page and shows what it set off', async () => {
      receiver.clear();
      await openPage('Events');
      await page.getByText('Send a test event').click();
      const form = page.locator('form[aria-labelledby="test-event-title"]');
      await form.getByLabel('Project').fill('console-demo');
      await form.getByLabel('Event').selectOption('RUN_STATE');
      await form.getByLabel('Run id').fill('r-console');
      await form.getByRole('button', { name: 'Send test event' }).click();
      await shows(page.locator('h1'), /^Event evt_/);
      await shows(page.locator('li.fired'), AUTOMATION);
      await receiver.waitForRequests(1);

      // Nothing listens to another project: the page says so instead of an empty outcome.
      await openPage('Events');
      await page.getByText('Send a test event').click();
      await form.getByLabel('Project').fill('nobody-listens');
      await form.getByLabel('Project').press('Enter');
      await shows(page.locator('p.no-outcome'), 'No automation listens: none is enabled with a RUN_STATE trigger and a scope covering nobody-listens.');

      // A project the automation covers, with a state it does not take: evaluated, the condition does not hold.
      const other = await herald.http().post('/v1/events').set(admin).send({ type: 'RUN_STATE', project: 'console-demo', run: { id: 'r-9', name: 'bert-9', state: 'RUNNING' } }).expect(200);
      await page.goto(`/console/#/events/${other.body.results[0].id}`);
      await shows(page.locator('li.not-fired'), `${AUTOMATION} evaluated: its condition does not hold.`);
      await shows(page.locator('dl.facts'), 'bert-9 (r-9)');

      // A batch: the list shows each event's place in it, in the batch's order.
      const batch = await herald.http().post('/v1/events').set(admin).send([
        { type: 'RUN_METRICS', project: 'batch-demo', run: { id: 'b-1', name: 'batch run' }, step: 1, metrics: { loss: 0.9 } },
        { type: 'RUN_METRICS', project: 'batch-demo', run: { id: 'b-1', name: 'batch run' }, step: 2, metrics: { loss: 0.8 } },
      ]).expect(200);
      await page.goto('/console/#/events?project=batch-demo');
      const second = await shows(page.locator(`tr[data-event="${batch.body.results[1].id}"]`), '#2 of its batch');
      expect(await second.innerText()).toContain('batch run');
      const order = await page.locator('tbody tr[data-event]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-event')));
      expect(order).toEqual([batch.body.results[1].id, batch.body.results[0].id]);
    });

    it('creates an API key with a role and projects, shows it once, and revokes it', async () => {
      await openPage('API keys');
      const form = page.locator('form[aria-labelledby="new-key-title"]');
      await form.getByRole('button', { name: 'Create key' }).click();
      await shows(form.locator('[data-field="name"] .field-error'), /./);
      await form.getByLabel('Name', { exact: true }).fill('training-cluster');
      await form.getByLabel('Role').selectOption('ingest');
      await form.getByLabel('Projects').fill('console-demo, llm-finetune');
      await form.getByRole('button', { name: 'Create key' }).click();
      const key = await page.getByLabel('The new key training-cluster').inputValue();
      expect(key).toMatch(/^hrd_/);
      const row = await shows(page.locator('tr[data-key="training-cluster"]'), 'ingest');
      expect(await row.innerText()).toContain('console-demo, llm-finetune');
      expect(await row.innerText()).not.toContain(key);
      // The key works for what its role allows.
      await herald.http().post('/v1/events').set(bearer(key)).send({ type: 'ALERT', project: 'llm-finetune', title: 't', level: 'INFO' }).expect(200);
      await page.getByRole('button', { name: 'Done, I stored it' }).click();
      expect(await page.locator('main').innerText()).not.toContain(key);

      await row.getByRole('button', { name: 'Revoke training-cluster' }).click();
      await shows(page.getByRole('status'), 'Key training-cluster revoked.');
      await page.locator('tr[data-key="training-cluster"]').waitFor({ state: 'detached' });
      await herald.http().post('/v1/events').set(bearer(key)).send({ type: 'ALERT', project: 'llm-finetune', title: 't', level: 'INFO' }).expect(401);
    });

    it('says why an event did not send: a disabled webhook cancels the delivery', async () => {
      const webhookId = (await herald.http().get('/v1/webhooks').set(admin).expect(200)).body.items[0].id;
      await herald.http().patch(`/v1/webhooks/${webhookId}`).set(admin).send({ enabled: false }).expect(200);
      const posted = await herald
        .http()
        .post('/v1/events')
        .set(admin)
        .send({ type: 'RUN_STATE', project: 'console-demo', run: { id: 'r-8', name: 'bert-8', state: 'CRASHED' } })
        .expect(200);
      const held = posted.body.results[0].id;
      await page.goto(`/console/#/events/${held}`);
      await shows(page.locator('li.suppressed'), /its webhook was disabled/);

      await openPage('Webhooks');
      const row = await shows(page.locator(`tr[data-webhook="${WEBHOOK}"]`), 'disabled by a person');
      await row.getByRole('button', { name: `Enable ${WEBHOOK}` }).click();
      await shows(page.getByRole('status'), `Webhook ${WEBHOOK} enabled`);
      await shows(page.locator(`tr[data-webhook="${WEBHOOK}"]`), 'enabled');
      expect((await herald.http().get(`/v1/webhooks/${webhookId}`).set(admin).expect(200)).body.enabled).toBe(true);
    });

    it('recovers the deliveries that failed in a window from the webhook page', async () => {
      receiver.clear();
      receiver.respondWith({ status: 400, body: 'rejected' });
      const posted = await herald
        .http()
        .post('/v1/events')
        .set(admin)
        .send({ type: 'RUN_STATE', project: 'console-demo', run: { id: 'r-9', name: 'bert-9', state: 'FAILED' } })
        .expect(200);
      const [failedId] = posted.body.results[0].deliveries;
      await waitFor('failed', async () => (await herald.http().get(`/v1/deliveries/${failedId}`).set(admin)).body.status === 'failed');
      receiver.respondWith({ status: 200, body: 'ok' });

      await openPage('Webhooks');
      await page.locator(`tr[data-webhook="${WEBHOOK}"]`).getByRole('button', { name: `Recover ${WEBHOOK}` }).click();
      const since = page.getByLabel(`Failed since (${WEBHOOK})`);
      // A datetime-local value leaves out its seconds when they are :00 (HTML's normalized form).
      expect(await since.inputValue()).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/);
      // A window that ends before it starts is refused next to its end, by Herald.
      await page.getByLabel(`Failed before (${WEBHOOK})`).fill('2020-01-01T00:00:00');
      await page.getByRole('button', { name: 'Re-send failed deliveries' }).click();
      await shows(page.locator('tr.inline-form [data-field="until"] .field-error'), 'must be after since');
      await page.getByLabel(`Failed before (${WEBHOOK})`).fill('');
      await page.getByRole('button', { name: 'Re-send failed deliveries' }).click();
      await shows(page.getByRole('status'), `1 failed delivery of ${WEBHOOK} re-queued.`);
      expect(await page.locator('tr.inline-form').count()).toBe(0);

      const [again] = await receiver.waitForRequests(1);
      expect(again.headers['x-herald-delivery']).toBe(failedId);
      const detail = await waitFor('succeeded in a second series', async () => {
        const got = (await herald.http().get(`/v1/deliveries/${failedId}`).set(admin)).body;
        return got.status === 'succeeded' ? got : undefined;
      });
      expect(detail.series).toBe(2);
    });

    it('rotates the secret in use, and shows why it cannot be deleted', async () => {
      await openPage('Secrets');
      const row = await shows(page.locator('tr[data-secret="RECEIVER_TOKEN"]'), `webhook ${WEBHOOK} as accessTokenSecret`);
      await row.getByRole('button', { name: 'Delete RECEIVER_TOKEN' }).click();
      await shows(page.getByRole('alert'), /Could not delete RECEIVER_TOKEN: .*in use|referred|used/i);
      expect((await herald.http().get('/v1/secrets').set(admin).expect(200)).body.items.map((s: { name: string }) => s.name)).toContain('RECEIVER_TOKEN');

      await row.getByRole('button', { name: 'Rotate RECEIVER_TOKEN' }).click();
      await page.getByLabel('New value for RECEIVER_TOKEN').fill(ROTATED_TOKEN);
      await page.getByRole('button', { name: 'Save new value' }).click();
      await shows(page.getByRole('status'), 'Secret RECEIVER_TOKEN rotated.');
      expect(await page.locator('body').innerText()).not.toContain(ROTATED_TOKEN);

      receiver.clear();
      await openPage('Webhooks');
      await page.getByRole('button', { name: `Test ${WEBHOOK}` }).click();
      await shows(page.locator('tr.test-row .test-result'), 'Test delivered');
      const [sent] = await receiver.waitForRequests(1);
      expect(sent.headers.authorization).toBe(`Bearer ${ROTATED_TOKEN}`);
    });

    it('creates a Determined source, shows its receive URL to copy, and the receipt of a signed delivery', async () => {
      await openPage('Sources');
      await page.getByRole('button', { name: 'New source' }).click();
      await page.getByLabel('Name').fill('det cluster');
      await page.getByLabel('Platform').selectOption('determined');
      await page.getByLabel('Herald project').fill('vision');
      await page.getByRole('button', { name: 'Create source' }).click();
      // No secret chosen: Herald's refusal is shown next to the secret.
      await shows(page.locator('[data-field="secret"] .field-error'), /required for determined sources/);
      await page.getByLabel('Secret').selectOption('RECEIVER_TOKEN');
      await page.getByRole('button', { name: 'Create source' }).click();
      await shows(page.getByRole('status'), 'Source det cluster created.');
      const url = await page.getByLabel('Receive URL').inputValue();
      expect(url).toMatch(new RegExp(`^${herald.url}/v1/sources/src_[0-9A-Z]+/receive$`));
      await page.getByRole('button', { name: 'Copy receive url' }).click();
      await shows(page.locator('.copy-status'), /Copied|Selected/);

      const eventId = 'f3d4c2b1-0000-4000-8000-00000000c0de';
      const payload = determinedExperimentEvent(eventId, 'EXPERIMENT_STATE_CHANGE', { id: 41, state: 'COMPLETED', name: 'cifar10', project: 'vision' }, Math.floor(Date.now() / 1000));
      const signed = determinedDelivery(ROTATED_TOKEN, payload, Math.floor(Date.now() / 1000));
      await herald.http().post(new URL(url).pathname).set(signed.headers).send(signed.body).expect(200);
      await page.getByRole('button', { name: 'Receipts det cluster' }).click();
      const receipt = await shows(page.locator('tr.receipts-row tbody tr'), 'accepted');
      expect(await receipt.innerText()).toContain(eventId);
      expect(await receipt.innerText()).toContain('EXPERIMENT_STATE_CHANGE');
      expect(await page.locator('body').innerText()).not.toContain(ROTATED_TOKEN);
      await browser.screenshot(page, 'sources-receipts');
    });

    it('pages through a long list with "Load more"', async () => {
      const events = Array.from({ length: 30 }, (_, i) => ({ type: 'ALERT', project: 'bulk', title: `alert ${i}`, level: 'INFO' }));
      await herald.http().post('/v1/events').set(admin).send(events).expect(200);
      await page.goto('/console/#/events?project=bulk');
      await shows(page.locator('.pager-status'), 'Showing 25 events; more are available.');
      expect(await page.locator('tbody tr[data-event]').count()).toBe(25);
      await page.getByRole('button', { name: 'Load more' }).click();
      await shows(page.locator('.pager-status'), 'Showing 30 events.');
      expect(await page.locator('tbody tr[data-event]').count()).toBe(30);
      expect(await page.getByRole('button', { name: 'Load more' }).isVisible()).toBe(false);
      const shown = await page.locator('tbody tr[data-event]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-event')));
      expect(new Set(shown).size).toBe(30);
    });

    it('labels every control and reaches the sections by keyboard', async () => {
      const views: [string, () => Promise<unknown>][] = [
        ['Secrets', () => page.getByRole('button', { name: 'New secret' }).click()],
        ['Webhooks', () => page.getByRole('button', { name: 'New webhook' }).click()],
        ['Automations', () => page.getByRole('button', { name: 'New automation' }).click()],
        ['Deliveries', async () => undefined],
        ['Events', async () => undefined],
        ['Sources', () => page.getByRole('button', { name: 'New source' }).click()],
      ];
      for (const [name, open] of views) {
        await openPage(name);
        await open();
        await page.locator('main h1').first().waitFor();
        expect({ page: name, unlabelled: await inPage(page, UNLABELLED_CONTROLS) }).toEqual({ page: name, unlabelled: [] });
      }

      // From the page heading, Shift+Tab walks back through the top bar to a section, Enter opens it.
      await openPage('Webhooks');
      // Focus moves to the heading once the page has loaded.
      await headingFocused('Webhooks');
      let reached = '';
      for (let i = 0; i < 10 && reached !== 'Automations'; i++) {
        await page.keyboard.press('Shift+Tab');
        reached = await inPage<string>(page, 'document.activeElement.textContent.trim()');
      }
      expect(reached).toBe('Automations');
      await page.keyboard.press('Enter');
      await shows(page.locator('h1'), 'Automations');
      await headingFocused('Automations');
    });

    it('fits a narrow window: nothing overflows sideways and the sections stay reachable', async () => {
      await page.setViewportSize(NARROW);
      try {
        const views: [string, string][] = [
          ['#/secrets', 'Secrets'],
          ['#/webhooks', 'Webhooks'],
          ['#/automations', 'Automations'],
          ['#/deliveries', 'Deliveries'],
          [`#/deliveries/${deliveryId}`, `Delivery ${deliveryId}`],
          ['#/events', 'Events'],
          ['#/sources', 'Sources'],
          ['#/keys', 'API keys'],
        ];
        for (const [hash, heading] of views) {
          await page.goto(`/console/${hash}`);
          await shows(page.locator('main h1'), heading);
          await page.locator('.pager-status, section.series').first().waitFor();
          const overflow = await inPage(page, HORIZONTAL_OVERFLOW);
          expect({ hash, overflow }).toEqual({ hash, overflow: 0 });
          // Every list stays readable: no cell with text narrower than about 10 characters.
          expect({ hash, squeezed: await inPage(page, SQUEEZED_CELLS) }).toEqual({ hash, squeezed: [] });
          if (hash === '#/webhooks' || hash === '#/deliveries') await browser.screenshot(page, `narrow-${hash.slice(2)}`);
          // Every row action is on screen without scrolling sideways.
          for (const button of await page.locator('main tbody button, main tbody a').all()) {
            const box = (await button.boundingBox())!;
            expect({ hash, left: box.x >= 0, right: box.x + box.width <= NARROW.width }).toEqual({ hash, left: true, right: true });
          }
          for (const link of await page.getByRole('navigation', { name: 'Console sections' }).getByRole('link').all()) {
            const box = (await link.boundingBox())!;
            expect(box.x + box.width).toBeLessThanOrEqual(NARROW.width);
          }
        }
        await page.goto('/console/#/automations');
        await page.getByRole('button', { name: 'New automation' }).click();
        await page.getByLabel('A custom payload').check();
        expect(await inPage(page, HORIZONTAL_OVERFLOW)).toBe(0);
        await browser.screenshot(page, 'narrow-automation-form');
        await page.goto(`/console/#/deliveries/${deliveryId}`);
        await page.locator('section.series').first().waitFor();
        await browser.screenshot(page, 'narrow-delivery');
      } finally {
        await page.setViewportSize(DESKTOP);
      }
    });

    it('signs out: the key leaves session storage', async () => {
      await page.goto('/console/#/webhooks');
      await page.getByRole('button', { name: 'Sign out' }).click();
      await shows(page.locator('h1'), 'Sign in');
      expect(await inPage(page, 'sessionStorage.length')).toBe(0);
      expect(await page.getByRole('navigation', { name: 'Console sections' }).isVisible()).toBe(false);
      await browser.screenshot(page, 'sign-in');
    });
  });

  describe('a member', () => {
    it('reads without write controls, and is signed out when the key is revoked', async () => {
      const member = await herald.newKey(herald.adminKey, 'member');
      const tab = await browser.newPage(DESKTOP);
      try {
        await tab.goto('/console/');
        await tab.getByLabel('API key').fill(member.key);
        await tab.getByRole('button', { name: 'Sign in' }).click();
        await shows(tab.locator('#session-role'), 'member (read only)');
        await tab.locator(`tr[data-webhook="${WEBHOOK}"]`).waitFor();
        expect(await tab.getByRole('button', { name: 'New webhook' }).count()).toBe(0);
        expect(await tab.getByRole('button', { name: `Test ${WEBHOOK}` }).count()).toBe(0);
        await tab.goto('/console/#/automations');
        await tab.locator(`tr[data-automation="${AUTOMATION}"]`).waitFor();
        expect(await tab.getByLabel(`Enabled: ${AUTOMATION}`).isDisabled()).toBe(true);
        expect(await tab.getByRole('button', { name: 'New automation' }).count()).toBe(0);

        await herald.http().delete(`/v1/api-keys/${member.id}`).set(admin).expect(204);
        await tab.goto('/console/#/secrets');
        await shows(tab.locator('.notice-error'), 'You were signed out: Unknown or revoked API key');
        await shows(tab.locator('h1'), 'Sign in');
        expect(await inPage(tab, 'sessionStorage.length')).toBe(0);
      } finally {
        await tab.close();
      }
    });

    it('an ingest key cannot sign in: the reason is shown next to the key', async () => {
      const ingest = await herald.newKey(herald.adminKey, 'ingest');
      const tab = await browser.newPage(DESKTOP);
      try {
        await tab.goto('/console/');
        await tab.getByLabel('API key').fill(ingest.key);
        await tab.getByRole('button', { name: 'Sign in' }).click();
        await shows(tab.locator('[data-field="apiKey"] .field-error'), 'This key may only post events');
        expect(await inPage(tab, 'sessionStorage.length')).toBe(0);
      } finally {
        await tab.close();
      }
    });
  });

  describe('console modules, run in the browser', () => {
    let tab: Page;
    beforeAll(async () => {
      tab = await browser.newPage(DESKTOP);
      await tab.goto('/console/');
      await tab.getByLabel('API key').waitFor();
    });
    afterAll(() => tab.close());

    /** Imports a console module in the page and evaluates `expression` with it bound to `m`. */
    const run = <T = unknown>(module: string, expression: string) => tab.evaluate<T>(`import('./js/${module}').then((m) => ${expression})`);

    it('places an API error path at the longest field it belongs to', async () => {
      const keys = "['headers', 'trigger', 'trigger.window', 'action.payload', 'event']";
      expect(await run('forms.js', `[
        m.matchField(${keys}, 'trigger.window'),
        m.matchField(${keys}, 'trigger.windowSize'),
        m.matchField(${keys}, 'headers.X-Team'),
        m.matchField(${keys}, 'action.payload.client_payload.v'),
        m.matchField(${keys}, 'event.run[0].name'),
        m.matchField(${keys}, 'actions'),
        m.matchField(${keys}, 'name'),
      ]`)).toEqual(['trigger.window', 'trigger', 'headers', 'action.payload', 'event', null, null]);
    });

    it('shows every problem of one answer beside its field, and names those fields as the form labels them', async () => {
      const shown = await run<{ errors: string[]; box: string; invalid: number }>(
        'forms.js',
        `import('./js/api.js').then((api) => {
          const form = document.createElement('form');
          const add = (key, label) => form.append(m.field({ key, label, control: document.createElement('input') }));
          form.append(m.formError());
          add('name', 'Name');
          add('trigger.window', 'Window (values)');
          add('action.webhookId', 'Webhook');
          document.body.append(form);
          m.showProblem(form, new api.ApiProblem(400, 'Invalid input', [
            { field: 'name', reason: 'must be 1–64 letters' },
            { field: 'trigger.window', reason: 'must be an integer from 1 to 1000' },
            { field: 'action.webhookId', reason: 'is required' },
          ]), { focus: false });
          const result = {
            errors: [...form.querySelectorAll('.field-error')].map((e) => e.textContent),
            box: form.querySelector('.form-error').textContent,
            invalid: form.querySelectorAll('[aria-invalid="true"]').length,
          };
          form.remove();
          return result;
        })`,
      );
      expect(shown).toEqual({
        errors: ['must be 1–64 letters', 'must be an integer from 1 to 1000', 'is required'],
        box: '3 fields need a change: Name, Window (values), Webhook',
        invalid: 3,
      });
    });

    it('builds trigger objects from form text, leaving numbers that do not parse for the API to name', async () => {
      expect(await run('triggers.js', `m.buildTrigger('RUN_METRIC_THRESHOLD', { metric: ' val/loss ', op: '<', agg: 'AVERAGE', window: '5', threshold: '0.2' })`)).toEqual({
        event: 'RUN_METRIC_THRESHOLD', metric: 'val/loss', op: '<', agg: 'AVERAGE', window: 5, threshold: 0.2,
      });
      expect(await run('triggers.js', `m.buildTrigger('RUN_METRIC_THRESHOLD', { metric: 'loss', op: 'NON_FINITE', agg: 'MAX', window: '3', threshold: '1' })`)).toEqual({
        event: 'RUN_METRIC_THRESHOLD', metric: 'loss', op: 'NON_FINITE',
      });
      expect(await run('triggers.js', `m.buildTrigger('RUN_METRIC_ZSCORE', { metric: 'loss', window: 'ten', threshold: '3', direction: 'ANY' })`)).toEqual({
        event: 'RUN_METRIC_ZSCORE', metric: 'loss', window: 'ten', threshold: 3, direction: 'ANY',
      });
      expect(await run('triggers.js', `m.buildTrigger('ADD_ARTIFACT_ALIAS', { aliasRegex: '^prod $', collectionRegex: '' })`)).toEqual({
        event: 'ADD_ARTIFACT_ALIAS', aliasRegex: '^prod $',
      });
      expect(await run('triggers.js', `m.buildTrigger('ALERT', { levels: ['WARN', 'ERROR'], titleRegex: '' })`)).toEqual({ event: 'ALERT', levels: ['WARN', 'ERROR'] });
    });

    it('summarizes triggers for the list', async () => {
      expect(
        await run('triggers.js', `[
          m.summarizeTrigger({ event: 'RUN_METRIC_THRESHOLD', metric: 'val/loss', agg: 'AVERAGE', window: 5, op: '<', threshold: 0.2 }),
          m.summarizeTrigger({ event: 'RUN_METRIC_THRESHOLD', metric: 'loss', op: 'NON_FINITE' }),
          m.summarizeTrigger({ event: 'RUN_METRIC_CHANGE', metric: 'acc', agg: 'AVERAGE', window: 5, priorWindow: 20, changeType: 'RELATIVE', direction: 'DECREASE', amount: 0.2 }),
          m.summarizeTrigger({ event: 'ADD_ARTIFACT_ALIAS', aliasRegex: '^prod$', collectionRegex: '^bert' }),
          m.summarizeTrigger({ event: 'CREATE_ARTIFACT' }),
        ]`),
      ).toEqual([
        'AVERAGE of the last 5 val/loss < 0.2',
        'loss becomes NaN or ±Infinity',
        'AVERAGE of the last 5 acc falls by ≥ 0.2 (20 %) vs the 20 before',
        'Alias matching /^prod$/ added in a collection matching /^bert/',
        'An artifact version is created',
      ]);
    });

    it('makes example events that satisfy the trigger where that is easy', async () => {
      expect(await run('triggers.js', `m.sampleEvent({ event: 'RUN_METRIC_THRESHOLD', metric: 'val/loss', op: '>', threshold: 2 }, { type: 'project', name: 'p' }).metrics`)).toEqual({ 'val/loss': 3 });
      // A loss crossing the threshold, and a sequence long enough to fill the window.
      expect(await run('triggers.js', `m.sampleEvent({ event: 'RUN_METRIC_THRESHOLD', metric: 'val/loss', op: '<', threshold: 0.2 }, { type: 'project', name: 'p' }).metrics`)).toEqual({ 'val/loss': 0.1 });
      const sequence = await run<{ step: number; metrics: Record<string, number> }[]>(
        'triggers.js',
        `m.sampleSequence({ event: 'RUN_METRIC_THRESHOLD', metric: 'val/loss', agg: 'AVERAGE', window: 5, op: '<', threshold: 0.2 }, { type: 'project', name: 'p' })`,
      );
      expect(sequence.map((e) => e.step)).toEqual([100, 200, 300, 400, 500]);
      expect(sequence.every((e) => e.metrics['val/loss'] < 0.2)).toBe(true);
      const change = await run<{ metrics: Record<string, number> }[]>(
        'triggers.js',
        `m.sampleSequence({ event: 'RUN_METRIC_CHANGE', metric: 'acc', agg: 'AVERAGE', window: 3, priorWindow: 2, changeType: 'ABSOLUTE', direction: 'DECREASE', amount: 0.1 }, { type: 'team' })`,
      );
      expect(change.map((e) => e.metrics.acc)).toEqual([1, 1, 0.8, 0.8, 0.8]);
      const zscore = await run<unknown[]>('triggers.js', `m.sampleSequence({ event: 'RUN_METRIC_ZSCORE', metric: 'loss', window: 10, threshold: 3, direction: 'ANY' }, { type: 'team' })`);
      expect(zscore).toHaveLength(11);
      expect(await run('triggers.js', `m.sampleEvent({ event: 'RUN_METRIC_THRESHOLD', metric: 'x', op: 'NON_FINITE' }, { type: 'team' })`)).toMatchObject({
        type: 'RUN_METRICS', project: 'my-project', metrics: { x: 'NaN' },
      });
      expect(await run('triggers.js', `m.sampleEvent({ event: 'ADD_ARTIFACT_ALIAS', aliasRegex: '^prod$' }, { type: 'registry', name: 'models' })`)).toMatchObject({
        type: 'ADD_ARTIFACT_ALIAS', project: 'models', registry: true, alias: 'prod', artifact: { version: 'v1' },
      });
      expect(await run('triggers.js', `m.sampleEvent({ event: 'RUN_STATE', states: ['KILLED'] }, { type: 'project', name: 'p' }).run.state`)).toBe('KILLED');
      // Herald's own events: the shape Herald emits, with no run filter to offer.
      expect(await run('triggers.js', `m.sampleEvent({ event: 'WEBHOOK_DISABLED' }, { type: 'team' })`)).toMatchObject({
        type: 'WEBHOOK_DISABLED', project: 'herald', reason: 'gone', webhook: { name: 'example-webhook' },
      });
      expect(await run('triggers.js', `[m.takesRunFilter('DELIVERY_FAILED'), m.takesRunFilter('ALERT'), m.isOperationalTrigger('DELIVERY_FAILED'), m.isOperationalTrigger('RUN_STATE')]`)).toEqual([false, true, true, false]);
    });

    it('turns the recover window into ISO times, naming a missing start', async () => {
      expect(await run('pages/webhooks.js', `m.isoFromInput('since', m.localInputValue(Date.UTC(2026, 0, 2, 3, 4, 5)))`)).toBe('2026-01-02T03:04:05.000Z');
      expect(await run('pages/webhooks.js', `(() => { try { m.isoFromInput('since', ''); return null; } catch (e) { return e.details; } })()`)).toEqual([
        { field: 'since', reason: 'is required' },
      ]);
    });

    it('tells payload objects from JSON-text templates, and header lines from mistakes', async () => {
      expect(await run('pages/automations.js', `[m.parsePayload('{"a": "\${run_name}"}'), m.parsePayload('{"v": \${metric_value}}'), m.parsePayload('"text"')]`)).toEqual([
        { a: '${run_name}' },
        '{"v": ${metric_value}}',
        '"text"',
      ]);
      expect(await run('pages/webhooks.js', `m.parseHeaders('X-Team: ml\\n\\nX-Url: https://a.example/b')`)).toEqual({ 'X-Team': 'ml', 'X-Url': 'https://a.example/b' });
      expect(await run('pages/webhooks.js', `(() => { try { m.parseHeaders('ok: 1\\nbroken'); return null; } catch (e) { return e.details; } })()`)).toEqual([
        { field: 'headers', reason: 'line 2 must look like "Name: value"' },
      ]);
    });

    it('reads routes from the address', async () => {
      expect(await run('main.js', `[m.parseRoute('#/deliveries/msg_1?status=failed'), m.parseRoute('#/nowhere'), m.parseRoute('')].map((r) => [r.page, r.id, r.query.toString()])`)).toEqual([
        ['deliveries', 'msg_1', 'status=failed'],
        ['webhooks', null, ''],
        ['webhooks', null, ''],
      ]);
    });
  });

  describe('what left the browser', () => {
    it('only this Herald on 127.0.0.1 was contacted, never with the key in a URL; no page error; no key or secret in the log', () => {
      expect(browser.requests.length).toBeGreaterThan(20);
      expect(browser.blocked).toEqual([]);
      expect(browser.requests.filter((url) => !url.startsWith(`${herald.url}/`))).toEqual([]);
      expect(herald.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(browser.requests.filter((url) => url.includes(herald.adminKey) || url.includes('hrd_'))).toEqual([]);
      expect(browser.pageErrors).toEqual([]);
      const log = herald.logs.join('\n');
      expect(log).not.toContain(herald.adminKey);
      expect(log).not.toContain(RECEIVER_TOKEN);
      expect(log).not.toContain(ROTATED_TOKEN);
    });
  });
});
