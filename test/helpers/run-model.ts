/** Running in-memory models on the same sample inputs, for before/after comparisons in pass tests. */
import type { Model } from '../../src/onnx/index.ts';
import { encodeModel } from '../../src/onnx/index.ts';
import * as ort from 'onnxruntime-node';
import { cpuInfo, int8Saturates } from '../../src/bench/machine.ts';
import { floatValues, openSession, sessionOptions, type Feeds, type GraphOptimizationLevel } from '../../src/runtime/session.ts';
import { idFeeds } from '../../src/runtime/feeds.ts';
import { encoderFeeds, runAll } from './feeds.ts';
import { sampleInputs } from '../../src/bert/sample-inputs.ts';
import type { BertStructure } from '../../src/bert/structure.ts';

export function sampleFeeds(model: Model, s: BertStructure, batch = 3, seq = 12): Feeds {
  return idFeeds(sampleInputs(model, s, { batch, seq }));
}

/** Whether this CPU's int8 products saturate (x64 without AVX-512 VNNI / AVX-VNNI: bench/machine.ts int8Saturates). */
export const INT8_SATURATES = int8Saturates(cpuInfo().flags);
/**
 * Ops whose uint8 × int8 products onnxruntime's x64 kernels without VNNI add in saturating 16-bit pairs, with the
 * input of their int8 weight (the one onnxruntime's x64quantprecision rewrite converts: avx2_weight_s8_to_u8.cc).
 */
const INT8_PRODUCTS = new Map([
  ['MatMulInteger', 1],
  ['MatMulIntegerToFloat', 1],
  ['DynamicQuantizeMatMul', 1],
  ['QAttention', 1],
  ['QGemm', 3],
  ['QLinearMatMul', 3],
]);

/**
 * Whether `model` runs at `level` with onnxruntime's session.x64quantprecision here: on a CPU whose int8 products
 * saturate, a model with int8 products (or a QDQ model onnxruntime fuses into them at `level`: fusesQdq), so that its
 * int8 weights are read as uint8 + 128 and the products added in 32 bits (as on VNNI CPUs): the tests then compare
 * what the quantization computes, the same numbers on both kinds of CPU, not the AVX2 kernels' 16-bit saturation. Not where that rewrite (Avx2WeightS8ToU8, and QDQS8ToU8 for a
 * DequantizeLinear of an int8 initializer) breaks the model: a per-axis DequantizeLinear of an int8 initializer
 * without a zero point (the one it adds is a scalar: brokenDequantize), or an int8 weight several converted nodes
 * read (ALBERT's shared layers: 'Attempt to replace the existing tensor'); such tests quantize with reduceRange there
 * instead. A DequantizeLinear of a computed value (a per-tensor int8 table's, after its Gather) is no weight the
 * rewrite reads, so it does not stop it.
 */
function precise(model: Model, level: GraphOptimizationLevel): boolean {
  return INT8_SATURATES && (hasInt8Products(model) || fusesQdq(model, level)) && !brokenDequantize(model) && !sharesInt8Weight(model);
}

/** Whether `model` as written has int8 products. */
function hasInt8Products(model: Model): boolean {
  return model.graph.nodes.some((n) => INT8_PRODUCTS.has(n.opType));
}

/**
 * Whether onnxruntime at `level` runs `model` with int8 products it fuses: at 'extended' and 'all', the Q/DQ pairs of
 * int8-static (QDQ) around a product become QLinearMatMul or MatMulIntegerToFloat, whose int8 weights (a
 * DequantizeLinear's int8 initializer) saturate as any; 'disabled' and 'basic' run the graph's float products.
 */
function fusesQdq(model: Model, level: GraphOptimizationLevel): boolean {
  return (level === 'extended' || level === 'all') && model.graph.nodes.some((n) => n.opType === 'DequantizeLinear' && isInt8Initializer(model, n.inputs[0]));
}

/** ONNX's INT8 data type. */
const INT8 = 3;

/** Whether `name` is an int8 initializer of `model`. */
function isInt8Initializer(model: Model, name: string | undefined): boolean {
  return name !== undefined && model.graph.initializers.get(name)?.dataType === INT8;
}

/**
 * Whether a DequantizeLinear reads an int8 initializer with a scale that is not one value (per axis, or not an
 * initializer) and no zero point: the rewrite gives it a scalar uint8 zero point beside the per-axis scale, which
 * onnxruntime then refuses.
 */
