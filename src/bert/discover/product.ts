/**
 * The node that multiplies a projection's input by its weight, float or quantized, read as
 * "activation x times a constant matrix W [in, out] (or [out, in])":
 * - float: MatMul, Gemm (transB), com.microsoft FusedGemm; the weight directly, through Identity, a [1, 0]
 *   Transpose, or a DequantizeLinear of an integer initializer (QDQ, with the activation possibly behind a
 *   QuantizeLinear → DequantizeLinear pair);
 * - dynamic int8: com.microsoft DynamicQuantizeMatMul; DynamicQuantizeLinear → MatMulInteger → Cast → Mul by
 *   (x_scale · w_scale); com.microsoft MatMulIntegerToFloat;
 * - 4-bit (or n-bit) blocks: com.microsoft MatMulNBits (packed weight [N, K/block, block·bits/8]).
 * Quantized forms are described by a Quantization (structure.ts); `x` is always the float activation in front of
 * any run-time or Q/DQ quantization, and `output` the float product (after MatMulInteger's rescaling Mul).
 */
import { attrInt, attrInts, type Node, type Tensor } from '../../onnx/graph.ts';
import { DataType } from '../../onnx/dtype.ts';
import type { Quantization } from '../structure.ts';
import type { GraphContext } from './graph-context.ts';

const MS = 'com.microsoft';

/** The 2-D weight initializer behind a MatMul/Gemm operand. */
export interface WeightRef {
  name: string;
  tensor: Tensor;
  /** True when a Transpose sits between the initializer and the op. */
  transposed: boolean;
  /** The DequantizeLinear in front of an integer weight (QDQ). */
  dequantize?: Node;
}

/** A product node read as x · W. */
export interface Product {
  node: Node;
  /** The float activation (in front of DynamicQuantizeLinear / QuantizeLinear → DequantizeLinear). */
  x: string;
  /** The stored weight initializer. */
  weight: string;
  /** True when the stored weight is [out, …] (Gemm transB, Transpose, MatMulNBits blocks). */
  outIn: boolean;
  inFeatures: number;
  outFeatures: number;
  /** Value holding x·W (+ a fused bias), as a float. */
  output: string;
  /** A bias the op adds itself (Gemm's C; the bias input of the contrib ops). */
  fusedBias?: string;
  /** Gemm / FusedGemm: never part of a keras Tensordot (which is a MatMul between two Reshapes). */
  gemm: boolean;
  quantization?: Quantization;
}

const isDefault = (n: Node) => n.domain === '';

/** Ops that compute a projection's product. */
export function isProductOp(n: Node): boolean {
  if (isDefault(n)) return n.opType === 'MatMul' || n.opType === 'Gemm' || n.opType === 'MatMulInteger';
  return (
    n.domain === MS && (n.opType === 'FusedGemm' || n.opType === 'DynamicQuantizeMatMul' || n.opType === 'MatMulIntegerToFloat' || n.opType === 'MatMulNBits')
  );
}

/** Bits of a stored weight type. */
function bitsOf(dataType: number): number {
  return dataType === DataType.INT4 || dataType === DataType.UINT4 ? 4 : dataType === DataType.INT16 || dataType === DataType.UINT16 ? 16 : 8;
}

const isIntegerWeight = (t: Tensor) =>
  t.dataType === DataType.INT8 ||
  t.dataType === DataType.UINT8 ||
  t.dataType === DataType.INT4 ||
  t.dataType === DataType.UINT4 ||
  t.dataType === DataType.INT16 ||
  t.dataType === DataType.UINT16;

/** An initializer name (through Identity) for an optional input, or undefined. */
function initName(ctx: GraphContext, value: string | undefined): string | undefined {
  return value ? ctx.initializer(value)?.name : undefined;
}

