// @ts-check
import { ApiProblem, messageOf } from './api.js';
import { h, uid } from './dom.js';

/**
 * Form fields that know which API field they edit (`data-field`), so an error
 * `{field: "trigger.window", reason}` from Herald is shown next to the input it names.
 */

/**
 * @typedef {object} FieldOptions
 * @property {string} key the API field path this control edits, e.g. `url`, `trigger.window`
 * @property {string} label
 * @property {HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement} control
 * @property {import('./dom.js').Child} [hint]
 * @property {string} [className]
 */

/**
 * A labelled control with its hint and error slot, both linked by aria-describedby.
 * @param {FieldOptions} options
 */
export function field({ key, label, control, hint, className }) {
  const id = control.id || uid('field');
  control.id = id;
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  control.setAttribute('aria-describedby', hint ? `${hintId} ${errorId}` : errorId);
  return h(
    'div',
    { class: `field ${className ?? ''}`.trim(), 'data-field': key },
    h('label', { for: id }, label),
    control,
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    h('p', { class: 'field-error', id: errorId, hidden: true }),
  );
}

/**
 * A group of checkboxes (or radios) in a fieldset whose legend labels the group.
 * @param {object} options
 * @param {string} options.key
 * @param {string} options.legend
 * @param {string[]} options.values
 * @param {string[]} [options.checked]
 * @param {(value: string) => string} [options.labelOf]
 * @param {'checkbox' | 'radio'} [options.type]
 * @param {string} [options.name] input name (radios: the group)
 * @param {import('./dom.js').Child} [options.hint]
 */
export function choiceGroup({ key, legend, values, checked = [], labelOf = (v) => v, type = 'checkbox', name, hint }) {
  const groupName = name ?? uid(key.replace(/\W/g, '-'));
  const errorId = uid('group-error');
  const hintId = `${errorId}-hint`;
  return h(
    'fieldset',
    { class: 'field choices', 'data-field': key, 'aria-describedby': hint ? `${hintId} ${errorId}` : errorId },
    h('legend', null, legend),
    h(
      'div',
      { class: 'choice-list' },
      values.map((value) =>
        h('label', { class: 'choice' }, h('input', { type, name: groupName, value, checked: checked.includes(value) }), ' ', labelOf(value)),
      ),
    ),
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    h('p', { class: 'field-error', id: errorId, hidden: true }),
  );
}

/** The values checked in a choice group. @param {Element} group */
export function checkedValues(group) {
  return [...group.querySelectorAll('input:checked')].map((input) => /** @type {HTMLInputElement} */ (input).value);
}

/**
 * A select with the given options; `[value, label]` pairs or plain values.
 * @param {(string | [string, string])[]} options
 * @param {string} [selected]
 * @param {Record<string, unknown>} [props]
 */
export function select(options, selected, props = {}) {
  return h(
    'select',
    props,
    options.map((option) => {
      const [value, label] = Array.isArray(option) ? option : [option, option];
      return h('option', { value, selected: value === selected }, label);
    }),
  );
}

/** The form-level error area, for problems that name no field on the form. */
export function formError() {
  return h('div', { class: 'form-error', role: 'alert', tabindex: '-1', hidden: true });
}

/**
 * The key among `keys` that an API error path belongs to: the key itself, or the longest
 * key the path continues with `.` or `[` (`headers.X-Team` → `headers`). Null when none.
 * @param {string[]} keys
 * @param {string} fieldPath
 * @returns {string | null}
 */
export function matchField(keys, fieldPath) {
  let best = null;
  for (const key of keys) {
    const matches = fieldPath === key || fieldPath.startsWith(`${key}.`) || fieldPath.startsWith(`${key}[`);
    if (matches && (best === null || key.length > best.length)) best = key;
  }
  return best;
}

/** @param {Element} form */
export function clearProblems(form) {
  for (const slot of form.querySelectorAll('.field-error')) {
    slot.textContent = '';
    slot.setAttribute('hidden', '');
  }
  for (const control of form.querySelectorAll('[aria-invalid]')) control.removeAttribute('aria-invalid');
  for (const box of form.querySelectorAll('.form-error')) {
    box.textContent = '';
    box.setAttribute('hidden', '');
  }
}

