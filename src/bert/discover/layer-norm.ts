/**
 * Matching LayerNorms: the LayerNormalization op (ai.onnx ≥ 17, or the contrib op ORT writes), com.microsoft
 * SkipLayerNormalization (residual add + LayerNorm), and the two decompositions exporters emit:
 * - torch: m = ReduceMean(x); d = x − m; v = ReduceMean(d² | d·d); y = d / Sqrt(v + ε) · γ + β
 *   (older exporters compute x − m twice; others multiply d by Reciprocal(Sqrt(v + ε)) or 1 / Sqrt(v + ε));
 * - keras2onnx (`batchnorm` names): r = Reciprocal(Sqrt(v + ε)); g = r·γ; y = x·g + (β − m·g).
 * A pattern's `nodes` are its compute nodes (not the Constant nodes holding 2 or ε).
 */
import { attrFloat, attrInt, attrInts, type Node } from '../../onnx/graph.ts';
import { DataType, isFloatType } from '../../onnx/dtype.ts';
import type { LayerNorm } from '../structure.ts';
import type { GraphContext } from './graph-context.ts';

/** A matched LayerNorm with the value(s) it normalizes. */
export interface NormMatch {
  norm: LayerNorm;
  /** The normalized value (for a skip LayerNorm: its first input). */
  input: string;
  /** For SkipLayerNormalization: the residual added to `input` before normalizing. */
  skip?: string;
}

const DEFAULT_EPSILON = 1e-5;

/** A float initializer (through Identity): the name, or undefined. */
function floatParam(ctx: GraphContext, value: string): string | undefined {
  const init = ctx.initializer(value);
  return init && isFloatType(init.tensor.dataType) ? init.name : undefined;
}

/**
 * The `type` node making `value`, looking through Casts between float types: quantize float16 computes a decomposed
 * LayerNorm's variance in float32, behind a Cast to float32 before the square and one to float16 after the Sqrt.
 */
function op(ctx: GraphContext, value: string, type: string): Node | undefined {
  let p = ctx.producerOf(value);
  while (p && p.domain === '' && p.opType === 'Cast' && type !== 'Cast') {
    const to = p.attributes.to;
    if (to?.type !== 'int' || (to.value !== DataType.FLOAT && to.value !== DataType.FLOAT16)) return undefined;
    p = ctx.producerOf(p.inputs[0]);
  }
  return p && p.domain === '' && p.opType === type ? p : undefined;
}

/**
 * The ReduceMean making `value` (through Casts, as op) where it averages over the last axis, keeping it: -1, or the
 * rank less one where the rank of its input follows from the graph's shapes (GraphContext.rank: a [batch, sequence,
 * hidden] graph's 2), else an axis counted from the front past the batch's; undefined for a mean over other axes (-2
 * or 1: the sequence; several; all, where no axes are given), which no LayerNorm takes.
 */
function lastAxisMean(ctx: GraphContext, value: string): Node | undefined {
  const rm = op(ctx, value, 'ReduceMean');
  if (!rm) return undefined;
  const axes = rm.inputs[1] ? ctx.constNumbers(rm.inputs[1]) : attrInts(rm, 'axes');
  if (axes?.length !== 1 || attrInt(rm, 'keepdims', 1) !== 1) return undefined;
  const rank = ctx.rank(rm.inputs[0]);
  return axes[0] === -1 || (rank !== undefined ? axes[0] === rank - 1 : axes[0]! >= 1) ? rm : undefined;
}

/** Both operand orders of a binary node. */
function orders(n: Node): Array<[string, string]> {
  return [
    [n.inputs[0], n.inputs[1]],
    [n.inputs[1], n.inputs[0]],
  ];
}

/** Add(v, ε) in either order: [v, ε]. */
function varianceAndEpsilon(ctx: GraphContext, add: Node): [string, number] | undefined {
  for (const [v, e] of orders(add)) {
    const eps = ctx.foldScalar(e);
    if (eps !== undefined && !ctx.isConstantValue(v)) return [v, eps];
  }
  return undefined;
}

/** ReduceMean(d²) or ReduceMean(d·d): [the ReduceMean, the square node, d]. */
function meanOfSquare(ctx: GraphContext, value: string): [Node, Node, string] | undefined {
  const rm = lastAxisMean(ctx, value);
  if (!rm) return undefined;
  const pow = op(ctx, rm.inputs[0], 'Pow');
  if (pow && ctx.foldScalar(pow.inputs[1]) === 2) return [rm, pow, pow.inputs[0]];
  const sq = op(ctx, rm.inputs[0], 'Mul');
  if (sq && ctx.source(sq.inputs[0]) === ctx.source(sq.inputs[1])) return [rm, sq, sq.inputs[0]];
  return undefined;
}

