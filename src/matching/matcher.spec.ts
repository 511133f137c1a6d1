import type { MatchableAutomation, RunFilter, Scope, Trigger } from '../automations/automation.types';
import type { HeraldEvent, PostedMetricValue, RunState } from '../events/event.types';
import {
  AutomationIndex,
  type CompiledAutomation,
  type Evaluation,
  type FilterVerdict,
  type SubjectState,
  compileAutomation,
  decide,
  evaluate,
  subjectOf,
} from './matcher';
import { type MetricWindows, appendMetrics, windowSizes } from './metric-windows';
import { effectiveCooldownSeconds } from '../automations/triggers';

const HOUR = 3_600_000;

function automation(trigger: Trigger, over: Partial<MatchableAutomation> = {}): MatchableAutomation {
  return {
    id: 'aut_1',
    name: 'watch',
    scope: { type: 'project', name: 'llm' },
    trigger,
    runFilter: null,
    cooldownSeconds: 0,
    triggerVersion: 1,
    ...over,
  };
}

let eventCount = 0;
function event(type: HeraldEvent['type'], over: Partial<HeraldEvent> = {}): HeraldEvent {
  eventCount += 1;
  return {
    id: `evt_${eventCount}`,
    type,
    occurredAt: '2026-11-22T08:00:00Z',
    project: 'llm',
    author: 'alice',
    ...over,
  };
}

const run = { id: 'r42', name: 'bert-base-lr3e-4' };
const metrics = (values: Record<string, PostedMetricValue>, over: Partial<HeraldEvent> = {}) =>
  event('RUN_METRICS', { run, metrics: values, ...over });
const runState = (state: RunState) => event('RUN_STATE', { run: { ...run, state } });
const log = (...lines: string[]) => event('RUN_LOG', { run, lines });
const artifactEvent = (type: HeraldEvent['type'], over: Partial<HeraldEvent> = {}) =>
  event(type, { artifact: { name: 'bert:v3', version: 'v3', collection: 'bert-classifier' }, ...over });

/** One automation and one run, as ingestion would drive them: windows, run state and edge state carried across events. */
class Simulation {
  readonly compiled: CompiledAutomation;
  private readonly sizes: Map<string, number>;
  windows: MetricWindows = {};
  state: SubjectState | null = null;
  runState: RunState | null = null;
  now = 1_000_000;

  constructor(readonly automation: MatchableAutomation) {
    this.compiled = compileAutomation(automation);
    this.sizes = windowSizes([automation]);
  }

  send(e: HeraldEvent, advanceMs = 1000): Evaluation {
    this.now += advanceMs;
    this.windows = appendMetrics(this.windows, e.metrics, this.sizes).windows;
    const result = evaluate(this.compiled, e, { windows: this.windows, previousRunState: this.runState, state: this.state, nowMs: this.now });
    if (result.nextState) this.state = result.nextState;
    if (e.run?.state) this.runState = e.run.state;
    return result;
  }

  /** Sends one metric value per event; returns the indexes of the events that fired. */
  values(metric: string, values: PostedMetricValue[], advanceMs = 1000): number[] {
    const fired: number[] = [];
    values.forEach((v, i) => {
      if (this.send(metrics({ [metric]: v }), advanceMs).fires) fired.push(i);
    });
    return fired;
  }
}

function verdict(result: Evaluation, filter: string): FilterVerdict | undefined {
  return result.filters.find((f) => f.filter === filter);
}

function failing(result: Evaluation): FilterVerdict[] {
  return result.filters.filter((f) => !f.passed);
}

const belowAverage = { event: 'RUN_METRIC_THRESHOLD', metric: 'val/loss', agg: 'AVERAGE', window: 5, op: '<', threshold: 0.2 } as const;

