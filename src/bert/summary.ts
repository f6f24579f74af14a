/**
 * Where a model's weights are: parameters and bytes per component of a discovered BERT (embeddings, each layer's
 * attention / feed-forward / LayerNorms, pooler, head) and what is left over.
 *
 * Definitions (the same as onnx/size.ts `modelSize`, so the totals agree with it):
 * - bytes: payload bytes of an initializer, for every initializer whatever its type;
 * - params: onnx/size.ts `parameterCounts`: elements of an initializer of a weight type — float32/16, bfloat16,
 *   float64, int8/uint8, int4/uint4 — with rank ≥ 1, a quantized weight counted as the float weight it stores (its
 *   scales and zero points hold none). Scalars (keras' ε and GELU constants) and int32/int64 initializers (shape
 *   constants, indices) are not parameters, but their bytes count.
 * Every initializer is counted once, in the first component that claims it, in this order: embeddings (word,
 * position, token type — each with its projection when factorized — then the norm, then the mapping to the hidden
 * width of ALBERT / ELECTRA), layers in order (Q, K, V or the packed QKV, output projection, attention norm, FFN in,
 * FFN out, output norm), pooler, head, then `other`.
 * A component claims its weights and biases, the scale/zero-point initializers of a DequantizeLinear (or the
 * Transpose) in front of a weight, every initializer the nodes of a quantized weight read (scales, zero points,
 * row scales of an int8 table), the constants its LayerNorm pattern and activation nodes read, and (attention)
 * the initializers holding head-shape constants. A layer without attention claims the bias added in its place
 * (the zero a Mul(input, 0) reads is left to `other`). The head also claims
 * whatever else is read downstream of the encoder (e.g. the MLM transform's LayerNorm). Constant-node tensors are
 * not initializers and are not counted.
 */
import type { Graph, Model, Node } from '../onnx/graph.ts';
import { consumers } from '../onnx/analysis.ts';
import { tensorBytes } from '../onnx/tensor.ts';
import { parameterCounts } from '../onnx/size.ts';
import type { AttentionBlock, BertStructure, EmbeddingTable, EncoderLayer, LayerNorm, Linear, Quantization } from './structure.ts';

/** Parameters and bytes of a set of initializers. */
export interface Size {
  params: number;
  bytes: number;
}

export interface EmbeddingsSummary extends Size {
  word: Size;
  position?: Size;
  tokenType?: Size;
  norm: Size;
  /** The Linear that maps narrow embeddings to the hidden width (ALBERT, ELECTRA), when there is one. */
  mapping?: Size;
}

export interface AttentionSummary extends Size {
  q?: Size;
  k?: Size;
  v?: Size;
  /** The packed QKV weight and bias of a fused Attention node. */
  qkv?: Size;
  /** The output projection (absent when the layer has no attention). */
  output?: Size;
  /** A layer without attention: the bias added in its place. */
  bias?: Size;
}

export interface FeedForwardSummary extends Size {
  in: Size;
  out: Size;
}

export interface LayerSummary extends Size {
  index: number;
  attention: AttentionSummary;
  attentionNorm: Size;
  ffn: FeedForwardSummary;
  outputNorm: Size;
}

export interface ModelSummary extends Size {
  embeddings: EmbeddingsSummary;
  layers: LayerSummary[];
  pooler?: Size;
  head?: Size;
  /** Initializers no component claims. */
  other: Size;
  /** Names of the initializers in `other`. */
  otherInitializers: string[];
}

const add = (a: Size, b: Size): Size => ({ params: a.params + b.params, bytes: a.bytes + b.bytes });
const sum = (parts: Array<Size | undefined>): Size => parts.reduce<Size>((s, p) => (p ? add(s, p) : s), { params: 0, bytes: 0 });

/** Hands out each initializer once. */
class Ledger {
  private readonly claimed = new Set<string>();
  private readonly nodes: Map<string, Node>;
  private readonly producer = new Map<string, Node>();
  private readonly counts: ReadonlyMap<string, number>;

  constructor(private readonly graph: Graph) {
    this.counts = parameterCounts(graph);
    this.nodes = new Map(graph.nodes.map((n) => [n.name, n]));
    for (const n of graph.nodes) for (const o of n.outputs) if (o) this.producer.set(o, n);
  }

  /** Size of the named initializers not claimed yet; claims them. Unknown names count nothing. */
  claim(names: Iterable<string | undefined>): Size {
    let params = 0;
    let bytes = 0;
    for (const name of names) {
      if (!name || this.claimed.has(name)) continue;
      const t = this.graph.initializers.get(name);
      if (!t) continue;
      this.claimed.add(name);
      params += this.counts.get(name) ?? 0;
      bytes += tensorBytes(t);
    }
    return { params, bytes };
  }

  /** Initializers read by the named nodes. */
  readBy(nodeNames: Iterable<string>): string[] {
    const out: string[] = [];
    for (const name of nodeNames) {
      const n = this.nodes.get(name);
      if (n) for (const i of n.inputs) if (this.graph.initializers.has(i)) out.push(i);
    }
    return out;
  }

  /** Initializers the nodes of a quantized weight read (scales, zero points), for `node` and the pattern's nodes. */
  quantized(q: Quantization | undefined, node?: string): string[] {
    return q ? [q.scale, q.zeroPoint, ...this.readBy([...(node ? [node] : []), ...q.nodes])].filter((x): x is string => !!x) : [];
  }

