/**
 * Discovery: the map of a BERT-family encoder (BertStructure) read from an exporter's graph by its structure.
 *
 * Anchors are the attention blocks: every Softmax that follows a Q·Kᵀ MatMul, and every com.microsoft Attention
 * (or QAttention) node. From each block the matchers walk to its projections, head geometry and head-shape
 * constants (discover/attention.ts), then follow the residual stream through the LayerNorms and the feed-forward
 * block (discover/encoder-layer.ts). The embeddings (discover/embeddings.ts) are found as the first LayerNorm of a
 * sum of table lookups (or behind the first attention block); from their output the layers are chained along the
 * residual stream: each layer reads the previous one's output. A layer whose heads were all pruned has no anchor;
 * it is recognised on the stream as LayerNorm(x + constant) followed by a feed-forward block
 * (discover/headless.ts), so a model with no attention left at all is still found. After the last layer sit the
 * pooler and the task head (discover/head.ts).
 *
 * Understood: unfused torch exports (opsets 10–17; pre-transposed or Gemm weights, DistilBERT and RoBERTa layouts),
 * keras2onnx exports (Tensordot projections, `batchnorm` LayerNorms, constants shared across layers), graphs
 * fused by onnxruntime (Attention, SkipLayerNormalization, EmbedLayerNormalization, BiasGelu / FastGelu / Gelu,
 * FusedGemm, LayerNormalization), and quantized graphs (dynamic int8, QDQ, MatMulNBits projections, QAttention,
 * int8 embedding tables: discover/product.ts). Anything else is refused with a NotBertError naming the pattern not
 * understood. Names are used only as hints (the family, which of two id inputs holds token types).
 */
import { attrInt, domainName, type Model, type Node, opsetVersion } from '../onnx/graph.ts';
import type { IFunctionProto } from '../onnx/schema.ts';
import { dropoutDraws } from '../onnx/analysis.ts';
import { DataType } from '../onnx/dtype.ts';
import type { BertStructure, EncoderInputs, EncoderLayer, ModelFamily, TaskHead } from './structure.ts';
import { AttentionMatcher, type AttentionMatch } from './discover/attention.ts';
import { findEmbeddingsOutput, matchEmbeddings, matchEmbeddingsMapping, type EmbeddingsMatch } from './discover/embeddings.ts';
import { matchEncoderLayer } from './discover/encoder-layer.ts';
import { detectExporter, detectFamily } from './discover/family.ts';
import { GraphContext } from './discover/graph-context.ts';
import { matchHead } from './discover/head.ts';
import { matchHeadlessLayer } from './discover/headless.ts';
import { NormIndex } from './discover/layer-norm.ts';
import { checkModelArg, checkOptionKinds, checkOptions, type OptionKind } from '../library-args.ts';
import { quotedText } from '../errors.ts';

export interface FindBertOptions {
  /** Names the model in error messages (default: the graph's name). */
  label?: string;
}

/** com.microsoft attention variants this discovery does not understand. */
const UNSUPPORTED_CONTRIB = new Set([
  'MultiHeadAttention',
  'PackedAttention',
  'PackedMultiHeadAttention',
  'DecoderAttention',
  'GroupQueryAttention',
  'QEmbedLayerNormalization',
]);

/** ONNX ops that draw random numbers whenever they run. */
const RANDOM_OPS = new Set(['RandomNormal', 'RandomUniform', 'RandomNormalLike', 'RandomUniformLike', 'Bernoulli', 'Multinomial']);

/**
 * The first node of `model` that draws at random, said as a refusal names it: a random op, or a Dropout that drops
 * values at random as in training: in opset 1 to 6, one whose is_test is 0 (its default); from opset 12, one whose
 * training_mode is on and ratio not a constant 0 (dropoutDraws).
 */
function randomNode(ctx: GraphContext, model: Model): string | undefined {
  const opset = opsetVersion(model);
  for (const n of model.graph.nodes) {
    if (n.domain !== '') continue;
    if (RANDOM_OPS.has(n.opType)) return `${n.opType} node ${quotedText(n.name)} draws random numbers`;
    if (n.opType === 'Dropout' && opset !== undefined && opset < 7 && attrInt(n, 'is_test', 0) === 0)
      return `Dropout node ${quotedText(n.name)} drops values at random (opset ${opset}: its is_test is 0, training mode)`;
    if (n.opType === 'Dropout' && dropoutDraws(n, (v) => ctx.constNumbers(v)))
      return `Dropout node ${quotedText(n.name)} drops values at random (its training_mode is on, or not a constant false, and its ratio not a constant 0)`;
  }
  return undefined;
}

