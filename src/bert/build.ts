/**
 * Builds the ONNX graph that torch.onnx.export (TorchScript exporter, torch 1.13/2.x) writes for
 * Hugging Face `BertForSequenceClassification` in eval mode, node for node: position ids from Shape/Gather/Range,
 * embedding Gathers, LayerNorm decomposed into ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div/Mul/Add, the extended
 * attention mask (1 - mask) · float32 min, per layer Q/K/V MatMul + Add with [in, out] weights, head split by a
 * Shape/Gather/Unsqueeze/Concat Reshape and Transposes, scaled dot-product attention with Softmax, head merge,
 * output projection, residual Add and LayerNorm, the feed-forward block with an Erf GELU, the pooler (Gather of
 * token 0, Gemm, Tanh) and the classifier Gemm. The shared teacher models (`shared/teachers/`) are this graph,
 * node for node and weight for weight (test/bert/build-teacher.test.ts); like them, position ids come from Range
 * and embeddings add as (word + position) + token type, where a stock transformers export slices a position_ids
 * buffer and adds token types first (same values up to float rounding). Node names follow torch's scoped naming
 * with transformers' module paths (`/bert/encoder/layer.0/attention/self/query/MatMul`).
 *
 * The graph is written at opset 14 by default; `BuildOptions.opset` picks another of 11–17, written as torch's
 * symbolics for that opset write it:
 * - below 13, Unsqueeze takes its axes as an attribute (no axes Constant), and Softmax its axis as a positive index
 *   (torch's opset-9 softmax turns dim -1 into rank - 1 = 3);
 * - below 14, Reshape has no `allowzero` attribute;
 * - from 17, nn.LayerNorm is one LayerNormalization node (axis -1, epsilon) instead of the ReduceMean/Sub/Pow/…
 *   decomposition;
 * - ReduceMean keeps `axes` as an attribute throughout (an input only from 18);
 * - the IR version is torch's for the opset (6 at 11, 7 at 12–14, 8 at 15–17).
 *
 * Given the same config and weights the output is the same, byte for byte.
 *
 * An ExtendedBertConfig (config.ts) adds the layouts other exporters and the compression passes leave, so that any
 * discovered model can be rebuilt as this graph (bert/canonical.ts) and differentiated:
 * - `family` 'distilbert' / 'roberta': Hugging Face's parameter names, embeddings (DistilBERT: word + position;
 *   RoBERTa: word + token type 0 + padding-aware positions from CumSum) and heads (pre_classifier + ReLU +
 *   classifier; dense + Tanh + out_proj on token 0); the graph inputs are then input_ids and attention_mask only;
 * - `family` 'electra': BERT's embeddings in (word + token type) + position order, under `/electra`; with
 *   `embeddingSize` the tables and LayerNorm are that wide and `embeddings_project` (MatMul + bias) maps them to the
 *   hidden width; head classifier.dense + exact GELU + out_proj on token 0 (ElectraClassificationHead), no pooler;
 * - `family` 'albert': AlbertForSequenceClassification: E-wide tables summed as transformers does (word + token type)
 *   + position, LayerNorm(E), then `embedding_hidden_mapping_in` (E → hidden, MatMul + bias); each layer runs its
 *   group's AlbertLayer (`/albert/encoder/albert_layer_groups.<g>/albert_layers.0/…`; a module that runs again gets
 *   the numbered node names `…/MatMul_1`, as torch writes repeated calls); pooler + Tanh + classifier; no dropout on
 *   the FFN output (ALBERT's ff_chunk has none);
 * - `layers`: heads and FFN width per layer (head width `attentionHeadSize`); a layer with 0 heads adds its
 *   `attention.output.dense.bias` to the residual stream in place of attention, Add(x, b), the form prune-heads
 *   writes and discovery reads as a layer without attention;
 * - `embeddingSize`: Gather from the [vocab, E] table, then MatMul by the [E, hidden] projection (no bias);
 * - `zeroTokenTypes` (BERT, ALBERT, ELECTRA): no token_type_ids input; the token types are
 *   ConstantOfShape(Shape(input_ids)) of int64 0, as transformers' torch.zeros(input_shape) exports them;
 * - `layerGroups`: the layers of a group read the same initializers (the transposed `onnx::MatMul_*` ones too),
 *   so a gradient with respect to a shared weight sums over its uses.
 * `BuildOptions.dropout` inserts Mul(x, mask) where Hugging Face applies dropout, each mask a float32 graph input
 * `dropout_mask.<n>` (see dropoutMasks); the initializers are the same as without it.
 */
import type { Graph, Model, ValueInfo } from '../onnx/index.ts';
import { DataType, createModel, int64Tensor } from '../onnx/index.ts';
import { SettingsError, choiceRefusal } from '../errors.ts';
import { checkOptionKinds, checkOptions, type OptionKind } from '../library-args.ts';
import {
  type BertFamily,
  type ExtendedBertConfig,
  attentionHeadSize,
  familyOf,
  layerGroupOf,
  layerSizes,
  looksUpTokenTypes,
  validateExtendedConfig,
} from './config.ts';
import { TorchStyleGraphWriter, attr, transpose2d } from './build-graph.ts';
import {
  bertParameters,
  embeddingParamNames,
  headParamNames,
  layerParamNames,
  resolveWeights,
  type ResolvedWeights,
  type WeightSource,
} from './build-weights.ts';

