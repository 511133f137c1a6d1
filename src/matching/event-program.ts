import type { MatchableAutomation } from '../automations/automation.types';
import { isGroupTrigger, isMetricTrigger } from '../automations/triggers';
import type { SafeRegex } from '../common/safe-regex';
import { ALERT_LEVELS, type EventType, type HeraldEvent, RUN_STATES, type RunContext, type RunState } from '../events/event.types';
import { filterDocument, testFilter } from './attribute-filter';
import { RunFilters } from './run-filters';
// matcher.ts imports this module too; each uses the other's exports only when called.
import { ATTRIBUTE_FILTER_FAILED, CONDITION_FALSE, type CompiledAutomation, type Decision, RUN_FILTER_FAILED, SCOPE_FAILED, type TriggerCheck, collectionOf, settle } from './matcher';
import type { NotFiredSink } from './metric-program';
import type { SubjectStates } from './subject-states';

/**
 * One list of candidates for an event type other than RUN_METRICS (an AutomationIndex list:
 * the automations of one project listening to one event type) compiled for the hot path, as
 * metric-program.ts does for metric events: what `decide` reads of each automation is laid out
 * in arrays, and each distinct scope, run filter and regex (with the field it reads) is tested
 * once per event, whatever the number of automations sharing it. Every decision comes out as
 * `decide` gives it: a candidate whose outcome needs no stored state (a filter or the condition
 * failed, not edge-triggered) gets the same shared quiet decision `decide` returns, and every
 * other goes through `settle` with the stored state. matcher.spec checks it on generated
 * workloads against `decide`.
 *
 * Why: `decide` walks each candidate's objects (automation, scope, trigger, facts, regexes),
 * scattered through a heap of 10 000 automations, and looks up its edge/cooldown state even
 * when the answer cannot depend on it; most candidates of an event fail a regex or a level.
 *
 * Lists with a RUN_GROUP_FINISHED automation (keyed by run group, with counts ingestion reads
 * on demand) get no program: `of` answers null and callers decide candidate by candidate.
 */
export class EventProgram {
  /** Programs by list (null: none for it): the index rebuilds its lists when automations change, so a program never outlives its list. */
  private static readonly programs = new WeakMap<readonly CompiledAutomation[], EventProgram | null>();

  /** The subject of every automation of the list: artifact triggers' (`subjectFor(true, …)`) or the others'. */
  readonly artifact: boolean;
  private readonly type: EventType;
  private readonly ids: string[];
  /** The automations' places in their subject's state columns (AutomationIndex.slotOf). */
  private readonly slots: Int32Array;
  private readonly kind: Uint8Array;
  private readonly edge: Uint8Array;
  private readonly hasAttributeFilter: Uint8Array;
  /** The automation's scope's number in `scopes`, −1 for the team scope (every project). */
  private readonly scopeOf: Int32Array;
  private readonly scopes: { registry: boolean; name: string }[] = [];
  /** The automation's run filter's number in `runFilters`, −1 when it has none. */
  private readonly filterOf: Int32Array;
  private readonly runFilters = new RunFilters();
  /**
   * Regexes by number, each with the field it reads (a regex and a field tested once per event):
   * `first` is the title (ALERT), the line regex (RUN_LOG_MATCH) or the alias; `second` the tag;
   * `third` the collection. −1: the automation has none.
   */
  private readonly first: Int32Array;
  private readonly second: Int32Array;
  private readonly third: Int32Array;
  private readonly regexes: SafeRegex[] = [];
  private readonly regexField: number[] = [];
  /** RUN_STATE: the listed states; ALERT: the listed levels (bits by their place in RUN_STATES, ALERT_LEVELS). */
  private readonly bits: Uint32Array;
  /** RUN_STALE: the silence length. */
  private readonly staleSeconds: Float64Array;
  // Per-event scratch, reused (one event at a time).
  private readonly scopeScratch: Int8Array;
  private readonly regexScratch: Int8Array;
  /** RUN_LOG_MATCH: the first line each line regex matched in this event. */
  private readonly lineScratch: (string | undefined)[];

