// @ts-check
import { messageOf, path } from '../api.js';
import { Notice, fill, h, httpBadge, pageHeader, table, time } from '../dom.js';
import { field, formError, select, submitting } from '../forms.js';
import { PagedTable } from '../pager.js';

/**
 * @typedef {object} Source
 * @property {string} id
 * @property {string} name
 * @property {string} kind
 * @property {string} project
 * @property {string | null} secret
 * @property {string} receiveUrl
 * @property {string | null} senderTemplate
 */

/**
 * @typedef {object} Receipt
 * @property {string} id
 * @property {string} receivedAt
 * @property {string | null} senderId
 * @property {string | null} senderEvent
 * @property {'accepted' | 'ignored' | 'refused'} verdict
 * @property {number} statusCode
 * @property {string | null} reason
 * @property {{id: string, type: string, duplicate: boolean}[]} events
 */

const KINDS = ['mlflow', 'determined', 'huggingface', 'wandb', 'valohai'];
const KIND_LABELS = /** @type {Record<string, string>} */ ({
  mlflow: 'MLflow model registry',
  determined: 'Determined',
  huggingface: 'Hugging Face Hub',
  wandb: 'Weights & Biases',
  valohai: 'Valohai',
});
/** What the secret holds, per kind (null: the kind takes none). */
const SECRET_HINTS = /** @type {Record<string, string | null>} */ ({
  mlflow: 'The secret given to the MLflow webhook; Herald checks X-MLflow-Signature with it.',
  determined: 'The master\'s webhook_signing_key; Herald checks X-Determined-AI-Signature with it.',
  huggingface: 'The Hugging Face webhook\'s secret, sent as X-Webhook-Secret.',
  wandb: 'The W&B webhook\'s access token, sent as Authorization: Bearer.',
  valohai: null,
});
const VERDICT_CLASSES = /** @type {Record<string, string>} */ ({ accepted: 'status-succeeded', ignored: 'status-held', refused: 'status-failed' });

/** The URL to give a sender: the receive path on the address this console was reached at. @param {string} receivePath */
function absolute(receivePath) {
  return new URL(receivePath, window.location.origin).toString();
}

/**
 * A read-only text with a Copy button (the clipboard when the browser allows it, else the text is selected).
 * @param {string} key
 * @param {string} label
 * @param {string} value
 * @param {boolean} [multiline]
 */
function copyable(key, label, value, multiline = false) {
  const control = multiline
    ? h('textarea', { readonly: true, rows: String(Math.min(14, value.split('\n').length)), spellcheck: 'false', class: 'code' }, value)
    : h('input', { type: 'text', readonly: true, value, spellcheck: 'false' });
  const status = h('span', { class: 'copy-status', role: 'status' });
  const copy = async () => {
    control.focus();
    control.select();
    try {
      await navigator.clipboard.writeText(value);
      status.textContent = 'Copied.';
    } catch {
      status.textContent = 'Selected: press Ctrl+C (⌘C) to copy.';
    }
  };
  return h('div', { class: 'copyable' }, field({ key, label, control }), h('button', { type: 'button', class: 'secondary', onclick: () => void copy() }, `Copy ${label}`), status);
}

/**
 * Sources: other platforms' webhooks in, Herald events out. Create one, copy its receive URL
 * (and W&B's payload template), and read its receipts: what became of each request.
 * @param {import('../main.js').PageContext} ctx
 */
