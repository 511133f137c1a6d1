// @ts-check
/**
 * DOM building without innerHTML: every value from the API reaches the page as text, so a
 * run named `<img onerror=…>` stays a name (and the page's CSP forbids inline script anyway).
 */

/**
 * What may be given as a child: a node, text, nothing (skipped), or a nested list of these.
 * @typedef {Node | string | number | null | undefined | false | readonly unknown[]} Child
 */

/**
 * Creates an element. `props`: `on<event>` functions become listeners, `class` the class
 * name, `value`/`checked`/`selected` set properties, `true` an empty attribute; null,
 * undefined and false are skipped. Strings and numbers among the children become text.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, unknown> | null} [props]
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, props, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), /** @type {EventListener} */ (value));
    } else if (name === 'class') {
      element.className = String(value);
    } else if (name === 'value' || name === 'checked' || name === 'selected') {
      /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (element))[name] = value;
    } else {
      element.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(element, children);
  return element;
}

/**
 * Appends children (flattened; strings and numbers as text; null, undefined, false skipped).
 * @param {Element} parent
 * @param {Child[]} children
 */
export function append(parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, /** @type {Child[]} */ (child));
    else parent.append(typeof child === 'string' || typeof child === 'number' ? String(child) : /** @type {Node} */ (child));
  }
}

/**
 * Replaces an element's content (children as for `h`).
 * @param {Element} parent
 * @param {...Child} children
 */
export function fill(parent, ...children) {
  parent.replaceChildren();
  append(parent, children);
}

let nextId = 0;
/** A document-unique id for labels and descriptions. @param {string} prefix */
export function uid(prefix) {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

const pad = (/** @type {number} */ n) => String(n).padStart(2, '0');

/**
 * A time in the viewer's zone as `YYYY-MM-DD HH:MM:SS`, the ISO value in `datetime`.
 * @param {string | null | undefined} iso
 * @returns {HTMLElement | string}
 */
export function time(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const text =
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
  return h('time', { datetime: iso, title: iso }, text);
}

/** @param {number | null | undefined} ms */
export function duration(ms) {
  if (ms === null || ms === undefined) return '—';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** The delivery states (docs/design.md › Delivery), one vocabulary with the API and the metrics. */
export const DELIVERY_STATUSES = ['pending', 'sending', 'retrying', 'succeeded', 'failed', 'held', 'cancelled'];

/** A delivery status as a coloured badge; the word itself carries the meaning, not the colour. @param {string} status */
export function statusBadge(status) {
  return h('span', { class: `badge status-${status}` }, status);
}

/** An HTTP status code as a badge: 2xx good, anything else bad, none at all neutral. @param {number | null} statusCode */
export function httpBadge(statusCode) {
  if (statusCode === null) return h('span', { class: 'badge status-none' }, 'no response');
  const good = statusCode >= 200 && statusCode < 300;
  return h('span', { class: `badge ${good ? 'status-succeeded' : 'status-failed'}` }, `HTTP ${statusCode}`);
}

/**
 * Pretty JSON for display; a string that is JSON text is parsed first, other strings stay as they are.
 * @param {unknown} value
 */
export function prettyJson(value) {
  if (typeof value === 'string') {
    try {
      return JSON.stringify(JSON.parse(value), null, 2);
    } catch {
      return value;
    }
  }
  return JSON.stringify(value, null, 2) ?? '';
}

/**
 * The heading block of a page: an h1 that receives focus after navigation, a short
 * explanation and optional actions.
 * @param {string} title
 * @param {Child} intro
 * @param {...Child} actions
 */
export function pageHeader(title, intro, ...actions) {
  return h(
    'div',
    { class: 'page-header' },
    h('div', null, h('h1', { tabindex: '-1' }, title), intro ? h('p', { class: 'intro' }, intro) : null),
    h('div', { class: 'page-actions' }, ...actions),
  );
}

/**
 * A table in a horizontally scrollable wrapper (wide tables scroll inside it, not the page).
 * @param {string} caption
 * @param {(string | null)[]} headings
 * @param {HTMLTableSectionElement} body
 */
export function table(caption, headings, body) {
  // Narrow windows show each row as a card (styles.css): every cell carries its column's name.
  const labels = /** @type {string[]} */ (headings.filter((x) => x !== null));
  /** @param {Node} row */
  const label = (row) => {
    if (!(row instanceof HTMLTableRowElement)) return;
    [...row.cells].forEach((cell, i) => {
      if (cell.tagName === 'TD' && !cell.hasAttribute('colspan') && labels[i]) cell.dataset.label = labels[i];
    });
  };
  [...body.rows].forEach(label);
  new MutationObserver((records) => records.forEach((r) => r.addedNodes.forEach(label))).observe(body, { childList: true });
  return h(
    'div',
    { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption },
    h(
      'table',
      null,
      h('caption', { class: 'visually-hidden' }, caption),
      h('thead', null, h('tr', null, headings.filter((x) => x !== null).map((x) => h('th', { scope: 'col' }, x)))),
      body,
    ),
  );
}

/**
 * Two live regions: polite for confirmations, assertive for errors, so both are announced
 * and the visible message is the newest.
 */
export class Notice {
  constructor() {
    this.info = h('p', { class: 'notice notice-info', role: 'status' });
    this.error = h('p', { class: 'notice notice-error', role: 'alert' });
    this.element = h('div', { class: 'notices' }, this.info, this.error);
  }

  /** @param {string} text */
  show(text) {
    this.error.textContent = '';
    this.info.textContent = text;
  }

  /** @param {string} text */
  fail(text) {
    this.info.textContent = '';
    this.error.textContent = text;
  }

  clear() {
    this.info.textContent = '';
    this.error.textContent = '';
  }
}

/**
 * A definition list from label/value pairs; pairs with a null value are left out.
 * @param {[string, Child][]} pairs
 */
export function facts(pairs) {
  return h(
    'dl',
    { class: 'facts' },
    pairs.filter(([, value]) => value !== null).map(([label, value]) => h('div', null, h('dt', null, label), h('dd', null, value))),
  );
}
