/** One line of the printed table. */
export interface Row {
  scenario: string;
  figure: string;
  value: number | null;
  /** The same figure of the ceiling scenario of this run (or the ceiling figure it is compared with). */
  ceiling: number | null;
  unit: string;
  /** e.g. "≥ 100000" or "≥ 0.60 × ceiling"; empty when the issue sets none. */
  target: string;
  met: boolean | null;
  note?: string;
  /** The value is a lower bound (deliveries missing at the end count with the time until then). */
  atLeast?: boolean;
}

function formatNumber(value: number | null, unit: string): string {
  if (value === null || Number.isNaN(value)) return '—';
  const digits = unit === 'ms' || unit === 'µs' ? (value < 10 ? 2 : value < 100 ? 1 : 0) : 0;
  const text = value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }).replace(/,/g, ' ');
  return `${text} ${unit}`;
}

function ratio(row: Row): string {
  if (row.value === null || row.ceiling === null || Number.isNaN(row.value) || !row.ceiling) return '—';
  const r = row.value / row.ceiling;
  return r >= 100 ? `${r.toFixed(0)}×` : r >= 10 ? `${r.toFixed(1)}×` : `${r.toFixed(2)}×`;
}

/** The table `npm run bench` prints: each figure, the ceiling's, their ratio, the target. */
export function renderTable(rows: readonly Row[]): string {
  const header = ['scenario', 'figure', 'value', 'ceiling', 'ratio', 'target', 'met'];
  const lines = rows.map((row) => [
    row.scenario,
    row.figure + (row.note ? ` (${row.note})` : ''),
    (row.atLeast && row.value !== null ? '≥ ' : '') + formatNumber(row.value, row.unit),
    formatNumber(row.ceiling, row.unit),
    ratio(row),
    row.target,
    row.met === null ? '' : row.met ? 'yes' : 'NO',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const right = new Set([2, 3, 4]);
  const format = (cells: string[]) => cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [format(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(format)].join('\n');
}