  /** The program of an index's list; `slotOf`: the index's (AutomationIndex.slotOf), read once here. */
  static of(list: readonly CompiledAutomation[], slotOf: (id: string) => number): EventProgram | null {
    let program = EventProgram.programs.get(list);
    if (program === undefined) EventProgram.programs.set(list, (program = EventProgram.compile(list, slotOf)));
    return program;
  }

  private static compile(list: readonly CompiledAutomation[], slotOf: (id: string) => number): EventProgram | null {
    if (list.length === 0) return null;
    const { listensTo, facts } = list[0];
    for (const compiled of list) {
      const { trigger } = compiled.automation;
      if (compiled.listensTo !== listensTo || compiled.facts.artifact !== facts.artifact) return null;
      if (isGroupTrigger(trigger.event) || isMetricTrigger(trigger) || kindOf(compiled.automation) === null) return null;
      // Listed states and levels become bits: one the lists do not know (refused at save) leaves the list to `decide`.
      if (trigger.event === 'RUN_STATE' && !trigger.states.every((state) => bitOf(RUN_STATES, state) !== 0)) return null;
      if (trigger.event === 'ALERT' && !trigger.levels.every((level) => bitOf(ALERT_LEVELS, level) !== 0)) return null;
    }
    return new EventProgram(list, slotOf);
  }

  private constructor(
    private readonly list: readonly CompiledAutomation[],
    slotOf: (id: string) => number,
  ) {
    const n = list.length;
    this.artifact = list[0].facts.artifact;
    this.type = list[0].listensTo;
    this.ids = list.map((compiled) => compiled.automation.id);
    this.slots = Int32Array.from(this.ids, slotOf);
    this.kind = new Uint8Array(n);
    this.edge = new Uint8Array(n);
    this.hasAttributeFilter = new Uint8Array(n);
    this.scopeOf = new Int32Array(n);
    this.filterOf = new Int32Array(n);
    this.first = new Int32Array(n).fill(-1);
    this.second = new Int32Array(n).fill(-1);
    this.third = new Int32Array(n).fill(-1);
    this.bits = new Uint32Array(n);
    this.staleSeconds = new Float64Array(n);
    const scopeIds = new Map<string, number>();
    const regexIds = [new Map<SafeRegex, number>(), new Map<SafeRegex, number>(), new Map<SafeRegex, number>(), new Map<SafeRegex, number>(), new Map<SafeRegex, number>()];
    const regex = (field: number, compiled: SafeRegex | undefined): number => {
      if (compiled === undefined) return -1;
      let id = regexIds[field].get(compiled);
      if (id === undefined) {
        regexIds[field].set(compiled, (id = this.regexes.length));
        this.regexes.push(compiled);
        this.regexField.push(field);
      }
      return id;
    };
    for (let i = 0; i < n; i++) {
      const compiled = list[i];
      const { automation, facts, regexes } = compiled;
      const { trigger, scope } = automation;
      const kind = kindOf(automation)!;
      this.kind[i] = kind;
      this.edge[i] = facts.edge ? 1 : 0;
      this.hasAttributeFilter[i] = compiled.attributeFilter !== null ? 1 : 0;
      if (scope.type === 'team') this.scopeOf[i] = -1;
      else {
        const key = `${scope.type} ${scope.name}`;
        let id = scopeIds.get(key);
        if (id === undefined) {
          scopeIds.set(key, (id = this.scopes.length));
          this.scopes.push({ registry: scope.type === 'registry', name: scope.name });
        }
        this.scopeOf[i] = id;
      }
      switch (trigger.event) {
        case 'RUN_STATE':
          this.bits[i] = bitsOf(RUN_STATES, trigger.states);
          break;
        case 'ALERT':
          this.bits[i] = bitsOf(ALERT_LEVELS, trigger.levels);
          this.first[i] = regex(TITLE, regexes.get('trigger.titleRegex'));
          break;
        case 'RUN_LOG_MATCH':
          this.first[i] = regex(LINE, regexes.get('trigger.lineRegex'));
          break;
        case 'RUN_STALE':
          this.staleSeconds[i] = trigger.staleSeconds;
          break;
        default:
          if (kind === ARTIFACT) {
            this.first[i] = regex(ALIAS, regexes.get('trigger.aliasRegex'));
            this.second[i] = regex(TAG, regexes.get('trigger.tagRegex'));
            this.third[i] = regex(COLLECTION, regexes.get('trigger.collectionRegex'));
          }
      }
      // Run filters apply to run triggers and ALERT (`decide`: not to artifact triggers).
      this.filterOf[i] = facts.artifact ? -1 : this.runFilters.add(facts.nameRegex, automation.runFilter);
    }
    this.scopeScratch = new Int8Array(this.scopes.length);
    this.regexScratch = new Int8Array(this.regexes.length);
    this.lineScratch = new Array<string | undefined>(this.regexes.length).fill(undefined);
  }

