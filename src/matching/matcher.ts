import type {
  Aggregation,
  ChangeTrigger,
  Comparison,
  Direction,
  MatchableAutomation,
  MetricTrigger,
  Trigger,
  ZScoreTrigger,
} from '../automations/automation.types';
import { type SafeRegex, compileSafeRegex } from '../common/safe-regex';
import { ARTIFACT_EVENT_TYPES, type EventType, type HeraldEvent, type RunState } from '../events/event.types';
import type { MatchedMetric } from '../rendering/build-variables';
import { type MetricWindows, aggregate, mean, valuesNeeded, windowOf, windowSizes } from './metric-windows';

/**
 * The pure matcher (DESIGN.md › Automations): does an automation fire for an event, given the
 * run's metric windows and the stored edge/cooldown state, and why (filter by filter).
 */

/** One check and how the event fared, for previews and "why didn't it fire?". */
export interface FilterVerdict {
  filter: string;
  passed: boolean;
  actual: unknown;
  expected: unknown;
}

/** Stored per (automation, subject): the edge and the cooldown. */
export interface SubjectState {
  matching: boolean;
  lastFiredAt: number | null;
  triggerVersion: number;
}

export interface Evaluation {
  automationId: string;
  /** The cooldown/edge subject: `run:<project>/<runId>`, `collection:<project>/<collection>` or `project:<project>`. */
  subject: string;
  filters: FilterVerdict[];
  /** Every filter passed and the trigger condition holds now. */
  conditionMet: boolean;
  /** Fires now: condition met, the edge rises (edge-triggered kinds), not in cooldown. */
  fires: boolean;
  /** Why a met condition does not fire. */
  suppressedBy: 'edge' | 'cooldown' | null;
  /** State to store for (automation, subject); null when nothing changes. */
  nextState: SubjectState | null;
  /** Metric triggers, once the condition was computed. */
  metric?: MatchedMetric;
  /** RUN_LOG_MATCH: the first matching line. */
  logLine?: string;
}

export interface EvaluationContext {
  /** The run's metric windows AFTER appending this event's values. */
  windows: MetricWindows;
  /** The run's state before this event; null if unknown. */
  previousRunState: RunState | null;
  /** Stored state of (automation, subject); a state of another trigger version counts as none. */
  state: SubjectState | null;
  nowMs: number;
}

type RegexField =
  | 'trigger.collectionRegex'
  | 'trigger.aliasRegex'
  | 'trigger.tagRegex'
  | 'trigger.lineRegex'
  | 'trigger.titleRegex'
  | 'runFilter.nameRegex';

/** An automation with its regexes compiled once and the event type it listens to. */
export interface CompiledAutomation {
  readonly automation: MatchableAutomation;
  readonly listensTo: EventType;
  readonly regexes: ReadonlyMap<RegexField, SafeRegex>;
}

const ARTIFACT_TYPES: ReadonlySet<string> = new Set(ARTIFACT_EVENT_TYPES);

export function isArtifactTrigger(trigger: Trigger): boolean {
  return ARTIFACT_TYPES.has(trigger.event);
}

export function isMetricTrigger(trigger: Trigger): trigger is MetricTrigger {
  return valuesNeeded(trigger) !== null;
}

/** Metric and log triggers fire on the transition to matching; the others on every match. */
export function isEdgeTriggered(trigger: Trigger): boolean {
  return isMetricTrigger(trigger) || trigger.event === 'RUN_LOG_MATCH';
}

/** The one event type a trigger listens to. */
export function listenedEventType(trigger: Trigger): EventType {
  if (isMetricTrigger(trigger)) return 'RUN_METRICS';
  if (trigger.event === 'RUN_LOG_MATCH') return 'RUN_LOG';
  // RUN_STATE, ALERT and the artifact triggers share their event's name.
  return trigger.event;
}

