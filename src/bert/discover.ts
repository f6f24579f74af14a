/**
 * Discovery: the map of a BERT-family encoder (BertStructure) read from an exporter's graph by its structure.
 *
 * Anchors are the attention blocks: every Softmax that follows a Q·Kᵀ MatMul, and every com.microsoft Attention
 * node. From each block the matchers walk to its projections, head geometry and head-shape constants
 * (discover/attention.ts), then follow the residual stream through the LayerNorms and the feed-forward block
 * (discover/encoder-layer.ts). The layers must chain: each reads the previous one's output. Behind the first layer
 * sit the embeddings (discover/embeddings.ts); after the last, the pooler and the task head (discover/head.ts).
 *
 * Understood: unfused torch exports (opsets 10–17; pre-transposed or Gemm weights, DistilBERT and RoBERTa layouts),
 * keras2onnx exports (Tensordot projections, `batchnorm` LayerNorms, constants shared across layers), and graphs
 * fused by onnxruntime (Attention, SkipLayerNormalization, EmbedLayerNormalization, BiasGelu / FastGelu / Gelu,
 * FusedGemm, LayerNormalization). Anything else is refused with a NotBertError naming the pattern not understood.
 * Names are used only as hints (the family, which of two id inputs holds token types).
 */
import type { Model, Node } from '../onnx/graph.ts';
import type { BertStructure, EncoderInputs, EncoderLayer } from './structure.ts';
import { AttentionMatcher, type AttentionMatch } from './discover/attention.ts';
import { matchEmbeddings, type EmbeddingsMatch } from './discover/embeddings.ts';
import { matchEncoderLayer } from './discover/encoder-layer.ts';
import { detectExporter, detectFamily } from './discover/family.ts';
import { GraphContext } from './discover/graph-context.ts';
import { matchHead } from './discover/head.ts';
import { NormIndex } from './discover/layer-norm.ts';

export interface FindBertOptions {
  /** Names the model in error messages (default: the graph's name). */
  label?: string;
}

/** com.microsoft attention variants this discovery does not understand. */
const UNSUPPORTED_CONTRIB = new Set(['QAttention', 'MultiHeadAttention', 'PackedAttention', 'PackedMultiHeadAttention', 'DecoderAttention', 'GroupQueryAttention', 'QEmbedLayerNormalization']);

/** The BERT-family encoder in `model`, or a NotBertError saying what was not understood. */
export function findBert(model: Model, options: FindBertOptions = {}): BertStructure {
  const ctx = new GraphContext(model, options.label ?? (model.graph.name ? `graph '${model.graph.name}'` : 'model'));
  const unsupported = model.graph.nodes.find((n) => n.domain === 'com.microsoft' && UNSUPPORTED_CONTRIB.has(n.opType));
  if (unsupported) ctx.refuse(`com.microsoft ${unsupported.opType} node '${unsupported.name}' is not supported`);

  const attention = findAttentionBlocks(ctx);
  const norms = new NormIndex(ctx);
  const layers: EncoderLayer[] = [];
  attention.forEach((att, i) => {
    const layer = matchEncoderLayer(ctx, norms, att, i);
    const prev = layers[i - 1];
    if (prev && ctx.source(layer.input) !== ctx.source(prev.output)) {
      ctx.refuse(`layer ${i} (attention at '${att.anchor.name}') reads '${layer.input}', not the output '${prev.output}' of layer ${i - 1}`);
    }
    layers.push(layer);
  });

  const emb = matchEmbeddings(ctx, norms, layers[0].input);
  const hiddenSize = hiddenWidth(ctx, emb, layers[0]);
  const family = detectFamily(model, emb);
  const last = layers[layers.length - 1];
  const { pooler, head } = matchHead(ctx, family, last.output, emb.embeddings.word.rows);
  const inputs: EncoderInputs = { ...emb.inputs };
  const mask = attentionMaskInput(ctx, attention[0], inputs);
  if (mask) inputs.attentionMask = mask;

  const structure: BertStructure = {
    family,
    exporter: detectExporter(model),
    opset: ctx.opset('') ?? 0,
    inputs,
    hiddenSize,
    numLayers: layers.length,
    numHeads: layers[0].attention.numHeads,
    headSize: layers[0].attention.headSize,
    intermediateSize: layers[0].ffn.intermediateSize,
    vocabSize: emb.embeddings.word.rows,
    embeddings: emb.embeddings,
    layers,
  };
  if (emb.embeddings.position) structure.maxPositions = emb.embeddings.position.rows;
  if (emb.embeddings.tokenType) structure.typeVocabSize = emb.embeddings.tokenType.rows;
  if (pooler) structure.pooler = pooler;
  if (head) structure.head = head;
  return structure;
}

