/**
 * The share-layers pass: ALBERT's cross-layer parameter sharing (Lan et al. 2020) applied after training. The
 * layers of each group read ONE copy of every weight (Q/K/V or packed QKV, attention output, FFN in/out, weights
 * and biases, both LayerNorms' scales and biases); the shared values are the group's element-wise mean or one
 * chosen layer's. Readers are rewired to the shared initializers and the per-layer copies removed, so the file
 * loses (L − groups) / L of the encoder's weight bytes. Shape constants and everything outside the layers stay.
 */
import type { Graph, Model, Node, Tensor } from '../onnx/graph.ts';
import { cloneModel } from '../onnx/graph.ts';
import { dataTypeName, isFloatType } from '../onnx/dtype.ts';
import { pruneGraph, uniqueName } from '../onnx/analysis.ts';
import { renamed, tensorBytes } from '../onnx/tensor.ts';
import { modelSize } from '../onnx/size.ts';
import type { BertStructure } from '../bert/structure.ts';
import { structureShape, type Pass, type PassResult, type PassShape } from '../pass/pass.ts';
import { SettingsError, counted, plural, quotedText, them } from '../errors.ts';
import { SHARE_LAYERS, formatShareSpec, formatSourceSpec, layerGroups, type ShareSpec, type SourceSpec } from './spec.ts';
import { layerWeights, type LayerWeight } from './roles.ts';
import { indexGraph, layerRegion, weightReaders } from './readers.ts';
import { meanTensor, squaredNormAndDistance } from './combine.ts';
import { formatMB } from '../units.ts';

export interface ShareLayersOptions {
  /** Which layers share: all of them, or N groups of consecutive layers. */
  share: ShareSpec;
  /** Where the shared values come from: the group mean, or the group's K-th layer. */
  from: SourceSpec;
}

/** Numbers the pass reports in `details`. */
export interface ShareLayersDetails {
  /** Layer indices of each group. */
  groups: number[][];
  /** Per layer: ‖W_l − W_shared‖_F / ‖W_l‖_F over all its weights (0 for a source layer). */
  layerDrift: number[];
  /** Bytes of the distinct initializers the encoder layers read, before and after. */
  encoderBytesBefore: number;
  encoderBytesAfter: number;
  /** Bytes of all initializers before and after. */
  modelBytesBefore: number;
  modelBytesAfter: number;
  /** Shared initializer names by role, per group. */
  sharedInitializers: Array<Record<string, string>>;
  /**
   * Initializers that layers of different groups already read as one copy (an earlier share-layers, or an exporter
   * that stores equal tensors once): they stay one copy, since splitting them would only copy them.
   */
  keptAcrossGroups: string[];
}

/**
 * Throws a SettingsError naming the layers when the layers of a group do not have the same weights with the same
 * shapes, types and layouts (e.g. after pruning heads or FFN neurons differently), or a weight is not float.
 */
export function checkGroupShapes(g: Graph, groups: readonly number[][], weights: readonly LayerWeight[][]): void {
  for (const group of groups) {
    const ref = group[0];
    for (const l of group) {
      const mine = weights[l];
      const theirs = weights[ref];
      const roles = new Set(mine.map((w) => w.role));
      const missing = theirs.find((w) => !roles.has(w.role)) ?? mine.find((w) => !theirs.some((x) => x.role === w.role));
      const fused = (ws: readonly LayerWeight[]) => ws.some((w) => w.role === 'attention.qkv.weight');
      if (fused(mine) !== fused(theirs) && mine.some((w) => w.role.startsWith('attention.')) && theirs.some((w) => w.role.startsWith('attention.')))
        throw fusedApart(ref, l, fused(theirs));
      if (missing || mine.length !== theirs.length) {
        throw new SettingsError(`share-layers: layers ${ref} and ${l} cannot share weights: only one of them has ${missing?.role ?? 'the same weights'}`);
      }
      for (const w of mine) {
        const other = theirs.find((x) => x.role === w.role)!;
        const t = g.initializers.get(w.initializer);
        const u = g.initializers.get(other.initializer);
        if (!t || !u)
          throw new SettingsError(
            `share-layers: ${w.role} of layer ${t ? ref : l} (${quotedText(t ? other.initializer : w.initializer)}) is not an initializer`,
          );
        if (!isFloatType(t.dataType))
          throw new SettingsError(`share-layers: ${w.role} of layer ${l} is ${dataTypeName(t.dataType)}; share layers before quantizing`);
        if (t.dims.join(',') !== u.dims.join(',') || t.dataType !== u.dataType || w.layout !== other.layout) {
          const what = (x: Tensor, lw: LayerWeight) => `[${x.dims}] ${dataTypeName(x.dataType)}${lw.layout ? ` ${lw.layout}` : ''}`;
          throw new SettingsError(
            `share-layers: layers ${ref} and ${l} differ in ${w.role}: ${what(u, other)} vs ${what(t, w)} (pruned differently?); only layers of identical shapes can share weights`,
          );
        }
      }
    }
  }
}

