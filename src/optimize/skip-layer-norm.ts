/**
 * SkipLayerNormalization fusion: LayerNorm(branch + residual) after the attention output projection and after the
 * feed-forward block becomes com.microsoft SkipLayerNormalization(branch, residual, γ, β[, bias]) with the same
 * epsilon. When the branch's bias is a separate Add that alone reads the product (a float projection), the
 * SkipLayerNormalization adds the bias itself; a dynamic int8 projection already adds its own. Not in `--optimize`'s
 * default set: with it an int8 BERT-base runs about 20% slower on onnxruntime 1.30's CPU provider than with the
 * Add + LayerNormalization onnxruntime fuses itself (`npm run bench -- int8-formulations`).
 */
import { attr } from '../quantize/graph-edit.ts';
import type { EncoderLayer, LayerNorm, Linear } from '../bert/structure.ts';
import type { OptimizeContext } from './context.ts';
import { quotedText } from '../errors.ts';

/** Fuses one residual Add + LayerNorm, or records why not. */
function fuseOne(oc: OptimizeContext, where: string, norm: LayerNorm, branch: Linear, residual: string): void {
  if (norm.kind === 'skip-op') return;
  const { view } = oc;
  const m = oc.norms.producing(norm.output);
  const add = m && view.producerOf(m.input);
  const sources = add?.inputs.map((v) => view.source(v)) ?? [];
  if (!m || !add || add.opType !== 'Add' || add.domain !== '' || !sources.includes(view.source(branch.output)) || !sources.includes(view.source(residual))) {
    oc.skip(
      'skip-layernorm',
      where,
      `the LayerNorm producing ${quotedText(norm.output)} does not normalize Add(${quotedText(branch.output)}, ${quotedText(residual)})`,
    );
    return;
  }
  if (view.readers(add.outputs[0]).some((n) => !norm.nodes.includes(n.name))) {
    oc.skip('skip-layernorm', where, `the sum ${quotedText(add.outputs[0])} is read outside the LayerNorm`);
    return;
  }
  const problem = oc.producerProblem(norm.output);
  if (problem) {
    oc.skip('skip-layernorm', where, problem);
    return;
  }
  const branchAt = sources.indexOf(view.source(branch.output));
  const split = add.inputs[branchAt] === branch.output ? oc.splitBias(branch) : undefined;
  const inputs = [split?.product ?? add.inputs[branchAt], add.inputs[1 - branchAt], norm.scale, norm.bias, split?.bias ?? ''];
  oc.replaceProducer(norm.output, 'SkipLayerNormalization', inputs, { epsilon: attr.float(norm.epsilon) });
}

/** Fuses the two residual LayerNorms of every layer (only the FFN one in a layer without attention). */
export function fuseSkipLayerNorms(oc: OptimizeContext, layers: readonly EncoderLayer[]): void {
  for (const l of layers) {
    if (l.attention) fuseOne(oc, `layer ${l.index} attention`, l.attentionNorm, l.attention.output, l.firstToken ?? l.input);
    fuseOne(oc, `layer ${l.index} output`, l.outputNorm, l.ffn.out, l.attentionNorm.output);
  }
}