export type { WeightSource, NamedWeights, WeightArray, RandomInit } from './build-weights.ts';
export { randomBertWeights, bertParameters, resolveWeights, layerParamNames, embeddingParamNames, headParamNames } from './build-weights.ts';

/** The default opset and its IR version (torch's defaults for opset 14). */
export const BUILD_OPSET = 14;
export const BUILD_IR_VERSION = 7;

/** The opsets the builder writes. */
export const BUILD_OPSETS = [11, 12, 13, 14, 15, 16, 17] as const;
export type BuildOpset = (typeof BUILD_OPSETS)[number];

/** The IR version torch.onnx.export writes for `opset` (its kOpsetVersionToIRVersion table). */
export function buildIrVersion(opset: BuildOpset): number {
  return opset <= 11 ? 6 : opset <= 14 ? 7 : 8;
}

export interface BuildOptions {
  /** ai.onnx opset to write, one of 11–17 (default 14); see the module comment for what changes. */
  opset?: number;
  /** Symbolic name of the batch dimension (default 'batch_size'). */
  batchDim?: string;
  /** Symbolic name of the sequence dimension (default 'sequence_length'). */
  sequenceDim?: string;
  /**
   * Insert a dropout site, Mul(x, mask), wherever Hugging Face's model applies dropout in training; each mask is a
   * float32 graph input `dropout_mask.<n>` (see dropoutMasks). Fed with ones, the graph computes the same logits as
   * without dropout; the initializers are the same either way. Default false.
   */
  dropout?: boolean;
}

/** Names of the graph's inputs (BERT) and output. */
export const BERT_INPUTS = ['input_ids', 'attention_mask', 'token_type_ids'] as const;
export const BERT_OUTPUT = 'logits';

/**
 * Whether the config's graph takes a token_type_ids input: BERT, ALBERT and ELECTRA do, unless `zeroTokenTypes`
 * (DistilBERT and RoBERTa never do).
 */
export function hasTokenTypeInput(c: ExtendedBertConfig): boolean {
  return looksUpTokenTypes(familyOf(c)) && !c.zeroTokenTypes;
}

/** Prefix of the dropout mask inputs: `dropout_mask.0`, `dropout_mask.1`… in graph order. */
export const DROPOUT_MASK_PREFIX = 'dropout_mask.';

/** One dropout mask input of a graph built with `dropout: true`. */
export interface DropoutMask {
  /** Graph input name, `dropout_mask.<n>`. */
  name: string;
  /**
   * Shape, with the build's batch and sequence symbols ('batch_size', 'sequence_length' by default): hidden states
   * [batch, seq, hidden]; attention probabilities [batch, heads of the layer, seq, seq]; classifier inputs
   * [batch, hidden]. Feed the keep mask already scaled, bernoulli(1 − p) / (1 − p); ones turn dropout off.
   */
  dims: Array<number | string>;
  /** Where it applies, e.g. 'embeddings', 'layer 0 attention probabilities', 'layer 0 FFN output', 'classifier input'. */
  site: string;
}

/** The dropout mask inputs of a model built with `dropout: true` (none otherwise), in graph-input order. */
export function dropoutMasks(model: Model): DropoutMask[] {
  return model.graph.inputs
    .filter((v) => v.name.startsWith(DROPOUT_MASK_PREFIX))
    .map((v) => ({ name: v.name, dims: (v.shape ?? []).map((d) => d ?? '?'), site: v.docString ?? '' }));
}

/** float32 of sqrt(2), as torch writes the GELU divisor. */
const SQRT2_F32 = Math.fround(Math.SQRT2);
/** torch.finfo(torch.float32).min: the additive mask of padded positions. */
const FLOAT32_MIN = -3.4028234663852886e38;

/** The state of the build: the writer, the weights, the config, the opset. */
interface Ctx {
  g: TorchStyleGraphWriter;
  w: ResolvedWeights;
  c: ExtendedBertConfig;
  family: BertFamily;
  opset: BuildOpset;
  batch: string;
  seq: string;
  /** Named parameters already added (shared layers read them again). */
  params: Set<string>;
  /** The transposed `onnx::MatMul_*` initializer of each Linear weight already written, by parameter name. */
  derived: Map<string, string>;
  /** Dropout mask inputs written so far; undefined when dropout is off. */
  masks?: ValueInfo[];
}

/** The opset of `opts`, checked: a SettingsError for one the builder does not write. */
/**
 * buildBert's options by their kinds (checkOptionKinds), before the graph is built: a JavaScript caller's dropout
 * 'no' was read as true (dropout sites inserted), batchDim 3 named the dimension '3', a misspelt option was read as
 * nothing; opset read by buildOpset.
 */
export const BUILD_OPTION_KINDS = {
  opset: 'checked',
  batchDim: 'string',
  sequenceDim: 'string',
  dropout: 'boolean',
} as const satisfies Record<keyof BuildOptions, OptionKind>;

