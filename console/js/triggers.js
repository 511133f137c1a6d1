// @ts-check
/**
 * The automation triggers as the form needs them: which fields each takes, how to turn the
 * form's text into the API's trigger object, a one-line summary for the list, and an
 * example event for the preview. The API stays the judge of validity; this only shapes input.
 */

export const RUN_STATES = ['RUNNING', 'FINISHED', 'FAILED', 'CRASHED', 'KILLED'];
export const ALERT_LEVELS = ['INFO', 'WARN', 'ERROR'];
const AGGREGATES = ['LAST', 'AVERAGE', 'MIN', 'MAX'];
const COMPARISONS = ['>', '>=', '<', '<=', '==', '!=', 'NON_FINITE'];
const DIRECTIONS = ['INCREASE', 'DECREASE', 'ANY'];
const CHANGE_TYPES = ['ABSOLUTE', 'RELATIVE'];
const REGEX_HINT = 'RE2 syntax (no lookaround or backreferences); unanchored unless it uses ^ or $.';

/**
 * @typedef {object} TriggerField
 * @property {string} name the trigger property
 * @property {string} label
 * @property {'text' | 'number' | 'integer' | 'select' | 'checkboxes'} type
 * @property {string[]} [options]
 * @property {boolean} [optional]
 * @property {string} [hint]
 * @property {string} [initial] the value a new form starts with
 */

/** @type {Record<string, TriggerField>} */
const FIELDS = {
  collectionRegex: { name: 'collectionRegex', label: 'Collection matches (regex)', type: 'text', optional: true, hint: REGEX_HINT },
  aliasRegex: { name: 'aliasRegex', label: 'Alias matches (regex)', type: 'text', hint: REGEX_HINT, initial: '^prod$' },
  tagRegex: { name: 'tagRegex', label: 'Tag matches (regex)', type: 'text', hint: REGEX_HINT },
  lineRegex: { name: 'lineRegex', label: 'Log line matches (regex)', type: 'text', hint: REGEX_HINT },
  titleRegex: { name: 'titleRegex', label: 'Title matches (regex)', type: 'text', optional: true, hint: REGEX_HINT },
  states: { name: 'states', label: 'The run enters one of these states', type: 'checkboxes', options: RUN_STATES },
  levels: { name: 'levels', label: 'The alert level is one of', type: 'checkboxes', options: ALERT_LEVELS },
  metric: { name: 'metric', label: 'Metric', type: 'text', hint: 'The name as logged, e.g. val/loss.' },
  agg: { name: 'agg', label: 'Aggregate of the window', type: 'select', options: AGGREGATES },
  window: { name: 'window', label: 'Window (latest values)', type: 'integer', initial: '1' },
  priorWindow: { name: 'priorWindow', label: 'Prior window (values before it)', type: 'integer', initial: '5' },
  op: {
    name: 'op',
    label: 'Comparison',
    type: 'select',
    options: COMPARISONS,
    hint: 'NON_FINITE fires when the latest value is NaN or ±Infinity (no aggregate, window or threshold).',
  },
  threshold: { name: 'threshold', label: 'Threshold', type: 'number' },
  zThreshold: { name: 'threshold', label: 'Threshold (standard deviations)', type: 'number', initial: '3' },
  changeType: {
    name: 'changeType',
    label: 'Change measured as',
    type: 'select',
    options: CHANGE_TYPES,
    hint: 'RELATIVE is a fraction of the prior value: 0.2 means 20 %.',
  },
  direction: { name: 'direction', label: 'Direction', type: 'select', options: DIRECTIONS },
  amount: { name: 'amount', label: 'By at least', type: 'number' },
  groupRegex: { name: 'groupRegex', label: 'Group matches (regex)', type: 'text', optional: true, hint: REGEX_HINT },
  staleSeconds: { name: 'staleSeconds', label: 'Silent for (seconds)', type: 'integer', initial: '600', hint: '1 to 604800; only runs whose last state is RUNNING.' },
};

/**
 * @typedef {object} TriggerSpec
 * @property {string} event
 * @property {string} label
 * @property {'Runs' | 'Run metrics' | 'Artifacts' | 'Herald'} group
 * @property {TriggerField[]} fields
 */