/** The first node of `model`'s graph that calls one of its local functions (ModelProto.functions), if any. */
function localFunctionCall(model: Model): { node: string; fn: string } | undefined {
  const functions = model.unmodelled?.functions as IFunctionProto[] | undefined;
  if (!Array.isArray(functions) || !functions.length) return undefined;
  const names = new Set(functions.map((f) => `${domainName(f.domain ?? '')}\u0000${f.name ?? ''}`));
  const n = model.graph.nodes.find((n) => names.has(`${n.domain}\u0000${n.opType}`));
  return n && { node: n.name || n.opType, fn: n.domain ? `${n.domain}.${n.opType}` : n.opType };
}

/**
 * Whether `head`, a one-score pooled head (a sequence classifier's by its shape), is a multiple-choice export's: the
 * token ids input `ids` declared [batch, choices, sequence] and its scores not [batch, 1], as transformers'
 * BertForMultipleChoice is exported (its ids flattened to one row per choice before the embeddings, its scores
 * [batch, choices]).
 */
function multipleChoice(model: Model, head: TaskHead, ids: string): boolean {
  if (head.kind !== 'sequence-classification' || head.numLabels !== 1 || head.outputs.length !== 1) return false;
  // (scores declared one per example, [batch, 1], are a one-label classifier's: a new one put on such a graph's pooler)
  if (model.graph.outputs.find((o) => o.name === head.outputs[0])?.shape?.[1] === 1) return false;
  return model.graph.inputs.find((v) => v.name === ids)?.shape?.length === 3;
}

/** The BERT-family encoder in `model`, or a NotBertError saying what was not understood. */
/** findBert's options by their kinds (checkOptionKinds): a JavaScript caller's label 3 named the model '3', a misspelt lable was read as nothing. */
const FIND_BERT_OPTION_KINDS = {
  label: { is: (v: unknown) => typeof v === 'string', expected: "a string (the model's name in refusals)" },
} as const satisfies Record<keyof FindBertOptions, OptionKind>;

export function findBert(model: Model, options: FindBertOptions = {}): BertStructure {
  checkModelArg('findBert', model);
  checkOptionKinds('findBert', checkOptions('findBert', options, '{label}'), FIND_BERT_OPTION_KINDS);
  const ctx = new GraphContext(model, options.label ?? (model.graph.name ? `graph ${quotedText(model.graph.name)}` : 'model'));
  const unsupported = model.graph.nodes.find((n) => n.domain === 'com.microsoft' && UNSUPPORTED_CONTRIB.has(n.opType));
  if (unsupported) ctx.refuse(`com.microsoft ${unsupported.opType} node ${quotedText(unsupported.name)} is not supported`);
  const onnxAttention = model.graph.nodes.find((n) => n.domain === '' && n.opType === 'Attention');
  if (onnxAttention) {
    ctx.refuse(
      `Attention node ${quotedText(onnxAttention.name)} (ONNX's Attention op, opset 23) is not supported: export at opset 22 or lower (the attention as MatMul and Softmax nodes)`,
    );
  }
  const call = localFunctionCall(model);
  if (call) {
    ctx.refuse(
      `node ${quotedText(call.node)} calls the model's local function ${quotedText(call.fn)} (as torch's dynamo exporter writes modules), which discovery does not read: inline the functions first, with inlineLocalFunctions(model) (bert-compress/onnx), as the commands and runPipeline do`,
    );
  }
  const random = randomNode(ctx, model);
  if (random)
    ctx.refuse(
      `${random}, so the model's outputs change from run to run (evaluation, calibration and training read them): export it in inference mode (model.eval() before torch.onnx.export)`,
    );

  const found = findAttentionBlocks(ctx);
  const attention = found.blocks;
  const norms = new NormIndex(ctx);
  const embOutput = findEmbeddingsOutput(ctx, norms);
  if (!embOutput && !attention.length) ctx.refuse(found.why);
  const emb = matchEmbeddings(ctx, norms, embOutput ?? attention[0].input);
  matchEmbeddingsMapping(ctx, emb, attention);
  const { layers, matches } = chainLayers(ctx, norms, emb.embeddings.output, attention);
  if (!layers.length) {
    if (found.blocks.length) ctx.refuse(`no encoder layer reads the embeddings output ${quotedText(emb.embeddings.output)}`);
    if (!found.bfloat16 && !encoderAfter(ctx, norms, emb.embeddings.output)) ctx.refuse(NO_LAYERS);
    ctx.refuse(found.why);
  }

  const hiddenSize = hiddenWidth(ctx, emb, layers[0]);
  const family = positionIdsFamily(ctx, model, emb) ?? detectFamily(model, emb);
  const last = layers[layers.length - 1];
  const { pooler, head } = matchHead(ctx, family, last.output, emb.embeddings.word.rows);
  const inputs: EncoderInputs = { ...emb.inputs };
  if (inputs.positionIds && family === 'roberta') inputs.positionPadding = ROBERTA_PADDING;
  const firstAttention = layers.find((l) => l.attention);
  const mask = matches.length ? attentionMaskInput(ctx, matches[0], inputs) : unusedMaskInput(ctx, inputs);
  if (mask) inputs.attentionMask = mask;
  checkFixedSizes(ctx, matches, inputs.inputIds);

  const structure: BertStructure = {
    family,
    exporter: detectExporter(model),
    opset: ctx.opset('') ?? 0,
    inputs,
    hiddenSize,
    numLayers: layers.length,
    numHeads: firstAttention?.attention?.numHeads ?? 0,
    headSize: firstAttention?.attention?.headSize ?? 0,
    intermediateSize: layers[0].ffn.intermediateSize,
    vocabSize: emb.embeddings.word.rows,
    embeddings: emb.embeddings,
    layers,
  };
  if (emb.embeddings.position) structure.maxPositions = emb.embeddings.position.rows;
  if (emb.embeddings.tokenType) structure.typeVocabSize = emb.embeddings.tokenType.rows;
  if (pooler) structure.pooler = pooler;
  if (head) structure.head = multipleChoice(model, head, inputs.inputIds) ? { ...head, kind: 'multiple-choice' } : head;
  return structure;
}

