import type {
  Aggregation,
  ChangeTrigger,
  Comparison,
  Direction,
  MatchableAutomation,
  MetricTrigger,
  RunFilter,
  Trigger,
  ZScoreTrigger,
} from '../automations/automation.types';
import { type GroupCounts, type MatchedMetric, isArtifactTrigger, isEdgeTriggered, isGroupTrigger, isMetricTrigger, listenedEventType } from '../automations/triggers';
import type { SafeRegex } from '../common/safe-regex';
import { type EventType, type HeraldEvent, RUN_STATES, type RunContext, type RunState } from '../events/event.types';
import { type FilterNode, compileFilter, explainFilter, filterDocument, testFilter } from './attribute-filter';
import { type MetricWindows, aggregateRange, valuesNeeded, windowOf, windowSizes } from './metric-windows';
// metric-program.ts imports this module too; each uses the other's exports only when called.
import { MetricProgram } from './metric-program';
import { EventProgram } from './event-program';
import { sharedRegex } from './pattern-cache';
import { StateLayout } from './subject-states';

/**
 * The pure matcher (docs/design.md › Automations): does an automation fire for an event, given the
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

/**
 * What ingestion needs to know: whether the automation fires for the event and the state to
 * store. `decide` gives it without the verdicts; `evaluate` adds them (for previews).
 */
export interface Decision {
  automationId: string;
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
  /** Why it did not fire when nothing held it back (suppressedBy null); absent when it fires. */
  notFired?: NotFiredReason;
}

/**
 * Why a candidate automation did not fire, besides the edge and the cooldown: a filter (the
 * scope, the run filter or the attribute filter, each named by its field) failed, the metric window is not full yet (`have` of `need`
 * values), or the trigger was evaluated and its condition does not hold.
 */
export type NotFiredReason =
  | { readonly reason: 'filter'; readonly filter: 'scope' | 'runFilter' | 'filter' }
  | { readonly reason: 'window'; readonly have: number; readonly need: number }
  | { readonly reason: 'condition' };

export const CONDITION_FALSE: NotFiredReason = Object.freeze({ reason: 'condition' });
export const SCOPE_FAILED: NotFiredReason = Object.freeze({ reason: 'filter', filter: 'scope' });
export const RUN_FILTER_FAILED: NotFiredReason = Object.freeze({ reason: 'filter', filter: 'runFilter' });
export const ATTRIBUTE_FILTER_FAILED: NotFiredReason = Object.freeze({ reason: 'filter', filter: 'filter' });

export interface Evaluation extends Decision {
  /** The cooldown/edge subject: `run:<project>/<runId>`, `collection:<project>/<collection>` or `project:<project>`. */
  subject: string;
  filters: FilterVerdict[];
}

export interface EvaluationContext {
  /** The run's metric windows AFTER appending this event's values. */
  windows: MetricWindows;
  /** The run's state before this event; null if unknown. */
  previousRunState: RunState | null;
  /** Stored state of (automation, subject); a state of another trigger version counts as none. */
  state: SubjectState | null;
  nowMs: number;
  /** The run's group, tags and config as Herald keeps them (after this event); read by attribute filters and RUN_GROUP_FINISHED. */
  runContext?: RunContext | null;
  /** RUN_GROUP_FINISHED: the counts of the run's group after this event (null: not read, not evaluated). */
  group?: GroupCounts | null;
}

type RegexField =
  | 'trigger.collectionRegex'
  | 'trigger.aliasRegex'
  | 'trigger.tagRegex'
  | 'trigger.lineRegex'
  | 'trigger.titleRegex'
  | 'trigger.groupRegex'
  | 'runFilter.nameRegex';

/** An automation with its regexes compiled once and the event type it listens to. */
export interface CompiledAutomation {
  readonly automation: MatchableAutomation;
  readonly listensTo: EventType;
  readonly regexes: ReadonlyMap<RegexField, SafeRegex>;
  /** What `evaluate` needs of the automation that does not depend on the event, worked out once. */
  readonly facts: AutomationFacts;
  /** `decide`'s answer when nothing happens: not met, no state change (shared, frozen). */
  readonly quiet: Decision;
  /** Like `quiet`, with the reason: the condition does not hold, or a filter failed (shared, frozen). */
  readonly quietBecause: { readonly condition: Decision; readonly scope: Decision; readonly runFilter: Decision; readonly attributeFilter: Decision };
  /** `decide`'s answer when the condition still holds since it last fired (edge kinds; shared, frozen). */
  readonly edgeHeld: Decision;
  /** The attribute filter, compiled; null when the automation has none (then it costs nothing). */
  readonly attributeFilter: FilterNode | null;
}

/** The event-independent part of an evaluation: kinds, and the `expected` of each verdict. */
interface AutomationFacts {
  readonly artifact: boolean;
  /** RUN_GROUP_FINISHED: keyed by run group (groupSubject). */
  readonly group: boolean;
  readonly edge: boolean;
  /** Metric triggers: how many latest values the condition reads; null otherwise. */
  readonly valuesNeeded: number | null;
  readonly scopeExpected: unknown;
  /** Metric triggers: `carries <metric>`. */
  readonly carriesExpected: string;
  /** Metric triggers: the condition in words. */
  readonly metricExpected: string;
  readonly nameRegex: SafeRegex | undefined;
}

