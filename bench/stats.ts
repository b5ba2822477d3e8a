/** Small statistics for the bench: percentiles by the nearest-rank method, rates, rounding for the table. */

/** The p-th percentile (0 < p ≤ 100) by nearest rank: the smallest sample with at least p% of samples at or below it. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) throw new Error('percentile of no samples');
  if (!(p > 0 && p <= 100)) throw new Error(`percentile ${p} is outside (0, 100]`);
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.ceil((p / 100) * sorted.length) - 1];
}

export interface Percentiles {
  n: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

export function latencySummary(samplesMs: readonly number[]): Percentiles {
  return {
    n: samplesMs.length,
    p50Ms: round(percentile(samplesMs, 50), 1),
    p90Ms: round(percentile(samplesMs, 90), 1),
    p99Ms: round(percentile(samplesMs, 99), 1),
    maxMs: round(Math.max(...samplesMs), 1),
  };
}

/** Events per second over a span; refuses a span that is not positive rather than dividing by it. */
export function perSecond(count: number, spanMs: number): number {
  if (!(spanMs > 0)) throw new Error(`rate over a span of ${spanMs} ms`);
  return (count * 1000) / spanMs;
}

/** a ÷ b, or null when b is zero or either is missing: a ratio the run could not measure is absent, never invented. */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a == null || b == null || b === 0) return null;
  return a / b;
}

export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
