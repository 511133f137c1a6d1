import type { Aggregation, Comparison, Direction, MetricTrigger } from '../automations/automation.types';
import type { MatchedMetric } from '../automations/triggers';
import type { HeraldEvent, RunContext } from '../events/event.types';
import { filterDocument, testFilter } from './attribute-filter';
import { RunFilters } from './run-filters';
import { ATTRIBUTE_FILTER_FAILED, CONDITION_FALSE, type CompiledAutomation, type Decision, type NotFiredReason, RUN_FILTER_FAILED, type TriggerCheck, beyond, changeBetween, compare, settle, zScore } from './matcher';
import { type MetricWindows, aggregateRange, windowOf } from './metric-windows';
import { MATCHING, type SubjectStates } from './subject-states';

/**
 * Where a program reports its quiet candidates and why each did not fire (events/event-outcome.ts ›
 * NotFiredList, what ingestion stores): `record` each, in the list's order, except that once
 * `countsConditions` says a `condition` one would only be counted, the program counts those
 * itself and hands over their number with `countConditions` (the same stored outcome: past the
 * cap only a window or filter reason changes the entries, and the count is a sum).
 */
export interface NotFiredSink {
  record(automationId: string, reason: NotFiredReason): void;
  /** True once a `condition` non-match would only be counted; it stays true. */
  readonly countsConditions: boolean;
  /** `n` `condition` non-matches, counted (only once `countsConditions`). */
  countConditions(n: number): void;
}

/**
 * One project's metric automations (an AutomationIndex list for RUN_METRICS) compiled for the
 * hot path: what `decide` reads of each automation is laid out in typed arrays, run filters are
 * numbered so each distinct one is tested once per event, and each watched metric's window is
 * looked up once per event. Every decision comes out exactly as `decide` would give it — the
 * numbers through the same functions (aggregateRange, compare, changeBetween, zScore, beyond),
 * the edge and cooldown through `settle` — which matcher.spec checks on generated workloads.
 *
 * Why: a metric event is matched against every automation of its project watching a metric it
 * carries (tens of them); evaluated one by one through the general matcher, each cost ~1 µs of
 * object walking, far more than its arithmetic.
 */
export class MetricProgram {
  /** Programs by list: the index rebuilds its lists when automations change, so a program never outlives its list. */
  private static readonly programs = new WeakMap<readonly CompiledAutomation[], MetricProgram>();

  private readonly metricIds = new Map<string, number>();
  private readonly metricNames: string[] = [];
  private readonly metricOf: Uint32Array;
  /** The automations' ids, slots and trigger versions, read per candidate (the edge/cooldown state's place and version). */
  private readonly ids: string[];
  private readonly slots: Int32Array;
  private readonly versions: Float64Array;
  private readonly kind: Uint8Array;
  private readonly needed: Uint32Array;
  private readonly op: Comparison[];
  private readonly direction: Direction[];
  private readonly relative: Uint8Array;
  /** THRESHOLD: threshold; CHANGE: amount; ZSCORE: threshold. */
  private readonly limit: Float64Array;
  /** The automation's run filter's number in `runFilters`, −1 when it has none. */
  private readonly filterOf: Int32Array;
  private readonly runFilters = new RunFilters();
  /**
   * Aggregates shared by the automations that read the same one (see `aggregateOf`): a slot is
   * one (metric, aggregation, range counted back from the window's end), or one (metric, z-score
   * window). THRESHOLD and ZSCORE read `slotOf`; CHANGE reads `priorSlotOf` then `slotOf`.
   */
  private readonly slotOf: Uint32Array;
  private readonly priorSlotOf: Uint32Array;
  private readonly slotMetric: number[] = [];
  /** The slot's aggregation; null for a z-score. */
  private readonly slotAgg: (Aggregation | null)[] = [];
  /** The range is [end − from, end − to) of the metric's window. */
  private readonly slotFrom: number[] = [];
  private readonly slotTo: number[] = [];
  /** carried()'s answers by the set of carried metrics (a bit mask, or the flags as text past 30 metrics). */
  private readonly carriedLists = new Map<number | string, readonly CompiledAutomation[]>();
  // Per-event scratch, reused (one event at a time: JavaScript runs one call at a time).
  private readonly windowScratch: (readonly number[] | undefined)[];
  private readonly carriedScratch: Uint8Array;
  /** Each slot's value for the current event, once `slotState` says it was computed. */
  private readonly slotValue: Float64Array;
  private readonly slotState: Uint8Array;