/** The 2-D weight initializer behind an operand: directly, through Identity, a [1,0] Transpose or a DequantizeLinear. */
export function resolveWeight(ctx: GraphContext, value: string): WeightRef | undefined {
  const direct = ctx.initializer(value);
  if (direct) return direct.tensor.dims.length === 2 ? { ...direct, transposed: false } : undefined;
  const p = ctx.producerOf(value);
  if (!p || !isDefault(p)) return undefined;
  if (p.opType === 'Transpose') {
    const perm = attrInts(p, 'perm');
    if (perm && !(perm.length === 2 && perm[0] === 1 && perm[1] === 0)) return undefined;
    const inner = resolveWeight(ctx, p.inputs[0]);
    return inner && { ...inner, transposed: !inner.transposed };
  }
  if (p.opType === 'DequantizeLinear') {
    // the integers are an initializer, or one read transposed (a decoder tied to the int8 word table)
    const q = resolveWeight(ctx, p.inputs[0]);
    return q && !q.dequantize ? { ...q, dequantize: p } : undefined;
  }
  return undefined;
}

/**
 * The float activation behind a quantized one: `value` is output 0 of DynamicQuantizeLinear(x), output of
 * QuantizeLinear(x), or of DequantizeLinear(QuantizeLinear(x)). Undefined when `value` is not quantized.
 */
export function quantizedActivation(ctx: GraphContext, value: string): { x: string; nodes: Node[] } | undefined {
  const p = ctx.producerOf(value);
  if (!p || !isDefault(p)) return undefined;
  if (p.opType === 'DynamicQuantizeLinear' && p.outputs[0] === ctx.source(value)) return { x: p.inputs[0], nodes: [p] };
  if (p.opType === 'QuantizeLinear') return { x: p.inputs[0], nodes: [p] };
  if (p.opType === 'DequantizeLinear') {
    const q = ctx.producerOf(p.inputs[0]);
    if (q && isDefault(q) && q.opType === 'QuantizeLinear') return { x: q.inputs[0], nodes: [q, p] };
  }
  return undefined;
}

/** The product read off `node`, or undefined when it is not a projection with a constant weight. */
export function productAt(ctx: GraphContext, node: Node): Product | undefined {
  if (!isProductOp(node)) return undefined;
  switch (node.opType) {
    case 'MatMul':
    case 'Gemm':
    case 'FusedGemm':
      return floatProduct(ctx, node);
    case 'DynamicQuantizeMatMul':
      return integerProduct(ctx, node, { x: node.inputs[0], nodes: [] }, node.outputs[0], [], {
        kind: 'dynamic-int8',
        scale: node.inputs[2],
        zeroPoint: node.inputs[3],
        bias: node.inputs[4],
      });
    case 'MatMulIntegerToFloat': {
      const act = quantizedActivation(ctx, node.inputs[0]);
      return (
        act &&
        integerProduct(ctx, node, act, node.outputs[0], [], {
          kind: 'matmul-integer-to-float',
          scale: node.inputs[3],
          zeroPoint: node.inputs[5],
          bias: node.inputs[6],
        })
      );
    }
    case 'MatMulInteger':
      return matMulIntegerProduct(ctx, node);
    case 'MatMulNBits':
      return nbitsProduct(ctx, node);
  }
  return undefined;
}

/** MatMul / Gemm / FusedGemm with a float weight, or a DequantizeLinear'd integer weight (QDQ). */
function floatProduct(ctx: GraphContext, node: Node): Product | undefined {
  const w = resolveWeight(ctx, node.inputs[1]);
  if (!w) return undefined;
  const gemm = node.opType !== 'MatMul';
  if (gemm && (attrInt(node, 'transA', 0) ?? 0) !== 0) return undefined;
  const transB = gemm ? (attrInt(node, 'transB', 0) ?? 0) === 1 : false;
  const outIn = transB !== w.transposed;
  const [d0, d1] = w.tensor.dims;
  const act = w.dequantize ? quantizedActivation(ctx, node.inputs[0]) : undefined;
  const p: Product = {
    node,
    x: act?.x ?? node.inputs[0],
    weight: w.name,
    outIn,
    inFeatures: outIn ? d1 : d0,
    outFeatures: outIn ? d0 : d1,
    output: node.outputs[0],
    gemm,
  };
  if (gemm && node.inputs[2]) p.fusedBias = node.inputs[2];
  if (w.dequantize) {
    const dq = w.dequantize;
    p.quantization = withParams(
      ctx,
      { kind: 'qdq', nodes: [...(act?.nodes ?? []), dq].map((n) => n.name), bits: bitsOf(w.tensor.dataType) },
      dq.inputs[1],
      dq.inputs[2],
    );
  }
  return p;
}

