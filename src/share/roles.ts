/**
 * The weights an encoder layer owns, by role ('attention.q.weight', 'ffn.out.bias', 'outputNorm.scale'…), with
 * the nodes that read each (its anchors). Sharing pairs up the same role across layers.
 */
import type { EncoderLayer, LayerNorm, Linear } from '../bert/structure.ts';

/** One weight of a layer. */
export interface LayerWeight {
  /** Role name, the same for the corresponding weight of every layer. */
  role: string;
  /** Initializer name. */
  initializer: string;
  /** Storage layout of a projection weight ('in_out' / 'out_in'); absent for vectors. */
  layout?: Linear['layout'];
  /** Nodes known to read the weight (directly, or through a Transpose/Identity chain in front of them). */
  anchors: string[];
}

function linearWeights(role: string, lin: Linear): LayerWeight[] {
  const out: LayerWeight[] = [{ role: `${role}.weight`, initializer: lin.weight, layout: lin.layout, anchors: [lin.node] }];
  if (lin.bias) out.push({ role: `${role}.bias`, initializer: lin.bias, anchors: lin.biasNode ? [lin.biasNode, lin.node] : [lin.node] });
  return out;
}

function normWeights(role: string, norm: LayerNorm): LayerWeight[] {
  return [
    { role: `${role}.scale`, initializer: norm.scale, anchors: [...norm.nodes] },
    { role: `${role}.bias`, initializer: norm.bias, anchors: [...norm.nodes] },
  ];
}

/**
 * Every weight of `layer`: Q/K/V (or the packed QKV of a fused Attention), output projection, FFN, both LayerNorms.
 * A layer without attention has, instead of the attention weights, the bias added in their place ('attention.bias',
 * when there is one).
 */
export function layerWeights(layer: EncoderLayer): LayerWeight[] {
  const a = layer.attention;
  const out: LayerWeight[] = [];
  if (!a) {
    if (layer.attentionBias) out.push({ role: 'attention.bias', initializer: layer.attentionBias, anchors: [...layer.attentionNorm.nodes] });
  } else if (a.kind === 'fused' && a.fused) {
    out.push({ role: 'attention.qkv.weight', initializer: a.fused.weight, anchors: [a.fused.node] });
    out.push({ role: 'attention.qkv.bias', initializer: a.fused.bias, anchors: [a.fused.node] });
  } else {
    if (a.q) out.push(...linearWeights('attention.q', a.q));
    if (a.k) out.push(...linearWeights('attention.k', a.k));
    if (a.v) out.push(...linearWeights('attention.v', a.v));
  }
  if (a) out.push(...linearWeights('attention.output', a.output));
  out.push(...normWeights('attentionNorm', layer.attentionNorm));
  out.push(...linearWeights('ffn.in', layer.ffn.in));
  out.push(...linearWeights('ffn.out', layer.ffn.out));
  out.push(...normWeights('outputNorm', layer.outputNorm));
  return out;
}