/** Compiles the automation's regexes. They were validated when saved, so a failure here is a bug: it throws. */
export function compileAutomation(automation: MatchableAutomation): CompiledAutomation {
  const regexes = new Map<RegexField, SafeRegex>();
  const add = (field: RegexField, pattern: string | undefined): void => {
    if (pattern === undefined) return;
    const compiled = sharedRegex(pattern);
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
    case 'ADD_COLLECTION_TAG':
    case 'REMOVE_COLLECTION_TAG':
      add('trigger.tagRegex', trigger.tagRegex);
      break;
    case 'RUN_LOG_MATCH':
      add('trigger.lineRegex', trigger.lineRegex);
      break;
    case 'ALERT':
      add('trigger.titleRegex', trigger.titleRegex);
      break;
    case 'RUN_GROUP_FINISHED':
      add('trigger.groupRegex', trigger.groupRegex);
      break;
  }
  const artifact = isArtifactTrigger(trigger.event);
  if (artifact) {
    add('trigger.collectionRegex', (trigger as { collectionRegex?: string }).collectionRegex);
  } else {
    add('runFilter.nameRegex', automation.runFilter?.nameRegex);
  }
  const facts: AutomationFacts = {
    artifact,
    group: isGroupTrigger(trigger.event),
    edge: isEdgeTriggered(trigger.event),
    valuesNeeded: valuesNeeded(trigger),
    scopeExpected: scopeExpected(automation.scope),
    carriesExpected: isMetricTrigger(trigger) ? `carries ${trigger.metric}` : '',
    metricExpected: isMetricTrigger(trigger) ? metricExpected(trigger) : '',
    nameRegex: regexes.get('runFilter.nameRegex'),
  };
  const settled = { fires: false, nextState: null } as const;
  let attributeFilter: FilterNode | null = null;
  if (automation.filter) {
    const filter = compileFilter(automation.filter);
    if (!filter.ok) throw new Error(`Automation ${automation.id}: filter ${filter.problems.map((p) => `${p.field} ${p.reason}`).join('; ')}`);
    attributeFilter = filter.filter;
  }
  return {
    attributeFilter,
    automation,
    listensTo: listenedEventType(trigger.event),
    regexes,
    facts,
    quiet: Object.freeze({ automationId: automation.id, conditionMet: false, ...settled, suppressedBy: null }),
    quietBecause: Object.freeze({
      condition: Object.freeze({ automationId: automation.id, conditionMet: false, ...settled, suppressedBy: null, notFired: CONDITION_FALSE }),
      scope: Object.freeze({ automationId: automation.id, conditionMet: false, ...settled, suppressedBy: null, notFired: SCOPE_FAILED }),
      runFilter: Object.freeze({ automationId: automation.id, conditionMet: false, ...settled, suppressedBy: null, notFired: RUN_FILTER_FAILED }),
      attributeFilter: Object.freeze({ automationId: automation.id, conditionMet: false, ...settled, suppressedBy: null, notFired: ATTRIBUTE_FILTER_FAILED }),
    }),
    edgeHeld: Object.freeze({ automationId: automation.id, conditionMet: true, ...settled, suppressedBy: 'edge' }),
  };
}

function scopeExpected(scope: MatchableAutomation['scope']): unknown {
  switch (scope.type) {
    case 'team':
      return 'any project of the team';
    case 'project':
      return scope.name;
    case 'registry':
      // Shared by every verdict of this automation: frozen, so no reader can change the others'.
      return Object.freeze({ project: scope.name, registry: true });
  }
}

function metricExpected(trigger: MetricTrigger): string {
  switch (trigger.event) {
    case 'RUN_METRIC_THRESHOLD':
      return trigger.op === 'NON_FINITE' ? 'NaN or ±Infinity' : `${trigger.op} ${trigger.threshold} over ${trigger.agg} of ${trigger.window}`;
    case 'RUN_METRIC_CHANGE':
      return (
        `${directionText(trigger.direction, 'change', trigger.amount)} ` +
        `(${trigger.changeType}, ${trigger.agg} of the last ${trigger.window} vs the ${trigger.priorWindow} before)`
      );
    case 'RUN_METRIC_ZSCORE':
      return `${directionText(trigger.direction, 'z', trigger.threshold)} (population σ of the ${trigger.window} values before the latest)`;
  }
}

/** The automations an event of one type may concern, by the project the event comes from. */
interface TypeCandidates {
  /** Team-scoped only: for projects no project or registry automation of this type names. */
  anyProject: readonly CompiledAutomation[];
  /** Team-scoped and those scoped to the project (scope `project`). */
  byProject: Map<string, readonly CompiledAutomation[]>;
  /** As byProject plus the registry-scoped ones, for events with `registry: true`. */
  byRegistry: Map<string, readonly CompiledAutomation[]>;
}

const NONE: readonly CompiledAutomation[] = [];

/** Each automation's place in its subjects' state columns (subject-states.ts), and the layouts. */
interface Slots {
  byId: Map<string, number>;
  /** The team-scoped automations alone: for projects no automation names. */
  team: StateLayout;
  byProject: Map<string, StateLayout>;
}

/**
 * A team's enabled automations, indexed by the event type they listen to and the project
 * their scope names, patched in place when one automation changes. `candidates` leaves out
 * only automations whose evaluation could not fire, be suppressed or change any state: those
 * of another event type, another project (or a registry scope for a non-registry event) and,
 * for metric triggers, a metric the event does not carry. `evaluate` still checks everything.
 * Candidates keep the index's order (the order automations were added in).
 */
