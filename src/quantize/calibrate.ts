/**
 * Activation ranges for static quantization: the chosen values are added as graph outputs of a copy of the model,
 * the calibration batches are run through it (CalibrationRunner), and each value's range is taken as its min/max
 * over all batches, or by onnxruntime's percentile or entropy calibration over one histogram of all batches' values
 * (src/quantize/entropy.ts), as its quantize_static collects them all at once: the batches run twice, the first time
 * for the values' largest magnitude, which sets the histogram's range, the second to count them. Values laid out per
 * token ([batch, seq, …] or [batch · seq, …]) count the real tokens only: the padding positions of a batch (most of
 * a batch of short sentences) compute values the model never uses, which would widen the min/max and, for
 * percentiles, make up most of the sample.
 */
import { NonFiniteInputError, nonFiniteText, counted, quotedText } from '../errors.ts';
import type { Model } from '../onnx/graph.ts';
import { cloneModel } from '../onnx/graph.ts';
import { DataType } from '../onnx/dtype.ts';
import type { BertStructure } from '../bert/structure.ts';
import type { CalibrationBatch, CalibrationSource } from '../pass/pass.ts';
import { CalibrationRunner, type MeasureThreads } from '../pass/measure.ts';
import type { RangeMethod } from './settings.ts';
import { FLOAT32_TINY, roundHalfEven } from './rounding.ts';
import { countValues, emptyHistogram, entropyRange, PERCENTILE_BINS, percentileRange, type EntropyHistogram } from './entropy.ts';

export interface ActivationRange {
  min: number;
  max: number;
}

/**
 * uint8 asymmetric parameters covering [min(range.min, 0), max(range.max, 0)]: x ≈ (q - zeroPoint) · scale, as
 * onnxruntime's compute_scale_zp computes them (quant_utils.py): the range's width in float32 (its ends are float32),
 * over 255 in float64, that scale rounded to float32; the zero point from the float64 scale, rounded half to even
 * (numpy.round); a width below float32's smallest normal gives scale 1 and zero point 0.
 */
export function activationQuantParams(r: ActivationRange): { scale: number; zeroPoint: number } {
  const lo = Math.min(Math.fround(r.min), 0);
  const hi = Math.max(Math.fround(r.max), 0);
  const scale = Math.fround(hi - lo) / 255;
  if (!(scale >= FLOAT32_TINY)) return { scale: 1, zeroPoint: 0 };
  return { scale: Math.fround(scale), zeroPoint: Math.max(0, Math.min(255, roundHalfEven(-lo / scale))) };
}

/**
 * Keeps min/max, or the histogram of percentile or entropy calibration (onnxruntime's PercentileCalibrater's 2048
 * bins, its EntropyCalibrater's `bins`) over all batches at once: `passes` times over the batches, countPass()
 * between the first (the min/max, which sets the histogram's range) and the second (the counts).
 */
export class RangeCollector {
  private min = Infinity;
  private max = -Infinity;
  /** NaN and ±Infinity values of the min/max pass: how many, and the first. */
  private nonFinite = { count: 0, first: 0 };
  /** Whether countPass has ended the min/max pass (a second pass of values no histogram can hold adds them again). */
  private counting = false;
  private histogram: EntropyHistogram | undefined;
  /** The histogram's bins (0 for min/max). */
  private readonly bins: number;

  constructor(private readonly method: RangeMethod) {
    this.bins = method.kind === 'entropy' ? method.bins : method.kind === 'percentile' ? PERCENTILE_BINS : 0;
  }

  /** How many times the batches are added: 1 for min/max, 2 for a histogram. */
  get passes(): 1 | 2 {
    return this.bins ? 2 : 1;
  }

  /** Ends the min/max pass: the batches added from now on are counted into a histogram over the values' largest magnitude. */
  countPass(): void {
    if (!this.bins) throw new Error('RangeCollector.countPass: min/max takes one pass');
    this.counting = true;
    if (this.max >= this.min) this.histogram = emptyHistogram(this.min, this.max, this.bins);
  }

  /** Adds one calibration batch's values, given as chunks. */
  addBatch(chunks: readonly ArrayLike<number>[]): void {
    if (this.histogram) countValues(this.histogram, chunks);
    else for (const c of chunks) this.add(c);
  }

  /** Adds one calibration batch given as rows of `width` values of `data`, the rows whose `mask` entry is not 0 (the real tokens). */
  addRows(data: Float32Array, width: number, mask: ArrayLike<bigint>): void {
    if (this.histogram) {
      const real: Float32Array[] = [];
      for (let t = 0; t < mask.length; t++) if (mask[t] !== 0n) real.push(data.subarray(t * width, (t + 1) * width));
      countValues(this.histogram, real);
    } else for (let t = 0; t < mask.length; t++) if (mask[t] !== 0n) this.add(data, t * width, (t + 1) * width);
  }

