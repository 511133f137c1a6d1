import type { RunFilter } from '../automations/automation.types';
import { compositeKey } from '../common/identifiers';
import type { SafeRegex } from '../common/safe-regex';
import type { HeraldEvent } from '../events/event.types';

/** Not tested yet in this event. */
const UNTESTED = -1;

/**
 * The distinct run filters of a compiled program's automations (metric-program.ts,
 * event-program.ts): each numbered once when the program is compiled, however many automations
 * share it, and tested at most once per event, as `decide` tests it (matcher.ts ›
 * runFilterCheck): the run's name matches `nameRegex`, the event's author is `user`; a missing
 * name or author fails.
 */
export class RunFilters {
  private readonly filters: { nameRegex: SafeRegex | undefined; user: string | undefined }[] = [];
  private readonly numbers = new Map<string, number>();
  private scratch = new Int8Array(0);

  /** The number of an automation's run filter (its compiled name regex and its `runFilter`), −1 when it tests nothing. */
  add(nameRegex: SafeRegex | undefined, runFilter: RunFilter | null | undefined): number {
    if (!runFilter || (nameRegex === undefined && runFilter.user === undefined)) return -1;
    // Absent is '-'; present values carry a prefix, so none can be taken for absent.
    const key = compositeKey(nameRegex ? `/${nameRegex.source}` : '-', runFilter.user !== undefined ? `=${runFilter.user}` : '-');
    let number = this.numbers.get(key);
    if (number === undefined) {
      this.numbers.set(key, (number = this.filters.length));
      this.filters.push({ nameRegex, user: runFilter.user });
    }
    return number;
  }

  /** Before each event: none tested yet. */
  reset(): void {
    if (this.scratch.length !== this.filters.length) this.scratch = new Int8Array(this.filters.length);
    this.scratch.fill(UNTESTED);
  }

  /** Whether the event passes run filter `filter` (−1: none), tested once per event and filter. */
  passes(filter: number, event: HeraldEvent): boolean {
    if (filter < 0) return true;
    let result = this.scratch[filter];
    if (result === UNTESTED) {
      const { nameRegex, user } = this.filters[filter];
      const name = event.run?.name;
      const passed = (nameRegex === undefined || (name !== undefined && nameRegex.test(name))) && (user === undefined || event.author === user);
      this.scratch[filter] = result = passed ? 1 : 0;
    }
    return result === 1;
  }
}