export class AutomationIndex {
  private readonly byId = new Map<string, CompiledAutomation>();
  private byType: Map<EventType, TypeCandidates> | null = null;
  /** Numbered with the lists (group), and dropped with them. */
  private slots: Slots | null = null;
  private readonly slotLookup = (id: string): number => this.slotOf(id);
  private stale: Map<string, readonly number[]> | null = null;
  private sizes: { anyProject: Map<string, number>; byProject: Map<string, Map<string, number>> } | null = null;

  constructor(automations: Iterable<CompiledAutomation>) {
    for (const compiled of automations) this.byId.set(compiled.automation.id, compiled);
  }

  candidates(event: HeraldEvent): readonly CompiledAutomation[] {
    this.byType ??= this.group();
    const group = this.byType.get(event.type);
    if (!group) return NONE;
    const lists = event.registry === true ? group.byRegistry : group.byProject;
    const list = lists.get(event.project) ?? group.anyProject;
    if (event.type !== 'RUN_METRICS') return list;
    // A metric trigger is evaluated only for events carrying its metric (docs/design.md › Semantics).
    const metrics = event.metrics;
    if (metrics === undefined) return NONE;
    return MetricProgram.of(list, this.slotLookup).carried(event);
  }

  /**
   * The metric program of a RUN_METRICS event's list (its project's metric automations): the
   * hot path's way to decide them all at once (metric-program.ts); null for other events.
   */
  metricProgram(event: HeraldEvent): MetricProgram | null {
    if (event.type !== 'RUN_METRICS') return null;
    this.byType ??= this.group();
    const group = this.byType.get('RUN_METRICS');
    if (!group) return null;
    const lists = event.registry === true ? group.byRegistry : group.byProject;
    return MetricProgram.of(lists.get(event.project) ?? group.anyProject, this.slotLookup);
  }

  /**
   * The program of another event's list (event-program.ts): the hot path's way to decide them
   * all at once, each against the state of subject `subjectFor(program.artifact, event)`; null
   * for RUN_METRICS (see metricProgram), for no candidates, and for lists the program leaves to
   * `decide` (those with a RUN_GROUP_FINISHED automation).
   */
  eventProgram(event: HeraldEvent): EventProgram | null {
    if (event.type === 'RUN_METRICS') return null;
    this.byType ??= this.group();
    const group = this.byType.get(event.type);
    if (!group) return null;
    const lists = event.registry === true ? group.byRegistry : group.byProject;
    return EventProgram.of(lists.get(event.project) ?? group.anyProject, this.slotLookup);
  }

  /**
   * The automation's slot: its place in the state columns of every subject it may concern
   * (SubjectStates, laid out by `stateLayout`); −1 for an automation the index does not hold.
   * Team-scoped automations are numbered 0…T−1, then those scoped to a project (or its
   * registry) from T on, per project. Valid until the index changes.
   */
  slotOf(id: string): number {
    this.byType ??= this.group();
    return this.slots!.byId.get(id) ?? -1;
  }

  /** Where each automation that may concern a subject of this project sits in the subject's state columns. */
  stateLayout(project: string): StateLayout {
    this.byType ??= this.group();
    return this.slots!.byProject.get(project) ?? this.slots!.team;
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
    // A copy: callers may not change the cached sizes.
    return new Map(this.watchedMetrics(project));
  }

  /** windowSizesFor without the copy, for the hot path (ingestion reads it for every metric event). */
  watchedMetrics(project: string): ReadonlyMap<string, number> {
    this.sizes ??= this.windowSizesByProject();
    return this.sizes.byProject.get(project) ?? this.sizes.anyProject;
  }

  /**
   * The silence lengths (RUN_STALE staleSeconds) the automations that may concern a run of this
   * project watch; ingestion keeps a timer per run and length (run-staleness.ts). Empty for most.
   */
  staleSecondsFor(project: string): readonly number[] {
    if (this.stale === null) {
      const teamWide = new Set<number>();
      const byProject = new Map<string, Set<number>>();
      for (const { automation } of this.byId.values()) {
        if (automation.trigger.event !== 'RUN_STALE') continue;
        const { scope } = automation;
        if (scope.type === 'team') teamWide.add(automation.trigger.staleSeconds);
        else if (scope.type === 'project') {
          let set = byProject.get(scope.name);
          if (!set) byProject.set(scope.name, (set = new Set()));
          set.add(automation.trigger.staleSeconds);
        }
      }
      this.stale = new Map([['', [...teamWide]]]);
      for (const [name, set] of byProject) this.stale.set(`p${name}`, [...new Set([...set, ...teamWide])]);
    }
    return this.stale.get(`p${project}`) ?? this.stale.get('')!;
  }

  private invalidate(): void {
    this.stale = null;
    this.byType = null;
    this.slots = null;
    this.sizes = null;
  }

