/**
 * share-layers with layers that lost their attention (every head pruned): such layers can share with each other
 * (FFN, LayerNorms and the bias added in place of attention), never with layers that kept attention.
 */
import { describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import { SettingsError } from '../../src/errors.ts';
import { applyHeadPruning } from '../../src/prune/index.ts';
import { shareLayersPass, layerWeights, type ShareLayersDetails } from '../../src/share/index.ts';
import { quantizePass } from '../../src/quantize/index.ts';
import type { Model } from '../../src/onnx/index.ts';
import { tinyBert } from '../helpers/models.ts';
import { outputsOf, sampleFeeds } from '../helpers/run-model.ts';

async function share(model: Model, settings: Record<string, unknown>) {
  const r = await shareLayersPass.run(model, findBert(model), shareLayersPass.parse(settings), {});
  return { ...r, details: r.report.details as unknown as ShareLayersDetails };
}

const ALL_HEADS = [0, 1, 2, 3];

describe('share-layers and layers without attention', () => {
  const model = tinyBert({ numLayers: 4 }, { std: 0.2 });

  it('a layer without attention has its FFN, norms and the replacing bias as weights', () => {
    const pruned = applyHeadPruning(model, findBert(model), { 0: ALL_HEADS });
    const roles = layerWeights(findBert(pruned).layers[0]).map((w) => w.role);
    expect(roles).toEqual([
      'attention.bias',
      'attentionNorm.scale',
      'attentionNorm.bias',
      'ffn.in.weight',
      'ffn.in.bias',
      'ffn.out.weight',
      'ffn.out.bias',
      'outputNorm.scale',
      'outputNorm.bias',
    ]);
  });

  it('a group mixing layers with and without attention is refused, naming the layers', async () => {
    const pruned = applyHeadPruning(model, findBert(model), { 0: ALL_HEADS });
    await expect(share(pruned, { share: 'all' })).rejects.toBeInstanceOf(SettingsError);
    await expect(share(pruned, { share: 'all' })).rejects.toThrow(
      'share-layers: group 0 mixes layer 0 without attention (every head pruned) and layers 1, 2, 3 with attention; layers of a group must have the same structure (choose groups that keep them apart, or prune heads alike)',
    );
    await expect(share(pruned, { share: 'groups:2' })).rejects.toThrow(/group 0 mixes layer 0 without attention .* and layer 1 with attention/);
  });

  it('layers without attention share among themselves; the result runs and is discovered', async () => {
    const pruned = applyHeadPruning(model, findBert(model), { 0: ALL_HEADS, 1: ALL_HEADS });
    const { model: out, details } = await share(pruned, { share: 'groups:2' });
    expect(Object.keys(details.sharedInitializers[0])).toContain('attention.bias');
    expect(details.encoderBytesAfter).toBeLessThan(details.encoderBytesBefore);
    const s = findBert(out);
    expect(s.layers.map((l) => l.attention === undefined)).toEqual([true, true, false, false]);
    expect(s.layers[0].attentionBias).toBe(s.layers[1].attentionBias);
    expect(s.layers[0].ffn.in.weight).toBe(s.layers[1].ffn.in.weight);
    const o = await outputsOf(out, sampleFeeds(out, s));
    expect(Object.values(o)[0].every(Number.isFinite)).toBe(true);
  });

  it('quantized layers are refused: share layers before quantizing', async () => {
    const { model: q } = await quantizePass.run(model, findBert(model), quantizePass.parse({ mode: 'int8' }), {});
    await expect(share(q, { share: 'all' })).rejects.toThrow(/share layers before quantizing/);
  });
});