describe('RUN_METRIC_THRESHOLD', () => {
  it('waits for a full window, then fires when the AVERAGE of the last 5 crosses', () => {
    const sim = new Simulation(automation(belowAverage));
    for (let i = 0; i < 4; i++) {
      const r = sim.send(metrics({ 'val/loss': 0.1 }));
      expect(r.fires).toBe(false);
      expect(r.conditionMet).toBe(false);
      expect(verdict(r, 'window')).toEqual({ filter: 'window', passed: false, actual: i + 1, expected: 5 });
      expect(verdict(r, 'trigger.metric')).toBeUndefined();
      expect(r.nextState).toBeNull();
    }
    const fifth = sim.send(metrics({ 'val/loss': 0.1 }));
    expect(fifth.fires).toBe(true);
    expect(fifth.metric).toEqual({ name: 'val/loss', value: expect.closeTo(0.1, 10), threshold: 0.2 });
  });

  it('compares the aggregate of exactly the last `window` values', () => {
    const sim = new Simulation(automation(belowAverage));
    // averages once full: 0.3, 0.24, 0.18 (fires)
    expect(sim.values('val/loss', [0.3, 0.3, 0.3, 0.3, 0.3, 0, 0])).toEqual([6]);
  });

  it('explains a non-match with the aggregate and the condition', () => {
    const sim = new Simulation(automation(belowAverage));
    const values = [0.2, 0.19, 0.18, 0.17, 0.175];
    let last: Evaluation | undefined;
    for (const v of values.map((v) => v + 0.03)) last = sim.send(metrics({ 'val/loss': v }));
    expect(last!.conditionMet).toBe(false);
    expect(failing(last!)).toEqual([
      { filter: 'trigger.metric', passed: false, actual: expect.closeTo(0.213, 10), expected: '< 0.2 over AVERAGE of 5' },
    ]);
  });

  it('a metric over the threshold for 100 steps fires once', () => {
    const sim = new Simulation(automation({ event: 'RUN_METRIC_THRESHOLD', metric: 'loss', agg: 'LAST', window: 1, op: '>', threshold: 5 }));
    const fired = sim.values('loss', Array.from({ length: 100 }, () => 9));
    expect(fired).toEqual([0]);
    const again = sim.send(metrics({ loss: 9 }));
    expect(again.conditionMet).toBe(true);
    expect(again.suppressedBy).toBe('edge');
    expect(again.nextState).toBeNull();
  });

  it('fires again after a dip once the cooldown is over', () => {
    const sim = new Simulation(
      automation({ event: 'RUN_METRIC_THRESHOLD', metric: 'loss', agg: 'LAST', window: 1, op: '>', threshold: 5 }, { cooldownSeconds: 3600 }),
    );
    expect(sim.send(metrics({ loss: 9 })).fires).toBe(true);
    const dip = sim.send(metrics({ loss: 1 }), HOUR);
    expect(dip.fires).toBe(false);
    expect(dip.nextState).toEqual({ matching: false, lastFiredAt: 1_001_000, triggerVersion: 1 });
    const rise = sim.send(metrics({ loss: 9 }), 1000);
    expect(rise.fires).toBe(true);
    expect(rise.nextState).toEqual({ matching: true, lastFiredAt: sim.now, triggerVersion: 1 });
  });

  it('a rise inside the cooldown is consumed, not deferred', () => {
    const sim = new Simulation(
      automation({ event: 'RUN_METRIC_THRESHOLD', metric: 'loss', agg: 'LAST', window: 1, op: '>', threshold: 5 }, { cooldownSeconds: 3600 }),
    );
    expect(sim.send(metrics({ loss: 9 })).fires).toBe(true);
    const firedAt = sim.now;
    sim.send(metrics({ loss: 1 }), 60_000);
    const rise = sim.send(metrics({ loss: 9 }), 60_000);
    expect(rise).toMatchObject({ conditionMet: true, fires: false, suppressedBy: 'cooldown' });
    expect(rise.nextState).toEqual({ matching: true, lastFiredAt: firedAt, triggerVersion: 1 });
    // Still high after the cooldown ended: the consumed edge does not fire late.
    const later = sim.send(metrics({ loss: 9 }), 2 * HOUR);
    expect(later).toMatchObject({ fires: false, suppressedBy: 'edge' });
    // A new dip and rise after the cooldown fires.
    sim.send(metrics({ loss: 1 }));
    expect(sim.send(metrics({ loss: 9 })).fires).toBe(true);
  });

  it('fires exactly when the cooldown has elapsed', () => {
    const sim = new Simulation(
      automation({ event: 'RUN_METRIC_THRESHOLD', metric: 'loss', agg: 'LAST', window: 1, op: '>', threshold: 5 }, { cooldownSeconds: 10 }),
    );
    sim.send(metrics({ loss: 9 }));
    sim.send(metrics({ loss: 1 }), 1000);
    expect(sim.send(metrics({ loss: 9 }), 8999).suppressedBy).toBe('cooldown');
    sim.send(metrics({ loss: 1 }), 0);
    expect(sim.send(metrics({ loss: 9 }), 1).fires).toBe(true);
  });

  it.each([
    ['>', [5, 6], [false, true]],
    ['>=', [4, 5], [false, true]],
    ['<', [5, 4], [false, true]],
    ['<=', [6, 5], [false, true]],
    ['==', [4, 5], [false, true]],
    ['!=', [5, 4], [false, true]],
  ] as const)('op %s against 5', (op, [miss, hit], expected) => {
    const a = automation({ event: 'RUN_METRIC_THRESHOLD', metric: 'm', agg: 'LAST', window: 1, op, threshold: 5 });
    const at = (v: number) => evaluate(compileAutomation(a), metrics({ m: v }), { windows: { m: [v] }, previousRunState: null, state: null, nowMs: 0 });
    expect([at(miss).conditionMet, at(hit).conditionMet]).toEqual(expected);
  });

  it('MIN, MAX and AVERAGE leave non-finite values out', () => {
    const sim = new Simulation(automation({ event: 'RUN_METRIC_THRESHOLD', metric: 'm', agg: 'MAX', window: 3, op: '<', threshold: 3 }));
    expect(sim.values('m', [1, 'Infinity', 2])).toEqual([2]);
    expect(sim.send(metrics({ m: 2 })).metric).toEqual({ name: 'm', value: 2, threshold: 3 });
  });

  it('a window with no finite value does not match and says so', () => {
    const sim = new Simulation(automation({ event: 'RUN_METRIC_THRESHOLD', metric: 'm', agg: 'AVERAGE', window: 2, op: '!=', threshold: 0 }));
    sim.send(metrics({ m: 'NaN' }));
    const r = sim.send(metrics({ m: '-Infinity' }));
    expect(r.conditionMet).toBe(false);
    expect(verdict(r, 'trigger.metric')).toMatchObject({ passed: false, actual: 'no finite value' });
    expect(r.metric).toBeUndefined();
  });

  it('LAST may be non-finite: Infinity compares, NaN matches no comparison (not even !=)', () => {
    const gt = new Simulation(automation({ event: 'RUN_METRIC_THRESHOLD', metric: 'm', agg: 'LAST', window: 1, op: '>', threshold: 5 }));
    expect(gt.values('m', ['Infinity'])).toEqual([0]);
    const ne = new Simulation(automation({ event: 'RUN_METRIC_THRESHOLD', metric: 'm', agg: 'LAST', window: 1, op: '!=', threshold: 5 }));
    const r = ne.send(metrics({ m: 'NaN' }));
    expect(r.conditionMet).toBe(false);
    expect(verdict(r, 'trigger.metric')?.actual).toBe('NaN');
  });

  it('ignores events without its metric, leaving the edge as it is', () => {
    const a = automation({ event: 'RUN_METRIC_THRESHOLD', metric: 'loss', agg: 'LAST', window: 1, op: '>', threshold: 5 });
    const state = { matching: true, lastFiredAt: 0, triggerVersion: 1 };
    const r = evaluate(compileAutomation(a), metrics({ acc: 0.9 }), { windows: { loss: [1] }, previousRunState: null, state, nowMs: 10 });
    expect(r).toMatchObject({ conditionMet: false, fires: false, suppressedBy: null, nextState: null });
    expect(failing(r)).toEqual([{ filter: 'event.metrics', passed: false, actual: null, expected: 'carries loss' }]);
  });

  it('treats a metric named like an Object.prototype member as a plain name', () => {
    const sim = new Simulation(automation({ event: 'RUN_METRIC_THRESHOLD', metric: 'constructor', agg: 'LAST', window: 2, op: '>', threshold: 1 }));
    const first = sim.send(metrics({ constructor: 5 }));
    expect(verdict(first, 'window')).toMatchObject({ passed: false, actual: 1 });
    expect(sim.send(metrics({ constructor: 5 })).fires).toBe(true);
  });
});

describe('RUN_METRIC_THRESHOLD NON_FINITE', () => {
  const nonFinite = automation({ event: 'RUN_METRIC_THRESHOLD', metric: 'loss', op: 'NON_FINITE' });

  it('fires on NaN, once while it stays non-finite, again after a finite value', () => {
    const sim = new Simulation(nonFinite);
    expect(sim.values('loss', [0.5, 'NaN', 'Infinity', 0.4, '-Infinity'])).toEqual([1, 4]);
  });

  it('reports the latest value with no threshold', () => {
    const r = new Simulation(nonFinite).send(metrics({ loss: 'NaN' }));
    expect(r.metric?.name).toBe('loss');
    expect(r.metric?.value).toBeNaN();
    expect(r.metric?.threshold).toBeNull();
    expect(verdict(r, 'trigger.metric')).toEqual({ filter: 'trigger.metric', passed: true, actual: 'NaN', expected: 'NaN or ±Infinity' });
  });

  it('a finite value does not match', () => {
    const r = new Simulation(nonFinite).send(metrics({ loss: 0.5 }));
    expect(r.conditionMet).toBe(false);
    expect(r.metric?.value).toBe(0.5);
  });
});

