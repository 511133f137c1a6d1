import type { SubjectState } from './matcher';

/**
 * Which automation each place of a subject's state columns belongs to (`ids[slot]`): the
 * automations that may concern the subjects of one project, numbered by the index that holds
 * them (matcher.ts › AutomationIndex.slotOf). Team-scoped automations come first, in the same
 * places in every project's layout, so one slot serves an automation whatever project's list
 * it is read through. Numbers last as long as the index's lists: a catalog reloaded after a
 * change numbers afresh, and what is stored goes by automation id (IngestionService).
 */
export class StateLayout {
  constructor(readonly ids: readonly string[]) {}

  get size(): number {
    return this.ids.length;
  }
}

/** Bits of SubjectStates.flags. */
export const STORED = 1;
export const MATCHING = 2;
/** Written since it was loaded: to store. */
export const CHANGED = 4;

/**
 * The edge/cooldown state of one subject (a run, a collection, a project, a run group) for
 * every automation of its project's layout, in columns indexed by the automation's slot: the
 * hot path reads the state of ~40 candidates of an event from a few cache lines instead of a
 * map lookup and an object each (docs/performance.md › Matcher and ingestion, sixth round).
 * `lastFiredAt` NaN is null; a slot without STORED has no state.
 */
export class SubjectStates {
  readonly flags: Uint8Array;
  readonly lastFiredAt: Float64Array;
  readonly versions: Float64Array;

  constructor(readonly layout: StateLayout) {
    this.flags = new Uint8Array(layout.size);
    this.lastFiredAt = new Float64Array(layout.size);
    this.versions = new Float64Array(layout.size);
  }

  /** The state at `slot` as the matcher reads it (`settle`), or null. */
  get(slot: number): SubjectState | null {
    const flags = this.flags[slot];
    if ((flags & STORED) === 0) return null;
    const lastFiredAt = this.lastFiredAt[slot];
    return { matching: (flags & MATCHING) !== 0, lastFiredAt: Number.isNaN(lastFiredAt) ? null : lastFiredAt, triggerVersion: this.versions[slot] };
  }

  /** A state decided now: kept, and marked to store. */
  set(slot: number, state: SubjectState): void {
    this.put(slot, state.triggerVersion, state.matching, state.lastFiredAt, CHANGED);
  }

  /** A state as stored (read back from the database): not to store again unless it changes. */
  load(slot: number, triggerVersion: number, matching: boolean, lastFiredAt: number | null): void {
    this.put(slot, triggerVersion, matching, lastFiredAt, 0);
  }

  /** Calls `each` with every slot set since loading, in slot order. */
  forEachChanged(each: (slot: number, state: SubjectState) => void): void {
    const flags = this.flags;
    for (let slot = 0; slot < flags.length; slot++) if ((flags[slot] & CHANGED) !== 0) each(slot, this.get(slot)!);
  }

  /** A copy, changes and all (tests: one event decided twice from the same states). */
  clone(): SubjectStates {
    const copy = new SubjectStates(this.layout);
    copy.flags.set(this.flags);
    copy.lastFiredAt.set(this.lastFiredAt);
    copy.versions.set(this.versions);
    return copy;
  }

  /** Every state, by automation id (tests; the equivalence specs compare them with `decide`'s). */
  toMap(): Map<string, SubjectState> {
    const out = new Map<string, SubjectState>();
    for (let slot = 0; slot < this.flags.length; slot++) {
      const state = this.get(slot);
      if (state) out.set(this.layout.ids[slot], state);
    }
    return out;
  }

  private put(slot: number, triggerVersion: number, matching: boolean, lastFiredAt: number | null, changed: number): void {
    this.flags[slot] = STORED | (matching ? MATCHING : 0) | changed;
    this.versions[slot] = triggerVersion;
    this.lastFiredAt[slot] = lastFiredAt === null ? Number.NaN : lastFiredAt;
  }
}
