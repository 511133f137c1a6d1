import type { AttributeFilter, MatchableAutomation, MetricTrigger, RunFilter, Scope } from '../automations/automation.types';
import type { HeraldEvent, PostedMetricValue, RunContext } from '../events/event.types';
import { NotFiredList } from '../events/event-outcome';
import { everyQuiet, storedFrom, storedOf } from '../../test/support/not-fired';
// A seeded PRNG (mulberry32), so a failure names a reproducible seed.
import { pick, seededRandom as prng } from '../../test/support/random';
import { AutomationIndex, type CompiledAutomation, type Decision, type NotFiredReason, type SubjectState, compileAutomation, decide } from './matcher';
import { type MetricWindows, appendMetricsInPlace } from './metric-windows';
import { SubjectStates } from './subject-states';

const METRICS = ['loss', 'acc', 'val/loss', '__proto__', 'lr'];
const VALUES: readonly PostedMetricValue[] = [0, -0, 0.1, 0.2, 0.25, 0.5, 0.9, 1, -3, 7.5, 'NaN', 'Infinity', '-Infinity'];

function metricTrigger(random: () => number): MetricTrigger {
  const metric = pick(random, METRICS);
  const agg = pick(random, ['MIN', 'MAX', 'AVERAGE', 'LAST'] as const);
  const window = 1 + Math.floor(random() * 6);
  const direction = pick(random, ['INCREASE', 'DECREASE', 'ANY'] as const);
  switch (Math.floor(random() * 4)) {
    case 0:
      return { event: 'RUN_METRIC_THRESHOLD', metric, op: 'NON_FINITE' };
    case 1:
      return { event: 'RUN_METRIC_THRESHOLD', metric, agg, window, op: pick(random, ['>', '>=', '<', '<=', '==', '!='] as const), threshold: pick(random, [0, 0.2, 0.5, 1]) };
    case 2:
      return {
        event: 'RUN_METRIC_CHANGE',
        metric,
        agg,
        window,
        priorWindow: 1 + Math.floor(random() * 4),
        changeType: pick(random, ['ABSOLUTE', 'RELATIVE'] as const),
        direction,
        amount: pick(random, [0, 0.05, 0.3, 1]),
      };
    default:
      return { event: 'RUN_METRIC_ZSCORE', metric, window: 2 + Math.floor(random() * 4), threshold: pick(random, [0.5, 1, 2]), direction };
  }
}

function runFilter(random: () => number): RunFilter | null {
  switch (Math.floor(random() * 4)) {
    case 0:
      return { nameRegex: pick(random, ['^bert', 'lr\\d', 'gpt$']) };
    case 1:
      return { user: pick(random, ['alice', 'bob']) };
    case 2:
      return { nameRegex: pick(random, ['^bert', 'lr\\d']), user: 'alice' };
    default:
      return null;
  }
}

/** Attribute filters on the run context and the metrics; most automations have none. */
function attributeFilter(random: () => number): AttributeFilter | null {
  switch (Math.floor(random() * 6)) {
    case 0:
      return { 'run.config.lr': { $lt: 0.01 } };
    case 1:
      return { 'run.tags': { $contains: 'baseline' } };
    case 2:
      return { $or: [{ 'run.group': 'sweep-1' }, { 'metrics.acc': { $gte: 0.5 } }] };
    default:
      return null;
  }
}

/**
 * Triggers in families that read the same aggregate (metric, aggregation, window; z-scores of
 * one window) with different thresholds, directions and ops, so the program's shared slots are
 * read by several automations with different answers; LAST with several windows (one value).
 */
function sharedMetricTrigger(random: () => number): MetricTrigger {
  const metric = pick(random, ['loss', 'acc']);
  const agg = pick(random, ['MIN', 'AVERAGE', 'LAST'] as const);
  const window = pick(random, [2, 3]);
  const direction = pick(random, ['INCREASE', 'DECREASE', 'ANY'] as const);
  switch (Math.floor(random() * 3)) {
    case 0:
      return { event: 'RUN_METRIC_THRESHOLD', metric, agg, window, op: pick(random, ['>', '>=', '<', '<=', '==', '!='] as const), threshold: pick(random, [0, 0.2, 0.5, 1]) };
    case 1:
      return { event: 'RUN_METRIC_CHANGE', metric, agg, window, priorWindow: pick(random, [1, 2]), changeType: pick(random, ['ABSOLUTE', 'RELATIVE'] as const), direction, amount: pick(random, [0, 0.05, 0.3]) };
    default:
      return { event: 'RUN_METRIC_ZSCORE', metric, window, threshold: pick(random, [0.5, 1, 2]), direction };
  }
}

