import { performance } from 'node:perf_hooks';
import { normalizeAutomation } from '../src/automations/automation-rules';
import { effectiveCooldownSeconds } from '../src/automations/triggers';
import type { MatchableAutomation } from '../src/automations/automation.types';
import type { HeraldEvent, RunState } from '../src/events/event.types';
import { AutomationIndex, type CompiledAutomation, type Decision, type SubjectState, compileAutomation, decide, evaluate, subjectFor, subjectOf } from '../src/matching/matcher';
import { SubjectStates } from '../src/matching/subject-states';
import { NotFiredList, type StoredOutcome } from '../src/events/event-outcome';
import { type MetricWindows, appendMetricsInPlace } from '../src/matching/metric-windows';
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
  const mode = options.mode;
  const match = mode === 'decide' ? decide : evaluate;
  const index = new AutomationIndex(compiledBackground(options.automations));
  const posted = matcherEvents(options.maxEvents + 20_000);
  const start = Date.parse('2026-11-22T08:00:00Z');
  const events: HeraldEvent[] = posted.map((e, i) => ({ ...(e as unknown as HeraldEvent), id: `evt_${i}`, occurredAt: new Date(start + i).toISOString() }));
  // As ingestion keeps them: runs by project then run id (no key built per event), each with
  // its windows, state and the edge/cooldown states of its subject, found once per run.
  const runs = new Map<string, Map<string, { windows: MetricWindows; state: RunState | null; states: SubjectStates }>>();
  // Edge/cooldown state by subject, in columns by slot (what ingestion keeps in its unit of work).
  const states = new Map<string, SubjectStates>();
  const statesOf = (subject: string, project: string): SubjectStates => {
    let subjectStates = states.get(subject);
    if (!subjectStates) states.set(subject, (subjectStates = new SubjectStates(index.stateLayout(project))));
    return subjectStates;
  };
  let candidates = 0;
  let fired = 0;
  // As ingestion does: each event's non-matches recorded (up to MAX_NOT_FIRED listed, the rest
  // counted) and stored with its outcome.
  let notFired = new NotFiredList();
  const record = (compiled: CompiledAutomation, decision: Decision): void => {
    if (decision.notFired) notFired.record(compiled.automation.id, decision.notFired);
  };
  const count = (_: CompiledAutomation, decision: Decision): void => {
    if (decision.fires) fired++;
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
    let plain: SubjectStates | null = null;
    if (event.run) {
      let byId = runs.get(event.project);
      if (!byId) runs.set(event.project, (byId = new Map()));
      let run = byId.get(event.run.id);
      if (!run) byId.set(event.run.id, (run = { windows: {}, state: null, states: statesOf(subjectFor(false, event), event.project) }));
      runWindows = run.windows;
      previousRunState = run.state;
      plain = run.states;
      // As ingestion does: the run's windows are its own, appended in place.
      appendMetricsInPlace(runWindows, event.metrics, index.watchedMetrics(event.project));
      if (event.type === 'RUN_STATE' && event.run.state) run.state = event.run.state;
    }
    const list = index.candidates(event);
    candidates += list.length;
    // As ingestion does: a metric event through its project's metric program, which sets the states it decides.
    const program = mode === 'decide' ? index.metricProgram(event) : null;
    if (program) {
      program.decide(event, runWindows, plain ?? statesOf(subjectFor(false, event), event.project), nowMs, count, null, notFired);
      store();
      return;
    }
    // As ingestion does: another event through its list's program.
    const events = mode === 'decide' ? index.eventProgram(event) : null;
    if (events) {
      const subjectStates = !events.artifact && plain !== null ? plain : statesOf(subjectFor(events.artifact, event), event.project);
      events.decide(event, previousRunState, subjectStates, nowMs, count, null, notFired);
      store();
      return;
    }
    const context = { windows: runWindows, previousRunState, state: null as SubjectState | null, nowMs };
    // An event has one subject for artifact triggers and one for the others.
    const subjects: (SubjectStates | undefined)[] = [undefined, undefined];
    for (const compiled of list) {
      const kind = compiled.facts.artifact ? 1 : 0;
      const subjectStates = (subjects[kind] ??= statesOf(subjectOf(compiled.automation, event), event.project));
      const slot = index.slotOf(compiled.automation.id);
      context.state = subjectStates.get(slot);
      const evaluation = match(compiled, event, context);
      if (evaluation.nextState) subjectStates.set(slot, evaluation.nextState);
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
