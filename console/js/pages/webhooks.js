// @ts-check
import { messageOf, path } from '../api.js';
import { Notice, duration, h, httpBadge, pageHeader, table, time } from '../dom.js';
import { checkedValues, choiceGroup, field, formError, localProblem, select, submitting } from '../forms.js';
import { PagedTable } from '../pager.js';

/**
 * @typedef {object} Webhook
 * @property {string} id
 * @property {string} name
 * @property {string} url
 * @property {string} kind
 * @property {string | null} accessTokenSecret
 * @property {string | null} signingSecret
 * @property {string[]} signatureSchemes
 * @property {string[]} payloadSecrets
 * @property {Record<string, string>} headers
 * @property {{ratePerSecond: number | null, burst: number | null, maxConcurrency: number | null, maxAttempts: number, scheduleSeconds: number[]}} delivery
 * @property {boolean} enabled
 * @property {string | null} disabledReason
 */

/** @typedef {{ok: boolean, statusCode: number | null, durationMs: number, responseExcerpt: string, error: string | null}} TestResult */

const KINDS = ['generic', 'slack', 'teams', 'github', 'discord'];
const SCHEMES = ['standard', 'wandb', 'determined', 'github'];
const SCHEME_LABELS = /** @type {Record<string, string>} */ ({
  standard: 'standard (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature)',
  wandb: 'wandb (X-Wandb-Signature)',
  determined: 'determined (X-Determined-AI-Signature)',
  github: 'github (X-Hub-Signature-256)',
});
const URL_EXAMPLES = /** @type {Record<string, string>} */ ({
  generic: 'https://ci.example.com/hooks/herald',
  slack: 'https://hooks.slack.com/services/T000/B000/XXXX',
  teams: 'https://prod-00.westeurope.logic.azure.com/workflows/…',
  github: 'https://api.github.com/repos/OWNER/REPO/dispatches',
  discord: 'https://discord.com/api/webhooks/ID/TOKEN',
});
const DISABLED_REASONS = /** @type {Record<string, string>} */ ({
  user: 'disabled by a person',
  gone: 'disabled: the receiver answered 410 Gone',
  failing: 'disabled: failing without a success',
});

/**
 * Webhooks: the list with Test, Edit, Recover (enabled) or Enable (disabled) and Delete, and the create/edit form.
 * @param {import('../main.js').PageContext} ctx
 */