/** Adds the scale and zero point initializers (when they are initializers) to a Quantization. */
function withParams(ctx: GraphContext, q: Quantization, scale: string | undefined, zeroPoint: string | undefined): Quantization {
  const s = initName(ctx, scale);
  const z = initName(ctx, zeroPoint);
  if (s) q.scale = s;
  if (z) q.zeroPoint = z;
  return q;
}

/** An int8 [in, out] weight read by an integer product op (DynamicQuantizeMatMul, MatMulInteger, MatMulIntegerToFloat). */
function integerProduct(
  ctx: GraphContext,
  node: Node,
  act: { x: string; nodes: Node[] },
  output: string,
  extra: Node[],
  o: { kind: Quantization['kind']; scale?: string; zeroPoint?: string; bias?: string },
): Product | undefined {
  // the stored [in, out] weight, or an [out, in] one through a Transpose (an MLM decoder reading the int8 word table)
  const w = resolveWeight(ctx, node.inputs[1]);
  if (!w || w.dequantize || !isIntegerWeight(w.tensor)) return undefined;
  const [d0, d1] = w.tensor.dims;
  const nodes = [...act.nodes, ...extra].map((n) => n.name);
  const p: Product = {
    node,
    x: act.x,
    weight: w.name,
    outIn: w.transposed,
    inFeatures: w.transposed ? d1 : d0,
    outFeatures: w.transposed ? d0 : d1,
    output,
    gemm: false,
    quantization: withParams(ctx, { kind: o.kind, nodes, bits: bitsOf(w.tensor.dataType) }, o.scale, o.zeroPoint),
  };
  if (o.bias) p.fusedBias = o.bias;
  return p;
}

/** DynamicQuantizeLinear(x) → MatMulInteger → Cast(float) → Mul(·, Mul(x_scale, w_scale) | w_scale). */
function matMulIntegerProduct(ctx: GraphContext, node: Node): Product | undefined {
  const act = quantizedActivation(ctx, node.inputs[0]);
  if (!act) return undefined;
  const cast = single(ctx.consumers(node.outputs[0]), 'Cast');
  const mul = cast && single(ctx.consumers(cast.outputs[0]), 'Mul');
  if (!cast || !mul) return undefined;
  const other = mul.inputs[0] === cast.outputs[0] ? mul.inputs[1] : mul.inputs[0];
  const extra: Node[] = [cast];
  let scale = initName(ctx, other);
  if (!scale) {
    const sm = ctx.producerOf(other);
    if (!sm || !isDefault(sm) || sm.opType !== 'Mul') return undefined;
    scale = sm.inputs.map((i) => initName(ctx, i)).find((n): n is string => n !== undefined);
    extra.push(sm);
  }
  extra.push(mul);
  return integerProduct(ctx, node, act, mul.outputs[0], extra, { kind: 'matmul-integer', scale, zeroPoint: node.inputs[3] });
}