/** @type {TriggerSpec[]} */
export const TRIGGERS = [
  { event: 'RUN_STATE', group: 'Runs', label: 'A run changes state', fields: [FIELDS.states] },
  { event: 'RUN_LOG_MATCH', group: 'Runs', label: 'A log line matches', fields: [FIELDS.lineRegex] },
  { event: 'ALERT', group: 'Runs', label: 'An alert is raised', fields: [FIELDS.levels, FIELDS.titleRegex] },
  { event: 'RUN_STALE', group: 'Runs', label: 'A running run goes silent', fields: [FIELDS.staleSeconds] },
  { event: 'RUN_GROUP_FINISHED', group: 'Runs', label: 'A run group (sweep) finishes', fields: [FIELDS.groupRegex] },
  {
    event: 'RUN_METRIC_THRESHOLD',
    group: 'Run metrics',
    label: 'A metric crosses a threshold',
    fields: [FIELDS.metric, FIELDS.op, FIELDS.agg, FIELDS.window, FIELDS.threshold],
  },
  {
    event: 'RUN_METRIC_CHANGE',
    group: 'Run metrics',
    label: 'A metric changes between windows',
    fields: [FIELDS.metric, FIELDS.agg, FIELDS.window, FIELDS.priorWindow, FIELDS.changeType, FIELDS.direction, FIELDS.amount],
  },
  {
    event: 'RUN_METRIC_ZSCORE',
    group: 'Run metrics',
    label: 'A metric is an outlier (z-score)',
    fields: [FIELDS.metric, FIELDS.window, FIELDS.zThreshold, FIELDS.direction],
  },
  { event: 'CREATE_ARTIFACT', group: 'Artifacts', label: 'An artifact version is created', fields: [FIELDS.collectionRegex] },
  { event: 'LINK_ARTIFACT', group: 'Artifacts', label: 'An artifact is linked', fields: [FIELDS.collectionRegex] },
  { event: 'UNLINK_ARTIFACT', group: 'Artifacts', label: 'An artifact is unlinked', fields: [FIELDS.collectionRegex] },
  { event: 'ADD_ARTIFACT_ALIAS', group: 'Artifacts', label: 'An alias is added', fields: [FIELDS.aliasRegex, FIELDS.collectionRegex] },
  { event: 'REMOVE_ARTIFACT_ALIAS', group: 'Artifacts', label: 'An alias is removed', fields: [FIELDS.aliasRegex, FIELDS.collectionRegex] },
  { event: 'ADD_ARTIFACT_TAG', group: 'Artifacts', label: 'A tag is added', fields: [FIELDS.tagRegex, FIELDS.collectionRegex] },
  { event: 'REMOVE_ARTIFACT_TAG', group: 'Artifacts', label: 'A tag is removed', fields: [FIELDS.tagRegex, FIELDS.collectionRegex] },
  { event: 'ADD_COLLECTION_TAG', group: 'Artifacts', label: 'A collection is tagged', fields: [FIELDS.tagRegex, FIELDS.collectionRegex] },
  { event: 'REMOVE_COLLECTION_TAG', group: 'Artifacts', label: 'A collection tag is removed', fields: [FIELDS.tagRegex, FIELDS.collectionRegex] },
  // Herald's own events about its webhooks and deliveries: team scope only, no fields.
  { event: 'WEBHOOK_DISABLED', group: 'Herald', label: 'Herald disabled a webhook (gone or failing)', fields: [] },
  { event: 'DELIVERY_FAILED', group: 'Herald', label: 'A delivery failed for good', fields: [] },
];

/** @param {string} event @returns {TriggerSpec} */
export function triggerSpec(event) {
  return TRIGGERS.find((t) => t.event === event) ?? TRIGGERS[0];
}

/** @param {string} event */
export function isArtifactTrigger(event) {
  return triggerSpec(event).group === 'Artifacts';
}

/** @param {string} event */
export function isMetricTrigger(event) {
  return event.startsWith('RUN_METRIC_');
}

/** Herald's own events (WEBHOOK_DISABLED, DELIVERY_FAILED): team-scoped automations only. @param {string} event */
export function isOperationalTrigger(event) {
  return TRIGGERS.some((t) => t.event === event && t.group === 'Herald');
}

