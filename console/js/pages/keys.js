// @ts-check
import { messageOf, path } from '../api.js';
import { Notice, h, pageHeader, table, time } from '../dom.js';
import { field, formError, select, submitting } from '../forms.js';
import { PagedTable } from '../pager.js';

/**
 * @typedef {object} ApiKey
 * @property {string} id
 * @property {string} name
 * @property {string} role
 * @property {string[] | null} projects
 * @property {string} prefix
 * @property {string} createdAt
 * @property {string | null} lastUsedAt
 */

const ROLES = /** @type {[string, string][]} */ ([
  ['ingest', 'ingest — POST /v1/events only'],
  ['member', 'member — read only'],
  ['admin', 'admin — everything in the team'],
]);

/**
 * API keys (admin): the team's active keys, create one (the key is shown once), revoke.
 * Members see why the page is empty: the list itself is an admin endpoint.
 * @param {import('../main.js').PageContext} ctx
 */
export async function renderKeys(ctx) {
  const { api, admin } = ctx;
  if (!admin) {
    ctx.main.replaceChildren(pageHeader('API keys', 'Only an admin key may list, create or revoke API keys.'));
    return;
  }
  const notice = new Notice();
  /** @type {PagedTable<ApiKey>} */
  const list = new PagedTable({
    api,
    path: '/api-keys',
    columns: 6,
    noun: ['key', 'keys'],
    empty: 'No active keys.',
    signal: ctx.signal,
    row: (key) =>
      h(
        'tr',
        { 'data-key': key.name },
        h('th', { scope: 'row' }, key.name),
        h('td', null, key.role),
        h('td', null, key.projects ? key.projects.join(', ') : h('span', { class: 'muted' }, 'all')),
        h('td', null, h('code', null, `${key.prefix}…`)),
        h('td', null, key.lastUsedAt ? time(key.lastUsedAt) : h('span', { class: 'muted' }, 'never')),
        h(
          'td',
          { class: 'actions' },
          h('button', { type: 'button', class: 'danger', onclick: () => void revoke(key) }, 'Revoke', h('span', { class: 'visually-hidden' }, ` ${key.name}`)),
        ),
      ),
  });

  /** @param {ApiKey} key */
  async function revoke(key) {
    if (!window.confirm(`Revoke the key ${key.name}? Requests with it are refused from the next one.`)) return;
    try {
      await api.delete(path`/api-keys/${key.id}`);
      notice.show(`Key ${key.name} revoked.`);
      await list.reload();
    } catch (error) {
      notice.fail(`Could not revoke ${key.name}: ${messageOf(error)}`);
    }
  }

  const name = h('input', { type: 'text', autocomplete: 'off' });
  const role = select(ROLES, 'ingest');
  const projects = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false' });
  const shown = h('section', { class: 'panel created-key', hidden: true, 'aria-labelledby': 'created-key-title' });
  const form = h(
    'form',
    { class: 'panel', novalidate: true, method: 'post', action: '#', 'aria-labelledby': 'new-key-title' },
    h('h2', { id: 'new-key-title' }, 'New key'),
    formError(),
    h(
      'div',
      { class: 'grid-3' },
      field({ key: 'name', label: 'Name', control: name, hint: 'Where the key is used, e.g. training-cluster.' }),
      field({ key: 'role', label: 'Role', control: role }),
      field({ key: 'projects', label: 'Projects', control: projects, hint: 'Ingest keys only: comma-separated; empty: every project.' }),
    ),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit' }, 'Create key')),
  );
  const syncProjects = () => {
    projects.disabled = role.value !== 'ingest';
    if (projects.disabled) projects.value = '';
  };
  role.addEventListener('change', syncProjects);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void submitting(form, async () => {
      /** @type {Record<string, unknown>} */
      const body = { name: name.value.trim(), role: role.value };
      const chosen = projects.value.split(',').map((p) => p.trim()).filter((p) => p !== '');
      if (chosen.length > 0) body.projects = chosen;
      /** @type {ApiKey & {key: string}} */
      const created = await api.post('/api-keys', body);
      const value = h('input', { type: 'text', readonly: true, value: created.key, 'aria-label': `The new key ${created.name}`, spellcheck: 'false' });
      shown.replaceChildren(
        h('h2', { id: 'created-key-title' }, `Key ${created.name} (${created.role})`),
        h('p', { class: 'warning' }, 'Copy it now: Herald shows a key only once and keeps only its hash.'),
        value,
        h('div', { class: 'form-actions' }, h('button', { type: 'button', class: 'secondary', onclick: () => { shown.hidden = true; shown.replaceChildren(); } }, 'Done, I stored it')),
      );
      shown.hidden = false;
      form.reset();
      syncProjects();
      value.select();
      await list.reload();
    });
  });

  ctx.main.replaceChildren(
    pageHeader('API keys', 'Who may call this team\'s API: admin keys change everything, member keys read, ingest keys post events.'),
    notice.element,
    shown,
    form,
    table('API keys', ['Name', 'Role', 'Projects', 'Key', 'Last used', 'Actions'], list.body),
    list.element,
  );
  syncProjects();
  await list.reload();
}