describe('RUN_METRIC_CHANGE', () => {
  const change = (over: Partial<Extract<Trigger, { event: 'RUN_METRIC_CHANGE' }>> = {}): Trigger => ({
    event: 'RUN_METRIC_CHANGE',
    metric: 'acc',
    agg: 'AVERAGE',
    window: 2,
    priorWindow: 2,
    changeType: 'RELATIVE',
    direction: 'DECREASE',
    amount: 0.1,
    ...over,
  });

  it('RELATIVE DECREASE fires when the current window is at least 10 % below the prior one', () => {
    const sim = new Simulation(automation(change()));
    expect(sim.values('acc', [1, 1, 0.95, 0.95])).toEqual([]);
    const r = sim.send(metrics({ acc: 0.85 }));
    // prior AVERAGE(1, 0.95) = 0.975, current AVERAGE(0.95, 0.85) = 0.9: −7.7 %
    expect(r.fires).toBe(false);
    expect(verdict(r, 'trigger.metric')?.actual).toBeCloseTo(-0.075 / 0.975, 10);
    const hit = sim.send(metrics({ acc: 0.8 }));
    // prior AVERAGE(0.95, 0.95) = 0.95, current AVERAGE(0.85, 0.8) = 0.825: −13.2 %
    expect(hit.fires).toBe(true);
    expect(hit.metric).toEqual({ name: 'acc', value: expect.closeTo(0.825, 10), threshold: 0.1, change: expect.closeTo(-0.125 / 0.95, 10) });
  });

  it('waits for window + priorWindow values', () => {
    const sim = new Simulation(automation(change({ window: 2, priorWindow: 3 })));
    sim.values('acc', [1, 1, 1, 1]);
    expect(verdict(sim.send(metrics({ acc: 1 }), 0), 'window')).toMatchObject({ passed: true, actual: 5, expected: 5 });
  });

  it('a change of exactly the amount matches', () => {
    const sim = new Simulation(automation(change({ changeType: 'ABSOLUTE', direction: 'INCREASE', amount: 0.5, window: 1, priorWindow: 1, agg: 'LAST' })));
    expect(sim.values('acc', [1, 1.25, 1.75])).toEqual([2]);
  });

  it('RELATIVE never matches when the prior aggregate is 0', () => {
    const sim = new Simulation(automation(change({ direction: 'ANY', window: 1, priorWindow: 1, agg: 'LAST' })));
    sim.send(metrics({ acc: 0 }));
    const r = sim.send(metrics({ acc: 5 }));
    expect(r.conditionMet).toBe(false);
    expect(verdict(r, 'trigger.metric')?.actual).toEqual({ current: 5, prior: 0, change: 'prior is 0' });
    expect(r.metric).toEqual({ name: 'acc', value: 5, threshold: 0.1, change: null });
  });

  it('ABSOLUTE works from a prior of 0', () => {
    const sim = new Simulation(automation(change({ changeType: 'ABSOLUTE', direction: 'INCREASE', amount: 2, window: 1, priorWindow: 1, agg: 'LAST' })));
    expect(sim.values('acc', [0, 3])).toEqual([1]);
  });

  it('RELATIVE divides by |prior|, so a rise from a negative prior is an increase', () => {
    const sim = new Simulation(automation(change({ direction: 'INCREASE', amount: 0.5, window: 1, priorWindow: 1, agg: 'LAST' })));
    sim.send(metrics({ acc: -2 }));
    const r = sim.send(metrics({ acc: -1 }));
    expect(r.fires).toBe(true);
    expect(r.metric?.change).toBe(0.5);
  });

  it('INCREASE ignores decreases, DECREASE ignores increases, ANY takes both', () => {
    const fired = (direction: 'INCREASE' | 'DECREASE' | 'ANY') =>
      new Simulation(automation(change({ changeType: 'ABSOLUTE', direction, amount: 1, window: 1, priorWindow: 1, agg: 'LAST' }))).values(
        'acc',
        [0, 2, 2, 0],
      );
    expect(fired('INCREASE')).toEqual([1]);
    expect(fired('DECREASE')).toEqual([3]);
    expect(fired('ANY')).toEqual([1, 3]);
  });

  it('leaves non-finite values out of the aggregates', () => {
    const sim = new Simulation(automation(change({ changeType: 'ABSOLUTE', direction: 'INCREASE', amount: 1, agg: 'MIN' })));
    // prior MIN(1, NaN) = 1, current MIN(Infinity, 3) = 3
    expect(sim.values('acc', [1, 'NaN', 'Infinity', 3])).toEqual([3]);
  });
});

describe('RUN_METRIC_ZSCORE', () => {
  const z = (direction: 'INCREASE' | 'DECREASE' | 'ANY', threshold = 3, window = 4): Trigger => ({
    event: 'RUN_METRIC_ZSCORE',
    metric: 'loss',
    window,
    threshold,
    direction,
  });

  it('fires on a spike against the window before it, with z in the metric', () => {
    const sim = new Simulation(automation(z('INCREASE')));
    expect(sim.values('loss', [1, 2, 3, 4])).toEqual([]);
    const r = sim.send(metrics({ loss: 10 }));
    // mean 2.5, population σ √1.25
    const expected = 7.5 / Math.sqrt(1.25);
    expect(r.fires).toBe(true);
    expect(r.metric).toEqual({ name: 'loss', value: 10, threshold: 3, zscore: expect.closeTo(expected, 10) });
  });

  it('uses the population σ, not the sample σ', () => {
    // values before: 0, 2 → mean 1, population σ 1 (sample σ would be √2); latest 3 → z = 2
    const sim = new Simulation(automation(z('INCREASE', 2, 2)));
    expect(sim.values('loss', [0, 2, 3])).toEqual([2]);
    // before: 2, 3 → mean 2.5, σ 0.5; latest 4 → z = 3
    expect(sim.send(metrics({ loss: 4 })).metric?.zscore).toBe(3);
  });

  it('σ = 0 never matches', () => {
    const sim = new Simulation(automation(z('ANY', 0.1)));
    sim.values('loss', [5, 5, 5, 5]);
    const r = sim.send(metrics({ loss: 100 }));
    expect(r.conditionMet).toBe(false);
    expect(verdict(r, 'trigger.metric')).toMatchObject({ passed: false, actual: 'σ is 0' });
    expect(r.metric).toEqual({ name: 'loss', value: 100, threshold: 0.1, zscore: null });
  });

  it('DECREASE fires on a drop, not a spike; ANY on both', () => {
    const series = [1, 2, 1, 2, 10, 1, 2, 1, -10];
    expect(new Simulation(automation(z('DECREASE', 3, 4))).values('loss', series)).toEqual([8]);
    expect(new Simulation(automation(z('ANY', 3, 4))).values('loss', series)).toEqual([4, 8]);
  });

  it('leaves non-finite values out of the mean and σ', () => {
    const sim = new Simulation(automation(z('INCREASE', 3, 3)));
    sim.values('loss', [1, 'NaN', 3]);
    const r = sim.send(metrics({ loss: 5 }));
    // before: 1, 3 → mean 2, σ 1 → z 3
    expect(r.metric?.zscore).toBe(3);
    expect(r.fires).toBe(true);
  });

  it('a non-finite latest value has no z', () => {
    const sim = new Simulation(automation(z('ANY', 1, 2)));
    sim.values('loss', [1, 2]);
    const r = sim.send(metrics({ loss: 'Infinity' }));
    expect(r.conditionMet).toBe(false);
    expect(r.metric?.zscore).toBeNull();
  });
});

describe('RUN_STATE', () => {
  const failed = automation({ event: 'RUN_STATE', states: ['FAILED', 'CRASHED'] });

  it('fires when the run enters FAILED, not again while it stays FAILED', () => {
    const sim = new Simulation(failed);
    expect(sim.send(runState('RUNNING')).fires).toBe(false);
    expect(sim.send(runState('FAILED')).fires).toBe(true);
    const repeat = sim.send(runState('FAILED'));
    expect(repeat.fires).toBe(false);
    expect(failing(repeat)).toEqual([{ filter: 'run.previousState', passed: false, actual: 'FAILED', expected: 'not FAILED' }]);
    expect(sim.send(runState('CRASHED')).fires).toBe(true);
  });

  it('fires when the previous state is unknown', () => {
    expect(new Simulation(failed).send(runState('FAILED')).fires).toBe(true);
  });

  it('does not fire for a state outside its list', () => {
    const r = new Simulation(failed).send(runState('FINISHED'));
    expect(failing(r)).toEqual([{ filter: 'trigger.states', passed: false, actual: 'FINISHED', expected: ['FAILED', 'CRASHED'] }]);
  });

  it('is not edge-triggered: firing stores matching false and the time', () => {
    const r = new Simulation(failed).send(runState('FAILED'));
    expect(r.nextState).toEqual({ matching: false, lastFiredAt: expect.any(Number), triggerVersion: 1 });
    expect(r.subject).toBe('run:llm/r42');
  });
});

