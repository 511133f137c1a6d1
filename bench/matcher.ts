import { performance } from 'node:perf_hooks';
import { normalizeAutomation } from '../src/automations/automation-rules';
import { effectiveCooldownSeconds } from '../src/automations/triggers';
import type { MatchableAutomation } from '../src/automations/automation.types';
import type { HeraldEvent, RunState } from '../src/events/event.types';
import * as matcher from '../src/matching/matcher';
import { AutomationIndex, type CompiledAutomation, type Decision, type SubjectState, compileAutomation, evaluate, subjectFor, subjectOf } from '../src/matching/matcher';

/** What the bench uses of a metric program (src/matching/metric-program.ts). */
interface MetricProgramLike {
  decide(event: HeraldEvent, windows: MetricWindows, states: Map<string, SubjectState>, nowMs: number, emit: (c: CompiledAutomation, d: Decision) => void, runContext: null, quiet: QuietLike): void;
}
/** What the bench uses of an event program (src/matching/event-program.ts). */
interface EventProgramLike {
  readonly artifact: boolean;
  decide(event: HeraldEvent, previousRunState: RunState | null, states: Map<string, SubjectState>, nowMs: number, emit: (c: CompiledAutomation, d: Decision) => void, runContext: null, quiet: QuietLike): void;
}
/** Where a program reports its quiet candidates: the event's NotFiredList itself, or (older checkouts) a callback recording into it. */
type QuietLike = NotFiredList | ((c: CompiledAutomation, d: Decision) => void);
import { NotFiredList, type StoredOutcome } from '../src/events/event-outcome';
import * as matcherWindows from '../src/matching/metric-windows';
import type { MetricWindows } from '../src/matching/metric-windows';
import { type LatencySummary, summarize } from './stats';
import { BACKGROUND_PROJECTS, backgroundAutomations, matcherEvents } from './workload';

export interface MatcherRun {
  /** `decide` (the decision alone, the hot path's call) or `evaluate` (with every filter's verdict, as previews need). */
  mode: 'decide' | 'evaluate';
  automations: number;
  projects: number;
  events: number;
  /** Events per second of CPU time (user + system) of the bench process while it matched. */
  eventsPerSecond: number;
  /** Events per second of wall-clock time (lower when other processes share the cores). */
  eventsPerWallSecond: number;
  cpuMs: number;
  /** Candidates the index handed to `evaluate`, per event, on average. */
  candidatesPerEvent: number;
  fired: number;
  /** Non-matches stored with the events' outcomes (listed plus counted), in total. */
  notFired: number;
  /** µs per event (index lookup, window append, every candidate evaluated). */
  latencyUs: LatencySummary;
  elapsedMs: number;
}

/** The background automations as the catalog would compile them (validated by the same rules as the API). */
export function compiledBackground(count: number) {
  return backgroundAutomations(count, ['wh_bench']).map((body, i) => {
    const normalized = normalizeAutomation(body);
    if (!normalized.ok) throw new Error(`bench automation ${body.name} is invalid: ${JSON.stringify(normalized.problems)}`);
    const { automation } = normalized;
    const matchable: MatchableAutomation = {
      id: `aut_${String(i).padStart(6, '0')}`,
      name: automation.name,
      scope: automation.scope,
      trigger: automation.trigger,
      runFilter: automation.runFilter,
      cooldownSeconds: effectiveCooldownSeconds(automation.trigger, automation.cooldownSeconds),
      triggerVersion: 1,
    };
    return compileAutomation(matchable);
  });
}

/**
 * Scenario 2: the pure matcher on one core, what ingestion does per event minus the database
 * and rendering: the index's candidates, the run's windows appended, every candidate decided
 * (or evaluated, verdicts and all) against in-memory edge/cooldown state. Runs `maxEvents` events or `maxMs`,
 * whichever ends first, after a warm-up.
 */