/** `opts` of `fn` (buildBert, rebuildCanonical, buildFromHuggingFaceFolder) as an options object of `kinds` (BUILD_OPTION_KINDS and theirs). */
export function checkBuildOptions(fn: string, opts: unknown, kinds: Readonly<Record<string, OptionKind>>): void {
  checkOptionKinds(fn, checkOptions(fn, opts, `{${Object.keys(kinds).join(', ')}}`), kinds);
}

function buildOpset(opts: BuildOptions): BuildOpset {
  const v = opts.opset ?? BUILD_OPSET;
  if (!(BUILD_OPSETS as readonly number[]).includes(v)) {
    throw new SettingsError(choiceRefusal('build opset', v, BUILD_OPSETS));
  }
  return v as BuildOpset;
}

/**
 * The ForSequenceClassification graph for `config` (BERT unless `config.family` says otherwise) with weights from
 * `weights` (seeded, or given by Hugging Face parameter name with torch's [out, in] Linear layout). Throws
 * SettingsError for a bad config and DataError for missing or misshapen weights.
 */
export function buildBert(config: ExtendedBertConfig, weights: WeightSource, opts: BuildOptions = {}): Model {
  checkBuildOptions('buildBert', opts, BUILD_OPTION_KINDS);
  const opset = buildOpset(opts);
  const c = validateExtendedConfig(config);
  const ctx: Ctx = {
    g: new TorchStyleGraphWriter(),
    w: resolveWeights(c, weights),
    c,
    family: familyOf(c),
    opset,
    batch: opts.batchDim ?? 'batch_size',
    seq: opts.sequenceDim ?? 'sequence_length',
    params: new Set(),
    derived: new Map(),
    masks: opts.dropout ? [] : undefined,
  };
  const [inputIds, attentionMask, tokenTypeIds] = BERT_INPUTS;
  const typesInput = hasTokenTypeInput(c);

  // (DistilBERT and RoBERTa look up no token types from an input: nothing to compute for them)
  const computesTypes = !typesInput && looksUpTokenTypes(ctx.family);
  let hidden = embeddings(ctx, inputIds, computesTypes ? zeroTokenTypes(ctx, inputIds) : tokenTypeIds);
  const mask = extendedMask(ctx, attentionMask);
  for (let i = 0; i < c.numLayers; i++) hidden = encoderLayer(ctx, i, hidden, mask);
  classifierHead(ctx, hidden);

  const inputs: ValueInfo[] = (typesInput ? BERT_INPUTS : BERT_INPUTS.slice(0, 2)).map((name) => ({
    name,
    elemType: DataType.INT64,
    shape: [ctx.batch, ctx.seq],
  }));
  const graph: Graph = {
    name: 'main_graph',
    nodes: ctx.g.nodes,
    inputs: [...inputs, ...(ctx.masks ?? [])],
    outputs: [{ name: BERT_OUTPUT, elemType: DataType.FLOAT, shape: [ctx.batch, c.numLabels] }],
    initializers: ctx.g.initializers(bertParameters(c).map((p) => p.name)),
    valueInfo: [],
  };
  return createModel(graph, [{ domain: '', version: opset }], { irVersion: buildIrVersion(opset) });
}

/** A named parameter as an initializer (torch keeps parameters used as they are under their own names). */
function param(ctx: Ctx, name: string, dims: number[]): string {
  if (ctx.params.has(name)) return name;
  ctx.params.add(name);
  return ctx.g.param(name, dims, ctx.w.get(name));
}

/** The [in, out] transpose of Linear weight `name` [out, in], written once however many layers read it. */
function transposedWeight(ctx: Ctx, name: string, outFeatures: number, inFeatures: number): string {
  let t = ctx.derived.get(name);
  if (!t) {
    t = ctx.g.derived('MatMul', [inFeatures, outFeatures], transpose2d(ctx.w.get(name), outFeatures, inFeatures));
    ctx.derived.set(name, t);
  }
  return t;
}

/**
 * A dropout site: Mul(x, mask) with a new float32 mask input of shape `dims` (see DropoutMask); x itself when
 * dropout is off.
 */
function dropout(ctx: Ctx, scope: string, x: string, dims: Array<number | string>, site: string): string {
  if (!ctx.masks) return x;
  const name = `${DROPOUT_MASK_PREFIX}${ctx.masks.length}`;
  ctx.masks.push({ name, elemType: DataType.FLOAT, shape: dims, docString: site });
  return ctx.g.op(scope, 'Mul', [x, name]);
}

/** [batch, seq, hidden]: the shape of hidden states, for dropout masks. */
function hiddenDims(ctx: Ctx): Array<number | string> {
  return [ctx.batch, ctx.seq, ctx.c.hiddenSize];
}

/** The state-dict root scope of the encoder ('/bert', '/distilbert', '/roberta'). */
function rootScope(ctx: Ctx): string {
  return `/${ctx.family}`;
}

/**
 * Word (+ factorized projection), position and token type embeddings, then LayerNorm (and dropout), in the
 * family's layout.
 */
