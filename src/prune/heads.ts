/**
 * The prune-heads pass: physically removes attention heads. Q/K/V output columns and output-projection input rows
 * of removed heads are sliced away, the constants that hold the head count and attention width are rewritten (or
 * a fused Attention's num_heads), and a layer left with no heads loses its attention block: the residual stream then
 * gets the output projection's bias (what the block computes with every head masked) in its place (see
 * removeAttentionBlock). Layers without attention have 0 heads; quantized attention weights are refused (prune
 * before quantizing). Layers that share their attention weights (share-layers) lose the same heads, chosen by their
 * summed scores, so they stay shared (sharing.ts).
 */
import type { Graph, Model, Node, Tensor } from '../onnx/graph.ts';
import { cloneModel } from '../onnx/graph.ts';
import { DataType } from '../onnx/dtype.ts';
import { floatTensorLike, readNumbers, int64Tensor, int32Tensor } from '../onnx/tensor.ts';
import { consumers, pruneGraph, uniqueName } from '../onnx/analysis.ts';
import { constantNodeTensor } from '../onnx/constants.ts';
import type { BertStructure, EncoderLayer, HeadShapeConstant } from '../bert/structure.ts';
import { structureShape, type Pass, type PassContext, type PassResult, type PassShape } from '../pass/pass.ts';
import { SettingsError, quotedText } from '../errors.ts';
import { keepLinearInputs, keepLinearOutputs, replaceConstantNodeFor, replaceInitializerFor, sliceEach, type InputFilter, type ReaderFilter } from './edit.ts';
import { checkGroupsAgree, sharingGroups } from './sharing.ts';
import { keepColumns, keepEntries, unitFeatures } from './weights.ts';
import type { HeadImportance, HeadScores } from './head-importance.ts';
import { headsRemovedBy, lowestHeads, selectHeadsInSteps, type HeadSelection } from './head-selection.ts';
import { PRUNE_HEADS, type ImportanceTarget } from './settings.ts';
import { attentionQuantization, refuseQuantized } from './float-weights.ts';
import { layerRange } from './layers.ts';

const PRUNE_FIRST = 'prune heads before quantizing';

export interface PruneHeadsOptions {
  /** Fraction of all heads to remove, ranked globally by normalized importance. */
  ratio?: number;
  /** Explicit heads to remove per layer (overrides ratio). */
  heads?: Record<number, number[]>;
  importance: HeadImportance;
  /** Keep at least this many heads in every layer (default 0: a layer may lose its attention block). */
  minHeadsPerLayer: number;
  /** Rounds of scoring for a ratio (default: one per 10% of the heads for data-driven importance; see head-selection.ts). */
  steps?: number;
  /** Seed of importance 'random' (default: the context's seed). */
  seed?: number;
  /** What ablation and gradient losses are measured against (see settings.ts; set for those importances only). */
  target?: ImportanceTarget;
}

export { parseHeadList } from './settings.ts';

/** Chooses the heads to remove in one step: the `ratio` share of all heads with the lowest (comparable) scores. */
export function selectHeads(scores: HeadScores, ratio: number, minPerLayer = 0): Record<number, number[]> {
  const all = scores.reduce((n, row) => n + row.length, 0);
  return lowestHeads(
    scores,
    headsRemovedBy(ratio, all),
    scores.map((r) => r.length),
    minPerLayer,
  );
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
  // (only the inputs that read this number: a Concat reading one merged [8] as head count and head size keeps the size)
  const inputs: InputFilter = (r, i) => c.readerInputs?.[r.name]?.includes(i) ?? true;
  if (c.source === 'initializer') {
    const t = g.initializers.get(c.name);
    if (!t) throw new Error(`head-shape constant ${quotedText(c.name)} not found`);
    replaceInitializerFor(g, c.name, filter, rewrite(t), inputs);
  } else {
    const node = g.nodes.find((n) => n.name === c.name);
    const t = node && constantNodeTensor(node); // (`value`, or value_ints / value_int as discovery read it)
    if (!t) throw new Error(`Constant node ${quotedText(c.name)} not found`);
    replaceConstantNodeFor(g, c.name, filter, rewrite(t), inputs);
  }
}