describe('RUN_LOG_MATCH', () => {
  const oom = automation({ event: 'RUN_LOG_MATCH', lineRegex: 'CUDA out of memory' });

  it('gives the first matching line', () => {
    const r = new Simulation(oom).send(log('step 1', 'RuntimeError: CUDA out of memory (1)', 'CUDA out of memory (2)'));
    expect(r.fires).toBe(true);
    expect(r.logLine).toBe('RuntimeError: CUDA out of memory (1)');
  });

  it('is edge-triggered per run: a log without a match re-arms it', () => {
    const sim = new Simulation(oom);
    expect(sim.send(log('CUDA out of memory')).fires).toBe(true);
    expect(sim.send(log('CUDA out of memory')).suppressedBy).toBe('edge');
    const quiet = sim.send(log('all good'));
    expect(quiet.nextState).toMatchObject({ matching: false });
    expect(failing(quiet)).toEqual([{ filter: 'trigger.lineRegex', passed: false, actual: 'none of 1 line(s) matches', expected: 'CUDA out of memory' }]);
    expect(sim.send(log('CUDA out of memory')).fires).toBe(true);
  });

  it('an empty log does not match', () => {
    const r = new Simulation(oom).send(log());
    expect(r.conditionMet).toBe(false);
    expect(r.logLine).toBeUndefined();
  });

  it('does not scan the lines of an event another filter already refused', () => {
    const r = new Simulation(oom).send({ ...log('CUDA out of memory'), project: 'other' });
    expect(r.logLine).toBeUndefined();
    expect(verdict(r, 'trigger.lineRegex')).toBeUndefined();
    expect(failing(r).map((f) => f.filter)).toEqual(['scope']);
  });
});

describe('ALERT', () => {
  const alert = (level: 'INFO' | 'WARN' | 'ERROR', title: string, over: Partial<HeraldEvent> = {}) => event('ALERT', { level, title, ...over });

  it('fires for the listed levels only', () => {
    const a = automation({ event: 'ALERT', levels: ['WARN', 'ERROR'] });
    expect(new Simulation(a).send(alert('ERROR', 'x')).fires).toBe(true);
    expect(new Simulation(a).send(alert('WARN', 'x')).fires).toBe(true);
    const info = new Simulation(a).send(alert('INFO', 'x'));
    expect(failing(info)).toEqual([{ filter: 'trigger.levels', passed: false, actual: 'INFO', expected: ['WARN', 'ERROR'] }]);
  });

  it('matches the title regex when given', () => {
    const a = automation({ event: 'ALERT', levels: ['ERROR'], titleRegex: '^GPU' });
    expect(new Simulation(a).send(alert('ERROR', 'GPU overheating')).fires).toBe(true);
    const r = new Simulation(a).send(alert('ERROR', 'disk full'));
    expect(failing(r)).toEqual([{ filter: 'trigger.titleRegex', passed: false, actual: 'disk full', expected: '^GPU' }]);
  });

  it('fires on every matching alert (not edge-triggered); a cooldown suppresses repeats without changing state', () => {
    const plain = new Simulation(automation({ event: 'ALERT', levels: ['ERROR'] }));
    expect([plain.send(alert('ERROR', 'a')).fires, plain.send(alert('ERROR', 'a')).fires]).toEqual([true, true]);
    const cooled = new Simulation(automation({ event: 'ALERT', levels: ['ERROR'] }, { cooldownSeconds: 60 }));
    expect(cooled.send(alert('ERROR', 'a')).fires).toBe(true);
    const second = cooled.send(alert('ERROR', 'a'), 30_000);
    expect(second).toMatchObject({ conditionMet: true, fires: false, suppressedBy: 'cooldown', nextState: null });
    expect(cooled.send(alert('ERROR', 'a'), 30_000).fires).toBe(true);
  });

  it('keys cooldown by run when the alert has one, else by project', () => {
    const a = automation({ event: 'ALERT', levels: ['ERROR'] });
    expect(subjectOf(a, alert('ERROR', 'x', { run }))).toBe('run:llm/r42');
    expect(subjectOf(a, alert('ERROR', 'x'))).toBe('project:llm');
  });

  it('a run filter on an alert without a run fails', () => {
    const a = automation({ event: 'ALERT', levels: ['ERROR'] }, { runFilter: { nameRegex: '^bert' } });
    const r = new Simulation(a).send(alert('ERROR', 'x'));
    expect(failing(r)).toEqual([{ filter: 'runFilter.nameRegex', passed: false, actual: null, expected: '^bert' }]);
    expect(new Simulation(a).send(alert('ERROR', 'x', { run })).fires).toBe(true);
  });
});

describe('artifact triggers', () => {
  it('CREATE_ARTIFACT fires on every such event, keyed by collection', () => {
    const a = automation({ event: 'CREATE_ARTIFACT' });
    const r = new Simulation(a).send(artifactEvent('CREATE_ARTIFACT'));
    expect(r.fires).toBe(true);
    expect(r.subject).toBe('collection:llm/bert-classifier');
    expect(r.metric).toBeUndefined();
  });

  it('aliasRegex against the alias', () => {
    const a = automation({ event: 'ADD_ARTIFACT_ALIAS', aliasRegex: '^prod$' });
    expect(new Simulation(a).send(artifactEvent('ADD_ARTIFACT_ALIAS', { alias: 'prod' })).fires).toBe(true);
    const r = new Simulation(a).send(artifactEvent('ADD_ARTIFACT_ALIAS', { alias: 'production' }));
    expect(failing(r)).toEqual([{ filter: 'trigger.aliasRegex', passed: false, actual: 'production', expected: '^prod$' }]);
  });

  it('tagRegex against the tag', () => {
    const a = automation({ event: 'REMOVE_ARTIFACT_TAG', tagRegex: 'candidate' });
    expect(new Simulation(a).send(artifactEvent('REMOVE_ARTIFACT_TAG', { tag: 'release-candidate' })).fires).toBe(true);
    const r = new Simulation(a).send(artifactEvent('REMOVE_ARTIFACT_TAG', { tag: 'stable' }));
    expect(failing(r).map((f) => [f.filter, f.actual])).toEqual([['trigger.tagRegex', 'stable']]);
  });

  it('collectionRegex against artifact.collection, alongside the alias', () => {
    const a = automation({ event: 'ADD_ARTIFACT_ALIAS', aliasRegex: '^prod$', collectionRegex: '^gpt-' });
    const r = new Simulation(a).send(artifactEvent('ADD_ARTIFACT_ALIAS', { alias: 'prod' }));
    expect(failing(r)).toEqual([{ filter: 'trigger.collectionRegex', passed: false, actual: 'bert-classifier', expected: '^gpt-' }]);
    const ok = new Simulation(automation({ event: 'LINK_ARTIFACT', collectionRegex: 'bert' })).send(artifactEvent('LINK_ARTIFACT'));
    expect(ok.fires).toBe(true);
  });

  it('collection tags: tagRegex against the tag, collectionRegex against collection.name, keyed by collection', () => {
    const a = automation({ event: 'ADD_COLLECTION_TAG', tagRegex: '^reviewed$', collectionRegex: '^llm' });
    const tagged = (tag: string, name = 'llm-models') => event('ADD_COLLECTION_TAG', { collection: { name, type: 'model' }, tag });
    expect(new Simulation(a).send(tagged('reviewed')).fires).toBe(true);
    expect(failing(new Simulation(a).send(tagged('draft')))).toEqual([{ filter: 'trigger.tagRegex', passed: false, actual: 'draft', expected: '^reviewed$' }]);
    expect(failing(new Simulation(a).send(tagged('reviewed', 'cv-models')))).toEqual([
      { filter: 'trigger.collectionRegex', passed: false, actual: 'cv-models', expected: '^llm' },
    ]);
    expect(new Simulation(a).send(event('REMOVE_COLLECTION_TAG', { collection: { name: 'llm-models' }, tag: 'reviewed' })).fires).toBe(false);
    expect(subjectOf(a, tagged('reviewed'))).toBe('collection:llm/llm-models');
  });

  it('does not listen to another artifact event type', () => {
    const a = automation({ event: 'ADD_ARTIFACT_ALIAS', aliasRegex: 'prod' });
    const r = new Simulation(a).send(artifactEvent('REMOVE_ARTIFACT_ALIAS', { alias: 'prod' }));
    expect(failing(r)).toEqual([{ filter: 'event.type', passed: false, actual: 'REMOVE_ARTIFACT_ALIAS', expected: 'ADD_ARTIFACT_ALIAS' }]);
  });

  it('ignores a run filter (refused at save for artifact triggers)', () => {
    const a = automation({ event: 'CREATE_ARTIFACT' }, { runFilter: { user: 'bob' } });
    expect(new Simulation(a).send(artifactEvent('CREATE_ARTIFACT')).fires).toBe(true);
  });
});

