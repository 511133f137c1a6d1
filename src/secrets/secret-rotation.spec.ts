import { MAX_PREVIOUS_VALUES, activePrevious, afterRotation, defaultOverlapSeconds } from './secret-rotation';

describe('secret rotation with overlap', () => {
  const DAY = 86_400;

  it('keeps the replaced value for the overlap, newest first', () => {
    const once = afterRotation(null, 'c1', 1000, DAY);
    expect(once).toEqual([{ ciphertext: 'c1', retiredAt: 1000, validUntil: 1000 + DAY * 1000 }]);
    const twice = afterRotation(once, 'c2', 2000, 60);
    expect(twice.map((v) => v.ciphertext)).toEqual(['c2', 'c1']);
    expect(twice[0].validUntil).toBe(2000 + 60_000);
  });

  it('keeps nothing new for an overlap of 0, but leaves earlier overlaps running', () => {
    const running = afterRotation(null, 'c1', 0, DAY);
    expect(afterRotation(running, 'c2', 10, 0).map((v) => v.ciphertext)).toEqual(['c1']);
    expect(afterRotation([], 'c2', 10, 0)).toEqual([]);
  });

  it('drops expired values and keeps at most the 10 newest', () => {
    let values = afterRotation(null, 'short', 0, 1);
    values = afterRotation(values, 'c0', 1000, DAY);
    expect(values.map((v) => v.ciphertext)).toEqual(['c0']);
    for (let i = 1; i <= 12; i++) values = afterRotation(values, `c${i}`, 1000 + i, DAY);
    expect(values).toHaveLength(MAX_PREVIOUS_VALUES);
    expect(values[0].ciphertext).toBe('c12');
    expect(values[MAX_PREVIOUS_VALUES - 1].ciphertext).toBe('c3');
  });

  it('tells which values still sign at a time (validUntil exclusive)', () => {
    const values = [
      { ciphertext: 'old', retiredAt: 1, validUntil: 100 },
      { ciphertext: 'new', retiredAt: 5, validUntil: 200 },
    ];
    expect(activePrevious(values, 50).map((v) => v.ciphertext)).toEqual(['new', 'old']);
    expect(activePrevious(values, 100).map((v) => v.ciphertext)).toEqual(['new']);
    expect(activePrevious(values, 200)).toEqual([]);
    expect(activePrevious(null, 0)).toEqual([]);
  });

  it('defaults to a day for a signing secret and to no overlap otherwise', () => {
    expect(defaultOverlapSeconds(true)).toBe(DAY);
    expect(defaultOverlapSeconds(false)).toBe(0);
  });
});
