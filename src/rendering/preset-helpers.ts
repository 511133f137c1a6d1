import Handlebars from 'handlebars';
import { type HeraldEvent, type RunState, isOperationalEventType } from '../events/event.types';
import type { PayloadVariables, RenderContext } from './render-context';

/**
 * What preset templates are rendered from: the render context plus a few values derived once
 * per render (headline, facts, severity) so that every preset describes an event the same way.
 * Every key is always present (null when unknown): templates compile in strict mode.
 */
export interface PresetView {
  v: PayloadVariables;
  event: HeraldEvent;
  team: { id: string; name: string };
  automation: { id: string; name: string } | null;
  /** `automation.name`, or null for test sends (strict templates cannot look into null). */
  automationName: string | null;
  deliveryId: string;
  /** One plain-text sentence saying what happened, e.g. "Run bert-base failed". */
  headline: string;
  /** `<team>/<project>`. */
  projectPath: string;
  /** Labelled values worth showing for this event type, in display order; values never empty. */
  facts: Fact[];
  /** The run's URL when it is an http(s) URL (receivers reject other schemes in links). */
  runUrl: string | null;
  severity: Severity;
  /** The matching log line, or the event's first line when the matcher gave none (test sends). */
  logLine: string | null;
  alertText: string | null;
}

export interface Fact {
  name: string;
  value: string;
}

export type Severity = 'good' | 'info' | 'warning' | 'danger';

const MAX_FACT_CHARS = 1000;
const MAX_METADATA_FACTS = 5;
const MAX_METRIC_FACTS = 5;

/**
 * JSON text for any value: non-finite numbers become the strings "NaN", "Infinity" and
 * "-Infinity" (docs/design.md › Payload rendering), and `undefined`, which has no JSON form, is refused
 * so that a template typo fails loudly instead of producing broken JSON.
 */
export function jsonLiteral(value: unknown): string {
  if (value === undefined) {
    throw new TypeError('json helper got undefined: the template names a field that does not exist');
  }
  return JSON.stringify(value, nonFiniteAsString);
}

function nonFiniteAsString(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return value;
}

/**
 * JSON text in the byte form Python's `json.dumps(obj, separators=(",", ":"))` produces with
 * its default `ensure_ascii=True`: compact, and every character outside printable ASCII written
 * as a lowercase `\uXXXX` escape (astral characters as their UTF-16 surrogate pair).
 */
