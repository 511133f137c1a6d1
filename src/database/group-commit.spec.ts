import { GroupCommit } from './group-commit';

describe('GroupCommit', () => {
  it('writes items submitted in the same turn together, in order, and answers each its own output', async () => {
    const writes: number[][] = [];
    const group = new GroupCommit<number, string>(async (items) => {
      writes.push(items);
      return items.map((n) => `out-${n}`);
    });
    const outs = await Promise.all([1, 2, 3].map((n) => group.submit(n)));
    expect(outs).toEqual(['out-1', 'out-2', 'out-3']);
    expect(writes).toEqual([[1, 2, 3]]);
  });

  it('never overlaps writes: items submitted during a write form the next batch', async () => {
    const writes: number[][] = [];
    let active = 0;
    let maxActive = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const group = new GroupCommit<number, number>(async (items) => {
      active++;
      maxActive = Math.max(maxActive, active);
      writes.push(items);
      if (writes.length === 1) await gate;
      active--;
      return items;
    });
    const first = group.submit(1);
    await new Promise((resolve) => setImmediate(resolve));
    const later = [group.submit(2), group.submit(3)];
    release();
    expect(await Promise.all([first, ...later])).toEqual([1, 2, 3]);
    expect(writes).toEqual([[1], [2, 3]]);
    expect(maxActive).toBe(1);
  });

  it('splits long queues into batches of at most maxBatch', async () => {
    const sizes: number[] = [];
    const group = new GroupCommit<number, number>(async (items) => {
      sizes.push(items.length);
      return items;
    }, 4);
    await Promise.all(Array.from({ length: 10 }, (_, i) => group.submit(i)));
    expect(sizes).toEqual([4, 4, 2]);
  });

  it('when a batch fails, retries each item alone: only the refused item fails', async () => {
    const writes: number[][] = [];
    const group = new GroupCommit<number, number>(async (items) => {
      writes.push(items);
      if (items.includes(2)) throw new Error(`refused ${items.join(',')}`);
      return items.map((n) => n * 10);
    });
    const results = await Promise.allSettled([1, 2, 3].map((n) => group.submit(n)));
    expect(results).toEqual([
      { status: 'fulfilled', value: 10 },
      { status: 'rejected', reason: new Error('refused 2') },
      { status: 'fulfilled', value: 30 },
    ]);
    expect(writes).toEqual([[1, 2, 3], [1], [2], [3]]);
  });

  it('keeps working after a failure', async () => {
    let fail = true;
    const group = new GroupCommit<number, number>(async (items) => {
      if (fail) throw new Error('down');
      return items;
    });
    await expect(group.submit(1)).rejects.toThrow('down');
    fail = false;
    await expect(group.submit(2)).resolves.toBe(2);
  });
});
