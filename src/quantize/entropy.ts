/**
 * The entropy (KL-divergence, TensorRT-style) activation range, as onnxruntime's EntropyCalibrater computes it
 * (onnxruntime/python/tools/quantization/calibrate.py, HistogramCollector.collect_value, merge_histogram and
 * get_entropy_threshold; defaults num_bins 128, num_quantized_bins 128):
 *
 * - Histogram: each calibration batch is one collect. The first batch's values are counted in `bins` equal bins
 *   over [-t, t], t its largest magnitude. A later batch whose magnitude fits is counted in the same bins; a larger
 *   one widens the histogram by whole bins of the same width on both sides (the old counts stay in the middle), so
 *   the bin count can grow past `bins`. The smallest and largest values seen are kept alongside.
 * - Threshold: for every window of bins from i below zero to i + 1 above it (i from quantizedBins/2 up to half the
 *   histogram), p is the window with the counts outside it added to its two end bins, q the window merged into `quantizedBins`
 *   bins and spread back evenly over the nonzero bins of p; both are smoothed (zeros get 1e-4, taken off the
 *   nonzero bins) and the window with the least KL(p ‖ q) gives the range, clipped to the smallest and largest
 *   value seen.
 *
 * Deliberately as onnxruntime does, quirks included: q's averaged counts are truncated to integers (onnxruntime
 * stores them in an int64 array), q is not zeroed where p is zero, and the bins past the last whole merged group
 * are left empty in q. With `bins` equal to `quantizedBins` and a histogram that never grew there is a single
 * window, the whole histogram: the range is then the min/max. Differences: sums run in float64 (numpy's in float32
 * for the smoothed distributions), non-finite values are skipped, and a histogram that would grow past
 * MAX_HISTOGRAM_BINS has its bins merged in pairs first (onnxruntime keeps growing; its search is quadratic in the
 * bin count), which needs a value to grow more than MAX_HISTOGRAM_BINS / bins times after its first batch.
 */
import type { ActivationRange } from './calibrate.ts';

/** onnxruntime's EntropyCalibrater default num_quantized_bins. */
export const ENTROPY_QUANTIZED_BINS = 128;
/** onnxruntime's EntropyCalibrater default num_bins. */
export const ENTROPY_DEFAULT_BINS = 128;
/** The most histogram bins `entropy:BINS` takes. */
export const ENTROPY_MAX_BINS = 2048;
/** The most bins a histogram grows to; past it the bins are merged in pairs. */
export const MAX_HISTOGRAM_BINS = 8192;

/** A histogram over [-threshold, threshold] in counts.length equal bins, with the smallest and largest value seen. */
export interface EntropyHistogram {
  counts: Float64Array;
  threshold: number;
  min: number;
  max: number;
}

/** Counts the values of `chunks` into `n` bins over [-t, t] (numpy.histogram's rule: the last bin is closed). */
function countInto(counts: Float64Array, offset: number, n: number, t: number, chunks: readonly ArrayLike<number>[]): void {
  for (const c of chunks) {
    for (let k = 0; k < c.length; k++) {
      const v = c[k];
      if (!Number.isFinite(v)) continue;
      // a zero threshold: every value is 0, counted in the bin starting at 0 (numpy widens such a range to ±0.5)
      let i = t > 0 ? Math.floor(((v + t) / (2 * t)) * n) : n >> 1;
      if (i >= n) i = n - 1;
      else if (i < 0) i = 0;
      counts[offset + i]++;
    }
  }
}

/** Merges adjacent bins in pairs, padding one empty bin on each side first when the halves are odd (zero stays an edge). */
function halve(h: EntropyHistogram): EntropyHistogram {
  let counts = h.counts;
  let threshold = h.threshold;
  if ((counts.length / 2) % 2 !== 0) {
    const padded = new Float64Array(counts.length + 2);
    padded.set(counts, 1);
    threshold += (2 * h.threshold) / counts.length;
    counts = padded;
  }
  const merged = new Float64Array(counts.length / 2);
  for (let i = 0; i < merged.length; i++) merged[i] = counts[2 * i] + counts[2 * i + 1];
  return { ...h, counts: merged, threshold };
}

/**
 * Adds one calibration batch (its values as chunks) to a histogram of `bins` bins, or starts one (onnxruntime's
 * collect_value and merge_histogram). `bins` must be even.
 */
