/**
 * The prune-heads pass: physically removes attention heads. Q/K/V output columns and output-projection input rows
 * of removed heads are sliced away, the constants that hold the head count and attention width are rewritten (or
 * a fused Attention's num_heads), and a layer left with no heads loses its attention block: the residual stream then
 * gets the output projection's bias (what the block computes with every head masked) in its place (see
 * removeAttentionBlock). Layers without attention have 0 heads; quantized attention weights are refused (prune
 * before quantizing).
 */
import type { Graph, Model, Node, Tensor } from '../onnx/graph.ts';
import { cloneModel } from '../onnx/graph.ts';
import { DataType } from '../onnx/dtype.ts';
import { float32Tensor, readNumbers, int64Tensor, int32Tensor } from '../onnx/tensor.ts';
import { consumers, pruneGraph, uniqueName } from '../onnx/analysis.ts';
import type { BertStructure, EncoderLayer, HeadShapeConstant } from '../bert/structure.ts';
import type { Pass, PassContext, PassResult } from '../pass/pass.ts';
import { SettingsError } from '../errors.ts';
import { feedsInto, keepLinearInputs, keepLinearOutputs, replaceConstantNodeFor, replaceInitializerFor, type ReaderFilter } from './edit.ts';
import { keepColumns, keepEntries, unitFeatures } from './weights.ts';
import { HEAD_IMPORTANCE, headScores, normalizePerLayer, type HeadImportance, type HeadScores } from './head-importance.ts';
import { attentionQuantization, refuseQuantized } from './float-weights.ts';

const PRUNE_FIRST = 'prune heads before quantizing';

export interface PruneHeadsOptions {
  /** Fraction of all heads to remove, ranked globally by normalized importance. */
  ratio?: number;
  /** Explicit heads to remove per layer (overrides ratio). */
  heads?: Record<number, number[]>;
  importance: HeadImportance;
  /** Keep at least this many heads in every layer (default 0: a layer may lose its attention block). */
  minHeadsPerLayer: number;
}

/** Parses "0:1,2;3:0" (layer:heads;…) into {0: [1, 2], 3: [0]}. */
export function parseHeadList(spec: string): Record<number, number[]> {
  const out: Record<number, number[]> = {};
  for (const part of spec.split(/[;\s]+/).filter(Boolean)) {
    const m = /^(\d+):(\d+(?:,\d+)*)$/.exec(part);
    if (!m) throw new SettingsError(`--prune-heads '${spec}': expected LAYER:HEAD,HEAD;LAYER:HEAD (e.g. 0:1,2;3:0)`);
    out[Number(m[1])] = [...new Set([...(out[Number(m[1])] ?? []), ...m[2].split(',').map(Number)])].sort((a, b) => a - b);
  }
  return out;
}

/** Chooses the heads to remove: the `ratio` share of all heads with the lowest normalized scores. */
export function selectHeads(scores: HeadScores, ratio: number, minPerLayer = 0): Record<number, number[]> {
  const all = scores.flatMap((row, l) => row.map((score, h) => ({ l, h, score })));
  all.sort((a, b) => a.score - b.score || a.l - b.l || a.h - b.h);
  let n = Math.round(ratio * all.length);
  const left = scores.map((r) => r.length);
  const out: Record<number, number[]> = {};
  for (const c of all) {
    if (n <= 0) break;
    if (left[c.l] <= minPerLayer) continue;
    (out[c.l] ??= []).push(c.h);
    left[c.l]--;
    n--;
  }
  for (const k of Object.keys(out)) out[Number(k)].sort((a, b) => a - b);
  return out;
}

