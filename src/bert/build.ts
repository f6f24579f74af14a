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
 */
import type { Graph, Model, ValueInfo } from '../onnx/index.ts';
import { DataType, createModel } from '../onnx/index.ts';
import { SettingsError } from '../errors.ts';
import { type BertConfig, headSize, validateBertConfig } from './config.ts';
import { TorchStyleGraphWriter, attr, transpose2d } from './build-graph.ts';
import { bertParameters, layerParamNames, resolveWeights, type ResolvedWeights, type WeightSource } from './build-weights.ts';

export type { WeightSource, NamedWeights, WeightArray, RandomInit } from './build-weights.ts';
export { randomBertWeights, bertParameters, resolveWeights } from './build-weights.ts';

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
}

/** Names of the graph's inputs and output. */
export const BERT_INPUTS = ['input_ids', 'attention_mask', 'token_type_ids'] as const;
export const BERT_OUTPUT = 'logits';

/** float32 of sqrt(2), as torch writes the GELU divisor. */
const SQRT2_F32 = Math.fround(Math.SQRT2);
/** torch.finfo(torch.float32).min: the additive mask of padded positions. */
const FLOAT32_MIN = -3.4028234663852886e38;

/** The state of the build: the writer, the weights, the config, the opset. */
interface Ctx {
  g: TorchStyleGraphWriter;
  w: ResolvedWeights;
  c: BertConfig;
  opset: BuildOpset;
}

/** The opset of `opts`, checked: a SettingsError for one the builder does not write. */
function buildOpset(opts: BuildOptions): BuildOpset {
  const v = opts.opset ?? BUILD_OPSET;
  if (!(BUILD_OPSETS as readonly number[]).includes(v)) {
    throw new SettingsError(`build opset ${v}: expected one of ${BUILD_OPSETS.join(', ')}`);
  }
  return v as BuildOpset;
}

/**
 * The BertForSequenceClassification graph for `config` with weights from `weights` (seeded, or given by Hugging
 * Face parameter name with torch's [out, in] Linear layout). Throws SettingsError for a bad config and DataError
 * for missing or misshapen weights.
 */
export function buildBert(config: BertConfig, weights: WeightSource, opts: BuildOptions = {}): Model {
  const opset = buildOpset(opts);
  const c = validateBertConfig(config);
  const ctx: Ctx = { g: new TorchStyleGraphWriter(), w: resolveWeights(c, weights), c, opset };
  const [inputIds, attentionMask, tokenTypeIds] = BERT_INPUTS;

  let hidden = embeddings(ctx, inputIds, tokenTypeIds);
  const mask = extendedMask(ctx, attentionMask);
  for (let i = 0; i < c.numLayers; i++) hidden = encoderLayer(ctx, i, hidden, mask);
  const pooled = pooler(ctx, hidden);
  gemm(ctx, '/classifier', 'classifier', pooled, c.numLabels, BERT_OUTPUT);

  const batch = opts.batchDim ?? 'batch_size';
  const seq = opts.sequenceDim ?? 'sequence_length';
  const inputs: ValueInfo[] = BERT_INPUTS.map((name) => ({ name, elemType: DataType.INT64, shape: [batch, seq] }));
  const graph: Graph = {
    name: 'main_graph',
    nodes: ctx.g.nodes,
    inputs,
    outputs: [{ name: BERT_OUTPUT, elemType: DataType.FLOAT, shape: [batch, c.numLabels] }],
    initializers: ctx.g.initializers(bertParameters(c).map((p) => p.name)),
    valueInfo: [],
  };
  return createModel(graph, [{ domain: '', version: opset }], { irVersion: buildIrVersion(opset) });
}

/** A named parameter as an initializer (torch keeps parameters used as they are under their own names). */
function param(ctx: Ctx, name: string, dims: number[]): string {
  return ctx.g.param(name, dims, ctx.w.get(name));
}