/**
 * share-layers' refusal of layers `ref` and `l` of a group, both with attention, of which one (`ref` where `refFused`,
 * else `l`) has its Q, K and V fused by optimize and the other not.
 */
function fusedApart(ref: number, l: number, refFused: boolean): SettingsError {
  const [f, u] = refFused ? [ref, l] : [l, ref];
  return new SettingsError(
    `share-layers: layers ${ref} and ${l} cannot share weights: layer ${f}'s attention is fused (com.microsoft Attention, packed QKV) and layer ${u}'s is not (--optimize leaves a first-token last layer, or a layer it cannot fuse, unfused); share layers before --optimize`,
  );
}

/**
 * Throws a SettingsError naming the layers when a group mixes layers without attention (every head pruned) with
 * layers that have it (`heads`, by layer: 0 for none): they do not have the same structure, so they cannot read one
 * set of weights.
 */
export function checkGroupAttention(heads: readonly number[], groups: readonly number[][]): void {
  groups.forEach((group, gi) => {
    const without = group.filter((l) => heads[l] === 0);
    const withIt = group.filter((l) => heads[l] !== 0);
    if (without.length && withIt.length) {
      const list = (ls: number[]) => `${plural(ls.length, 'layer')} ${ls.join(', ')}`;
      throw new SettingsError(
        `share-layers: group ${gi} mixes ${list(without)} without attention (every head pruned) and ${list(withIt)} with attention; ` +
          'layers of a group must have the same structure (choose groups that keep them apart, or prune heads alike)',
      );
    }
  });
}

/**
 * Throws a SettingsError naming the layers and their counts when the layers of a group have different numbers of
 * attention heads (`heads`, by layer: 0 for none, which checkGroupAttention refuses beside heads) or FFN neurons
 * (`ffn`, by layer, where known), pruned differently: said in the model's terms, before checkGroupShapes compares the
 * tensors' dims.
 */
export function checkGroupWidths(heads: readonly number[], groups: readonly number[][], ffn?: readonly number[]): void {
  for (const group of groups) {
    const ref = group[0]!;
    for (const l of group) {
      const [a, b] = [heads[ref]!, heads[l]!];
      const [what, x, y, pruning] = a !== 0 && b !== 0 && a !== b ? ['attention head', a, b, 'heads'] : ['FFN neuron', ffn?.[ref], ffn?.[l], 'FFN neurons'];
      if (x === y) continue;
      throw new SettingsError(
        `share-layers: layers ${ref} and ${l} cannot share weights: layer ${ref} has ${counted(x!, what)} and layer ${l} has ${y} (pruned differently); ` +
          `layers of a group must have the same shapes (choose groups that keep them apart, or prune ${pruning} alike)`,
      );
    }
  }
}

/**
 * The layer groups of `o` on a model of `shape`, after refusing more groups than its layers, and where its
 * heads are known (and its FFN widths, where known), groups whose layers have other attention or widths.
 */
function shareGroups(o: ShareLayersOptions, shape: PassShape): number[][] {
  const groups = layerGroups(shape.numLayers, o.share, o.from);
  if (shape.heads) {
    checkGroupAttention(shape.heads, groups);
    checkGroupWidths(shape.heads, groups, shape.ffn);
  }
  return groups;
}

/** Places each tensor of `after` right behind its anchor initializer in file order (at the end when absent). */
function reorderInitializers(g: Graph, after: ReadonlyMap<string, string[]>): void {
  const placed = new Set<string>();
  for (const names of after.values()) for (const n of names) placed.add(n);
  const entries: Array<[string, Tensor]> = [];
  for (const [k, v] of g.initializers) {
    if (placed.has(k)) continue;
    entries.push([k, v]);
    for (const n of after.get(k) ?? []) entries.push([n, g.initializers.get(n)!]);
  }
  for (const n of placed) if (!entries.some(([k]) => k === n)) entries.push([n, g.initializers.get(n)!]);
  g.initializers = new Map(entries);
}

