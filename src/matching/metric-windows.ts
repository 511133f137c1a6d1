import type { Aggregation, MatchableAutomation } from '../automations/automation.types';
import type { PostedMetricValue } from '../events/event.types';

/** Values kept per metric, in arrival order, oldest first; non-finite kept as NaN/Infinity numbers. */
export type MetricWindows = Record<string, number[]>;

/** A posted value as a number: the strings "NaN", "Infinity" and "-Infinity" become those numbers. */
export function metricValue(posted: PostedMetricValue): number {
  switch (posted) {
    case 'NaN':
      return Number.NaN;
    case 'Infinity':
      return Number.POSITIVE_INFINITY;
    case '-Infinity':
      return Number.NEGATIVE_INFINITY;
    default:
      return posted;
  }
}

/** How many latest values a metric trigger reads; null for triggers that read no metric. */
export function valuesNeeded(trigger: MatchableAutomation['trigger']): number | null {
  switch (trigger.event) {
    case 'RUN_METRIC_THRESHOLD':
      return trigger.op === 'NON_FINITE' ? 1 : trigger.window;
    case 'RUN_METRIC_CHANGE':
      return trigger.window + trigger.priorWindow;
    case 'RUN_METRIC_ZSCORE':
      return trigger.window + 1;
    default:
      return null;
  }
}

/** How many latest values each watched metric needs: the most any of these automations reads. */
export function windowSizes(automations: readonly MatchableAutomation[]): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const { trigger } of automations) {
    const needed = valuesNeeded(trigger);
    if (needed === null || !('metric' in trigger)) continue;
    sizes.set(trigger.metric, Math.max(sizes.get(trigger.metric) ?? 0, needed));
  }
  return sizes;
}

/** The values kept for a metric; own properties only, so "constructor" or "__proto__" are plain names. */
export function windowOf(windows: MetricWindows, metric: string): readonly number[] {
  return Object.hasOwn(windows, metric) ? windows[metric] : [];
}

/**
 * Appends this event's values for watched metrics only, trimming each appended window to its
 * size. Returns a new object (the input and its arrays are untouched) and whether anything
 * changed. Windows of metrics the event does not carry are kept as they are.
 */
export function appendMetrics(
  windows: MetricWindows,
  metrics: Record<string, PostedMetricValue> | undefined,
  sizes: ReadonlyMap<string, number>,
): { windows: MetricWindows; changed: boolean } {
  if (!metrics) return { windows, changed: false };
  // fromEntries defines own properties, so a metric named "__proto__" stays a plain key.
  const copy: MetricWindows = Object.fromEntries(Object.entries(windows).map(([metric, values]) => [metric, [...values]]));
  return appendMetricsInPlace(copy, metrics, sizes) ? { windows: copy, changed: true } : { windows, changed: false };
}

/**
 * `appendMetrics` on windows the caller owns: each watched metric's array grows by the new
 * value and drops its oldest beyond the size, in place (no copy per event: this runs for every
 * metric event ingested). Answers whether anything changed.
 */
export function appendMetricsInPlace(
  windows: MetricWindows,
  metrics: Record<string, PostedMetricValue> | undefined,
  sizes: ReadonlyMap<string, number>,
): boolean {
  if (!metrics || sizes.size === 0) return false;
  let changed = false;
  for (const metric in metrics) {
    if (!Object.hasOwn(metrics, metric)) continue;
    const size = sizes.get(metric);
    if (size === undefined || size < 1) continue;
    let values = Object.hasOwn(windows, metric) ? windows[metric] : undefined;
    if (values === undefined) {
      values = [];
      // defineProperty, not assignment: a metric named "__proto__" stays a plain key.
      Object.defineProperty(windows, metric, { value: values, enumerable: true, writable: true, configurable: true });
    }
    values.push(metricValue(metrics[metric]));
    // One over is the usual case: shift() drops it without the array splice() would return.
    if (values.length === size + 1) values.shift();
    else if (values.length > size) values.splice(0, values.length - size);
    changed = true;
  }
  return changed;
}

/**
 * MIN, MAX and AVERAGE over the finite values (non-finite ones are left out); LAST is the last
 * value, which may be non-finite. Null when there is nothing to aggregate.
 */
export function aggregate(values: readonly number[], agg: Aggregation): number | null {
  return aggregateRange(values, 0, values.length, agg);
}

/**
 * `aggregate` of `values[from, to)`, without copying them (this runs for every metric trigger
 * of every event): one loop per aggregation, so nothing but the values is tested per element.
 */
export function aggregateRange(values: ArrayLike<number>, from: number, to: number, agg: Aggregation): number | null {
  switch (agg) {
    case 'LAST':
      return to > from ? values[to - 1] : null;
    case 'AVERAGE': {
      // The sum starts at 0, as mean() does (so an average of −0 values is 0, as before).
      let sum = 0;
      let count = 0;
      for (let i = from; i < to; i++) {
        const value = values[i];
        if (!Number.isFinite(value)) continue;
        sum += value;
        count++;
      }
      return count === 0 ? null : sum / count;
    }
    case 'MIN': {
      let result: number | null = null;
      for (let i = from; i < to; i++) {
        const value = values[i];
        if (!Number.isFinite(value)) continue;
        result = result === null ? value : lessOf(result, value);
      }
      return result;
    }
    case 'MAX': {
      let result: number | null = null;
      for (let i = from; i < to; i++) {
        const value = values[i];
        if (!Number.isFinite(value)) continue;
        result = result === null ? value : greaterOf(result, value);
      }
      return result;
    }
  }
}

/** Math.min of two finite numbers (−0 is below +0). */
function lessOf(a: number, b: number): number {
  return b < a || (b === 0 && a === 0 && Object.is(b, -0)) ? b : a;
}

/** Math.max of two finite numbers (+0 is above −0). */
function greaterOf(a: number, b: number): number {
  return b > a || (b === 0 && a === 0 && Object.is(a, -0)) ? b : a;
}

export function mean(values: readonly number[]): number {
  let sum = 0;
  for (const value of values) sum += value;
  return sum / values.length;
}
