import type { MatchableAutomation, Trigger } from '../automations/automation.types';
import { aggregate, aggregateRange, appendMetrics, appendMetricsInPlace, metricValue, valuesNeeded, windowOf, windowSizes } from './metric-windows';

const auto = (trigger: Trigger): MatchableAutomation => ({
  id: 'a', name: 'a', scope: { type: 'team' }, trigger, runFilter: null, cooldownSeconds: 0, triggerVersion: 1,
});

describe('metricValue', () => {
  it('turns the non-finite spellings into numbers', () => {
    expect(metricValue(0.5)).toBe(0.5);
    expect(metricValue('NaN')).toBeNaN();
    expect(metricValue('Infinity')).toBe(Infinity);
    expect(metricValue('-Infinity')).toBe(-Infinity);
  });
});

describe('windowSizes', () => {
  it('takes what each trigger needs, the largest per metric', () => {
    const sizes = windowSizes([
      auto({ event: 'RUN_METRIC_THRESHOLD', metric: 'loss', agg: 'AVERAGE', window: 5, op: '<', threshold: 1 }),
      auto({ event: 'RUN_METRIC_THRESHOLD', metric: 'nan', op: 'NON_FINITE' }),
      auto({ event: 'RUN_METRIC_CHANGE', metric: 'loss', agg: 'MIN', window: 3, priorWindow: 4, changeType: 'ABSOLUTE', direction: 'ANY', amount: 1 }),
      auto({ event: 'RUN_METRIC_ZSCORE', metric: 'acc', window: 10, threshold: 2, direction: 'ANY' }),
      auto({ event: 'RUN_STATE', states: ['FAILED'] }),
    ]);
    expect([...sizes]).toEqual([
      ['loss', 7],
      ['nan', 1],
      ['acc', 11],
    ]);
  });
});

describe('appendMetrics', () => {
  const sizes = new Map([['loss', 3]]);
  it('appends watched metrics in arrival order and trims to the size', () => {
    let windows = {};
    for (const v of [1, 2, 3, 4]) windows = appendMetrics(windows, { loss: v, other: 9 }, sizes).windows;
    expect(windows).toEqual({ loss: [2, 3, 4] });
  });
  it('leaves the input untouched and says when nothing changed', () => {
    const before = { loss: [1] };
    const after = appendMetrics(before, { loss: 'NaN' }, sizes);
    expect(before).toEqual({ loss: [1] });
    expect(after.changed).toBe(true);
    expect(after.windows.loss[1]).toBeNaN();
    expect(appendMetrics(before, { acc: 1 }, sizes)).toEqual({ windows: before, changed: false });
    expect(appendMetrics(before, undefined, sizes).changed).toBe(false);
  });
});

describe('aggregate', () => {
  it.each([
    ['MIN', [3, 1, 2], 1],
    ['MAX', [3, 1, 2], 3],
    ['AVERAGE', [1, 2, 3, 6], 3],
    ['LAST', [1, 2, 7], 7],
    ['MIN', [NaN, 4, Infinity], 4],
    ['AVERAGE', [NaN, 2, -Infinity, 4], 3],
  ] as const)('%s of %j is %p', (agg, values, expected) => {
    expect(aggregate(values, agg)).toBe(expected);
  });
  it('LAST keeps a non-finite value; the others are null with nothing finite', () => {
    expect(aggregate([1, NaN], 'LAST')).toBeNaN();
    expect(aggregate([NaN, Infinity], 'AVERAGE')).toBeNull();
    expect(aggregate([], 'LAST')).toBeNull();
  });
});

describe('appendMetrics, edge cases', () => {
  it('does not touch the input arrays, even when trimming', () => {
    const loss = [1, 2, 3];
    const before = { loss };
    const after = appendMetrics(before, { loss: 4 }, new Map([['loss', 3]]));
    expect(loss).toEqual([1, 2, 3]);
    expect(after.windows.loss).toEqual([2, 3, 4]);
    expect(after.windows.loss).not.toBe(loss);
  });

  it('keeps windows of metrics this event does not carry', () => {
    const after = appendMetrics({ acc: [0.9], loss: [1] }, { loss: 2 }, new Map([['loss', 5], ['acc', 5]]));
    expect(after.windows).toEqual({ acc: [0.9], loss: [1, 2] });
  });

  it('keeps every non-finite spelling as its number', () => {
    let windows = {};
    for (const v of ['NaN', 'Infinity', '-Infinity', 1] as const) windows = appendMetrics(windows, { m: v }, new Map([['m', 10]])).windows;
    expect(windows).toEqual({ m: [NaN, Infinity, -Infinity, 1] });
  });

  it('treats metric names like __proto__ and constructor as plain keys', () => {
    const sizes = new Map([['__proto__', 2], ['constructor', 2]]);
    const posted = JSON.parse('{"__proto__": 1, "constructor": 2}') as Record<string, number>;
    const { windows } = appendMetrics({}, posted, sizes);
    expect(Object.getPrototypeOf(windows)).toBe(Object.prototype);
    expect(Object.hasOwn(windows, '__proto__')).toBe(true);
    expect(windowOf(windows, '__proto__')).toEqual([1]);
    expect(windowOf(windows, 'constructor')).toEqual([2]);
    expect(windowOf({}, 'constructor')).toEqual([]);
  });

  it('ignores a size below 1', () => {
    expect(appendMetrics({}, { m: 1 }, new Map([['m', 0]]))).toEqual({ windows: {}, changed: false });
  });
});