/**
 * Replaces the attention block's contribution to the residual stream by what it computes with every head masked:
 * the output projection's bias b (or zero). Shape-safe forms, which discovery (bert/discover/headless.ts) reads back:
 * - the readers are plain Adds (the residual Add): they read b itself, x + b broadcasting the [hidden] vector;
 * - otherwise (a SkipLayerNormalization needs a 3-D input): Mul(x, 0), then Add(·, b) when b must be added here
 *   (x[:, 0:1] in a last layer that computes the first token only, the shape of the residual it is added to).
 * A bias fused into the next op (SkipLayerNormalization's bias input) stays there.
 */
function removeAttentionBlock(g: Graph, layer: EncoderLayer): void {
  const a = layer.attention!;
  const out = a.output;
  const proj = g.nodes.find((n) => n.name === out.node);
  const addedHere = out.biasNode !== undefined || proj?.opType === 'Gemm' || proj?.opType === 'FusedGemm';
  const bias = out.bias && addedHere ? out.bias : undefined;
  const readers = consumers(g).get(out.output) ?? [];
  const plainAdds = readers.length > 0 && readers.every((r) => r.opType === 'Add' && r.domain === '');
  const nodes: Node[] = [];
  let value: string;
  if (bias && plainAdds) {
    value = bias;
  } else {
    const zero = uniqueName(g, `L${layer.index}_no_heads_zero`);
    // of the weights' type, which is x's (Mul takes one type: a float32 0 would not load beside float16 weights)
    g.initializers.set(zero, floatTensorLike(g.initializers.get(out.weight) ?? { dataType: DataType.FLOAT }, zero, [], Float32Array.of(0)));
    value = uniqueName(g, `L${layer.index}_no_heads`);
    // a first-token last layer adds the constant to x[:, 0:1] (EncoderLayer.firstToken), so it must take that shape
    const x = layer.firstToken ?? layer.input;
    nodes.push({ name: uniqueName(g, `NoHeads_${layer.index}`), opType: 'Mul', domain: '', inputs: [x, zero], outputs: [value], attributes: {} });
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

/** A layer's heads, for messages: 'heads 0-3', '1 head (0)'. */
function headRange(n: number): string {
  return n === 1 ? '1 head (0)' : `heads 0-${n - 1}`;
}

/** Refuses, in one line, removing heads `drop` (some) from layer `index` of `heads` heads: one without attention (0), or a head it lacks. */
function checkLayerHeads(index: number, heads: number, drop: readonly number[]): void {
  if (heads === 0) throw new SettingsError(`prune-heads: layer ${index} has no attention heads left (all were pruned); cannot remove head ${drop[0]}`);
  for (const h of drop) if (h < 0 || h >= heads) throw new SettingsError(`prune-heads: layer ${index} has ${headRange(heads)}; cannot remove head ${h}`);
}

/**
 * Refuses, in one line, a list of heads to remove (`heads`, by layer) that a model of `shape` cannot take, as applying
 * it would: a layer it lacks, lists that differ between layers sharing their attention weights (where known), a layer
 * without attention, a head a layer lacks (where its heads are known).
 */
function checkHeadList(shape: PassShape, heads: Record<number, number[]>): void {
  for (const k of Object.keys(heads))
    if (Number(k) >= shape.numLayers) throw new SettingsError(`prune-heads: layer ${k} does not exist: the model has ${layerRange(shape.numLayers)}`);
  if (shape.shared) checkGroupsAgree(heads, shape.shared, 'heads', 'prune-heads');
  // (the layers of a group have the same heads and, agreeing, the same list: each listed layer says what its group's first would)
  if (shape.heads) for (const [layer, drop] of Object.entries(heads)) if (drop.length) checkLayerHeads(Number(layer), shape.heads[Number(layer)]!, drop);
}

/**
 * Refuses, in one line, a `ratio` that rounds to every head of a model of `heads` heads per layer whose layers share
 * their attention by `shared` groups (a group's heads counted once, as the selection counts them), where no per-layer
 * minimum keeps one: a ratio is below 1 so that some heads stay, and removing every head leaves the model no attention.
 */
function checkRatioKeepsAHead(ratio: number, minHeadsPerLayer: number, heads: readonly number[], shared: readonly number[][]): void {
  const total = shared.reduce((n, g) => n + heads[g[0]!]!, 0);
  if (minHeadsPerLayer > 0 || total === 0 || headsRemovedBy(ratio, total) < total) return;
  const counted = shared.length < heads.length ? ', those of layers sharing their weights counted once' : '';
  // (headsRemovedBy(r, total) < total for every r below 1 - 0.5 / total; said to 4 places, rounded down)
  const below = Math.floor((1 - 0.5 / total) * 1e4) / 1e4;
  throw new SettingsError(
    `prune-heads: ratio ${ratio} rounds to every head of the model (${total} of ${total}${counted}), leaving no attention in any layer, where a ratio (below 1) keeps some: give one below ${below}, or list the heads to remove them all`,
  );
}

/**
 * Removes `drop` heads from one layer of graph `g` (already a copy) and from the `shared` layers, the other layers
 * of its sharing group (they read the same weights, which are sliced once, in place: the sharing survives).
 */
export function pruneLayerHeads(g: Graph, layer: EncoderLayer, drop: readonly number[], shared: readonly EncoderLayer[] = []): void {
  const a = layer.attention;
  if (!drop.length) return;
  checkLayerHeads(layer.index, a?.numHeads ?? 0, drop);
  refuseQuantized('prune-heads', layer.index, 'attention', attentionQuantization(layer), PRUNE_FIRST);
  if (!a) return; // (checkLayerHeads refused it)
  const group = [layer, ...shared];
  const blocks = group.map((l) => l.attention!);
  const keep = Array.from({ length: a.numHeads }, (_, h) => h).filter((h) => !drop.includes(h));
  if (!keep.length) {
    for (const l of group) removeAttentionBlock(g, l);
    return;
  }
  const d = a.headSize;
  const feats = unitFeatures(keep, d);
  if (a.kind === 'unfused') {
    keepLinearOutputs(
      g,
      a.q!,
      feats,
      blocks.slice(1).map((b) => b.q!),
    );
    keepLinearOutputs(
      g,
      a.k!,
      feats,
      blocks.slice(1).map((b) => b.k!),
    );
    keepLinearOutputs(
      g,
      a.v!,
      feats,
      blocks.slice(1).map((b) => b.v!),
    );
  } else {
    const width = a.numHeads * d;
    const packed = [0, 1, 2].flatMap((part) => feats.map((x) => part * width + x));
    const fused = blocks.map((b) => b.fused!);
    sliceEach(
      g,
      fused,
      (f) => f.weight,
      (f) => f.node,
      (w) => keepColumns(w, packed),
    );
    sliceEach(
      g,
      fused,
      (f) => f.bias,
      (f) => f.node,
      (b) => keepEntries(b, packed),
    );
    for (const b of blocks) {
      const node = g.nodes.find((n) => n.name === b.fused!.node)!;
      node.attributes = { ...node.attributes, num_heads: { type: 'int', value: keep.length } };
      if (node.attributes.qkv_hidden_sizes) node.attributes.qkv_hidden_sizes = { type: 'ints', value: [keep.length * d, keep.length * d, keep.length * d] };
    }
  }
  keepLinearInputs(
    g,
    a.output,
    feats,
    blocks.slice(1).map((b) => b.output),
  );
  for (const b of blocks) for (const c of b.headShapeConstants) setConstant(g, c, c.meaning === 'num-heads' ? keep.length : keep.length * d);
}

/**
 * Removes `drop` heads (per layer index) from a copy of `model`. Layers that share attention weights are pruned
 * together and must be given the same heads (a SettingsError otherwise).
 */
export function applyHeadPruning(model: Model, s: BertStructure, drop: Record<number, number[]>): Model {
  const groups = sharingGroups(s, 'attention');
  checkGroupsAgree(drop, groups, 'heads', 'prune-heads');
  const m = cloneModel(model);
  for (const group of groups) {
    const [first, ...rest] = group.map((i) => s.layers.find((l) => l.index === i)!);
    pruneLayerHeads(m.graph, first!, drop[first!.index] ?? [], rest);
  }
  pruneGraph(m.graph);
  return m;
}

export const pruneHeadsPass: Pass<PruneHeadsOptions> = {
  ...PRUNE_HEADS,
  // (and a list of heads the model cannot take, as applying it would refuse it: a sweep's plan asks before any point runs)
  checkModel(_model, s, o) {
    for (const l of s.layers) refuseQuantized('prune-heads', l.index, 'attention', attentionQuantization(l), PRUNE_FIRST);
    const shape = { ...structureShape(s), shared: sharingGroups(s, 'attention') };
    if (o.heads) checkHeadList(shape, o.heads);
    if (o.ratio !== undefined) checkRatioKeepsAHead(o.ratio, o.minHeadsPerLayer, shape.heads, shape.shared);
  },
  checkShape(o, shape) {
    if (o.heads) checkHeadList(shape, o.heads);
    if (o.ratio !== undefined && shape.heads && shape.shared) checkRatioKeepsAHead(o.ratio, o.minHeadsPerLayer, shape.heads, shape.shared);
  },
  async run(model, s, o, ctx: PassContext): Promise<PassResult> {
    pruneHeadsPass.checkModel!(model, s, o);
    const total = s.layers.reduce((n, l) => n + (l.attention?.numHeads ?? 0), 0);
    let selection: HeadSelection | undefined;
    let drop: Record<number, number[]>;
    if (o.heads) {
      drop = o.heads; // (checkModel checked it)
    } else {
      const scoring = o.seed === undefined ? ctx : { ...ctx, seed: o.seed };
      selection = await selectHeadsInSteps(
        model,
        s,
        { importance: o.importance, ratio: o.ratio!, steps: o.steps, minHeadsPerLayer: o.minHeadsPerLayer, target: o.target },
        scoring,
        applyHeadPruning,
      );
      drop = selection.drop;
    }
    const removed = Object.values(drop).reduce((n, l) => n + l.length, 0);
    // the per-layer minimum can stop a ratio short of its share: say so rather than let the count look like the ratio's
    // (counted as the selection counts: a head of layers sharing their weights once, so its ratio and count differ)
    const counted = selection && selection.total !== total ? ` of ${selection.total} heads, those of layers sharing their weights counted once` : '';
    const short =
      selection && selection.chosen < selection.asked
        ? ` (ratio ${o.ratio} asks for ${selection.asked}${counted}; at least ${o.minHeadsPerLayer} per layer stay)`
        : '';
    const out = applyHeadPruning(model, s, drop);
    return {
      model: out,
      report: {
        pass: 'prune-heads',
        settings: { ...o },
        summary: `removed ${removed} of ${total} heads${selection ? ` by ${o.importance} importance${o.target === 'predictions' ? " against the model's own predictions" : o.target === 'labels' ? ' against the gold labels' : ''}${selection.steps.length > 1 ? ` in ${selection.steps.length} steps` : ''}` : ''}${short}`,
        details: {
          removed: drop,
          headsPerLayer: s.layers.map((l) => (l.attention?.numHeads ?? 0) - (drop[l.index]?.length ?? 0)),
          // per step: the heads it removed and the scores it ranked (original numbering; earlier steps' heads null)
          ...(selection ? { steps: selection.steps } : {}),
        },
      },
    };
  },
};