/** Run filters apply to run triggers and ALERT (an alert may carry a run), never to artifact or Herald triggers. @param {string} event */
export function takesRunFilter(event) {
  return !isArtifactTrigger(event) && !isOperationalTrigger(event);
}

/** The cooldown Herald applies when none is set. @param {string} event */
export function defaultCooldown(event) {
  return isMetricTrigger(event) || event === 'RUN_LOG_MATCH' ? 86400 : 0;
}

/** @typedef {Record<string, string | string[]>} FieldValues */

/**
 * The fields that apply to the values entered: a NON_FINITE threshold takes the metric only.
 * @param {string} event
 * @param {FieldValues} values
 */
export function activeFields(event, values) {
  const fields = triggerSpec(event).fields;
  if (event === 'RUN_METRIC_THRESHOLD' && values.op === 'NON_FINITE') return fields.filter((f) => f.name === 'metric' || f.name === 'op');
  return fields;
}

/**
 * The API's trigger object from the form's values. Empty optional fields are left out; a
 * number that does not parse is passed on as typed, so Herald names the field in its 400.
 * @param {string} event
 * @param {FieldValues} values
 * @returns {Record<string, unknown>}
 */
export function buildTrigger(event, values) {
  /** @type {Record<string, unknown>} */
  const trigger = { event };
  for (const spec of activeFields(event, values)) {
    const raw = values[spec.name];
    if (spec.type === 'checkboxes') {
      trigger[spec.name] = Array.isArray(raw) ? raw : [];
      continue;
    }
    const text = typeof raw === 'string' ? raw.trim() : '';
    if (text === '') {
      if (!spec.optional) trigger[spec.name] = spec.type === 'select' ? spec.options?.[0] : '';
      continue;
    }
    if (spec.type === 'number' || spec.type === 'integer') {
      const number = Number(text);
      trigger[spec.name] = Number.isFinite(number) ? number : text;
    } else {
      // A regex keeps its spaces as typed: they are part of the pattern.
      trigger[spec.name] = spec.name.endsWith('Regex') && typeof raw === 'string' ? raw : text;
    }
  }
  return trigger;
}

/**
 * The form's values for a stored trigger (the inverse of buildTrigger).
 * @param {Record<string, unknown>} trigger
 * @returns {FieldValues}
 */
export function triggerValues(trigger) {
  /** @type {FieldValues} */
  const values = {};
  for (const [name, value] of Object.entries(trigger)) {
    if (name === 'event') continue;
    values[name] = Array.isArray(value) ? value.map(String) : String(value);
  }
  return values;
}

/**
 * The values a new form starts with for a trigger.
 * @param {string} event
 * @returns {FieldValues}
 */
export function initialValues(event) {
  /** @type {FieldValues} */
  const values = {};
  for (const spec of triggerSpec(event).fields) {
    if (spec.type === 'checkboxes') values[spec.name] = spec.options?.includes('FAILED') ? ['FAILED'] : spec.options?.slice(-1) ?? [];
    else values[spec.name] = spec.initial ?? (spec.type === 'select' ? spec.options?.[0] ?? '' : '');
  }
  return values;
}

/** @param {unknown} value */
const regex = (value) => `/${String(value)}/`;

/**
 * One line saying when an automation fires, for the list.
 * @param {Record<string, any>} trigger
 */