/**
 * Refuses a batch size or sequence length an attention block holds as a constant (a swap of K's axes whose shapes an
 * export with static shapes folded in: AttentionMatch.fixedSizes) unless the token ids input `ids` fixes it to that
 * number (onnxruntime runs a model only at its inputs' fixed sizes): its last axis the sequence length, the product of
 * the others the batch of the hidden states (a multiple-choice export's [batch, choices, sequence] flattened). Where the
 * input takes other sizes, the model is right at one only, and the passes would keep that.
 */
function checkFixedSizes(ctx: GraphContext, matches: AttentionMatch[], ids: string): void {
  const fixed = matches.flatMap((m) => m.fixedSizes ?? []);
  if (!fixed.length) return;
  const dims = ctx.graph.inputs.find((v) => v.name === ids)?.shape;
  const known = (ds: readonly unknown[] | undefined) => (ds?.every((d) => typeof d === 'number') ? (ds as number[]) : undefined);
  const batchDims = known(dims?.slice(0, -1));
  const sizes = {
    batch: dims && batchDims ? batchDims.reduce((a, b) => a * b, 1) : undefined,
    sequence: known(dims?.slice(-1))?.[0],
  };
  const shape = dims ? `[${dims.map((d) => (typeof d === 'number' ? d : quotedText(String(d ?? '?')))).join(', ')}]` : 'of no declared shape';
  for (const f of fixed) {
    const what = f.size === 'batch' ? 'batch size' : 'sequence length';
    const want = sizes[f.size];
    if (want === f.value) continue;
    const held = `Reshape ${quotedText(f.reshape)} holds the ${what} of ${quotedText(f.of)} as the constant ${f.value} (as an export with static shapes folds it into the swap of Kᵀ's axes)`;
    if (want !== undefined)
      ctx.refuse(`${held}, where the token ids input ${quotedText(ids)} ${shape} fixes it to ${want}: the reshape is not the swap of its axes`);
    ctx.refuse(
      `${held}, where the token ids input ${quotedText(ids)} ${shape} takes any: the model runs at ${what} ${f.value} only; export it with dynamic shapes (torch.onnx.export(..., dynamo=True, dynamic_shapes=...)), or fix the input's ${what} to ${f.value}`,
    );
  }
}

