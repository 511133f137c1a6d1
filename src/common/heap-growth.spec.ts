import { boundHeapGrowth, HEAP_GROWING_PERCENT } from './heap-growth';

describe('boundHeapGrowth', () => {
  const applied = (execArgv: string[]): string[] => {
    const flags: string[] = [];
    boundHeapGrowth(execArgv, (f) => flags.push(f));
    return flags;
  };

  it('sets the growth percent when node was started without one', () => {
    expect(applied([])).toEqual([`--heap-growing-percent=${HEAP_GROWING_PERCENT}`]);
    expect(applied(['--max-semi-space-size=4', '--enable-source-maps'])).toEqual([`--heap-growing-percent=${HEAP_GROWING_PERCENT}`]);
  });

  it("keeps the operator's own flag, in either spelling", () => {
    expect(applied(['--heap-growing-percent=50'])).toEqual([]);
    expect(applied(['--heap_growing_percent=50'])).toEqual([]);
    expect(applied(['--heap-growing-percent', '50'])).toEqual([]);
  });

  it('is not fooled by a longer flag name', () => {
    expect(applied(['--heap-growing-percentile=5'])).toEqual([`--heap-growing-percent=${HEAP_GROWING_PERCENT}`]);
  });
});
