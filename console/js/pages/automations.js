// @ts-check
import { ApiProblem, messageOf, path } from '../api.js';
import { Notice, h, pageHeader, prettyJson, table, time } from '../dom.js';
import { checkedValues, choiceGroup, clearProblems, field, formError, localProblem, select, showProblem, submitting } from '../forms.js';
import { PagedTable } from '../pager.js';
import {
  TRIGGERS,
  activeFields,
  buildTrigger,
  defaultCooldown,
  initialValues,
  sampleEvent,
  sampleSequence,
  summarizeTrigger,
  takesRunFilter,
  triggerSpec,
  triggerValues,
} from '../triggers.js';

/**
 * @typedef {object} Automation
 * @property {string} id
 * @property {string} name
 * @property {string} description
 * @property {boolean} enabled
 * @property {{type: string, name?: string}} scope
 * @property {Record<string, any>} trigger
 * @property {{nameRegex?: string, user?: string} | null} runFilter
 * @property {Record<string, unknown> | null} [filter]
 * @property {{webhookId: string, payload?: unknown, template?: string}} action
 * @property {number} cooldownSeconds
 * @property {string | null} lastFiredAt
 * @property {number} fireCount
 */
/** @typedef {{name: string, target: string, description: string, defaultFor: string[]}} Preset */
/** @typedef {{name: string, description: string, applies: boolean}} Variable */
/** @typedef {{filter: string, passed: boolean, actual: unknown, expected: unknown}} FilterVerdict */
/** @typedef {{wouldFire: boolean, cooldownActive: boolean, filters: FilterVerdict[], body: unknown}} PreviewResult */
/** @typedef {import('./webhooks.js').Webhook} Webhook */

const STARTER_PAYLOAD = '{\n  "text": "${event_type} in ${project_name}",\n  "run": "${run_name}",\n  "delivery": "${delivery_id}"\n}';
const LIVE_DELAY_MS = 450;

/**
 * Automations: the list (trigger summary, enabled toggle) and the form whose fields follow
 * the trigger, with the allowed variables, live validation and a preview by the API itself.
 * @param {import('../main.js').PageContext} ctx
 */