export function asciiJson(value: unknown): string {
  return jsonLiteral(value).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Cuts text to at most `max` UTF-16 units, ending with "…" when cut; never splits a surrogate pair. */
export function truncateText(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 0) return '';
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

/** Slack mrkdwn control characters (&, <, >) escaped as Slack documents, so values cannot forge links or mentions. */
export function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A Slack `<url|label>` link, or the escaped label when there is no URL. */
export function slackLink(url: string | null, label: string): string {
  const text = slackEscape(label).replace(/\|/g, '¦');
  if (!url) return text;
  const target = slackEscape(url).replace(/\|/g, '%7C');
  return `<${target}|${text}>`;
}

export function httpUrl(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}

/** A number as display text: NaN and ±Infinity spelled out, null as null. */
export function displayNumber(value: number | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return String(value);
}

/** Determined's experiment states (the Determined webhook docs) for Herald run states. */
export const DETERMINED_STATES: Record<RunState, string> = {
  RUNNING: 'ACTIVE',
  FINISHED: 'COMPLETED',
  FAILED: 'ERRORED',
  CRASHED: 'ERRORED',
  KILLED: 'CANCELED',
};

/** Valohai's `valohai.execution-status` words (the Valohai notification docs show "complete"). */
export const VALOHAI_STATUSES: Record<RunState, string> = {
  RUNNING: 'started',
  FINISHED: 'complete',
  FAILED: 'error',
  CRASHED: 'crashed',
  KILLED: 'stopped',
};

const FAILED_STATES: ReadonlySet<string> = new Set(['FAILED', 'CRASHED', 'KILLED']);

export function determinedState(state: string | null | undefined): string | null {
  return state && state in DETERMINED_STATES ? DETERMINED_STATES[state as RunState] : null;
}

export function valohaiStatus(state: string | null | undefined): string | null {
  return state && state in VALOHAI_STATUSES ? VALOHAI_STATUSES[state as RunState] : null;
}

/**
 * Valohai knows two message types. A run that failed, crashed or was killed, an ERROR
 * alert, or one of Herald's operational events, is `execution_failed`; everything else is `execution_completed` (the title and body
 * say what actually happened).
 */
export function valohaiType(view: PresetView): 'execution_completed' | 'execution_failed' {
  const failed = FAILED_STATES.has(view.v.run_state ?? '') || view.v.alert_level === 'ERROR' || isOperationalEventType(view.v.event_type);
  return failed ? 'execution_failed' : 'execution_completed';
}

export function valohaiTitle(view: PresetView): string {
  const { v } = view;
  if (v.event_type === 'RUN_STATE' && v.run_state) {
    const phase = v.run_state === 'RUNNING' ? 'started' : 'finished';
    const word = v.run_state === 'FINISHED' ? 'completed' : (valohaiStatus(v.run_state) ?? v.run_state);
    return `Execution ${phase}: ${view.projectPath}/${v.run_name ?? ''} (${word})`;
  }
  return view.headline;
}

/** Valohai's body: a markdown link to the run (when known), its author, then what happened. */
export function valohaiBody(view: PresetView): string {
  const { v } = view;
  const label = v.run_name !== null ? `${view.projectPath}/${v.run_name}` : view.projectPath;
  const subject = v.run_name !== null ? 'Execution' : 'Project';
  const linked = view.runUrl ? `[${label}](${view.runUrl})` : label;
  const by = v.event_author ? ` (by ${v.event_author})` : '';
  const lines = [`${subject} ${linked}${by}`, `${view.headline}.`];
  if (view.alertText) lines.push(view.alertText);
  if (view.logLine) lines.push(view.logLine);
  return lines.join('\n');
}

export function unixSeconds(iso: string): number | null {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : Math.floor(ms / 1000);
}

const RUN_STATE_VERBS: Record<RunState, string> = {
  RUNNING: 'is running',
  FINISHED: 'finished',
  FAILED: 'failed',
  CRASHED: 'crashed',
  KILLED: 'was killed',
};

const ARTIFACT_VERBS: Partial<Record<string, string>> = {
  CREATE_ARTIFACT: 'created',
  LINK_ARTIFACT: 'linked',
  UNLINK_ARTIFACT: 'unlinked',
};

export function headline(v: PayloadVariables, event: HeraldEvent): string {
  const run = v.run_name ?? v.run_id ?? '';
  const versionOf = `${v.artifact_collection_name ?? ''}:${v.artifact_version ?? ''}`;
  switch (event.type) {
    case 'RUN_METRICS':
      return v.metric_name !== null
        ? `Metric ${v.metric_name} = ${displayNumber(v.metric_value)} on run ${run}`
        : `Metrics logged by run ${run}`;
    case 'RUN_STATE':
      return `Run ${run} ${v.run_state ? RUN_STATE_VERBS[v.run_state as RunState] ?? v.run_state : 'changed state'}`;
    case 'RUN_LOG':
      return `Log line matched in run ${run}`;
    case 'ALERT':
      return `${v.alert_level ?? 'ALERT'}: ${v.alert_title ?? ''}`;
    case 'ADD_ARTIFACT_ALIAS':
      return `Alias ${v.alias ?? ''} added to ${versionOf}`;
    case 'REMOVE_ARTIFACT_ALIAS':
      return `Alias ${v.alias ?? ''} removed from ${versionOf}`;
    case 'ADD_ARTIFACT_TAG':
      return `Tag ${v.tag ?? ''} added to ${versionOf}`;
    case 'REMOVE_ARTIFACT_TAG':
      return `Tag ${v.tag ?? ''} removed from ${versionOf}`;
    case 'WEBHOOK_DISABLED':
      return `Webhook ${v.webhook_name ?? ''} disabled: ${v.disabled_reason === 'gone' ? 'it answered 410 Gone' : 'it kept failing'}`;
    case 'DELIVERY_FAILED':
      return `Delivery to webhook ${v.webhook_name ?? ''} failed after ${v.attempts ?? 0} attempt${v.attempts === 1 ? '' : 's'}`;
    default:
      return `Artifact ${v.artifact_version_string ?? versionOf} ${ARTIFACT_VERBS[event.type] ?? 'changed'}`;
  }
}

function severityOf(v: PayloadVariables, event: HeraldEvent): Severity {
  if (isOperationalEventType(event.type)) return 'danger';
  if (event.type === 'ALERT') return v.alert_level === 'ERROR' ? 'danger' : v.alert_level === 'WARN' ? 'warning' : 'info';
  if (event.type === 'RUN_STATE') {
    if (v.run_state === 'FINISHED') return 'good';
    if (v.run_state === 'FAILED' || v.run_state === 'CRASHED') return 'danger';
    return v.run_state === 'KILLED' ? 'warning' : 'info';
  }
  if (event.type === 'RUN_METRICS' || event.type === 'RUN_LOG') return 'warning';
  return 'info';
}

function factsOf(v: PayloadVariables, event: HeraldEvent, automation: RenderContext['automation']): Fact[] {
  const facts: Fact[] = [];
  const add = (name: string, value: string | number | null | undefined): void => {
    if (value === null || value === undefined) return;
    const text = typeof value === 'number' ? String(value) : value;
    facts.push({ name, value: text === '' ? '(empty)' : truncateText(text, MAX_FACT_CHARS) });
  };
  add('Run', v.run_name);
  add('Run state', v.run_state);
  add('Metric', v.metric_name);
  if (v.metric_name !== null) {
    add('Value', displayNumber(v.metric_value));
    add('Threshold', displayNumber(v.metric_threshold));
    add('Change', displayNumber(v.metric_change));
    add('Z-score', displayNumber(v.metric_zscore));
  } else if (event.metrics) {
    for (const [name, value] of Object.entries(event.metrics).slice(0, MAX_METRIC_FACTS)) add(name, String(value));
  }
  add('Step', v.metric_step);
  add('Level', v.alert_level);
  add('Artifact', v.artifact_version_string);
  add('Collection', v.artifact_collection_name);
  add('Version', v.artifact_version);
  add('Alias', v.alias);
  add('Tag', v.tag);
  add('Type', event.artifact?.type);
  if (event.artifact?.aliases?.length) add('Aliases', event.artifact.aliases.join(', '));
  if (event.artifact?.tags?.length) add('Tags', event.artifact.tags.join(', '));
  for (const [key, value] of Object.entries(v.artifact_metadata ?? {}).slice(0, MAX_METADATA_FACTS)) {
    add(`metadata.${key}`, typeof value === 'string' ? value : jsonLiteral(value ?? null));
  }
  if (v.webhook_id !== null) {
    // Operational events: the webhook, why, and the delivery it is about (its error is the text below).
    add('Webhook', `${v.webhook_name ?? ''} (${v.webhook_id})`);
    add('Reason', v.disabled_reason);
    add('Status', v.status_code);
    add('Delivery', event.delivery?.id);
    add('Attempts', v.attempts);
    add('Sent by', event.delivery?.automationName);
    if (event.delivery) add('For event', `${event.delivery.eventType}${event.delivery.eventId ? ` ${event.delivery.eventId}` : ''}`);
  }
  add('Author', v.event_author);
  add('Automation', automation?.name);
  return facts;
}

export function presetView(context: RenderContext): PresetView {
  const { variables: v, event } = context;
  return {
    v,
    event,
    team: context.team,
    automation: context.automation,
    automationName: context.automation?.name ?? null,
    deliveryId: context.deliveryId,
    headline: headline(v, event),
    projectPath: `${v.entity_name}/${v.project_name}`,
    facts: factsOf(v, event, context.automation),
    runUrl: httpUrl(v.run_url),
    severity: severityOf(v, event),
    logLine: v.log_line ?? (event.type === 'RUN_LOG' ? (event.lines?.[0] ?? null) : null),
    // An operational event's error is its text, as an alert's is.
    alertText: v.alert_text ?? v.error,
  };
}

const DISCORD_COLORS: Record<Severity, number> = { good: 0x2eb67d, info: 0x3b82f6, warning: 0xecb22e, danger: 0xe01e5a };
const HEX_COLORS: Record<Severity, string> = { good: '2EB67D', info: '3B82F6', warning: 'ECB22E', danger: 'E01E5A' };
const ADAPTIVE_COLORS: Record<Severity, string> = { good: 'Good', info: 'Accent', warning: 'Warning', danger: 'Attention' };

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function isSet(value: unknown): boolean {
  return value !== null && value !== undefined && value !== '' && value !== false;
}

function asText(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : String(value);
}

/** Helpers preset templates may call. Text helpers return plain strings; only `json` writes into the JSON document. */
export const PRESET_HELPERS: Readonly<Record<string, (...args: any[]) => unknown>> = {
  json: (value: unknown) => jsonLiteral(value),
  truncate: (value: unknown, max: unknown) => truncateText(asText(value), Number(max)),
  concat: (...args: unknown[]) => args.slice(0, -1).map(asText).join(''),
  /** A line break, for composing multi-line text (handlebars string literals have no escapes). */
  nl: () => '\n',
  eq: (a: unknown, b: unknown) => a === b,
  lt: (a: unknown, b: unknown) => Number(a) < Number(b),
  /** `(when cond "a" x "b")`: the parts joined when cond is set (not null, "" or false), else "". */
  when: (cond: unknown, ...args: unknown[]) => (isSet(cond) ? args.slice(0, -1).map(asText).join('') : ''),
  or: (...args: unknown[]) => args.slice(0, -1).find(isSet) ?? null,
  chunk: (items: unknown, size: unknown) => chunk(Array.isArray(items) ? items : [], Number(size)),
  slack: (value: unknown) => slackEscape(asText(value)),
  slackLink: (url: unknown, label: unknown) => slackLink(typeof url === 'string' ? url : null, asText(label)),
  discordColor: (severity: Severity) => DISCORD_COLORS[severity],
  hexColor: (severity: Severity) => HEX_COLORS[severity],
  adaptiveColor: (severity: Severity) => ADAPTIVE_COLORS[severity],
  determinedState: (state: unknown) => determinedState(typeof state === 'string' ? state : null),
  valohaiStatus: (state: unknown) => valohaiStatus(typeof state === 'string' ? state : null),
  valohaiType: (view: PresetView) => valohaiType(view),
  valohaiTitle: (view: PresetView) => valohaiTitle(view),
  valohaiBody: (view: PresetView) => valohaiBody(view),
  unixSeconds: (iso: unknown) => unixSeconds(asText(iso)),
};

/** The private handlebars instance presets compile with (STYLE §10: never the global one). */
export function createPresetHandlebars(): typeof Handlebars {
  const hbs = Handlebars.create();
  for (const [name, fn] of Object.entries(PRESET_HELPERS)) hbs.registerHelper(name, fn);
  return hbs;
}