  /** A linear's weight and bias, plus initializers feeding its weight operand (Transpose, DequantizeLinear). */
  linear(l: Linear): Size {
    const names = [l.weight, l.bias, ...this.quantized(l.quantization, l.node)];
    const n = this.nodes.get(l.node);
    let p = n ? this.producer.get(n.inputs[1]) : undefined;
    for (let i = 0; p && i < 4; i++) {
      if (!['Transpose', 'DequantizeLinear', 'Identity', 'Cast'].includes(p.opType)) break;
      names.push(...p.inputs.filter((x) => this.graph.initializers.has(x)));
      p = this.producer.get(p.inputs[0]);
    }
    return this.claim(names);
  }

  norm(n: LayerNorm): Size {
    return this.claim([n.scale, n.bias, ...this.readBy(n.nodes)]);
  }

  unclaimed(): string[] {
    return [...this.graph.initializers.keys()].filter((k) => !this.claimed.has(k));
  }
}

/** Initializers read by nodes downstream of `value`. */
function downstreamInitializers(g: Graph, value: string): string[] {
  const cons = consumers(g);
  const out = new Set<string>();
  const seen = new Set<string>();
  const stack = [value];
  while (stack.length) {
    const v = stack.pop()!;
    if (seen.has(v)) continue;
    seen.add(v);
    for (const n of cons.get(v) ?? []) {
      for (const i of n.inputs) if (g.initializers.has(i)) out.add(i);
      for (const o of n.outputs) if (o) stack.push(o);
    }
  }
  return [...out];
}

/** The attention block's projections (or packed QKV weight) and head-shape constants. */
function attentionSize(ledger: Ledger, a: AttentionBlock): AttentionSummary {
  const q = a.q && ledger.linear(a.q);
  const k = a.k && ledger.linear(a.k);
  const v = a.v && ledger.linear(a.v);
  const qkv = a.fused && ledger.claim([a.fused.weight, a.fused.bias, ...ledger.quantized(a.fused.quantization, a.fused.node)]);
  const output = ledger.linear(a.output);
  const shapes = ledger.claim(a.headShapeConstants.filter((c) => c.source === 'initializer').map((c) => c.name));
  const attention: AttentionSummary = { ...sum([q, k, v, qkv, output, shapes]), output };
  if (q) attention.q = q;
  if (k) attention.k = k;
  if (v) attention.v = v;
  if (qkv) attention.qkv = qkv;
  return attention;
}

/** A layer without attention: the bias added in its place. */
function attentionFreeSize(ledger: Ledger, layer: EncoderLayer): AttentionSummary {
  const bias = ledger.claim([layer.attentionBias]);
  return layer.attentionBias ? { ...bias, bias } : { ...bias };
}

/** Parameters and bytes per component of `structure` (found on `model`), each initializer counted once. */
export function summarize(model: Model, structure: BertStructure): ModelSummary {
  const g = model.graph;
  const ledger = new Ledger(g);
  const e = structure.embeddings;
  const table = (t: EmbeddingTable) =>
    add(ledger.claim([t.weight, ...ledger.quantized(t.quantization, t.gather)]), t.projection ? ledger.linear(t.projection) : { params: 0, bytes: 0 });
  const word = table(e.word);
  const position = e.position && table(e.position);
  const tokenType = e.tokenType && table(e.tokenType);
  const norm = ledger.norm(e.norm);
  const mapping = e.mapping && ledger.linear(e.mapping);
  const embeddings: EmbeddingsSummary = { ...sum([word, position, tokenType, norm, mapping]), word, norm };
  if (mapping) embeddings.mapping = mapping;
  if (position) embeddings.position = position;
  if (tokenType) embeddings.tokenType = tokenType;

  const layers = structure.layers.map((layer): LayerSummary => {
    const attention = layer.attention ? attentionSize(ledger, layer.attention) : attentionFreeSize(ledger, layer);
    const attentionNorm = ledger.norm(layer.attentionNorm);
    const fin = ledger.linear(layer.ffn.in);
    const act = ledger.claim(ledger.readBy(layer.ffn.activationNodes));
    const fout = ledger.linear(layer.ffn.out);
    const ffn: FeedForwardSummary = { ...sum([fin, act, fout]), in: fin, out: fout };
    const outputNorm = ledger.norm(layer.outputNorm);
    return { ...sum([attention, attentionNorm, ffn, outputNorm]), index: layer.index, attention, attentionNorm, ffn, outputNorm };
  });

  const pooler = structure.pooler && ledger.linear(structure.pooler.dense);
  let head: Size | undefined;
  if (structure.head) {
    const linears = sum(structure.head.linears.map((l) => ledger.linear(l)));
    const last = structure.layers[structure.layers.length - 1];
    head = add(linears, ledger.claim(downstreamInitializers(g, last.output)));
  }
  const otherInitializers = ledger.unclaimed();
  const other = ledger.claim(otherInitializers);
  const summary: ModelSummary = { ...sum([embeddings, ...layers, pooler, head, other]), embeddings, layers, other, otherInitializers };
  if (pooler) summary.pooler = pooler;
  if (head) summary.head = head;
  return summary;
}
