/**
 * Thrown to a unit of work that did nothing wrong when the transaction it shared with others
 * was lost by another unit's failure (an error that ends SQLite's transaction, not only the
 * failing unit's savepoint): nothing of it was written, and it may simply run again.
 */
export class SharedTransactionLost extends Error {
  constructor(override readonly cause: unknown) {
    super(`The shared transaction was rolled back by another unit of work: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'SharedTransactionLost';
  }
}

/**
 * The end of the current turn of the event loop, shared by every group commit of the process:
 * the batches that become ready in one turn start their writes one after another in ONE
 * `setImmediate` callback, so that TransactionRunner.runHot (which starts a transaction on the
 * next microtask, taking every unit submitted until then) can put them all in one transaction.
 */
const endOfTurn: (() => void)[] = [];
function atEndOfTurn(callback: () => void): void {
  endOfTurn.push(callback);
  if (endOfTurn.length === 1) {
    setImmediate(() => {
      for (const run of endOfTurn.splice(0)) run();
    });
  }
}

/**
 * Group commit: items submitted one by one are written in batches, one `write` (one
 * transaction) per batch. The first item waits for the current turn of the event loop to end,
 * so everything that completes together is written together; items submitted while a batch is
 * being written form the next one. Writes never overlap.
 *
 * When a batch of several items fails, each is retried alone, so one item the database refuses
 * (a row deleted meanwhile) does not fail the others. A batch lost through no fault of its own
 * (SharedTransactionLost) is written again.
 */
export class GroupCommit<I, O> {
  private queue: { item: I; resolve: (out: O) => void; reject: (error: unknown) => void }[] = [];
  private running = false;

  /** `write` answers one output per item, in order. */
  constructor(
    private readonly write: (items: I[]) => Promise<O[]>,
    private readonly maxBatch = 256,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.running) {
        this.running = true;
        atEndOfTurn(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        const out = await this.writeAgainIfLost(batch.map((b) => b.item));
        batch.forEach((b, i) => b.resolve(out[i]));
      } catch (error) {
        if (batch.length === 1) {
          batch[0].reject(error);
          continue;
        }
        for (const b of batch) {
          try {
            b.resolve((await this.writeAgainIfLost([b.item]))[0]);
          } catch (alone) {
            b.reject(alone);
          }
        }
      }
    }
    this.running = false;
  }

  /** One write, and one more if another unit's failure lost the transaction it shared. */
  private async writeAgainIfLost(items: I[]): Promise<O[]> {
    try {
      return await this.write(items);
    } catch (error) {
      if (!(error instanceof SharedTransactionLost)) throw error;
      return this.write(items);
    }
  }
}
