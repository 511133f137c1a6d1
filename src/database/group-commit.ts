/**
 * Group commit: items submitted one by one are written in batches, one `write` (one
 * transaction) per batch. The first item waits for the current turn of the event loop to end
 * (`setImmediate`), so everything that completes together is written together; items submitted
 * while a batch is being written form the next one. Writes never overlap.
 *
 * When a batch of several items fails, each is retried alone, so one item the database refuses
 * (a row deleted meanwhile) does not fail the others.
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
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        const out = await this.write(batch.map((b) => b.item));
        batch.forEach((b, i) => b.resolve(out[i]));
      } catch (error) {
        if (batch.length === 1) {
          batch[0].reject(error);
          continue;
        }
        for (const b of batch) {
          try {
            b.resolve((await this.write([b.item]))[0]);
          } catch (alone) {
            b.reject(alone);
          }
        }
      }
    }
    this.running = false;
  }
}