export async function renderAutomations(ctx) {
  const { api, admin } = ctx;
  const notice = new Notice();
  const columns = admin ? 7 : 6;
  /** @type {[Webhook[], {items: Preset[]}]} */
  const [webhooks, presets] = await Promise.all([api.all('/webhooks'), api.get('/templates', undefined, ctx.signal)]);
  const webhookById = new Map(webhooks.map((w) => [w.id, w]));

  /** @type {PagedTable<Automation>} */
  const list = new PagedTable({
    api,
    path: '/automations',
    columns,
    noun: ['automation', 'automations'],
    empty: 'No automations yet.',
    signal: ctx.signal,
    row: (automation) => automationRow(automation),
  });

  /** @param {Automation} automation */
  function automationRow(automation) {
    const toggle = h('input', {
      type: 'checkbox',
      checked: automation.enabled,
      disabled: !admin,
      'aria-label': `Enabled: ${automation.name}`,
    });
    toggle.addEventListener('change', async () => {
      const wanted = toggle.checked;
      try {
        await api.patch(path`/automations/${automation.id}`, { enabled: wanted });
        notice.show(`Automation ${automation.name} ${wanted ? 'enabled' : 'disabled'}.`);
      } catch (error) {
        toggle.checked = !wanted;
        notice.fail(`Could not change ${automation.name}: ${messageOf(error)}`);
      }
    });
    const webhook = webhookById.get(automation.action.webhookId);
    const scope = automation.scope.type === 'team' ? 'every project' : `${automation.scope.type} ${automation.scope.name}`;
    return h(
      'tr',
      { 'data-automation': automation.name },
      h('td', { class: 'toggle' }, toggle),
      h('th', { scope: 'row' }, automation.name, automation.description ? h('p', { class: 'muted small' }, automation.description) : null),
      h('td', null, h('code', { class: 'small' }, automation.trigger.event), h('p', { class: 'trigger-summary' }, summarizeTrigger(automation.trigger))),
      h('td', null, scope),
      h('td', null, webhook ? webhook.name : h('span', { class: 'muted' }, automation.action.webhookId)),
      h(
        'td',
        null,
        `${automation.fireCount}×`,
        automation.lastFiredAt ? h('p', { class: 'muted small' }, 'last ', time(automation.lastFiredAt)) : null,
        h('p', { class: 'small' }, h('a', { href: `#/deliveries?automation=${encodeURIComponent(automation.id)}` }, 'Deliveries', h('span', { class: 'visually-hidden' }, ` of ${automation.name}`))),
      ),
      admin
        ? h(
            'td',
            { class: 'actions' },
            h('button', { type: 'button', class: 'secondary', onclick: () => openForm(automation) }, 'Edit', h('span', { class: 'visually-hidden' }, ` ${automation.name}`)),
            h('button', { type: 'button', class: 'danger', onclick: () => void remove(automation) }, 'Delete', h('span', { class: 'visually-hidden' }, ` ${automation.name}`)),
          )
        : null,
    );
  }

  /** @param {Automation} automation */
  async function remove(automation) {
    if (!window.confirm(`Delete the automation ${automation.name}? Its delivery history is kept.`)) return;
    try {
      await api.delete(path`/automations/${automation.id}`);
      notice.show(`Automation ${automation.name} deleted.`);
      await list.reload();
    } catch (error) {
      notice.fail(`Could not delete ${automation.name}: ${messageOf(error)}`);
    }
  }

  const panel = h('section', { class: 'panel', hidden: true, 'aria-labelledby': 'automation-form-title' });
  const opener = admin ? h('button', { type: 'button', onclick: () => openForm(null) }, 'New automation') : null;

  /** @param {Automation | null} existing */
  function openForm(existing) {
    if (webhooks.length === 0) {
      notice.fail('Create a webhook first: an automation sends to one.');
      return;
    }
    const form = automationForm(ctx, existing, webhooks, presets.items, async (saved) => {
      closeForm();
      notice.show(`Automation ${saved.name} ${existing ? 'saved' : 'created'}.`);
      await list.reload();
    });
    form.addEventListener('reset', () => {
      closeForm();
      opener?.focus();
    });
    panel.replaceChildren(h('h2', { id: 'automation-form-title' }, existing ? `Edit automation ${existing.name}` : 'New automation'), form);
    panel.hidden = false;
    panel.scrollIntoView({ block: 'start' });
    /** @type {HTMLElement | null} */ (form.querySelector('input'))?.focus();
  }

  function closeForm() {
    panel.hidden = true;
    panel.replaceChildren();
  }

  ctx.main.replaceChildren(
    pageHeader('Automations', 'When an event matches a trigger and filters, render a payload and send it to a webhook.', opener),
    panel,
    notice.element,
    table('Automations', ['On', 'Name', 'Trigger', 'Scope', 'Webhook', 'Fired', admin ? 'Actions' : null], list.body),
    list.element,
  );
  await list.reload();
}

/**
 * The create/edit form. Saving posts or patches; every edit also previews the draft against
 * the example event (debounced), which validates it on the server: problems appear next to
 * the fields touched so far, and the preview panel shows each filter's verdict and the body.
 * @param {import('../main.js').PageContext} ctx
 * @param {Automation | null} existing
 * @param {Webhook[]} webhooks
 * @param {Preset[]} presets
 * @param {(saved: Automation) => Promise<void>} onSaved
 */