  /** The program of an index's list; `slotOf`: the index's (AutomationIndex.slotOf), read once here. */
  static of(list: readonly CompiledAutomation[], slotOf: (id: string) => number): MetricProgram {
    let program = MetricProgram.programs.get(list);
    if (!program) MetricProgram.programs.set(list, (program = new MetricProgram(list, slotOf)));
    return program;
  }

  private constructor(
    private readonly list: readonly CompiledAutomation[],
    slotOf: (id: string) => number,
  ) {
    const n = list.length;
    this.metricOf = new Uint32Array(n);
    this.ids = list.map((compiled) => compiled.automation.id);
    this.slots = Int32Array.from(this.ids, slotOf);
    this.versions = Float64Array.from(list, (compiled) => compiled.automation.triggerVersion);
    this.kind = new Uint8Array(n);
    this.needed = new Uint32Array(n);
    this.op = new Array<Comparison>(n);
    this.direction = new Array<Direction>(n);
    this.relative = new Uint8Array(n);
    this.limit = new Float64Array(n);
    this.filterOf = new Int32Array(n);
    this.slotOf = new Uint32Array(n);
    this.priorSlotOf = new Uint32Array(n);
    const slotIds = new Map<string, number>();
    const slot = (metric: number, agg: Aggregation | null, from: number, to: number): number => {
      // LAST of a non-empty range is its last value, whatever the range's length.
      if (agg === 'LAST') from = to + 1;
      const key = `${metric} ${agg ?? 'Z'} ${from} ${to}`;
      let id = slotIds.get(key);
      if (id === undefined) {
        slotIds.set(key, (id = this.slotMetric.length));
        this.slotMetric.push(metric);
        this.slotAgg.push(agg);
        this.slotFrom.push(from);
        this.slotTo.push(to);
      }
      return id;
    };
    for (let i = 0; i < n; i++) {
      const { automation, facts } = list[i];
      const trigger = automation.trigger as MetricTrigger;
      let metric = this.metricIds.get(trigger.metric);
      if (metric === undefined) {
        this.metricIds.set(trigger.metric, (metric = this.metricNames.length));
        this.metricNames.push(trigger.metric);
      }
      this.metricOf[i] = metric;
      this.needed[i] = facts.valuesNeeded!;
      switch (trigger.event) {
        case 'RUN_METRIC_THRESHOLD':
          if (trigger.op === 'NON_FINITE') {
            this.kind[i] = NON_FINITE;
          } else {
            this.kind[i] = THRESHOLD;
            this.op[i] = trigger.op;
            this.limit[i] = trigger.threshold;
            this.slotOf[i] = slot(metric, trigger.agg, trigger.window, 0);
          }
          break;
        case 'RUN_METRIC_CHANGE':
          this.kind[i] = CHANGE;
          this.direction[i] = trigger.direction;
          this.relative[i] = trigger.changeType === 'RELATIVE' ? 1 : 0;
          this.limit[i] = trigger.amount;
          this.priorSlotOf[i] = slot(metric, trigger.agg, trigger.window + trigger.priorWindow, trigger.window);
          this.slotOf[i] = slot(metric, trigger.agg, trigger.window, 0);
          break;
        case 'RUN_METRIC_ZSCORE':
          this.kind[i] = ZSCORE;
          this.direction[i] = trigger.direction;
          this.limit[i] = trigger.threshold;
          // The σ of the `window` values before the latest, and the latest's z against them.
          this.slotOf[i] = slot(metric, null, trigger.window + 1, 1);
          break;
      }
      this.filterOf[i] = this.runFilters.add(facts.nameRegex, automation.runFilter);
    }
    this.windowScratch = new Array<readonly number[] | undefined>(this.metricNames.length);
    this.carriedScratch = new Uint8Array(this.metricNames.length);
    this.slotValue = new Float64Array(this.slotMetric.length);
    this.slotState = new Uint8Array(this.slotMetric.length);
  }