describe('MetricProgram', () => {
  it.each([1, 2, 3, 4, 5])('decides exactly as decide does, event after event (seed %i)', (seed) => {
    decidesAsDecide(seed, metricTrigger);
  });

  it.each([6, 7, 8])('decides exactly as decide does when automations share aggregates (seed %i)', (seed) => {
    const { automations } = decidesAsDecide(seed, sharedMetricTrigger);
    // The workload is what it says: most automations read an aggregate another one reads too.
    const reads = automations.map(({ automation: { trigger } }) => JSON.stringify([(trigger as MetricTrigger).metric, 'agg' in trigger ? trigger.agg : 'Z', 'window' in trigger ? trigger.window : 0]));
    expect(new Set(reads).size).toBeLessThan(reads.length / 3);
  });

  it('hands out no program for other events, and nothing for an event carrying no watched metric', () => {
    const compiled = compileAutomation({
      id: 'a',
      name: 'a',
      scope: { type: 'project', name: 'llm' },
      trigger: { event: 'RUN_METRIC_THRESHOLD', metric: 'loss', op: 'NON_FINITE' },
      runFilter: null,
      cooldownSeconds: 0,
      triggerVersion: 1,
    });
    const index = new AutomationIndex([compiled]);
    const base = { id: 'e', occurredAt: '2026-11-22T08:00:00Z', project: 'llm', run: { id: 'r', name: 'n' } };
    expect(index.metricProgram({ ...base, type: 'RUN_STATE' })).toBeNull();
    const emitted: string[] = [];
    const states = new SubjectStates(index.stateLayout('llm'));
    index.metricProgram({ ...base, type: 'RUN_METRICS', metrics: { acc: 'NaN' } })!.decide({ ...base, type: 'RUN_METRICS', metrics: { acc: 'NaN' } }, { loss: [Number.NaN] }, states, 0, (c) => emitted.push(c.automation.id));
    expect(emitted).toEqual([]);
    const event: HeraldEvent = { ...base, type: 'RUN_METRICS', metrics: { loss: 'NaN' } };
    index.metricProgram(event)!.decide(event, { loss: [Number.NaN] }, states, 0, (c) => emitted.push(c.automation.id));
    expect(emitted).toEqual(['a']);
    // The program set the state it decided, in the automation's slot, marked to store.
    expect(states.toMap()).toEqual(new Map([['a', { matching: true, lastFiredAt: 0, triggerVersion: 1 }]]));
    const changed: string[] = [];
    states.forEachChanged((slot) => changed.push(states.layout.ids[slot]));
    expect(changed).toEqual(['a']);
  });
});