  /** Adds values[from..to) (all of them by default) to the min/max. */
  private add(values: ArrayLike<number>, from = 0, to = values.length): void {
    for (let i = from; i < to; i++) {
      const v = values[i];
      if (!Number.isFinite(v)) {
        if (!this.counting && this.nonFinite.count++ === 0) this.nonFinite.first = v;
        continue;
      }
      if (v < this.min) this.min = v;
      if (v > this.max) this.max = v;
    }
  }

  /** The NaN and ±Infinity values the min/max pass met (they fall in no range): how many, and the first. */
  get nonFiniteValues(): { count: number; first: number } {
    return { ...this.nonFinite };
  }

  range(): ActivationRange {
    if (!(this.max >= this.min)) return { min: 0, max: 0 };
    if (this.method.kind === 'minmax') return { min: this.min, max: this.max };
    if (!this.histogram) throw new Error('RangeCollector.range: the histogram was not counted (countPass)');
    return this.method.kind === 'entropy' ? entropyRange(this.histogram) : percentileRange(this.histogram, this.method.percentile);
  }
}

/**
 * Adds the calibration batches to `collectors` (of one method) as many times as they need (RangeCollector.passes):
 * `addAll` adds every batch once.
 */
export async function addInPasses(collectors: readonly RangeCollector[], addAll: () => void | Promise<void>): Promise<void> {
  const passes = collectors[0]?.passes ?? 0;
  for (let pass = 0; pass < passes; pass++) {
    if (pass > 0) for (const c of collectors) c.countPass();
    await addAll();
  }
}

/** Ranges of `values` (float activations of the model) over the calibration batches, its session at the pass's threads (`at`: openMeasuringSession). */
export async function collectRanges(
  model: Model,
  structure: BertStructure,
  calibration: CalibrationSource,
  values: readonly string[],
  method: RangeMethod,
  at: MeasureThreads = {},
): Promise<Map<string, ActivationRange>> {
  const wanted = [...new Set(values)];
  const probe = cloneModel(model);
  const outputs = new Set(probe.graph.outputs.map((o) => o.name));
  for (const v of wanted) if (!outputs.has(v)) probe.graph.outputs.push({ name: v, elemType: DataType.FLOAT });
  const collectors = new Map(wanted.map((v) => [v, new RangeCollector(method)]));
  const runner = await CalibrationRunner.open(probe, structure, calibration, [], at);
  try {
    await addInPasses([...collectors.values()], () =>
      runner.forEach(wanted, (out, batch) => {
        for (const v of wanted) addRealTokens(collectors.get(v)!, out[v].data as Float32Array, out[v].dims, batch);
      }),
    );
  } finally {
    await runner.release();
  }
  requireFiniteActivations(collectors, calibration.batches.length);
  return new Map(wanted.map((v) => [v, collectors.get(v)!.range()]));
}

/**
 * Refuses an activation holding NaN or ±Infinity on the calibration examples' real tokens: no range covers them
 * (onnxruntime's histogram calibration fails on them, its min/max gives a NaN scale), so a range of the finite values
 * alone would quantize a value the float model does not compute finitely either.
 */
function requireFiniteActivations(collectors: ReadonlyMap<string, RangeCollector>, batches: number): void {
  for (const [value, c] of collectors) {
    const bad = c.nonFiniteValues;
    if (!bad.count) continue;
    throw new NonFiniteInputError(
      `quantize int8-static: the float model computes ${nonFiniteText({ count: bad.count, value: bad.first })} at ${quotedText(value)} on the ${counted(batches, 'calibration batch', 'calibration batches')}: no activation range covers them; fix or retrain the model before quantizing it`,
    );
  }
}

/** Adds a batch of a value to `c`, leaving out the padding positions when the value is laid out per token. */
export function addRealTokens(c: RangeCollector, data: Float32Array, dims: readonly number[], b: CalibrationBatch): void {
  const tokens = b.batch * b.seq;
  // [batch, seq, features] needs its feature axis: the pooler's and the head's input, [batch, hidden], are per
  // example, whatever their width (a hidden size equal to the batch's sequence length must not read as tokens)
  const perToken = (dims.length >= 3 && dims[0] === b.batch && dims[1] === b.seq) || (dims.length >= 1 && dims[0] === tokens);
  if (!perToken || data.length % tokens !== 0 || !b.attentionMask.includes(0n)) {
    c.addBatch([data]);
    return;
  }
  c.addRows(data, data.length / tokens, b.attentionMask);
}