function automationForm(ctx, existing, webhooks, presets, onSaved) {
  const { api } = ctx;
  const editing = existing !== null;

  // Basics
  const name = h('input', { type: 'text', autocomplete: 'off', value: existing?.name ?? '' });
  const description = h('input', { type: 'text', autocomplete: 'off', value: existing?.description ?? '' });
  const enabled = h('input', { type: 'checkbox', checked: existing ? existing.enabled : true });

  // When
  const scopeType = select(
    [
      ['project', 'A project'],
      ['registry', 'A registry'],
      ['team', 'Every project of the team'],
    ],
    existing?.scope.type ?? 'project',
  );
  const scopeName = h('input', { type: 'text', autocomplete: 'off', value: existing?.scope.name ?? '' });
  const scopeNameField = field({ key: 'scope.name', label: 'Project or registry name', control: scopeName, hint: 'Exactly as events carry it (case-sensitive).' });
  const triggerSelect = h(
    'select',
    null,
    ['Runs', 'Run metrics', 'Artifacts', 'Herald'].map((group) =>
      h(
        'optgroup',
        { label: group },
        TRIGGERS.filter((t) => t.group === group).map((t) => h('option', { value: t.event, selected: t.event === (existing?.trigger.event ?? 'RUN_STATE') }, `${t.label} (${t.event})`)),
      ),
    ),
  );
  const triggerFields = h('div', { class: 'trigger-fields grid-3' });
  const nameRegex = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', value: existing?.runFilter?.nameRegex ?? '' });
  const user = h('input', { type: 'text', autocomplete: 'off', value: existing?.runFilter?.user ?? '' });
  const runFilter = h(
    'fieldset',
    { class: 'field group', 'data-field': 'runFilter' },
    h('legend', null, 'Run filter (optional)'),
    h(
      'div',
      { class: 'grid-2' },
      field({ key: 'runFilter.nameRegex', label: 'Run name matches (regex)', control: nameRegex, hint: 'RE2, unanchored unless it uses ^ or $.' }),
      field({ key: 'runFilter.user', label: 'Event author is', control: user }),
    ),
    h('p', { class: 'field-error', hidden: true }),
  );
  const filterText = h('textarea', { rows: '4', spellcheck: 'false', class: 'code', placeholder: '{"run.config.lr": {"$lt": 0.01}, "run.tags": {"$contains": "baseline"}}' });
  filterText.value = existing?.filter ? JSON.stringify(existing.filter, null, 2) : '';
  const filterField = field({
    key: 'filter',
    label: 'Attribute filter (optional)',
    control: filterText,
    hint: 'JSON checked after the trigger: paths such as run.config.lr, run.tags, run.group, artifact.metadata.acc, metrics.loss, alert.level with $eq $ne $gt $gte $lt $lte $in $nin $exists $regex $contains, combined with $and $or $not. The preview shows each clause\'s verdict.',
  });
  const cooldown = h('input', { type: 'number', min: '0', step: '1', value: existing ? String(existing.cooldownSeconds) : '' });

  // Then
  const webhookSelect = select(
    [['', 'Choose a webhook'], ...webhooks.map((w) => /** @type {[string, string]} */ ([w.id, `${w.name} (${w.kind})`]))],
    existing?.action.webhookId ?? (webhooks.length === 1 ? webhooks[0].id : ''),
  );
  const initialMode = existing?.action.payload !== undefined ? 'custom' : existing?.action.template ? 'preset' : 'default';
  const mode = choiceGroup({
    key: 'action',
    legend: 'Payload',
    type: 'radio',
    values: ['default', 'preset', 'custom'],
    checked: [initialMode],
    labelOf: (v) => ({ default: "The webhook kind's default preset", preset: 'A preset', custom: 'A custom payload' })[v] ?? v,
  });
  const presetSelect = select(
    presets.map((p) => /** @type {[string, string]} */ ([p.name, `${p.name} — ${p.target}`])),
    existing?.action.template ?? presets[0]?.name,
  );
  const presetField = field({ key: 'action.template', label: 'Preset', control: presetSelect, hint: 'Handlebars presets from templates/; each truncates to its target\'s limits.' });
  const payload = h('textarea', { rows: '9', spellcheck: 'false', class: 'code' });
  payload.value = existing?.action.payload === undefined ? STARTER_PAYLOAD : typeof existing.action.payload === 'string' ? existing.action.payload : JSON.stringify(existing.action.payload, null, 2);
  const payloadForm = h('span', { class: 'payload-form' });
  const payloadField = field({
    key: 'action.payload',
    label: 'Payload template',
    control: payload,
    hint: ['JSON with ${variable} references. ', payloadForm],
  });
  const variables = h('div', { class: 'variables' });
  const customPart = h('div', { class: 'custom-payload' }, payloadField, variables);

  // Preview
  const eventText = h('textarea', { rows: '8', spellcheck: 'false', class: 'code' });
  const previewOut = h(
    'div',
    { class: 'preview-result', 'aria-live': 'polite' },
    h('p', { class: 'hint' }, 'Press Preview, or edit the automation: the preview follows your changes.'),
  );

  const form = h(
    'form',
    { class: 'automation-form', novalidate: true, method: 'post', action: '#' },
    formError(),
    h(
      'fieldset',
      { class: 'section' },
      h('legend', null, 'Automation'),
      h(
        'div',
        { class: 'grid-2' },
        field({ key: 'name', label: 'Name', control: name, hint: 'Unique in the team.' }),
        field({ key: 'description', label: 'Description (optional)', control: description }),
      ),
      h('div', { class: 'field checkbox', 'data-field': 'enabled' }, h('label', null, enabled, ' Enabled'), h('p', { class: 'field-error', hidden: true })),
    ),
    h(
      'fieldset',
      { class: 'section' },
      h('legend', null, 'When'),
      h('div', { class: 'grid-2', 'data-field': 'scope' }, field({ key: 'scope.type', label: 'Events of', control: scopeType }), scopeNameField, h('p', { class: 'field-error', hidden: true })),
      field({ key: 'trigger', label: 'Trigger', control: triggerSelect }),
      triggerFields,
      runFilter,
      filterField,
      field({ key: 'cooldownSeconds', label: 'Cooldown (seconds)', control: cooldown }),
    ),
    h(
      'fieldset',
      { class: 'section' },
      h('legend', null, 'Then'),
      field({ key: 'action.webhookId', label: 'Send to webhook', control: webhookSelect }),
      mode,
      presetField,
      customPart,
    ),
    h(
      'fieldset',
      { class: 'section preview' },
      h('legend', null, 'Preview'),
      h('p', { class: 'hint' }, 'What this automation would do with the event below: each filter\'s verdict and the body it would send (secrets masked). Nothing is sent or changed.'),
      field({ key: 'event', label: 'Example event', control: eventText, hint: 'One event (against its run\'s stored windows), or an array of events run in order through fresh windows.' }),
      h(
        'div',
        { class: 'form-actions' },
        h('button', { type: 'button', class: 'secondary', onclick: () => void preview(false) }, 'Preview'),
        h('button', { type: 'button', class: 'secondary', onclick: () => resetExample(true) }, 'Use an example event'),
      ),
      previewOut,
    ),
    h(
      'div',
      { class: 'form-actions' },
      h('button', { type: 'submit' }, editing ? 'Save automation' : 'Create automation'),
      h('button', { type: 'reset', class: 'secondary' }, 'Cancel'),
    ),
  );

  /** Fields the person has edited: live validation reports only on these. */
  const touched = new Set();
  /** @type {Map<string, Variable[]>} */
  const variableCache = new Map();
  let previewSeq = 0;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let liveTimer;

  function currentEvent() {
    return triggerSelect.value;
  }

  /** @param {import('../triggers.js').FieldValues} values */
  function drawTriggerFields(values) {
    const event = currentEvent();
    triggerFields.replaceChildren(
      ...triggerSpec(event).fields.map((spec) => {
        const key = `trigger.${spec.name}`;
        const value = values[spec.name];
        /** @type {HTMLElement} */
        let wrapper;
        if (spec.type === 'checkboxes') {
          wrapper = choiceGroup({ key, legend: spec.label, values: spec.options ?? [], checked: Array.isArray(value) ? value : [] });
          wrapper.classList.add('span-all');
        } else {
          const control =
            spec.type === 'select'
              ? select(spec.options ?? [], typeof value === 'string' ? value : undefined)
              : h('input', {
                  type: spec.type === 'text' ? 'text' : 'number',
                  step: spec.type === 'integer' ? '1' : 'any',
                  spellcheck: 'false',
                  autocomplete: 'off',
                  value: typeof value === 'string' ? value : '',
                });
          wrapper = field({ key, label: spec.optional ? `${spec.label} (optional)` : spec.label, control, hint: spec.hint });
        }
        wrapper.dataset.name = spec.name;
        return wrapper;
      }),
    );
    updateTriggerVisibility();
  }

  /** @returns {import('../triggers.js').FieldValues} */
  function triggerFieldValues() {
    /** @type {import('../triggers.js').FieldValues} */
    const values = {};
    for (const wrapper of /** @type {NodeListOf<HTMLElement>} */ (triggerFields.querySelectorAll(':scope > [data-name]'))) {
      const fieldName = wrapper.dataset.name ?? '';
      if (wrapper instanceof HTMLFieldSetElement) values[fieldName] = checkedValues(wrapper);
      else values[fieldName] = /** @type {HTMLInputElement | HTMLSelectElement} */ (wrapper.querySelector('input, select')).value;
    }
    return values;
  }

  function updateTriggerVisibility() {
    const event = currentEvent();
    const active = new Set(activeFields(event, triggerFieldValues()).map((f) => f.name));
    for (const wrapper of /** @type {NodeListOf<HTMLElement>} */ (triggerFields.querySelectorAll(':scope > [data-name]'))) {
      wrapper.hidden = !active.has(wrapper.dataset.name ?? '');
    }
    runFilter.hidden = !takesRunFilter(event);
    scopeNameField.hidden = scopeType.value === 'team';
    cooldown.placeholder = String(defaultCooldown(event));
    const cooldownHint = `Empty: ${defaultCooldown(event)} (the default for this trigger). Matches inside the cooldown are consumed, not deferred.`;
    const hintEl = cooldown.parentElement?.querySelector('.hint');
    if (hintEl) hintEl.textContent = cooldownHint;
    else cooldown.after(h('p', { class: 'hint', id: `${cooldown.id}-hint` }, cooldownHint));
    cooldown.setAttribute('aria-describedby', `${cooldown.id}-hint ${cooldown.id}-error`);
    const chosen = checkedValues(mode)[0];
    presetField.hidden = chosen !== 'preset';
    customPart.hidden = chosen !== 'custom';
    payloadForm.textContent = describePayloadForm(payload.value);
  }

  async function drawVariables() {
    const event = currentEvent();
    let items = variableCache.get(event);
    if (!items) {
      try {
        /** @type {{items: Variable[]}} */
        const answer = await api.get('/automations/variables', { trigger: event }, ctx.signal);
        items = answer.items;
        variableCache.set(event, items);
      } catch (error) {
        variables.replaceChildren(h('p', { class: 'hint' }, `Variables could not be loaded: ${messageOf(error)}`));
        return;
      }
    }
    if (event !== currentEvent()) return;
    const webhook = webhooks.find((w) => w.id === webhookSelect.value);
    const secretNames = webhook
      ? [...(webhook.accessTokenSecret ? ['ACCESS_TOKEN'] : []), ...(webhook.signingSecret ? [webhook.signingSecret] : []), ...webhook.payloadSecrets]
      : [];
    /**
     * @param {string} name
     * @param {string} text
     * @param {boolean} applies
     */
    const entry = (name, text, applies) => {
      const reference = name.endsWith('<KEY>') ? `\${${name.replace('<KEY>', 'KEY')}}` : `\${${name}}`;
      return h(
        'li',
        { class: applies ? 'applies' : 'not-applies' },
        h('button', { type: 'button', class: 'variable', onclick: () => insertAtCursor(payload, reference) }, reference),
        ' ',
        h('span', { class: 'variable-description' }, text, applies ? '' : ' Empty for this trigger.'),
      );
    };
    const ordered = [...items.filter((v) => v.applies), ...items.filter((v) => !v.applies)];
    variables.replaceChildren(
      h('h3', null, 'Variables'),
      h('p', { class: 'hint' }, 'Select one to insert it at the cursor. Those marked "empty for this trigger" render as empty.'),
      h('ul', { class: 'variable-list' }, ordered.filter((v) => !secretNames.includes(v.name)).map((v) => entry(v.name, v.description, v.applies))),
      h('h3', null, 'Secrets of the chosen webhook'),
      secretNames.length === 0
        ? h('p', { class: 'hint' }, webhook ? 'This webhook binds no secrets.' : 'Choose a webhook to see the secrets it binds.')
        : h('ul', { class: 'variable-list' }, secretNames.map((n) => entry(n, n === 'ACCESS_TOKEN' ? 'The access token.' : 'A bound secret; masked in previews.', true))),
    );
  }

  /** @param {boolean} force */
  function resetExample(force) {
    if (force) touched.delete('event');
    if (touched.has('event')) return;
    /** @type {Record<string, any>} */
    let trigger;
    try {
      trigger = buildTrigger(currentEvent(), triggerFieldValues());
    } catch {
      trigger = { event: currentEvent() };
    }
    // A windowed metric trigger gets a sequence long enough to fill its window(s), previewed through fresh windows.
    const sequence = sampleSequence(trigger, { type: scopeType.value, name: scopeName.value.trim() });
    eventText.value = JSON.stringify(sequence.length > 1 ? sequence : sampleEvent(trigger, { type: scopeType.value, name: scopeName.value.trim() }), null, 2);
    if (force) void preview(true);
  }

  /**
   * The automation as the API takes it. For PATCH, emptied optional fields become null.
   * @param {boolean} forPatch
   */
  function build(forPatch) {
    const event = currentEvent();
    /** @type {Record<string, unknown>} */
    const automation = {
      name: name.value.trim(),
      description: description.value,
      enabled: enabled.checked,
      scope: scopeType.value === 'team' ? { type: 'team' } : { type: scopeType.value, name: scopeName.value.trim() },
      trigger: buildTrigger(event, triggerFieldValues()),
    };
    if (takesRunFilter(event)) {
      /** @type {Record<string, string>} */
      const filter = {};
      if (nameRegex.value !== '') filter.nameRegex = nameRegex.value;
      if (user.value.trim() !== '') filter.user = user.value.trim();
      if (Object.keys(filter).length > 0) automation.runFilter = filter;
      else if (forPatch) automation.runFilter = null;
    } else if (forPatch) {
      automation.runFilter = null;
    }
    const filterValue = parseFilter(filterText.value);
    if (filterValue !== undefined) automation.filter = filterValue;
    else if (forPatch) automation.filter = null;
    const cooldownText = cooldown.value.trim();
    if (cooldownText !== '') automation.cooldownSeconds = Number.isFinite(Number(cooldownText)) ? Number(cooldownText) : cooldownText;
    else if (forPatch) automation.cooldownSeconds = null;
    /** @type {Record<string, unknown>} */
    const action = { webhookId: webhookSelect.value };
    const chosen = checkedValues(mode)[0];
    if (chosen === 'preset') action.template = presetSelect.value;
    if (chosen === 'custom') action.payload = parsePayload(payload.value);
    automation.action = action;
    return automation;
  }

  /** The draft as loaded, to tell an unchanged automation from an edited one. */
  let initialDraft = '';

  /**
   * Previews the draft. Live previews (while typing) report problems only for touched
   * fields and keep focus where it is; an explicit one reports everything.
   * @param {boolean} live
   */
  async function preview(live) {
    const seq = ++previewSeq;
    /** @type {import('../forms.js').ShowOptions} */
    const show = live ? { strip: 'automation.', only: (key) => touched.has(key), focus: false } : { strip: 'automation.' };
    /** @type {unknown} */
    let event;
    try {
      event = JSON.parse(eventText.value);
    } catch (error) {
      showProblem(form, localProblem('event', `is not valid JSON (${messageOf(error)})`), show);
      previewOut.replaceChildren(h('p', { class: 'hint' }, 'Fix the example event to see the preview.'));
      return;
    }
    try {
      const draft = build(editing);
      /** @type {PreviewResult} */
      let result;
      if (existing && JSON.stringify(draft) === initialDraft) {
        // Unchanged: ask about the stored automation, with its stored cooldown and edge state.
        result = await api.post(path`/automations/${existing.id}/preview`, Array.isArray(event) ? { events: event } : event).catch((/** @type {unknown} */ error) => {
          throw error instanceof ApiProblem ? new ApiProblem(error.statusCode, error.message, error.details.map((d) => ({ field: `event.${d.field}`, reason: d.reason }))) : error;
        });
      } else {
        result = await api.post('/automations/preview', Array.isArray(event) ? { automation: build(false), events: event } : { automation: build(false), event });
      }
      if (seq !== previewSeq || ctx.signal.aborted) return;
      clearProblems(form);
      drawPreview(result);
    } catch (error) {
      if (seq !== previewSeq || ctx.signal.aborted) return;
      showProblem(form, error, show);
      previewOut.replaceChildren(h('p', { class: 'hint' }, `No preview: ${messageOf(error)}`));
    }
  }

  /** @param {PreviewResult} result */
  function drawPreview(result) {
    const verdict = result.wouldFire ? 'Would fire' : result.cooldownActive ? 'Would not fire: inside its cooldown' : 'Would not fire';
    previewOut.replaceChildren(
      h('p', { class: `verdict ${result.wouldFire ? 'fires' : 'holds'}` }, h('strong', null, verdict)),
      table(
        'Filters, in the order checked',
        ['Filter', 'Verdict', 'Event has', 'Filter wants'],
        h(
          'tbody',
          null,
          result.filters.map((f) =>
            h(
              'tr',
              { class: f.passed ? 'passed' : 'failed' },
              h('th', { scope: 'row' }, h('code', null, f.filter)),
              h('td', null, h('span', { class: `badge ${f.passed ? 'status-succeeded' : 'status-failed'}` }, f.passed ? 'passed' : 'failed')),
              h('td', null, h('code', null, compact(f.actual))),
              h('td', null, h('code', null, compact(f.expected))),
            ),
          ),
        ),
      ),
      h('h3', null, 'Body'),
      result.body === null || result.body === undefined
        ? h('p', { class: 'hint' }, 'No body: the automation would not fire for this event.')
        : h('pre', { class: 'body' }, prettyJson(result.body)),
    );
  }

  function scheduleLive() {
    clearTimeout(liveTimer);
    liveTimer = setTimeout(() => void preview(true), LIVE_DELAY_MS);
  }

  /** @param {Event} event */
  function onEdit(event) {
    const target = /** @type {HTMLElement} */ (event.target);
    if (target.closest('.variables')) return;
    const wrapper = /** @type {HTMLElement | null} */ (target.closest('[data-field]'));
    if (wrapper?.dataset.field) touched.add(wrapper.dataset.field);
    if (target === triggerSelect && event.type === 'change') {
      const previous = triggerFieldValues();
      const next = initialValues(currentEvent());
      if (previous.metric && 'metric' in next) next.metric = previous.metric;
      drawTriggerFields(next);
      void drawVariables();
    }
    if (target === webhookSelect) void drawVariables();
    updateTriggerVisibility();
    if (target !== eventText) resetExample(false);
    scheduleLive();
  }
  form.addEventListener('input', onEdit);
  form.addEventListener('change', onEdit);

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    clearTimeout(liveTimer);
    previewSeq += 1;
    void submitting(form, async () => {
      const body = build(editing);
      /** @type {Automation} */
      const saved = existing ? await api.patch(path`/automations/${existing.id}`, body) : await api.post('/automations', body);
      await onSaved(saved);
    });
  });

  drawTriggerFields(existing ? triggerValues(existing.trigger) : initialValues(currentEvent()));
  if (editing) initialDraft = JSON.stringify(build(true));
  resetExample(false);
  void drawVariables();
  return form;
}

