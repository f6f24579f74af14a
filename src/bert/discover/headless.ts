/**
 * Encoder layers without attention: what prune-heads leaves when it removes every head of a layer. The attention
 * branch's contribution to the residual stream is then a constant, the removed output projection's bias (or
 * nothing), added to the layer input x in one of these forms:
 *
 *   LayerNorm(x + b)                                    (plain residual Add, b an initializer [hidden])
 *   LayerNorm(x + Mul(x, 0) [+ b])                      (the same, written shape-preserving)
 *   SkipLayerNormalization(Mul(x, 0) [+ b], x[, …, b])  (ORT-fused; the bias may be the op's own bias input)
 *
 * (in a last layer that computes the first token only, x[:, 0:1] in place of x: EncoderLayer.firstToken), then the
 * feed-forward block and its residual LayerNorm as in any layer (encoder-layer.ts). The layer is found from
 * its input value alone, so the discovery can walk the residual stream across layers that have no Softmax or
 * Attention node to anchor on.
 */
import type { Node } from '../../onnx/graph.ts';
import { isFloatType } from '../../onnx/dtype.ts';
import { numElements } from '../../onnx/tensor.ts';
import type { EncoderLayer } from '../structure.ts';
import { firstTokenOf } from './attention.ts';
import { residualNorm } from './encoder-layer.ts';
import { matchFeedForward } from './feed-forward.ts';
import type { GraphContext } from './graph-context.ts';
import type { NormIndex, NormMatch } from './layer-norm.ts';
import { quotedText } from '../../errors.ts';

/** The constant branch added to x in place of attention: its bias initializer, if any. */
interface Replacement {
  bias?: string;
}

/** A float initializer holding `width` numbers in its last dimension (a [hidden] / [1, 1, hidden] vector). */
function biasVector(ctx: GraphContext, value: string, width: number): string | undefined {
  const init = ctx.initializer(ctx.source(value));
  if (!init || !isFloatType(init.tensor.dataType)) return undefined;
  const dims = init.tensor.dims;
  return dims.length >= 1 && dims.at(-1) === width && numElements(dims) === width ? init.name : undefined;
}

/** Mul(x, 0) in either operand order. */
function isZeroTimes(ctx: GraphContext, node: Node | undefined, x: string): boolean {
  if (node?.opType !== 'Mul' || node.domain !== '') return false;
  const [a, b] = node.inputs;
  return (ctx.source(a) === x && ctx.foldScalar(b) === 0) || (ctx.source(b) === x && ctx.foldScalar(a) === 0);
}

/** `value` as a constant branch of x (b, Mul(x, 0), or Mul(x, 0) + b), or undefined. */
function replacementOf(ctx: GraphContext, value: string, x: string, width: number): Replacement | undefined {
  const bias = biasVector(ctx, value, width);
  if (bias) return { bias };
  const p = ctx.producerOf(value);
  if (isZeroTimes(ctx, p, x)) return {};
  if (p?.opType !== 'Add' || p.domain !== '') return undefined;
  for (const [m, b] of [
    [p.inputs[0], p.inputs[1]],
    [p.inputs[1], p.inputs[0]],
  ]) {
    const bv = biasVector(ctx, b, width);
    if (bv && isZeroTimes(ctx, ctx.producerOf(m), x)) return { bias: bv };
  }
  return undefined;
}

/** Width of a LayerNorm (elements of its scale). */
function normWidth(ctx: GraphContext, m: NormMatch): number {
  const t = ctx.graph.initializers.get(m.norm.scale);
  return t ? numElements(t.dims) : 0;
}

/** The LayerNorm of x + (constant branch of x), with the bias of the branch (or of the SkipLayerNormalization). */
function attentionFreeNorm(ctx: GraphContext, norms: NormIndex, x: string): { norm: NormMatch; bias?: string } | undefined {
  const xs = ctx.source(x);
  for (const m of norms.reading(x)) {
    if (m.skip === undefined) continue;
    const pair = [m.input, m.skip];
    const other = pair.find((v) => ctx.source(v) !== xs);
    if (!other || !pair.some((v) => ctx.source(v) === xs)) continue;
    const r = replacementOf(ctx, other, xs, normWidth(ctx, m));
    if (!r) continue;
    const sln = ctx.producerOf(m.norm.output);
    const own = sln?.inputs[4] ? biasVector(ctx, sln.inputs[4], normWidth(ctx, m)) : undefined;
    if (r.bias && own)
      ctx.refuse(
        `layer without attention at SkipLayerNormalization ${quotedText(sln!.name)}: both ${quotedText(r.bias)} and its bias input ${quotedText(own)} are added in place of attention`,
      );
    return { norm: m, bias: r.bias ?? own };
  }
  for (const add of ctx.consumers(x)) {
    if (add.opType !== 'Add' || add.domain !== '') continue;
    const other = add.inputs.find((v) => ctx.source(v) !== xs);
    if (!other || !add.inputs.some((v) => ctx.source(v) === xs)) continue;
    const m = norms.reading(add.outputs[0]).find((n) => n.skip === undefined);
    const r = m && replacementOf(ctx, other, xs, normWidth(ctx, m));
    if (m && r) return { norm: m, bias: r.bias };
  }
  return undefined;
}

/**
 * The layer without attention that reads `x` (layer `index`), or undefined when no LayerNorm of x plus a constant
 * follows x. Refuses (NotBertError) when that LayerNorm is there but the rest of the layer is not understood.
 */
export function matchHeadlessLayer(ctx: GraphContext, norms: NormIndex, x: string, index: number): EncoderLayer | undefined {
  let found = attentionFreeNorm(ctx, norms, x);
  let firstToken: string | undefined;
  if (!found) {
    // A last layer that computes the first token only (EncoderLayer.firstToken) adds the constant to x[:, 0:1].
    for (const c of ctx.consumers(x)) {
      const slice = c.outputs[0];
      if (!slice || firstTokenOf(ctx, slice) !== ctx.source(x)) continue;
      found = attentionFreeNorm(ctx, norms, slice);
      if (found) {
        firstToken = slice;
        break;
      }
    }
  }
  if (!found) return undefined;
  const attentionNorm = found.norm.norm;
  const where = `layer ${index} (no attention; LayerNorm ${quotedText(attentionNorm.nodes[attentionNorm.nodes.length - 1])})`;
  const ff = matchFeedForward(ctx, where, attentionNorm.output);
  const outputNorm = residualNorm(ctx, norms, ff.out.linear.output, attentionNorm.output);
  if (!outputNorm) ctx.refuse(`${where}: no residual Add + LayerNorm after the feed-forward output projection ${quotedText(ff.out.node.name)}`);
  const layer: EncoderLayer = {
    index,
    input: x,
    output: outputNorm.norm.output,
    attentionNorm,
    ffn: ff.ffn,
    outputNorm: outputNorm.norm,
  };
  if (found.bias) layer.attentionBias = found.bias;
  if (firstToken) layer.firstToken = firstToken;
  return layer;
}