function embeddings(ctx: Ctx, inputIds: string, tokenTypeIds: string): string {
  if (ctx.family === 'albert' || ctx.family === 'electra') return projectedEmbeddings(ctx, inputIds, tokenTypeIds);
  const { g, c } = ctx;
  const s = `${rootScope(ctx)}/embeddings`;
  const h = c.hiddenSize;
  const names = embeddingParamNames(ctx.family);
  let all: string;
  if (ctx.family === 'roberta') {
    all = robertaEmbeddingSum(ctx, s, inputIds);
  } else {
    const positionIds = rangePositions(ctx, s, inputIds);
    const word = param(ctx, names.word, [c.vocabSize, c.embeddingSize ?? h]);
    const pos = param(ctx, names.position, [c.maxPositions, h]);
    const type = ctx.family === 'bert' ? param(ctx, names.tokenType, [c.typeVocabSize, h]) : undefined;
    // (word + position) + token type, in the teachers' order (transformers adds token types first; the sum is the
    // same up to float rounding).
    const wordEmb = wordLookup(ctx, s, word, inputIds);
    const posEmb = g.op(`${s}/position_embeddings`, 'Gather', [pos, positionIds]);
    all = g.op(s, 'Add', [wordEmb, posEmb]);
    if (type) {
      const typeEmb = g.op(`${s}/token_type_embeddings`, 'Gather', [type, tokenTypeIds]);
      all = g.op(s, 'Add', [all, typeEmb]);
    }
  }
  const normed = layerNorm(ctx, `${s}/LayerNorm`, names.norm, all);
  return dropout(ctx, `${s}/dropout`, normed, hiddenDims(ctx), 'embeddings');
}

/**
 * AlbertEmbeddings / ElectraEmbeddings in E = embeddingSize: (word + token type) + position, as transformers adds
 * them, LayerNorm(E) and dropout, then the E → hidden Linear with its bias: ALBERT's encoder.embedding_hidden_mapping_in,
 * ELECTRA's embeddings_project (which ELECTRA has only when embeddingSize is set, i.e. differs from hiddenSize).
 */
function projectedEmbeddings(ctx: Ctx, inputIds: string, tokenTypeIds: string): string {
  const { g, c } = ctx;
  const s = `${rootScope(ctx)}/embeddings`;
  const e = c.embeddingSize ?? c.hiddenSize;
  const names = embeddingParamNames(ctx.family);
  const positionIds = rangePositions(ctx, s, inputIds);
  const word = g.op(`${s}/word_embeddings`, 'Gather', [param(ctx, names.word, [c.vocabSize, e]), inputIds]);
  const type = g.op(`${s}/token_type_embeddings`, 'Gather', [param(ctx, names.tokenType, [c.typeVocabSize, e]), tokenTypeIds]);
  const pos = g.op(`${s}/position_embeddings`, 'Gather', [param(ctx, names.position, [c.maxPositions, e]), positionIds]);
  const sum = g.op(s, 'Add', [g.op(s, 'Add', [word, type]), pos]);
  const normed = layerNorm(ctx, `${s}/LayerNorm`, names.norm, sum, e);
  const dropped = dropout(ctx, `${s}/dropout`, normed, [ctx.batch, ctx.seq, e], 'embeddings');
  if (ctx.family === 'electra' && c.embeddingSize === undefined) return dropped;
  if (ctx.family === 'electra') return linear(ctx, '/electra/embeddings_project', names.mapping, dropped, c.hiddenSize, e);
  return linear(ctx, '/albert/encoder/embedding_hidden_mapping_in', names.mapping, dropped, c.hiddenSize, e);
}

/** token_type_ids = torch.zeros(input_shape): ConstantOfShape(Shape(input_ids)) of int64 0 (zeroTokenTypes). */
function zeroTokenTypes(ctx: Ctx, inputIds: string): string {
  const { g } = ctx;
  const s = `${rootScope(ctx)}/embeddings`;
  const zero = attr.tensor(int64Tensor('', [1], [0]));
  return g.op(s, 'ConstantOfShape', [g.op(s, 'Shape', [inputIds])], { value: zero });
}

/** position_ids = arange(seq_len).unsqueeze(0). */
function rangePositions(ctx: Ctx, s: string, inputIds: string): string {
  const { g } = ctx;
  const shape = g.op(s, 'Shape', [inputIds]);
  const seqLen = g.op(s, 'Gather', [shape, g.int64Scalar(s, 1)], { axis: attr.int(0) });
  const seqLenI64 = g.op(s, 'Cast', [seqLen], { to: attr.int(DataType.INT64) });
  const range = g.op(s, 'Range', [g.int64Scalar(s, 0), seqLenI64, g.int64Scalar(s, 1)]);
  return unsqueeze(ctx, s, range, [0], 'scoped');
}

/** Rows of the word table for the ids; a factorized table's rows go through the [E, hidden] projection. */
function wordLookup(ctx: Ctx, s: string, word: string, inputIds: string): string {
  const { g, c } = ctx;
  const rows = g.op(`${s}/word_embeddings`, 'Gather', [word, inputIds]);
  if (c.embeddingSize === undefined) return rows;
  const proj = transposedWeight(ctx, embeddingParamNames(ctx.family).projection, c.hiddenSize, c.embeddingSize);
  return g.op(`${s}/word_embeddings_projection`, 'MatMul', [rows, proj]);
}

/**
 * RoBERTa's sum: word + token type 0 (the buffered zeros, sliced to the sequence and expanded to the ids' shape) +
 * positions cumsum(ids ≠ pad) · (ids ≠ pad) + pad.
 */