export function summarizeTrigger(trigger) {
  const t = trigger;
  const collection = t.collectionRegex ? ` in a collection matching ${regex(t.collectionRegex)}` : '';
  switch (t.event) {
    case 'RUN_STATE':
      return `A run enters ${(t.states ?? []).join(' or ')}`;
    case 'RUN_LOG_MATCH':
      return `A log line matches ${regex(t.lineRegex)}`;
    case 'ALERT':
      return `An alert of level ${(t.levels ?? []).join(' or ')}${t.titleRegex ? ` titled ${regex(t.titleRegex)}` : ''}`;
    case 'RUN_METRIC_THRESHOLD':
      if (t.op === 'NON_FINITE') return `${t.metric} becomes NaN or ±Infinity`;
      return `${t.agg} of the last ${t.window} ${t.metric} ${t.op} ${t.threshold}`;
    case 'RUN_METRIC_CHANGE': {
      const unit = t.changeType === 'RELATIVE' ? ` (${Math.round(Number(t.amount) * 1000) / 10} %)` : '';
      const verb = t.direction === 'INCREASE' ? 'rises' : t.direction === 'DECREASE' ? 'falls' : 'changes';
      return `${t.agg} of the last ${t.window} ${t.metric} ${verb} by ≥ ${t.amount}${unit} vs the ${t.priorWindow} before`;
    }
    case 'RUN_METRIC_ZSCORE': {
      const side = t.direction === 'INCREASE' ? '≥ ' : t.direction === 'DECREASE' ? '≤ −' : '|z| ≥ ';
      return `${t.metric} z-score ${side}${t.threshold} over the last ${t.window}`;
    }
    case 'ADD_ARTIFACT_ALIAS':
    case 'REMOVE_ARTIFACT_ALIAS':
      return `Alias matching ${regex(t.aliasRegex)} ${t.event.startsWith('ADD') ? 'added' : 'removed'}${collection}`;
    case 'RUN_STALE':
      return `A running run sends nothing for ${t.staleSeconds} s`;
    case 'RUN_GROUP_FINISHED':
      return `No run of a group${t.groupRegex ? ` matching ${regex(t.groupRegex)}` : ''} is running any more`;
    case 'ADD_COLLECTION_TAG':
    case 'REMOVE_COLLECTION_TAG':
      return `Collection tag matching ${regex(t.tagRegex)} ${t.event.startsWith('ADD') ? 'added' : 'removed'}${collection}`;
    case 'ADD_ARTIFACT_TAG':
    case 'REMOVE_ARTIFACT_TAG':
      return `Tag matching ${regex(t.tagRegex)} ${t.event.startsWith('ADD') ? 'added' : 'removed'}${collection}`;
    default:
      return `${triggerSpec(String(t.event)).label}${collection}`;
  }
}

/**
 * The text a simple anchored-literal regex such as `^prod$` matches, else null.
 * @param {unknown} pattern
 */
export function literalOf(pattern) {
  const match = /^\^?([\w.-]+)\$?$/.exec(String(pattern ?? ''));
  return match ? match[1] : null;
}

/**
 * An example event for the preview, shaped to satisfy the trigger where that is easy (the
 * first state chosen, a metric value on the right side of the threshold, the alias a
 * literal regex names). People edit it to explore why something would not fire.
 * @param {Record<string, any>} trigger
 * @param {{type?: string, name?: string}} scope
 * @returns {Record<string, unknown>}
 */
export function sampleEvent(trigger, scope) {
  const base = {
    project: scope.name || 'my-project',
    author: 'alice',
    ...(scope.type === 'registry' ? { registry: true } : {}),
  };
  const run = { id: 'run-1', name: 'example-run' };
  const event = String(trigger.event);
  if (event === 'RUN_STATE') return { type: 'RUN_STATE', ...base, run: { ...run, state: trigger.states?.[0] ?? 'FINISHED' } };
  if (event === 'RUN_GROUP_FINISHED') return { type: 'RUN_STATE', ...base, run: { ...run, state: 'FINISHED', group: literalOf(trigger.groupRegex) ?? 'sweep-1' } };
  if (event === 'RUN_STALE') {
    const staleSeconds = Number(trigger.staleSeconds) || 600;
    return { type: 'RUN_STALE', ...base, run: { ...run, state: 'RUNNING' }, lastSeenAt: new Date(Date.now() - staleSeconds * 1000).toISOString(), staleSeconds };
  }
  if (event === 'ADD_COLLECTION_TAG' || event === 'REMOVE_COLLECTION_TAG') {
    return { type: event, ...base, collection: { name: literalOf(trigger.collectionRegex) ?? 'example-model', type: 'model' }, tag: literalOf(trigger.tagRegex) ?? 'release' };
  }
  if (event === 'RUN_LOG_MATCH') {
    return { type: 'RUN_LOG', ...base, run, lines: [literalOf(trigger.lineRegex) ?? 'an example log line'] };
  }
  if (event === 'ALERT') {
    return { type: 'ALERT', ...base, title: literalOf(trigger.titleRegex) ?? 'Example alert', level: trigger.levels?.[0] ?? 'ERROR', run };
  }
  if (isMetricTrigger(event)) {
    return { type: 'RUN_METRICS', ...base, run, step: 100, metrics: { [trigger.metric || 'val/loss']: metricExample(trigger) } };
  }
  if (isOperationalTrigger(event)) {
    const webhook = { id: 'wh_example', name: 'example-webhook' };
    const delivery = { id: 'msg_example', series: 1, attempts: 1, eventType: 'ALERT' };
    return event === 'WEBHOOK_DISABLED'
      ? { type: event, project: 'herald', webhook, reason: 'gone', delivery, statusCode: 410, error: 'HTTP 410' }
      : { type: event, project: scope.name || 'my-project', webhook, delivery, statusCode: 500, error: 'HTTP 500' };
  }
  /** @type {Record<string, unknown>} */
  const artifactEvent = {
    type: event,
    ...base,
    artifact: { name: 'example-model', version: 'v1', collection: literalOf(trigger.collectionRegex) ?? 'example-model' },
  };
  if (event.endsWith('_ALIAS')) artifactEvent.alias = literalOf(trigger.aliasRegex) ?? 'prod';
  if (event.endsWith('_TAG')) artifactEvent.tag = literalOf(trigger.tagRegex) ?? 'release';
  return artifactEvent;
}

