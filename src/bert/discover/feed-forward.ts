/**
 * Matching the feed-forward block: the projection reading the attention LayerNorm's output, the activation after it
 * (the erf GELU decompositions of torch and keras, the tanh GELU, Relu, x·Sigmoid(x), or the Gelu / FastGelu /
 * BiasGelu ops), and the projection back to the hidden width.
 */
import { attrString, type Node } from '../../onnx/graph.ts';
import type { Activation, FeedForward } from '../structure.ts';
import type { GraphContext } from './graph-context.ts';
import { linearsReading, type LinearMatch } from './linear.ts';

/**
 * Ops the search for the second projection does not walk through (they are not part of an activation): products,
 * shape ops, attention and LayerNorm ops, and the quantizers in front of a quantized projection.
 */
const NOT_ACTIVATION = new Set([
  'MatMul',
  'Gemm',
  'FusedGemm',
  'Reshape',
  'Shape',
  'Transpose',
  'Softmax',
  'LayerNormalization',
  'SkipLayerNormalization',
  'Attention',
  'QAttention',
  'MatMulInteger',
  'DynamicQuantizeMatMul',
  'MatMulIntegerToFloat',
  'MatMulNBits',
  'DynamicQuantizeLinear',
  'QuantizeLinear',
  'DequantizeLinear',
]);

/** Activations written as several ops: the ops each may use, and the op it must contain. */
const DECOMPOSED: Array<{ activation: Activation; ops: ReadonlySet<string>; marker: string }> = [
  { activation: 'gelu', ops: new Set(['Div', 'Mul', 'Erf', 'Add', 'Cast']), marker: 'Erf' },
  { activation: 'gelu_tanh', ops: new Set(['Mul', 'Pow', 'Add', 'Tanh', 'Div', 'Cast']), marker: 'Tanh' },
  { activation: 'relu', ops: new Set(['Relu']), marker: 'Relu' },
  { activation: 'silu', ops: new Set(['Sigmoid', 'Mul']), marker: 'Sigmoid' },
];

const MAX_ACTIVATION_NODES = 32;

export interface FeedForwardMatch {
  ffn: FeedForward;
  /** The second projection (its output is the block's output before the residual). */
  out: LinearMatch;
}

/** The FFN reading `input` (the attention LayerNorm's output). `where` names the layer in messages. */
export function matchFeedForward(ctx: GraphContext, where: string, input: string): FeedForwardMatch {
  const ins = linearsReading(ctx, input);
  if (ins.length !== 1) {
    ctx.refuse(`${where}: expected one feed-forward projection reading the attention LayerNorm output '${input}', found ${ins.length}`);
  }
  const first = ins[0];
  const visited = new Set<Node>();
  const outs = new Map<Node, LinearMatch>();
  const stack = [first.linear.output];
  const seen = new Set<string>();
  while (stack.length && visited.size <= MAX_ACTIVATION_NODES) {
    const v = stack.pop()!;
    if (seen.has(v)) continue;
    seen.add(v);
    for (const m of linearsReading(ctx, v)) outs.set(m.node, m);
    for (const c of ctx.consumers(v)) {
      if (NOT_ACTIVATION.has(c.opType) || visited.has(c)) continue;
      visited.add(c);
      stack.push(c.outputs[0]);
    }
  }
  if (outs.size !== 1) {
    ctx.refuse(`${where}: expected one feed-forward output projection after '${first.node.name}' and its activation, found ${outs.size}`);
  }
  const out = [...outs.values()][0];
  const nodes = upstreamWithin(ctx, out.input, visited).sort((a, b) => ctx.position(a) - ctx.position(b));
  const activation = classifyActivation(ctx, where, nodes);
  if (out.linear.inFeatures !== first.linear.outFeatures) {
    ctx.refuse(
      `${where}: feed-forward projections '${first.node.name}' (→ ${first.linear.outFeatures}) and '${out.node.name}' (${out.linear.inFeatures} →) do not match`,
    );
  }
  return {
    ffn: {
      in: first.linear,
      out: out.linear,
      activation,
      activationNodes: nodes.map((n) => n.name),
      intermediateSize: first.linear.outFeatures,
    },
    out,
  };
}

/** The nodes of `within` that `value` is computed from. */
function upstreamWithin(ctx: GraphContext, value: string, within: ReadonlySet<Node>): Node[] {
  const found = new Set<Node>();
  const stack = [value];
  while (stack.length) {
    const p = ctx.producerOf(stack.pop()!);
    if (!p || found.has(p) || !within.has(p)) continue;
    found.add(p);
    stack.push(...p.inputs);
  }
  return [...found];
}

/** Names the activation computed by `nodes`, or refuses. */
export function classifyActivation(ctx: GraphContext, where: string, nodes: Node[]): Activation {
  if (nodes.length === 1) {
    const n = nodes[0];
    if (n.opType === 'Gelu') return attrString(n, 'approximate') === 'tanh' ? 'gelu_tanh' : 'gelu';
    if (n.opType === 'BiasGelu' && n.domain === 'com.microsoft') return 'gelu';
    if (n.opType === 'FastGelu' && n.domain === 'com.microsoft') return 'gelu_tanh';
  }
  const types = new Set(nodes.map((n) => n.opType));
  for (const d of DECOMPOSED) {
    if (types.has(d.marker) && [...types].every((t) => d.ops.has(t))) return d.activation;
  }
  const ops = nodes.length ? nodes.map((n) => n.opType).join(', ') : 'none';
  return ctx.refuse(`${where}: feed-forward activation not understood (ops between the projections: ${ops})`);
}