function robertaEmbeddingSum(ctx: Ctx, s: string, inputIds: string): string {
  const { g, c } = ctx;
  const h = c.hiddenSize;
  const names = embeddingParamNames('roberta');
  const pad = c.padTokenId ?? 1;
  const isPad = g.op(s, 'Equal', [inputIds, g.int64Scalar(s, pad)]);
  const notPad = g.op(s, 'Cast', [g.op(s, 'Not', [isPad])], { to: attr.int(DataType.INT32) });
  const cumsum = g.op(s, 'CumSum', [notPad, g.int64Scalar(s, 1)]);
  const counted = g.op(s, 'Cast', [g.op(s, 'Mul', [cumsum, notPad])], { to: attr.int(DataType.INT64) });
  const positionIds = g.op(s, 'Add', [counted, g.int64Scalar(s, pad)]);

  const shape = g.op(s, 'Shape', [inputIds]);
  const seqLen = unsqueeze(ctx, s, g.op(s, 'Gather', [shape, g.int64Scalar(s, 1)], { axis: attr.int(0) }), [0], 'scoped');
  const buffer = g.constant(s, int64Tensor('', [1, c.maxPositions], new Array<number>(c.maxPositions).fill(0)));
  const sliced = g.op(s, 'Slice', [buffer, g.int64Vector(s, [0]), seqLen, g.int64Vector(s, [1])]);
  const tokenTypeIds = g.op(s, 'Expand', [sliced, shape]);

  const word = param(ctx, names.word, [c.vocabSize, c.embeddingSize ?? h]);
  const pos = param(ctx, names.position, [c.maxPositions, h]);
  const type = param(ctx, names.tokenType, [c.typeVocabSize, h]);
  const wordEmb = wordLookup(ctx, s, word, inputIds);
  const typeEmb = g.op(`${s}/token_type_embeddings`, 'Gather', [type, tokenTypeIds]);
  const sum = g.op(s, 'Add', [wordEmb, typeEmb]);
  const posEmb = g.op(`${s}/position_embeddings`, 'Gather', [pos, positionIds]);
  return g.op(s, 'Add', [sum, posEmb]);
}

/** mask[:, None, None, :] cast to float, (1 - mask) · float32 min: 0 where attended, -3.4e38 where padded. */
function extendedMask(ctx: Ctx, attentionMask: string): string {
  const { g } = ctx;
  const s = rootScope(ctx);
  const u1 = unsqueeze(ctx, s, attentionMask, [1], 'scoped');
  const u2 = unsqueeze(ctx, s, u1, [2], 'scoped');
  const f = g.op(s, 'Cast', [u2], { to: attr.int(DataType.FLOAT) });
  const inv = g.op(s, 'Sub', [g.floatScalar(s, 1), f]);
  return g.op(s, 'Mul', [inv, g.floatScalar(s, FLOAT32_MIN)]);
}

/**
 * x.unsqueeze(axes) as torch's symbolic writes it: below opset 13 with an `axes` attribute; from 13 with an axes
 * input, a Constant in the node's scope (`scoped`: indexing with None, unsqueeze in module code) or the unscoped
 * `onnx::Unsqueeze_<id>` Constant torch's helper writes for the dims of a traced `view` (`global`).
 */
function unsqueeze(ctx: Ctx, scope: string, x: string, axes: number[], constant: 'scoped' | 'global'): string {
  const { g } = ctx;
  if (ctx.opset < 13) return g.op(scope, 'Unsqueeze', [x], { axes: attr.ints(axes) });
  const axesInput = constant === 'scoped' ? g.int64Vector(scope, axes) : g.unsqueezeAxes(axes);
  return g.op(scope, 'Unsqueeze', [x, axesInput]);
}

/**
 * LayerNorm over the last axis as torch's symbolic writes it: from opset 17 one LayerNormalization node, below it
 * the opset-9 decomposition.
 */
function layerNorm(ctx: Ctx, scope: string, paramName: string, x: string, width = ctx.c.hiddenSize): string {
  const { g, c } = ctx;
  if (ctx.opset >= 17) {
    const scale = param(ctx, `${paramName}.weight`, [width]);
    const bias = param(ctx, `${paramName}.bias`, [width]);
    return g.op(scope, 'LayerNormalization', [x, scale, bias], { epsilon: attr.float(c.layerNormEps), axis: attr.int(-1) });
  }
  const axes = { axes: attr.ints([-1]) };
  const mean = g.op(scope, 'ReduceMean', [x], axes);
  const centered = g.op(scope, 'Sub', [x, mean]);
  const sq = g.op(scope, 'Pow', [centered, g.floatScalar(scope, 2)]);
  const variance = g.op(scope, 'ReduceMean', [sq], axes);
  const plusEps = g.op(scope, 'Add', [variance, g.floatScalar(scope, c.layerNormEps)]);
  const std = g.op(scope, 'Sqrt', [plusEps]);
  const normed = g.op(scope, 'Div', [centered, std]);
  const scaled = g.op(scope, 'Mul', [normed, param(ctx, `${paramName}.weight`, [width])]);
  return g.op(scope, 'Add', [scaled, param(ctx, `${paramName}.bias`, [width])]);
}

