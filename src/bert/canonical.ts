/**
 * Canonical rebuilds: any sequence classifier discovery reads (torch, keras2onnx and onnxruntime-fused exports,
 * DistilBERT and RoBERTa / XLM-R layouts, and every float form the compression passes write: pruned heads and FFN
 * neurons, layers without attention, dropped layers, a factorized word embedding, shared layers) is read back into an
 * ExtendedBertConfig and Hugging Face weights, and rebuilt by `buildBert` as the torch-style graph, the one training
 * differentiates. Without dropout the rebuild computes the source's logits (up to float rounding).
 *
 * Weights are read through the BertStructure: Linear weights in either layout come out in torch's [out, in] layout,
 * a com.microsoft Attention's packed QKV weight [hidden, 3·heads·headSize] is split into query, key and value, a
 * keras position constant [1, seq, hidden] becomes the position table. Layers whose weight matrices are the same
 * initializers are one layer group (ExtendedBertConfig.layerGroups); biases and LayerNorm parameters that an exporter
 * deduplicated across layers (equal values) are copied into each layer's own parameters.
 *
 * Refused with a one-line SettingsError: quantized weights (train before quantizing), models without a
 * sequence-classification head (pretraining, question answering, token classification, bare encoders), and the few
 * layouts the builder cannot write (another activation, LayerNorm epsilons that differ, head sizes that differ
 * between layers, a different attention scale).
 */
import { attrFloat, attrInt, attrInts, attrString, type Model, type Node, type Tensor } from '../onnx/graph.ts';
import { DataType, isFloatType } from '../onnx/dtype.ts';
import { numElements, readFloat32 } from '../onnx/tensor.ts';
import { SettingsError, quotedText } from '../errors.ts';
import type { OptionKind } from '../library-args.ts';
import { BERT_BASE, type BertActivation, type BertFamily, type ExtendedBertConfig, type LayerSizes, classifiesPooled, looksUpTokenTypes } from './config.ts';
import { BUILD_OPTION_KINDS, buildBert, checkBuildOptions, type BuildOptions } from './build.ts';
import { transpose2d } from './build-graph.ts';
import { embeddingParamNames, headParamNames, layerParamNames } from './build-weights.ts';
import { aHead, aPretrainingHead, type FloatModel } from './classifier.ts';
import { findBert } from './discover.ts';
import { classifyActivation } from './discover/feed-forward.ts';
import { GraphContext } from './discover/graph-context.ts';
import { sharedLayerGroups } from './inspect.ts';
import type { BertStructure, EncoderInputs, EncoderLayer, LayerNorm, Linear } from './structure.ts';
import { quantizedWeight } from './stored-quantized.ts';

/** A model read into the builder's terms. */
export interface CanonicalBert {
  /** The config that rebuilds the model (extended fields only where the model needs them). */
  config: ExtendedBertConfig;
  /** Parameters by Hugging Face name (see bertParameters), torch layout (Linear weights [out, in]); fresh arrays. */
  weights: Map<string, Float32Array>;
  family: BertFamily;
  /**
   * The source graph's inputs. The rebuild always reads int64 `input_ids` and `attention_mask` (and, for BERT,
   * ALBERT and ELECTRA, `token_type_ids` where the source has that input; where it has none, the rebuild computes
   * type 0 for every token, as the source does: `config.zeroTokenTypes`).
   */
  sourceInputs: EncoderInputs;
}

/** Options of rebuildCanonical: the build's options, and the source's structure when already discovered. */
export interface RebuildOptions extends BuildOptions {
  structure?: BertStructure;
}

const ACTIVATIONS: readonly string[] = ['gelu', 'gelu_tanh', 'relu', 'silu', 'quick_gelu', 'tanh'] satisfies BertActivation[];

/** Throws the one-line SettingsError of this module. */
function refuse(message: string): never {
  throw new SettingsError(`canonical rebuild: ${message}`);
}

/**
 * The config and Hugging Face weights that rebuild `model` with buildBert. `structure` is findBert's map of it
 * (found here when not given). Throws SettingsError for quantized models, models without a sequence-classification
 * head and layouts the builder cannot write; NotBertError when discovery does not understand the graph.
 */