/** Sets a head-shape constant to `newValue` as its readers in this layer see it (copied if other layers read it). */
function setConstant(g: Graph, c: HeadShapeConstant, newValue: number): void {
  const rewrite = (t: Tensor) => {
    const vals = readNumbers(t);
    vals[c.index] = newValue;
    return t.dataType === DataType.INT32 ? int32Tensor(t.name, t.dims, vals) : int64Tensor(t.name, t.dims, vals);
  };
  const readers = new Set(c.readers);
  const filter: ReaderFilter = (r) => readers.has(r.name);
  if (c.source === 'initializer') {
    const t = g.initializers.get(c.name);
    if (!t) throw new Error(`head-shape constant '${c.name}' not found`);
    replaceInitializerFor(g, c.name, filter, rewrite(t));
  } else {
    const node = g.nodes.find((n) => n.name === c.name);
    const t = node?.attributes.value?.type === 'tensor' ? node.attributes.value.value : undefined;
    if (!t) throw new Error(`Constant node '${c.name}' not found`);
    replaceConstantNodeFor(g, c.name, filter, rewrite(t));
  }
}

/**
 * Replaces the attention block's contribution to the residual stream by what it computes with every head masked:
 * the output projection's bias b (or zero). Shape-safe forms, which discovery (bert/discover/headless.ts) reads back:
 * - the readers are plain Adds (the residual Add): they read b itself, x + b broadcasting the [hidden] vector;
 * - otherwise (a SkipLayerNormalization needs a 3-D input): Mul(x, 0), then Add(·, b) when b must be added here.
 * A bias fused into the next op (SkipLayerNormalization's bias input) stays there.
 */
function removeAttentionBlock(g: Graph, layer: EncoderLayer): void {
  const a = layer.attention!;
  const out = a.output;
  const proj = g.nodes.find((n) => n.name === out.node);
  const addedHere = out.biasNode !== undefined || proj?.opType === 'Gemm' || proj?.opType === 'FusedGemm';
  const bias = out.bias && addedHere ? out.bias : undefined;
  const readers = consumers(g).get(out.output) ?? [];
  const plainAdds = readers.length > 0 && readers.every((r) => r.opType === 'Add' && (r.domain === '' || r.domain === 'ai.onnx'));
  const nodes: Node[] = [];
  let value: string;
  if (bias && plainAdds) {
    value = bias;
  } else {
    const zero = uniqueName(g, `L${layer.index}_no_heads_zero`);
    g.initializers.set(zero, float32Tensor(zero, [], [0]));
    value = uniqueName(g, `L${layer.index}_no_heads`);
    nodes.push({ name: uniqueName(g, `NoHeads_${layer.index}`), opType: 'Mul', domain: '', inputs: [layer.input, zero], outputs: [value], attributes: {} });
    if (bias) {
      const zeroed = value;
      value = uniqueName(g, `L${layer.index}_no_heads_bias`);
      nodes.push({ name: uniqueName(g, `NoHeadsBias_${layer.index}`), opType: 'Add', domain: '', inputs: [zeroed, bias], outputs: [value], attributes: {} });
    }
  }
  const at = Math.min(...readers.map((r) => g.nodes.indexOf(r)));
  g.nodes.splice(at, 0, ...nodes);
  for (const r of readers) r.inputs = r.inputs.map((x) => (x === out.output ? value : x));
}