/**
 * A payload as the API takes it: text that parses as a JSON object or array is sent as
 * that object (compact); anything else as a JSON-text template, where a variable may stand
 * as a whole value (`"value": ${metric_value}`).
 * @param {string} text
 * @returns {unknown}
 */
export function parsePayload(text) {
  try {
    const parsed = JSON.parse(text);
    if (parsed !== null && typeof parsed === 'object') return parsed;
  } catch {
    // JSON text with whole-value variables, or not JSON yet: the API judges it.
  }
  return text;
}

/**
 * The attribute filter as the API takes it: undefined when the box is empty, the parsed JSON
 * when it parses, else the text itself (the API answers 400 naming `filter`, shown live).
 * @param {string} text
 * @returns {unknown}
 */
export function parseFilter(text) {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** @param {string} text */
function describePayloadForm(text) {
  return typeof parsePayload(text) === 'string'
    ? 'Sent as JSON text: a variable may stand as a whole value, e.g. "value": ${metric_value}.'
    : 'Sent as a JSON object: variables inside strings stay strings.';
}

/**
 * Inserts text at the caret of a textarea and tells listeners it changed.
 * @param {HTMLTextAreaElement} area
 * @param {string} text
 */
function insertAtCursor(area, text) {
  area.focus();
  area.setRangeText(text, area.selectionStart, area.selectionEnd, 'end');
  area.dispatchEvent(new Event('input', { bubbles: true }));
}

/** @param {unknown} value */
function compact(value) {
  if (value === undefined) return '—';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