/** Sub(x, ReduceMean(x)) (or Sub(ReduceMean(x), x) when `eitherOrder`): [the Sub, the ReduceMean, x]. */
function centered(ctx: GraphContext, value: string, eitherOrder: boolean): [Node, Node, string] | undefined {
  const sub = op(ctx, value, 'Sub');
  if (!sub) return undefined;
  const pairs = eitherOrder ? orders(sub) : [[sub.inputs[0], sub.inputs[1]] as [string, string]];
  for (const [x, m] of pairs) {
    const rm = lastAxisMean(ctx, m);
    if (rm && ctx.source(rm.inputs[0]) === ctx.source(x)) return [sub, rm, x];
  }
  return undefined;
}

function unique(nodes: Node[]): string[] {
  return [...new Set(nodes.map((n) => n.name))];
}

/**
 * d / Sqrt(v + ε), or d times 1 / Sqrt(v + ε) (see inverseStd): [its nodes from the Add of ε on, d, v, ε].
 */
function dividedByStd(ctx: GraphContext, value: string): [Node[], string, string, number] | undefined {
  const div = op(ctx, value, 'Div');
  if (div) {
    const sqrt = op(ctx, div.inputs[1], 'Sqrt');
    const addEps = sqrt && op(ctx, sqrt.inputs[0], 'Add');
    const ve = addEps && varianceAndEpsilon(ctx, addEps);
    return sqrt && addEps && ve ? [[addEps, sqrt, div], div.inputs[0], ve[0], ve[1]] : undefined;
  }
  const mul = op(ctx, value, 'Mul');
  for (const [d, r] of mul ? orders(mul) : []) {
    const inv = inverseStd(ctx, r);
    if (inv) return [[...inv[0].reverse(), mul!], d, inv[1], inv[2]];
  }
  return undefined;
}

/** The torch decomposition ending in `fin` (the Add of β); its division may be a product with 1 / Sqrt(v + ε). */
function matchTorchPattern(ctx: GraphContext, fin: Node): NormMatch | undefined {
  for (const [mulOut, betaIn] of orders(fin)) {
    const beta = floatParam(ctx, betaIn);
    const mul = beta ? op(ctx, mulOut, 'Mul') : undefined;
    if (!beta || !mul) continue;
    for (const [divOut, gammaIn] of orders(mul)) {
      const gamma = floatParam(ctx, gammaIn);
      const std = gamma ? dividedByStd(ctx, divOut) : undefined;
      if (!gamma || !std) continue;
      const [stdNodes, deviation, variance, epsilon] = std;
      const sq = meanOfSquare(ctx, variance);
      const num = centered(ctx, deviation, false);
      const den = sq && centered(ctx, sq[2], false);
      if (!sq || !num || !den) continue;
      if (ctx.source(num[2]) !== ctx.source(den[2])) continue;
      return {
        norm: {
          kind: 'pattern',
          nodes: unique([num[1], num[0], den[0], sq[1], sq[0], ...stdNodes, mul, fin]),
          scale: gamma,
          bias: beta,
          epsilon,
          output: fin.outputs[0],
        },
        input: num[2],
      };
    }
  }
  return undefined;
}

/** 1 / Sqrt(v + ε) as Reciprocal(Sqrt(…)) or Div(1, Sqrt(…)): [nodes, v, ε]. */
function inverseStd(ctx: GraphContext, value: string): [Node[], string, number] | undefined {
  let sqrtIn: string | undefined;
  const recip = op(ctx, value, 'Reciprocal');
  const div = op(ctx, value, 'Div');
  const head: Node[] = [];
  if (recip) {
    sqrtIn = recip.inputs[0];
    head.push(recip);
  } else if (div && ctx.foldScalar(div.inputs[0]) === 1) {
    sqrtIn = div.inputs[1];
    head.push(div);
  }
  const sqrt = sqrtIn && op(ctx, sqrtIn, 'Sqrt');
  const addEps = sqrt && op(ctx, sqrt.inputs[0], 'Add');
  const ve = addEps && varianceAndEpsilon(ctx, addEps);
  if (!sqrt || !addEps || !ve) return undefined;
  return [[...head, sqrt, addEps], ve[0], ve[1]];
}

