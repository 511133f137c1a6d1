import type { NotFiredReason } from '../matching/matcher';
import type { NotFiredSink } from '../matching/metric-program';

/**
 * What ingestion decided for one event, as GET /v1/events/:id answers it: the answer to "why
 * did (or didn't) it fire?", and the answer repeated for a duplicate post.
 */
export interface EventOutcome {
  /** Automations that fired, with the delivery each made. */
  matched: { automationId: string; automationName: string; deliveryId: string }[];
  /**
   * Automations whose conditions held but that did not send: `cooldown` (inside the cooldown),
   * `edge` (still matching since it last fired), `webhook_disabled` (a cancelled delivery
   * records it).
   */
  suppressed: { automationId: string; automationName: string; reason: SuppressionReason; deliveryId?: string }[];
  /** Automations that matched but could not be rendered. */
  failed: { automationId: string; automationName: string; error: string }[];
  /**
   * The other candidates (automations of the event's type and project) and why each did not
   * fire: `filter` (the scope or run filter failed), `window` (the metric window holds `have`
   * of the `need` values it needs), `condition` (evaluated: the condition does not hold). At
   * most MAX_NOT_FIRED are listed, the `condition` ones first left out; `notFiredOmitted`
   * counts the rest (and the automations deleted since). Named when read (namedOutcome).
   * Absent in events stored before Herald recorded them (the API answers an empty list). A
   * candidate whose metric the event does not carry is not listed.
   */
  notFired?: NotFired[];
  notFiredOmitted?: number;
}

export type NotFired = { automationId: string; automationName: string } & NotFiredReason;

/**
 * The outcome as stored with the event. The non-matches are kept as automation ids with a
 * reason code (`notFiredIds`), named when the event is read: a metric event of a busy project
 * has tens of candidates that do not fire, and their names made most of what ingestion
 * stored. Events stored before that kept `notFired` with the names of the time.
 */
export interface StoredOutcome extends Omit<EventOutcome, 'notFired'> {
  notFiredIds?: StoredNotFired[];
  notFired?: NotFired[];
}

/**
 * One non-match as stored: the automation id and the reason's code (`c` condition, `s` scope,
 * `r` run filter, `f` attribute filter), or for the window `[id, 'w', have, need]`.
 */
export type StoredNotFired = [automationId: string, code: 'c' | 's' | 'r' | 'f'] | [automationId: string, code: 'w', have: number, need: number];

/**
 * Kept small: it is stored with every event, and a metric event of a busy project has many
 * candidates. When more did not fire, `condition` entries give way to the others.
 */
export const MAX_NOT_FIRED = 10;

export type SuppressionReason = 'cooldown' | 'edge' | 'webhook_disabled';

const FILTER_CODES = { scope: 's', runFilter: 'r', filter: 'f' } as const;
const FILTERS_BY_CODE = { s: 'scope', r: 'runFilter', f: 'filter' } as const;

/**
 * One event's non-matches while ingestion decides it: up to MAX_NOT_FIRED listed, the rest
 * counted; past the cap a window or filter reason takes the place of a `condition` one (the
 * least surprising non-match). Most candidates of a busy metric event are `condition` ones past
 * the cap: counted, nothing allocated, and the programs (matching/metric-program.ts,
 * event-program.ts) count them in one go (`countsConditions`, `countConditions`) rather than
 * reporting each.
 */
export class NotFiredList implements NotFiredSink {
  readonly entries: StoredNotFired[] = [];
  omitted = 0;
  /** How many listed entries are `condition` ones (those a later reason may replace). */
  private conditions = 0;

  /**
   * Whether a `condition` non-match recorded now would only be counted: the list is full, and
   * stays so (a later reason replaces an entry, never removes one).
   */
  get countsConditions(): boolean {
    return this.entries.length >= MAX_NOT_FIRED;
  }

  /** Counts `n` `condition` non-matches once `countsConditions`: what recording each would do. */
  countConditions(n: number): void {
    if (!this.countsConditions) throw new Error('NotFiredList: condition non-matches are counted only once the list is full');
    this.omitted += n;
  }