export function canonicalBert(model: Model, structure?: BertStructure): CanonicalBert {
  const s = structure ?? findBert(model);
  refuseQuantized(s);
  refuseHead(s);
  const family = s.family;
  const reader = new WeightReader(model);
  const weights = new Map<string, Float32Array>();
  const config: ExtendedBertConfig = {
    numLayers: s.numLayers,
    hiddenSize: s.hiddenSize,
    numHeads: 0,
    intermediateSize: 0,
    vocabSize: s.vocabSize,
    maxPositions: 0,
    typeVocabSize: 1,
    numLabels: s.head!.numLabels,
    activation: layerActivation(s),
    layerNormEps: layerNormEpsilon(model, s),
  };
  if (family !== 'bert') config.family = family;
  // (a graph that takes no token types computes type 0 for every token: so does the rebuild)
  if (looksUpTokenTypes(family) && s.inputs.tokenTypeIds === undefined) config.zeroTokenTypes = true;
  readEmbeddings(model, s, reader, config, weights);
  readLayers(s, reader, config, weights);
  readHead(model, s, reader, weights);
  return { config, weights, family, sourceInputs: { ...s.inputs } };
}

/** canonicalBert, then buildBert: the model as the builder's graph (`opts.dropout` for training). */
export function rebuildCanonical(model: Model, opts: RebuildOptions = {}): Model {
  checkBuildOptions('rebuildCanonical', opts, { ...BUILD_OPTION_KINDS, structure: 'checked' } satisfies Record<keyof RebuildOptions, OptionKind>);
  const { structure, ...build } = opts;
  const { config, weights } = canonicalBert(model, structure);
  return buildBert(config, { kind: 'given', tensors: weights }, build);
}

/**
 * Why the rebuild refuses `s`, a model with a weight stored quantized (its first: quantizedWeight), in its words
 * ('canonical rebuild: the word embedding is stored quantized (gather-scale); train before quantizing …'), the first
 * thing canonicalBert checks: a sweep's plan says it of a model it read without weight values; undefined for a float
 * model. `floatModel`: the float model it was quantized from, named where its lineage tells it (FloatModel: asked only
 * of a model stored quantized).
 */
export function quantizedRebuildRefusal(s: BertStructure, floatModel?: FloatModel): string | undefined {
  const stored = quantizedWeight(s);
  if (stored === undefined) return undefined;
  const float = floatModel?.();
  return `canonical rebuild: ${stored}; train before quantizing (${float ? `train the float model it was quantized from, ${float}` : 'rebuild the float model'})`;
}

/** Refuses a model with any weight stored quantized. */
function refuseQuantized(s: BertStructure): void {
  const refusal = quantizedRebuildRefusal(s);
  if (refusal) throw new SettingsError(refusal);
}

/**
 * Why the rebuild refuses `s` for its head, in its words ('canonical rebuild: the model has a question-answering head:
 * only sequence classifiers are rebuilt'): none, or not a sequence classifier of its family's layout (one output, BERT's
 * and ALBERT's on a pooler). A sweep's plan says it of a model it read without weight values; undefined for a head the
 * rebuild reads.
 */
export function headRebuildRefusal(s: BertStructure): string | undefined {
  const head = s.head;
  const refusal = (message: string) => `canonical rebuild: ${message}`;
  if (!head) return refusal('the model has no task head (a bare encoder): only sequence classifiers are rebuilt');
  if (head.kind === 'pretraining') return refusal(`the model has ${aPretrainingHead(head)}: only sequence classifiers are rebuilt`);
  if (head.kind !== 'sequence-classification') return refusal(`the model has ${aHead(head.kind)}: only sequence classifiers are rebuilt`);
  if (head.outputs.length !== 1) return refusal(`the head writes ${head.outputs.length} outputs; expected one (the logits)`);
  const pooled = classifiesPooled(s.family);
  const expected = pooled ? 1 : 2;
  if (pooled && !s.pooler) return refusal(`the ${s.family === 'bert' ? 'BERT' : 'ALBERT'} classifier has no pooler (dense + tanh on the first token)`);
  if (head.linears.length !== expected)
    return refusal(`the ${s.family} head has ${head.linears.length} dense layers${pooled ? ' after the pooler' : ''}; expected ${expected}`);
  return undefined;
}

