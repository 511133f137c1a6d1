import { ATTRIBUTE_FILTER_FAILED, CONDITION_FALSE, type NotFiredReason, RUN_FILTER_FAILED, SCOPE_FAILED } from '../matching/matcher';
import { MAX_NOT_FIRED, NotFiredList, OutcomeTexts, type StoredNotFired, type StoredOutcome, namedOutcome, notFiredAutomationIds } from './event-outcome';

const window = (have: number, need: number): NotFiredReason => ({ reason: 'window', have, need });
const decided = { matched: [{ automationId: 'aut_m', automationName: 'fired', deliveryId: 'msg_1' }], suppressed: [], failed: [] };

/** Records these (id, reason) pairs and stores them as ingestion does, through JSON as the database keeps them. */
function stored(...pairs: [string, NotFiredReason][]): StoredOutcome {
  const list = new NotFiredList();
  for (const [id, reason] of pairs) list.record(id, reason);
  const outcome: StoredOutcome = { ...decided };
  list.storeIn(outcome);
  return JSON.parse(JSON.stringify(outcome)) as StoredOutcome;
}

const namesOf = (...ids: string[]) => new Map(ids.map((id) => [id, `name of ${id}`]));

describe('NotFiredList: the non-matches ingestion stores, by id', () => {
  it('stores each reason as a code, with have/need for the window, in the order recorded', () => {
    expect(stored(['a1', CONDITION_FALSE], ['a2', window(2, 5)], ['a3', SCOPE_FAILED], ['a4', RUN_FILTER_FAILED], ['a5', ATTRIBUTE_FILTER_FAILED]).notFiredIds).toEqual([
      ['a1', 'c'],
      ['a2', 'w', 2, 5],
      ['a3', 's'],
      ['a4', 'r'],
      ['a5', 'f'],
    ]);
  });

  it('stores nothing when no candidate was left out', () => {
    expect(stored()).toEqual(decided);
  });

  it('lists MAX_NOT_FIRED and counts the rest; past the cap a window or filter reason replaces the first condition one', () => {
    const conditions = Array.from({ length: MAX_NOT_FIRED }, (_, i): [string, NotFiredReason] => [`c${i}`, CONDITION_FALSE]);
    const outcome = stored(...conditions, ['late-condition', CONDITION_FALSE], ['w', window(1, 3)], ['r', RUN_FILTER_FAILED]);
    expect(outcome.notFiredIds).toEqual([['w', 'w', 1, 3], ['r', 'r'], ...conditions.slice(2).map(([id]) => [id, 'c'])]);
    expect(outcome.notFiredOmitted).toBe(3);
  });

  it('once no condition entry is left to replace, later reasons are only counted', () => {
    const windows = Array.from({ length: MAX_NOT_FIRED }, (_, i): [string, NotFiredReason] => [`w${i}`, window(i, 20)]);
    const outcome = stored(['c', CONDITION_FALSE], ...windows, ['s', SCOPE_FAILED]);
    expect(outcome.notFiredIds).toEqual([['w9', 'w', 9, 20], ...windows.slice(0, 9).map(([id, r]) => [id, 'w', (r as { have: number }).have, 20])]);
    expect(outcome.notFiredOmitted).toBe(2);
  });

  it('says when condition non-matches would only be counted, and counts them in one go as recording each would', () => {
    const sequence: [string, NotFiredReason][] = [['w', window(1, 3)], ...Array.from({ length: 14 }, (_, i): [string, NotFiredReason] => [`c${i}`, CONDITION_FALSE]), ['r', RUN_FILTER_FAILED], ['c-last', CONDITION_FALSE]];
    const counting = new NotFiredList();
    let counted = 0;
    for (const [id, reason] of sequence) {
      if (reason.reason === 'condition' && counting.countsConditions) counted++;
      else counting.record(id, reason);
      expect(counting.countsConditions).toBe(counting.entries.length === MAX_NOT_FIRED);
    }
    expect(counted).toBe(6);
    expect(() => new NotFiredList().countConditions(1)).toThrow();
    counting.countConditions(counted);
    const outcome: StoredOutcome = { ...decided };
    counting.storeIn(outcome);
    expect(JSON.parse(JSON.stringify(outcome))).toEqual(stored(...sequence));
    expect(outcome.notFiredOmitted).toBe(7);
  });
});

