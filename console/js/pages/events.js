// @ts-check
import { path } from '../api.js';
import { facts, h, pageHeader, prettyJson, statusBadge, table, time } from '../dom.js';
import { field, formError, select, showProblem, submitting } from '../forms.js';
import { isArtifactTrigger, isMetricTrigger } from '../triggers.js';
import { PagedTable } from '../pager.js';

/**
 * @typedef {object} EventSummary
 * @property {string} id
 * @property {string} type
 * @property {string} project
 * @property {string | null} runId
 * @property {string} occurredAt
 * @property {string} receivedAt
 * @property {number} matched
 * @property {string | null} [runName] run.name
 * @property {number} [batchIndex] its position in the request that posted it
 */
/**
 * @typedef {object} EventOutcome
 * @property {{automationId: string, automationName: string, deliveryId: string}[]} matched
 * @property {{automationId: string, automationName: string, reason: string, detail?: string, deliveryId?: string}[]} suppressed
 * @property {{automationId: string, automationName: string, error: string}[]} failed
 * @property {NotFired[]} [notFired] candidates that did not fire, and why
 * @property {number} [notFiredOmitted]
 */
/** @typedef {{automationId: string, automationName: string, reason: string, filter?: string, have?: number, need?: number}} NotFired */
/**
 * @typedef {EventSummary & {event: Record<string, unknown>, outcome: EventOutcome,
 *   deliveries: {id: string, automationId: string | null, automationName: string | null, webhookId: string, status: string}[]}} EventDetail
 */

const EVENT_TYPES = [
  'RUN_METRICS',
  'RUN_STATE',
  'RUN_LOG',
  'ALERT',
  'CREATE_ARTIFACT',
  'LINK_ARTIFACT',
  'UNLINK_ARTIFACT',
  'ADD_ARTIFACT_ALIAS',
  'REMOVE_ARTIFACT_ALIAS',
  'ADD_ARTIFACT_TAG',
  'REMOVE_ARTIFACT_TAG',
  'WEBHOOK_DISABLED',
  'DELIVERY_FAILED',
];

const SUPPRESSION_REASONS = /** @type {Record<string, string>} */ ({
  cooldown: 'it fired for this run or collection within its cooldown',
  edge: 'its condition was already true when it last fired (edge-triggered: it re-arms once the condition is false)',
  webhook_disabled: 'its webhook was disabled, so the delivery was recorded as cancelled or held',
});

/**
 * Events: recent events with how many automations each fired, and one event with what it
 * matched, what held back, and what failed.
 * @param {import('../main.js').PageContext} ctx
 */
export async function renderEvents(ctx) {
  if (ctx.id) return renderEvent(ctx, ctx.id);
  const { api } = ctx;
  const q = ctx.query;
  const type = select([['', 'Any type'], ...EVENT_TYPES], q.get('type') ?? '');
  const project = h('input', { type: 'text', autocomplete: 'off', value: q.get('project') ?? '' });
  const run = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', value: q.get('run') ?? '' });
  const filters = h(
    'form',
    { class: 'panel filters', novalidate: true, method: 'post', action: '#', 'aria-label': 'Filter events' },
    formError(),
    h(
      'div',
      { class: 'grid-3' },
      field({ key: 'type', label: 'Type', control: type }),
      field({ key: 'project', label: 'Project', control: project }),
      field({ key: 'run', label: 'Run id', control: run }),
    ),
    h(
      'div',
      { class: 'form-actions' },
      h('button', { type: 'submit' }, 'Apply filters'),
      h('button', { type: 'button', class: 'secondary', onclick: () => ctx.go('#/events') }, 'Clear'),
    ),
  );
  filters.addEventListener('submit', (e) => {
    e.preventDefault();
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries({ type: type.value, project: project.value.trim(), run: run.value.trim() })) {
      if (value) params.set(name, value);
    }
    const query = params.toString();
    ctx.go(`#/events${query ? `?${query}` : ''}`);
  });

  /** @type {Record<string, string>} */
  const query = {};
  for (const name of ['type', 'project', 'run']) {
    const value = q.get(name);
    if (value) query[name] = value;
  }
  /** @type {PagedTable<EventSummary>} */
  const list = new PagedTable({
    api,
    path: '/events',
    query,
    columns: 6,
    noun: ['event', 'events'],
    empty: Object.keys(query).length > 0 ? 'No event matches these filters.' : 'No events yet: post them to /v1/events.',
    signal: ctx.signal,
    onError: (error) => showProblem(filters, error, { focus: false }),
    row: (e) =>
      h(
        'tr',
        { 'data-event': e.id },
        h('th', { scope: 'row' }, h('a', { href: `#/events/${encodeURIComponent(e.id)}` }, h('code', null, e.id))),
        h('td', null, e.type),
        h('td', null, e.project),
        h('td', null, e.runName ? [e.runName, h('p', { class: 'muted small' }, e.runId ?? '')] : (e.runId ?? '—')),
        h('td', null, time(e.occurredAt), e.batchIndex ? h('p', { class: 'muted small' }, `#${e.batchIndex + 1} of its batch`) : null),
        h('td', null, e.matched === 0 ? h('span', { class: 'muted' }, 'none') : `${e.matched} automation${e.matched === 1 ? '' : 's'}`),
      ),
  });

  ctx.main.replaceChildren(
    pageHeader('Events', 'Events posted to Herald, newest first, with what each one set off.'),
    ...(ctx.admin ? [testEventForm(ctx, q.get('project') ?? '')] : []),
    filters,
    table('Events', ['Event', 'Type', 'Project', 'Run', 'Occurred', 'Fired'], list.body),
    list.element,
  );
  await list.reload();
}

