// Nearest-rank statistics of a sample of durations.
import { round } from "./config.js";

/** Nearest-rank percentile (p in 0..100) of the values. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[Math.min(rank, s.length) - 1]!;
}

export interface Stats {
  n: number;
  min?: number | null;
  p50?: number | null;
  p90?: number | null;
  p99?: number | null;
  max?: number | null;
  mean?: number | null;
  p99IsMax?: boolean;
}

export function stats(values: readonly number[]): Stats {
  if (values.length === 0) return { n: 0 };
  const s = [...values].sort((a, b) => a - b);
  return {
    n: s.length,
    min: round(s[0]),
    p50: round(percentile(s, 50)),
    p90: round(percentile(s, 90)),
    p99: round(percentile(s, 99)),
    max: round(s[s.length - 1]),
    mean: round(s.reduce((a, b) => a + b, 0) / s.length),
    p99IsMax: s.length < 100,
  };
}
