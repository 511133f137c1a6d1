// @ts-check
import { messageOf, path } from '../api.js';
import { Notice, fill, h, pageHeader, table, time } from '../dom.js';
import { field, formError, submitting } from '../forms.js';
import { PagedTable } from '../pager.js';

/**
 * @typedef {{kind: string, id: string, name: string, as: string}} SecretUsage
 * @typedef {{name: string, createdAt: string, updatedAt: string, usedBy: SecretUsage[], previousValues: {retiredAt: string, validUntil: string}[]}} Secret
 */

/**
 * Secrets: names, who uses them, create, rotate, delete. Values go in and never come back:
 * the API does not return them, and value inputs are password fields cleared after use.
 * @param {import('../main.js').PageContext} ctx
 */
export async function renderSecrets(ctx) {
  const { api, admin } = ctx;
  const notice = new Notice();
  const columns = admin ? 4 : 3;

  /** @type {PagedTable<Secret>} */
  const list = new PagedTable({
    api,
    path: '/secrets',
    columns,
    noun: ['secret', 'secrets'],
    empty: 'No secrets yet.',
    signal: ctx.signal,
    row: (secret) => secretRow(secret),
  });

  /** @param {Secret} secret */
  function secretRow(secret) {
    const row = h(
      'tr',
      { 'data-secret': secret.name },
      h('th', { scope: 'row' }, h('code', null, secret.name)),
      h(
        'td',
        null,
        secret.usedBy.length === 0
          ? h('span', { class: 'muted' }, 'Not used')
          : h('ul', { class: 'plain' }, secret.usedBy.map((u) => h('li', null, `${u.kind} `, h('strong', null, u.name), ` as ${u.as}`))),
      ),
      h(
        'td',
        null,
        time(secret.updatedAt),
        // After a rotation the replaced values keep signing (standard scheme) until the last overlap ends.
        secret.previousValues.length > 0
          ? h('p', { class: 'hint previous-values' }, 'Previous value signs until ', time(secret.previousValues.map((p) => p.validUntil).sort().at(-1) ?? null))
          : null,
      ),
      admin
        ? h(
            'td',
            { class: 'actions' },
            h('button', { type: 'button', class: 'secondary', onclick: () => toggleRotate(row, secret) }, 'Rotate', h('span', { class: 'visually-hidden' }, ` ${secret.name}`)),
            h('button', { type: 'button', class: 'danger', onclick: () => void remove(secret) }, 'Delete', h('span', { class: 'visually-hidden' }, ` ${secret.name}`)),
          )
        : null,
    );
    return row;
  }

  /**
   * An inline form under the row for the new value.
   * @param {HTMLTableRowElement} row
   * @param {Secret} secret
   */
  function toggleRotate(row, secret) {
    const open = row.nextElementSibling;
    if (open?.classList.contains('inline-form')) {
      open.remove();
      return;
    }
    const value = h('input', { type: 'password', autocomplete: 'new-password', spellcheck: 'false' });
    const form = h(
      'form',
      { novalidate: true, method: 'post', action: '#' },
      formError(),
      field({ key: 'value', label: `New value for ${secret.name}`, control: value, hint: 'Deliveries use it from their next attempt on.' }),
      h(
        'div',
        { class: 'form-actions' },
        h('button', { type: 'submit' }, 'Save new value'),
        h('button', { type: 'button', class: 'secondary', onclick: () => formRow.remove() }, 'Cancel'),
      ),
    );
    const formRow = h('tr', { class: 'inline-form' }, h('td', { colspan: String(columns) }, form));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void submitting(form, async () => {
        await api.put(path`/secrets/${secret.name}`, { value: value.value });
        value.value = '';
        notice.show(`Secret ${secret.name} rotated.`);
        await list.reload();
      });
    });
    row.after(formRow);
    value.focus();
  }

  /** @param {Secret} secret */
  async function remove(secret) {
    if (!window.confirm(`Delete the secret ${secret.name}? This cannot be undone.`)) return;
    try {
      await api.delete(path`/secrets/${secret.name}`);
      notice.show(`Secret ${secret.name} deleted.`);
      await list.reload();
    } catch (error) {
      notice.fail(`Could not delete ${secret.name}: ${messageOf(error)}`);
    }
  }

  const create = admin ? createPanel() : null;

  function createPanel() {
    const name = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'characters' });
    const value = h('input', { type: 'password', autocomplete: 'new-password', spellcheck: 'false' });
    const form = h(
      'form',
      { novalidate: true, method: 'post', action: '#' },
      formError(),
      h(
        'div',
        { class: 'grid-2' },
        field({ key: 'name', label: 'Name', control: name, hint: 'Upper-case letters, digits and _, starting with a letter, e.g. GITHUB_TOKEN.' }),
        field({ key: 'value', label: 'Value', control: value, hint: 'Stored encrypted. It is never shown again, here or in the API.' }),
      ),
      h(
        'div',
        { class: 'form-actions' },
        h('button', { type: 'submit' }, 'Create secret'),
        h('button', { type: 'button', class: 'secondary', onclick: () => close() }, 'Cancel'),
      ),
    );
    const panel = h('section', { class: 'panel', hidden: true, 'aria-labelledby': 'new-secret-title' }, h('h2', { id: 'new-secret-title' }, 'New secret'), form);
    const close = () => {
      form.reset();
      panel.hidden = true;
      opener.focus();
    };
    const opener = h(
      'button',
      {
        type: 'button',
        onclick: () => {
          panel.hidden = false;
          name.focus();
        },
      },
      'New secret',
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void submitting(form, async () => {
        /** @type {Secret} */
        const created = await api.post('/secrets', { name: name.value.trim(), value: value.value });
        notice.show(`Secret ${created.name} created.`);
        form.reset();
        panel.hidden = true;
        await list.reload();
      });
    });
    return { panel, opener };
  }

  fill(
    ctx.main,
    pageHeader(
      'Secrets',
      'Encrypted team secrets that webhooks send as access tokens, sign with, or put in payloads. Values are write-only: Herald never returns them and this console never shows them.',
      create?.opener,
    ),
    create?.panel,
    notice.element,
    table('Secrets', ['Name', 'Used by', 'Updated', admin ? 'Actions' : null], list.body),
    list.element,
  );
  await list.reload();
}