  /**
   * Decides every automation of the list as `decide` would, with the event, the run's state
   * before it, its run context and the stored state of each for the event's subject
   * (`subjectFor(this.artifact, event)`; `states` laid out by the index this list is from),
   * where each decision's next state is set. `emit` is called, in the
   * list's order, for each decision that is not quiet (it fires, is held back, or changes the
   * state); `notFired` (when given) hears each quiet one that has a reason (a filter failed, the
   * condition does not hold), as ingestion records them; once it only counts `condition` ones,
   * those are counted here and handed over at the end (metric-program.ts › NotFiredSink).
   */
  decide(
    event: HeraldEvent,
    previousRunState: RunState | null,
    states: SubjectStates,
    nowMs: number,
    emit: (compiled: CompiledAutomation, decision: Decision) => void,
    runContext: RunContext | null = null,
    notFired?: NotFiredSink,
  ): void {
    this.scopeScratch.fill(UNTESTED);
    this.runFilters.reset();
    this.regexScratch.fill(UNTESTED);
    const typePassed = event.type === this.type;
    // What the event says once, for every automation: its run state (RUN_STATE), its level (ALERT).
    const runState = event.run?.state;
    const stateBit = runState === undefined ? 0 : bitOf(RUN_STATES, runState);
    const entered = runState !== previousRunState;
    const levelBit = event.level === undefined ? 0 : bitOf(ALERT_LEVELS, event.level);
    // The attribute filters' document, built for the first automation that has one and holds.
    let doc: Record<string, unknown> | null = null;
    const list = this.list;
    // `condition` non-matches to count once the sink only counts them (`counting`).
    let counting = notFired?.countsConditions ?? false;
    let counted = 0;
    for (let i = 0; i < list.length; i++) {
      // The gates: the type and scope, then the run filter. A candidate that fails one is quiet
      // with that reason whatever the trigger says (an edge stays where it is: not evaluated).
      if (!typePassed || !this.inScope(this.scopeOf[i], event)) {
        notFired?.record(this.ids[i], SCOPE_FAILED);
        continue;
      }
      if (!this.runFilters.passes(this.filterOf[i], event)) {
        notFired?.record(this.ids[i], RUN_FILTER_FAILED);
        continue;
      }
      let holds: boolean;
      let logLine: string | undefined;
      switch (this.kind[i]) {
        case STATE:
          holds = (this.bits[i] & stateBit) !== 0 && entered;
          break;
        case ALERT:
          holds = (this.bits[i] & levelBit) !== 0 && this.optional(this.first[i], event);
          break;
        case LOG:
          logLine = this.line(this.first[i], event);
          holds = logLine !== undefined;
          break;
        case STALE:
          holds = event.staleSeconds === this.staleSeconds[i];
          break;
        case ALWAYS:
          holds = true;
          break;
        default:
          holds = this.optional(this.first[i], event) && this.optional(this.second[i], event) && this.optional(this.third[i], event);
      }
      const compiled = list[i];
      if (!holds) {
        // Not edge-triggered: a condition that fails changes nothing, whatever was stored.
        if (this.edge[i] === 0) {
          if (counting) counted++;
          else if (notFired !== undefined) {
            notFired.record(this.ids[i], CONDITION_FALSE);
            counting = notFired.countsConditions;
          }
          continue;
        }
      } else if (this.hasAttributeFilter[i] === 1 && !testFilter(compiled.attributeFilter!, (doc ??= filterDocument(event, runContext)))) {
        // An attribute filter that refuses the event: not evaluated, as in `decide` (matcher.ts › attributeCheck).
        notFired?.record(this.ids[i], ATTRIBUTE_FILTER_FAILED);
        continue;
      }
      const slot = this.slots[i];
      const check: TriggerCheck = holds ? (logLine !== undefined ? { holds: true, logLine } : HOLDS) : FAILS;
      const decision = settle(compiled, false, check, holds, states.get(slot), nowMs, holds ? undefined : CONDITION_FALSE);
      if (decision.nextState !== null) states.set(slot, decision.nextState);
      if (decision.fires || decision.suppressedBy !== null || decision.nextState !== null) emit(compiled, decision);
      else if (notFired !== undefined && decision.notFired !== undefined) notFired.record(this.ids[i], decision.notFired);
    }
    if (counted > 0) notFired!.countConditions(counted);
  }