  record(automationId: string, reason: NotFiredReason): void {
    const entries = this.entries;
    if (entries.length < MAX_NOT_FIRED) {
      if (reason.reason === 'condition') this.conditions++;
      entries.push(storedNotFired(automationId, reason));
      return;
    }
    this.omitted++;
    if (reason.reason === 'condition' || this.conditions === 0) return;
    let i = 0;
    while (entries[i][1] !== 'c') i++;
    entries[i] = storedNotFired(automationId, reason);
    this.conditions--;
  }

  /** Sets the outcome's stored non-matches; nothing when there are none. */
  storeIn(outcome: StoredOutcome): void {
    if (this.entries.length > 0) outcome.notFiredIds = this.entries;
    if (this.omitted > 0) outcome.notFiredOmitted = this.omitted;
  }
}

/**
 * Stored outcomes as JSON text, for the rows of one insert, in order: an outcome equal to the
 * one before it, nothing matched and the same non-matches (most metric events of a busy
 * project: the same first candidates quiet for the same reason), reuses its text instead of
 * serialising it again. Ingestion stores a 500-event request's outcomes in one go, and their
 * serialisation cost as much as the events' own.
 */
export class OutcomeTexts {
  private last: StoredOutcome | null = null;
  private lastText = '';

  of(outcome: StoredOutcome): string {
    if (this.last === null || !sameQuietOutcome(this.last, outcome)) this.lastText = JSON.stringify(outcome);
    this.last = outcome;
    return this.lastText;
  }
}

/** Both quiet (nothing matched, suppressed or failed) with the same non-matches, listed and counted. */
function sameQuietOutcome(a: StoredOutcome, b: StoredOutcome): boolean {
  if (a.matched.length + a.suppressed.length + a.failed.length + b.matched.length + b.suppressed.length + b.failed.length > 0) return false;
  if (a.notFired !== undefined || b.notFired !== undefined || a.notFiredOmitted !== b.notFiredOmitted) return false;
  const x = a.notFiredIds;
  const y = b.notFiredIds;
  if (x === undefined || y === undefined) return x === y;
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) {
    const p = x[i];
    const q = y[i];
    if (p.length !== q.length) return false;
    for (let j = 0; j < p.length; j++) if (p[j] !== q[j]) return false;
  }
  return true;
}

function storedNotFired(automationId: string, reason: NotFiredReason): StoredNotFired {
  switch (reason.reason) {
    case 'condition':
      return [automationId, 'c'];
    case 'window':
      return [automationId, 'w', reason.have, reason.need];
    default:
      return [automationId, FILTER_CODES[reason.filter]];
  }
}

/** The automations a stored outcome's non-matches name, to be looked up for namedOutcome. */
export function notFiredAutomationIds(stored: StoredOutcome): string[] {
  return stored.notFiredIds?.map((entry) => entry[0]) ?? [];
}

/**
 * The outcome as the API answers it: each stored non-match named with its automation's current
 * name (`names`, by id); one deleted since is left out and counted in `notFiredOmitted`. An
 * outcome stored before ids (named at the time) reads as it was; one stored before non-matches
 * were recorded reads with an empty list.
 */
export function namedOutcome(stored: StoredOutcome, names: ReadonlyMap<string, string>): EventOutcome {
  const { notFiredIds, notFired, notFiredOmitted, ...decided } = stored;
  const outcome: EventOutcome = { ...decided, notFired: notFired ?? [] };
  let omitted = notFiredOmitted ?? 0;
  for (const entry of notFiredIds ?? []) {
    const automationName = names.get(entry[0]);
    if (automationName === undefined) omitted++;
    else outcome.notFired!.push({ automationId: entry[0], automationName, ...reasonOf(entry) });
  }
  if (omitted > 0) outcome.notFiredOmitted = omitted;
  return outcome;
}

function reasonOf(entry: StoredNotFired): NotFiredReason {
  switch (entry[1]) {
    case 'c':
      return { reason: 'condition' };
    case 'w':
      return { reason: 'window', have: entry[2], need: entry[3] };
    default:
      return { reason: 'filter', filter: FILTERS_BY_CODE[entry[1]] };
  }
}