describe('run filter', () => {
  const filtered = (runFilter: RunFilter) =>
    automation({ event: 'RUN_METRIC_THRESHOLD', metric: 'loss', agg: 'LAST', window: 1, op: '>', threshold: 5 }, { runFilter });

  it('nameRegex against run.name and user against the author', () => {
    const a = filtered({ nameRegex: '^bert-', user: 'alice' });
    expect(new Simulation(a).send(metrics({ loss: 9 })).fires).toBe(true);
    const otherRun = new Simulation(a).send(metrics({ loss: 9 }, { run: { id: 'r1', name: 'gpt-small' } }));
    expect(failing(otherRun)).toEqual([{ filter: 'runFilter.nameRegex', passed: false, actual: 'gpt-small', expected: '^bert-' }]);
    const otherUser = new Simulation(a).send(metrics({ loss: 9 }, { author: 'bob' }));
    expect(failing(otherUser)).toEqual([{ filter: 'runFilter.user', passed: false, actual: 'bob', expected: 'alice' }]);
  });

  it('a missing author fails the user filter', () => {
    const r = new Simulation(filtered({ user: 'alice' })).send(metrics({ loss: 9 }, { author: undefined }));
    expect(failing(r)).toEqual([{ filter: 'runFilter.user', passed: false, actual: null, expected: 'alice' }]);
  });

  it('an event refused by the run filter leaves the edge as it is', () => {
    const sim = new Simulation(filtered({ user: 'alice' }));
    expect(sim.send(metrics({ loss: 9 })).fires).toBe(true);
    expect(sim.send(metrics({ loss: 1 }, { author: 'bot' })).nextState).toBeNull();
    expect(sim.send(metrics({ loss: 9 })).suppressedBy).toBe('edge');
  });
});

describe('attribute filter', () => {
  const filtered = (filter: Record<string, unknown>, trigger: Trigger = { event: 'RUN_METRIC_THRESHOLD', metric: 'loss', agg: 'LAST', window: 1, op: '>', threshold: 5 }) =>
    automation(trigger, { filter });
  const context = { group: 'sweep-7', tags: ['baseline'], config: { lr: 0.001 } };

  it('lets through only events whose run context passes, after the trigger', () => {
    const compiled = compileAutomation(filtered({ 'run.config.lr': { $lt: 0.01 }, 'run.tags': { $contains: 'baseline' } }));
    const base = { windows: { loss: [9] }, previousRunState: null, state: null, nowMs: 1 };
    expect(decide(compiled, metrics({ loss: 9 }), { ...base, runContext: context }).fires).toBe(true);
    expect(decide(compiled, metrics({ loss: 9 }), { ...base, runContext: { ...context, config: { lr: 0.1 } } }).fires).toBe(false);
    expect(decide(compiled, metrics({ loss: 9 }), { ...base, runContext: { ...context, tags: [] } }).fires).toBe(false);
    expect(decide(compiled, metrics({ loss: 9 }), { ...base, runContext: null }).fires).toBe(false);
  });

  it('explains each clause in the verdicts, even when the trigger does not hold', () => {
    const compiled = compileAutomation(filtered({ 'run.config.lr': { $lt: 0.0001 }, author: 'alice' }));
    const result = evaluate(compiled, metrics({ loss: 1 }), { windows: { loss: [1] }, previousRunState: null, state: null, nowMs: 1, runContext: context });
    expect(result.fires).toBe(false);
    expect(result.filters.filter((f) => f.filter.startsWith('filter.'))).toEqual([
      { filter: 'filter.run.config.lr.$lt', passed: false, actual: 0.001, expected: { $lt: 0.0001 } },
      { filter: 'filter.author', passed: true, actual: 'alice', expected: { $eq: 'alice' } },
    ]);
  });

  it('an event the filter refuses while the trigger holds leaves the edge as it is; the trigger falling re-arms it (the filter comes after)', () => {
    const sim = new Simulation(filtered({ author: 'alice' }));
    expect(sim.send(metrics({ loss: 9 })).fires).toBe(true);
    expect(sim.send(metrics({ loss: 9 }, { author: 'bot' })).nextState).toBeNull();
    expect(sim.send(metrics({ loss: 9 })).suppressedBy).toBe('edge');
    expect(sim.send(metrics({ loss: 1 }, { author: 'bot' })).nextState).toMatchObject({ matching: false });
    expect(sim.send(metrics({ loss: 9 }, { author: 'bot' })).fires).toBe(false);
    expect(sim.send(metrics({ loss: 9 })).fires).toBe(true);
  });

  it('applies to artifact and alert triggers too', () => {
    const artifact = compileAutomation(filtered({ 'artifact.metadata.acc': { $gte: 0.9 } }, { event: 'CREATE_ARTIFACT' }));
    const ctx = { windows: {}, previousRunState: null, state: null, nowMs: 1 };
    const withAcc = (acc: number) => artifactEvent('CREATE_ARTIFACT', { artifact: { name: 'm', version: 'v1', collection: 'c', metadata: { acc } } });
    expect(decide(artifact, withAcc(0.95), ctx).fires).toBe(true);
    expect(decide(artifact, withAcc(0.5), ctx).fires).toBe(false);
    const alert = compileAutomation(filtered({ 'alert.level': { $in: ['ERROR'] } }, { event: 'ALERT', levels: ['WARN', 'ERROR'] }));
    expect(decide(alert, event('ALERT', { title: 't', level: 'ERROR' }), ctx).fires).toBe(true);
    expect(decide(alert, event('ALERT', { title: 't', level: 'WARN' }), ctx).fires).toBe(false);
  });

  it('compiles to nothing for an automation without one', () => {
    expect(compileAutomation(automation(belowAverage)).attributeFilter).toBeNull();
    expect(() => compileAutomation(filtered({ nope: 1 }))).toThrow(/filter filter.nope/);
  });
});

describe('RUN_STALE', () => {
  const stale = (staleSeconds: number) => event('RUN_STALE', { run: { ...run, state: 'RUNNING' }, lastSeenAt: '2026-11-22T07:50:00.000Z', staleSeconds });

  it('fires for the RUN_STALE event of its own silence length, every time (not edge-triggered), under its run filter', () => {
    const a = automation({ event: 'RUN_STALE', staleSeconds: 600 }, { runFilter: { nameRegex: '^bert' } });
    const sim = new Simulation(a);
    expect(sim.send(stale(600)).fires).toBe(true);
    expect(sim.send(stale(600)).fires).toBe(true);
    expect(failing(sim.send(stale(60)))).toEqual([{ filter: 'trigger.staleSeconds', passed: false, actual: 60, expected: 600 }]);
    expect(new Simulation(a).send(event('RUN_STALE', { run: { id: 'r1', name: 'gpt' }, lastSeenAt: '2026-11-22T07:50:00.000Z', staleSeconds: 600 })).fires).toBe(false);
    expect(compileAutomation(a).listensTo).toBe('RUN_STALE');
    expect(subjectOf(a, stale(600))).toBe('run:llm/r42');
  });

  it('the index lists the silence lengths watched per project (team scope in every project)', () => {
    const index = new AutomationIndex([
      compileAutomation(automation({ event: 'RUN_STALE', staleSeconds: 600 }, { id: 'a1', scope: { type: 'project', name: 'llm' } })),
      compileAutomation(automation({ event: 'RUN_STALE', staleSeconds: 60 }, { id: 'a2', scope: { type: 'team' } })),
      compileAutomation(automation({ event: 'RUN_STALE', staleSeconds: 600 }, { id: 'a3', scope: { type: 'project', name: 'llm' } })),
      compileAutomation(automation(belowAverage, { id: 'a4' })),
    ]);
    expect([...index.staleSecondsFor('llm')].sort((x, y) => x - y)).toEqual([60, 600]);
    expect(index.staleSecondsFor('cv')).toEqual([60]);
    index.remove('a2');
    expect(index.staleSecondsFor('cv')).toEqual([]);
  });
});

