/**
 * Pruning a model whose layers share weights (ALBERT-style, after share-layers): the layers that read one copy of a
 * weight form a group, and a group is pruned as one layer, so the sharing and its bytes survive. A unit (head or
 * FFN neuron) is scored by the sum of its scores over the group's layers, the same units are removed from every
 * layer of the group, and the shared weight is sliced once, in place, for all its readers. An explicit head list
 * must name the same heads for every layer of a group. Pure functions of the structure and the scores.
 */
import type { BertStructure, EncoderLayer } from '../bert/structure.ts';
import { SettingsError } from '../errors.ts';

/** The weights through which layers can share a part: attention (Q/K/V, packed QKV, output) or the FFN. */
function partWeights(layer: EncoderLayer, part: 'attention' | 'ffn'): string[] {
  if (part === 'ffn') return [layer.ffn.in.weight, layer.ffn.out.weight];
  const a = layer.attention;
  if (!a) return [];
  return [a.q?.weight, a.k?.weight, a.v?.weight, a.output.weight, a.fused?.weight].filter((w): w is string => w !== undefined);
}

/**
 * Layer indices grouped by shared weights of `part`: layers reading any weight in common are one group (a layer
 * sharing nothing is a group of its own). Groups are in order of their first layer, layers ascending.
 */
export function sharingGroups(s: BertStructure, part: 'attention' | 'ffn'): number[][] {
  const parent = s.layers.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  const owner = new Map<string, number>();
  s.layers.forEach((layer, i) => {
    for (const w of partWeights(layer, part)) {
      const j = owner.get(w);
      if (j === undefined) owner.set(w, i);
      else parent[find(i)] = find(j);
    }
  });
  const groups = new Map<number, number[]>();
  s.layers.forEach((_, i) => {
    const root = find(i);
    groups.set(root, [...(groups.get(root) ?? []), s.layers[i]!.index]);
  });
  return [...groups.values()].sort((a, b) => a[0]! - b[0]!);
}

/** Per group, the element-wise sum of its layers' unit scores (`scores` is indexed by layer index). */
export function groupScores(scores: readonly (readonly number[])[], groups: readonly number[][]): number[][] {
  return groups.map((group) => {
    const sum = new Array<number>(scores[group[0]!]!.length).fill(0);
    for (const l of group) scores[l]!.forEach((v, u) => (sum[u]! += v));
    return sum;
  });
}

/** Units chosen per group (keyed by group position) as units per layer: every layer of a group gets its group's. */
export function expandToLayers(perGroup: Readonly<Record<number, readonly number[]>>, groups: readonly number[][]): Record<number, number[]> {
  const out: Record<number, number[]> = {};
  groups.forEach((group, gi) => {
    const units = perGroup[gi];
    if (units && units.length > 0) for (const l of group) out[l] = [...units];
  });
  return out;
}

/**
 * Throws a SettingsError (its message starting with the pass's name) when an explicit per-layer list gives the layers
 * of a sharing group different units: removing them would undo the sharing. Its advice holds for layers shared as the
 * model was read (an ALBERT checkpoint's, which no step before can prune apart) as for those a share-layers step shares.
 */
export function checkGroupsAgree(drop: Readonly<Record<number, readonly number[]>>, groups: readonly number[][], what: string, pass: string): void {
  for (const group of groups) {
    if (group.length < 2) continue;
    const key = (l: number) => [...(drop[l] ?? [])].sort((a, b) => a - b).join(',');
    const differs = group.find((l) => key(l) !== key(group[0]!));
    if (differs !== undefined) {
      throw new SettingsError(
        `${pass}: layers ${group.join(', ')} share their weights: list the same ${what} for each of them (layer ${group[0]}: [${key(group[0]!)}], layer ${differs}: [${key(differs)}]), as shared layers are pruned alike; only layers that a share-layers step shares (not those of an ALBERT, shared as read) can be pruned apart, before that step`,
      );
    }
  }
}