/**
 * "Send a test event" (admin): posts one event for a project through POST /v1/events, as a
 * training job would, then opens it to show what it set off. It is a real event: matching
 * automations fire and deliver.
 * @param {import('../main.js').PageContext} ctx
 * @param {string} initialProject
 */
function testEventForm(ctx, initialProject) {
  const project = h('input', { type: 'text', autocomplete: 'off', value: initialProject });
  const kind = select(
    [
      ['RUN_STATE', 'A run failed (RUN_STATE, state FAILED)'],
      ['RUN_STATE_FINISHED', 'A run finished (RUN_STATE, state FINISHED)'],
      ['ALERT', 'An alert (ALERT, level ERROR)'],
    ],
    'RUN_STATE',
  );
  const run = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', value: 'console-test-run' });
  const form = h(
    'form',
    { class: 'panel', novalidate: true, method: 'post', action: '#', 'aria-labelledby': 'test-event-title' },
    h('details', null,
      h('summary', { id: 'test-event-title' }, 'Send a test event'),
      h('p', { class: 'hint' }, 'A real event: automations that match it fire and deliver.'),
      formError(),
      h(
        'div',
        { class: 'grid-3' },
        field({ key: 'project', label: 'Project', control: project }),
        field({ key: 'type', label: 'Event', control: kind }),
        field({ key: 'run', label: 'Run id', control: run }),
      ),
      h('div', { class: 'form-actions' }, h('button', { type: 'submit' }, 'Send test event')),
    ),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void submitting(form, async () => {
      const runRef = { id: run.value.trim(), name: run.value.trim() };
      const base = { project: project.value.trim(), author: 'herald-console' };
      const event =
        kind.value === 'ALERT'
          ? { type: 'ALERT', ...base, title: 'Test alert from the Herald console', level: 'ERROR', run: runRef }
          : { type: 'RUN_STATE', ...base, run: { ...runRef, state: kind.value === 'RUN_STATE' ? 'FAILED' : 'FINISHED' } };
      /** @type {{results: {id: string}[]}} */
      const answer = await ctx.api.post('/events', event);
      ctx.go(`#/events/${encodeURIComponent(answer.results[0].id)}`);
    });
  });
  return form;
}

/** The event type a trigger listens to (src/automations/triggers.ts listenedEventType). @param {string} trigger */
function listenedType(trigger) {
  if (isMetricTrigger(trigger)) return 'RUN_METRICS';
  if (trigger === 'RUN_LOG_MATCH') return 'RUN_LOG';
  return trigger;
}

/**
 * Automations that listen to this event: enabled, a trigger on its type, a scope that covers
 * its project. None: "no automation listens"; some with no outcome: evaluated, no filter passed.
 * @param {{enabled: boolean, name: string, scope: {type: string, name?: string}, trigger: {event: string}}[]} automations
 * @param {EventDetail} detail
 */
function listenersOf(automations, detail) {
  return automations.filter((a) => {
    if (!a.enabled || listenedType(a.trigger.event) !== detail.type) return false;
    if (a.scope.type === 'team') return true;
    if (a.scope.name !== detail.project) return false;
    return a.scope.type === 'project' || (isArtifactTrigger(a.trigger.event) && detail.event.registry === true);
  });
}

/** The outcome lists Herald knows; any other list of the outcome is shown under its own name. */
const KNOWN_OUTCOME = new Set(['matched', 'suppressed', 'failed', 'notFired']);

/** Why a candidate did not fire (src/matching/matcher.ts NotFiredReason): held back, not evaluated, or evaluated false. */
const NOT_FIRED = /** @type {Record<string, (n: NotFired) => string>} */ ({
  filter: (n) => `held back by its ${n.filter === 'runFilter' ? 'run filter' : n.filter === 'filter' ? 'attribute filter' : 'scope'}`,
  window: (n) => `not evaluated: its metric window holds ${n.have} of the ${n.need} values it needs`,
  condition: () => 'evaluated: its condition does not hold',
});

/** `notEvaluated` → "Not evaluated". @param {string} key */
function headingOf(key) {
  const words = key.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/_/g, ' ').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * @param {import('../main.js').PageContext} ctx
 * @param {string} id
 */