/** The keras2onnx `batchnorm` decomposition ending in `fin`: y = x·g + (β − m·g), g = γ / Sqrt(v + ε). */
function matchKerasPattern(ctx: GraphContext, fin: Node): NormMatch | undefined {
  for (const [scaledOut, shiftOut] of orders(fin)) {
    const sub = op(ctx, shiftOut, 'Sub');
    const beta = sub && floatParam(ctx, sub.inputs[0]);
    const meanTimesG = sub && op(ctx, sub.inputs[1], 'Mul');
    const xTimesG = op(ctx, scaledOut, 'Mul');
    if (!sub || !beta || !meanTimesG || !xTimesG) continue;
    for (const [gOut, x] of orders(xTimesG)) {
      const g = op(ctx, gOut, 'Mul');
      if (!g) continue;
      const mean = meanTimesG.inputs.find((v) => ctx.source(v) !== ctx.source(gOut));
      const rm = mean && lastAxisMean(ctx, mean);
      if (!mean || !rm || ctx.source(rm.inputs[0]) !== ctx.source(x)) continue;
      for (const [rOut, gammaIn] of orders(g)) {
        const gamma = floatParam(ctx, gammaIn);
        const inv = gamma && inverseStd(ctx, rOut);
        const sq = inv && meanOfSquare(ctx, inv[1]);
        const d = sq && centered(ctx, sq[2], true);
        if (!gamma || !inv || !sq || !d || ctx.source(d[2]) !== ctx.source(x)) continue;
        return {
          norm: {
            kind: 'pattern',
            nodes: unique([rm, d[0], sq[1], sq[0], ...inv[0].reverse(), g, meanTimesG, sub, xTimesG, fin]),
            scale: gamma,
            bias: beta,
            epsilon: inv[2],
            output: fin.outputs[0],
          },
          input: x,
        };
      }
    }
  }
  return undefined;
}

/** The LayerNorm computed by `node` (as its final node), or undefined. */
export function matchLayerNorm(ctx: GraphContext, node: Node): NormMatch | undefined {
  if (node.opType === 'LayerNormalization' && (node.domain === '' || node.domain === 'com.microsoft')) {
    const scale = floatParam(ctx, node.inputs[1]);
    const bias = node.inputs[2] ? floatParam(ctx, node.inputs[2]) : undefined;
    if (!scale || !bias) return undefined;
    return {
      norm: { kind: 'op', nodes: [node.name], scale, bias, epsilon: attrFloat(node, 'epsilon', DEFAULT_EPSILON)!, output: node.outputs[0] },
      input: node.inputs[0],
    };
  }
  if (node.opType === 'SkipLayerNormalization' && node.domain === 'com.microsoft') {
    const scale = floatParam(ctx, node.inputs[2]);
    const bias = node.inputs[3] ? floatParam(ctx, node.inputs[3]) : undefined;
    if (!scale || !bias) return undefined;
    return {
      norm: { kind: 'skip-op', nodes: [node.name], scale, bias, epsilon: attrFloat(node, 'epsilon', DEFAULT_EPSILON)!, output: node.outputs[0] },
      input: node.inputs[0],
      skip: node.inputs[1],
    };
  }
  if (node.opType === 'Add' && node.domain === '') return matchTorchPattern(ctx, node) ?? matchKerasPattern(ctx, node);
  return undefined;
}

/** Every LayerNorm of a graph, found once, looked up by the value it normalizes or by its output. */
export class NormIndex {
  private readonly byInput = new Map<string, NormMatch[]>();
  private readonly byOutput = new Map<string, NormMatch>();
  private readonly inOrder: NormMatch[] = [];

  constructor(private readonly ctx: GraphContext) {
    for (const n of ctx.graph.nodes) {
      const m = matchLayerNorm(ctx, n);
      if (!m) continue;
      this.inOrder.push(m);
      this.byOutput.set(m.norm.output, m);
      for (const v of m.skip !== undefined ? [m.input, m.skip] : [m.input]) {
        const key = ctx.source(v);
        const list = this.byInput.get(key) ?? [];
        list.push(m);
        this.byInput.set(key, list);
      }
    }
  }

  /** Every LayerNorm, in graph order (of its final node). */
  all(): readonly NormMatch[] {
    return this.inOrder;
  }

  /** LayerNorms normalizing `value` (skip LayerNorms: `value` is either summand). */
  reading(value: string): NormMatch[] {
    return this.byInput.get(this.ctx.source(value)) ?? [];
  }

  /** The LayerNorm whose output is `value`. */
  producing(value: string): NormMatch | undefined {
    return this.byOutput.get(this.ctx.source(value)) ?? this.byOutput.get(value);
  }
}