  private group(): Map<EventType, TypeCandidates> {
    const byType = new Map<EventType, TypeCandidates>();
    const groupOf = (type: EventType): TypeCandidates => {
      let group = byType.get(type);
      if (!group) byType.set(type, (group = { anyProject: [], byProject: new Map(), byRegistry: new Map() }));
      return group;
    };
    // First the projects each type's scopes name, so team-scoped automations can join their lists in order.
    for (const { automation, listensTo } of this.byId.values()) {
      const group = groupOf(listensTo);
      if (automation.scope.type === 'team') continue;
      group.byRegistry.set(automation.scope.name, []);
      if (automation.scope.type === 'project') group.byProject.set(automation.scope.name, []);
    }
    for (const compiled of this.byId.values()) {
      const group = byType.get(compiled.listensTo)!;
      const { scope } = compiled.automation;
      const add = (list: readonly CompiledAutomation[] | undefined) => (list as CompiledAutomation[] | undefined)?.push(compiled);
      if (scope.type === 'team') {
        add(group.anyProject);
        for (const list of group.byProject.values()) add(list);
        for (const list of group.byRegistry.values()) add(list);
      } else {
        add(group.byRegistry.get(scope.name));
        if (scope.type === 'project') add(group.byProject.get(scope.name));
      }
    }
    // A registry event from a project no registry automation names sees the project's list.
    for (const group of byType.values()) {
      for (const [project, list] of group.byProject) if (!group.byRegistry.has(project)) group.byRegistry.set(project, list);
    }
    this.slots = this.number();
    return byType;
  }

  /** Slots (see slotOf): the team-scoped automations first, then each project's own. */
  private number(): Slots {
    const byId = new Map<string, number>();
    const team: string[] = [];
    const own = new Map<string, string[]>();
    for (const { automation } of this.byId.values()) {
      const { scope } = automation;
      if (scope.type === 'team') {
        byId.set(automation.id, team.length);
        team.push(automation.id);
        continue;
      }
      let ids = own.get(scope.name);
      if (!ids) own.set(scope.name, (ids = []));
      ids.push(automation.id);
    }
    const byProject = new Map<string, StateLayout>();
    for (const [project, ids] of own) {
      ids.forEach((id, i) => byId.set(id, team.length + i));
      byProject.set(project, new StateLayout([...team, ...ids]));
    }
    return { byId, team: new StateLayout(team), byProject };
  }

  private windowSizesByProject(): { anyProject: Map<string, number>; byProject: Map<string, Map<string, number>> } {
    const teamWide: MatchableAutomation[] = [];
    const byProject = new Map<string, MatchableAutomation[]>();
    for (const { automation } of this.byId.values()) {
      const { scope } = automation;
      if (scope.type === 'team') teamWide.push(automation);
      else if (scope.type === 'project') {
        const list = byProject.get(scope.name);
        if (list) list.push(automation);
        else byProject.set(scope.name, [automation]);
      }
    }
    const sizes = new Map<string, Map<string, number>>();
    for (const [project, automations] of byProject) sizes.set(project, windowSizes([...automations, ...teamWide]));
    return { anyProject: windowSizes(teamWide), byProject: sizes };
  }
}

/**
 * The edge/cooldown subject. The project part escapes `%` and `/`, so a project name holding a
 * slash cannot collide with another project's run or collection; common names read as is.
 */
export function subjectOf(automation: MatchableAutomation, event: HeraldEvent): string {
  return subjectFor(isArtifactTrigger(automation.trigger.event), event);
}

/** The subject of an event for artifact triggers (`artifact`) or the others: see subjectOf. */
export function subjectFor(artifact: boolean, event: HeraldEvent): string {
  const project = escapeSubjectPart(event.project);
  if (artifact) {
    const collection = collectionOf(event);
    return collection !== undefined ? `collection:${project}/${collection}` : `project:${project}`;
  }
  return event.run ? `run:${project}/${event.run.id}` : `project:${project}`;
}

/** The subject of RUN_GROUP_FINISHED: the run's group in its project (`group:<project>/` when the run has none). */
export function groupSubject(event: HeraldEvent, group: string | null): string {
  return `group:${escapeSubjectPart(event.project)}/${group ?? ''}`;
}

/** The run's group: the event's own, else the one Herald keeps. */
export function groupOf(event: HeraldEvent, runContext: RunContext | null | undefined): string | null {
  return event.run?.group ?? runContext?.group ?? null;
}

/** The collection an artifact or collection-tag event is about. */
export function collectionOf(event: HeraldEvent): string | undefined {
  return event.artifact?.collection ?? event.collection?.name;
}