/** RoBERTa's, XLM-RoBERTa's and CamemBERT's padding_idx (their pad_token_id). */
const ROBERTA_PADDING = 1;

/**
 * The family of a graph that takes its position ids as an input, which tells how they are counted: Hugging Face's
 * parameter names when they say (`roberta.` / `xlm_roberta.` / `camembert.`: RoBERTa's padding-aware positions;
 * `bert.` / `distilbert.` / `electra.` / `albert.`: arange(seq)), else the position table: max_position_embeddings
 * rows (a power of two: BERT's arange) or two more (RoBERTa's, whose positions start after padding_idx 1). Refused
 * when neither tells. Undefined for a graph that computes its positions (detectFamily decides).
 */
function positionIdsFamily(ctx: GraphContext, model: Model, emb: EmbeddingsMatch): ModelFamily | undefined {
  const input = emb.inputs.positionIds;
  if (!input) return undefined;
  const names = [...model.graph.initializers.keys()];
  if (names.some((n) => /(^|[./_])(xlm[-_]?)?roberta[./_]|camembert[./_]/i.test(n))) return 'roberta';
  if (names.some((n) => /(^|[./_])(distil)?bert[./_]|(^|[./_])(electra|albert)[./_]/i.test(n))) return detectFamily(model, emb);
  const rows = emb.embeddings.position?.rows ?? 0;
  const powerOfTwo = (n: number) => n >= 2 && (n & (n - 1)) === 0;
  if (powerOfTwo(rows)) return detectFamily(model, emb);
  if (powerOfTwo(rows - 2)) return 'roberta';
  return ctx.refuse(
    `graph input ${quotedText(input)} gives the position ids, and neither the parameter names nor the position table (${rows} rows) tell whether they are BERT's arange(seq) or RoBERTa's padding-aware positions`,
  );
}

/**
 * The refusal of a model with no encoder layers (its embeddings feed the pooler or the head directly: a model built
 * with 0 layers): every pass, training, a sweep and export's check need one. Eval scores it as any classifier, by its
 * input names (and bench times it against a baseline discovery reads).
 */
export const NO_LAYERS =
  'the model has no encoder layers (nothing but a pooler or a classifier follows its embeddings); compress needs at least one (eval scores such a model as any classifier)';

/** Products (projections, attention) in the pooler and classifier of a model with no layers: 3 at most (dense + out_proj). */
const HEAD_PRODUCTS = 3;

const PRODUCT_OPS = new Set([
  'MatMul',
  'Gemm',
  'FusedGemm',
  'MatMulInteger',
  'MatMulIntegerToFloat',
  'DynamicQuantizeMatMul',
  'QGemm',
  'QLinearMatMul',
  'MatMulNBits',
  'Attention',
  'QAttention',
  'Einsum',
]);

/**
 * Whether what follows the embeddings output could hold an encoder layer: a LayerNorm (every layer of the families
 * read here ends in one, with or without attention), or more products than a pooler and classifier hold. Neither
 * follows in a model with no encoder layers; a graph with layers discovery does not read has both.
 */
function encoderAfter(ctx: GraphContext, norms: NormIndex, embeddings: string): boolean {
  const after = ctx.descendantNodes(embeddings);
  const normalized = norms.all().some((m) => {
    const producer = ctx.producerOf(m.norm.output);
    return m.norm.output !== embeddings && producer !== undefined && after.has(producer);
  });
  return normalized || [...after].filter((n) => PRODUCT_OPS.has(n.opType)).length > HEAD_PRODUCTS;
}

/**
 * The encoder layers, following the residual stream from the embeddings output: at each value, the layer of the
 * attention block that reads it, or else a layer without attention (headless.ts); the chain ends where neither
 * follows. Every attention block must be on the chain. `matches` are the attention blocks used, in layer order.
 */
