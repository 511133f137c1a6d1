/**
 * Answers read at most once per turn of the event loop, by key: the work handled in one turn
 * (a burst of requests that arrived together, the sends a record starts) shares them. A write
 * by another process lands between turns for all of them alike; a write by this process clears
 * what it changed (`forget`), so nothing of it is read stale afterwards.
 */
export class PerTurn<V> {
  private readonly answers = new Map<string, V>();
  private scheduled = false;

  get(key: string, read: () => V): V {
    if (this.answers.has(key)) return this.answers.get(key) as V;
    const value = read();
    this.answers.set(key, value);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.answers.clear();
        this.scheduled = false;
      });
    }
    return value;
  }

  /** This process changed what `key` answers: the next get reads again. */
  forget(key: string): void {
    this.answers.delete(key);
  }
}

/** `read`, asked at most once per turn of the event loop (a PerTurn of one key). */
export function onePerTurn<T>(read: () => T): () => T {
  const memo = new PerTurn<T>();
  return () => memo.get('', read);
}
