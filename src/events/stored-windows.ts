import type { MetricWindows } from '../matching/metric-windows';

/** JSON has no NaN or Infinity: stored windows spell them as the API does. */
export type StoredWindows = Record<string, (number | string)[]>;

/**
 * The windows as stored. Windows of finite values only (nearly all) are their own stored form:
 * answered as they are, not copied (this runs for every run an ingestion request touches).
 */
export function encodeWindows(windows: MetricWindows): StoredWindows {
  if (Object.values(windows).every(allFinite)) return windows;
  const out: StoredWindows = {};
  for (const [metric, values] of Object.entries(windows)) out[metric] = values.map((v) => (Number.isFinite(v) ? v : String(v)));
  return out;
}

/**
 * The windows of stored ones: `stored`, as just parsed from JSON and read by nothing else, with
 * "NaN", "Infinity" and "-Infinity" made numbers in place (no copy per read).
 */
export function decodeWindows(stored: StoredWindows): MetricWindows {
  for (const values of Object.values(stored)) {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (typeof v !== 'number') values[i] = Number(v);
    }
  }
  return stored as MetricWindows;
}

function allFinite(values: readonly number[]): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return false;
  return true;
}