/** word + position + token type embeddings, then LayerNorm. */
function embeddings(ctx: Ctx, inputIds: string, tokenTypeIds: string): string {
  const { g, c } = ctx;
  const s = '/bert/embeddings';
  const h = c.hiddenSize;
  // position_ids = arange(seq_len).unsqueeze(0)
  const shape = g.op(s, 'Shape', [inputIds]);
  const seqLen = g.op(s, 'Gather', [shape, g.int64Scalar(s, 1)], { axis: attr.int(0) });
  const seqLenI64 = g.op(s, 'Cast', [seqLen], { to: attr.int(DataType.INT64) });
  const range = g.op(s, 'Range', [g.int64Scalar(s, 0), seqLenI64, g.int64Scalar(s, 1)]);
  const positionIds = unsqueeze(ctx, s, range, [0], 'scoped');

  const word = param(ctx, 'bert.embeddings.word_embeddings.weight', [c.vocabSize, h]);
  const pos = param(ctx, 'bert.embeddings.position_embeddings.weight', [c.maxPositions, h]);
  const type = param(ctx, 'bert.embeddings.token_type_embeddings.weight', [c.typeVocabSize, h]);
  // (word + position) + token type, in the teachers' order (transformers adds token types first; the sum is the
  // same up to float rounding).
  const wordEmb = g.op(`${s}/word_embeddings`, 'Gather', [word, inputIds]);
  const posEmb = g.op(`${s}/position_embeddings`, 'Gather', [pos, positionIds]);
  const sum = g.op(s, 'Add', [wordEmb, posEmb]);
  const typeEmb = g.op(`${s}/token_type_embeddings`, 'Gather', [type, tokenTypeIds]);
  const all = g.op(s, 'Add', [sum, typeEmb]);
  return layerNorm(ctx, `${s}/LayerNorm`, 'bert.embeddings.LayerNorm', all);
}