async function renderEvent(ctx, id) {
  /** @type {EventDetail} */
  const detail = await ctx.api.get(path`/events/${id}`, undefined, ctx.signal);
  const statusOf = new Map(detail.deliveries.map((d) => [d.id, d.status]));
  /** @param {string} deliveryId */
  const deliveryLink = (deliveryId) => [
    h('a', { href: `#/deliveries/${encodeURIComponent(deliveryId)}` }, h('code', null, deliveryId)),
    ' ',
    statusOf.has(deliveryId) ? statusBadge(statusOf.get(deliveryId) ?? '') : null,
  ];
  const { matched, suppressed, failed } = detail.outcome;
  /** Lists the outcome has beyond the three above (e.g. automations not evaluated yet), each item with its reason. */
  const notFired = detail.outcome.notFired ?? [];
  const others = Object.entries(detail.outcome).filter(([key, value]) => !KNOWN_OUTCOME.has(key) && Array.isArray(value) && value.length > 0);
  const nothing = matched.length + suppressed.length + failed.length + notFired.length === 0 && others.length === 0;
  let noOutcome = '';
  if (nothing) {
    /** @type {any[]} */
    const automations = await ctx.api.all('/automations').catch(() => []);
    const listeners = listenersOf(automations, detail);
    noOutcome =
      listeners.length === 0
        ? `No automation listens: none is enabled with a ${detail.type} trigger and a scope covering ${detail.project}.`
        : `Not fired: ${listeners.map((a) => a.name).join(', ')} ${listeners.length === 1 ? 'listens' : 'listen'} to ${detail.type} in ${detail.project}, but ${listeners.length === 1 ? 'its filters' : 'their filters'} did not pass. Preview ${listeners.length === 1 ? 'it' : 'one'} with this event to see which.`;
  }
  const run = /** @type {{id?: string, name?: string} | undefined} */ (detail.event.run);

  ctx.main.replaceChildren(
    h('p', { class: 'breadcrumb' }, h('a', { href: '#/events' }, '← All events')),
    pageHeader(`Event ${detail.id}`, `${detail.type} in ${detail.project}`),
    facts([
      ['Type', detail.type],
      ['Project', detail.project],
      ['Run', run?.name && run.name !== detail.runId ? `${run.name} (${detail.runId})` : detail.runId],
      ['Occurred', time(detail.occurredAt)],
      ['Received', time(detail.receivedAt)],
      ['Deliveries', detail.deliveries.length > 0 ? h('a', { href: `#/deliveries?event=${encodeURIComponent(detail.id)}` }, `${detail.deliveries.length}, in Deliveries`) : 'none'],
    ]),
    h(
      'section',
      { class: 'outcome', 'aria-labelledby': 'outcome-title' },
      h('h2', { id: 'outcome-title' }, 'What it set off'),
      nothing ? h('p', { class: 'no-outcome' }, noOutcome) : null,
      matched.length > 0
        ? [
            h('h3', null, 'Fired'),
            h('ul', { class: 'outcome-list' }, matched.map((m) => h('li', { class: 'fired' }, h('strong', null, m.automationName), ' fired: delivery ', deliveryLink(m.deliveryId)))),
          ]
        : null,
      suppressed.length > 0
        ? [
            h('h3', null, 'Held back'),
            h(
              'ul',
              { class: 'outcome-list' },
              suppressed.map((s) =>
                h(
                  'li',
                  { class: 'suppressed' },
                  h('strong', null, s.automationName),
                  ` matched but did not send: ${SUPPRESSION_REASONS[s.reason] ?? s.reason}.`,
                  s.detail ? ` ${s.detail}` : null,
                  s.deliveryId ? [' Delivery ', deliveryLink(s.deliveryId)] : null,
                ),
              ),
            ),
          ]
        : null,
      notFired.length > 0
        ? [
            h('h3', null, 'Did not fire'),
            h(
              'ul',
              { class: 'outcome-list' },
              notFired.map((n) => h('li', { class: `not-fired not-fired-${n.reason}` }, h('strong', null, n.automationName), ` ${NOT_FIRED[n.reason]?.(n) ?? n.reason}.`)),
            ),
            detail.outcome.notFiredOmitted ? h('p', { class: 'hint' }, `${detail.outcome.notFiredOmitted} more did not fire (not listed).`) : null,
          ]
        : null,
      others.map(([key, items]) => [
        h('h3', null, headingOf(key)),
        h(
          'ul',
          { class: 'outcome-list' },
          /** @type {Record<string, unknown>[]} */ (items).map((item) =>
            h('li', { class: key }, h('strong', null, String(item.automationName ?? item.automationId ?? '')), item.reason ? `: ${String(item.reason)}` : '', item.detail ? ` — ${String(item.detail)}` : ''),
          ),
        ),
      ]),
      failed.length > 0
        ? [
            h('h3', null, 'Failed'),
            h('ul', { class: 'outcome-list' }, failed.map((f) => h('li', { class: 'failed' }, h('strong', null, f.automationName), ' matched but its payload could not be rendered: ', f.error))),
          ]
        : null,
    ),
    h('section', { 'aria-labelledby': 'event-body-title' }, h('h2', { id: 'event-body-title' }, 'Event as stored'), h('pre', { class: 'body' }, prettyJson(detail.event))),
  );
}
