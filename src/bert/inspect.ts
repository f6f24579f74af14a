/**
 * What `compress inspect` reports about a model: exporter, opsets, inputs and outputs, the discovered encoder
 * shape, and parameters and bytes per component. Plain data, printed as a table or JSON by the CLI.
 */
import type { Dim, Model } from '../onnx/graph.ts';
import { dataTypeName } from '../onnx/dtype.ts';
import { modelSize } from '../onnx/size.ts';
import { findBert } from './discover.ts';
import type { BertStructure, EncoderLayer, ExporterKind, ModelFamily, Activation, Quantization } from './structure.ts';
import { summarize, type ModelSummary } from './summary.ts';

export interface IoInfo {
  name: string;
  type: string;
  shape: Dim[] | null;
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
  /** How the layer's weights are stored: the quantization kinds of its projections, or 'float'. */
  weights: string;
  attention: { params: number; bytes: number };
  ffn: { params: number; bytes: number };
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
  components: {
    embeddings: { params: number; bytes: number };
    encoder: { params: number; bytes: number };
    pooler: { params: number; bytes: number } | null;
    head: { params: number; bytes: number } | null;
    other: { params: number; bytes: number };
  };
  layers: LayerInfo[];
}

/** The distinct quantization kinds of a layer's weights ('dynamic-int8', 'matmul-nbits 4-bit'…), or 'float'. */
export function layerWeightFormat(l: EncoderLayer): string {
  const a = l.attention;
  const qs: Array<Quantization | undefined> = [
    a?.q?.quantization,
    a?.k?.quantization,
    a?.v?.quantization,
    a?.fused?.quantization,
    a?.output.quantization,
    l.ffn.in.quantization,
    l.ffn.out.quantization,
  ];
  const kinds = new Set(qs.map((q) => (q ? `${q.kind}${q.bits !== 8 ? ` ${q.bits}-bit` : ''}` : 'float')));
  return [...kinds].join(' + ');
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

export function inspectGraph(model: Model, label: string, notBert: string): GraphReport {
  const counts = new Map<string, number>();
  for (const n of model.graph.nodes) {
    const op = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType}` : n.opType;
    counts.set(op, (counts.get(op) ?? 0) + 1);
  }
  return {
    ...graphBasics(model, label),
    ...modelSize(model),
    operators: Object.fromEntries([...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))),
    notBert,
  };
}

export function inspectModel(model: Model, label: string, structure: BertStructure = findBert(model)): InspectReport {
  const s = structure;
  const sum: ModelSummary = summarize(model, s);
  const size = (x: { params: number; bytes: number }) => ({ params: x.params, bytes: x.bytes });
  const encoder = sum.layers.reduce((a, l) => ({ params: a.params + l.params, bytes: a.bytes + l.bytes }), { params: 0, bytes: 0 });
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
    embeddingSize: s.embeddings.mapping?.inFeatures ?? s.embeddings.word.projection?.inFeatures ?? null,
    layerGroups: sharedLayerGroups(s),
    head: s.head ? { kind: s.head.kind, numLabels: s.head.numLabels } : null,
    params: sum.params,
    bytes: sum.bytes,
    components: {
      embeddings: size(sum.embeddings),
      encoder,
      pooler: sum.pooler ? size(sum.pooler) : null,
      head: sum.head ? size(sum.head) : null,
      other: size(sum.other),
    },
    layers: s.layers.map((l, i) => ({
      index: l.index,
      numHeads: l.attention?.numHeads ?? 0,
      headSize: l.attention?.headSize ?? 0,
      intermediateSize: l.ffn.intermediateSize,
      activation: l.ffn.activation,
      attentionKind: l.attention?.kind ?? 'none',
      weights: layerWeightFormat(l),
      attention: size(sum.layers[i].attention),
      ffn: size(sum.layers[i].ffn),
      params: sum.layers[i].params,
      bytes: sum.layers[i].bytes,
    })),
  };
}