/** Refuses models without the sequence-classification head of their family (headRebuildRefusal). */
function refuseHead(s: BertStructure): void {
  const refusal = headRebuildRefusal(s);
  if (refusal) throw new SettingsError(refusal);
}

/** The FFN activation, the same in every layer and one the builder writes. */
function layerActivation(s: BertStructure): BertActivation {
  const acts = new Set(s.layers.map((l) => l.ffn.activation));
  if (acts.size !== 1) refuse(`the layers use different FFN activations (${[...acts].join(', ')})`);
  const [act] = acts;
  const named = act === 'other' ? 'activation (element-wise ops that compute no activation discovery names)' : `activation ${quotedText(act)}`;
  if (!ACTIVATIONS.includes(act)) refuse(`FFN ${named} is not one the builder writes (${ACTIVATIONS.join(', ')})`);
  return act as BertActivation;
}

/** The shortest decimal that is the same float32 (1e-12 rather than 9.999999960041972e-13). */
function shortestFloat32(x: number): number {
  for (let p = 1; p <= 17; p++) {
    const v = Number(x.toPrecision(p));
    if (Math.fround(v) === Math.fround(x)) return v;
  }
  return x;
}

/**
 * The LayerNorm epsilon, the same (as a float32) in every LayerNorm. A float16 model's epsilon of 0 is one that
 * underflowed (float16's smallest step is 6e-8: BERT's 1e-12 is 0 there): read as BERT's 1e-12, which the float16
 * model computes with as it stands, where a float32 rebuild cannot take 0.
 */
function layerNormEpsilon(model: Model, s: BertStructure): number {
  const norms: LayerNorm[] = [s.embeddings.norm, ...s.layers.flatMap((l) => [l.attentionNorm, l.outputNorm])];
  const eps = new Set(norms.map((n) => Math.fround(n.epsilon)));
  if (eps.size !== 1) refuse(`the LayerNorms use different epsilons (${[...eps].join(', ')})`);
  return shortestFloat32(float32Epsilon(model, norms[0]));
}

/** `norm`'s epsilon for a float32 model: a float16 model's underflowed 0 read as BERT's 1e-12 (see layerNormEpsilon). */
export function float32Epsilon(model: Model, norm: LayerNorm): number {
  return norm.epsilon === 0 && model.graph.initializers.get(norm.scale)?.dataType === DataType.FLOAT16 ? BERT_BASE.layerNormEps : norm.epsilon;
}

/** Reads float initializers as fresh arrays, checking their sizes. */
class WeightReader {
  constructor(readonly model: Model) {}

  /** A float initializer of `size` elements, as a fresh array. */
  floats(name: string, size: number): Float32Array {
    const t = this.tensor(name);
    if (numElements(t.dims) !== size) refuse(`initializer ${quotedText(name)} has shape [${t.dims.join(', ')}], expected ${size} values`);
    return readFloat32(t).slice();
  }

  tensor(name: string): Tensor {
    const t = this.model.graph.initializers.get(name);
    if (!t) refuse(`initializer ${quotedText(name)} not found`);
    if (!isFloatType(t.dataType)) refuse(`initializer ${quotedText(name)} is not a float tensor`);
    return t;
  }

  /** A projection's weight in torch's [out, in] layout, and its bias (zeros when it has none). */
  linear(l: Linear): { weight: Float32Array; bias: Float32Array } {
    const data = this.floats(l.weight, l.inFeatures * l.outFeatures);
    const weight = l.layout === 'out_in' ? data : transpose2d(data, l.inFeatures, l.outFeatures);
    const bias = l.bias ? this.floats(l.bias, l.outFeatures) : new Float32Array(l.outFeatures);
    return { weight, bias };
  }
}

/** Sets `<name>.weight` and `<name>.bias` from a projection. */
function setLinear(weights: Map<string, Float32Array>, reader: WeightReader, name: string, l: Linear): void {
  const { weight, bias } = reader.linear(l);
  weights.set(`${name}.weight`, weight);
  weights.set(`${name}.bias`, bias);
}

/** Sets `<name>.weight` and `<name>.bias` from a LayerNorm's scale and bias. */
function setNorm(weights: Map<string, Float32Array>, reader: WeightReader, name: string, n: LayerNorm, hidden: number): void {
  weights.set(`${name}.weight`, reader.floats(n.scale, hidden));
  weights.set(`${name}.bias`, reader.floats(n.bias, hidden));
}

