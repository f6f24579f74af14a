/**
 * What `compress inspect` reports about a model: exporter, opsets, inputs and outputs, the discovered encoder
 * shape, and parameters and bytes per component. Plain data, printed as a table or JSON by the CLI.
 */
import type { Dim, Model } from '../onnx/graph.ts';
import { DataType, dataTypeName } from '../onnx/dtype.ts';
import { floatStorage, modelSize } from '../onnx/size.ts';
import { SettingsError } from '../errors.ts';
import { findBert } from './discover.ts';
import { recurrentModelLstm } from './recurrent.ts';
import { modelInputs } from './model-inputs.ts';
import type { BertStructure, EncoderLayer, ExporterKind, ModelFamily, Activation, Quantization } from './structure.ts';
import { summarize, type ModelSummary, type Size } from './summary.ts';
import { checkModelArg } from '../library-args.ts';
import { compareText } from '../text-order.ts';

export interface IoInfo {
  name: string;
  type: string;
  shape: Dim[] | null;
}

/** Parameters and bytes of a component, and how its weights are stored. */
export interface ComponentSize {
  params: number;
  bytes: number;
  /** The storage formats of its weight matrices and tables ('dynamic-int8', 'matmul-nbits 4-bit'…), or 'float'. */
  weights: string;
}

export interface LayerInfo {
  index: number;
  /** 0 (and headSize 0) for a layer without attention. */
  numHeads: number;
  headSize: number;
  intermediateSize: number;
  activation: Activation;
  /** 'none': every head was pruned; the layer adds a constant in place of attention. */
  attentionKind: 'unfused' | 'fused' | 'none';
  /** How the layer's weights are stored: the formats of its projections, or 'float'. */
  weights: string;
  /** The attention block with the LayerNorm after it; with `ffn`, the layer's parameters and bytes. */
  attention: ComponentSize;
  /** The feed-forward block with the LayerNorm after it. */
  ffn: ComponentSize;
  params: number;
  bytes: number;
}

export interface InspectReport {
  model: string;
  exporter: ExporterKind;
  family: ModelFamily;
  producer: string;
  irVersion: number;
  opset: number;
  opsets: Record<string, number>;
  inputs: IoInfo[];
  outputs: IoInfo[];
  numLayers: number;
  /** Heads of the first layer; see layers[] for pruned models whose layers differ. */
  numHeads: number;
  hiddenSize: number;
  intermediateSize: number;
  vocabSize: number;
  maxPositions: number | null;
  typeVocabSize: number | null;
  /**
   * Width E of a factorized embedding (the word table projected to the hidden width, or ALBERT / ELECTRA tables and
   * LayerNorm mapped to it); null when the embeddings are hidden-wide.
   */
  embeddingSize: number | null;
  /** The weight group of each layer: layers with the same group read the same weight matrices (shared layers). */
  layerGroups: number[];
  head: { kind: string; numLabels: number } | null;
  params: number;
  bytes: number;
  /** The float type most of the float weights' bytes are stored in where it is not float32 ('float16'); absent for float32. */
  floatWeights?: string;
  /** The rows of `compress inspect`: embeddings + encoder + pooler + head + other = params (and bytes). */
  components: {
    embeddings: ComponentSize;
    encoder: ComponentSize;
    pooler: ComponentSize | null;
    head: ComponentSize | null;
    other: { params: number; bytes: number };
  };
  layers: LayerInfo[];
  /** Why no command can feed the model's inputs (every command that runs it refuses it so); absent when they can be. */
  inputsProblem?: string;
}

/** How one weight is stored: its quantization kind and width ('dynamic-int8', 'gather-scale int8', 'matmul-nbits 4-bit'…), or 'float'. */
const formatOf = (q: Quantization | undefined) => (q ? `${q.kind}${q.bits !== 8 ? ` ${q.bits}-bit` : q.kind.includes('int8') ? '' : ' int8'}` : 'float');

