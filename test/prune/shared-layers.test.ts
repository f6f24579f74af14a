/**
 * Pruning a model whose layers share weights (share-layers, then prune-heads / prune-ffn): the same units leave
 * every layer of a sharing group, chosen by their summed scores, and the shared weights are sliced once, so the
 * model stays shared and gets smaller, computing what per-layer pruning (which un-shares the weights) computes.
 */
import { describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import type { BertStructure } from '../../src/bert/structure.ts';
import { SettingsError } from '../../src/errors.ts';
import { cloneModel, modelSize, type Model } from '../../src/onnx/index.ts';
import { pruneGraph } from '../../src/onnx/analysis.ts';
import { applyHeadPruning, pruneFfnPass, pruneHeadsPass } from '../../src/prune/index.ts';
import { pruneLayerHeads, selectHeads } from '../../src/prune/heads.ts';
import { expandToLayers, groupScores, sharingGroups } from '../../src/prune/sharing.ts';
import type { HeadScores } from '../../src/prune/head-importance.ts';

/** One step's choice as selectHeadsInSteps makes it: groups ranked by their summed scores, expanded to their layers. */
function chooseHeads(s: BertStructure, scores: HeadScores, ratio: number): Record<number, number[]> {
  const groups = sharingGroups(s, 'attention');
  return expandToLayers(selectHeads(groupScores(scores, groups), ratio), groups);
}
import { shareLayersPass } from '../../src/share/index.ts';
import { tinyBert } from '../helpers/models.ts';
import { maxDiff, outputsOf, sampleFeeds } from '../helpers/run-model.ts';

async function shared(spec: string): Promise<{ model: Model; s: BertStructure }> {
  const model = tinyBert({ numLayers: 4 }, { std: 0.2 });
  const r = await shareLayersPass.run(model, findBert(model), shareLayersPass.parse({ share: spec }), {});
  return { model: r.model, s: findBert(r.model) };
}

/** Distinct initializers the attention (or FFN) weights of the layers read. */
const distinct = (s: BertStructure, pick: (l: BertStructure['layers'][number]) => string | undefined) => new Set(s.layers.map(pick)).size;

/** Per-layer pruning as it was before groups: each layer's edit copies the shared weights (the reference result). */
function prunedLayerByLayer(model: Model, s: BertStructure, drop: Record<number, number[]>): Model {
  const m = cloneModel(model);
  for (const layer of s.layers) pruneLayerHeads(m.graph, layer, drop[layer.index] ?? []);
  pruneGraph(m.graph);
  return m;
}

describe('pruning shared layers', () => {
  it('finds the sharing groups', async () => {
    expect(sharingGroups((await shared('all')).s, 'attention')).toEqual([[0, 1, 2, 3]]);
    expect(sharingGroups((await shared('groups:2')).s, 'ffn')).toEqual([
      [0, 1],
      [2, 3],
    ]);
    expect(sharingGroups(findBert(tinyBert({ numLayers: 3 })), 'attention')).toEqual([[0], [1], [2]]);
  });

  it('prune-heads keeps the layers shared, shrinks the file, and computes what per-layer pruning computes', async () => {
    const { model, s } = await shared('all');
    const r = await pruneHeadsPass.run(model, s, pruneHeadsPass.parse({ ratio: 0.25, importance: 'magnitude' }), {});
    const after = findBert(r.model);
    expect(after.layers.map((l) => l.attention!.numHeads)).toEqual([3, 3, 3, 3]);
    expect(distinct(after, (l) => l.attention!.q!.weight)).toBe(1);
    expect(distinct(after, (l) => l.ffn.in.weight)).toBe(1);
    expect(modelSize(r.model).bytes).toBeLessThan(modelSize(model).bytes);
    const drop = (r.report.details as { removed: Record<number, number[]> }).removed;
    const reference = prunedLayerByLayer(model, s, drop);
    expect(modelSize(reference).bytes).toBeGreaterThan(modelSize(r.model).bytes);
    const feeds = sampleFeeds(model, s);
    expect(maxDiff(await outputsOf(reference, feeds), await outputsOf(r.model, feeds))).toBeLessThan(1e-5);
  });

  it('ranks the heads of a group by their summed scores', async () => {
    const { s } = await shared('all');
    const scores = [
      [0, 1, 1, 1],
      [1, 0, 1, 1],
      [1, 1, 0.2, 1],
      [1, 1, 0.2, 1],
    ];
    // Per layer, heads 0 and 1 score lowest; summed over the group, head 2 does (2.4 against 3 and 4).
    expect(chooseHeads(s, scores, 0.25)).toEqual({ 0: [2], 1: [2], 2: [2], 3: [2] });
    expect(chooseHeads(findBert(tinyBert({ numLayers: 4 })), scores, 0.125)).toEqual({ 0: [0], 1: [1] });
  });

  it('says a ratio fell short only when the per-layer minimum stopped it, counting a shared head once as the ratio does', async () => {
    const { model, s } = await shared('groups:2');
    const summary = async (settings: Record<string, unknown>) => (await pruneHeadsPass.run(model, s, pruneHeadsPass.parse(settings), {})).report.summary;
    // 2 groups of 2 layers sharing 4 heads: 0.3 of 8 is 2, each removed from 2 layers (4 of the 16 heads of the layers)
    expect(await summary({ ratio: 0.3 })).toBe('removed 4 of 16 heads by magnitude importance');
    expect(await summary({ ratio: 0.3, minHeadsPerLayer: 3 })).toBe('removed 4 of 16 heads by magnitude importance');
    expect(await summary({ ratio: 0.5, minHeadsPerLayer: 3 })).toBe(
      'removed 4 of 16 heads by magnitude importance (ratio 0.5 asks for 4 of 8 heads, those of layers sharing their weights counted once; at least 3 per layer stay)',
    );
  });

  it('prune-ffn keeps the layers of each group shared', async () => {
    const { model, s } = await shared('groups:2');
    const r = await pruneFfnPass.run(model, s, pruneFfnPass.parse({ ratio: 0.25 }), {});
    const after = findBert(r.model);
    expect(after.layers.map((l) => l.ffn.intermediateSize)).toEqual([48, 48, 48, 48]);
    expect(distinct(after, (l) => l.ffn.in.weight)).toBe(2);
    expect(modelSize(r.model).bytes).toBeLessThan(modelSize(model).bytes);
    const feeds = sampleFeeds(r.model, after);
    expect(Object.values(await outputsOf(r.model, feeds)).every((v) => v.every(Number.isFinite))).toBe(true);
  });

  it('refuses an explicit head list that differs between layers of a group', async () => {
    const { model, s } = await shared('all');
    expect(() => applyHeadPruning(model, s, { 0: [1] })).toThrow(SettingsError);
    expect(() => applyHeadPruning(model, s, { 0: [1] })).toThrow(/^prune-heads: layers 0, 1, 2, 3 share their weights: list the same heads for each of them/);
    const same = applyHeadPruning(model, s, { 0: [1], 1: [1], 2: [1], 3: [1] });
    expect(distinct(findBert(same), (l) => l.attention!.q!.weight)).toBe(1);
  });
});