function brokenDequantize(model: Model): boolean {
  return model.graph.nodes.some((n) => {
    if (n.opType !== 'DequantizeLinear' || !isInt8Initializer(model, n.inputs[0]) || n.inputs[2]) return false;
    const scale = model.graph.initializers.get(n.inputs[1] ?? '');
    return scale?.dims.reduce((a, b) => a * b, 1) !== 1;
  });
}

/**
 * Whether an int8 initializer is the weight of more than one node the rewrite converts (int8 products at their weight
 * input, DequantizeLinear at its input; shared layers): it converts the weight once per reader, under one name, and
 * fails on the second (see precise). Zero points several nodes share, and a Gather beside one product (a tied word
 * table), are fine.
 */
function sharesInt8Weight(model: Model): boolean {
  const readers = new Set<string>();
  for (const n of model.graph.nodes) {
    const at = n.opType === 'DequantizeLinear' ? 0 : INT8_PRODUCTS.get(n.opType);
    const name = at === undefined ? undefined : n.inputs[at];
    if (!isInt8Initializer(model, name)) continue;
    if (readers.has(name!)) return true;
    readers.add(name!);
  }
  return false;
}

/** A session for tests: its input names, runs and release (onnxruntime's own, or the project's openSession's). */
export interface TestSession {
  readonly inputNames: readonly string[];
  run(feeds: Feeds): Promise<Record<string, ort.Tensor>>;
  release(): Promise<void>;
}

/**
 * A session on `model` (its bytes or file at `file`) at `level`, or, for a `precise` model, with onnxruntime's
 * session.x64quantprecision at level 'extended' at least (a level-2 rewrite).
 */
export async function openTestSession(model: Model, level: GraphOptimizationLevel, file?: string): Promise<TestSession> {
  const source = file ?? encodeModel(model);
  if (!precise(model, level)) return openSession(source, { graphOptimizationLevel: level });
  const graphOptimizationLevel = level === 'all' ? 'all' : 'extended';
  const options = { ...sessionOptions({ graphOptimizationLevel }), extra: { session: { x64quantprecision: '1' } } };
  return typeof source === 'string' ? ort.InferenceSession.create(source, options) : ort.InferenceSession.create(source, options);
}

/**
 * Every output of `model` on `feeds` (plus extra feeds such as head masks), as Float32Arrays (float16 ones decoded),
 * with onnxruntime's optimizations off (the graph as written) unless `level` says otherwise (see openTestSession).
 */
export async function outputsOf(model: Model, feeds: Feeds, level: GraphOptimizationLevel = 'disabled'): Promise<Record<string, Float32Array>> {
  const s = await openTestSession(model, level);
  try {
    const out = await s.run(feeds);
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, floatValues(v)]));
  } finally {
    await s.release();
  }
}

export function maxDiff(a: Record<string, Float32Array>, b: Record<string, Float32Array>): number {
  let m = 0;
  for (const k of Object.keys(b)) {
    if (!a[k] || a[k].length !== b[k].length) return Infinity;
    for (let i = 0; i < a[k].length; i++) m = Math.max(m, Math.abs(a[k][i] - b[k][i]));
  }
  return m;
}

/** Largest absolute output value, to put a difference in scale. */
export function maxAbs(a: Record<string, Float32Array>): number {
  let m = 0;
  for (const v of Object.values(a)) for (const x of v) m = Math.max(m, Math.abs(x));
  return m;
}

/** max |a − b| / max |a| over every output. */
export function relativeDiff(a: Record<string, Float32Array>, b: Record<string, Float32Array>): number {
  return maxDiff(a, b) / Math.max(maxAbs(a), 1e-12);
}

/**
 * Every output of `model` on a seeded padded batch whose inputs are chosen by name (ids, mask, token types), for
 * graphs whose structure is not the point of the test.
 */
export async function runModel(model: Model, opts: { vocab: number; batch?: number; seq?: number; seed?: number }): Promise<Record<string, Float32Array>> {
  const session = await openSession(encodeModel(model));
  try {
    return await runAll(session, encoderFeeds(session, { batch: opts.batch ?? 2, seq: opts.seq ?? 9, vocab: opts.vocab, seed: opts.seed }));
  } finally {
    await session.release();
  }
}