/** The distinct formats of some weights, in a fixed order (quantized kinds by name, then float), or 'float'. */
export function weightFormats(qs: ReadonlyArray<Quantization | undefined>, present = qs.length): string {
  if (!present) return 'float';
  const kinds = [...new Set(qs.map(formatOf))].sort((a, b) => Number(a === 'float') - Number(b === 'float') || compareText(a, b));
  return kinds.join(' + ');
}

/** The formats of a layer's attention projections (none without attention). */
const attentionFormats = (l: EncoderLayer) => {
  const a = l.attention;
  return a ? [a.q, a.k, a.v, a.fused, a.output].filter((x) => x !== undefined).map((x) => x.quantization) : [];
};

/** The formats of a layer's feed-forward projections. */
const ffnFormats = (l: EncoderLayer) => [l.ffn.in.quantization, l.ffn.out.quantization];

/** The distinct quantization kinds of a layer's weights ('dynamic-int8', 'matmul-nbits 4-bit'…), or 'float'. */
export function layerWeightFormat(l: EncoderLayer): string {
  return weightFormats([...attentionFormats(l), ...ffnFormats(l)]);
}

/** Group ids of the layers, numbered in order of first use: layers reading the same weight matrices share one. */
export function sharedLayerGroups(s: BertStructure): number[] {
  const ids = new Map<string, number>();
  return s.layers.map((l) => {
    const a = l.attention;
    const key = [a?.fused?.weight, a?.q?.weight, a?.k?.weight, a?.v?.weight, a?.output.weight, l.ffn.in.weight, l.ffn.out.weight].join('\u0000');
    if (!ids.has(key)) ids.set(key, ids.size);
    return ids.get(key)!;
  });
}

function io(v: { name: string; elemType?: number; shape?: Dim[] }): IoInfo {
  return { name: v.name, type: v.elemType !== undefined ? dataTypeName(v.elemType) : 'unknown', shape: v.shape ?? null };
}

/**
 * What inspect says of a graph that is not a BERT-family encoder (a Distilled BiLSTM student, say): opsets, inputs
 * and outputs, parameters and bytes, node counts by operator, and why discovery did not take it (the compression
 * passes need the encoder; eval and bench run any classifier).
 */
export interface GraphReport {
  model: string;
  producer: string;
  irVersion: number;
  opsets: Record<string, number>;
  inputs: IoInfo[];
  outputs: IoInfo[];
  params: number;
  bytes: number;
  /** Nodes by operator ('com.microsoft.Attention' for other domains), most frequent first. */
  operators: Record<string, number>;
  /** Discovery's reason. */
  notBert: string;
  /** The LSTM op of a recurrent model (recurrentModelLstm: a Distilled BiLSTM student), float or int8; absent otherwise. */
  recurrent?: string;
  /**
   * Why eval cannot feed the graph's inputs either (an input such as `position_ids` that is not token ids, mask or
   * token types, by the names exporters use); absent when it can.
   */
  inputsProblem?: string;
}

/** What inspect reports of any graph: its label, producer, IR version, opsets, inputs (not initializers) and outputs. */
function graphBasics(model: Model, label: string): Pick<GraphReport, 'model' | 'producer' | 'irVersion' | 'opsets' | 'inputs' | 'outputs'> {
  const initNames = new Set(model.graph.initializers.keys());
  return {
    model: label,
    producer: [model.producerName, model.producerVersion].filter(Boolean).join(' '),
    irVersion: model.irVersion,
    opsets: Object.fromEntries(model.opsetImports.map((o) => [o.domain || 'ai.onnx', o.version])),
    inputs: model.graph.inputs.filter((i) => !initNames.has(i.name)).map(io),
    outputs: model.graph.outputs.map(io),
  };
}

/**
 * `{ inputsProblem }` when the model's inputs cannot be fed (modelInputs' refusal: of a graph discovery does not read,
 * by its input names; of an encoder, `structure`'s, an input of another name it never reads); else nothing.
 */
function inputsProblem(model: Model, structure?: BertStructure): { inputsProblem?: string } {
  try {
    modelInputs(model, structure);
    return {};
  } catch (e) {
    if (e instanceof SettingsError) return { inputsProblem: e.message };
    throw e;
  }
}

