/** Order statistics of latency samples. Pure functions, but for the working array a caller may lend them (copied). */

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
 * Samples the statistics read in order: a plain array, a Float64Array, or the chunks a benchmark keeps its latencies
 * in (Latencies, latencies.ts), none copied into a JavaScript array.
 */
export interface Samples {
  readonly length: number;
  at(index: number): number | undefined;
}

/**
 * `values` copied, in their order, into a working array: `work`'s first `values.length` elements (a caller's, so that a
 * benchmark's statistics share one: shapeStats in run.ts), else a new Float64Array.
 */
function copied(values: Samples, work: Float64Array | undefined): Float64Array {
  const n = values.length;
  if (work !== undefined && work.length < n) throw new RangeError(`a working array of ${work.length} for ${n} samples`);
  const into = work === undefined ? new Float64Array(n) : work.subarray(0, n);
  for (let i = 0; i < n; i++) into[i] = values.at(i)!;
  return into;
}

/** The `q`-quantile of `sorted` (ascending) by linear interpolation between closest ranks; NaN for none. */
function sortedQuantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = Math.min(Math.max(q, 0), 1) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/**
 * The q-quantile (0 ≤ q ≤ 1) of `values` by linear interpolation between closest ranks (numpy's default);
 * NaN for no values. `values` are copied into a Float64Array and sorted there.
 */
export function quantile(values: Samples, q: number): number {
  return sortedQuantile(copied(values, undefined).sort(), q);
}

export const median = (values: Samples): number => quantile(values, 0.5);

/**
 * Latency statistics of `samplesMs` for runs of `batch` examples: the samples copied once into `work` (see
 * copied), their sum and minimum taken in run order, then sorted there for the percentiles.
 */
export function latencyStats(samplesMs: Samples, batch: number, work?: Float64Array): LatencyStats {
  const sorted = copied(samplesMs, work);
  let sum = 0;
  let min = Infinity;
  for (const v of sorted) {
    sum += v;
    min = Math.min(min, v);
  }
  sorted.sort();
  const p50 = sortedQuantile(sorted, 0.5);
  return {
    runs: sorted.length,
    p50Ms: p50,
    p90Ms: sortedQuantile(sorted, 0.9),
    p99Ms: sortedQuantile(sorted, 0.99),
    meanMs: sum / sorted.length,
    minMs: min,
    throughput: p50 > 0 ? (1000 * batch) / p50 : NaN,
  };
}

/**
 * The speed-up of A over the baseline B from interleaved runs: the median over rounds of B_i / A_i. Pairing each
 * run with its neighbour cancels slow drifts of the machine (frequency, other load) that a ratio of two medians
 * taken apart would keep. The model's times are copied into `work` (see copied), the ratios written over them and
 * sorted there.
 */
export function pairedSpeedup(modelMs: Samples, baselineMs: Samples, work?: Float64Array): number {
  const n = Math.min(modelMs.length, baselineMs.length);
  // the model's times, each replaced in turn by its round's ratio (the kept ones packed from the start: k <= i)
  const ratios = copied(modelMs, work);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const m = ratios[i]!;
    if (m > 0) ratios[k++] = baselineMs.at(i)! / m;
  }
  return sortedQuantile(ratios.subarray(0, k).sort(), 0.5);
}

/** The geometric mean of positive values (NaN when there are none). */
export function geometricMean(values: readonly number[]): number {
  const ok = values.filter((v) => v > 0 && Number.isFinite(v));
  if (ok.length === 0) return NaN;
  return Math.exp(ok.reduce((a, v) => a + Math.log(v), 0) / ok.length);
}
