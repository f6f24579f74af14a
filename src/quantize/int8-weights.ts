/**
 * Symmetric int8 quantization of a row-major matrix: q = clamp(round(w / s), -127, 127), w ≈ q · s, with one
 * scale per tensor, per channel, or per group of channels (Q-BERT). Zero points are 0, so integer kernels need
 * none. -128 is never used, as onnxruntime's symmetric quantizer does (keeps the range symmetric). Scales and codes
 * are onnxruntime's (quant_utils.py quantize_data): s = max|w| / qmax rounded to float32 (1 below float32's smallest
 * normal, as compute_scale_zp), q = numpy.round of the float32 quotient w / s (halves to even, as quantize_nparray).
 * With a reduced range (onnxruntime's `reduce_range`), the values lie in [-64, 64] (7 bits): x86 U8S8 kernels
 * without VNNI add pairs of uint8 · int8 products in 16 bits, which full-range weights can overflow
 * (2 · 255 · 127 > 32767); 2 · 255 · 64 cannot.
 */
import { FLOAT32_TINY, roundHalfEven } from './rounding.ts';
import type { Int8Granularity } from './settings.ts';

export interface Int8Matrix {
  rows: number;
  cols: number;
  /** Which axis holds the channels the scales follow: 0 = one scale per row, 1 = one per column. */
  axis: 0 | 1;
  /** Quantized values, same layout as the input. */
  values: Int8Array;
  /** One scale per channel (length rows or cols; groups repeat their scale), or a single scale (per tensor). */
  scales: Float32Array;
  /** Distinct scales: 1 per tensor, channels / G per group, channels per channel. */
  scaleCount: number;
  /** max |w - q·s| over the matrix. */
  maxAbsError: number;
  /** max |w|. */
  maxAbs: number;
}

/** The largest |q| of full-range symmetric int8 weights. */
export const INT8_QMAX = 127;

/** The largest |q| of reduced-range int8 weights (onnxruntime's ONNX_INT_TYPE_REDUCED_RANGE for int8: [-64, 64]). */
export const INT8_REDUCED_QMAX = 64;

/** The largest |q| of int8 weights quantized with or without a reduced range. */
export function int8Qmax(reduceRange: boolean): number {
  return reduceRange ? INT8_REDUCED_QMAX : INT8_QMAX;
}

/**
 * A scale for values in [-maxAbs, maxAbs] onto [-qmax, qmax], as compute_scale_zp (2 · maxAbs / 2 · qmax in float64,
 * rounded to float32); 1 for one below float32's smallest normal (an all-zero group: its values quantize to 0 either way).
 */
export function int8Scale(maxAbs: number, qmax = INT8_QMAX): number {
  const s = maxAbs / qmax;
  return s >= FLOAT32_TINY ? Math.fround(s) : 1;
}

/** The int8 code of w at scale s: numpy.round of the float32 quotient, as quantize_nparray, within ±qmax. */
function int8Code(w: number, s: number, qmax = INT8_QMAX): number {
  return Math.max(-qmax, Math.min(qmax, roundHalfEven(Math.fround(w / s))));
}

/** Quantizes `w` ([rows, cols], row-major) with channels along `axis`, onto [-qmax, qmax]. */
export function quantizeInt8(w: Float32Array, rows: number, cols: number, axis: 0 | 1, g: Int8Granularity, qmax = INT8_QMAX): Int8Matrix {
  if (!Number.isInteger(qmax) || qmax < 1 || qmax > INT8_QMAX) throw new RangeError(`quantizeInt8: qmax ${qmax} is not in [1, ${INT8_QMAX}]`);
  if (w.length !== rows * cols) throw new RangeError(`quantizeInt8: ${w.length} values for [${rows}, ${cols}]`);
  const channels = axis === 0 ? rows : cols;
  const groupSize = g.kind === 'tensor' ? channels : g.kind === 'group' ? g.size : 1;
  if (channels % groupSize !== 0) throw new RangeError(`quantizeInt8: group size ${groupSize} does not divide ${channels} channels`);
  const channelMax = new Float64Array(channels);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const ch = axis === 0 ? r : c;
      const a = Math.abs(w[r * cols + c]);
      if (a > channelMax[ch]) channelMax[ch] = a;
    }
  }
  const groups = channels / groupSize;
  const groupScale = new Float32Array(groups);
  let maxAbs = 0;
  for (let gi = 0; gi < groups; gi++) {
    let m = 0;
    for (let ch = gi * groupSize; ch < (gi + 1) * groupSize; ch++) m = Math.max(m, channelMax[ch]);
    groupScale[gi] = int8Scale(m, qmax);
    maxAbs = Math.max(maxAbs, m);
  }
  const perChannel = new Float32Array(channels);
  for (let ch = 0; ch < channels; ch++) perChannel[ch] = groupScale[Math.floor(ch / groupSize)];
  const values = new Int8Array(rows * cols);
  let maxAbsError = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      const s = perChannel[axis === 0 ? r : c];
      const q = int8Code(w[i], s, qmax);
      values[i] = q;
      const err = Math.abs(w[i] - Math.fround(q * s));
      if (err > maxAbsError) maxAbsError = err;
    }
  }
  return {
    rows,
    cols,
    axis,
    values,
    scales: g.kind === 'tensor' ? Float32Array.of(groupScale[0]) : perChannel,
    scaleCount: groups,
    maxAbsError,
    maxAbs,
  };
}

/** The float matrix an Int8Matrix stands for. */
export function dequantizeInt8(q: Int8Matrix): Float32Array {
  const out = new Float32Array(q.values.length);
  for (let r = 0; r < q.rows; r++) {
    for (let c = 0; c < q.cols; c++) {
      const s = q.scales.length === 1 ? q.scales[0] : q.scales[q.axis === 0 ? r : c];
      out[r * q.cols + c] = q.values[r * q.cols + c] * s;
    }
  }
  return out;
}

/** Bytes of an int8 [in, out] weight with its float scales (zero points omitted: they are 0). */
export function int8WeightBytes(inFeatures: number, outFeatures: number, g: Int8Granularity): number {
  return inFeatures * outFeatures + 4 * (g.kind === 'tensor' ? 1 : outFeatures);
}
