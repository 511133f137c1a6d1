import { NotFiredList, type StoredOutcome } from '../../src/events/event-outcome';
import type { NotFiredReason } from '../../src/matching/matcher';
import type { NotFiredSink } from '../../src/matching/metric-program';

/**
 * For the programs' equivalence specs (matching/metric-program.spec.ts, event-program.spec.ts):
 * the non-matches as heard one by one, and as ingestion stores them.
 */

/** A sink that hears every quiet candidate, one by one (it never only counts). */
export function everyQuiet(into: [string, NotFiredReason][]): NotFiredSink {
  return {
    record: (id, reason) => void into.push([id, reason]),
    countsConditions: false,
    countConditions: () => {
      throw new Error('a sink that never only counts was handed a count');
    },
  };
}

/** What ingestion stores of these non-matches recorded one by one into a NotFiredList. */
export function storedOf(pairs: readonly [string, NotFiredReason][]): StoredOutcome {
  const list = new NotFiredList();
  for (const [id, reason] of pairs) list.record(id, reason);
  return storedFrom(list);
}

/** What ingestion stores of this list. */
export function storedFrom(list: NotFiredList): StoredOutcome {
  const outcome: StoredOutcome = { matched: [], suppressed: [], failed: [] };
  list.storeIn(outcome);
  return outcome;
}