/** mask[:, None, None, :] cast to float, (1 - mask) · float32 min: 0 where attended, -3.4e38 where padded. */
function extendedMask(ctx: Ctx, attentionMask: string): string {
  const { g } = ctx;
  const s = '/bert';
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
function layerNorm(ctx: Ctx, scope: string, paramName: string, x: string): string {
  const { g, c } = ctx;
  if (ctx.opset >= 17) {
    const scale = param(ctx, `${paramName}.weight`, [c.hiddenSize]);
    const bias = param(ctx, `${paramName}.bias`, [c.hiddenSize]);
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
  const scaled = g.op(scope, 'Mul', [normed, param(ctx, `${paramName}.weight`, [c.hiddenSize])]);
  return g.op(scope, 'Add', [scaled, param(ctx, `${paramName}.bias`, [c.hiddenSize])]);
}

/**
 * nn.Linear on a 3-D input: MatMul with the weight transposed to [in, out] (an `onnx::MatMul_<id>` initializer),
 * then Add(bias, product), bias first as torch writes it.
 */
function linear(ctx: Ctx, scope: string, paramName: string, x: string, outFeatures: number, inFeatures: number): string {
  const { g, w } = ctx;
  const wt = g.derived('MatMul', [inFeatures, outFeatures], transpose2d(w.get(`${paramName}.weight`), outFeatures, inFeatures));
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

/** Multi-head self-attention (BertSelfAttention): returns the merged context [batch, seq, hidden]. */
function selfAttention(ctx: Ctx, i: number, x: string, mask: string): string {
  const { g, c } = ctx;
  const names = layerParamNames(i);
  const s = `/bert/encoder/layer.${i}/attention/self`;
  const h = c.hiddenSize;
  const heads = c.numHeads;
  const hs = headSize(c);
  const split = (v: string) => viewKeepingTwoDims(ctx, s, v, [heads, hs]);
  const q = linear(ctx, `${s}/query`, names.query, x, h, h);
  const qT = g.op(s, 'Transpose', [split(q)], { perm: attr.ints([0, 2, 1, 3]) });
  const k = linear(ctx, `${s}/key`, names.key, x, h, h);
  const kSplit = split(k);
  const v = linear(ctx, `${s}/value`, names.value, x, h, h);
  const vT = g.op(s, 'Transpose', [split(v)], { perm: attr.ints([0, 2, 1, 3]) });
  // permute(0, 2, 1, 3) then transpose(-1, -2): torch's peephole fuses the two into one Transpose.
  const kT = g.op(s, 'Transpose', [kSplit], { perm: attr.ints([0, 2, 3, 1]) });
  const scores = g.op(s, 'MatMul', [qT, kT]);
  const scaled = g.op(s, 'Div', [scores, g.floatScalar(s, Math.sqrt(hs))]);
  const masked = g.op(s, 'Add', [scaled, mask]);
  // Below opset 13 torch's softmax symbolic writes the last dim of the rank-4 scores as a positive axis (Softmax-1/11
  // coerce to 2-D at `axis`, the same as Softmax-13 for the last axis).
  const probs = g.op(s, 'Softmax', [masked], { axis: attr.int(ctx.opset < 13 ? 3 : -1) });
  const context = g.op(s, 'MatMul', [probs, vT]);
  const merged = g.op(s, 'Transpose', [context], { perm: attr.ints([0, 2, 1, 3]) });
  return viewKeepingTwoDims(ctx, s, merged, [h]);
}

/** The activation of the intermediate block, in the scope of HF's `intermediate_act_fn`. */
function activation(ctx: Ctx, scope: string, x: string): string {
  const { g, c } = ctx;
  switch (c.activation) {
    case 'gelu': {
      // F.gelu (exact): x · 0.5 · (1 + erf(x / √2)), written as torch's opset-9 symbolic does.
      const erf = g.op(scope, 'Erf', [g.op(scope, 'Div', [x, g.floatScalar(scope, SQRT2_F32)])]);
      const onePlus = g.op(scope, 'Add', [erf, g.floatScalar(scope, 1)]);
      const prod = g.op(scope, 'Mul', [x, onePlus]);
      return g.op(scope, 'Mul', [prod, g.floatScalar(scope, 0.5)]);
    }
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
  }
}

/** One BertLayer: attention, residual + LayerNorm, feed-forward, residual + LayerNorm. */
function encoderLayer(ctx: Ctx, i: number, x: string, mask: string): string {
  const { g, c } = ctx;
  const names = layerParamNames(i);
  const s = `/bert/encoder/layer.${i}`;
  const h = c.hiddenSize;
  const context = selfAttention(ctx, i, x, mask);

  const ao = `${s}/attention/output`;
  const projected = linear(ctx, `${ao}/dense`, names.attentionOutput, context, h, h);
  const attnOut = layerNorm(ctx, `${ao}/LayerNorm`, names.attentionNorm, g.op(ao, 'Add', [x, projected]));

  const inter = `${s}/intermediate`;
  const up = linear(ctx, `${inter}/dense`, names.intermediate, attnOut, c.intermediateSize, h);
  const act = activation(ctx, `${inter}/intermediate_act_fn`, up);

  const o = `${s}/output`;
  const down = linear(ctx, `${o}/dense`, names.output, act, h, c.intermediateSize);
  return layerNorm(ctx, `${o}/LayerNorm`, names.outputNorm, g.op(o, 'Add', [attnOut, down]));
}

/** BertPooler: tanh(dense(hidden[:, 0])). */
function pooler(ctx: Ctx, hidden: string): string {
  const { g } = ctx;
  const s = '/bert/pooler';
  const first = g.op(s, 'Gather', [hidden, g.int64Scalar(s, 0)], { axis: attr.int(1) });
  const dense = gemm(ctx, `${s}/dense`, 'bert.pooler.dense', first, ctx.c.hiddenSize);
  return g.op(`${s}/activation`, 'Tanh', [dense]);
}