describe('RUN_GROUP_FINISHED', () => {
  const a = compileAutomation(automation({ event: 'RUN_GROUP_FINISHED', groupRegex: '^sweep-' }, { cooldownSeconds: 0 }));
  const report = (id: string, state: RunState, group = 'sweep-1') => event('RUN_STATE', { run: { id, name: id, state, group } });
  const counts = (running: number) => ({ total: 3, running, finished: 3 - running, failed: 1 });
  /** Drives one group's edge through state reports, as ingestion does (counts after each report). */
  function drive(steps: [HeraldEvent, number][]): boolean[] {
    let state: SubjectState | null = null;
    return steps.map(([e, running], i) => {
      const d = decide(a, e, { windows: {}, previousRunState: null, state, nowMs: 1000 + i, group: counts(running) });
      if (d.nextState) state = d.nextState;
      return d.fires;
    });
  }

  it('fires when a final state leaves no run of the group RUNNING, once, until a run reports RUNNING again', () => {
    expect(
      drive([
        [report('r1', 'RUNNING'), 3],
        [report('r1', 'FINISHED'), 2],
        [report('r2', 'FAILED'), 1],
        [report('r3', 'FINISHED'), 0],
        [report('r4', 'KILLED'), 0],
        [report('r4', 'RUNNING'), 1],
        [report('r4', 'FINISHED'), 0],
      ]),
    ).toEqual([false, false, false, true, false, false, true]);
  });

  it('keys its edge by group, reads the group the run keeps, and skips runs without one or of another group', () => {
    expect(subjectOf(automation({ event: 'RUN_GROUP_FINISHED' }), report('r1', 'FINISHED'))).toBe('run:llm/r1');
    const e = event('RUN_STATE', { run: { id: 'r1', name: 'r1', state: 'FINISHED' } });
    const ctx = { windows: {}, previousRunState: null, state: null, nowMs: 1, group: counts(0) };
    expect(decide(a, e, ctx).fires).toBe(false);
    const kept = evaluate(a, e, { ...ctx, runContext: { group: 'sweep-9', tags: null, config: null } });
    expect(kept.fires).toBe(true);
    expect(kept.subject).toBe('group:llm/sweep-9');
    const other = evaluate(a, report('r1', 'FINISHED', 'grid-1'), ctx);
    expect(other.fires).toBe(false);
    expect(other.nextState).toBeNull();
    expect(failing(other)).toEqual([{ filter: 'trigger.groupRegex', passed: false, actual: 'grid-1', expected: '^sweep-' }]);
    expect(failing(evaluate(a, report('r1', 'FINISHED'), { ...ctx, group: counts(2) }))).toEqual([{ filter: 'group.running', passed: false, actual: 2, expected: 0 }]);
  });

  it('defaults to no cooldown and listens to RUN_STATE', () => {
    expect(a.listensTo).toBe('RUN_STATE');
    expect(effectiveCooldownSeconds({ event: 'RUN_GROUP_FINISHED' }, null)).toBe(0);
  });
});

describe('scope', () => {
  const withScope = (scope: Scope) => automation({ event: 'CREATE_ARTIFACT' }, { scope });
  const fires = (scope: Scope, over: Partial<HeraldEvent>) => new Simulation(withScope(scope)).send(artifactEvent('CREATE_ARTIFACT', over));

  it('project: the same project name, case-sensitive', () => {
    expect(fires({ type: 'project', name: 'llm' }, {}).fires).toBe(true);
    const r = fires({ type: 'project', name: 'llm' }, { project: 'LLM' });
    expect(failing(r)).toEqual([{ filter: 'scope', passed: false, actual: 'LLM', expected: 'llm' }]);
  });

  it('project scope also matches a registry event of that project', () => {
    expect(fires({ type: 'project', name: 'llm' }, { registry: true }).fires).toBe(true);
  });

  it('registry: only events flagged registry of that project', () => {
    const scope: Scope = { type: 'registry', name: 'model-registry' };
    expect(fires(scope, { project: 'model-registry', registry: true }).fires).toBe(true);
    const r = fires(scope, { project: 'model-registry' });
    expect(failing(r)).toEqual([
      { filter: 'scope', passed: false, actual: { project: 'model-registry', registry: false }, expected: { project: 'model-registry', registry: true } },
    ]);
    expect(fires(scope, { project: 'llm', registry: true }).fires).toBe(false);
  });

  it('team: every project', () => {
    expect(fires({ type: 'team' }, { project: 'anything' }).fires).toBe(true);
    expect(fires({ type: 'team' }, { project: 'model-registry', registry: true }).fires).toBe(true);
  });

  it('another project leaves the edge of a metric trigger as it is', () => {
    const a = automation({ event: 'RUN_METRIC_THRESHOLD', metric: 'loss', agg: 'LAST', window: 1, op: '>', threshold: 5 });
    const state = { matching: true, lastFiredAt: 0, triggerVersion: 1 };
    const r = evaluate(compileAutomation(a), metrics({ loss: 1 }, { project: 'other' }), { windows: { loss: [1] }, previousRunState: null, state, nowMs: 5 });
    expect(r.nextState).toBeNull();
    expect(r.metric).toBeUndefined();
  });
});

describe('stored state', () => {
  const high = automation({ event: 'RUN_METRIC_THRESHOLD', metric: 'loss', agg: 'LAST', window: 1, op: '>', threshold: 5 }, { cooldownSeconds: 86400, triggerVersion: 2 });
  const at = (state: SubjectState | null, nowMs = 10_000) =>
    evaluate(compileAutomation(high), metrics({ loss: 9 }), { windows: { loss: [9] }, previousRunState: null, state, nowMs });

  it('a state of another trigger version counts as none: edge and cooldown reset', () => {
    const r = at({ matching: true, lastFiredAt: 9_000, triggerVersion: 1 });
    expect(r.fires).toBe(true);
    expect(r.nextState).toEqual({ matching: true, lastFiredAt: 10_000, triggerVersion: 2 });
  });

  it('the same version keeps both', () => {
    expect(at({ matching: true, lastFiredAt: 9_000, triggerVersion: 2 }).suppressedBy).toBe('edge');
    expect(at({ matching: false, lastFiredAt: 9_000, triggerVersion: 2 }).suppressedBy).toBe('cooldown');
  });

  it('a falling edge keeps the last fired time', () => {
    const r = evaluate(compileAutomation(high), metrics({ loss: 1 }), {
      windows: { loss: [1] },
      previousRunState: null,
      state: { matching: true, lastFiredAt: 9_000, triggerVersion: 2 },
      nowMs: 10_000,
    });
    expect(r.nextState).toEqual({ matching: false, lastFiredAt: 9_000, triggerVersion: 2 });
  });

  it('a cooldown of 0 never suppresses, even if the clock went back', () => {
    const a = automation({ event: 'ALERT', levels: ['ERROR'] });
    const r = evaluate(compileAutomation(a), event('ALERT', { level: 'ERROR', title: 't' }), {
      windows: {},
      previousRunState: null,
      state: { matching: false, lastFiredAt: 20_000, triggerVersion: 1 },
      nowMs: 10_000,
    });
    expect(r.fires).toBe(true);
  });
});

