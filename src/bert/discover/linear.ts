/**
 * Matching dense projections y = x·W + b in the forms exporters write them:
 * - MatMul(x, W) then Add(b) (torch; W may come through a Transpose, Identity or DequantizeLinear);
 * - Gemm(x, W, b) with transB (torch's nn.Linear on 2-D inputs), com.microsoft FusedGemm;
 * - keras2onnx's Tensordot: Reshape(x → [N, in]) · MatMul(W) · Reshape(→ [..., out]) then Add(b);
 * - ORT-fused graphs where the bias is folded into the next op (BiasGelu, FastGelu, SkipLayerNormalization).
 *   Then `bias` names it, `biasNode` is absent and `output` is the MatMul's output (no value holds x·W + b).
 * For a keras Tensordot, `node` is the MatMul and `output` the bias Add after the unflatten Reshape.
 */
import { attrInt, attrInts, type Node, type Tensor } from '../../onnx/graph.ts';
import { isFloatType } from '../../onnx/dtype.ts';
import { numElements } from '../../onnx/tensor.ts';
import type { Linear } from '../structure.ts';
import type { GraphContext } from './graph-context.ts';

/** A matched projection plus what the matcher saw around it. */
export interface LinearMatch {
  linear: Linear;
  node: Node;
  /** The value the projection reads (in front of a keras Tensordot flatten, when there is one). */
  input: string;
  /** The keras Tensordot Reshape nodes around the MatMul, when present. */
  flatten?: Node;
  unflatten?: Node;
}

/** The weight initializer behind a MatMul/Gemm operand. */
export interface WeightRef {
  name: string;
  tensor: Tensor;
  /** True when a Transpose sits between the initializer and the op. */
  transposed: boolean;
}

const isLinearOp = (n: Node) =>
  (n.domain === '' && (n.opType === 'MatMul' || n.opType === 'Gemm')) || (n.domain === 'com.microsoft' && n.opType === 'FusedGemm');

/** The 2-D weight initializer behind an operand: directly, through Identity, a [1,0] Transpose or a DequantizeLinear. */
export function resolveWeight(ctx: GraphContext, value: string): WeightRef | undefined {
  const direct = ctx.initializer(value);
  if (direct) return direct.tensor.dims.length === 2 ? { ...direct, transposed: false } : undefined;
  const p = ctx.producerOf(value);
  if (!p || p.domain !== '') return undefined;
  if (p.opType === 'Transpose') {
    const perm = attrInts(p, 'perm');
    if (perm && !(perm.length === 2 && perm[0] === 1 && perm[1] === 0)) return undefined;
    const inner = resolveWeight(ctx, p.inputs[0]);
    return inner && { ...inner, transposed: !inner.transposed };
  }
  if (p.opType === 'DequantizeLinear') {
    const q = ctx.initializer(p.inputs[0]);
    return q && q.tensor.dims.length === 2 ? { ...q, transposed: false } : undefined;
  }
  return undefined;
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

/** The projection computed by a MatMul / Gemm / FusedGemm node, or undefined when its weight is not a constant. */
export function linearAt(ctx: GraphContext, node: Node): LinearMatch | undefined {
  if (!isLinearOp(node)) return undefined;
  const w = resolveWeight(ctx, node.inputs[1]);
  if (!w) return undefined;
  const isGemm = node.opType !== 'MatMul';
  if (isGemm && (attrInt(node, 'transA', 0) ?? 0) !== 0) return undefined;
  const transB = isGemm ? (attrInt(node, 'transB', 0) ?? 0) === 1 : false;
  const outIn = transB !== w.transposed;
  const [d0, d1] = w.tensor.dims;
  const inFeatures = outIn ? d1 : d0;
  const outFeatures = outIn ? d0 : d1;

  let input = node.inputs[0];
  let output = node.outputs[0];
  let flatten: Node | undefined;
  let unflatten: Node | undefined;
  if (!isGemm) {
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
    weight: w.name,
    layout: outIn ? 'out_in' : 'in_out',
    inFeatures,
    outFeatures,
    output,
  };
  if (isGemm && node.inputs[2]) {
    const b = biasInitializer(ctx, node.inputs[2], outFeatures);
    if (b) linear.bias = b;
  } else {
    attachBias(ctx, linear, outFeatures);
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
    const q = ctx.producerOf(v);
    if (!q) return;
    if (isLinearOp(q)) candidates.push(q);
    else if (q.opType === 'Reshape') {
      const r = ctx.producerOf(q.inputs[0]);
      if (r && isLinearOp(r)) candidates.push(r);
    }
  };
  if (isLinearOp(p)) candidates.push(p);
  else if (p.opType === 'Reshape') addCandidate(value);
  else if (p.opType === 'Add' && p.domain === '') p.inputs.forEach(addCandidate);
  const want = ctx.source(value);
  for (const c of candidates) {
    const m = linearAt(ctx, c);
    if (m && ctx.source(m.linear.output) === want) return m;
  }
  return undefined;
}

/** Projections that read `value` (directly, or through a keras Tensordot flatten). */
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
  for (const c of ctx.consumers(value)) {
    if (isLinearOp(c) && ctx.source(c.inputs[0]) === want) tryNode(c);
    else if (c.opType === 'Reshape' && c.domain === '') {
      for (const d of ctx.consumers(c.outputs[0])) if (d.opType === 'MatMul' && d.inputs[0] === c.outputs[0]) tryNode(d);
    }
  }
  return out.sort((a, b) => ctx.position(a.node) - ctx.position(b.node));
}