export async function renderSources(ctx) {
  const { api, admin } = ctx;
  const notice = new Notice();
  const columns = 5;
  /** @type {string[]} */
  const secretNames = admin ? (await api.all('/secrets')).map((s) => s.name) : [];

  /** @type {PagedTable<Source>} */
  const list = new PagedTable({
    api,
    path: '/sources',
    columns,
    noun: ['source', 'sources'],
    empty: 'No sources yet.',
    signal: ctx.signal,
    row: (source) => sourceRow(source),
  });

  /** @param {Source} source */
  function sourceRow(source) {
    /** @param {string} label */
    const named = (label) => [label, h('span', { class: 'visually-hidden' }, ` ${source.name}`)];
    const row = h(
      'tr',
      { 'data-source': source.name },
      h('th', { scope: 'row' }, source.name),
      h('td', null, KIND_LABELS[source.kind] ?? source.kind),
      h('td', null, source.project),
      h('td', { class: 'url' }, h('code', null, absolute(source.receiveUrl))),
      h(
        'td',
        { class: 'actions' },
        h('button', { type: 'button', class: 'secondary', onclick: () => void toggleReceipts(row, source) }, named('Receipts')),
        source.kind === 'valohai' ? null : h('button', { type: 'button', class: 'secondary', onclick: () => void copyUrl(source) }, named('Copy URL')),
        admin ? h('button', { type: 'button', class: 'danger', onclick: () => void remove(source) }, named('Delete')) : null,
      ),
    );
    return row;
  }

  /** @param {Source} source */
  async function copyUrl(source) {
    try {
      await navigator.clipboard.writeText(absolute(source.receiveUrl));
      notice.show(`Receive URL of ${source.name} copied.`);
    } catch {
      notice.show(`Receive URL of ${source.name}: ${absolute(source.receiveUrl)}`);
    }
  }

  /**
   * The last receipts of a source, in a row under it.
   * @param {HTMLTableRowElement} row
   * @param {Source} source
   */
  async function toggleReceipts(row, source) {
    const next = row.nextElementSibling;
    if (next?.classList.contains('receipts-row')) {
      next.remove();
      return;
    }
    const output = h('div', { class: 'receipts', role: 'status' }, `Loading the receipts of ${source.name}…`);
    row.after(h('tr', { class: 'receipts-row' }, h('td', { colspan: String(columns) }, output)));
    try {
      /** @type {import('../api.js').Page<Receipt>} */
      const page = await api.get(path`/sources/${source.id}/receipts`, { limit: 50 }, ctx.signal);
      if (page.items.length === 0) {
        output.replaceChildren(h('p', null, `Nothing received by ${source.name} yet.`));
        return;
      }
      const body = h('tbody', null, page.items.map((r) => receiptRow(r)));
      output.replaceChildren(h('h2', { class: 'receipts-title' }, `Last receipts of ${source.name}`), table(`Receipts of ${source.name}`, ['Received', 'Sender id', 'Sender event', 'Verdict', 'Events or reason'], body));
    } catch (error) {
      output.replaceChildren(h('p', { class: 'error-text' }, `Could not load the receipts: ${messageOf(error)}`));
    }
  }

  /** @param {Receipt} receipt */
  function receiptRow(receipt) {
    const events = receipt.events.map((e) =>
      h('li', null, h('a', { href: `#/events/${encodeURIComponent(e.id)}` }, h('code', null, e.id)), ` ${e.type}${e.duplicate ? ' (duplicate)' : ''}`),
    );
    return h(
      'tr',
      { 'data-receipt': receipt.id },
      h('td', null, time(receipt.receivedAt)),
      h('td', null, receipt.senderId ? h('code', null, receipt.senderId) : h('span', { class: 'muted' }, '—')),
      h('td', null, receipt.senderEvent ?? h('span', { class: 'muted' }, '—')),
      h('td', null, h('span', { class: `badge ${VERDICT_CLASSES[receipt.verdict] ?? ''}` }, receipt.verdict), ' ', httpBadge(receipt.statusCode)),
      h('td', null, events.length > 0 ? h('ul', { class: 'plain' }, events) : null, receipt.reason ? h('p', { class: 'reason' }, receipt.reason) : null),
    );
  }

  /** @param {Source} source */
  async function remove(source) {
    if (!window.confirm(`Delete the source ${source.name}? Its receive URL stops working; the events it stored stay.`)) return;
    try {
      await api.delete(path`/sources/${source.id}`);
      notice.show(`Source ${source.name} deleted.`);
      await list.reload();
    } catch (error) {
      notice.fail(`Could not delete ${source.name}: ${messageOf(error)}`);
    }
  }

  const panel = h('section', { class: 'panel', hidden: true, 'aria-labelledby': 'source-form-title' });
  const created = h('section', { class: 'panel created-source', hidden: true, 'aria-labelledby': 'created-source-title' });
  const opener = admin ? h('button', { type: 'button', onclick: () => openForm() }, 'New source') : null;

  function openForm() {
    created.hidden = true;
    const name = h('input', { type: 'text', autocomplete: 'off' });
    const kind = select(KINDS.map((k) => /** @type {[string, string]} */ ([k, KIND_LABELS[k]])), 'mlflow');
    const project = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false' });
    const secret = select(/** @type {(string | [string, string])[]} */ ([['', '— choose a secret —'], ...secretNames]), '');
    const secretHint = h('span');
    const secretField = field({ key: 'secret', label: 'Secret', control: secret, hint: secretHint });
    const showSecret = () => {
      const hint = SECRET_HINTS[kind.value];
      secretField.hidden = hint === null;
      secretHint.textContent = hint ?? '';
    };
    showSecret();
    kind.addEventListener('change', showSecret);
    const form = h(
      'form',
      { novalidate: true, method: 'post', action: '#' },
      formError(),
      h(
        'div',
        { class: 'grid-2' },
        field({ key: 'name', label: 'Name', control: name, hint: 'Letters, digits, _ and -, words separated by spaces; at most 64.' }),
        field({ key: 'kind', label: 'Platform', control: kind, hint: 'Picks how requests are authenticated and how payloads become events.' }),
      ),
      h(
        'div',
        { class: 'grid-2' },
        field({ key: 'project', label: 'Herald project', control: project, hint: 'Where the events land. A Determined experiment\'s own project is used instead when it names one.' }),
        secretField,
      ),
      h('div', { class: 'form-actions' }, h('button', { type: 'submit' }, 'Create source'), h('button', { type: 'reset', class: 'secondary' }, 'Cancel')),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void submitting(form, async () => {
        /** @type {Record<string, unknown>} */
        const body = { name: name.value.trim(), kind: kind.value, project: project.value.trim() };
        if (SECRET_HINTS[kind.value] !== null && secret.value !== '') body.secret = secret.value;
        /** @type {Source} */
        const saved = await api.post('/sources', body);
        panel.hidden = true;
        panel.replaceChildren();
        showCreated(saved);
        notice.show(`Source ${saved.name} created.`);
        await list.reload();
      });
    });
    form.addEventListener('reset', () => {
      panel.hidden = true;
      panel.replaceChildren();
      opener?.focus();
    });
    panel.replaceChildren(h('h2', { id: 'source-form-title' }, 'New source'), form);
    panel.hidden = false;
    name.focus();
  }

  /** What to give the sender, right after creation: the only time a Valohai token is shown. @param {Source} source */
  function showCreated(source) {
    fill(
      created,
      h('h2', { id: 'created-source-title', tabindex: '-1' }, `Point ${KIND_LABELS[source.kind] ?? source.kind} at ${source.name}`),
      source.kind === 'valohai'
        ? h('p', { class: 'warning' }, 'This URL holds the source\'s token and is shown only now: put it in Valohai\'s notification channel before leaving this page.')
        : h('p', null, 'Give this URL to the platform\'s webhook, with the secret named on this source.'),
      copyable('receiveUrl', 'Receive URL', absolute(source.receiveUrl)),
      source.senderTemplate
        ? [h('p', null, 'Paste this payload into the W&B webhook automation, so Herald can read what W&B sends:'), copyable('senderTemplate', 'Payload template', source.senderTemplate, true)]
        : null,
      h('div', { class: 'form-actions' }, h('button', { type: 'button', class: 'secondary', onclick: () => { created.hidden = true; created.replaceChildren(); } }, 'Done')),
    );
    created.hidden = false;
    /** @type {HTMLElement | null} */ (created.querySelector('h2'))?.focus();
  }

  ctx.main.replaceChildren(
    pageHeader(
      'Sources',
      'Webhooks of MLflow, Determined, Hugging Face, W&B and Valohai, received as Herald events: every automation applies to them. Receipts say what became of each request.',
      opener,
    ),
    panel,
    created,
    notice.element,
    table('Sources', ['Name', 'Platform', 'Project', 'Receive URL', 'Actions'], list.body),
    list.element,
  );
  await list.reload();
}
