// @ts-check
import { messageOf, path } from '../api.js';
import { DELIVERY_STATUSES, Notice, duration, facts, h, httpBadge, pageHeader, prettyJson, statusBadge, table, time } from '../dom.js';
import { field, formError, select, showProblem } from '../forms.js';
import { PagedTable } from '../pager.js';

/**
 * @typedef {object} Delivery
 * @property {string} id
 * @property {string} status
 * @property {string | null} automationId
 * @property {string | null} automationName
 * @property {string} webhookId
 * @property {string | null} eventId
 * @property {string} eventType
 * @property {number} series
 * @property {number} attemptCount
 * @property {string | null} nextAttemptAt
 * @property {number | null} lastStatusCode
 * @property {string | null} lastError
 * @property {string} createdAt
 * @property {string} updatedAt
 */
/**
 * @typedef {object} Attempt
 * @property {number} series
 * @property {number} number
 * @property {string} startedAt
 * @property {number} durationMs
 * @property {number | null} statusCode
 * @property {string} responseExcerpt
 * @property {string | null} errorClass
 * @property {string | null} errorMessage
 * @property {boolean} willRetry
 */
/** @typedef {Delivery & {body: string, attempts: Attempt[], request: {url: string, headers: Record<string, string>} | null}} DeliveryDetail */

/** States in which the worker still acts: the page refreshes itself, and redelivery waits. */
const IN_FLIGHT = new Set(['pending', 'sending', 'retrying']);
const FILTERS = ['automation', 'webhook', 'status', 'event', 'from', 'to'];

/**
 * Deliveries: the filterable history, and one delivery with its attempt timeline.
 * @param {import('../main.js').PageContext} ctx
 */
export async function renderDeliveries(ctx) {
  if (ctx.id) return renderDelivery(ctx, ctx.id);
  const { api } = ctx;
  /** @type {[{id: string, name: string}[], {id: string, name: string}[]]} */
  const [automations, webhooks] = await Promise.all([api.all('/automations'), api.all('/webhooks')]);
  const webhookNames = new Map(webhooks.map((w) => [w.id, w.name]));
  const q = ctx.query;

  const automation = select([['', 'Any automation'], ...automations.map((a) => /** @type {[string, string]} */ ([a.id, a.name]))], q.get('automation') ?? '');
  const webhook = select([['', 'Any webhook'], ...webhooks.map((w) => /** @type {[string, string]} */ ([w.id, w.name]))], q.get('webhook') ?? '');
  const status = select([['', 'Any status'], ...DELIVERY_STATUSES], q.get('status') ?? '');
  const event = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', value: q.get('event') ?? '' });
  const from = h('input', { type: 'datetime-local', step: '1', value: toLocalInput(q.get('from')) });
  const to = h('input', { type: 'datetime-local', step: '1', value: toLocalInput(q.get('to')) });
  const filters = h(
    'form',
    { class: 'panel filters', novalidate: true, method: 'post', action: '#', 'aria-label': 'Filter deliveries' },
    formError(),
    h(
      'div',
      { class: 'grid-3' },
      field({ key: 'automation', label: 'Automation', control: automation }),
      field({ key: 'webhook', label: 'Webhook', control: webhook }),
      field({ key: 'status', label: 'Status', control: status }),
      field({ key: 'event', label: 'Event id', control: event }),
      field({ key: 'from', label: 'Created from', control: from, hint: 'Your local time.' }),
      field({ key: 'to', label: 'Created before', control: to }),
    ),
    h(
      'div',
      { class: 'form-actions' },
      h('button', { type: 'submit' }, 'Apply filters'),
      h('button', { type: 'button', class: 'secondary', onclick: () => ctx.go('#/deliveries') }, 'Clear'),
    ),
  );
  filters.addEventListener('submit', (e) => {
    e.preventDefault();
    const params = new URLSearchParams();
    const values = { automation: automation.value, webhook: webhook.value, status: status.value, event: event.value.trim(), from: fromLocalInput(from.value), to: fromLocalInput(to.value) };
    for (const [name, value] of Object.entries(values)) if (value) params.set(name, value);
    const query = params.toString();
    ctx.go(`#/deliveries${query ? `?${query}` : ''}`);
  });

  /** @type {Record<string, string>} */
  const query = {};
  for (const name of FILTERS) {
    const value = q.get(name);
    if (value) query[name] = value;
  }
  /** @type {PagedTable<Delivery>} */
  const list = new PagedTable({
    api,
    path: '/deliveries',
    query,
    columns: 8,
    noun: ['delivery', 'deliveries'],
    empty: Object.keys(query).length > 0 ? 'No delivery matches these filters.' : 'No deliveries yet: they appear when an automation fires.',
    signal: ctx.signal,
    // A filter Herald refused (e.g. an unknown status typed into the URL) is shown next to its field.
    onError: (error) => showProblem(filters, error, { focus: false }),
    row: (d) =>
      h(
        'tr',
        { 'data-delivery': d.id },
        h('th', { scope: 'row' }, h('a', { href: `#/deliveries/${encodeURIComponent(d.id)}` }, h('code', null, d.id))),
        h('td', null, statusBadge(d.status)),
        h('td', null, d.automationName ?? h('span', { class: 'muted' }, 'test or deleted')),
        h('td', null, webhookNames.get(d.webhookId) ?? h('span', { class: 'muted' }, 'deleted webhook')),
        h('td', null, d.eventType, d.eventId ? h('p', { class: 'small' }, h('a', { href: `#/events/${encodeURIComponent(d.eventId)}` }, d.eventId)) : null),
        h('td', null, String(d.attemptCount), d.series > 1 ? h('span', { class: 'muted small' }, ` (series ${d.series})`) : null),
        h('td', null, d.lastStatusCode !== null ? httpBadge(d.lastStatusCode) : d.lastError ? h('span', { class: 'error-text small' }, d.lastError) : '—'),
        h('td', null, time(d.createdAt)),
      ),
  });

  ctx.main.replaceChildren(
    pageHeader('Deliveries', 'Every payload Herald sent or will send, newest first, with each attempt.'),
    filters,
    table('Deliveries', ['Delivery', 'Status', 'Automation', 'Webhook', 'Event', 'Attempts', 'Last result', 'Created'], list.body),
    list.element,
  );
  await list.reload();
}