/**
 * nn.Linear on a 3-D input: MatMul with the weight transposed to [in, out] (an `onnx::MatMul_<id>` initializer),
 * then Add(bias, product), bias first as torch writes it.
 */
function linear(ctx: Ctx, scope: string, paramName: string, x: string, outFeatures: number, inFeatures: number): string {
  const { g } = ctx;
  const wt = transposedWeight(ctx, `${paramName}.weight`, outFeatures, inFeatures);
  const mm = g.op(scope, 'MatMul', [x, wt]);
  return g.op(scope, 'Add', [param(ctx, `${paramName}.bias`, [outFeatures]), mm]);
}

/** nn.Linear on a 2-D input: Gemm(x, W[out, in], b, transB=1). */
function gemm(ctx: Ctx, scope: string, paramName: string, x: string, out: number, output?: string): string {
  const { g, c } = ctx;
  const weight = param(ctx, `${paramName}.weight`, [out, c.hiddenSize]);
  const bias = param(ctx, `${paramName}.bias`, [out]);
  return g.op(scope, 'Gemm', [x, weight, bias], { alpha: attr.float(1), beta: attr.float(1), transB: attr.int(1) }, output);
}

/** x.view(x.size()[:-1] + tail) with the sizes read from the graph, as torch traces `view` with dynamic dims. */
function viewKeepingTwoDims(ctx: Ctx, scope: string, x: string, tail: number[]): string {
  const { g } = ctx;
  const dim0 = g.op(scope, 'Gather', [g.op(scope, 'Shape', [x]), g.int64Scalar(scope, 0)], { axis: attr.int(0) });
  const dim1 = g.op(scope, 'Gather', [g.op(scope, 'Shape', [x]), g.int64Scalar(scope, 1)], { axis: attr.int(0) });
  const u0 = unsqueeze(ctx, scope, dim0, [0], 'global');
  const u1 = unsqueeze(ctx, scope, dim1, [0], 'global');
  const shape = g.op(scope, 'Concat', [u0, u1, ...tail.map((t) => g.int64Vector(scope, [t]))], { axis: attr.int(0) });
  // Reshape-14 added allowzero; torch writes it (as 0) only from opset 14.
  return g.op(scope, 'Reshape', [x, shape], ctx.opset >= 14 ? { allowzero: attr.int(0) } : {});
}

/** The module scopes of one encoder layer's nodes, in the family's module paths. */
interface LayerScopes {
  /** Scope of the head split / merge and scores (BertSelfAttention, DistilBERT's MultiHeadSelfAttention). */
  self: string;
  query: string;
  key: string;
  value: string;
  attentionOutput: string;
  /** Scope of the residual Add after attention (and of its dropout). */
  attentionAdd: string;
  attentionNorm: string;
  intermediate: string;
  activation: string;
  output: string;
  /** Scope of the residual Add after the FFN. */
  outputAdd: string;
  /** Scope of the FFN output's dropout (none in ALBERT). */
  outputDropout?: string;
  /** Scope of the attention output's dropout (default `<attentionAdd>/dropout`). */
  attentionDropout?: string;
  /** Scope of the attention probabilities' dropout (default `<self>/dropout`). */
  probsDropout?: string;
  outputNorm: string;
}

function layerScopes(family: BertFamily, i: number): LayerScopes {
  if (family === 'albert') {
    // AlbertLayer of group i (its module runs once per layer of the group: the writer numbers the repeated nodes).
    const s = `/albert/encoder/albert_layer_groups.${i}/albert_layers.0`;
    const a = `${s}/attention`;
    return {
      self: a,
      query: `${a}/query`,
      key: `${a}/key`,
      value: `${a}/value`,
      attentionOutput: `${a}/dense`,
      attentionAdd: a,
      attentionDropout: `${a}/output_dropout`,
      probsDropout: `${a}/attention_dropout`,
      attentionNorm: `${a}/LayerNorm`,
      intermediate: `${s}/ffn`,
      activation: `${s}/activation`,
      output: `${s}/ffn_output`,
      outputAdd: s,
      outputNorm: `${s}/full_layer_layer_norm`,
    };
  }
  if (family === 'distilbert') {
    const s = `/distilbert/transformer/layer.${i}`;
    const a = `${s}/attention`;
    return {
      self: a,
      query: `${a}/q_lin`,
      key: `${a}/k_lin`,
      value: `${a}/v_lin`,
      attentionOutput: `${a}/out_lin`,
      attentionAdd: s,
      attentionNorm: `${s}/sa_layer_norm`,
      intermediate: `${s}/ffn/lin1`,
      activation: `${s}/ffn/activation`,
      output: `${s}/ffn/lin2`,
      outputAdd: s,
      outputDropout: `${s}/ffn/dropout`,
      outputNorm: `${s}/output_layer_norm`,
    };
  }
  const s = `/${family}/encoder/layer.${i}`;
  const self = `${s}/attention/self`;
  const ao = `${s}/attention/output`;
  const o = `${s}/output`;
  return {
    self,
    query: `${self}/query`,
    key: `${self}/key`,
    value: `${self}/value`,
    attentionOutput: `${ao}/dense`,
    attentionAdd: ao,
    attentionNorm: `${ao}/LayerNorm`,
    intermediate: `${s}/intermediate/dense`,
    activation: `${s}/intermediate/intermediate_act_fn`,
    output: `${o}/dense`,
    outputAdd: o,
    outputDropout: `${o}/dropout`,
    outputNorm: `${o}/LayerNorm`,
  };
}