export function runMatcher(options: { mode: 'decide' | 'evaluate'; automations: number; maxEvents: number; maxMs: number }): MatcherRun {
  // `decide` is newer than `evaluate`: a checkout without it measures `evaluate` (and says so).
  const decide = (matcher as { decide?: typeof matcher.decide }).decide;
  const mode = options.mode === 'decide' && decide ? 'decide' : 'evaluate';
  const match: typeof matcher.decide = mode === 'decide' ? decide! : evaluate;
  const index = new AutomationIndex(compiledBackground(options.automations));
  // Older checkouts have neither in-place appends nor the copy-free sizes: the bench then measures what they do.
  const appendInPlace = (matcherWindows as { appendMetricsInPlace?: typeof matcherWindows.appendMetricsInPlace }).appendMetricsInPlace;
  const watched = (project: string): ReadonlyMap<string, number> =>
    (index as { watchedMetrics?: (p: string) => ReadonlyMap<string, number> }).watchedMetrics?.(project) ?? index.windowSizesFor(project);
  const posted = matcherEvents(options.maxEvents + 20_000);
  const start = Date.parse('2026-11-22T08:00:00Z');
  const events: HeraldEvent[] = posted.map((e, i) => ({ ...(e as unknown as HeraldEvent), id: `evt_${i}`, occurredAt: new Date(start + i).toISOString() }));
  const windows = new Map<string, MetricWindows>();
  const runStates = new Map<string, RunState>();
  // Edge/cooldown state by subject, then automation (what ingestion keeps in its unit of work).
  const states = new Map<string, Map<string, SubjectState>>();
  let candidates = 0;
  let fired = 0;
  // As ingestion does: each event's non-matches recorded (up to MAX_NOT_FIRED listed, the rest
  // counted) and stored with its outcome. Programs that take the list itself get it; older ones
  // a callback recording into it.
  const takesList = typeof (NotFiredList.prototype as { countConditions?: unknown }).countConditions === 'function';
  let notFired = new NotFiredList();
  const record = (compiled: CompiledAutomation, decision: Decision): void => {
    if (decision.notFired) notFired.record(compiled.automation.id, decision.notFired);
  };
  let stored = 0;
  const store = (): void => {
    const outcome: StoredOutcome = { matched: [], suppressed: [], failed: [] };
    notFired.storeIn(outcome);
    stored += (outcome.notFiredIds?.length ?? 0) + (outcome.notFiredOmitted ?? 0);
    notFired = new NotFiredList();
  };

  const matchOne = (event: HeraldEvent, nowMs: number): void => {
    let runWindows: MetricWindows = {};
    let previousRunState: RunState | null = null;
    if (event.run) {
      const runKey = `${event.project}\u0000${event.run.id}`;
      let known = windows.get(runKey);
      if (!known) windows.set(runKey, (known = {}));
      runWindows = known;
      previousRunState = runStates.get(runKey) ?? null;
      // As ingestion does: the run's windows are its own, appended in place (where the API has it).
      if (appendInPlace) appendInPlace(runWindows, event.metrics, watched(event.project));
      else {
        const appended = matcherWindows.appendMetrics(runWindows, event.metrics, index.windowSizesFor(event.project));
        if (appended.changed) windows.set(runKey, (runWindows = appended.windows));
      }
      if (event.type === 'RUN_STATE' && event.run.state) runStates.set(runKey, event.run.state);
    }
    const list = index.candidates(event);
    candidates += list.length;
    // As ingestion does: a metric event through its project's metric program (where the checkout has one).
    const program = mode === 'decide' ? (index as { metricProgram?: (e: HeraldEvent) => MetricProgramLike | null }).metricProgram?.(event) : null;
    if (program) {
      const subject = subjectFor(false, event);
      let subjectStates = states.get(subject);
      if (!subjectStates) states.set(subject, (subjectStates = new Map()));
      const runStates = subjectStates;
      program.decide(event, runWindows, runStates, nowMs, (compiled, decision) => {
        if (decision.nextState) runStates.set(compiled.automation.id, decision.nextState);
        if (decision.fires) fired++;
      }, null, takesList ? notFired : record);
      store();
      return;
    }
    // As ingestion does: another event through its list's program (where the checkout has one).
    const events = mode === 'decide' ? (index as { eventProgram?: (e: HeraldEvent) => EventProgramLike | null }).eventProgram?.(event) : null;
    if (events) {
      const subject = subjectFor(events.artifact, event);
      let subjectStates = states.get(subject);
      if (!subjectStates) states.set(subject, (subjectStates = new Map()));
      const eventStates = subjectStates;
      events.decide(event, previousRunState, eventStates, nowMs, (compiled, decision) => {
        if (decision.nextState) eventStates.set(compiled.automation.id, decision.nextState);
        if (decision.fires) fired++;
      }, null, takesList ? notFired : record);
      store();
      return;
    }
    const context = { windows: runWindows, previousRunState, state: null as SubjectState | null, nowMs };
    // An event has one subject for artifact triggers and one for the others.
    const subjects: (Map<string, SubjectState> | undefined)[] = [undefined, undefined];
    for (const compiled of list) {
      const kind = compiled.facts.artifact ? 1 : 0;
      let subjectStates = subjects[kind];
      if (!subjectStates) {
        const subject = subjectOf(compiled.automation, event);
        subjectStates = states.get(subject);
        if (!subjectStates) states.set(subject, (subjectStates = new Map()));
        subjects[kind] = subjectStates;
      }
      const id = compiled.automation.id;
      context.state = subjectStates.get(id) ?? null;
      const evaluation = match(compiled, event, context);
      if (evaluation.nextState) subjectStates.set(id, evaluation.nextState);
      if (evaluation.fires) fired++;
      else if (evaluation.suppressedBy === null && evaluation.nextState === null) record(compiled, evaluation);
    }
    store();
  };

  // Warm-up (JIT, the index's lazily built lists): 20 000 events or a quarter of the time budget.
  const warmupDeadline = performance.now() + options.maxMs / 4;
  let warmup = 0;
  while (warmup < Math.min(20_000, events.length / 2) && performance.now() < warmupDeadline) matchOne(events[warmup], start + warmup++);
  candidates = 0;
  fired = 0;
  stored = 0;

  const latencies: number[] = [];
  const began = performance.now();
  const cpuBefore = process.cpuUsage();
  const deadline = began + options.maxMs;
  let done = 0;
  for (let i = warmup; i < events.length; i++) {
    const t0 = performance.now();
    matchOne(events[i], start + i);
    const t1 = performance.now();
    latencies.push((t1 - t0) * 1000);
    done++;
    if (t1 > deadline) break;
  }
  const elapsedMs = performance.now() - began;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  return {
    mode,
    automations: options.automations,
    projects: BACKGROUND_PROJECTS,
    events: done,
    // Per second of this process's CPU time, not of the wall clock: "on one core" whatever
    // else shares the machine (a busy machine stretches the wall clock, not the work).
    eventsPerSecond: (done * 1000) / cpuMs,
    eventsPerWallSecond: (done * 1000) / elapsedMs,
    cpuMs,
    candidatesPerEvent: candidates / done,
    fired,
    notFired: stored,
    latencyUs: summarize(latencies),
    elapsedMs,
  };
}