/** Sum of the bytes of the distinct initializers named (those absent are skipped). */
function distinctBytes(g: Graph, names: Iterable<string>): number {
  let n = 0;
  for (const name of new Set(names)) {
    const t = g.initializers.get(name);
    if (t) n += tensorBytes(t);
  }
  return n;
}

/**
 * The layer groups of `o` on `s` and each layer's weights, after refusing groups whose layers cannot share (their
 * attention, widths, weight shapes or types: a weight stored quantized); reads dims and data types only.
 */
function checkShareable(model: Model, s: BertStructure, o: ShareLayersOptions): { groups: number[][]; weights: LayerWeight[][] } {
  const groups = shareGroups(o, structureShape(s));
  const weights = s.layers.map(layerWeights);
  checkGroupShapes(model.graph, groups, weights);
  return { groups, weights };
}

/** The pass's work without the Pass wrapper: the new model and what was shared. */
export function shareLayers(model: Model, s: BertStructure, o: ShareLayersOptions): { model: Model; details: ShareLayersDetails } {
  const { groups, weights } = checkShareable(model, s, o);
  const names = weights.flat().map((w) => w.initializer);
  if (groups.every((group) => group.length === 1) && new Set(names).size === names.length) {
    // Every layer is a group of its own (a 1-layer model, or groups:L) and reads weights of its own: nothing to
    // share; the model stays as it is. (Layers that already read one copy go the long way, which keeps it.)
    const bytes = modelSize(model).bytes;
    const encoderBytes = distinctBytes(model.graph, names);
    return {
      model: cloneModel(model),
      details: {
        groups,
        layerDrift: groups.map(() => 0),
        encoderBytesBefore: encoderBytes,
        encoderBytesAfter: encoderBytes,
        modelBytesBefore: bytes,
        modelBytesAfter: bytes,
        sharedInitializers: [],
        keptAcrossGroups: [],
      },
    };
  }

  const out = cloneModel(model);
  const g = out.graph;
  const ix = indexGraph(g);
  // Find every reader before rewiring anything.
  const readers = s.layers.map((layer, l) => {
    let region: Set<string> | undefined;
    const lazyRegion = () => (region ??= layerRegion(ix, layer));
    return weights[l].map((w) => {
      const found = weightReaders(ix, w, lazyRegion);
      if (!found.length) throw new Error(`share-layers: found no node of layer ${l} that reads ${w.role} ${quotedText(w.initializer)}`);
      return found;
    });
  });
  const groupOf = new Map<Node, number>();
  readers.forEach((perRole, l) => {
    const gi = groups.findIndex((grp) => grp.includes(l));
    for (const r of perRole.flat()) {
      const seen = groupOf.get(r);
      if (seen !== undefined && seen !== gi) {
        throw new SettingsError(
          `share-layers: node ${quotedText(r.name)} feeds layers of groups ${seen} and ${gi}; it cannot read two different shared weights`,
        );
      }
      groupOf.set(r, gi);
    }
  });

  const norm2 = new Float64Array(s.layers.length);
  const dist2 = new Float64Array(s.layers.length);
  const placeAfter = new Map<string, string[]>();
  const sharedInitializers: Array<Record<string, string>> = [];
  const keptAcrossGroups = new Set<string>();
  groups.forEach((group) => {
    const names: Record<string, string> = {};
    weights[group[0]].forEach((w, r) => {
      const read = new Set(group.map((l) => weights[l][r].initializer));
      if (read.size === 1) {
        // the group already reads one copy: keep it (if other groups read it too, copying it per group would grow the file)
        const [name] = read;
        names[w.role] = name;
        const elsewhere = s.layers.some((_, l) => !group.includes(l) && weights[l].some((x) => x.initializer === name));
        if (elsewhere) keptAcrossGroups.add(name);
        return;
      }
      const tensors = group.map((l) => model.graph.initializers.get(weights[l][r].initializer)!);
      const name = uniqueName(g, `shared.layers${group[0]}-${group[group.length - 1]}.${w.role}`);
      const shared = o.from.kind === 'mean' ? meanTensor(tensors, name) : renamed(tensors[o.from.index], name);
      g.initializers.set(name, shared);
      placeAfter.set(w.initializer, [...(placeAfter.get(w.initializer) ?? []), name]);
      names[w.role] = name;
      group.forEach((l, k) => {
        const old = weights[l][r].initializer;
        for (const node of readers[l][r]) node.inputs = node.inputs.map((x) => (x === old ? name : x));
        const d = squaredNormAndDistance(tensors[k], shared);
        norm2[l] += d.norm2;
        dist2[l] += d.dist2;
      });
    });
    sharedInitializers.push(names);
  });
  reorderInitializers(g, placeAfter);
  if (out.irVersion < 4) {
    // Before IR 4 every initializer must also be a graph input, once (a weight groups already read is one already).
    const inputs = new Set(g.inputs.map((i) => i.name));
    for (const names of sharedInitializers) {
      for (const name of Object.values(names)) {
        if (inputs.has(name)) continue;
        inputs.add(name);
        const t = g.initializers.get(name)!;
        g.inputs.push({ name, elemType: t.dataType, shape: [...t.dims] });
      }
    }
  }
  pruneGraph(g);

  const oldNames = weights.flat().map((w) => w.initializer);
  const newNames = sharedInitializers.flatMap((n) => Object.values(n));
  const details: ShareLayersDetails = {
    groups,
    layerDrift: Array.from(norm2, (n, l) => (n > 0 ? Math.sqrt(dist2[l] / n) : 0)),
    encoderBytesBefore: distinctBytes(model.graph, oldNames),
    encoderBytesAfter: distinctBytes(g, [...newNames, ...oldNames]),
    modelBytesBefore: modelSize(model).bytes,
    modelBytesAfter: modelSize(out).bytes,
    sharedInitializers,
    keptAcrossGroups: [...keptAcrossGroups],
  };
  return { model: out, details };
}