export async function renderWebhooks(ctx) {
  const { api, admin } = ctx;
  const notice = new Notice();
  const columns = admin ? 5 : 4;
  /** @type {string[]} */
  const secretNames = admin ? (await api.all('/secrets')).map((s) => s.name) : [];

  /** @type {PagedTable<Webhook>} */
  const list = new PagedTable({
    api,
    path: '/webhooks',
    columns,
    noun: ['webhook', 'webhooks'],
    empty: 'No webhooks yet.',
    signal: ctx.signal,
    row: (webhook) => webhookRow(webhook),
  });

  /** @param {Webhook} webhook */
  function webhookRow(webhook) {
    const state = webhook.enabled
      ? h('span', { class: 'badge status-succeeded' }, 'enabled')
      : h('span', { class: 'badge status-held' }, DISABLED_REASONS[webhook.disabledReason ?? 'user'] ?? 'disabled');
    /** @param {string} label */
    const named = (label) => [label, h('span', { class: 'visually-hidden' }, ` ${webhook.name}`)];
    const row = h(
      'tr',
      { 'data-webhook': webhook.name },
      h(
        'th',
        { scope: 'row' },
        webhook.name,
        h('p', { class: 'small' }, h('a', { href: `#/deliveries?webhook=${encodeURIComponent(webhook.id)}` }, 'Deliveries', h('span', { class: 'visually-hidden' }, ` of ${webhook.name}`))),
      ),
      h('td', null, webhook.kind),
      h('td', { class: 'url' }, h('code', null, webhook.url)),
      h('td', null, state),
      admin
        ? h(
            'td',
            { class: 'actions' },
            h('button', { type: 'button', onclick: () => void test(row, webhook) }, named('Test')),
            h('button', { type: 'button', class: 'secondary', onclick: () => openForm(webhook) }, named('Edit')),
            webhook.enabled
              ? h('button', { type: 'button', class: 'secondary', onclick: () => recoverForm(row, webhook) }, named('Recover'))
              : h('button', { type: 'button', class: 'secondary', onclick: () => void enable(webhook) }, named('Enable')),
            h('button', { type: 'button', class: 'danger', onclick: () => void remove(webhook) }, named('Delete')),
          )
        : null,
    );
    return row;
  }

  /**
   * Sends a test now and shows the outcome in a row under the webhook.
   * @param {HTMLTableRowElement} row
   * @param {Webhook} webhook
   */
  async function test(row, webhook) {
    const next = row.nextElementSibling;
    if (next?.classList.contains('test-row')) next.remove();
    const output = h('div', { class: 'test-result', role: 'status' }, `Sending a test to ${webhook.name}…`);
    row.after(h('tr', { class: 'test-row' }, h('td', { colspan: String(columns) }, output)));
    try {
      /** @type {TestResult} */
      const result = await api.post(path`/webhooks/${webhook.id}/test`, {});
      output.classList.add(result.ok ? 'ok' : 'failed');
      output.replaceChildren(
        h(
          'p',
          null,
          h('strong', null, result.ok ? 'Test delivered' : 'Test failed'),
          ' · ',
          httpBadge(result.statusCode),
          ' · ',
          h('span', { class: 'latency' }, duration(result.durationMs)),
          result.error ? [' · ', h('span', { class: 'error-text' }, result.error)] : null,
        ),
        h('p', { class: 'label' }, 'Response (first 2 KiB, secrets redacted)'),
        h('pre', { class: 'excerpt' }, result.responseExcerpt === '' ? '(empty)' : result.responseExcerpt),
        recentTestList(webhook, rememberTest(webhook, result)),
      );
    } catch (error) {
      output.classList.add('failed');
      output.replaceChildren(h('p', null, h('strong', null, 'Test not sent: '), messageOf(error)));
    }
  }

  /**
   * A form under the webhook's row: re-send every delivery that ended failed in a window
   * (POST /webhooks/:id/recover), each as a new attempt series of the same id.
   * @param {HTMLTableRowElement} row
   * @param {Webhook} webhook
   */
  function recoverForm(row, webhook) {
    const next = row.nextElementSibling;
    if (next?.classList.contains('inline-form')) {
      next.remove();
      return;
    }
    const since = h('input', { type: 'datetime-local', step: '1', value: localInputValue(Date.now() - 24 * 3600_000) });
    const until = h('input', { type: 'datetime-local', step: '1', value: '' });
    const form = h(
      'form',
      { novalidate: true, method: 'post', action: '#', class: 'recover' },
      formError(),
      h('p', null, `Re-send every delivery to ${webhook.name} that ended failed in this window, with fresh signatures and the same ids.`),
      h(
        'div',
        { class: 'grid-2' },
        field({ key: 'since', label: `Failed since (${webhook.name})`, control: since, hint: 'Your local time.' }),
        field({ key: 'until', label: `Failed before (${webhook.name})`, control: until, hint: 'Empty: now.' }),
      ),
      h(
        'div',
        { class: 'form-actions' },
        h('button', { type: 'submit' }, 'Re-send failed deliveries'),
        h('button', { type: 'reset', class: 'secondary' }, 'Cancel'),
      ),
    );
    const recoverRow = h('tr', { class: 'inline-form' }, h('td', { colspan: String(columns) }, form));
    form.addEventListener('reset', () => recoverRow.remove());
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void submitting(form, async () => {
        /** @type {Record<string, string>} */
        const body = { since: isoFromInput('since', since.value) };
        if (until.value !== '') body.until = isoFromInput('until', until.value);
        /** @type {{requeued: number}} */
        const result = await api.post(path`/webhooks/${webhook.id}/recover`, body);
        recoverRow.remove();
        const count = result.requeued === 1 ? '1 failed delivery' : `${result.requeued} failed deliveries`;
        notice.show(`${count} of ${webhook.name} re-queued.`);
      });
    });
    row.after(recoverRow);
    since.focus();
  }

  /** @param {Webhook} webhook */
  async function enable(webhook) {
    try {
      await api.post(path`/webhooks/${webhook.id}/enable`);
      notice.show(`Webhook ${webhook.name} enabled; its held deliveries are being sent.`);
      await list.reload();
    } catch (error) {
      notice.fail(`Could not enable ${webhook.name}: ${messageOf(error)}`);
    }
  }

  /** @param {Webhook} webhook */
  async function remove(webhook) {
    if (!window.confirm(`Delete the webhook ${webhook.name}? Its delivery history is kept.`)) return;
    try {
      await api.delete(path`/webhooks/${webhook.id}`);
      notice.show(`Webhook ${webhook.name} deleted.`);
      await list.reload();
    } catch (error) {
      notice.fail(`Could not delete ${webhook.name}: ${messageOf(error)}`);
    }
  }

  const panel = h('section', { class: 'panel', hidden: true, 'aria-labelledby': 'webhook-form-title' });
  const opener = admin ? h('button', { type: 'button', onclick: () => openForm(null) }, 'New webhook') : null;

  /** @param {Webhook | null} existing */
  function openForm(existing) {
    const form = webhookForm(existing, secretNames, async (saved) => {
      panel.hidden = true;
      panel.replaceChildren();
      notice.show(`Webhook ${saved.name} ${existing ? 'saved' : 'created'}.`);
      await list.reload();
    });
    panel.replaceChildren(h('h2', { id: 'webhook-form-title' }, existing ? `Edit webhook ${existing.name}` : 'New webhook'), form);
    panel.hidden = false;
    form.addEventListener('reset', () => {
      panel.hidden = true;
      panel.replaceChildren();
      opener?.focus();
    });
    panel.scrollIntoView({ block: 'start' });
    /** @type {HTMLElement | null} */ (form.querySelector('input'))?.focus();
  }

  /**
   * @param {Webhook | null} existing
   * @param {string[]} secrets
   * @param {(saved: Webhook) => Promise<void>} onSaved
   */
  function webhookForm(existing, secrets, onSaved) {
    const secretOptions = /** @type {(string | [string, string])[]} */ ([['', '— none —'], ...secrets]);
    const name = h('input', { type: 'text', autocomplete: 'off', value: existing?.name ?? '' });
    const kind = select(KINDS, existing?.kind ?? 'generic');
    const url = h('input', { type: 'text', inputmode: 'url', autocomplete: 'off', spellcheck: 'false', value: existing?.url ?? '' });
    const setExample = () => url.setAttribute('placeholder', URL_EXAMPLES[kind.value] ?? '');
    setExample();
    kind.addEventListener('change', setExample);
    const accessToken = select(secretOptions, existing?.accessTokenSecret ?? '');
    const signing = select(secretOptions, existing?.signingSecret ?? '');
    const schemes = choiceGroup({
      key: 'signatureSchemes',
      legend: 'Signature schemes',
      values: SCHEMES,
      checked: existing?.signatureSchemes ?? [],
      labelOf: (s) => SCHEME_LABELS[s] ?? s,
      hint: 'None checked: standard whenever a signing secret is set. standard needs a base64 secret of at least 24 bytes (whsec_…).',
    });
    const payloadSecrets =
      secrets.length > 0
        ? choiceGroup({ key: 'payloadSecrets', legend: 'Secrets payloads and headers may use', values: secrets, checked: existing?.payloadSecrets ?? [], hint: 'Written ${NAME} in a payload or header value.' })
        : h('p', { class: 'hint', 'data-field': 'payloadSecrets' }, 'No secrets yet: create them on the Secrets page to bind them here.', h('span', { class: 'field-error', hidden: true }));
    const headers = h('textarea', { rows: '3', spellcheck: 'false' }, Object.entries(existing?.headers ?? {}).map(([k, v]) => `${k}: ${v}\n`).join(''));
    const initialDelivery = {
      maxAttempts: existing ? String(existing.delivery.maxAttempts) : '',
      ratePerSecond: existing?.delivery.ratePerSecond != null ? String(existing.delivery.ratePerSecond) : '',
      maxConcurrency: existing?.delivery.maxConcurrency != null ? String(existing.delivery.maxConcurrency) : '',
    };
    const maxAttempts = h('input', { type: 'number', min: '1', max: '50', step: '1', value: initialDelivery.maxAttempts });
    const rate = h('input', { type: 'number', min: '0.01', step: 'any', value: initialDelivery.ratePerSecond });
    const concurrency = h('input', { type: 'number', min: '1', step: '1', value: initialDelivery.maxConcurrency });
    const enabled = h('input', { type: 'checkbox', checked: existing ? existing.enabled : true });

    const generator = signingSecretGenerator(name, (secretName) => {
      for (const control of [accessToken, signing]) control.append(h('option', { value: secretName }, secretName));
      signing.value = secretName;
    });
    const form = h(
      'form',
      { novalidate: true, method: 'post', action: '#' },
      formError(),
      h(
        'div',
        { class: 'grid-2' },
        field({ key: 'name', label: 'Name', control: name, hint: 'Letters, digits, _ and -, words separated by single spaces; at most 64.' }),
        field({ key: 'kind', label: 'Kind', control: kind, hint: 'Picks the default payload preset and rate limits (Slack 1/s, Teams 4/s, Discord 5/s).' }),
      ),
      field({ key: 'url', label: 'URL', control: url, hint: 'http or https. Slack, Teams and Discord URLs are credentials: only admins see them whole.' }),
      h(
        'div',
        { class: 'grid-2' },
        field({ key: 'accessTokenSecret', label: 'Access token secret', control: accessToken, hint: 'Sent as Authorization: Bearer …; ${ACCESS_TOKEN} in payloads.' }),
        field({ key: 'signingSecret', label: 'Signing secret', control: signing, hint: 'Signs every request with the schemes below.' }),
      ),
      generator,
      schemes,
      payloadSecrets,
      field({ key: 'headers', label: 'Extra headers', control: headers, hint: 'One "Name: value" per line; values may use ${SECRET}.' }),
      h(
        'details',
        { class: 'delivery-settings', open: existing !== null },
        h('summary', null, 'Delivery limits'),
        h(
          'div',
          { class: 'grid-3' },
          field({ key: 'delivery.maxAttempts', label: 'Max attempts', control: maxAttempts, hint: 'Default 8 (0 s, 5 s, 30 s, 2 m, 10 m, 30 m, 1 h, 3 h).' }),
          field({ key: 'delivery.ratePerSecond', label: 'Requests per second', control: rate, hint: 'Empty: the kind\'s default.' }),
          field({ key: 'delivery.maxConcurrency', label: 'Requests at once', control: concurrency, hint: 'Empty: unlimited.' }),
        ),
        h('div', { class: 'field', 'data-field': 'delivery' }, h('p', { class: 'field-error', hidden: true })),
      ),
      h('div', { class: 'field checkbox', 'data-field': 'enabled' }, h('label', null, enabled, ' Enabled'), h('p', { class: 'field-error', hidden: true })),
      h(
        'div',
        { class: 'form-actions' },
        h('button', { type: 'submit' }, existing ? 'Save webhook' : 'Create webhook'),
        h('button', { type: 'reset', class: 'secondary' }, 'Cancel'),
      ),
    );

    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void submitting(form, async () => {
        const creating = existing === null;
        /** @type {Record<string, unknown>} */
        const body = { name: name.value.trim(), url: url.value.trim(), kind: kind.value };
        const optional = (/** @type {string} */ value) => (value !== '' ? value : creating ? undefined : null);
        body.accessTokenSecret = optional(accessToken.value);
        body.signingSecret = optional(signing.value);
        const chosenSchemes = checkedValues(schemes);
        body.signatureSchemes = chosenSchemes.length > 0 ? chosenSchemes : creating ? undefined : null;
        if (payloadSecrets instanceof HTMLFieldSetElement) {
          const chosen = checkedValues(payloadSecrets);
          body.payloadSecrets = creating && chosen.length === 0 ? undefined : chosen;
        }
        const parsedHeaders = parseHeaders(headers.value);
        body.headers = creating && Object.keys(parsedHeaders).length === 0 ? undefined : parsedHeaders;
        const entered = { maxAttempts: maxAttempts.value, ratePerSecond: rate.value, maxConcurrency: concurrency.value };
        if (JSON.stringify(entered) !== JSON.stringify(initialDelivery)) {
          /** @type {Record<string, unknown>} */
          const delivery = {};
          for (const [key, value] of Object.entries(entered)) {
            if (value.trim() !== '') delivery[key] = Number.isFinite(Number(value)) ? Number(value) : value;
          }
          body.delivery = Object.keys(delivery).length > 0 ? delivery : creating ? undefined : null;
        }
        if (!creating || !enabled.checked) body.enabled = enabled.checked;
        /** @type {Webhook} */
        const saved = creating ? await api.post('/webhooks', body) : await api.patch(path`/webhooks/${existing.id}`, body);
        await onSaved(saved);
      });
    });
    return form;
  }

  /**
   * "Generate a signing secret": POST /secrets/generate (whsec_… or hex), the value shown once,
   * then bound as this form's signing secret. Not a nested form: its own fields and button.
   * @param {HTMLInputElement} webhookName
   * @param {(secretName: string) => void} onGenerated
   */
  function signingSecretGenerator(webhookName, onGenerated) {
    const secretName = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false' });
    const format = select([['whsec', 'whsec_… (Standard Webhooks, every scheme)'], ['hex', '64 hex characters']], 'whsec');
    const status = h('div', { class: 'generated', role: 'status' });
    const fill = () => {
      if (secretName.value !== '') return;
      const base = webhookName.value.trim().toUpperCase().replace(/[^A-Z0-9]+/g, '_').replace(/^_+|_+$/g, '');
      secretName.value = `${/^[A-Z]/.test(base) ? base : 'WEBHOOK'}_SIGNING_SECRET`;
    };
    const box = h(
      'details',
      { class: 'secret-generator' },
      h('summary', { onclick: fill }, 'Generate a signing secret'),
      h(
        'div',
        { class: 'grid-2' },
        field({ key: 'generate.name', label: 'Secret name', control: secretName, hint: 'Upper-case letters, digits and _.' }),
        field({ key: 'generate.format', label: 'Format', control: format }),
      ),
      h('div', { class: 'form-actions' }, h('button', { type: 'button', class: 'secondary', onclick: () => void generate() }, 'Generate and use')),
      status,
    );
    async function generate() {
      const slot = /** @type {HTMLElement} */ (box.querySelector('[data-field="generate.name"] .field-error'));
      slot.hidden = true;
      try {
        /** @type {{name: string, value?: string}} */
        const created = await api.post('/secrets/generate', { name: secretName.value.trim(), format: format.value });
        secretNames.push(created.name);
        onGenerated(created.name);
        status.replaceChildren(
          h('p', { class: 'warning' }, `Secret ${created.name} created and chosen as the signing secret. Copy its value now: it is shown only once.`),
          h('input', { type: 'text', readonly: true, value: created.value ?? '', 'aria-label': `Value of ${created.name}`, spellcheck: 'false' }),
        );
      } catch (error) {
        slot.textContent = messageOf(error);
        slot.hidden = false;
      }
    }
    return box;
  }

  ctx.main.replaceChildren(
    pageHeader('Webhooks', 'Where automations send their payloads: the endpoint, its credentials and how requests are signed.', opener),
    panel,
    notice.element,
    table('Webhooks', ['Name', 'Kind', 'URL', 'State', admin ? 'Actions' : null], list.body),
    list.element,
  );
  await list.reload();
}