/** Word (and its projection), position and token type tables, the embeddings LayerNorm; sizes into `config`. */
function readEmbeddings(model: Model, s: BertStructure, reader: WeightReader, config: ExtendedBertConfig, weights: Map<string, Float32Array>): void {
  if (s.family === 'albert' || (s.family === 'electra' && s.embeddings.mapping)) return readAlbertEmbeddings(s, reader, config, weights);
  if (s.embeddings.mapping)
    refuse(`the ${s.family} embeddings are mapped to the hidden width by a Linear after their LayerNorm, which only ALBERT and ELECTRA have`);
  if (s.family === 'electra' && s.embeddings.word.projection)
    refuse('the ELECTRA word embedding is factorized: the builder writes ELECTRA only with its own embeddings_project');
  const e = s.embeddings;
  const h = s.hiddenSize;
  const names = embeddingParamNames(s.family);
  if (e.fusedNode) {
    const node = model.graph.nodes.find((n) => n.name === e.fusedNode);
    if (node?.inputs[8]) refuse(`EmbedLayerNormalization ${quotedText(e.fusedNode)} reads explicit position ids`);
  }
  const word = reader.tensor(e.word.weight);
  const width = word.dims[1];
  weights.set(names.word, reader.floats(e.word.weight, e.word.rows * width));
  if (e.word.projection) {
    const p = e.word.projection;
    if (p.bias) refuse(`the word embedding projection has a bias (${quotedText(p.bias)}); the builder writes it without one`);
    if (p.inFeatures !== width || p.outFeatures !== h) refuse(`the word embedding projection is ${p.inFeatures}→${p.outFeatures}, not ${width}→${h}`);
    weights.set(names.projection, reader.linear(p).weight);
    config.embeddingSize = width;
  } else if (width !== h) {
    refuse(`the word embedding is ${width} wide, not the hidden size ${h}`);
  }
  if (!e.position) refuse('the model has no position embeddings');
  const pos = reader.tensor(e.position.weight);
  if (pos.dims.length === 3 && pos.dims[0] !== 1) refuse(`position embeddings ${quotedText(e.position.weight)} have shape [${pos.dims.join(', ')}]`);
  weights.set(names.position, reader.floats(e.position.weight, e.position.rows * h));
  config.maxPositions = e.position.rows;
  if (s.family !== 'distilbert') {
    // A RoBERTa export without a token type table adds nothing: a zero row does the same.
    const rows = e.tokenType?.rows ?? 1;
    weights.set(names.tokenType, e.tokenType ? reader.floats(e.tokenType.weight, rows * h) : new Float32Array(h));
    config.typeVocabSize = rows;
  }
  if (s.family === 'roberta') config.padTokenId = robertaPadding(model, s);
  setNorm(weights, reader, names.norm, e.norm, h);
}

/**
 * ALBERT's (and ELECTRA's, when narrower) E-wide tables and LayerNorm, and the mapping to the hidden width; E into
 * `config.embeddingSize`.
 */
function readAlbertEmbeddings(s: BertStructure, reader: WeightReader, config: ExtendedBertConfig, weights: Map<string, Float32Array>): void {
  const e = s.embeddings;
  const names = embeddingParamNames(s.family);
  if (!e.mapping) refuse('the ALBERT embeddings have no Linear mapping them to the hidden width (embedding_hidden_mapping_in)');
  if (e.word.projection) refuse('the ALBERT word embedding has its own projection besides the mapping to the hidden width');
  if (!e.position || !e.tokenType) refuse('the ALBERT embeddings have no position or no token type table');
  const width = e.mapping.inFeatures;
  for (const t of [e.word, e.position, e.tokenType]) {
    const dims = reader.tensor(t.weight).dims;
    if (dims.length !== 2 || dims[1] !== width) refuse(`embedding table ${quotedText(t.weight)} has shape [${dims.join(', ')}], not [rows, ${width}]`);
  }
  weights.set(names.word, reader.floats(e.word.weight, e.word.rows * width));
  weights.set(names.position, reader.floats(e.position.weight, e.position.rows * width));
  weights.set(names.tokenType, reader.floats(e.tokenType.weight, e.tokenType.rows * width));
  setNorm(weights, reader, names.norm, e.norm, width);
  setLinear(weights, reader, names.mapping, e.mapping);
  config.embeddingSize = width;
  config.maxPositions = e.position.rows;
  config.typeVocabSize = e.tokenType.rows;
}