/** com.microsoft MatMulNBits(x, B [N, K/block, block·bits/8], scales[, zero points][, g_idx][, bias]). */
function nbitsProduct(ctx: GraphContext, node: Node): Product | undefined {
  const w = ctx.initializer(node.inputs[1]);
  const K = attrInt(node, 'K');
  const N = attrInt(node, 'N');
  const blockSize = attrInt(node, 'block_size');
  const bits = attrInt(node, 'bits', 4) ?? 4;
  if (!w || !K || !N || !blockSize || w.tensor.dims[0] !== N) return undefined;
  const p: Product = {
    node,
    x: node.inputs[0],
    weight: w.name,
    outIn: true,
    inFeatures: K,
    outFeatures: N,
    output: node.outputs[0],
    gemm: false,
    quantization: withParams(ctx, { kind: 'matmul-nbits', nodes: [], bits, blockSize }, node.inputs[2], node.inputs[3]),
  };
  if (node.inputs[5]) p.fusedBias = node.inputs[5];
  return p;
}

/** The only node of `nodes`, when it is a default-domain `opType`. */
function single(nodes: Node[], opType: string): Node | undefined {
  const data = nodes.filter((n) => n.opType !== 'Shape');
  return data.length === 1 && data[0].opType === opType && isDefault(data[0]) ? data[0] : undefined;
}

/**
 * The float product behind `value` (directly or before its bias Add) that reads its weight through a Cast of a
 * constant, as convert_float_to_float16's keep_io_types writes float16 weights behind a Cast to float32: discovery
 * reads constant weights only, and names this one when it refuses.
 */
export function castWeightBehind(ctx: GraphContext, value: string): { product: Node; cast: Node; weight: string; dataType: number } | undefined {
  const p = ctx.producerOf(value);
  for (const n of p && isDefault(p) && p.opType === 'Add' ? p.inputs.map((i) => ctx.producerOf(i)) : [p]) {
    if (!n || !isDefault(n) || (n.opType !== 'MatMul' && n.opType !== 'Gemm')) continue;
    let w = ctx.producerOf(n.inputs[1]);
    if (w && isDefault(w) && w.opType === 'Transpose') w = ctx.producerOf(w.inputs[0]);
    const c = w && isDefault(w) && w.opType === 'Cast' ? ctx.constant(w.inputs[0]) : undefined;
    if (c) return { product: n, cast: w!, weight: c.name, dataType: c.tensor.dataType };
  }
  return undefined;
}

/**
 * The product node whose float output is `value`: its producer, or the MatMulInteger behind the rescaling Mul of
 * the 'matmul-integer' form. Callers check that productAt agrees.
 */
export function productBehind(ctx: GraphContext, value: string): Node | undefined {
  const p = ctx.producerOf(value);
  if (!p) return undefined;
  if (isProductOp(p)) return p;
  if (p.opType === 'Mul' && isDefault(p)) {
    for (const i of p.inputs) {
      const c = ctx.producerOf(i);
      const m = c && c.opType === 'Cast' && isDefault(c) ? ctx.producerOf(c.inputs[0]) : undefined;
      if (m && m.opType === 'MatMulInteger' && isDefault(m)) return m;
    }
  }
  return undefined;
}

/**
 * Product nodes that read `value` as their activation: directly, after DynamicQuantizeLinear, or after a
 * QuantizeLinear (→ DequantizeLinear) pair. Callers check with productAt that `value` is the activation.
 */
export function activationReaders(ctx: GraphContext, value: string): Node[] {
  const out: Node[] = [];
  const add = (n: Node) => {
    if (isProductOp(n) && !out.includes(n)) out.push(n);
  };
  for (const c of ctx.consumers(value)) {
    if (isProductOp(c)) add(c);
    else if (isDefault(c) && c.opType === 'DynamicQuantizeLinear') ctx.consumers(c.outputs[0]).forEach(add);
    else if (isDefault(c) && c.opType === 'QuantizeLinear') {
      for (const d of ctx.consumers(c.outputs[0])) {
        if (isDefault(d) && d.opType === 'DequantizeLinear') ctx.consumers(d.outputs[0]).forEach(add);
        else add(d);
      }
    }
  }
  return out;
}