/**
 * One delivery: its state, attempts grouped by series, the stored body, and Redeliver.
 * While the worker still acts on it the page refreshes itself.
 * @param {import('../main.js').PageContext} ctx
 * @param {string} id
 */
async function renderDelivery(ctx, id) {
  const { api, admin, signal } = ctx;
  const notice = new Notice();
  /** @type {DeliveryDetail} */
  let delivery = await api.get(path`/deliveries/${id}`, undefined, signal);
  /** @type {{name: string} | null} */
  const webhook = await api.get(path`/webhooks/${delivery.webhookId}`, undefined, signal).catch(() => null);
  const summary = h('div');
  const attempts = h('div', { class: 'attempts' });
  const body = h('pre', { class: 'body' });
  const request = h('div', { class: 'request' });
  const hint = h('p', { class: 'hint', id: 'redeliver-hint' });
  const redeliver = admin ? h('button', { type: 'button', 'aria-describedby': 'redeliver-hint', onclick: () => void doRedeliver() }, 'Redeliver') : null;
  let polling = false;

  function draw() {
    summary.replaceChildren(
      facts([
        ['Status', statusBadge(delivery.status)],
        ['Automation', delivery.automationName ?? '—'],
        ['Webhook', webhook ? webhook.name : `${delivery.webhookId} (deleted)`],
        ['Event', delivery.eventId ? h('a', { href: `#/events/${encodeURIComponent(delivery.eventId)}` }, `${delivery.eventType} ${delivery.eventId}`) : delivery.eventType],
        ['Series', String(delivery.series)],
        ['Attempts in this series', String(delivery.attemptCount)],
        ['Next attempt', delivery.nextAttemptAt ? time(delivery.nextAttemptAt) : null],
        ['Created', time(delivery.createdAt)],
        ['Updated', time(delivery.updatedAt)],
      ]),
    );
    const inFlight = IN_FLIGHT.has(delivery.status);
    if (redeliver) redeliver.disabled = inFlight;
    hint.textContent = inFlight
      ? 'Redeliver becomes available when the current attempts are over; this page refreshes itself meanwhile.'
      : 'Sends the stored body again with current secret values and fresh signatures, as a new series of the same delivery id.';
    attempts.replaceChildren(...attemptTimeline(delivery.attempts));
    request.replaceChildren(...requestView(delivery.request));
    body.textContent = prettyJson(delivery.body);
  }

  async function refresh() {
    delivery = await api.get(path`/deliveries/${id}`, undefined, signal);
    draw();
  }

  /** Refreshes while the worker still acts on the delivery. */
  async function follow() {
    if (polling) return;
    polling = true;
    try {
      while (!signal.aborted && IN_FLIGHT.has(delivery.status)) {
        await sleep(delivery.status === 'retrying' ? 3000 : 700, signal);
        if (signal.aborted) return;
        await refresh();
      }
    } catch (error) {
      if (!signal.aborted) notice.fail(`Could not refresh: ${messageOf(error)}`);
    } finally {
      polling = false;
    }
  }

  async function doRedeliver() {
    if (!redeliver) return;
    redeliver.disabled = true;
    try {
      /** @type {Delivery} */
      const queued = await api.post(path`/deliveries/${id}/redeliver`);
      // Show the answer at once (status pending, the new series), then follow the worker.
      delivery = { ...delivery, ...queued };
      draw();
      notice.show(`Redelivery queued as series ${queued.series}.`);
      await refresh();
      void follow();
    } catch (error) {
      notice.fail(`Could not redeliver: ${messageOf(error)}`);
      redeliver.disabled = IN_FLIGHT.has(delivery.status);
    }
  }

  draw();
  ctx.main.replaceChildren(
    h('p', { class: 'breadcrumb' }, h('a', { href: '#/deliveries' }, '← All deliveries')),
    pageHeader(
      `Delivery ${delivery.id}`,
      'The same id in every attempt (webhook-id, X-Herald-Delivery): receivers deduplicate on it.',
      redeliver ? h('div', { class: 'redeliver' }, redeliver, hint) : null,
    ),
    notice.element,
    summary,
    h('section', { 'aria-labelledby': 'attempts-title' }, h('h2', { id: 'attempts-title' }, 'Attempts'), attempts),
    h('section', { 'aria-labelledby': 'request-title' }, h('h2', { id: 'request-title' }, 'Request'), request),
    h('section', { 'aria-labelledby': 'body-title' }, h('h2', { id: 'body-title' }, 'Body'), h('p', { class: 'hint' }, 'As stored: secrets appear as ${NAME}, never as values.'), body),
  );
  void follow();
}