/**
 * RoBERTa's padding_idx: the constant the ids are compared with (Equal) on the way to the position lookup, else the
 * constant added after the CumSum; discovery's when the positions are given as an input.
 */
function robertaPadding(model: Model, s: BertStructure): number {
  // (positions given as an input: the padding_idx discovery took them to count from)
  if (s.inputs.positionIds) return s.inputs.positionPadding ?? refuse('the RoBERTa positions given as an input have no padding_idx');
  const ctx = new GraphContext(model, 'canonical rebuild');
  const gather = model.graph.nodes.find((n) => n.name === s.embeddings.position?.gather);
  if (!gather) refuse('cannot find the position lookup of the RoBERTa embeddings');
  const found = { equal: undefined as number | undefined, add: undefined as number | undefined };
  for (const v of ctx.ancestorValues([gather.inputs[1]], 400)) {
    const p = ctx.producer(v);
    if (p?.domain !== '' || (p.opType !== 'Equal' && p.opType !== 'Add')) continue;
    const k = p.inputs.map((i) => ctx.foldScalar(i)).find((x) => x !== undefined);
    if (k === undefined) continue;
    if (p.opType === 'Equal') found.equal ??= k;
    else found.add ??= k;
  }
  const pad = found.equal ?? found.add;
  if (pad === undefined || !Number.isSafeInteger(pad) || pad < 0) refuse('cannot find the padding_idx of the RoBERTa positions');
  return pad;
}

/** The per-layer facts the config needs. */
interface LayerFacts {
  sizes: LayerSizes;
  headSize: number;
}

/** Heads, head size and FFN width of one layer, checking its attention is the builder's. */
function layerFacts(model: Model, l: EncoderLayer): LayerFacts {
  const a = l.attention;
  const sizes = { numHeads: a?.numHeads ?? 0, intermediateSize: l.ffn.intermediateSize };
  if (!a || a.numHeads === 0) return { sizes: { ...sizes, numHeads: 0 }, headSize: 0 };
  if (a.scale !== undefined && Math.abs(a.scale - Math.sqrt(a.headSize)) > scaleTolerance(model, a.q?.weight ?? a.fused?.weight) * Math.sqrt(a.headSize)) {
    refuse(`layer ${l.index} divides the attention scores by ${a.scale}, not sqrt(head size) = ${Math.sqrt(a.headSize)}`);
  }
  if (a.fused) checkFusedAttention(model, l.index, a.fused.node, a.headSize);
  return { sizes, headSize: a.headSize };
}

/**
 * The relative tolerance of an attention scale against sqrt(head size): 1e-4, or two roundings of the scores' float
 * type when coarser (the scale constant is stored in the query weight's type, as Div and Mul take one type: sqrt(8)
 * is 2.828125 in float16, 1.1e-4 away).
 */
function scaleTolerance(model: Model, queryWeight: string | undefined): number {
  const type = queryWeight === undefined ? undefined : model.graph.initializers.get(queryWeight)?.dataType;
  const roundoff = type === DataType.FLOAT16 ? 2 ** -11 : type === DataType.BFLOAT16 ? 2 ** -8 : 0;
  return Math.max(1e-4, 2 * roundoff);
}

/** A com.microsoft Attention the builder can write: bidirectional, equal Q/K/V widths, the default scale. */
function checkFusedAttention(model: Model, index: number, nodeName: string, headSize: number): void {
  const node = model.graph.nodes.find((n) => n.name === nodeName);
  if (!node) return;
  const where = `layer ${index} Attention ${quotedText(nodeName)}`;
  if ((attrInt(node, 'unidirectional', 0) ?? 0) !== 0) refuse(`${where} is unidirectional`);
  const qkv = attrInts(node, 'qkv_hidden_sizes');
  if (qkv && new Set(qkv).size > 1) refuse(`${where} has unequal qkv_hidden_sizes [${qkv.join(', ')}]`);
  const scale = attrFloat(node, 'scale');
  if (scale !== undefined && scale !== 0 && Math.abs(scale - 1 / Math.sqrt(headSize)) > 1e-6) refuse(`${where} scales scores by ${scale}`);
  // Inputs: x, weight, bias, mask_index, past, attention_bias, past_sequence_length.
  if (node.inputs[4] || node.inputs[5]) refuse(`${where} reads a past state or an attention bias`);
  if ((attrInt(node, 'do_rotary', 0) ?? 0) !== 0) refuse(`${where} uses rotary embeddings`);
}

