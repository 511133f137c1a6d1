import { PerTurn, onePerTurn } from './per-turn';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('PerTurn', () => {
  it('reads each key once per turn of the event loop, and again in the next turn', async () => {
    const memo = new PerTurn<number>();
    const reads: string[] = [];
    let n = 0;
    const read = (key: string) => () => {
      reads.push(key);
      return ++n;
    };
    expect(memo.get('a', read('a'))).toBe(1);
    expect(memo.get('a', read('a'))).toBe(1);
    expect(memo.get('b', read('b'))).toBe(2);
    await Promise.resolve(); // a microtask is still the same turn
    expect(memo.get('a', read('a'))).toBe(1);
    await nextTurn();
    expect(memo.get('a', read('a'))).toBe(3);
    expect(reads).toEqual(['a', 'b', 'a']);
  });

  it('forget makes the next get read again at once, for that key only', () => {
    const memo = new PerTurn<string>();
    memo.get('a', () => 'old a');
    memo.get('b', () => 'old b');
    memo.forget('a');
    expect(memo.get('a', () => 'new a')).toBe('new a');
    expect(memo.get('b', () => 'new b')).toBe('old b');
  });

  it('onePerTurn shares one answer within a turn', async () => {
    let n = 0;
    const version = onePerTurn(() => ++n);
    expect([version(), version()]).toEqual([1, 1]);
    await nextTurn();
    expect(version()).toBe(2);
  });
});