export function addToHistogram(h: EntropyHistogram | undefined, chunks: readonly ArrayLike<number>[], bins: number): EntropyHistogram | undefined {
  let min = Infinity;
  let max = -Infinity;
  for (const c of chunks) {
    for (let k = 0; k < c.length; k++) {
      const v = c[k];
      if (!Number.isFinite(v)) continue;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  if (!(max >= min)) return h; // nothing finite in this batch
  const t = Math.max(Math.abs(min), Math.abs(max));
  if (!h) {
    const counts = new Float64Array(bins);
    countInto(counts, 0, bins, t, chunks);
    return { counts, threshold: t, min, max };
  }
  const lo = Math.min(h.min, min);
  const hi = Math.max(h.max, max);
  if (t <= h.threshold) {
    countInto(h.counts, 0, h.counts.length, h.threshold, chunks);
    return { ...h, min: lo, max: hi };
  }
  if (h.threshold === 0) {
    // the old values were all 0: counted again in the middle bin of the new range
    const counts = new Float64Array(h.counts.length);
    countInto(counts, 0, counts.length, t, chunks);
    for (let i = 0; i < counts.length; i++) counts[i] += h.counts[i];
    return { counts, threshold: t, min: lo, max: hi };
  }
  let old = h;
  let half = 0;
  for (;;) {
    const stride = (2 * old.threshold) / old.counts.length;
    half = Math.floor((t - old.threshold) / stride) + 1;
    if (old.counts.length + 2 * half <= MAX_HISTOGRAM_BINS) break;
    old = halve(old);
  }
  const stride = (2 * old.threshold) / old.counts.length;
  const n = old.counts.length + 2 * half;
  const threshold = half * stride + old.threshold;
  const counts = new Float64Array(n);
  countInto(counts, 0, n, threshold, chunks);
  for (let i = 0; i < old.counts.length; i++) counts[half + i] += old.counts[i];
  return { counts, threshold, min: lo, max: hi };
}

/** onnxruntime's smooth_distribution (eps 1e-4) in place, the values rounded to float32 as numpy's; false when all zero. */
function smooth(p: Float64Array): boolean {
  let zeros = 0;
  for (let i = 0; i < p.length; i++) if (p[i] === 0) zeros++;
  const nonzeros = p.length - zeros;
  if (nonzeros === 0) return false;
  const eps = Math.fround(1e-4);
  const eps1 = Math.fround(-((1e-4 * zeros) / nonzeros));
  for (let i = 0; i < p.length; i++) p[i] = p[i] === 0 ? eps : Math.fround(Math.fround(p[i]) + eps1);
  return true;
}

/** scipy.stats.entropy(p, q): KL(p ‖ q) in nats of the normalized distributions. */
function klDivergence(p: Float64Array, q: Float64Array): number {
  let sp = 0;
  let sq = 0;
  for (let i = 0; i < p.length; i++) {
    sp += p[i];
    sq += q[i];
  }
  let kl = 0;
  for (let i = 0; i < p.length; i++) {
    const a = p[i] / sp;
    if (a > 0) kl += a * Math.log(a / (q[i] / sq));
  }
  return kl;
}

/** The range of least KL divergence over a histogram (onnxruntime's get_entropy_threshold). */
export function entropyRange(h: EntropyHistogram, quantizedBins = ENTROPY_QUANTIZED_BINS): ActivationRange {
  const hist = h.counts;
  const n = hist.length;
  const zero = n >> 1;
  const halfQuantized = quantizedBins >> 1;
  const edge = (k: number) => -h.threshold + (k * 2 * h.threshold) / n;
  // prefix sums of the counts, for the outliers outside a window
  const before = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) before[i + 1] = before[i] + hist[i];
  // numpy.argmin: the first least divergence (the first window when every divergence is infinite)
  let best: { kl: number; lo: number; hi: number } | undefined;
  for (let i = halfQuantized; i <= zero; i++) {
    const start = zero - i;
    const end = Math.min(n, zero + i + 1);
    const size = end - start;
    const p = hist.slice(start, end);
    p[0] += before[start];
    p[size - 1] += before[n] - before[end];
    const merged = Math.floor(size / quantizedBins);
    const q = new Float64Array(size);
    for (let b = 0; b < quantizedBins; b++) {
      const from = b * merged;
      const to = from + merged;
      let sum = 0;
      for (let k = from; k < to; k++) sum += hist[start + k];
      if (b === quantizedBins - 1) for (let k = quantizedBins * merged; k < size; k++) sum += hist[start + k];
      let norm = 0;
      for (let k = from; k < to; k++) if (p[k] !== 0) norm++;
      if (norm !== 0) q.fill(Math.trunc(sum / norm), from, to);
    }
    const kl = smooth(p) && smooth(q) ? klDivergence(p, q) : Infinity;
    if (!best || kl < best.kl) best = { kl, lo: edge(start), hi: edge(end) };
  }
  if (!best) return { min: h.min, max: h.max }; // fewer bins than quantizedBins: no window
  return { min: Math.max(best.lo, h.min), max: Math.min(best.hi, h.max) };
}