/** Every initializer name a layer reads as a parameter (matrices, biases, LayerNorms). */
function parameterNames(l: EncoderLayer): string[] {
  const a = l.attention;
  const lin = (x?: Linear) => (x ? [x.weight, x.bias ?? ''] : []);
  const att = a ? [...(a.fused ? [a.fused.weight, a.fused.bias] : [...lin(a.q), ...lin(a.k), ...lin(a.v)]), ...lin(a.output)] : [l.attentionBias ?? ''];
  const norm = (n: LayerNorm) => [n.scale, n.bias];
  return [...att, ...norm(l.attentionNorm), ...lin(l.ffn.in), ...lin(l.ffn.out), ...norm(l.outputNorm)];
}

/**
 * The group of each layer (sharedLayerGroups: layers whose weight matrices are the same initializers share one).
 * Their biases and LayerNorms must then be shared too.
 */
function layerGroups(s: BertStructure): number[] {
  const groups = sharedLayerGroups(s);
  const firstLayer: EncoderLayer[] = [];
  s.layers.forEach((l, i) => {
    const first = firstLayer[groups[i]];
    if (!first) firstLayer[groups[i]] = l;
    else if (parameterNames(first).join('\u0000') !== parameterNames(l).join('\u0000')) {
      refuse(`layers ${first.index} and ${l.index} share their weight matrices but not all their biases and LayerNorms`);
    }
  });
  return groups;
}

/** Reads every layer group's parameters; sizes, head size and groups into `config`. */
function readLayers(s: BertStructure, reader: WeightReader, config: ExtendedBertConfig, weights: Map<string, Float32Array>): void {
  const facts = s.layers.map((l) => layerFacts(reader.model, l));
  const headSizes = new Set(facts.map((f) => f.headSize).filter((x) => x > 0));
  if (headSizes.size > 1) refuse(`the layers have different head sizes (${[...headSizes].join(', ')})`);
  const hs = [...headSizes][0] ?? 0;
  const groups = layerGroups(s);
  const h = s.hiddenSize;
  const done = new Set<number>();
  s.layers.forEach((l, i) => {
    if (done.has(groups[i])) return;
    done.add(groups[i]);
    readLayer(reader, l, layerParamNames(groups[i], s.family), h, weights);
  });
  setSizes(
    config,
    facts.map((f) => f.sizes),
    hs,
  );
  if (groups.some((g, i) => g !== i)) config.layerGroups = groups;
}

/** numHeads / intermediateSize, with per-layer sizes and the head size only where the model needs them. */
function setSizes(config: ExtendedBertConfig, sizes: LayerSizes[], hs: number): void {
  const h = config.hiddenSize;
  const uniform = sizes.every((x) => x.numHeads === sizes[0].numHeads && x.intermediateSize === sizes[0].intermediateSize);
  config.numHeads = Math.max(0, ...sizes.map((x) => x.numHeads));
  config.intermediateSize = Math.max(1, ...sizes.map((x) => x.intermediateSize));
  if (!uniform || sizes.some((x) => x.numHeads === 0)) config.layers = sizes.map((x) => ({ ...x }));
  if (hs > 0 && (config.numHeads === 0 || h % config.numHeads !== 0 || h / config.numHeads !== hs)) config.attentionHeadSize = hs;
}