/** Removes `drop` heads from one layer of graph `g` (already a copy). */
export function pruneLayerHeads(g: Graph, layer: EncoderLayer, drop: readonly number[]): void {
  const a = layer.attention;
  if (!drop.length) return;
  if (!a) throw new SettingsError(`layer ${layer.index} has no attention heads left (all were pruned); cannot remove head ${drop[0]}`);
  refuseQuantized('prune-heads', layer.index, 'attention', attentionQuantization(layer), PRUNE_FIRST);
  for (const h of drop) if (h < 0 || h >= a.numHeads) throw new SettingsError(`layer ${layer.index} has heads 0-${a.numHeads - 1}; cannot remove head ${h}`);
  const keep = Array.from({ length: a.numHeads }, (_, h) => h).filter((h) => !drop.includes(h));
  if (!keep.length) {
    removeAttentionBlock(g, layer);
    return;
  }
  const d = a.headSize;
  const feats = unitFeatures(keep, d);
  if (a.kind === 'unfused') {
    for (const lin of [a.q!, a.k!, a.v!]) keepLinearOutputs(g, lin, feats);
  } else {
    const f = a.fused!;
    const width = a.numHeads * d;
    const packed = [0, 1, 2].flatMap((part) => feats.map((x) => part * width + x));
    replaceInitializerFor(g, f.weight, feedsInto(g, f.node), keepColumns(g.initializers.get(f.weight)!, packed));
    replaceInitializerFor(g, f.bias, feedsInto(g, f.node), keepEntries(g.initializers.get(f.bias)!, packed));
    const node = g.nodes.find((n) => n.name === f.node)!;
    node.attributes = { ...node.attributes, num_heads: { type: 'int', value: keep.length } };
    if (node.attributes.qkv_hidden_sizes) node.attributes.qkv_hidden_sizes = { type: 'ints', value: [keep.length * d, keep.length * d, keep.length * d] };
  }
  keepLinearInputs(g, a.output, feats);
  for (const c of a.headShapeConstants) setConstant(g, c, c.meaning === 'num-heads' ? keep.length : keep.length * d);
}

export function applyHeadPruning(model: Model, s: BertStructure, drop: Record<number, number[]>): Model {
  const m = cloneModel(model);
  for (const layer of s.layers) pruneLayerHeads(m.graph, layer, drop[layer.index] ?? []);
  pruneGraph(m.graph);
  return m;
}

export const pruneHeadsPass: Pass<PruneHeadsOptions> = {
  name: 'prune-heads',
  description: 'remove attention heads (Michel et al. 2019), chosen by importance or listed explicitly',
  parse(settings) {
    const importance = (settings.importance ?? 'magnitude') as HeadImportance;
    if (!HEAD_IMPORTANCE.includes(importance)) throw new SettingsError(`--importance ${importance}: expected one of ${HEAD_IMPORTANCE.join(', ')}`);
    const minHeadsPerLayer = Number(settings.minHeadsPerLayer ?? 0);
    if (settings.heads !== undefined) {
      const heads = typeof settings.heads === 'string' ? parseHeadList(settings.heads) : (settings.heads as Record<number, number[]>);
      return { heads, importance, minHeadsPerLayer };
    }
    const ratio = Number(settings.ratio);
    if (!Number.isFinite(ratio) || ratio < 0 || ratio >= 1) throw new SettingsError(`--prune-heads ${settings.ratio}: the ratio must be in [0, 1)`);
    return { ratio, importance, minHeadsPerLayer };
  },
  async run(model, s, o, ctx: PassContext): Promise<PassResult> {
    for (const l of s.layers) refuseQuantized('prune-heads', l.index, 'attention', attentionQuantization(l), PRUNE_FIRST);
    const total = s.layers.reduce((n, l) => n + (l.attention?.numHeads ?? 0), 0);
    let scores: HeadScores | undefined;
    let drop: Record<number, number[]>;
    if (o.heads) {
      for (const k of Object.keys(o.heads)) if (!s.layers[Number(k)]) throw new SettingsError(`--prune-heads: layer ${k} does not exist (the model has ${s.numLayers})`);
      drop = o.heads;
    } else {
      scores = await headScores(o.importance, model, s, ctx);
      drop = selectHeads(o.importance === 'random' ? scores : normalizePerLayer(scores), o.ratio!, o.minHeadsPerLayer);
    }
    const removed = Object.values(drop).reduce((n, l) => n + l.length, 0);
    const out = applyHeadPruning(model, s, drop);
    return {
      model: out,
      report: {
        pass: 'prune-heads',
        settings: { ...o },
        summary: `removed ${removed} of ${total} heads${scores ? ` by ${o.importance} importance` : ''}`,
        details: {
          removed: drop,
          headsPerLayer: s.layers.map((l) => (l.attention?.numHeads ?? 0) - (drop[l.index]?.length ?? 0)),
          ...(scores ? { scores } : {}),
        },
      },
    };
  },
};