/** Compiles the automation's regexes. They were validated when saved, so a failure here is a bug: it throws. */
export function compileAutomation(automation: MatchableAutomation): CompiledAutomation {
  const regexes = new Map<RegexField, SafeRegex>();
  const add = (field: RegexField, pattern: string | undefined): void => {
    if (pattern === undefined) return;
    const compiled = compileSafeRegex(pattern);
    if (!compiled.ok) throw new Error(`Automation ${automation.id}: ${field} ${compiled.reason}`);
    regexes.set(field, compiled.regex);
  };
  const { trigger } = automation;
  switch (trigger.event) {
    case 'ADD_ARTIFACT_ALIAS':
    case 'REMOVE_ARTIFACT_ALIAS':
      add('trigger.aliasRegex', trigger.aliasRegex);
      break;
    case 'ADD_ARTIFACT_TAG':
    case 'REMOVE_ARTIFACT_TAG':
      add('trigger.tagRegex', trigger.tagRegex);
      break;
    case 'RUN_LOG_MATCH':
      add('trigger.lineRegex', trigger.lineRegex);
      break;
    case 'ALERT':
      add('trigger.titleRegex', trigger.titleRegex);
      break;
  }
  if (isArtifactTrigger(trigger)) {
    add('trigger.collectionRegex', (trigger as { collectionRegex?: string }).collectionRegex);
  } else {
    add('runFilter.nameRegex', automation.runFilter?.nameRegex);
  }
  return { automation, listensTo: listenedEventType(trigger), regexes };
}

/**
 * A team's enabled automations by the event type they listen to, patched in place when one
 * automation changes. Candidates are not checked for scope or filters: `evaluate` does that.
 */
export class AutomationIndex {
  private readonly byId = new Map<string, CompiledAutomation>();
  private byType: Map<EventType, CompiledAutomation[]> | null = null;
  private readonly sizesByProject = new Map<string, Map<string, number>>();

  constructor(automations: Iterable<CompiledAutomation>) {
    for (const compiled of automations) this.byId.set(compiled.automation.id, compiled);
  }

  candidates(event: HeraldEvent): readonly CompiledAutomation[] {
    this.byType ??= this.groupByType();
    return this.byType.get(event.type) ?? [];
  }

  /** Adds or replaces one automation; a replaced one keeps its place in the order. */
  upsert(automation: CompiledAutomation): void {
    this.byId.set(automation.automation.id, automation);
    this.invalidate();
  }

  remove(id: string): void {
    if (this.byId.delete(id)) this.invalidate();
  }

  all(): readonly CompiledAutomation[] {
    return [...this.byId.values()];
  }

  /** Metrics watched by the automations of this project (scope project/team) and their window sizes. */
  windowSizesFor(project: string): Map<string, number> {
    let sizes = this.sizesByProject.get(project);
    if (!sizes) {
      const watching: MatchableAutomation[] = [];
      for (const { automation } of this.byId.values()) {
        const { scope } = automation;
        if (scope.type === 'team' || (scope.type === 'project' && scope.name === project)) watching.push(automation);
      }
      sizes = windowSizes(watching);
      this.sizesByProject.set(project, sizes);
    }
    // A copy: callers may not change the cached sizes.
    return new Map(sizes);
  }

  private invalidate(): void {
    this.byType = null;
    this.sizesByProject.clear();
  }

  private groupByType(): Map<EventType, CompiledAutomation[]> {
    const byType = new Map<EventType, CompiledAutomation[]>();
    for (const compiled of this.byId.values()) {
      const list = byType.get(compiled.listensTo);
      if (list) list.push(compiled);
      else byType.set(compiled.listensTo, [compiled]);
    }
    return byType;
  }
}

/**
 * The edge/cooldown subject. The project part escapes `%` and `/`, so a project name holding a
 * slash cannot collide with another project's run or collection; common names read as is.
 */
export function subjectOf(automation: MatchableAutomation, event: HeraldEvent): string {
  const project = escapeSubjectPart(event.project);
  if (isArtifactTrigger(automation.trigger)) {
    return event.artifact ? `collection:${project}/${event.artifact.collection}` : `project:${project}`;
  }
  return event.run ? `run:${project}/${event.run.id}` : `project:${project}`;
}