/**
 * A value that satisfies a threshold, shaped like a loss: half again past the threshold on the
 * side the comparison asks for (2 > 2 → 3; < 0.2 → 0.1), so the example reads like a run that
 * crossed it.
 * @param {Record<string, any>} trigger @returns {number | string}
 */
function metricExample(trigger) {
  if (trigger.event !== 'RUN_METRIC_THRESHOLD') return 1;
  if (trigger.op === 'NON_FINITE') return 'NaN';
  const threshold = Number(trigger.threshold);
  if (!Number.isFinite(threshold)) return 1;
  const step = threshold === 0 ? 1 : Math.abs(threshold) / 2;
  if (trigger.op === '>' || trigger.op === '>=' || trigger.op === '!=') return round(threshold + step);
  if (trigger.op === '<' || trigger.op === '<=') return round(threshold - step);
  return threshold;
}

/** @param {number} n */
const round = (n) => Math.round(n * 1e6) / 1e6;

/**
 * For a windowed metric trigger, a sequence of RUN_METRICS events (steps 100, 200, …) long
 * enough to fill its windows and ending where it fires: a threshold window of values all past
 * the threshold; a change whose window moved by twice the amount from the prior window; a
 * z-score whose last value lies far from a steady window. Other triggers: the one sample event.
 * @param {Record<string, any>} trigger
 * @param {{type?: string, name?: string}} scope
 * @returns {Record<string, unknown>[]}
 */
export function sampleSequence(trigger, scope) {
  const last = sampleEvent(trigger, scope);
  if (!isMetricTrigger(String(trigger.event)) || trigger.op === 'NON_FINITE') return [last];
  const size = (/** @type {unknown} */ n) => Math.min(Math.max(Number.parseInt(String(n), 10) || 1, 1), 1000);
  /** @type {number[]} */
  let values;
  if (trigger.event === 'RUN_METRIC_THRESHOLD') {
    const value = Number(metricExample(trigger));
    values = Array.from({ length: size(trigger.window) }, () => value);
  } else if (trigger.event === 'RUN_METRIC_CHANGE') {
    const amount = Math.max(Number(trigger.amount) || 0, 0.1);
    const change = trigger.changeType === 'RELATIVE' ? 1 + amount * 2 : amount * 2;
    const after = trigger.direction === 'DECREASE' ? (trigger.changeType === 'RELATIVE' ? 1 / change : 1 - change) : trigger.changeType === 'RELATIVE' ? change : 1 + change;
    values = [...Array.from({ length: size(trigger.priorWindow) }, () => 1), ...Array.from({ length: size(trigger.window) }, () => round(after))];
  } else {
    // z-score: a steady window around 1 (σ > 0), then a value many σ away.
    const steady = Array.from({ length: size(trigger.window) }, (_, i) => (i % 2 === 0 ? 0.99 : 1.01));
    const far = (Number(trigger.threshold) || 3) * 0.01 * 4;
    values = [...steady, round(trigger.direction === 'DECREASE' ? 1 - far : 1 + far)];
  }
  const metric = trigger.metric || 'val/loss';
  return values.map((value, i) => ({ ...last, step: (i + 1) * 100, metrics: { [metric]: value } }));
}