  /**
   * Decides every automation of the list that watches a metric the event carries, as `decide`
   * would with the event, these windows (after the event's values were appended) and the
   * stored state of each (`states`: the run's, laid out by the index this list is from); each
   * decision's next state is set there. `emit` is called, in the
   * list's order, for each decision that is not quiet (it fires, is held back, or changes the
   * state); the quiet ones cost nothing more, except that `notFired` (when given) hears each
   * evaluated one with its reason: the window not full yet, the run filter failed, the
   * condition does not hold (what GET /v1/events/:id records). Once it only counts `condition`
   * ones, those are counted here and handed over at the end, one call for the event.
   */
  decide(
    event: HeraldEvent,
    windows: MetricWindows,
    states: SubjectStates,
    nowMs: number,
    emit: (compiled: CompiledAutomation, decision: Decision) => void,
    runContext: RunContext | null = null,
    notFired?: NotFiredSink,
  ): void {
    const metrics = event.metrics;
    if (metrics === undefined) return;
    const values = this.windowScratch;
    values.fill(undefined);
    let carried = false;
    for (const metric in metrics) {
      const id = Object.hasOwn(metrics, metric) ? this.metricIds.get(metric) : undefined;
      if (id === undefined) continue;
      values[id] = windowOf(windows, metric);
      carried = true;
    }
    if (!carried) return;
    this.runFilters.reset();
    this.slotState.fill(UNCOMPUTED);
    // The attribute filters' document, built for the first automation that has one and holds.
    let doc: Record<string, unknown> | null = null;
    const list = this.list;
    const flags = states.flags;
    const versions = states.versions;
    // `condition` non-matches to count once the sink only counts them (`counting`).
    let counting = notFired?.countsConditions ?? false;
    let counted = 0;
    for (let i = 0; i < list.length; i++) {
      const window = values[this.metricOf[i]];
      // Not carried: not a candidate. The window not full yet, or a run filter that fails: not evaluated, quiet.
      if (window === undefined) continue;
      const compiled = list[i];
      if (!this.runFilters.passes(this.filterOf[i], event)) {
        notFired?.record(this.ids[i], RUN_FILTER_FAILED);
        continue;
      }
      if (window.length < this.needed[i]) {
        notFired?.record(this.ids[i], { reason: 'window', have: window.length, need: this.needed[i] });
        continue;
      }
      const holds = this.holds(i, window);
      // An attribute filter that refuses the event: not evaluated, as in `decide` (matcher.ts › attributeCheck).
      if (holds && compiled.attributeFilter !== null && !testFilter(compiled.attributeFilter, (doc ??= filterDocument(event, runContext)))) {
        notFired?.record(this.ids[i], ATTRIBUTE_FILTER_FAILED);
        continue;
      }
      const slot = this.slots[i];
      // The common cases, decided without `settle`: the edge stays where it is (a stored state of
      // another trigger version counts as none), low and not met, or high and met.
      const high = (flags[slot] & MATCHING) !== 0 && versions[slot] === this.versions[i];
      if (holds === high) {
        if (high) emit(compiled, compiled.edgeHeld);
        else if (counting) counted++;
        else if (notFired !== undefined) {
          notFired.record(this.ids[i], CONDITION_FALSE);
          counting = notFired.countsConditions;
        }
        continue;
      }
      const decision = settle(compiled, false, holds ? HOLDS : FAILS, holds, states.get(slot), nowMs, holds ? undefined : CONDITION_FALSE);
      if (decision.nextState !== null) states.set(slot, decision.nextState);
      if (decision.fires) decision.metric = this.matched(i, window);
      if (decision.fires || decision.suppressedBy !== null || decision.nextState !== null) emit(compiled, decision);
      else if (notFired !== undefined && decision.notFired !== undefined) notFired.record(this.ids[i], decision.notFired);
    }
    if (counted > 0) notFired!.countConditions(counted);
  }