/** Runs a generated workload through decide and through the program, checking they agree event after event, state included. */
function decidesAsDecide(seed: number, triggerOf: (random: () => number) => MetricTrigger): { automations: CompiledAutomation[] } {
  const random = prng(seed);
  const scopes: Scope[] = [{ type: 'project', name: 'llm' }, { type: 'team' }, { type: 'project', name: 'cv' }];
  const automations: CompiledAutomation[] = [];
  for (let i = 0; i < 60; i++) {
    const a: MatchableAutomation = {
      id: `a_${i}`,
      name: `a${i}`,
      scope: pick(random, scopes),
      trigger: triggerOf(random),
      runFilter: runFilter(random),
      filter: attributeFilter(random),
      cooldownSeconds: pick(random, [0, 0, 60, 3600]),
      triggerVersion: pick(random, [1, 1, 2]),
    };
    automations.push(compileAutomation(a));
  }
  const index = new AutomationIndex(automations);
  const windows = new Map<string, MetricWindows>();
  // Each path keeps its own edge/cooldown state by run: decide's by automation id, the program's
  // in columns by slot, as ingestion keeps them (subject-states.ts).
  const expectedStates = new Map<string, Map<string, SubjectState>>();
  const programStates = new Map<string, SubjectStates>();
  let now = 1_000_000;
  let nonQuiet = 0;
  const quietReasons = new Set<string>();
  let fired = 0;
  let overflowed = 0;
  for (let n = 0; n < 1500; n++) {
    now += pick(random, [1000, 30_000, 1_000_000]);
    const project = pick(random, ['llm', 'llm', 'cv', 'other']);
    const runId = pick(random, ['r1', 'r2', 'r3']);
    const carried: Record<string, PostedMetricValue> = {};
    for (const metric of METRICS) if (random() < 0.6) Object.defineProperty(carried, metric, { value: pick(random, VALUES), enumerable: true });
    const event: HeraldEvent = {
      id: `e${n}`,
      type: 'RUN_METRICS',
      occurredAt: '2026-11-22T08:00:00Z',
      project,
      author: pick(random, ['alice', 'bob']),
      run: { id: runId, name: pick(random, ['bert-lr3', 'gpt', 'bert']) },
      metrics: carried,
    };
    const runContext: RunContext = {
      group: pick(random, ['sweep-1', 'sweep-2', null]),
      tags: pick(random, [['baseline'], ['x'], null]),
      config: pick(random, [{ lr: 0.001 }, { lr: 0.1 }, null]),
    };
    const runKey = `${project}/${runId}`;
    let runWindows = windows.get(runKey);
    if (!runWindows) windows.set(runKey, (runWindows = {}));
    appendMetricsInPlace(runWindows, carried, index.watchedMetrics(project));

    // The reference: decide on every candidate the index hands out.
    const expected: [string, Decision][] = [];
    const expectedQuiet: [string, NotFiredReason][] = [];
    const expectedRun = stateMap(expectedStates, runKey);
    for (const compiled of index.candidates(event)) {
      const d = decide(compiled, event, { windows: runWindows, previousRunState: null, state: expectedRun.get(compiled.automation.id) ?? null, nowMs: now, runContext });
      if (d.nextState) expectedRun.set(compiled.automation.id, d.nextState);
      if (d.fires || d.suppressedBy !== null || d.nextState !== null) expected.push([compiled.automation.id, d]);
      else if (d.notFired) expectedQuiet.push([compiled.automation.id, d.notFired]);
    }
    // The program: every decision that is not quiet, in the same order, equal field by field.
    const got: [string, Decision][] = [];
    const gotQuiet: [string, NotFiredReason][] = [];
    let programRun = programStates.get(runKey);
    if (!programRun) programStates.set(runKey, (programRun = new SubjectStates(index.stateLayout(project))));
    const before = programRun.clone();
    index.metricProgram(event)?.decide(event, runWindows, programRun, now, (compiled, d) => got.push([compiled.automation.id, d]), runContext, everyQuiet(gotQuiet));
    expect(got).toStrictEqual(expected);
    // The program set each next state in its automation's slot: the run's states are decide's.
    expect(programRun.toMap()).toStrictEqual(expectedRun);
    // The quiet ones, with the same reason (window, run filter, condition) as decide gives.
    expect(gotQuiet).toStrictEqual(expectedQuiet);
    // Again from the same states, into a NotFiredList as ingestion does (past the cap the program
    // counts the `condition` ones itself): the same decisions and the same stored outcome as
    // recording decide's quiet ones one by one.
    const list = new NotFiredList();
    const again: [string, Decision][] = [];
    index.metricProgram(event)?.decide(event, runWindows, before, now, (compiled, d) => again.push([compiled.automation.id, d]), runContext, list);
    expect(again).toStrictEqual(expected);
    const stored = storedOf(expectedQuiet);
    expect(storedFrom(list)).toStrictEqual(stored);
    if (stored.notFiredOmitted !== undefined) overflowed++;
    quietReasons.add(expectedQuiet.map(([, r]) => (r as { reason: string }).reason).join());
    nonQuiet += expected.length;
    fired += expected.filter(([, d]) => d.fires).length;
  }
  expect(new Map([...programStates].map(([key, states]) => [key, states.toMap()]))).toStrictEqual(expectedStates);
  // The workload exercised what it is meant to: firings, held edges and cooldowns.
  expect(fired).toBeGreaterThan(20);
  expect(nonQuiet).toBeGreaterThan(fired);
  const seen = [...quietReasons].join();
  for (const reason of ['window', 'condition', 'filter']) expect(seen).toContain(reason);
  // And many events had more non-matches than the list keeps.
  expect(overflowed).toBeGreaterThan(100);
  return { automations };
}

function stateMap(all: Map<string, Map<string, SubjectState>>, key: string): Map<string, SubjectState> {
  let map = all.get(key);
  if (!map) all.set(key, (map = new Map()));
  return map;
}