describe('namedOutcome: the stored outcome as GET /v1/events/:id answers it', () => {
  it('names each non-match with its automation’s current name, reasons as the matcher gives them', () => {
    const outcome = stored(['a1', CONDITION_FALSE], ['a2', window(2, 5)], ['a3', SCOPE_FAILED], ['a4', RUN_FILTER_FAILED], ['a5', ATTRIBUTE_FILTER_FAILED]);
    expect(notFiredAutomationIds(outcome)).toEqual(['a1', 'a2', 'a3', 'a4', 'a5']);
    expect(namedOutcome(outcome, namesOf('a1', 'a2', 'a3', 'a4', 'a5'))).toEqual({
      ...decided,
      notFired: [
        { automationId: 'a1', automationName: 'name of a1', reason: 'condition' },
        { automationId: 'a2', automationName: 'name of a2', reason: 'window', have: 2, need: 5 },
        { automationId: 'a3', automationName: 'name of a3', reason: 'filter', filter: 'scope' },
        { automationId: 'a4', automationName: 'name of a4', reason: 'filter', filter: 'runFilter' },
        { automationId: 'a5', automationName: 'name of a5', reason: 'filter', filter: 'filter' },
      ],
    });
  });

  it('leaves out an automation deleted since and counts it with the others not listed', () => {
    const conditions = Array.from({ length: MAX_NOT_FIRED + 2 }, (_, i): [string, NotFiredReason] => [`c${i}`, CONDITION_FALSE]);
    const outcome = namedOutcome(stored(...conditions), namesOf(...conditions.slice(1).map(([id]) => id)));
    expect(outcome.notFired!.map((n) => n.automationId)).toEqual(conditions.slice(1, MAX_NOT_FIRED).map(([id]) => id));
    expect(outcome.notFiredOmitted).toBe(3);
    expect(namedOutcome(stored(['gone', CONDITION_FALSE]), new Map())).toEqual({ ...decided, notFired: [], notFiredOmitted: 1 });
  });

  it('reads an outcome stored with names (before ids) as it was, and one stored before non-matches with an empty list', () => {
    const named = { ...decided, notFired: [{ automationId: 'a1', automationName: 'then', reason: 'condition' as const }], notFiredOmitted: 4 };
    expect(notFiredAutomationIds(named)).toEqual([]);
    expect(namedOutcome(named, new Map())).toEqual(named);
    expect(namedOutcome(decided, new Map())).toEqual({ ...decided, notFired: [] });
  });
});

describe('OutcomeTexts', () => {
  const quiet = (entries: StoredNotFired[], omitted?: number): StoredOutcome => ({
    matched: [],
    suppressed: [],
    failed: [],
    ...(entries.length > 0 ? { notFiredIds: entries } : {}),
    ...(omitted !== undefined ? { notFiredOmitted: omitted } : {}),
  });

  it('gives each outcome its JSON, reusing the text of an equal quiet outcome just before it', () => {
    const outcomes: StoredOutcome[] = [
      quiet([['a', 'c'], ['b', 'w', 2, 5]], 3),
      quiet([['a', 'c'], ['b', 'w', 2, 5]], 3),
      quiet([['a', 'c'], ['b', 'w', 3, 5]], 3),
      quiet([['a', 'c'], ['b', 'w', 3, 5]], 4),
      quiet([['a', 'c'], ['b', 'w', 3, 5]]),
      quiet([['a', 'c']]),
      quiet([['a', 'r']]),
      quiet([['c', 'r']]),
      quiet([]),
      quiet([]),
      { ...quiet([]), suppressed: [{ automationId: 'a', automationName: 'n', reason: 'edge' }] },
      { ...quiet([]), suppressed: [{ automationId: 'a', automationName: 'n', reason: 'cooldown' }] },
      { ...quiet([]), matched: [{ automationId: 'a', automationName: 'n', deliveryId: 'm1' }] },
      { ...quiet([]), matched: [{ automationId: 'a', automationName: 'n', deliveryId: 'm2' }] },
    ];
    const texts = new OutcomeTexts();
    const stringify = jest.spyOn(JSON, 'stringify');
    const got = outcomes.map((o) => texts.of(o));
    // Serialised anew but for the two repeats (the 2nd, and the 10th: quiet, nothing listed).
    expect(stringify).toHaveBeenCalledTimes(outcomes.length - 2);
    stringify.mockRestore();
    expect(got).toEqual(outcomes.map((o) => JSON.stringify(o)));
  });
});