/** One layer's parameters under the names `n` (its group's). */
function readLayer(reader: WeightReader, l: EncoderLayer, n: ReturnType<typeof layerParamNames>, h: number, weights: Map<string, Float32Array>): void {
  const a = l.attention;
  if (a && a.numHeads > 0) {
    if (a.fused) {
      const qkv = splitPacked(reader, a.fused.weight, a.fused.bias, h, a.numHeads * a.headSize);
      [n.query, n.key, n.value].forEach((name, i) => {
        weights.set(`${name}.weight`, qkv[i].weight);
        weights.set(`${name}.bias`, qkv[i].bias);
      });
    } else {
      if (!a.q || !a.k || !a.v) refuse(`layer ${l.index}: the attention's query, key and value projections were not all found`);
      setLinear(weights, reader, n.query, a.q);
      setLinear(weights, reader, n.key, a.k);
      setLinear(weights, reader, n.value, a.v);
    }
    setLinear(weights, reader, n.attentionOutput, a.output);
  } else {
    weights.set(`${n.attentionOutput}.bias`, l.attentionBias ? reader.floats(l.attentionBias, h) : new Float32Array(h));
  }
  setNorm(weights, reader, n.attentionNorm, l.attentionNorm, h);
  setLinear(weights, reader, n.intermediate, l.ffn.in);
  setLinear(weights, reader, n.output, l.ffn.out);
  setNorm(weights, reader, n.outputNorm, l.outputNorm, h);
}

/**
 * A packed QKV weight [hidden, 3·width] (columns: all query heads, then key, then value) and bias [3·width], split
 * into three torch-layout projections [width, hidden].
 */
function splitPacked(reader: WeightReader, weight: string, bias: string, hidden: number, width: number): Array<{ weight: Float32Array; bias: Float32Array }> {
  const w = reader.floats(weight, hidden * 3 * width);
  const b = reader.floats(bias, 3 * width);
  return [0, 1, 2].map((part) => {
    const block = new Float32Array(hidden * width);
    for (let r = 0; r < hidden; r++) block.set(w.subarray(r * 3 * width + part * width, r * 3 * width + (part + 1) * width), r * width);
    return { weight: transpose2d(block, hidden, width), bias: b.slice(part * width, (part + 1) * width) };
  });
}

/** The activation between the head's first and second projection: 'relu', 'tanh' or undefined. */
function headActivation(model: Model, first: Linear): string | undefined {
  const ctx = new GraphContext(model, 'canonical rebuild');
  const node = model.graph.nodes.find((n) => n.name === first.node);
  if (node?.opType === 'FusedGemm') return attrString(node, 'activation')?.toLowerCase();
  const op = ctx.consumers(first.output).find((n) => n.domain === '' && (n.opType === 'Relu' || n.opType === 'Tanh'));
  return op?.opType.toLowerCase();
}

/**
 * The activation computed between two projections (ELECTRA's head: the erf GELU pattern, or a Gelu op), named as
 * discovery names FFN activations; undefined when the nodes between them are not one it knows.
 */
function activationBetween(model: Model, first: Linear, second: Linear): string | undefined {
  const ctx = new GraphContext(model, 'canonical rebuild');
  const start = ctx.source(first.output);
  const node = model.graph.nodes.find((n) => n.name === second.node);
  const nodes: Node[] = [];
  const stack = node ? [node.inputs[0]] : [];
  while (stack.length && nodes.length <= 16) {
    const v = stack.pop()!;
    const p = ctx.source(v) === start ? undefined : ctx.producerOf(v);
    if (!p || p.opType === 'Constant' || nodes.includes(p)) continue;
    nodes.push(p);
    stack.push(...p.inputs.filter((i) => i && !ctx.constant(i)));
  }
  try {
    return classifyActivation(ctx, 'head', nodes);
  } catch {
    return undefined;
  }
}

/** The pooler and classifier (BERT) or the family's two head projections. */
function readHead(model: Model, s: BertStructure, reader: WeightReader, weights: Map<string, Float32Array>): void {
  const names = headParamNames(s.family);
  const head = s.head!;
  if (classifiesPooled(s.family)) {
    if (s.pooler!.activation !== 'tanh') refuse(`the pooler activation is ${s.pooler!.activation}, not tanh`);
    setLinear(weights, reader, names.first, s.pooler!.dense);
    setLinear(weights, reader, names.last, head.linears[0]);
    return;
  }
  const expected = s.family === 'distilbert' ? 'relu' : s.family === 'electra' ? 'gelu' : 'tanh';
  const act = s.family === 'electra' ? activationBetween(model, head.linears[0], head.linears[1]) : headActivation(model, head.linears[0]);
  if (act !== expected) refuse(`the ${s.family} head applies ${act ?? 'no activation'} between its projections, not ${expected}`);
  setLinear(weights, reader, names.first, head.linears[0]);
  setLinear(weights, reader, names.last, head.linears[1]);
}
