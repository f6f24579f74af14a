/** Order statistics of latency samples. Pure functions. */

export interface LatencyStats {
  /** Timed runs (warm-up excluded). */
  runs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  meanMs: number;
  minMs: number;
  /** Examples per second at the median latency: batch / p50. */
  throughput: number;
}

/**
 * The q-quantile (0 ≤ q ≤ 1) of `values` by linear interpolation between closest ranks (numpy's default);
 * NaN for no values.
 */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = Math.min(Math.max(q, 0), 1) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export const median = (values: readonly number[]): number => quantile(values, 0.5);

/** Latency statistics of `samplesMs` for runs of `batch` examples. */
export function latencyStats(samplesMs: readonly number[], batch: number): LatencyStats {
  const p50 = quantile(samplesMs, 0.5);
  return {
    runs: samplesMs.length,
    p50Ms: p50,
    p90Ms: quantile(samplesMs, 0.9),
    p99Ms: quantile(samplesMs, 0.99),
    meanMs: samplesMs.reduce((a, b) => a + b, 0) / samplesMs.length,
    minMs: samplesMs.reduce((a, b) => Math.min(a, b), Infinity),
    throughput: p50 > 0 ? (1000 * batch) / p50 : NaN,
  };
}

/**
 * The speed-up of A over the baseline B from interleaved runs: the median over rounds of B_i / A_i. Pairing each
 * run with its neighbour cancels slow drifts of the machine (frequency, other load) that a ratio of two medians
 * taken apart would keep.
 */
export function pairedSpeedup(modelMs: readonly number[], baselineMs: readonly number[]): number {
  const n = Math.min(modelMs.length, baselineMs.length);
  const ratios: number[] = [];
  for (let i = 0; i < n; i++) if (modelMs[i]! > 0) ratios.push(baselineMs[i]! / modelMs[i]!);
  return median(ratios);
}

/** The geometric mean of positive values (NaN when there are none). */
export function geometricMean(values: readonly number[]): number {
  const ok = values.filter((v) => v > 0 && Number.isFinite(v));
  if (ok.length === 0) return NaN;
  return Math.exp(ok.reduce((a, v) => a + Math.log(v), 0) / ok.length);
}
