import type { MetricWindows } from '../matching/metric-windows';

/** JSON has no NaN or Infinity: stored windows spell them as the API does. */
export type StoredWindows = Record<string, (number | string)[]>;

export function encodeWindows(windows: MetricWindows): StoredWindows {
  const out: StoredWindows = {};
  for (const [metric, values] of Object.entries(windows)) out[metric] = values.map((v) => (Number.isFinite(v) ? v : String(v)));
  return out;
}

export function decodeWindows(stored: StoredWindows): MetricWindows {
  const out: MetricWindows = {};
  for (const [metric, values] of Object.entries(stored)) out[metric] = values.map((v) => (typeof v === 'number' ? v : Number(v)));
  return out;
}