function escapeSubjectPart(value: string): string {
  return value.replace(/%/g, '%25').replace(/\//g, '%2F');
}

/** What the trigger itself says about the event. */
interface TriggerCheck {
  verdicts: FilterVerdict[];
  /** Whether the condition holds; null when it was not evaluated (metric absent, window not full, earlier filter failed). */
  holds: boolean | null;
  metric?: MatchedMetric;
  logLine?: string;
}

export function evaluate(compiled: CompiledAutomation, event: HeraldEvent, context: EvaluationContext): Evaluation {
  const { automation } = compiled;
  const gates = [eventTypeVerdict(compiled, event), scopeVerdict(automation, event), ...runFilterVerdicts(compiled, event)];
  const gatesPassed = gates.every((v) => v.passed);
  const check = checkTrigger(compiled, event, context, gatesPassed);
  const filters = [...gates, ...check.verdicts];
  const conditionMet = check.holds === true && filters.every((v) => v.passed);
  const base = {
    automationId: automation.id,
    subject: subjectOf(automation, event),
    filters,
    conditionMet,
    ...(check.metric ? { metric: check.metric } : {}),
    ...(check.logLine !== undefined ? { logLine: check.logLine } : {}),
  };

  const version = automation.triggerVersion;
  const state = context.state?.triggerVersion === version ? context.state : null;
  const lastFiredAt = state?.lastFiredAt ?? null;
  const cooling =
    automation.cooldownSeconds > 0 && lastFiredAt !== null && context.nowMs - lastFiredAt < automation.cooldownSeconds * 1000;
  const quiet = { fires: false, suppressedBy: null, nextState: null } as const;

  if (!isEdgeTriggered(automation.trigger)) {
    if (!conditionMet) return { ...base, ...quiet };
    if (cooling) return { ...base, fires: false, suppressedBy: 'cooldown', nextState: null };
    return { ...base, fires: true, suppressedBy: null, nextState: { matching: false, lastFiredAt: context.nowMs, triggerVersion: version } };
  }

  const wasMatching = state?.matching ?? false;
  // Only an event the trigger applies to moves the edge: another project's, another run
  // filter's, or one without the metric (or before the windows fill) leaves it as it is.
  // Metric and log checks report `holds: null` for all of those.
  if (check.holds === null) return { ...base, ...quiet };
  if (!conditionMet) {
    const nextState = wasMatching ? { matching: false, lastFiredAt, triggerVersion: version } : null;
    return { ...base, fires: false, suppressedBy: null, nextState };
  }
  if (wasMatching) return { ...base, fires: false, suppressedBy: 'edge', nextState: null };
  if (cooling) {
    // A rising edge inside the cooldown is consumed, not deferred.
    return { ...base, fires: false, suppressedBy: 'cooldown', nextState: { matching: true, lastFiredAt, triggerVersion: version } };
  }
  return { ...base, fires: true, suppressedBy: null, nextState: { matching: true, lastFiredAt: context.nowMs, triggerVersion: version } };
}

// Filters shared by every trigger -------------------------------------------------------------

function eventTypeVerdict(compiled: CompiledAutomation, event: HeraldEvent): FilterVerdict {
  return { filter: 'event.type', passed: event.type === compiled.listensTo, actual: event.type, expected: compiled.listensTo };
}

function scopeVerdict(automation: MatchableAutomation, event: HeraldEvent): FilterVerdict {
  const { scope } = automation;
  switch (scope.type) {
    case 'team':
      return { filter: 'scope', passed: true, actual: event.project, expected: 'any project of the team' };
    case 'project':
      return { filter: 'scope', passed: event.project === scope.name, actual: event.project, expected: scope.name };
    case 'registry':
      return {
        filter: 'scope',
        passed: event.registry === true && event.project === scope.name,
        actual: { project: event.project, registry: event.registry === true },
        expected: { project: scope.name, registry: true },
      };
  }
}

/** Run filters apply to run triggers and ALERT; a missing run or author fails them. */
function runFilterVerdicts(compiled: CompiledAutomation, event: HeraldEvent): FilterVerdict[] {
  const { runFilter, trigger } = compiled.automation;
  if (!runFilter || isArtifactTrigger(trigger)) return [];
  const verdicts: FilterVerdict[] = [];
  const nameRegex = compiled.regexes.get('runFilter.nameRegex');
  if (nameRegex) verdicts.push(regexVerdict('runFilter.nameRegex', nameRegex, event.run?.name));
  if (runFilter.user !== undefined) {
    verdicts.push({ filter: 'runFilter.user', passed: event.author === runFilter.user, actual: event.author ?? null, expected: runFilter.user });
  }
  return verdicts;
}

function regexVerdict(filter: RegexField, regex: SafeRegex, value: string | undefined): FilterVerdict {
  return { filter, passed: value !== undefined && regex.test(value), actual: value ?? null, expected: regex.source };
}

// Triggers --------------------------------------------------------------------------------------

function checkTrigger(compiled: CompiledAutomation, event: HeraldEvent, context: EvaluationContext, gatesPassed: boolean): TriggerCheck {
  const { trigger } = compiled.automation;
  if (isMetricTrigger(trigger)) return checkMetric(trigger, event, context.windows, gatesPassed);
  switch (trigger.event) {
    case 'RUN_STATE':
      return checkRunState(trigger.states, event, context.previousRunState);
    case 'RUN_LOG_MATCH':
      return gatesPassed ? checkLog(compiled, event) : { verdicts: [], holds: null };
    case 'ALERT':
      return allOf([
        { filter: 'trigger.levels', passed: event.level !== undefined && trigger.levels.includes(event.level), actual: event.level ?? null, expected: trigger.levels },
        ...optionalRegex(compiled, 'trigger.titleRegex', event.title),
      ]);
    default:
      // Artifact triggers: the regexes the trigger has, each against its field of the event.
      return allOf([
        ...optionalRegex(compiled, 'trigger.aliasRegex', event.alias),
        ...optionalRegex(compiled, 'trigger.tagRegex', event.tag),
        ...optionalRegex(compiled, 'trigger.collectionRegex', event.artifact?.collection),
      ]);
  }
}

function allOf(verdicts: FilterVerdict[]): TriggerCheck {
  return { verdicts, holds: verdicts.every((v) => v.passed) };
}

function optionalRegex(compiled: CompiledAutomation, field: RegexField, value: string | undefined): FilterVerdict[] {
  const regex = compiled.regexes.get(field);
  return regex ? [regexVerdict(field, regex, value)] : [];
}

/** The run enters one of `states`: its state is one of them and differs from the one recorded before. */
function checkRunState(states: readonly RunState[], event: HeraldEvent, previous: RunState | null): TriggerCheck {
  const state = event.run?.state;
  const verdicts: FilterVerdict[] = [
    { filter: 'trigger.states', passed: state !== undefined && states.includes(state), actual: state ?? null, expected: states },
  ];
  if (state !== undefined) {
    verdicts.push({ filter: 'run.previousState', passed: state !== previous, actual: previous, expected: `not ${state}` });
  }
  return allOf(verdicts);
}

function checkLog(compiled: CompiledAutomation, event: HeraldEvent): TriggerCheck {
  const regex = compiled.regexes.get('trigger.lineRegex')!;
  const lines = event.lines ?? [];
  const line = lines.find((l) => regex.test(l));
  const verdict: FilterVerdict = {
    filter: 'trigger.lineRegex',
    passed: line !== undefined,
    actual: line ?? `none of ${lines.length} line(s) matches`,
    expected: regex.source,
  };
  return { verdicts: [verdict], holds: line !== undefined, ...(line !== undefined ? { logLine: line } : {}) };
}

// Metric triggers -------------------------------------------------------------------------------

/** What a metric condition computed. */
interface MetricOutcome {
  holds: boolean;
  actual: unknown;
  expected: string;
  metric?: MatchedMetric;
}

function checkMetric(trigger: MetricTrigger, event: HeraldEvent, windows: MetricWindows, gatesPassed: boolean): TriggerCheck {
  const name = trigger.metric;
  const carried = event.metrics !== undefined && Object.hasOwn(event.metrics, name);
  const presence: FilterVerdict = {
    filter: 'event.metrics',
    passed: carried,
    actual: carried ? shown(event.metrics![name]) : null,
    expected: `carries ${name}`,
  };
  if (!carried) return { verdicts: [presence], holds: null };
  const values = windowOf(windows, name);
  const needed = valuesNeeded(trigger)!;
  const window: FilterVerdict = { filter: 'window', passed: values.length >= needed, actual: values.length, expected: needed };
  if (!window.passed || !gatesPassed) return { verdicts: [presence, window], holds: null };

  const latest = values.slice(values.length - needed);
  const outcome =
    trigger.event === 'RUN_METRIC_THRESHOLD'
      ? trigger.op === 'NON_FINITE'
        ? nonFinite(name, latest)
        : threshold(name, latest, trigger.agg, trigger.op, trigger.threshold, trigger.window)
      : trigger.event === 'RUN_METRIC_CHANGE'
        ? change(trigger, latest)
        : zscore(trigger, latest);
  const verdict: FilterVerdict = { filter: 'trigger.metric', passed: outcome.holds, actual: outcome.actual, expected: outcome.expected };
  return { verdicts: [presence, window, verdict], holds: outcome.holds, ...(outcome.metric ? { metric: outcome.metric } : {}) };
}

function nonFinite(name: string, values: readonly number[]): MetricOutcome {
  const latest = values[values.length - 1];
  return {
    holds: !Number.isFinite(latest),
    actual: shown(latest),
    expected: 'NaN or ±Infinity',
    metric: { name, value: latest, threshold: null },
  };
}

function threshold(name: string, values: readonly number[], agg: Aggregation, op: Comparison, limit: number, size: number): MetricOutcome {
  const value = aggregate(values, agg);
  return {
    holds: value !== null && compare(value, op, limit),
    actual: value === null ? 'no finite value' : shown(value),
    expected: `${op} ${limit} over ${agg} of ${size}`,
    ...(value !== null ? { metric: { name, value, threshold: limit } } : {}),
  };
}

/** NaN compares with nothing, `!=` included: a NaN aggregate never matches (NON_FINITE is for that). */
export function compare(value: number, op: Comparison, limit: number): boolean {
  if (Number.isNaN(value)) return false;
  switch (op) {
    case '>':
      return value > limit;
    case '>=':
      return value >= limit;
    case '<':
      return value < limit;
    case '<=':
      return value <= limit;
    case '==':
      return value === limit;
    case '!=':
      return value !== limit;
  }
}

function change(trigger: ChangeTrigger, values: readonly number[]): MetricOutcome {
  const prior = aggregate(values.slice(0, trigger.priorWindow), trigger.agg);
  const current = aggregate(values.slice(trigger.priorWindow), trigger.agg);
  const expected =
    `${directionText(trigger.direction, 'change', trigger.amount)} ` +
    `(${trigger.changeType}, ${trigger.agg} of the last ${trigger.window} vs the ${trigger.priorWindow} before)`;
  let amount: number | null = null;
  let why: string | null = null;
  if (current === null || prior === null) why = 'no finite value';
  else if (trigger.changeType === 'RELATIVE' && prior === 0) why = 'prior is 0';
  else amount = trigger.changeType === 'ABSOLUTE' ? current - prior : (current - prior) / Math.abs(prior);
  if (amount !== null && Number.isNaN(amount)) {
    amount = null;
    why = 'not a number';
  }
  return {
    holds: amount !== null && beyond(amount, trigger.direction, trigger.amount),
    actual: amount === null ? { current: shownOrNull(current), prior: shownOrNull(prior), change: why } : shown(amount),
    expected,
    ...(current !== null ? { metric: { name: trigger.metric, value: current, threshold: trigger.amount, change: amount } } : {}),
  };
}

function zscore(trigger: ZScoreTrigger, values: readonly number[]): MetricOutcome {
  const latest = values[values.length - 1];
  const before = values.slice(0, trigger.window).filter(Number.isFinite);
  let z: number | null = null;
  let why: string | null = null;
  if (!Number.isFinite(latest)) why = 'latest value is not finite';
  else if (before.length === 0) why = 'no finite value before the latest';
  else {
    const average = mean(before);
    const sigma = Math.sqrt(mean(before.map((v) => (v - average) ** 2)));
    if (sigma === 0) why = 'σ is 0';
    else z = (latest - average) / sigma;
  }
  return {
    holds: z !== null && beyond(z, trigger.direction, trigger.threshold),
    actual: z ?? why,
    expected: `${directionText(trigger.direction, 'z', trigger.threshold)} (population σ of the ${trigger.window} values before the latest)`,
    metric: { name: trigger.metric, value: latest, threshold: trigger.threshold, zscore: z },
  };
}

/** INCREASE: x ≥ t; DECREASE: x ≤ −t; ANY: |x| ≥ t. */
function beyond(x: number, direction: Direction, t: number): boolean {
  switch (direction) {
    case 'INCREASE':
      return x >= t;
    case 'DECREASE':
      return x <= -t;
    case 'ANY':
      return Math.abs(x) >= t;
  }
}

function directionText(direction: Direction, x: string, t: number): string {
  switch (direction) {
    case 'INCREASE':
      return `${x} ≥ ${t}`;
    case 'DECREASE':
      return `${x} ≤ -${t}`;
    case 'ANY':
      return `|${x}| ≥ ${t}`;
  }
}

/** Verdicts end up in JSON, which has no NaN or Infinity: those read as DESIGN's strings. */
function shown(value: number | string): number | string {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}

function shownOrNull(value: number | null): number | string | null {
  return value === null ? null : shown(value);
}
