/**
 * The per-op quantizer tables, as onnxruntime's `registry.py` keeps them: one table per node format, mapping an op
 * type to the quantizer that rewrites it. A target whose node is not listed in its format's table is passed through
 * unchanged (left in float, with the reason in the report), as `CreateOpQuantizer` falls back to the base class.
 * A quantizer first says whether it can rewrite a node (`check`, like `should_quantize`), then rewrites it.
 */
import type { Node } from '../onnx/graph.ts';
import type { Int8Granularity, QuantizeOptions } from './settings.ts';
import type { GraphEditor } from './graph-edit.ts';
import type { Target } from './targets.ts';
import type { ActivationRange } from './calibrate.ts';

/**
 * How a target's weight is stored. int8 with `reduceRange`: values in [-64, 64] (7 bits, onnxruntime's reduce_range)
 * instead of [-127, 127].
 */
export type WeightScheme = { kind: 'int8'; granularity: Int8Granularity; reduceRange: boolean } | { kind: 'int4'; blockSize: number; symmetric: boolean };

/**
 * The node format a target is rewritten into: 'integer' (dynamic int8: DynamicQuantizeMatMul or
 * MatMulInteger, QAttention), 'qdq' (QuantizeLinear/DequantizeLinear pairs), 'nbits' (MatMulNBits).
 */
export type NodeFormat = 'integer' | 'qdq' | 'nbits';

/** What the plan says to do with one target. */
export type Assignment = { format: NodeFormat; scheme: WeightScheme } | { format: 'float'; reason: string };

/** A quantized tensor, for the report. */
export interface TensorRecord {
  /** Target id, e.g. 'layer0.attention.q'. */
  target: string;
  /** The float initializer that was quantized. */
  tensor: string;
  /** The node that now reads the quantized weight. */
  node: string;
  /** Its op type, e.g. 'DynamicQuantizeMatMul'. */
  op: string;
  /** e.g. 'int8 per-channel', 'int4 block 32 symmetric'. */
  scheme: string;
  dims: number[];
  bytesBefore: number;
  /** Bytes of the quantized values, scales and zero points (0 when it reuses another target's weight). */
  bytesAfter: number;
  /** max |w - dequantized w|. */
  maxAbsError: number;
  /** max |w|, to read the error against. */
  maxAbs: number;
}

/** A target left in float, and why. */
export interface FloatRecord {
  target: string;
  node?: string;
  tensor: string;
  bytes: number;
  reason: string;
}

/** State shared by the quantizers of one run. */
export interface RewriteContext {
  edit: GraphEditor;
  options: QuantizeOptions;
  /** Calibrated activation ranges by value name (int8-static). */
  ranges: ReadonlyMap<string, ActivationRange>;
  /** Per-value activation rewrites (DynamicQuantizeLinear outputs, Q/DQ output), shared by readers of one value. */
  activations: Map<string, string[]>;
  /**
   * How many targets the plan quantizes in the 'integer' format read each activation value (Q, K and V read the
   * same one): a value with several readers gets one shared DynamicQuantizeLinear.
   */
  integerReaders: ReadonlyMap<string, number>;
  /** Quantized weights by key, so a weight read by several projections is quantized once. */
  weights: Map<string, { names: string[]; record: TensorRecord }>;
  /** Notes for the report (fallbacks, opset changes). */
  notes: string[];
}

export interface OpQuantizer {
  /** Why `node` cannot be rewritten under `scheme` (it then stays float), or undefined when it can. */
  check(node: Node, target: Target, scheme: WeightScheme, ctx: RewriteContext): string | undefined;
  /** Rewrites `node` in ctx.edit's graph; returns the records of the tensors it quantized. */
  rewrite(node: Node, target: Target, scheme: WeightScheme, ctx: RewriteContext): TensorRecord[];
}

/** Quantizers by op key: the op type, prefixed with its domain for contrib ops ('com.microsoft.Attention'). */
export type OpRegistry = Readonly<Record<string, OpQuantizer>>;

/** The registry key of a node. */
export function opKey(node: Node): string {
  return node.domain ? `${node.domain}.${node.opType}` : node.opType;
}

/** A short text for a scheme, e.g. 'int8 per-channel'. */
export function schemeName(s: WeightScheme): string {
  if (s.kind === 'int4') return `int4 block ${s.blockSize} ${s.symmetric ? 'symmetric' : 'asymmetric'}`;
  const g = s.granularity;
  const name = g.kind === 'tensor' ? 'int8 per-tensor' : g.kind === 'channel' ? 'int8 per-channel' : `int8 group ${g.size}`;
  return s.reduceRange ? `${name} reduced-range` : name;
}

/** A key for an int8 scheme's granularity and range, for weight caches. */
export function int8SchemeKey(s: WeightScheme & { kind: 'int8' }): string {
  const g = s.granularity;
  return `${g.kind === 'group' ? `group${g.size}` : g.kind}${s.reduceRange ? '|reduced' : ''}`;
}
