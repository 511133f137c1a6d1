// @ts-check
import { messageOf } from './api.js';
import { h } from './dom.js';

/**
 * @template T
 * @typedef {object} PagedTableOptions
 * @property {import('./api.js').Api} api
 * @property {string} path the list endpoint under /v1
 * @property {import('./api.js').Query} [query] filters
 * @property {number} [pageSize]
 * @property {number} columns for the "nothing here" row
 * @property {string} empty what to say when the list is empty
 * @property {[string, string]} noun singular and plural, for "Showing 1 delivery", "Showing 25 deliveries"
 * @property {(item: T) => HTMLTableRowElement | HTMLTableRowElement[]} row
 * @property {AbortSignal} [signal] the page's lifetime
 * @property {(error: unknown) => void} [onError] e.g. to show a refused filter next to its field
 */

/**
 * A table body filled a page at a time from a list endpoint; "Load more" follows
 * `nextCursor` until it is null, so long lists never load whole.
 * @template T
 */
export class PagedTable {
  /** @param {PagedTableOptions<T>} options */
  constructor(options) {
    this.options = options;
    /** @type {string | null} */
    this.cursor = null;
    this.count = 0;
    this.body = h('tbody');
    this.status = h('p', { class: 'pager-status', role: 'status' });
    this.more = h('button', { type: 'button', class: 'secondary', hidden: true, onclick: () => void this.next() }, 'Load more');
    this.element = h('div', { class: 'pager' }, this.status, this.more);
  }

  /** Starts over from the first page. */
  async reload() {
    this.cursor = null;
    this.count = 0;
    this.body.replaceChildren();
    await this.next();
  }

  /** Loads the next page and appends its rows. */
  async next() {
    const { api, path, query, pageSize = 25, signal } = this.options;
    this.more.disabled = true;
    this.status.textContent = 'Loading…';
    try {
      /** @type {import('./api.js').Page<T>} */
      const page = await api.get(path, { ...query, limit: pageSize, cursor: this.cursor }, signal);
      if (this.count === 0) this.body.replaceChildren();
      for (const item of page.items) {
        const rows = this.options.row(item);
        this.body.append(...(Array.isArray(rows) ? rows : [rows]));
      }
      this.count += page.items.length;
      this.cursor = page.nextCursor;
      if (this.count === 0) {
        this.body.append(h('tr', { class: 'empty' }, h('td', { colspan: String(this.options.columns) }, this.options.empty)));
      }
      this.status.textContent =
        this.count === 0 ? '' : `Showing ${this.count} ${this.options.noun[this.count === 1 ? 0 : 1]}${this.cursor ? '; more are available' : ''}.`;
      this.more.hidden = this.cursor === null;
    } catch (error) {
      if (signal?.aborted) return;
      this.status.textContent = `Could not load the list: ${messageOf(error)}`;
      this.options.onError?.(error);
      this.more.hidden = this.cursor === null;
    } finally {
      this.more.disabled = false;
    }
  }
}