/** Multi-head self-attention (BertSelfAttention) with `heads` heads: returns the merged context [batch, seq, heads·hs]. */
function selfAttention(ctx: Ctx, i: number, x: string, mask: string, sc: LayerScopes, heads: number): string {
  const { g, c } = ctx;
  const names = layerParamNames(layerGroupOf(c, i), ctx.family);
  const s = sc.self;
  const h = c.hiddenSize;
  const hs = attentionHeadSize(c);
  const width = heads * hs;
  const split = (v: string) => viewKeepingTwoDims(ctx, s, v, [heads, hs]);
  const q = linear(ctx, sc.query, names.query, x, width, h);
  const qT = g.op(s, 'Transpose', [split(q)], { perm: attr.ints([0, 2, 1, 3]) });
  const k = linear(ctx, sc.key, names.key, x, width, h);
  const kSplit = split(k);
  const v = linear(ctx, sc.value, names.value, x, width, h);
  const vT = g.op(s, 'Transpose', [split(v)], { perm: attr.ints([0, 2, 1, 3]) });
  // permute(0, 2, 1, 3) then transpose(-1, -2): torch's peephole fuses the two into one Transpose.
  const kT = g.op(s, 'Transpose', [kSplit], { perm: attr.ints([0, 2, 3, 1]) });
  const scores = g.op(s, 'MatMul', [qT, kT]);
  const scaled = g.op(s, 'Div', [scores, g.floatScalar(s, Math.sqrt(hs))]);
  const masked = g.op(s, 'Add', [scaled, mask]);
  // Below opset 13 torch's softmax symbolic writes the last dim of the rank-4 scores as a positive axis (Softmax-1/11
  // coerce to 2-D at `axis`, the same as Softmax-13 for the last axis).
  const softmax = g.op(s, 'Softmax', [masked], { axis: attr.int(ctx.opset < 13 ? 3 : -1) });
  const probs = dropout(ctx, sc.probsDropout ?? `${s}/dropout`, softmax, [ctx.batch, heads, ctx.seq, ctx.seq], `layer ${i} attention probabilities`);
  const context = g.op(s, 'MatMul', [probs, vT]);
  const merged = g.op(s, 'Transpose', [context], { perm: attr.ints([0, 2, 1, 3]) });
  return viewKeepingTwoDims(ctx, s, merged, [width]);
}

/** The activation of the intermediate block, in the scope of HF's `intermediate_act_fn`. */
function activation(ctx: Ctx, scope: string, x: string): string {
  const { g, c } = ctx;
  switch (c.activation) {
    case 'gelu':
      return exactGelu(ctx, scope, x);
    case 'gelu_tanh': {
      // HF gelu_new: 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³))), as traced.
      const half = g.op(scope, 'Mul', [x, g.floatScalar(scope, 0.5)]);
      const cube = g.op(scope, 'Pow', [x, g.floatScalar(scope, 3)]);
      const kappa = g.op(scope, 'Mul', [cube, g.floatScalar(scope, 0.044715)]);
      const inner = g.op(scope, 'Add', [x, kappa]);
      const scaled = g.op(scope, 'Mul', [inner, g.floatScalar(scope, Math.sqrt(2 / Math.PI))]);
      const onePlus = g.op(scope, 'Add', [g.op(scope, 'Tanh', [scaled]), g.floatScalar(scope, 1)]);
      return g.op(scope, 'Mul', [half, onePlus]);
    }
    case 'relu':
      return g.op(scope, 'Relu', [x]);
    case 'silu':
      // F.silu: x · sigmoid(x), as torch's symbolic writes it.
      return g.op(scope, 'Mul', [x, g.op(scope, 'Sigmoid', [x])]);
    case 'quick_gelu':
      // transformers' QuickGELUActivation: input * torch.sigmoid(1.702 * input), as traced.
      return g.op(scope, 'Mul', [x, g.op(scope, 'Sigmoid', [g.op(scope, 'Mul', [x, g.floatScalar(scope, 1.702)])])]);
    case 'tanh':
      return g.op(scope, 'Tanh', [x]);
  }
}

/** F.gelu (exact): x · 0.5 · (1 + erf(x / √2)), written as torch's opset-9 symbolic does. */
function exactGelu(ctx: Ctx, scope: string, x: string): string {
  const { g } = ctx;
  const erf = g.op(scope, 'Erf', [g.op(scope, 'Div', [x, g.floatScalar(scope, SQRT2_F32)])]);
  const onePlus = g.op(scope, 'Add', [erf, g.floatScalar(scope, 1)]);
  const prod = g.op(scope, 'Mul', [x, onePlus]);
  return g.op(scope, 'Mul', [prod, g.floatScalar(scope, 0.5)]);
}

/**
 * One encoder layer: attention (or, with 0 heads, the constant output-projection bias), residual + LayerNorm,
 * feed-forward, residual + LayerNorm. Layers of a shared group read the group's parameters.
 */
