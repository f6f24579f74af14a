/**
 * share-layers after prune-heads by ratio, which chooses the heads it removes when it runs: the layers of each group
 * share-layers joins must then have as many heads (layers.ts checkGroupAttention), which no choice of the ratio's may
 * give them. One check for a sweep's plan (before any point runs) and runPipeline (before any pass runs, where a
 * prune-heads by ratio, an ablation of hours, ran before share-layers refused its result).
 */
import { SettingsError } from '../errors.ts';
import { headsRemovedBy } from '../prune/head-selection.ts';
import { layerGroups, parseShareSpec, parseSourceSpec } from './spec.ts';

/** The graph passes after which RatioHeads still holds: they keep every layer, its heads and their sharing. */
export const RATIO_KEPT: ReadonlySet<string> = new Set(['prune-ffn', 'factorize-embeddings', 'quantize', 'optimize']);

/**
 * What a prune-heads step by ratio leaves of a model's heads: it removes ratio × the heads (headsRemovedBy, of
 * `total`: the heads of layers sharing their attention weights, a `unit`, counted once), the lowest-scored first,
 * from units above minHeadsPerLayer only; so each layer keeps from `atLeast` (minHeadsPerLayer, or its heads where
 * fewer) to its heads before, and the units keep `kept` heads in all.
 */
export interface RatioHeads {
  atLeast: readonly number[];
  units: readonly number[][];
  kept: number;
  total: number;
}

/**
 * RatioHeads of prune-heads by `ratio` (keeping `minHeadsPerLayer`, 0 when not a number) on a model of `heads` by
 * layer whose layers sharing attention weights are `units` (every layer in one, in order); undefined where the units
 * do not cover the layers once each.
 */
export function ratioHeads(heads: readonly number[], units: readonly number[][], ratio: number, minHeadsPerLayer: unknown): RatioHeads | undefined {
  const covered = units.flat().sort((a, b) => a - b);
  if (covered.length !== heads.length || covered.some((l, i) => l !== i)) return undefined;
  const min = typeof minHeadsPerLayer === 'number' ? minHeadsPerLayer : 0;
  const unitHeads = units.map((u) => heads[u[0]!]!);
  const total = unitHeads.reduce((a, b) => a + b, 0);
  const removable = unitHeads.reduce((a, h) => a + Math.max(0, h - min), 0);
  const kept = total - Math.min(headsRemovedBy(ratio, total), removable);
  return { atLeast: heads.map((h) => Math.min(h, min)), units, kept, total };
}

/**
 * share-layers of `settings` (checked) after prune-heads by ratio (`step`: its step number; `exact`: the heads it
 * leaves, where known) on layers of `most` heads at most: throws a SettingsError where no choice of the ratio's leaves
 * the layers of each group share-layers joins as many heads (the heads it leaves cannot be spread so); gives the line
 * saying `what` fails unless the scores choose so, where some choices do (or `exact` is not known); undefined where every
 * choice does (each group's layers are pruned alike, sharing their attention weights, or the ratio has one choice of
 * counts), or no group joins layers.
 */
export function shareAfterRatio(
  settings: Record<string, unknown>,
  ratio: { step: number; exact?: RatioHeads },
  most: readonly number[],
  what: string,
): string | undefined {
  let groups: number[][];
  try {
    groups = layerGroups(most.length, parseShareSpec(settings.share), parseSourceSpec(settings.from));
  } catch {
    return undefined; // (refused by share-layers' own check, after this)
  }
  const joined = groups.filter((g) => g.length > 1);
  if (!joined.length) return undefined;
  const named = joined.map((g) => `layers ${g[0]}-${g.at(-1)}`).join(', ');
  const by = `prune-heads by ratio before it (step ${ratio.step})`;
  const e = ratio.exact;
  const choices = e ? ratioChoices(e, most, groups) : 'some';
  if (choices === 'all') return undefined;
  if (choices === 'none')
    throw new SettingsError(
      `share-layers: ${by} leaves ${e!.kept} of the model's ${e!.total} heads (those of layers sharing their attention weights counted once), which cannot be spread so that the layers of each group share-layers joins (${named}) have as many heads, as layers sharing weights must: choose a ratio that can, share layers before pruning heads, or list the heads to prune`,
    );
  return `${by} chooses the heads it removes when it runs, and ${what} fails unless it leaves the layers of each group share-layers joins (${named}) as many heads, as layers sharing weights must: share layers before pruning heads, or list the heads to prune`;
}

/**
 * Whether the heads prune-heads by ratio leaves (`e`; at most `most` by layer) give the layers of each of `groups`
 * as many heads: in every choice of the ratio's ('all': each group's layers share their attention weights, or the
 * counts are forced, every unit at its fewest or at its most), in some, or in none. Groups and units joined, each
 * part takes one count within its layers' bounds for each of its units, and the counts must add up to `e.kept`.
 */
function ratioChoices(e: RatioHeads, most: readonly number[], groups: readonly number[][]): 'all' | 'some' | 'none' {
  const unitOf: number[] = [];
  e.units.forEach((u, i) => {
    for (const l of u) unitOf[l] = i;
  });
  if (groups.every((g) => g.every((l) => unitOf[l] === unitOf[g[0]!]))) return 'all';
  const parent = e.units.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  for (const g of groups) for (const l of g) parent[find(unitOf[l]!)] = find(unitOf[g[0]!]!);
  const parts = new Map<number, { lo: number; hi: number; units: number }>();
  e.units.forEach((u, i) => {
    const part = parts.get(find(i)) ?? { lo: 0, hi: Number.POSITIVE_INFINITY, units: 0 };
    for (const l of u) {
      part.lo = Math.max(part.lo, e.atLeast[l]!);
      part.hi = Math.min(part.hi, most[l]!);
    }
    parts.set(find(i), { ...part, units: part.units + 1 });
  });
  // (the totals the parts' counts can make, up to kept)
  let reach = new Set([0]);
  for (const { lo, hi, units } of parts.values()) {
    const next = new Set<number>();
    for (const sum of reach) for (let k = lo; k <= hi && sum + k * units <= e.kept; k++) next.add(sum + k * units);
    reach = next;
  }
  if (!reach.has(e.kept)) return 'none';
  const bound = (of: readonly number[]) => e.units.reduce((a, u) => a + of[u[0]!]!, 0);
  return e.kept === bound(e.atLeast) || e.kept === bound(most) ? 'all' : 'some';
}