describe('valuesNeeded', () => {
  it('is null for triggers that read no metric', () => {
    expect(valuesNeeded({ event: 'RUN_STATE', states: ['FAILED'] })).toBeNull();
    expect(valuesNeeded({ event: 'RUN_LOG_MATCH', lineRegex: 'x' })).toBeNull();
    expect(valuesNeeded({ event: 'RUN_METRIC_THRESHOLD', metric: 'm', op: 'NON_FINITE' })).toBe(1);
  });
});

describe('aggregate, more', () => {
  it('MAX ignores -Infinity and MIN ignores +Infinity as well', () => {
    expect(aggregate([-Infinity, -5], 'MAX')).toBe(-5);
    expect(aggregate([Infinity, 5], 'MIN')).toBe(5);
  });
  it('handles a large window without spreading limits', () => {
    const values = Array.from({ length: 1000 }, (_, i) => i);
    expect(aggregate(values, 'MAX')).toBe(999);
    expect(aggregate(values, 'AVERAGE')).toBe(499.5);
  });
});

describe('aggregateRange', () => {
  const values = [4, Number.NaN, -2, 7, Infinity, 1, 0.5];

  it('aggregates values[from, to) exactly as aggregate does over that slice', () => {
    for (const agg of ['MIN', 'MAX', 'AVERAGE', 'LAST'] as const) {
      for (let from = 0; from <= values.length; from++) {
        for (let to = from; to <= values.length; to++) {
          expect([agg, from, to, aggregateRange(values, from, to, agg)]).toEqual([agg, from, to, aggregate(values.slice(from, to), agg)]);
        }
      }
    }
  });

  it('keeps Math.min/Math.max and the sum from 0 for signed zeros', () => {
    expect(Object.is(aggregate([0, -0], 'MIN'), -0)).toBe(true);
    expect(Object.is(aggregate([-0, 0], 'MIN'), -0)).toBe(true);
    expect(Object.is(aggregate([-0, 0], 'MAX'), 0)).toBe(true);
    expect(Object.is(aggregate([0, -0], 'MAX'), 0)).toBe(true);
    expect(Object.is(aggregate([-0], 'MAX'), -0)).toBe(true);
    // The sum starts at 0: 0 + -0 is 0, so an average of -0 values is 0.
    expect(Object.is(aggregate([-0, -0], 'AVERAGE'), 0)).toBe(true);
  });

  it('gives null for an empty range or one without finite values', () => {
    expect(aggregateRange(values, 3, 3, 'LAST')).toBeNull();
    expect(aggregateRange(values, 1, 2, 'MIN')).toBeNull();
    expect(aggregateRange(values, 1, 2, 'LAST')).toBeNaN();
  });
});

describe('appendMetricsInPlace', () => {
  const sizes = new Map([
    ['loss', 3],
    ['__proto__', 2],
  ]);

  it('grows the watched windows in place, drops the oldest beyond the size, and says whether anything changed', () => {
    const windows: Record<string, number[]> = { loss: [1, 2], acc: [9] };
    const loss = windows.loss;
    expect(appendMetricsInPlace(windows, { loss: 3, acc: 0.5, other: 1 }, sizes)).toBe(true);
    expect(windows.loss).toBe(loss);
    expect(windows).toEqual({ loss: [1, 2, 3], acc: [9] });
    expect(appendMetricsInPlace(windows, { loss: 'NaN' }, sizes)).toBe(true);
    expect(windows.loss).toEqual([2, 3, Number.NaN]);
    expect(appendMetricsInPlace(windows, { acc: 1 }, sizes)).toBe(false);
    expect(appendMetricsInPlace(windows, undefined, sizes)).toBe(false);
  });

  it('keeps a metric named __proto__ a plain window', () => {
    const windows: Record<string, number[]> = {};
    const metrics = JSON.parse('{"__proto__": 1}') as Record<string, number>;
    expect(appendMetricsInPlace(windows, metrics, sizes)).toBe(true);
    expect(Object.getPrototypeOf(windows)).toBe(Object.prototype);
    expect(windowOf(windows, '__proto__')).toEqual([1]);
  });

  it('gives what appendMetrics gives, without the copy', () => {
    const before = { loss: [0.5, 0.4, 0.3] };
    const copied = appendMetrics(before, { loss: 0.2 }, sizes);
    const inPlace = { loss: [0.5, 0.4, 0.3] };
    appendMetricsInPlace(inPlace, { loss: 0.2 }, sizes);
    expect(inPlace).toEqual(copied.windows);
    expect(before).toEqual({ loss: [0.5, 0.4, 0.3] });
  });
});