  /**
   * The automations of the list that watch a metric the event carries, in the list's order
   * (AutomationIndex.candidates). One array per set of carried metrics, shared: a run's events
   * usually carry the same metrics, so callers can tell the candidate sets apart by identity.
   */
  carried(event: HeraldEvent): readonly CompiledAutomation[] {
    const metrics = event.metrics;
    if (metrics === undefined) return NOTHING;
    const carriedIds = this.carriedScratch;
    carriedIds.fill(0);
    let any = false;
    let mask = 0;
    for (const metric in metrics) {
      const id = Object.hasOwn(metrics, metric) ? this.metricIds.get(metric) : undefined;
      if (id === undefined) continue;
      carriedIds[id] = 1;
      mask |= 1 << (id & 31);
      any = true;
    }
    if (!any) return NOTHING;
    const key = carriedIds.length <= 30 ? mask : carriedIds.join('');
    let out = this.carriedLists.get(key);
    if (out === undefined) {
      const list: CompiledAutomation[] = [];
      for (let i = 0; i < this.list.length; i++) if (carriedIds[this.metricOf[i]] === 1) list.push(this.list[i]);
      if (this.carriedLists.size >= MAX_CARRIED_LISTS) this.carriedLists.clear();
      this.carriedLists.set(key, (out = list));
    }
    return out;
  }

  /**
   * Slot `slot`'s aggregate over this window, computed by its first reader in this event and
   * shared with the others (the same function on the same values: the same number).
   */
  private aggregateOf(slot: number, values: readonly number[]): number | null {
    const state = this.slotState[slot];
    if (state === NUMBER) return this.slotValue[slot];
    if (state === NULL) return null;
    const end = values.length;
    const agg = this.slotAgg[slot];
    const from = end - this.slotFrom[slot];
    const to = end - this.slotTo[slot];
    const value = agg === null ? zScore(values, from, to, values[end - 1]) : aggregateRange(values, from, to, agg);
    if (value === null) this.slotState[slot] = NULL;
    else {
      this.slotState[slot] = NUMBER;
      this.slotValue[slot] = value;
    }
    return value;
  }

  /** The condition of automation `i` over its full window (checkMetric's arithmetic). */
  private holds(i: number, values: readonly number[]): boolean {
    switch (this.kind[i]) {
      case NON_FINITE:
        return !Number.isFinite(values[values.length - 1]);
      case THRESHOLD: {
        const value = this.aggregateOf(this.slotOf[i], values);
        return value !== null && compare(value, this.op[i], this.limit[i]);
      }
      case CHANGE: {
        const amount = changeBetween(this.aggregateOf(this.priorSlotOf[i], values), this.aggregateOf(this.slotOf[i], values), this.relative[i] ? 'RELATIVE' : 'ABSOLUTE');
        return amount !== null && beyond(amount, this.direction[i], this.limit[i]);
      }
      default: {
        const z = this.aggregateOf(this.slotOf[i], values);
        return z !== null && beyond(z, this.direction[i], this.limit[i]);
      }
    }
  }

  /** ${metric_*} of a firing automation `i`, as checkMetric builds it. */
  private matched(i: number, values: readonly number[]): MatchedMetric {
    const name = this.metricNames[this.metricOf[i]];
    const latest = values[values.length - 1];
    switch (this.kind[i]) {
      case NON_FINITE:
        return { name, value: latest, threshold: null };
      case THRESHOLD:
        return { name, value: this.aggregateOf(this.slotOf[i], values)!, threshold: this.limit[i] };
      case CHANGE: {
        const current = this.aggregateOf(this.slotOf[i], values)!;
        const amount = changeBetween(this.aggregateOf(this.priorSlotOf[i], values), current, this.relative[i] ? 'RELATIVE' : 'ABSOLUTE');
        return { name, value: current, threshold: this.limit[i], change: amount };
      }
      default:
        return { name, value: latest, threshold: this.limit[i], zscore: this.aggregateOf(this.slotOf[i], values) };
    }
  }
}

const NOTHING: readonly CompiledAutomation[] = [];
/** Sets of carried metrics remembered per program (then it starts afresh). */
const MAX_CARRIED_LISTS = 256;
const THRESHOLD = 0;
const NON_FINITE = 1;
const CHANGE = 2;
const ZSCORE = 3;
const UNCOMPUTED = 0;
const NUMBER = 1;
const NULL = 2;
const HOLDS: TriggerCheck = { holds: true };
const FAILS: TriggerCheck = { holds: false };
