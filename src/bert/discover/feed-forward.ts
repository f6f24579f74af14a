/**
 * Matching the feed-forward block: the projection reading the attention LayerNorm's output, the activation after it
 * (the erf GELU decompositions of torch and keras, the tanh GELU, Relu, x·Sigmoid(x), Tanh, or the Gelu / FastGelu /
 * BiasGelu ops), and the projection back to the hidden width. An activation written as ops is named by the values
 * they compute on sample inputs, not by which ops they are.
 */
import { attrString, type Node } from '../../onnx/graph.ts';
import type { Activation, FeedForward } from '../structure.ts';
import type { GraphContext } from './graph-context.ts';
import { linearsReading, type LinearMatch } from './linear.ts';
import { quotedText } from '../../errors.ts';

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
  // (x·Sigmoid(x) or quick_gelu's x·Sigmoid(1.702x): the values tell them apart)
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
    ctx.refuse(`${where}: expected one feed-forward projection reading the attention LayerNorm output ${quotedText(input)}, found ${ins.length}`);
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
    ctx.refuse(`${where}: expected one feed-forward output projection after ${quotedText(first.node.name)} and its activation, found ${outs.size}`);
  }
  const out = [...outs.values()][0];
  const nodes = upstreamWithin(ctx, out.input, visited).sort((a, b) => ctx.position(a) - ctx.position(b));
  const activation = classifyActivation(ctx, where, nodes);
  if (out.linear.inFeatures !== first.linear.outFeatures) {
    ctx.refuse(
      `${where}: feed-forward projections ${quotedText(first.node.name)} (→ ${first.linear.outFeatures}) and ${quotedText(out.node.name)} (${out.linear.inFeatures} →) do not match`,
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
  const ops = nodes.length ? nodes.map((n) => n.opType).join(', ') : 'none';
  const candidate = DECOMPOSED.find((d) => types.has(d.marker) && [...types].every((t) => d.ops.has(t)))?.activation;
  if (!candidate) return ctx.refuse(`${where}: feed-forward activation not understood (ops between the projections: ${ops})`);
  // The ops alone do not say what is computed (a lone Tanh is not the tanh GELU, x·Sigmoid(1.702x) is not SiLU):
  // the nodes are evaluated on sample inputs; element-wise ops computing none of the activations (to float16
  // rounding) are 'other'.
  const values = evaluateActivation(ctx, nodes);
  if (!values) return candidate;
  // 1e-4: float16 constants (1/√2 as 0.7070) move the erf GELU by 3e-5; the erf and tanh GELUs differ by 4e-4
  const error = (a: keyof typeof ACTIVATION_FUNCTIONS) =>
    Math.max(...SAMPLE_INPUTS.map((x, i) => Math.abs(values[i] - ACTIVATION_FUNCTIONS[a](x)) / Math.max(1, Math.abs(values[i]))));
  const computed = ACTIVATION_NAMES.filter((a) => error(a) <= 1e-4).sort((a, b) => error(a) - error(b))[0];
  if (computed) return computed;
  return 'other';
}

/** Where the activation is evaluated: both signs, small and large. */
const SAMPLE_INPUTS = [-5, -3, -1.7, -0.9, -0.4, -0.05, 0.1, 0.6, 1.3, 2.2, 4];

/** erf with |error| < 1.2e-7 (Numerical Recipes' Chebyshev fit of erfc). */
function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const poly =
    -1.26551223 +
    t *
      (1.00002368 +
        t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const r = t * Math.exp(-z * z + poly);
  return x >= 0 ? 1 - r : r - 1;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** The activations discovery names, as functions (transformers' ACT2FN: gelu, gelu_new, relu, silu, quick_gelu, tanh). */
const ACTIVATION_FUNCTIONS: Readonly<Record<Exclude<Activation, 'other'>, (x: number) => number>> = {
  gelu: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  gelu_tanh: (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))),
  relu: (x) => Math.max(0, x),
  silu: (x) => x * sigmoid(x),
  quick_gelu: (x) => x * sigmoid(1.702 * x),
  tanh: Math.tanh,
};
const ACTIVATION_NAMES = Object.keys(ACTIVATION_FUNCTIONS) as Array<keyof typeof ACTIVATION_FUNCTIONS>;

/** Element-wise ops of one or two operands, as evaluateActivation computes them. */
const ELEMENTWISE: Readonly<Record<string, (a: number, b: number) => number>> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
  Div: (a, b) => a / b,
  Pow: (a, b) => a ** b,
  Tanh: Math.tanh,
  Erf: erf,
  Sigmoid: sigmoid,
  Relu: (a) => Math.max(0, a),
  Neg: (a) => -a,
  Sqrt: Math.sqrt,
  Exp: Math.exp,
  Reciprocal: (a) => 1 / a,
  Cast: (a) => a,
  Identity: (a) => a,
};

/**
 * The values the activation nodes compute for each of SAMPLE_INPUTS, fed to the one value they read that is not a
 * constant; undefined when they cannot be evaluated so (an op or a constant that is not a scalar, several inputs or
 * outputs).
 */
function evaluateActivation(ctx: GraphContext, nodes: readonly Node[]): number[] | undefined {
  const produced = new Set(nodes.flatMap((n) => n.outputs));
  const constants = new Map<string, number>();
  const external = new Set<string>();
  for (const n of nodes) {
    if (n.domain !== '') return undefined;
    if (!Object.hasOwn(ELEMENTWISE, n.opType)) return undefined;
    for (const i of n.inputs) {
      if (!i || produced.has(i) || constants.has(i) || external.has(i)) continue;
      const c = ctx.foldScalar(i);
      if (c === undefined) external.add(i);
      else constants.set(i, c);
    }
  }
  const read = new Set(nodes.flatMap((n) => n.inputs));
  const outputs = nodes.flatMap((n) => n.outputs).filter((o) => !read.has(o));
  if (external.size !== 1 || outputs.length !== 1) return undefined;
  const [x] = external;
  // the nodes in an order that computes each input before it is read (once: the same for every sample)
  const order: Node[] = [];
  const ready = new Set([x, ...constants.keys()]);
  for (let left = [...nodes]; left.length; ) {
    const next = left.filter((n) => n.inputs.every((i) => !i || ready.has(i)));
    if (!next.length) return undefined;
    for (const n of next) {
      order.push(n);
      for (const o of n.outputs) ready.add(o);
    }
    left = left.filter((n) => !next.includes(n));
  }
  return SAMPLE_INPUTS.map((sample) => {
    const known = new Map(constants).set(x, sample);
    for (const n of order) {
      const [a, b] = n.inputs.map((i) => known.get(i) ?? Number.NaN);
      known.set(n.outputs[0], ELEMENTWISE[n.opType](a, b));
    }
    return known.get(outputs[0]) ?? Number.NaN;
  });
}
