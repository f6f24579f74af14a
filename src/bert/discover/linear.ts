/**
 * Matching dense projections y = x·W + b in the forms exporters write them:
 * - MatMul(x, W) then Add(b) (torch; W may come through a Transpose, Identity or DequantizeLinear);
 * - Gemm(x, W, b) with transB (torch's nn.Linear on 2-D inputs), com.microsoft FusedGemm;
 * - keras2onnx's Tensordot: Reshape(x → [N, in]) · MatMul(W) · Reshape(→ [..., out]) then Add(b);
 * - ORT-fused graphs where the bias is folded into the next op (BiasGelu, FastGelu, SkipLayerNormalization).
 *   Then `bias` names it, `biasNode` is absent and `output` is the MatMul's output (no value holds x·W + b);
 * - quantized products (int8 dynamic, QDQ, MatMulNBits: see product.ts), each with its Quantization; the bias Add
 *   after them, or their own bias input.
 * For a keras Tensordot, `node` is the MatMul and `output` the bias Add after the unflatten Reshape.
 */
import type { Node } from '../../onnx/graph.ts';
import { isFloatType } from '../../onnx/dtype.ts';
import { numElements } from '../../onnx/tensor.ts';
import type { Linear } from '../structure.ts';
import type { GraphContext } from './graph-context.ts';
import { activationReaders, productAt, productBehind } from './product.ts';

export { resolveWeight, type WeightRef } from './product.ts';

/** A matched projection plus what the matcher saw around it. */
export interface LinearMatch {
  linear: Linear;
  node: Node;
  /** The value the projection reads (in front of a keras Tensordot flatten and of any activation quantizer). */
  input: string;
  /** The keras Tensordot Reshape nodes around the MatMul, when present. */
  flatten?: Node;
  unflatten?: Node;
}

/** Consumers of a value other than Shape nodes (keras reads the shape of nearly every activation). */
function dataConsumers(ctx: GraphContext, value: string): Node[] {
  return ctx.consumers(value).filter((n) => n.opType !== 'Shape');
}

/** A constant float vector of `size` elements (a bias), as an initializer name. */
function biasInitializer(ctx: GraphContext, value: string, size: number): string | undefined {
  const init = ctx.initializer(value);
  if (!init || !isFloatType(init.tensor.dataType)) return undefined;
  return numElements(init.tensor.dims) === size ? init.name : undefined;
}

/** The projection computed by a product node (see product.ts), or undefined when its weight is not a constant. */
export function linearAt(ctx: GraphContext, node: Node): LinearMatch | undefined {
  const p = productAt(ctx, node);
  if (!p) return undefined;
  let input = p.x;
  let output = p.output;
  let flatten: Node | undefined;
  let unflatten: Node | undefined;
  if (!p.gemm) {
    // keras Tensordot: Reshape(x) → MatMul → Reshape.
    const before = ctx.producerOf(input);
    const after = dataConsumers(ctx, output);
    if (before?.opType === 'Reshape' && after.length === 1 && after[0].opType === 'Reshape') {
      flatten = before;
      unflatten = after[0];
      input = before.inputs[0];
      output = unflatten.outputs[0];
    }
  }

  const linear: Linear = {
    node: node.name,
    weight: p.weight,
    layout: p.outIn ? 'out_in' : 'in_out',
    inFeatures: p.inFeatures,
    outFeatures: p.outFeatures,
    output,
  };
  if (p.quantization) linear.quantization = p.quantization;
  if (p.fusedBias) {
    const b = biasInitializer(ctx, p.fusedBias, p.outFeatures);
    if (b) linear.bias = b;
  } else if (!p.gemm) {
    attachBias(ctx, linear, p.outFeatures);
  }
  return { linear, node, input, flatten, unflatten };
}

/** Finds the bias after a MatMul: an Add of a constant vector, or a fused op that takes the bias as an input. */
function attachBias(ctx: GraphContext, linear: Linear, outFeatures: number): void {
  const next = dataConsumers(ctx, linear.output);
  if (next.length !== 1) return;
  const n = next[0];
  if (n.domain === '' && n.opType === 'Add') {
    const other = ctx.source(n.inputs[0]) === ctx.source(linear.output) ? n.inputs[1] : n.inputs[0];
    const b = biasInitializer(ctx, other, outFeatures);
    if (b) {
      linear.bias = b;
      linear.biasNode = n.name;
      linear.output = n.outputs[0];
    }
    return;
  }
  if (n.domain !== 'com.microsoft') return;
  let biasInput: string | undefined;
  if ((n.opType === 'BiasGelu' || n.opType === 'FastGelu') && n.inputs[0] === linear.output) biasInput = n.inputs[1];
  if (n.opType === 'SkipLayerNormalization') biasInput = n.inputs[4];
  const b = biasInput ? biasInitializer(ctx, biasInput, outFeatures) : undefined;
  if (b) linear.bias = b;
}

/** The projection whose output (after its bias) is `value`, or undefined. */
export function linearProducing(ctx: GraphContext, value: string): LinearMatch | undefined {
  const p = ctx.producerOf(value);
  if (!p) return undefined;
  const candidates: Node[] = [];
  const addCandidate = (v: string) => {
    const direct = productBehind(ctx, v);
    if (direct) candidates.push(direct);
    else if (ctx.producerOf(v)?.opType === 'Reshape') {
      const r = productBehind(ctx, ctx.producerOf(v)!.inputs[0]);
      if (r) candidates.push(r);
    }
  };
  if (p.opType === 'Add' && p.domain === '') p.inputs.forEach(addCandidate);
  else addCandidate(value);
  const want = ctx.source(value);
  for (const c of candidates) {
    const m = linearAt(ctx, c);
    if (m && ctx.source(m.linear.output) === want) return m;
  }
  return undefined;
}

/** Projections that read `value` (directly, through a keras Tensordot flatten, or through an activation quantizer). */
export function linearsReading(ctx: GraphContext, value: string): LinearMatch[] {
  const out: LinearMatch[] = [];
  const seen = new Set<Node>();
  const want = ctx.source(value);
  const tryNode = (n: Node) => {
    if (seen.has(n)) return;
    seen.add(n);
    const m = linearAt(ctx, n);
    if (m && ctx.source(m.input) === want) out.push(m);
  };
  for (const n of activationReaders(ctx, value)) tryNode(n);
  for (const c of ctx.consumers(value)) {
    if (c.opType === 'Reshape' && c.domain === '') for (const d of activationReaders(ctx, c.outputs[0])) tryNode(d);
  }
  return out.sort((a, b) => ctx.position(a.node) - ctx.position(b.node));
}