describe('compileAutomation', () => {
  it('throws naming the field when a regex does not compile', () => {
    expect(() => compileAutomation(automation({ event: 'RUN_LOG_MATCH', lineRegex: '(?=x)' }))).toThrow(
      'Automation aut_1: trigger.lineRegex is not a valid RE2 pattern: invalid perl operator: (?=',
    );
    expect(() => compileAutomation(automation({ event: 'RUN_STATE', states: ['FAILED'] }, { runFilter: { nameRegex: '(a)\\1' } }))).toThrow(
      /runFilter\.nameRegex/,
    );
  });

  it('records the event type each trigger listens to', () => {
    const listens = (trigger: Trigger) => compileAutomation(automation(trigger)).listensTo;
    expect(listens({ event: 'RUN_METRIC_ZSCORE', metric: 'm', window: 2, threshold: 1, direction: 'ANY' })).toBe('RUN_METRICS');
    expect(listens({ event: 'RUN_LOG_MATCH', lineRegex: 'x' })).toBe('RUN_LOG');
    expect(listens({ event: 'RUN_STATE', states: ['FAILED'] })).toBe('RUN_STATE');
    expect(listens({ event: 'ALERT', levels: ['INFO'] })).toBe('ALERT');
    expect(listens({ event: 'ADD_ARTIFACT_TAG', tagRegex: 'x' })).toBe('ADD_ARTIFACT_TAG');
  });
});

describe('subjectOf', () => {
  const metric = automation({ event: 'RUN_METRIC_THRESHOLD', metric: 'm', op: 'NON_FINITE' });

  it('run triggers key by project and run', () => {
    expect(subjectOf(metric, metrics({ m: 1 }))).toBe('run:llm/r42');
  });

  it('escapes a slash in the project so two projects cannot share a subject', () => {
    const a = subjectOf(metric, metrics({ m: 1 }, { project: 'a/b', run: { id: 'c', name: 'n' } }));
    const b = subjectOf(metric, metrics({ m: 1 }, { project: 'a', run: { id: 'b/c', name: 'n' } }));
    expect(a).toBe('run:a%2Fb/c');
    expect(b).toBe('run:a/b/c');
  });
});

describe('AutomationIndex', () => {
  const compiled = (id: string, trigger: Trigger, scope: Scope = { type: 'project', name: 'llm' }) =>
    compileAutomation(automation(trigger, { id, scope }));
  const loss = compiled('a_loss', { event: 'RUN_METRIC_THRESHOLD', metric: 'loss', agg: 'AVERAGE', window: 5, op: '<', threshold: 1 });
  const accTeam = compiled('a_acc', { event: 'RUN_METRIC_ZSCORE', metric: 'acc', window: 10, threshold: 2, direction: 'ANY' }, { type: 'team' });
  const otherProject = compiled('a_other', { event: 'RUN_METRIC_THRESHOLD', metric: 'loss', agg: 'LAST', window: 50, op: '>', threshold: 1 }, { type: 'project', name: 'cv' });
  const logs = compiled('a_log', { event: 'RUN_LOG_MATCH', lineRegex: 'x' });
  const state = compiled('a_state', { event: 'RUN_STATE', states: ['FAILED'] });
  const alias = compiled('a_alias', { event: 'ADD_ARTIFACT_ALIAS', aliasRegex: 'prod' }, { type: 'registry', name: 'reg' });
  const ids = (list: readonly CompiledAutomation[]) => list.map((c) => c.automation.id);

  it('gives the automations listening to the event type, in scope, carrying their metric', () => {
    const index = new AutomationIndex([loss, accTeam, otherProject, logs, state, alias]);
    expect(ids(index.candidates(metrics({ loss: 1 })))).toEqual(['a_loss']);
    expect(ids(index.candidates(metrics({ loss: 1, acc: 2 })))).toEqual(['a_loss', 'a_acc']);
    expect(ids(index.candidates(metrics({ loss: 1, acc: 2 }, { project: 'cv' })))).toEqual(['a_acc', 'a_other']);
    expect(ids(index.candidates(metrics({ acc: 2 }, { project: 'elsewhere' })))).toEqual(['a_acc']);
    expect(index.candidates(metrics({ loss: 1 }, { project: 'elsewhere' }))).toEqual([]);
    expect(ids(index.candidates(log('x')))).toEqual(['a_log']);
    expect(index.candidates({ ...log('x'), project: 'cv' })).toEqual([]);
    expect(ids(index.candidates(runState('FAILED')))).toEqual(['a_state']);
    expect(index.candidates(artifactEvent('ADD_ARTIFACT_TAG', { tag: 't' }))).toEqual([]);
    expect(index.candidates(event('ALERT', { level: 'INFO', title: 't' }))).toEqual([]);
  });

  it('gives registry-scoped automations only for registry events of their project', () => {
    const projectAlias = compiled('a_project_alias', { event: 'ADD_ARTIFACT_ALIAS', aliasRegex: 'prod' }, { type: 'project', name: 'reg' });
    const teamAlias = compiled('a_team_alias', { event: 'ADD_ARTIFACT_ALIAS', aliasRegex: 'prod' }, { type: 'team' });
    const index = new AutomationIndex([teamAlias, alias, projectAlias]);
    const aliasEvent = (project: string, registry: boolean) => artifactEvent('ADD_ARTIFACT_ALIAS', { alias: 'prod', project, registry });
    expect(ids(index.candidates(aliasEvent('reg', true)))).toEqual(['a_team_alias', 'a_alias', 'a_project_alias']);
    expect(ids(index.candidates(aliasEvent('reg', false)))).toEqual(['a_team_alias', 'a_project_alias']);
    expect(ids(index.candidates(aliasEvent('other', true)))).toEqual(['a_team_alias']);
  });

  it('leaves out only automations whose evaluation would be quiet and change no state; decide agrees with evaluate', () => {
    // Every trigger kind, in every scope, against events of every type from several projects:
    // evaluating all automations of the event type (as before the index narrowed by project
    // and metric) must fire, suppress and store state only for the candidates.
    const triggers: Trigger[] = [
      { event: 'RUN_METRIC_THRESHOLD', metric: 'loss', agg: 'AVERAGE', window: 2, op: '<', threshold: 0.5 },
      { event: 'RUN_METRIC_THRESHOLD', metric: 'acc', op: 'NON_FINITE' },
      { event: 'RUN_METRIC_CHANGE', metric: 'loss', agg: 'LAST', window: 1, priorWindow: 1, changeType: 'ABSOLUTE', direction: 'ANY', amount: 0.1 },
      { event: 'RUN_METRIC_ZSCORE', metric: 'acc', window: 3, threshold: 1, direction: 'ANY' },
      { event: 'RUN_STATE', states: ['FAILED', 'FINISHED'] },
      { event: 'RUN_LOG_MATCH', lineRegex: 'oom' },
      { event: 'ALERT', levels: ['ERROR'] },
      { event: 'ADD_ARTIFACT_ALIAS', aliasRegex: 'prod' },
      { event: 'CREATE_ARTIFACT' },
    ];
    const scopes: Scope[] = [{ type: 'team' }, { type: 'project', name: 'llm' }, { type: 'project', name: 'cv' }, { type: 'registry', name: 'llm' }];
    const all: CompiledAutomation[] = [];
    triggers.forEach((trigger, t) =>
      scopes.forEach((scope, s) => {
        const isArtifact = trigger.event === 'ADD_ARTIFACT_ALIAS' || trigger.event === 'CREATE_ARTIFACT';
        if (scope.type === 'registry' && !isArtifact) return;
        all.push(compileAutomation(automation(trigger, { id: `a_${t}_${s}`, scope, cooldownSeconds: t % 2 === 0 ? 0 : 3600 })));
      }),
    );
    const index = new AutomationIndex(all);
    const sizes = windowSizes(all.map((c) => c.automation));
    const states = new Map<string, SubjectState>();
    const windows = new Map<string, MetricWindows>();
    const runStates = new Map<string, RunState>();
    const values = [0.9, 0.2, 0.1, 'NaN', 0.8, 0.3, 'Infinity', 0.25] as const;
    let now = 1_000_000;
    let checked = 0;
    for (let i = 0; i < 160; i++) {
      const project = ['llm', 'cv', 'other'][i % 3];
      const runId = `r${i % 2}`;
      const over: Partial<HeraldEvent> = { project, registry: i % 5 === 0, run: { id: runId, name: 'bert' } };
      const carried: Record<string, PostedMetricValue> = {};
      if (i % 4 !== 1) carried.loss = values[i % values.length];
      if (i % 3 !== 2) carried.acc = values[(i * 3) % values.length];
      const events = [
        metrics(carried, over),
        event('RUN_STATE', { ...over, run: { id: runId, name: 'bert', state: i % 2 === 0 ? 'FAILED' : 'RUNNING' } }),
        event('RUN_LOG', { ...over, lines: [i % 2 === 0 ? 'oom' : 'ok'] }),
        event('ALERT', { ...over, level: 'ERROR', title: 't' }),
        artifactEvent('ADD_ARTIFACT_ALIAS', { ...over, alias: 'prod' }),
        artifactEvent('CREATE_ARTIFACT', over),
      ];
      for (const e of events) {
        now += 600_000;
        const runKey = `${e.project}/${runId}`;
        const runWindows = appendMetrics(windows.get(runKey) ?? {}, e.metrics, sizes).windows;
        windows.set(runKey, runWindows);
        const previousRunState = runStates.get(runKey) ?? null;
        if (e.type === 'RUN_STATE') runStates.set(runKey, e.run!.state!);
        const candidates = new Set(index.candidates(e).map((c) => c.automation.id));
        for (const compiled of all.filter((c) => c.listensTo === e.type)) {
          const key = `${compiled.automation.id} ${subjectOf(compiled.automation, e)}`;
          const context = { windows: runWindows, previousRunState, state: states.get(key) ?? null, nowMs: now };
          const result = evaluate(compiled, e, context);
          const { filters, subject, ...decided } = result;
          // decide carries the metric and the log line only when it fires (rendering needs them then).
          if (!decided.fires) {
            delete decided.metric;
            delete decided.logLine;
          }
          expect(decide(compiled, e, context)).toStrictEqual(decided);
          expect(subject).toBe(subjectOf(compiled.automation, e));
          // A met condition is one whose every filter passed.
          if (result.conditionMet) expect(filters.every((f) => f.passed)).toBe(true);
          if (result.nextState) states.set(key, result.nextState);
          if (candidates.has(compiled.automation.id)) continue;
          checked++;
          expect({ id: compiled.automation.id, fires: result.fires, suppressedBy: result.suppressedBy, nextState: result.nextState }).toEqual({
            id: compiled.automation.id,
            fires: false,
            suppressedBy: null,
            nextState: null,
          });
        }
      }
    }
    // The index did leave automations out, and the ones it kept did fire.
    expect(checked).toBeGreaterThan(1000);
    expect([...states.values()].some((s) => s.lastFiredAt !== null)).toBe(true);
  });

  it('upsert replaces in place or appends; remove drops', () => {
    const index = new AutomationIndex([loss, logs]);
    const changed = compileAutomation(automation({ event: 'RUN_STATE', states: ['FAILED'] }, { id: 'a_loss' }));
    index.upsert(changed);
    expect(ids(index.all())).toEqual(['a_loss', 'a_log']);
    expect(index.candidates(metrics({ loss: 1 }))).toEqual([]);
    expect(ids(index.candidates(runState('FAILED')))).toEqual(['a_loss']);
    index.upsert(state);
    expect(ids(index.candidates(runState('FAILED')))).toEqual(['a_loss', 'a_state']);
    index.remove('a_loss');
    index.remove('unknown');
    expect(ids(index.all())).toEqual(['a_log', 'a_state']);
    expect(ids(index.candidates(runState('FAILED')))).toEqual(['a_state']);
  });

  it('window sizes per project count project and team automations only', () => {
    const index = new AutomationIndex([loss, accTeam, otherProject, logs]);
    expect(index.windowSizesFor('llm')).toEqual(new Map([['loss', 5], ['acc', 11]]));
    expect(index.windowSizesFor('cv')).toEqual(new Map([['acc', 11], ['loss', 50]]));
    expect(index.windowSizesFor('none')).toEqual(new Map([['acc', 11]]));
  });

  it('window sizes follow upserts and removals, and callers cannot change the cached ones', () => {
    const index = new AutomationIndex([loss]);
    index.windowSizesFor('llm').set('loss', 999);
    expect(index.windowSizesFor('llm').get('loss')).toBe(5);
    index.upsert(compiled('a_big', { event: 'RUN_METRIC_CHANGE', metric: 'loss', agg: 'MIN', window: 10, priorWindow: 20, changeType: 'ABSOLUTE', direction: 'ANY', amount: 1 }));
    expect(index.windowSizesFor('llm').get('loss')).toBe(30);
    index.remove('a_big');
    expect(index.windowSizesFor('llm').get('loss')).toBe(5);
  });
});