function chainLayers(ctx: GraphContext, norms: NormIndex, start: string, attention: AttentionMatch[]): { layers: EncoderLayer[]; matches: AttentionMatch[] } {
  const byInput = new Map<string, AttentionMatch[]>();
  for (const a of attention) {
    const key = ctx.source(a.input);
    byInput.set(key, [...(byInput.get(key) ?? []), a]);
  }
  const used = new Set<AttentionMatch>();
  const layers: EncoderLayer[] = [];
  const matches: AttentionMatch[] = [];
  let value = start;
  for (let i = 0; i <= ctx.graph.nodes.length; i++) {
    const att = byInput.get(ctx.source(value))?.find((a) => !used.has(a));
    let layer: EncoderLayer | undefined;
    if (att) {
      used.add(att);
      matches.push(att);
      layer = matchEncoderLayer(ctx, norms, att, i);
    } else {
      layer = matchHeadlessLayer(ctx, norms, value, i);
    }
    if (!layer) break;
    layers.push(layer);
    value = layer.output;
  }
  const stray = attention.find((a) => !used.has(a));
  if (stray) {
    const i = layers.length;
    const prev = i === 0 ? `the embeddings output ${quotedText(start)}` : `the output ${quotedText(layers[i - 1].output)} of layer ${i - 1}`;
    ctx.refuse(`layer ${i} (attention at ${quotedText(stray.anchor.name)}) reads ${quotedText(stray.input)}, not ${prev}`);
  }
  return { layers, matches };
}

/**
 * Every attention block, in graph order (Softmaxes that do not follow a Q·Kᵀ MatMul are skipped), with the reason
 * to give when there is none and no layer without attention is found either.
 */
function findAttentionBlocks(ctx: GraphContext): { blocks: AttentionMatch[]; why: string; bfloat16?: boolean } {
  const anchors = ctx.graph.nodes.filter(
    (n) => (n.domain === '' && n.opType === 'Softmax') || (n.domain === 'com.microsoft' && (n.opType === 'Attention' || n.opType === 'QAttention')),
  );
  if (!anchors.length) return { blocks: [], why: 'no attention blocks found (no Softmax or Attention node): not a BERT-family encoder' };
  const matcher = new AttentionMatcher(ctx);
  const blocks: AttentionMatch[] = [];
  for (const a of anchors) {
    const m = a.opType === 'Softmax' ? matcher.matchSoftmax(a) : matcher.matchFused(a);
    if (m) blocks.push(m);
  }
  // a bfloat16 model's scales are not read, so its Softmaxes follow nothing known: say that instead
  const bf16 = blocks.length ? undefined : bfloat16Constant(ctx);
  if (bf16 !== undefined) {
    return {
      blocks,
      why: `no attention blocks found: ${quotedText(bf16)} is bfloat16, which is not supported; convert the model to float32 or float16`,
      bfloat16: true,
    };
  }
  return { blocks, why: `no attention blocks found (Softmax ${quotedText(anchors[0].name)} does not follow a Q·Kᵀ MatMul): not a BERT-family encoder` };
}

/** The name of the first bfloat16 initializer or Constant node, if any. */
function bfloat16Constant(ctx: GraphContext): string | undefined {
  for (const t of ctx.graph.initializers.values()) if (t.dataType === DataType.BFLOAT16) return t.name;
  for (const n of ctx.graph.nodes) {
    const v = n.opType === 'Constant' ? n.attributes.value : undefined;
    if (v?.type === 'tensor' && v.value.dataType === DataType.BFLOAT16) return n.name;
  }
  return undefined;
}

/** The residual width, checked against the embeddings and the first layer. */
function hiddenWidth(ctx: GraphContext, emb: EmbeddingsMatch, first: EncoderLayer): number {
  const word = emb.embeddings.word;
  const width = emb.embeddings.mapping?.outFeatures ?? word.projection?.outFeatures ?? ctx.graph.initializers.get(word.weight)!.dims[1];
  const att = first.attention;
  const layerIn = att ? (att.q?.inFeatures ?? ctx.graph.initializers.get(att.fused!.weight)!.dims[0]) : first.ffn.in.inFeatures;
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
  if (anchor.opType === 'Attention' || anchor.opType === 'QAttention') {
    maskSide = anchor.inputs[anchor.opType === 'Attention' ? 3 : 5] || undefined;
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

/**
 * With no attention left, the mask input is read by nothing, but a session still wants it fed: the one graph input
 * that is neither ids nor token types (a name with "mask" in it when there are several).
 */
function unusedMaskInput(ctx: GraphContext, inputs: EncoderInputs): string | undefined {
  const taken = new Set([inputs.inputIds, inputs.tokenTypeIds]);
  const rest = ctx.graph.inputs.map((v) => v.name).filter((v) => ctx.isGraphInput(v) && !taken.has(v));
  return rest.length === 1 ? rest[0] : rest.find((v) => /mask/i.test(v));
}