function encoderLayer(ctx: Ctx, i: number, x: string, mask: string): string {
  const { g, c } = ctx;
  const names = layerParamNames(layerGroupOf(c, i), ctx.family);
  const sc = layerScopes(ctx.family, ctx.family === 'albert' ? layerGroupOf(c, i) : i);
  const h = c.hiddenSize;
  const { numHeads, intermediateSize } = layerSizes(c, i);

  let branch: string;
  if (numHeads > 0) {
    const context = selfAttention(ctx, i, x, mask, sc, numHeads);
    branch = linear(ctx, sc.attentionOutput, names.attentionOutput, context, h, numHeads * attentionHeadSize(c));
  } else {
    branch = param(ctx, `${names.attentionOutput}.bias`, [h]);
  }
  // DistilBERT applies no dropout to the attention output projection.
  if (ctx.family !== 'distilbert') {
    branch = dropout(ctx, sc.attentionDropout ?? `${sc.attentionAdd}/dropout`, branch, hiddenDims(ctx), `layer ${i} attention output`);
  }
  const attnOut = layerNorm(ctx, sc.attentionNorm, names.attentionNorm, g.op(sc.attentionAdd, 'Add', [x, branch]));

  const up = linear(ctx, sc.intermediate, names.intermediate, attnOut, intermediateSize, h);
  const act = activation(ctx, sc.activation, up);
  const down = linear(ctx, sc.output, names.output, act, h, intermediateSize);
  // ALBERT's ff_chunk applies no dropout to the FFN output.
  const dropped = sc.outputDropout ? dropout(ctx, sc.outputDropout, down, hiddenDims(ctx), `layer ${i} FFN output`) : down;
  return layerNorm(ctx, sc.outputNorm, names.outputNorm, g.op(sc.outputAdd, 'Add', [attnOut, dropped]));
}

/** hidden[:, 0]: the first token's hidden state. */
function firstToken(ctx: Ctx, scope: string, hidden: string): string {
  return ctx.g.op(scope, 'Gather', [hidden, ctx.g.int64Scalar(scope, 0)], { axis: attr.int(1) });
}

/**
 * The family's sequence-classification head on the first token, writing the `logits` output: BERT's pooler
 * (dense + Tanh) and classifier; DistilBERT's pre_classifier + ReLU and classifier; RoBERTa's dense + Tanh and
 * out_proj. Dropout sites where Hugging Face has them.
 */
function classifierHead(ctx: Ctx, hidden: string): void {
  const { g, c } = ctx;
  const h = c.hiddenSize;
  const names = headParamNames(ctx.family);
  const drop = (scope: string, x: string) => dropout(ctx, scope, x, [ctx.batch, h], 'classifier input');
  switch (ctx.family) {
    case 'bert': {
      const pooled = pooler(ctx, hidden);
      gemm(ctx, '/classifier', names.last, drop('/dropout', pooled), c.numLabels, BERT_OUTPUT);
      return;
    }
    case 'distilbert': {
      const pre = gemm(ctx, '/pre_classifier', names.first, firstToken(ctx, '', hidden), h);
      const relu = g.op('/ReLU', 'Relu', [pre]);
      gemm(ctx, '/classifier', names.last, drop('/dropout', relu), c.numLabels, BERT_OUTPUT);
      return;
    }
    case 'albert': {
      // AlbertModel: pooler_activation(pooler(sequence_output[:, 0])), the indexing in AlbertModel's scope.
      const first = firstToken(ctx, '/albert', hidden);
      const pooled = g.op('/albert/pooler_activation', 'Tanh', [gemm(ctx, '/albert/pooler', names.first, first, h)]);
      gemm(ctx, '/classifier', names.last, drop('/dropout', pooled), c.numLabels, BERT_OUTPUT);
      return;
    }
    case 'electra': {
      // ElectraClassificationHead: get_activation('gelu') whatever the config's hidden_act.
      const s = '/classifier';
      const dense = gemm(ctx, `${s}/dense`, names.first, drop(`${s}/dropout`, firstToken(ctx, s, hidden)), h);
      const gelu = exactGelu(ctx, `${s}/activation`, dense);
      gemm(ctx, `${s}/out_proj`, names.last, drop(`${s}/dropout`, gelu), c.numLabels, BERT_OUTPUT);
      return;
    }
    case 'roberta': {
      const s = '/classifier';
      const dense = gemm(ctx, `${s}/dense`, names.first, drop(`${s}/dropout`, firstToken(ctx, s, hidden)), h);
      const tanh = g.op(s, 'Tanh', [dense]);
      gemm(ctx, `${s}/out_proj`, names.last, drop(`${s}/dropout`, tanh), c.numLabels, BERT_OUTPUT);
      return;
    }
  }
}

/** BertPooler: tanh(dense(hidden[:, 0])). */
function pooler(ctx: Ctx, hidden: string): string {
  const { g } = ctx;
  const s = '/bert/pooler';
  const first = firstToken(ctx, s, hidden);
  const dense = gemm(ctx, `${s}/dense`, 'bert.pooler.dense', first, ctx.c.hiddenSize);
  return g.op(`${s}/activation`, 'Tanh', [dense]);
}
