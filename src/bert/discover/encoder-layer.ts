/**
 * Assembling one encoder layer around a matched attention block by following the residual stream (post-LN BERT):
 *
 *   input → attention → output projection (+ input) → LayerNorm → FFN (+ its input) → LayerNorm → output
 *
 * The residual add is an Add of the projection output and the block input, or is folded into a
 * SkipLayerNormalization that reads both. In a layer that queries the first token only, the residual is that
 * token (EncoderLayer.firstToken).
 */
import type { EncoderLayer } from '../structure.ts';
import type { AttentionMatch } from './attention.ts';
import { matchFeedForward } from './feed-forward.ts';
import type { GraphContext } from './graph-context.ts';
import type { NormIndex, NormMatch } from './layer-norm.ts';
import { quotedText } from '../../errors.ts';

/** The LayerNorm of `branch + residual`. */
export function residualNorm(ctx: GraphContext, norms: NormIndex, branch: string, residual: string): NormMatch | undefined {
  const b = ctx.source(branch);
  const r = ctx.source(residual);
  const skip = norms.reading(branch).find((m) => {
    if (m.skip === undefined) return false;
    const pair = [ctx.source(m.input), ctx.source(m.skip)];
    return pair.includes(b) && pair.includes(r);
  });
  if (skip) return skip;
  for (const add of ctx.consumers(branch)) {
    if (add.opType !== 'Add' || add.domain !== '') continue;
    const pair = add.inputs.map((v) => ctx.source(v));
    if (!(pair.includes(b) && pair.includes(r))) continue;
    const m = norms.reading(add.outputs[0]).find((x) => x.skip === undefined);
    if (m) return m;
  }
  return undefined;
}

/** The encoder layer built on attention block `att` (layer `index`). */
export function matchEncoderLayer(ctx: GraphContext, norms: NormIndex, att: AttentionMatch, index: number): EncoderLayer {
  const where = `layer ${index} (attention at ${quotedText(att.anchor.name)})`;
  const proj = att.block.output;
  const residual = att.firstToken ?? att.input;
  const attentionNorm = residualNorm(ctx, norms, proj.output, residual);
  if (!attentionNorm) {
    ctx.refuse(
      `${where}: no residual Add + LayerNorm after the attention output projection ${quotedText(proj.node)} (expected LayerNorm(${quotedText(proj.output)} + ${quotedText(residual)}))`,
    );
  }
  const ff = matchFeedForward(ctx, where, attentionNorm.norm.output);
  const outputNorm = residualNorm(ctx, norms, ff.out.linear.output, attentionNorm.norm.output);
  if (!outputNorm) {
    ctx.refuse(`${where}: no residual Add + LayerNorm after the feed-forward output projection ${quotedText(ff.out.node.name)}`);
  }
  return {
    index,
    input: att.input,
    output: outputNorm.norm.output,
    ...(att.firstToken ? { firstToken: att.firstToken } : {}),
    attention: att.block,
    attentionNorm: attentionNorm.norm,
    ffn: ff.ffn,
    outputNorm: outputNorm.norm,
  };
}