export function inspectGraph(model: Model, label: string, notBert: string): GraphReport {
  const counts = new Map<string, number>();
  for (const n of model.graph.nodes) {
    const op = n.domain ? `${n.domain}.${n.opType}` : n.opType;
    counts.set(op, (counts.get(op) ?? 0) + 1);
  }
  const lstm = recurrentModelLstm(model);
  return {
    ...graphBasics(model, label),
    ...modelSize(model),
    operators: Object.fromEntries([...counts].sort((a, b) => b[1] - a[1] || compareText(a[0], b[0]))),
    notBert,
    ...inputsProblem(model),
    ...(lstm ? { recurrent: lstm.opType } : {}),
  };
}

export function inspectModel(model: Model, label: string, structure?: BertStructure): InspectReport {
  checkModelArg('inspectModel', model);
  const s = structure ?? findBert(model);
  const sum: ModelSummary = summarize(model, s);
  const sized = (x: { params: number; bytes: number }, weights: string): ComponentSize => ({ params: x.params, bytes: x.bytes, weights });
  const plus = (a: Size, b: Size) => ({ params: a.params + b.params, bytes: a.bytes + b.bytes });
  const e = s.embeddings;
  const tables = [e.word, e.position, e.tokenType].filter((t) => t !== undefined);
  const embeddingFormats = [
    ...tables.flatMap((t) => [t.quantization, ...(t.projection ? [t.projection.quantization] : [])]),
    ...(e.mapping ? [e.mapping.quantization] : []),
  ];
  const layers = s.layers.map(
    (l, i): LayerInfo => ({
      index: l.index,
      numHeads: l.attention?.numHeads ?? 0,
      headSize: l.attention?.headSize ?? 0,
      intermediateSize: l.ffn.intermediateSize,
      activation: l.ffn.activation,
      attentionKind: l.attention?.kind ?? 'none',
      weights: layerWeightFormat(l),
      attention: sized(plus(sum.layers[i].attention, sum.layers[i].attentionNorm), weightFormats(attentionFormats(l))),
      ffn: sized(plus(sum.layers[i].ffn, sum.layers[i].outputNorm), weightFormats(ffnFormats(l))),
      params: sum.layers[i].params,
      bytes: sum.layers[i].bytes,
    }),
  );
  const encoder = sum.layers.reduce<Size>((a, l) => plus(a, l), { params: 0, bytes: 0 });
  return {
    ...graphBasics(model, label),
    exporter: s.exporter,
    family: s.family,
    opset: s.opset,
    numLayers: s.numLayers,
    numHeads: s.numHeads,
    hiddenSize: s.hiddenSize,
    intermediateSize: s.intermediateSize,
    vocabSize: s.vocabSize,
    maxPositions: s.maxPositions ?? null,
    typeVocabSize: s.typeVocabSize ?? null,
    embeddingSize: e.mapping?.inFeatures ?? e.word.projection?.inFeatures ?? null,
    layerGroups: sharedLayerGroups(s),
    head: s.head ? { kind: s.head.kind, numLabels: s.head.numLabels } : null,
    params: sum.params,
    bytes: sum.bytes,
    components: {
      embeddings: sized(sum.embeddings, weightFormats(embeddingFormats)),
      encoder: sized(encoder, weightFormats(s.layers.flatMap((l) => [...attentionFormats(l), ...ffnFormats(l)]))),
      pooler: sum.pooler ? sized(sum.pooler, weightFormats([s.pooler?.dense.quantization])) : null,
      head: sum.head ? sized(sum.head, weightFormats(s.head?.linears.map((l) => l.quantization) ?? [])) : null,
      other: { params: sum.other.params, bytes: sum.other.bytes },
    },
    layers,
    ...floatWeights(model),
    ...inputsProblem(model, s),
  };
}

/** `{ floatWeights }` when the model stores its float weights in another type than float32 (quantize float16's output). */
function floatWeights(model: Model): { floatWeights?: string } {
  const type = floatStorage(model);
  return type === undefined || type === DataType.FLOAT ? {} : { floatWeights: dataTypeName(type) };
}