  /** Whether the event is in scope `scope` (−1: the team's, every project), tested once per event and scope. */
  private inScope(scope: number, event: HeraldEvent): boolean {
    if (scope < 0) return true;
    let result = this.scopeScratch[scope];
    if (result === UNTESTED) {
      const { registry, name } = this.scopes[scope];
      this.scopeScratch[scope] = result = (!registry || event.registry === true) && event.project === name ? 1 : 0;
    }
    return result === 1;
  }

  /** True when there is no such regex (−1) or it matches its field of the event (absent: no match), tested once per event. */
  private optional(regex: number, event: HeraldEvent): boolean {
    if (regex < 0) return true;
    let result = this.regexScratch[regex];
    if (result === UNTESTED) {
      const value = fieldOf(this.regexField[regex], event);
      this.regexScratch[regex] = result = value !== undefined && this.regexes[regex].test(value) ? 1 : 0;
    }
    return result === 1;
  }

  /** RUN_LOG_MATCH: the event's first line line regex `regex` matches, once per event. */
  private line(regex: number, event: HeraldEvent): string | undefined {
    if (this.regexScratch[regex] === UNTESTED) {
      const test = this.regexes[regex];
      const line = (event.lines ?? []).find((l) => test.test(l));
      this.regexScratch[regex] = line !== undefined ? 1 : 0;
      this.lineScratch[regex] = line;
    }
    return this.regexScratch[regex] === 1 ? this.lineScratch[regex] : undefined;
  }
}

/** How the program checks a trigger; null for those it leaves to `decide` (metric and group triggers). */
function kindOf(automation: MatchableAutomation): number | null {
  switch (automation.trigger.event) {
    case 'RUN_STATE':
      return STATE;
    case 'ALERT':
      return ALERT;
    case 'RUN_LOG_MATCH':
      return LOG;
    case 'RUN_STALE':
      return STALE;
    case 'WEBHOOK_DISABLED':
    case 'DELIVERY_FAILED':
      return ALWAYS;
    case 'RUN_METRIC_THRESHOLD':
    case 'RUN_METRIC_CHANGE':
    case 'RUN_METRIC_ZSCORE':
    case 'RUN_GROUP_FINISHED':
      return null;
    default:
      // The artifact triggers: the regexes they have, each against its field.
      return ARTIFACT;
  }
}

function fieldOf(field: number, event: HeraldEvent): string | undefined {
  switch (field) {
    case TITLE:
      return event.title;
    case ALIAS:
      return event.alias;
    case TAG:
      return event.tag;
    default:
      return collectionOf(event);
  }
}

/** A bit per listed value, by its place in `all` (at most 32 values). */
function bitsOf(all: readonly string[], listed: readonly string[]): number {
  let bits = 0;
  for (const value of listed) bits |= bitOf(all, value);
  return bits;
}

/** A value's bit; 0 for a value not in `all` (it then matches no listed value, as `includes` would say). */
function bitOf(all: readonly string[], value: string): number {
  const at = all.indexOf(value);
  return at < 0 ? 0 : 1 << at;
}

const STATE = 0;
const ALERT = 1;
const LOG = 2;
const STALE = 3;
const ALWAYS = 4;
const ARTIFACT = 5;
/** The fields regexes read. */
const TITLE = 0;
const LINE = 1;
const ALIAS = 2;
const TAG = 3;
const COLLECTION = 4;
const UNTESTED = -1;
const HOLDS: TriggerCheck = { holds: true };
const FAILS: TriggerCheck = { holds: false };
