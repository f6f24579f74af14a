/**
 * The entropy (KL-divergence, TensorRT-style) activation range, as onnxruntime's EntropyCalibrater computes it, and
 * the percentile range over the same histogram (percentileRange, as its PercentileCalibrater, asymmetric)
 * (onnxruntime/python/tools/quantization/calibrate.py, HistogramCollector.collect_value, merge_histogram and
 * get_entropy_threshold; defaults num_bins 128, num_quantized_bins 128):
 *
 * - Histogram: all calibration batches are one collect, as quantize_static collects them (HistogramCalibrater.collect_data
 *   gathers every batch's outputs before one HistogramCollector.collect): their values counted in `bins` equal bins over
 *   [-t, t], t their largest magnitude (the batches run twice: src/quantize/calibrate.ts), so the histogram never
 *   grows (onnxruntime's merge_histogram, which widens it by whole bins, serves only a second collect), and the smallest
 *   and largest value seen kept alongside.
 * - Threshold: for every window of bins from i below zero to i + 1 above it (i from quantizedBins/2 up to half the
 *   histogram), p is the window with the counts outside it added to its two end bins, q the window merged into `quantizedBins`
 *   bins and spread back evenly over the nonzero bins of p; both are smoothed (zeros get 1e-4, taken off the
 *   nonzero bins) and the window with the least KL(p ‖ q) gives the range, clipped to the smallest and largest
 *   value seen.
 *
 * Deliberately as onnxruntime does, quirks included: q's averaged counts are truncated to integers (onnxruntime
 * stores them in an int64 array), q is not zeroed where p is zero, and the bins past the last whole merged group
 * are left empty in q. With `bins` equal to `quantizedBins` there is a single window, the whole histogram: the range
 * is then the min/max.
 *
 * The arithmetic is numpy's float32 where onnxruntime's is (NumPy 2 promotion rules): the threshold, the bin edges
 * (numpy.linspace in float32) and the bin of each value (numpy.histogram's float32
 * index with its edge correction); the smoothed distributions, their normalization and scipy.stats.entropy's
 * terms and sums (numpy's pairwise float32 summation). Divergences of neighbouring windows often differ in the
 * 7th digit, so float64 sums pick another window on many ordinary histograms. Non-finite values are left out of
 * the counts; an activation holding any is refused before its range is asked (calibrate.ts collectRanges), as
 * onnxruntime's histogram calibration fails on them (numpy.histogram refuses an infinite range).
 */
import type { ActivationRange } from './calibrate.ts';

/** onnxruntime's EntropyCalibrater default num_quantized_bins. */
export const ENTROPY_QUANTIZED_BINS = 128;
/** onnxruntime's EntropyCalibrater default num_bins. */
export const ENTROPY_DEFAULT_BINS = 128;
/** The most histogram bins `entropy:BINS` takes. */
export const ENTROPY_MAX_BINS = 2048;

/** A histogram over [-threshold, threshold] in counts.length equal bins, with the smallest and largest value seen. */
export interface EntropyHistogram {
  counts: Float64Array;
  threshold: number;
  min: number;
  max: number;
}

const f32 = Math.fround;

/**
 * numpy.linspace(-t, t, n + 1) in float32 (NumPy 2: the step and each edge rounded to float32, the last edge t):
 * edge `k` of a histogram of `n` bins over [-t, t].
 */
function edgeAt(t: number, n: number, k: number): number {
  if (t === 0) return k === n ? 0.5 : f32(f32(k * f32(1 / n)) - 0.5); // numpy widens a zero range to ±0.5
  return k === n ? t : f32(f32(k * f32((2 * t) / n)) - t);
}

/**
 * An empty histogram of `bins` bins over [-t, t], t the largest magnitude of the smallest and largest value it will
 * count (onnxruntime's collect_value: threshold max(|min|, |max|) in float32; numpy widens a range of 0 to ±0.5).
 */
export function emptyHistogram(min: number, max: number, bins: number): EntropyHistogram {
  return { counts: new Float64Array(bins), threshold: f32(Math.max(Math.abs(min), Math.abs(max))), min, max };
}

/**
 * Counts the values of `chunks` into `h` as numpy.histogram does in float32: the index ((v + t) / 2t) * n rounded
 * at each step, moved by one where the float32 edges say otherwise, the last bin closed; values outside [-t, t]
 * (and NaN) are left out, as numpy leaves them.
 */
