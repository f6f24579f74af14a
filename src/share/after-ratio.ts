/**
 * share-layers after prune-heads by ratio, which chooses the heads it removes when it runs: the layers of each group
 * share-layers joins must then have as many heads (layers.ts checkGroupAttention), which no choice of the ratio's may
 * give them. One check for a sweep's plan (before any point runs) and runPipeline (before any pass runs, where a
 * prune-heads by ratio, an ablation of hours, ran before share-layers refused its result).
 */
import { SettingsError } from '../errors.ts';
import { headsRemovedBy } from '../prune/head-selection.ts';
import { parseHeadList } from '../prune/settings.ts';
import { layerGroups, parseShareSpec, parseSourceSpec } from './spec.ts';

/** The graph passes after which RatioHeads still holds: they keep every layer, its heads and their sharing. */
const RATIO_KEPT: ReadonlySet<string> = new Set(['prune-ffn', 'factorize-embeddings', 'quantize', 'optimize']);

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
function ratioHeads(heads: readonly number[], units: readonly number[][], ratio: number, minHeadsPerLayer: unknown): RatioHeads | undefined {
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
function shareAfterRatio(
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

/**
 * What the check follows of the model so far through a pipeline's graph steps (a sweep plan's SoFar holds it, and
 * runPipeline's walk from its input): the heads of each layer (0: all pruned, no attention), where known; where not,
 * the most each layer has (`headsAtMost`: after prune-heads by ratio, which chooses its heads when it runs); the last
 * prune-heads by ratio (its step, counted from 1, and `exact`, RatioHeads, where the heads and attention sharing of
 * the model it pruned were known and the steps since kept every layer and its heads: RATIO_KEPT); and the layers
 * reading one copy of their attention weights, by group, where known.
 */
export interface RatioSoFar {
  heads: readonly number[] | undefined;
  headsAtMost?: readonly number[];
  ratioHeads?: { step: number; exact?: RatioHeads };
  shared?: readonly number[][];
}

/**
 * RatioSoFar after graph pass `pass` (step `index`, counted from 0; its `settings` as they act on the model:
 * onModel), which leaves `numLayers` layers, on the model so far `sofar`.
 */
export function ratioSoFarAfter(pass: string, settings: Record<string, unknown>, index: number, numLayers: number, sofar: RatioSoFar): RatioSoFar {
  const heads = sofar.heads ? headsAfter(pass, settings, sofar.heads) : undefined;
  const headsAtMost = heads === undefined ? headsAtMostAfter(pass, settings, sofar) : undefined;
  const shared = sofar.shared ? sharedAfter(pass, settings, numLayers, sofar.shared, heads) : undefined;
  const ratio = headsAtMost ? ratioAfter(pass, index, settings, sofar) : undefined;
  return { heads, ...(headsAtMost ? { headsAtMost } : {}), ...(ratio ? { ratioHeads: ratio } : {}), ...(shared ? { shared } : {}) };
}

/**
 * share-layers of `settings` (checked) after prune-heads by ratio (RatioSoFar.ratioHeads) on the model so far `sofar`:
 * shareAfterRatio's refusal, or its warning that `what` fails unless the scores choose so; undefined where no prune by
 * ratio came before, or the heads are known (a list pruned since).
 */
export function shareAfterRatioSoFar(settings: Record<string, unknown>, sofar: RatioSoFar, what: string): string | undefined {
  const { ratioHeads: r, headsAtMost: most } = sofar;
  if (!r || sofar.heads || !most) return undefined;
  return shareAfterRatio(settings, r, most, what);
}

/**
 * RatioSoFar.ratioHeads after graph pass `pass` (step `index`, of `settings` as they act on the model) on the model so
 * far `sofar`, where its heads after are known at most: set by prune-heads by ratio, with RatioHeads where the heads
 * and attention sharing of every layer were known before it; kept through the other steps, its RatioHeads through
 * RATIO_KEPT's only.
 */
function ratioAfter(pass: string, index: number, settings: Record<string, unknown>, sofar: RatioSoFar): RatioSoFar['ratioHeads'] {
  if (pass === 'prune-heads' && typeof settings.ratio === 'number') {
    const { heads, shared: units } = sofar;
    const exact = heads && units ? ratioHeads(heads, units, settings.ratio, settings.minHeadsPerLayer) : undefined;
    return exact ? { step: index + 1, exact } : { step: index + 1 };
  }
  const r = sofar.ratioHeads;
  return r && (RATIO_KEPT.has(pass) ? r : { step: r.step });
}

/**
 * RatioSoFar.headsAtMost after graph pass `pass` (its `settings` as they act on the model) on the model so far
 * `sofar`, where its heads after are not known: after prune-heads (by ratio, which removes heads only, or a list that
 * cannot be applied to heads known at most), its heads before, known or at most; after another pass, headsAfter's of
 * the heads at most before; undefined where neither is known.
 */
function headsAtMostAfter(pass: string, settings: Record<string, unknown>, sofar: RatioSoFar): readonly number[] | undefined {
  const before = sofar.heads ?? sofar.headsAtMost;
  if (!before) return undefined;
  return pass === 'prune-heads' ? before : sofar.headsAtMost && headsAfter(pass, settings, sofar.headsAtMost);
}

/** The graph passes that leave every layer's heads as they were (share-layers: its groups' layers have the same heads, as checkShape asks). */
const HEADS_KEPT: ReadonlySet<string> = new Set(['prune-ffn', 'factorize-embeddings', 'share-layers', 'quantize', 'optimize']);

/**
 * The heads of each encoder layer after graph pass `pass` (its `settings` as they act on the model: onModel) on a
 * model whose layers have `heads`, where known: prune-heads with its heads listed removes those;
 * drop-layers removes its layers; the others keep them (HEADS_KEPT). Undefined otherwise (prune-heads by ratio
 * chooses its heads when it runs; a list naming heads a layer lacks is refused before, by the pass's checkModel or
 * checkShape: afterPass). A list removing every head of the model leaves every layer without attention (0), as the pass
 * does.
 */
function headsAfter(pass: string, settings: Record<string, unknown>, heads: readonly number[]): readonly number[] | undefined {
  if (HEADS_KEPT.has(pass)) return heads;
  if (pass === 'drop-layers') {
    const drop = Array.isArray(settings.layers) ? (settings.layers as number[]) : [];
    return heads.filter((_, i) => !drop.includes(i));
  }
  if (pass !== 'prune-heads' || typeof settings.heads !== 'string') return undefined;
  const out = [...heads];
  for (const [layer, removed] of Object.entries(parseHeadList(settings.heads))) {
    const l = Number(layer);
    if (!(l < out.length) || removed.some((h) => h >= out[l]!)) return undefined;
    out[l] = out[l]! - removed.length;
  }
  return out;
}

/**
 * The layers reading one copy of their attention weights, by group (PassShape.shared), after graph pass `pass` (its
 * `settings` as they act on the model: onModel) on a model of `shared`, where known, leaving `numLayers`
 * layers of `heads` (headsAfter's): prune-ffn and factorize-embeddings keep them, and optimize (layers sharing Q, K and
 * V share their packed weight, or stay unfused together: optimize/attention.ts); prune-heads too, but for a layer
 * left without attention (a group of its own then: it reads no attention weight); drop-layers removes its layers,
 * numbering the others from 0; share-layers joins its groups (layerGroups) of layers with attention to them.
 * Undefined otherwise (quantize: what it stores of a shared weight is left to the point; heads not known).
 */
function sharedAfter(
  pass: string,
  settings: Record<string, unknown>,
  numLayers: number,
  shared: readonly number[][],
  heads: readonly number[] | undefined,
): number[][] | undefined {
  if (pass === 'prune-ffn' || pass === 'factorize-embeddings' || pass === 'optimize') return shared.map((g) => [...g]);
  if (pass === 'drop-layers') {
    const drop = Array.isArray(settings.layers) ? (settings.layers as number[]) : [];
    return shared.map((g) => g.filter((l) => !drop.includes(l)).map((l) => l - drop.filter((d) => d < l).length)).filter((g) => g.length > 0);
  }
  if (!heads) return undefined;
  const alone = (groups: readonly number[][]) => groups.flatMap((g) => (heads[g[0]!] === 0 ? g.map((l) => [l]) : [[...g]]));
  if (pass === 'prune-heads') return alone(shared).sort((a, b) => a[0]! - b[0]!);
  if (pass !== 'share-layers') return undefined;
  const joined = layerGroups(numLayers, parseShareSpec(settings.share), parseSourceSpec(settings.from));
  const parent = Array.from({ length: numLayers }, (_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  for (const g of [...shared, ...alone(joined)]) for (const l of g.slice(1)) parent[find(l)] = find(g[0]!);
  const groups = new Map<number, number[]>();
  for (let l = 0; l < numLayers; l++) groups.set(find(l), [...(groups.get(find(l)) ?? []), l]);
  return [...groups.values()].sort((a, b) => a[0]! - b[0]!);
}