/**
 * @typedef {object} ShowOptions
 * @property {string} [strip] a prefix to remove from error paths first (`automation.` for the preview)
 * @property {(key: string) => boolean} [only] show only problems of these fields (live validation); others stay hidden
 * @property {boolean} [focus] move focus to the first invalid control (default true)
 */

/**
 * Shows an error: each detail next to the field it names; details naming no field on the
 * form, and the message when there are no details, in the form-level area.
 * @param {Element} form
 * @param {unknown} error
 * @param {ShowOptions} [options]
 * @returns {number} how many problems are now visible
 */
export function showProblem(form, error, options = {}) {
  clearProblems(form);
  const fields = /** @type {HTMLElement[]} */ ([...form.querySelectorAll('[data-field]')]);
  const keys = fields.map((el) => el.dataset.field ?? '');
  /** @type {Map<string, string[]>} */
  const byKey = new Map();
  /** @type {string[]} */
  const unplaced = [];
  const details = error instanceof ApiProblem ? error.details : [];
  for (const detail of details) {
    const fieldPath = options.strip && detail.field.startsWith(options.strip) ? detail.field.slice(options.strip.length) : detail.field;
    const key = matchField(keys, fieldPath);
    if (options.only && !(key !== null && options.only(key))) continue;
    const rest = key === null || key === fieldPath ? '' : fieldPath.slice(key.length).replace(/^\./, '');
    const text = rest ? `${rest}: ${detail.reason}` : detail.reason;
    if (key === null) unplaced.push(`${fieldPath}: ${detail.reason}`);
    else byKey.set(key, [...(byKey.get(key) ?? []), text]);
  }
  if (details.length === 0 && !options.only) unplaced.push(messageOf(error));

  /** @type {HTMLElement | null} */
  let first = null;
  for (const [key, reasons] of byKey) {
    const wrapper = fields[keys.indexOf(key)];
    const slot = wrapper.querySelector(':scope > .field-error');
    if (slot) {
      slot.textContent = reasons.join(' · ');
      slot.removeAttribute('hidden');
    }
    for (const control of wrapper.querySelectorAll('input, select, textarea')) {
      control.setAttribute('aria-invalid', 'true');
      first ??= /** @type {HTMLElement} */ (control);
    }
  }
  const box = form.querySelector('.form-error');
  // Several problems at once: the form-level area names each field as the form labels it.
  const labelled = [...byKey.keys()].map((key) => {
    const wrapper = fields[keys.indexOf(key)];
    return (wrapper.querySelector(':scope > label, :scope > legend')?.textContent ?? key).trim();
  });
  const summary = byKey.size > 1 ? [`${byKey.size} fields need a change: ${labelled.join(', ')}`] : [];
  if (box && unplaced.length + summary.length > 0) {
    box.textContent = [...summary, ...unplaced].join(' · ');
    box.removeAttribute('hidden');
  }
  if (options.focus !== false) (first ?? /** @type {HTMLElement | null} */ (box))?.focus?.();
  return byKey.size + unplaced.length;
}

/**
 * Runs a submit handler with the form's buttons disabled, showing any error on the form.
 * @param {HTMLFormElement} form
 * @param {() => Promise<void>} action
 */
export async function submitting(form, action) {
  const buttons = [...form.querySelectorAll('button')];
  for (const button of buttons) button.disabled = true;
  form.setAttribute('aria-busy', 'true');
  try {
    clearProblems(form);
    await action();
  } catch (error) {
    showProblem(form, error);
  } finally {
    for (const button of buttons) button.disabled = false;
    form.removeAttribute('aria-busy');
  }
}

/**
 * A 400-style problem raised in the browser before calling Herald (e.g. a header line that
 * is not `Name: value`), shown exactly like the API's own.
 * @param {string} fieldPath
 * @param {string} reason
 */
export function localProblem(fieldPath, reason) {
  return new ApiProblem(400, `Invalid input: ${fieldPath} ${reason}`, [{ field: fieldPath, reason }]);
}