const RECENT_TESTS = 5;

/**
 * Test sends are not deliveries: Herald keeps no record of them (they never appear in the
 * delivery history), so the console lists the last few sent from this browser tab.
 * @param {Webhook} webhook
 * @param {TestResult} result
 * @returns {(TestResult & {at: string})[]} the recent tests, newest first
 */
function rememberTest(webhook, result) {
  const storageKey = `herald.tests.${webhook.id}`;
  /** @type {(TestResult & {at: string})[]} */
  let tests = [];
  try {
    tests = JSON.parse(sessionStorage.getItem(storageKey) ?? '[]');
  } catch {
    tests = [];
  }
  tests = [{ ...result, responseExcerpt: '', at: new Date().toISOString() }, ...tests].slice(0, RECENT_TESTS);
  sessionStorage.setItem(storageKey, JSON.stringify(tests));
  return tests;
}

/**
 * @param {Webhook} webhook
 * @param {(TestResult & {at: string})[]} tests
 */
function recentTestList(webhook, tests) {
  return h(
    'section',
    { class: 'recent-tests', 'aria-label': `Recent tests of ${webhook.name}` },
    h('p', { class: 'label' }, 'Recent tests (sent from this tab; tests are not deliveries and are not in the delivery history)'),
    h(
      'ol',
      { class: 'plain' },
      tests.map((t) =>
        h('li', null, time(t.at), ' · ', t.ok ? 'delivered' : 'failed', ' · ', httpBadge(t.statusCode), ' · ', duration(t.durationMs), t.error ? ` · ${t.error}` : ''),
      ),
    ),
  );
}

/**
 * A datetime-local input's value (local time, to the second) for an epoch-ms time.
 * @param {number} ms
 */
export function localInputValue(ms) {
  const local = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 19);
}

/**
 * A datetime-local value as ISO-8601 UTC, or a local problem naming the field.
 * @param {string} key
 * @param {string} value
 */
export function isoFromInput(key, value) {
  const ms = value === '' ? Number.NaN : new Date(value).getTime();
  if (Number.isNaN(ms)) throw localProblem(key, value === '' ? 'is required' : 'must be a date and time');
  return new Date(ms).toISOString();
}

/**
 * "Name: value" lines to a header object; blank lines are skipped.
 * @param {string} text
 * @returns {Record<string, string>}
 */
export function parseHeaders(text) {
  /** @type {Record<string, string>} */
  const headers = {};
  const lines = text.split(/\r?\n/);
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    const colon = line.indexOf(':');
    if (colon <= 0) throw localProblem('headers', `line ${index + 1} must look like "Name: value"`);
    headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  });
  return headers;
}