export function countValues(h: EntropyHistogram, chunks: readonly ArrayLike<number>[]): void {
  const { counts, threshold: t } = h;
  const n = counts.length;
  const first = t > 0 ? -t : -0.5;
  const last = t > 0 ? t : 0.5;
  const width = f32(last - first);
  const edges = new Float64Array(n + 1);
  for (let k = 0; k <= n; k++) edges[k] = edgeAt(t, n, k);
  for (const c of chunks) {
    for (let k = 0; k < c.length; k++) {
      const v = f32(c[k]);
      if (!(v >= first && v <= last)) continue; // NaN and ±Infinity too
      let i = Math.trunc(f32(f32(f32(v - first) / width) * n));
      if (i === n) i--;
      if (v < edges[i]) i--;
      if (v >= edges[i + 1] && i !== n - 1) i++;
      counts[i]++;
    }
  }
}

/** onnxruntime's PercentileCalibrater default num_bins, the bins percentile ranges are taken over. */
export const PERCENTILE_BINS = 2048;

/**
 * The range keeping `percentile`% of a histogram's values, (100 - P) / 2 % cut from each end, as onnxruntime's
 * compute_percentile (asymmetric, CalibTensorRangeSymmetric false): the running share of the counts (each bin's count
 * over the total, added bin by bin in float64 as numpy.cumsum), the first bin whose share reaches the cut and the
 * first reaching 1 - cut (numpy.searchsorted; past the last bin: the histogram's end), each bin taken at its lower
 * edge, clipped to the smallest and largest value seen. Deliberately as onnxruntime does: the upper end is a bin's
 * lower edge, so up to a bin below the value where the share is reached (P 100 leaves out the last bin's values
 * unless rounding keeps the share below 1).
 */
export function percentileRange(h: EntropyHistogram, percentile: number): ActivationRange {
  const n = h.counts.length;
  let total = 0;
  for (let i = 0; i < n; i++) total += h.counts[i];
  const cut = (100 - percentile) / 200;
  const upper = 1 - cut;
  let left = n;
  let right = n;
  let share = 0;
  for (let i = 0; i < n && right === n; i++) {
    share += h.counts[i] / total;
    if (left === n && share >= cut) left = i;
    if (share >= upper) right = i;
  }
  return { min: Math.max(edgeAt(h.threshold, n, left), h.min), max: Math.min(edgeAt(h.threshold, n, right), h.max) };
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

/** numpy's pairwise summation of float32 values (np.sum of a float32 array), each step rounded to float32. */
export function pairwiseSum32(a: ArrayLike<number>, from = 0, n = a.length - from): number {
  if (n < 8) {
    let res = -0;
    for (let i = 0; i < n; i++) res = f32(res + a[from + i]);
    return res;
  }
  if (n <= 128) {
    const r = [a[from], a[from + 1], a[from + 2], a[from + 3], a[from + 4], a[from + 5], a[from + 6], a[from + 7]];
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] = f32(r[j] + a[from + i + j]);
    let res = f32(f32(f32(r[0] + r[1]) + f32(r[2] + r[3])) + f32(f32(r[4] + r[5]) + f32(r[6] + r[7])));
    for (; i < n; i++) res = f32(res + a[from + i]);
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return f32(pairwiseSum32(a, from, n2) + pairwiseSum32(a, from + n2, n - n2));
}

/**
 * scipy.stats.entropy(p, q) of float32 p and q: KL(p ‖ q) in nats of the normalized distributions, as scipy
 * computes it in float32 (each distribution divided by its float32 sum, each rel_entr term rounded to float32,
 * the terms summed pairwise in float32).
 */
function klDivergence(p: Float64Array, q: Float64Array): number {
  const sp = pairwiseSum32(p);
  const sq = pairwiseSum32(q);
  const terms = new Float64Array(p.length);
  for (let i = 0; i < p.length; i++) {
    const a = f32(p[i] / sp);
    const b = f32(q[i] / sq);
    // scipy.special.rel_entr: x log(x / y) for x, y > 0; 0 for x = 0, y >= 0; +inf otherwise
    terms[i] = a > 0 && b > 0 ? f32(a * Math.log(a / b)) : a === 0 && b >= 0 ? 0 : Infinity;
  }
  return pairwiseSum32(terms);
}

/** The range of least KL divergence over a histogram (onnxruntime's get_entropy_threshold). */
export function entropyRange(h: EntropyHistogram, quantizedBins = ENTROPY_QUANTIZED_BINS): ActivationRange {
  const hist = h.counts;
  const n = hist.length;
  const zero = n >> 1;
  const halfQuantized = quantizedBins >> 1;
  const edge = (k: number) => edgeAt(h.threshold, n, k);
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