export const shareLayersPass: Pass<ShareLayersOptions> = {
  ...SHARE_LAYERS,
  checkModel(model: Model, s: BertStructure, o: ShareLayersOptions): void {
    checkShareable(model, s, o);
  },
  checkShape(o: ShareLayersOptions, shape: PassShape): void {
    const groups = shareGroups(o, shape);
    // (where the heads and which layers optimize fused are known: a group of layers with attention fused and not, as
    // checkGroupShapes refuses it first of the group's weights)
    const { heads } = shape;
    const fused = shape.attention?.fused;
    if (!heads || fused?.length !== shape.numLayers) return;
    for (const group of groups) {
      const ref = group[0]!;
      for (const l of group) if (heads[ref] !== 0 && heads[l] !== 0 && fused[ref] !== fused[l]) throw fusedApart(ref, l, fused[ref]!);
    }
  },
  async run(model: Model, s: BertStructure, o: ShareLayersOptions): Promise<PassResult> {
    const { model: out, details } = shareLayers(model, s, o);
    const sizes = details.groups.map((g) => g.length);
    const L = s.layers.length;
    // every group read one copy of each weight already (each layer its own, an ALBERT checkpoint, or a model shared so
    // before, maybe in fewer groups than asked): no weight was made, the model is as it was
    const already = details.sharedInitializers.every((names) => Object.values(names).every((n) => model.graph.initializers.has(n)));
    // (groups:N not dividing the layers: ALBERT's, of two sizes, '5 groups of 3, 2, 3, 2, 2')
    const groupsText = `${counted(details.groups.length, 'group')} of ${new Set(sizes).size === 1 ? sizes[0] : sizes.join(', ')}`;
    const kept = details.keptAcrossGroups.length;
    const keptText = `${counted(kept, 'weight')} that layers of different groups already read as one copy ${plural(kept, 'stays', 'stay')} shared (splitting would only copy ${them(kept)})`;
    const summary = already
      ? `nothing to share: ${
          sizes.length === L
            ? L === 1
              ? 'the model has 1 encoder layer'
              : `${formatShareSpec(o.share)} makes each of the model's ${L} layers a group of its own`
            : `the model's ${L} layers already read one copy of each weight as ${groupsText}`
        }${kept ? `, and ${keptText}` : ''}; model unchanged`
      : `shared ${s.layers.length} layers as ${groupsText} ` +
        `(${formatSourceSpec(o.from)}): encoder weights ${formatMB(details.encoderBytesBefore)} → ${formatMB(details.encoderBytesAfter)}` +
        (kept ? `; ${keptText}` : '');
    return {
      model: out,
      report: {
        pass: 'share-layers',
        settings: { share: formatShareSpec(o.share), from: formatSourceSpec(o.from) },
        summary,
        details: { ...details },
      },
    };
  },
};