/** Every attention block, in graph order. Softmaxes that do not follow a Q·Kᵀ MatMul are skipped. */
function findAttentionBlocks(ctx: GraphContext): AttentionMatch[] {
  const anchors = ctx.graph.nodes.filter(
    (n) => (n.domain === '' && n.opType === 'Softmax') || (n.domain === 'com.microsoft' && n.opType === 'Attention'),
  );
  if (!anchors.length) ctx.refuse('no attention blocks found (no Softmax or Attention node): not a BERT-family encoder');
  const matcher = new AttentionMatcher(ctx);
  const blocks: AttentionMatch[] = [];
  for (const a of anchors) {
    const m = a.opType === 'Attention' ? matcher.matchFused(a) : matcher.matchSoftmax(a);
    if (m) blocks.push(m);
  }
  if (!blocks.length) {
    ctx.refuse(`no attention blocks found (Softmax '${anchors[0].name}' does not follow a Q·Kᵀ MatMul): not a BERT-family encoder`);
  }
  return blocks;
}

/** The residual width, checked against the embeddings and the first layer. */
function hiddenWidth(ctx: GraphContext, emb: EmbeddingsMatch, first: EncoderLayer): number {
  const word = emb.embeddings.word;
  const width = word.projection?.outFeatures ?? ctx.graph.initializers.get(word.weight)!.dims[1];
  const att = first.attention;
  const layerIn = att.q?.inFeatures ?? ctx.graph.initializers.get(att.fused!.weight)!.dims[0];
  if (layerIn !== width) {
    ctx.refuse(`embeddings: the word embeddings are ${width} wide but layer 0 reads ${layerIn} features`);
  }
  return width;
}

/**
 * The graph input holding the attention mask: for an unfused block, a graph input the scores depend on other than
 * through the hidden states; for a fused Attention node, the one behind its mask input (through
 * EmbedLayerNormalization's mask when that produces it). Ids and token types are never the mask.
 */
function attentionMaskInput(ctx: GraphContext, att: AttentionMatch, inputs: EncoderInputs): string | undefined {
  const anchor: Node = att.anchor;
  let maskSide: string | undefined = anchor.inputs[0];
  let viaHidden = new Set<string>();
  if (anchor.opType === 'Attention') {
    maskSide = anchor.inputs[3] || undefined;
    const embedLn = maskSide ? ctx.producerOf(maskSide) : undefined;
    if (embedLn?.opType === 'EmbedLayerNormalization') maskSide = embedLn.inputs[7] || undefined;
  } else {
    viaHidden = ctx.ancestorValues([att.input]);
  }
  if (!maskSide) return undefined;
  const taken = new Set([inputs.inputIds, inputs.tokenTypeIds]);
  const candidates = [...ctx.ancestorValues([maskSide])].filter((v) => ctx.isGraphInput(v) && !viaHidden.has(v) && !taken.has(v));
  if (candidates.length <= 1) return candidates[0];
  return candidates.find((v) => /mask/i.test(v)) ?? candidates.sort()[0];
}