describe('why a candidate did not fire (notFired), the same from decide and evaluate', () => {
  const threshold: Trigger = { event: 'RUN_METRIC_THRESHOLD', metric: 'loss', agg: 'AVERAGE', window: 3, op: '<', threshold: 0.5 };
  const both = (a: MatchableAutomation, e: HeraldEvent, windows: MetricWindows = {}, state: SubjectState | null = null) => {
    const compiled = compileAutomation(a);
    const context = { windows, previousRunState: null, state, nowMs: 0 };
    const decided = decide(compiled, e, context);
    const evaluated = evaluate(compiled, e, context);
    expect(evaluated.notFired).toEqual(decided.notFired);
    return decided;
  };

  it('window: how many values of how many', () => {
    expect(both(automation(threshold), metrics({ loss: 0.1 }), { loss: [0.1, 0.1] }).notFired).toEqual({ reason: 'window', have: 2, need: 3 });
  });

  it('filter: the scope or the run filter, before the window', () => {
    expect(both(automation(threshold), metrics({ loss: 0.1 }, { project: 'cv' }), { loss: [0.1] }).notFired).toEqual({ reason: 'filter', filter: 'scope' });
    const filtered = automation(threshold, { runFilter: { nameRegex: '^gpt-' } });
    expect(both(filtered, metrics({ loss: 0.1 }), { loss: [0.1] }).notFired).toEqual({ reason: 'filter', filter: 'runFilter' });
  });

  it('condition: evaluated and false, also when the edge falls; nothing when it fires, is held back or does not apply', () => {
    expect(both(automation(threshold), metrics({ loss: 0.9 }), { loss: [0.9, 0.9, 0.9] }).notFired).toEqual({ reason: 'condition' });
    const high: SubjectState = { matching: true, lastFiredAt: 0, triggerVersion: 1 };
    const falling = both(automation(threshold), metrics({ loss: 0.9 }), { loss: [0.9, 0.9, 0.9] }, high);
    expect(falling.nextState).toMatchObject({ matching: false });
    expect(falling.notFired).toEqual({ reason: 'condition' });
    expect(both(automation(threshold), metrics({ loss: 0.1 }), { loss: [0.1, 0.1, 0.1] }).notFired).toBeUndefined();
    expect(both(automation(threshold), metrics({ loss: 0.1 }), { loss: [0.1, 0.1, 0.1] }, high).suppressedBy).toBe('edge');
    expect(both(automation(threshold), metrics({ acc: 0.1 }), { loss: [0.1, 0.1, 0.1] }).notFired).toBeUndefined();
    expect(both(automation({ event: 'RUN_STATE', states: ['FAILED'] }), runState('RUNNING')).notFired).toEqual({ reason: 'condition' });
  });
});