/**
 * The request an attempt sends: URL (masked for members where it is a credential) and
 * headers, secrets as ${NAME} and signatures computed at each attempt.
 * @param {DeliveryDetail['request']} request
 */
function requestView(request) {
  if (!request) return [h('p', { class: 'hint' }, 'Its webhook was deleted: no request is sent any more.')];
  return [
    h('p', { class: 'hint' }, 'As the webhook is configured now (a redelivery sends this): secrets appear as ${NAME}, never as values.'),
    h('p', null, h('strong', null, 'POST '), h('code', { class: 'request-url' }, request.url)),
    h(
      'dl',
      { class: 'headers' },
      Object.entries(request.headers).map(([name, value]) => [h('dt', null, name), h('dd', null, h('code', null, value))]),
    ),
  ];
}

/**
 * Attempts grouped by series, oldest first.
 * @param {Attempt[]} attempts
 */
function attemptTimeline(attempts) {
  if (attempts.length === 0) return [h('p', { class: 'hint' }, 'No attempt yet.')];
  /** @type {Map<number, Attempt[]>} */
  const bySeries = new Map();
  for (const attempt of [...attempts].sort((a, b) => a.series - b.series || a.number - b.number)) {
    bySeries.set(attempt.series, [...(bySeries.get(attempt.series) ?? []), attempt]);
  }
  return [...bySeries].map(([series, items]) =>
    h(
      'section',
      { class: 'series', 'data-series': String(series) },
      h('h3', null, series === 1 ? 'Series 1' : `Series ${series} (redelivery or re-queue)`),
      h(
        'ol',
        { class: 'timeline' },
        items.map((a) => {
          const ok = a.statusCode !== null && a.statusCode >= 200 && a.statusCode < 300;
          return h(
            'li',
            { class: `attempt ${ok ? 'ok' : 'failed'}` },
            h(
              'p',
              { class: 'attempt-head' },
              h('strong', null, `Attempt ${a.number}`),
              ' · ',
              time(a.startedAt),
              ' · ',
              a.statusCode !== null ? httpBadge(a.statusCode) : h('span', { class: 'badge status-failed' }, a.errorClass ?? 'error'),
              ' · ',
              duration(a.durationMs),
              a.willRetry ? ' · a retry follows' : '',
            ),
            a.errorMessage ? h('p', { class: 'error-text' }, a.errorMessage) : null,
            h('p', { class: 'label' }, 'Response excerpt'),
            h('pre', { class: 'excerpt' }, a.responseExcerpt === '' ? '(empty)' : a.responseExcerpt),
          );
        }),
      ),
    ),
  );
}

/**
 * @param {number} ms
 * @param {AbortSignal} signal
 */
function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve(undefined);
    }, { once: true });
  });
}

const pad = (/** @type {number} */ n) => String(n).padStart(2, '0');

/**
 * An ISO time as a datetime-local value in the viewer's zone.
 * @param {string | null} iso
 */
export function toLocalInput(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/**
 * A datetime-local value (the viewer's zone) as ISO UTC; anything unparsable is passed on
 * as typed so Herald names the field.
 * @param {string} value
 */
export function fromLocalInput(value) {
  if (!value) return '';
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? value : d.toISOString();
}