function escapeSubjectPart(value: string): string {
  if (!value.includes('%') && !value.includes('/')) return value;
  return value.replace(/%/g, '%25').replace(/\//g, '%2F');
}

/** What the trigger itself says about the event. */
export interface TriggerCheck {
  /** Whether the condition holds; null when it was not evaluated (metric absent, window not full, earlier filter failed). */
  holds: boolean | null;
  /** Not evaluated because the metric window is not full yet: the reason as recorded (one object, not rebuilt). */
  filling?: NotFiredReason & { readonly reason: 'window' };
  metric?: MatchedMetric;
  logLine?: string;
}

const NOT_EVALUATED: TriggerCheck = { holds: null };

/**
 * Where the checks put their verdicts: the evaluation's filters, or nowhere when only the
 * decision is wanted. One implementation serves both, so `decide` and `evaluate` cannot
 * disagree; without a sink no verdict (nor its `actual`) is built at all.
 */
type VerdictSink = FilterVerdict[] | null;

/** Does the automation fire for the event, with every filter's verdict (previews, "why didn't it fire?"). */
export function evaluate(compiled: CompiledAutomation, event: HeraldEvent, context: EvaluationContext): Evaluation {
  const filters: FilterVerdict[] = [];
  const decision = run(compiled, event, context, filters);
  const evaluation = {
    automationId: decision.automationId,
    subject: compiled.facts.group ? groupSubject(event, groupOf(event, context.runContext)) : subjectFor(compiled.facts.artifact, event),
    filters,
    conditionMet: decision.conditionMet,
  } as Evaluation;
  if (decision.metric) evaluation.metric = decision.metric;
  if (decision.logLine !== undefined) evaluation.logLine = decision.logLine;
  evaluation.fires = decision.fires;
  evaluation.suppressedBy = decision.suppressedBy;
  evaluation.nextState = decision.nextState;
  if (decision.notFired) evaluation.notFired = decision.notFired;
  return evaluation;
}

/**
 * Does the automation fire for the event: `evaluate` without the verdicts, for the hot path
 * (ingestion evaluates every candidate automation of every event).
 */
export function decide(compiled: CompiledAutomation, event: HeraldEvent, context: EvaluationContext): Decision {
  return run(compiled, event, context, null);
}

function run(compiled: CompiledAutomation, event: HeraldEvent, context: EvaluationContext, sink: VerdictSink): Decision {
  const { automation, facts } = compiled;
  const typePassed = event.type === compiled.listensTo;
  if (sink) sink.push({ filter: 'event.type', passed: typePassed, actual: event.type, expected: compiled.listensTo });
  const scopePassed = scopeCheck(automation, facts, event, sink) && typePassed;
  const runFilterPassed = automation.runFilter && !facts.artifact ? runFilterCheck(automation.runFilter, facts, event, sink) : true;
  const gatesPassed = scopePassed && runFilterPassed;
  const trigger = checkTrigger(compiled, event, context, gatesPassed, sink);
  const check = compiled.attributeFilter !== null ? attributeCheck(compiled.attributeFilter, event, context, trigger, sink) : trigger;
  // The attribute filter refused an event the trigger held for.
  const attributeRefused = check !== trigger && trigger.holds === true;
  const conditionMet = check.holds === true && gatesPassed;
  const explain = sink !== null;
  // Why it would not fire, when nothing else holds it back; none when the trigger did not apply
  // (the metric absent from the event).
  const because = !scopePassed
    ? SCOPE_FAILED
    : !runFilterPassed
      ? RUN_FILTER_FAILED
      : attributeRefused
        ? ATTRIBUTE_FILTER_FAILED
        : check.filling
          ? check.filling
          : check.holds === false
            ? CONDITION_FALSE
            : undefined;
  return settle(compiled, explain, check, conditionMet, context.state, context.nowMs, because);
}

/**
 * What a checked trigger means for the automation: it fires, is held back (the edge is still
 * high, the cooldown runs) or nothing happens, and the edge/cooldown state to store. `check`
 * is the trigger's own answer (holds null: not evaluated); `conditionMet` adds the filters.
 * Shared by `decide`/`evaluate` and the metric programs (metric-program.ts), so they cannot
 * disagree.
 */
export function settle(
  compiled: CompiledAutomation,
  explain: boolean,
  check: TriggerCheck,
  conditionMet: boolean,
  stored: SubjectState | null,
  nowMs: number,
  because?: NotFiredReason,
): Decision {
  const { automation, facts } = compiled;
  const version = automation.triggerVersion;
  const state = currentState(automation, stored);
  const lastFiredAt = state?.lastFiredAt ?? null;
  const cooling = inCooldown(automation, state, nowMs);

  if (!facts.edge) {
    if (!conditionMet) return decision(compiled, explain, conditionMet, check, false, null, because, null);
    if (cooling) return decision(compiled, explain, conditionMet, check, false, 'cooldown', undefined, null);
    return decision(compiled, explain, conditionMet, check, true, null, undefined, { matching: false, lastFiredAt: nowMs, triggerVersion: version });
  }

  const wasMatching = state?.matching ?? false;
  // Only an event the trigger applies to moves the edge: another project's, another run
  // filter's, or one without the metric (or before the windows fill) leaves it as it is.
  // Metric and log checks report `holds: null` for all of those.
  if (check.holds === null) return decision(compiled, explain, conditionMet, check, false, null, because, null);
  if (!conditionMet) {
    return decision(compiled, explain, conditionMet, check, false, null, because, wasMatching ? { matching: false, lastFiredAt, triggerVersion: version } : null);
  }
  if (wasMatching) return decision(compiled, explain, conditionMet, check, false, 'edge', undefined, null);
  // A rising edge inside the cooldown is consumed, not deferred.
  if (cooling) return decision(compiled, explain, conditionMet, check, false, 'cooldown', undefined, { matching: true, lastFiredAt, triggerVersion: version });
  return decision(compiled, explain, conditionMet, check, true, null, undefined, { matching: true, lastFiredAt: nowMs, triggerVersion: version });
}

/** The stored state if it belongs to the automation's current trigger version (a changed trigger resets it), else null. */
function currentState(automation: MatchableAutomation, state: SubjectState | null): SubjectState | null {
  return state?.triggerVersion === automation.triggerVersion ? state : null;
}

/** Whether the automation fired for this subject less than its cooldown ago (a state of an older trigger version counts as none). */
export function inCooldown(automation: MatchableAutomation, state: SubjectState | null, nowMs: number): boolean {
  const lastFiredAt = currentState(automation, state)?.lastFiredAt ?? null;
  return automation.cooldownSeconds > 0 && lastFiredAt !== null && nowMs - lastFiredAt < automation.cooldownSeconds * 1000;
}

/**
 * The decision object. Without verdicts (`decide`, the hot path), the two outcomes most events
 * get — nothing happens, or the edge is already high — are one frozen object per automation
 * instead of a new one per call, and the metric and log line are attached only when it fires
 * (nothing else reads them there).
 */
function decision(
  compiled: CompiledAutomation,
  explain: boolean,
  conditionMet: boolean,
  check: TriggerCheck,
  fires: boolean,
  suppressedBy: Decision['suppressedBy'],
  because: NotFiredReason | undefined,
  nextState: SubjectState | null,
): Decision {
  if (!explain && !fires && nextState === null) {
    if (suppressedBy === null && !conditionMet) {
      if (because === undefined) return compiled.quiet;
      if (because === CONDITION_FALSE) return compiled.quietBecause.condition;
      if (because === SCOPE_FAILED) return compiled.quietBecause.scope;
      if (because === RUN_FILTER_FAILED) return compiled.quietBecause.runFilter;
      if (because === ATTRIBUTE_FILTER_FAILED) return compiled.quietBecause.attributeFilter;
    }
    if (suppressedBy === 'edge' && conditionMet) return compiled.edgeHeld;
  }
  const automationId = compiled.automation.id;
  const out = { automationId, conditionMet } as Decision;
  if (check.metric && (explain || fires)) out.metric = check.metric;
  if (check.logLine !== undefined && (explain || fires)) out.logLine = check.logLine;
  out.fires = fires;
  out.suppressedBy = suppressedBy;
  out.nextState = nextState;
  if (because !== undefined) out.notFired = because;
  return out;
}

// Filters shared by every trigger -------------------------------------------------------------

function scopeCheck(automation: MatchableAutomation, facts: AutomationFacts, event: HeraldEvent, sink: VerdictSink): boolean {
  const { scope } = automation;
  switch (scope.type) {
    case 'team':
      if (sink) sink.push({ filter: 'scope', passed: true, actual: event.project, expected: facts.scopeExpected });
      return true;
    case 'project': {
      const passed = event.project === scope.name;
      if (sink) sink.push({ filter: 'scope', passed, actual: event.project, expected: facts.scopeExpected });
      return passed;
    }
    case 'registry': {
      const passed = event.registry === true && event.project === scope.name;
      if (sink) {
        sink.push({ filter: 'scope', passed, actual: { project: event.project, registry: event.registry === true }, expected: facts.scopeExpected });
      }
      return passed;
    }
  }
}

/** Run filters apply to run triggers and ALERT; a missing run or author fails them. */
function runFilterCheck(runFilter: RunFilter, facts: AutomationFacts, event: HeraldEvent, sink: VerdictSink): boolean {
  let passed = true;
  if (facts.nameRegex) passed = regexCheck('runFilter.nameRegex', facts.nameRegex, event.run?.name, sink) && passed;
  if (runFilter.user !== undefined) {
    const user = event.author === runFilter.user;
    if (sink) sink.push({ filter: 'runFilter.user', passed: user, actual: event.author ?? null, expected: runFilter.user });
    passed = user && passed;
  }
  return passed;
}

function regexCheck(filter: RegexField, regex: SafeRegex, value: string | undefined, sink: VerdictSink): boolean {
  const passed = value !== undefined && regex.test(value);
  if (sink) sink.push({ filter, passed, actual: value ?? null, expected: regex.source });
  return passed;
}

/**
 * The attribute filter, after the trigger: only a trigger that holds needs it (a preview
 * explains it whatever the trigger said). An event the filter refuses is one the automation
 * does not apply to, as for a run filter: not evaluated, so an edge stays where it is.
 */
function attributeCheck(filter: FilterNode, event: HeraldEvent, context: EvaluationContext, check: TriggerCheck, sink: VerdictSink): TriggerCheck {
  if (sink === null && check.holds !== true) return check;
  const doc = filterDocument(event, context.runContext);
  const passed = sink ? explainFilter(filter, doc, sink) : testFilter(filter, doc);
  return passed || check.holds !== true ? check : NOT_EVALUATED;
}

// Triggers --------------------------------------------------------------------------------------

function checkTrigger(compiled: CompiledAutomation, event: HeraldEvent, context: EvaluationContext, gatesPassed: boolean, sink: VerdictSink): TriggerCheck {
  const { trigger } = compiled.automation;
  if (compiled.facts.valuesNeeded !== null) return checkMetric(compiled, event, context.windows, gatesPassed, sink);
  switch (trigger.event) {
    case 'RUN_STATE':
      return checkRunState(trigger.states, event, context.previousRunState, sink);
    case 'RUN_LOG_MATCH':
      return gatesPassed ? checkLog(compiled, event, sink) : NOT_EVALUATED;
    case 'ALERT': {
      const level = event.level !== undefined && trigger.levels.includes(event.level);
      if (sink) sink.push({ filter: 'trigger.levels', passed: level, actual: event.level ?? null, expected: trigger.levels });
      const title = optionalRegex(compiled, 'trigger.titleRegex', event.title, sink);
      return level && title ? HOLDS : FAILS;
    }
    case 'RUN_GROUP_FINISHED':
      return checkGroup(compiled, event, context, sink);
    case 'RUN_STALE': {
      // One RUN_STALE event per silence length: the automations watching for that one.
      const passed = event.staleSeconds === trigger.staleSeconds;
      if (sink) sink.push({ filter: 'trigger.staleSeconds', passed, actual: event.staleSeconds ?? null, expected: trigger.staleSeconds });
      return passed ? HOLDS : FAILS;
    }
    case 'WEBHOOK_DISABLED':
    case 'DELIVERY_FAILED':
      // Herald's own events: the type and the (team) scope are the whole condition.
      return HOLDS;
    default: {
      // Artifact triggers: the regexes the trigger has, each against its field of the event.
      const alias = optionalRegex(compiled, 'trigger.aliasRegex', event.alias, sink);
      const tag = optionalRegex(compiled, 'trigger.tagRegex', event.tag, sink);
      const collection = optionalRegex(compiled, 'trigger.collectionRegex', collectionOf(event), sink);
      return alias && tag && collection ? HOLDS : FAILS;
    }
  }
}

const HOLDS: TriggerCheck = { holds: true };
const FAILS: TriggerCheck = { holds: false };

/** True when the automation has no such regex or it passed (with a verdict when it has one). */
function optionalRegex(compiled: CompiledAutomation, field: RegexField, value: string | undefined, sink: VerdictSink): boolean {
  const regex = compiled.regexes.get(field);
  return regex ? regexCheck(field, regex, value, sink) : true;
}

const NOT_STATE: Readonly<Record<string, string>> = Object.fromEntries(RUN_STATES.map((state) => [state, `not ${state}`]));

/** The run enters one of `states`: its state is one of them and differs from the one recorded before. */
function checkRunState(states: readonly RunState[], event: HeraldEvent, previous: RunState | null, sink: VerdictSink): TriggerCheck {
  const state = event.run?.state;
  const listed = state !== undefined && states.includes(state);
  if (sink) sink.push({ filter: 'trigger.states', passed: listed, actual: state ?? null, expected: states });
  if (state === undefined) return listed ? HOLDS : FAILS;
  const entered = state !== previous;
  if (sink) sink.push({ filter: 'run.previousState', passed: entered, actual: previous, expected: NOT_STATE[state] ?? `not ${state}` });
  return listed && entered ? HOLDS : FAILS;
}

/**
 * RUN_GROUP_FINISHED: a run of a group (of groupRegex) reported a state and no run of the group is
 * RUNNING now. Runs without a group and other groups are not evaluated (their edges stay); a
 * RUNNING report leaves the condition false, which re-arms it.
 */
function checkGroup(compiled: CompiledAutomation, event: HeraldEvent, context: EvaluationContext, sink: VerdictSink): TriggerCheck {
  const group = groupOf(event, context.runContext);
  if (group === null) {
    if (sink) sink.push({ filter: 'run.group', passed: false, actual: null, expected: 'a run of a group' });
    return NOT_EVALUATED;
  }
  if (!optionalRegex(compiled, 'trigger.groupRegex', group, sink)) return NOT_EVALUATED;
  const counts = context.group;
  if (!counts) return NOT_EVALUATED;
  const done = counts.running === 0;
  if (sink) sink.push({ filter: 'group.running', passed: done, actual: counts.running, expected: 0 });
  return done && event.run?.state !== undefined && event.run.state !== 'RUNNING' ? HOLDS : FAILS;
}

function checkLog(compiled: CompiledAutomation, event: HeraldEvent, sink: VerdictSink): TriggerCheck {
  const regex = compiled.regexes.get('trigger.lineRegex')!;
  const lines = event.lines ?? [];
  const line = lines.find((l) => regex.test(l));
  if (sink) {
    sink.push({
      filter: 'trigger.lineRegex',
      passed: line !== undefined,
      actual: line ?? `none of ${lines.length} line(s) matches`,
      expected: regex.source,
    });
  }
  return line !== undefined ? { holds: true, logLine: line } : FAILS;
}

// Metric triggers -------------------------------------------------------------------------------

/** What a metric condition computed; `actual` only when verdicts are wanted. */
interface MetricOutcome {
  holds: boolean;
  actual?: unknown;
  metric?: MatchedMetric;
}

function checkMetric(compiled: CompiledAutomation, event: HeraldEvent, windows: MetricWindows, gatesPassed: boolean, sink: VerdictSink): TriggerCheck {
  const trigger = compiled.automation.trigger as MetricTrigger;
  const { facts } = compiled;
  const name = trigger.metric;
  const carried = event.metrics !== undefined && Object.hasOwn(event.metrics, name);
  if (sink) sink.push({ filter: 'event.metrics', passed: carried, actual: carried ? shown(event.metrics![name]) : null, expected: facts.carriesExpected });
  if (!carried) return NOT_EVALUATED;
  const values = windowOf(windows, name);
  const needed = facts.valuesNeeded!;
  const full = values.length >= needed;
  if (sink) sink.push({ filter: 'window', passed: full, actual: values.length, expected: needed });
  if (!gatesPassed) return NOT_EVALUATED;
  if (!full) return { holds: null, filling: { reason: 'window', have: values.length, need: needed } };

  // The condition reads the latest `needed` values: values[start…].
  const start = values.length - needed;
  const explain = sink !== null;
  const outcome =
    trigger.event === 'RUN_METRIC_THRESHOLD'
      ? trigger.op === 'NON_FINITE'
        ? nonFinite(name, values, explain)
        : threshold(name, values, start, trigger.agg, trigger.op, trigger.threshold, explain)
      : trigger.event === 'RUN_METRIC_CHANGE'
        ? change(trigger, values, start, explain)
        : zscore(trigger, values, start, explain);
  if (sink) sink.push({ filter: 'trigger.metric', passed: outcome.holds, actual: outcome.actual, expected: facts.metricExpected });
  return outcome.metric ? { holds: outcome.holds, metric: outcome.metric } : outcome.holds ? HOLDS : FAILS;
}

function nonFinite(name: string, values: readonly number[], explain: boolean): MetricOutcome {
  const latest = values[values.length - 1];
  return {
    holds: !Number.isFinite(latest),
    ...(explain ? { actual: shown(latest) } : {}),
    metric: { name, value: latest, threshold: null },
  };
}

function threshold(
  name: string,
  values: readonly number[],
  start: number,
  agg: Aggregation,
  op: Comparison,
  limit: number,
  explain: boolean,
): MetricOutcome {
  const value = aggregateRange(values, start, values.length, agg);
  const holds = value !== null && compare(value, op, limit);
  if (value === null) return explain ? { holds, actual: 'no finite value' } : { holds };
  const metric = { name, value, threshold: limit };
  return explain ? { holds, actual: shown(value), metric } : { holds, metric };
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

function change(trigger: ChangeTrigger, values: readonly number[], start: number, explain: boolean): MetricOutcome {
  const prior = aggregateRange(values, start, start + trigger.priorWindow, trigger.agg);
  const current = aggregateRange(values, start + trigger.priorWindow, values.length, trigger.agg);
  const amount = changeBetween(prior, current, trigger.changeType);
  return {
    holds: amount !== null && beyond(amount, trigger.direction, trigger.amount),
    ...(explain ? { actual: amount === null ? { current: shownOrNull(current), prior: shownOrNull(prior), change: noChangeReason(prior, current) } : shown(amount) } : {}),
    ...(current !== null ? { metric: { name: trigger.metric, value: current, threshold: trigger.amount, change: amount } } : {}),
  };
}

/** current − prior (ABSOLUTE) or (current − prior)/|prior| (RELATIVE); null without finite values, for a RELATIVE prior of 0, or when not a number. */
export function changeBetween(prior: number | null, current: number | null, changeType: ChangeTrigger['changeType']): number | null {
  if (current === null || prior === null) return null;
  if (changeType === 'RELATIVE' && prior === 0) return null;
  const amount = changeType === 'ABSOLUTE' ? current - prior : (current - prior) / Math.abs(prior);
  return Number.isNaN(amount) ? null : amount;
}

/** Why changeBetween gave null (for verdicts). */
function noChangeReason(prior: number | null, current: number | null): string {
  if (current === null || prior === null) return 'no finite value';
  return prior === 0 ? 'prior is 0' : 'not a number';
}

function zscore(trigger: ZScoreTrigger, values: readonly number[], start: number, explain: boolean): MetricOutcome {
  const latest = values[values.length - 1];
  const z = zScore(values, start, start + trigger.window, latest);
  return {
    holds: z !== null && beyond(z, trigger.direction, trigger.threshold),
    ...(explain ? { actual: z ?? noZScoreReason(values, start, start + trigger.window, latest) } : {}),
    metric: { name: trigger.metric, value: latest, threshold: trigger.threshold, zscore: z },
  };
}

/**
 * z of `latest` against the finite values of values[start, end): (latest − mean)/σ, population
 * σ; null when the latest is not finite, there is no finite value, or σ is 0.
 */
export function zScore(values: ArrayLike<number>, start: number, end: number, latest: number): number | null {
  if (!Number.isFinite(latest)) return null;
  let count = 0;
  let sum = 0;
  for (let i = start; i < end; i++) {
    if (Number.isFinite(values[i])) {
      sum += values[i];
      count++;
    }
  }
  if (count === 0) return null;
  const average = sum / count;
  let squares = 0;
  for (let i = start; i < end; i++) if (Number.isFinite(values[i])) squares += (values[i] - average) ** 2;
  const sigma = Math.sqrt(squares / count);
  return sigma === 0 ? null : (latest - average) / sigma;
}

/** Why zScore gave null (for verdicts). */
function noZScoreReason(values: readonly number[], start: number, end: number, latest: number): string {
  if (!Number.isFinite(latest)) return 'latest value is not finite';
  for (let i = start; i < end; i++) if (Number.isFinite(values[i])) return 'σ is 0';
  return 'no finite value before the latest';
}

/** INCREASE: x ≥ t; DECREASE: x ≤ −t; ANY: |x| ≥ t. */
export function beyond(x: number, direction: Direction, t: number): boolean {
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

/** Verdicts end up in JSON, which has no NaN or Infinity: those read as the API's strings ("NaN", "Infinity", "-Infinity"). */
function shown(value: number | string): number | string {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}

function shownOrNull(value: number | null): number | string | null {
  return value === null ? null : shown(value);
}
