/**
 * Removing heads must compute exactly what masking those heads computes in the original model: the pruned
 * model's outputs equal the original's with zeros on the removed heads' features (the head mask of Michel et
 * al.), on built models, the trained teacher and every exporter fixture discovery understands.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadModel, type Model } from '../../src/onnx/index.ts';
import { findBert } from '../../src/bert/discover.ts';
import { Tensor } from '../../src/runtime/session.ts';
import { applyHeadPruning, parseHeadList, pruneHeadsPass, selectHeads } from '../../src/prune/heads.ts';
import { withHeadMasks, magnitudeScores, randomScores } from '../../src/prune/head-importance.ts';
import { SettingsError } from '../../src/errors.ts';
import { tinyBert } from '../helpers/models.ts';
import { sampleFeeds, outputsOf, maxDiff, maxAbs } from '../helpers/run-model.ts';
import { FIXTURES, TEACHERS, hasFixtures, hasTeachers } from '../helpers/paths.ts';

async function expectPruningEqualsMasking(model: Model, drop: Record<number, number[]>) {
  const s = findBert(model);
  const pruned = applyHeadPruning(model, s, drop);
  const after = findBert(pruned);
  for (const l of s.layers) {
    expect(after.layers[l.index].attention.numHeads, `layer ${l.index}`).toBe(l.attention.numHeads - (drop[l.index]?.length ?? 0));
  }
  const { model: masked, inputs } = withHeadMasks(model, s);
  const feeds = sampleFeeds(model, s);
  const maskFeeds = Object.fromEntries(inputs.map((name, i) => {
    const l = s.layers[i].attention;
    const m = new Float32Array(l.numHeads * l.headSize).fill(1);
    for (const h of drop[i] ?? []) m.fill(0, h * l.headSize, (h + 1) * l.headSize);
    return [name, new Tensor('float32', m, [m.length])];
  }));
  const want = await outputsOf(masked, { ...feeds, ...maskFeeds });
  const got = await outputsOf(pruned, feeds);
  const original = await outputsOf(model, feeds);
  expect(maxDiff(want, got)).toBeLessThan(1e-5 * Math.max(1, maxAbs(want)));
  return { original, got, s, pruned };
}

describe('prune-heads', () => {
  it('removing heads equals masking them (built model, several layers)', async () => {
    const model = tinyBert({ numLayers: 3 }, { std: 0.2 });
    const { original, got, pruned } = await expectPruningEqualsMasking(model, { 0: [1, 3], 2: [0] });
    expect(maxDiff(original, got)).toBeGreaterThan(1e-4); // it did change the function
    const s0 = findBert(model), s1 = findBert(pruned);
    // q, k, v lose 3 heads × 8 features of width and the output projection as many rows
    expect(s1.layers[0].attention.q!.outFeatures).toBe(s0.layers[0].attention.q!.outFeatures - 16);
    expect(s1.layers[0].attention.output.inFeatures).toBe(16);
  });

  it('ratio 0 is a no-op within 1e-5', async () => {
    const model = tinyBert({}, { std: 0.2 });
    const s = findBert(model);
    const res = await pruneHeadsPass.run(model, s, pruneHeadsPass.parse({ ratio: 0 }), {});
    const feeds = sampleFeeds(model, s);
    expect(maxDiff(await outputsOf(model, feeds), await outputsOf(res.model, feeds))).toBeLessThan(1e-5);
  });

  it('selects the lowest-scoring heads globally, respecting a per-layer minimum', () => {
    const scores = [[0.9, 0.1, 0.5], [0.2, 0.8, 0.3]];
    expect(selectHeads(scores, 0.5)).toEqual({ 0: [1], 1: [0, 2] });
    expect(selectHeads(scores, 0.5, 2)).toEqual({ 0: [1], 1: [0] });
  });

  it('parses explicit head lists and refuses bad ones', () => {
    expect(parseHeadList('0:1,2;3:0')).toEqual({ 0: [1, 2], 3: [0] });
    expect(() => parseHeadList('0-1')).toThrow(SettingsError);
    expect(() => pruneHeadsPass.parse({ ratio: 1 })).toThrow(/\[0, 1\)/);
    expect(() => pruneHeadsPass.parse({ ratio: -0.1 })).toThrow(SettingsError);
    expect(() => pruneHeadsPass.parse({ ratio: 0.2, importance: 'vibes' })).toThrow(/expected one of/);
  });

  it('magnitude and random scores have one score per head', () => {
    const model = tinyBert();
    const s = findBert(model);
    expect(magnitudeScores(model, s).map((r) => r.length)).toEqual([4, 4]);
    expect(randomScores(s, 1)).toEqual(randomScores(s, 1));
    expect(randomScores(s, 1)).not.toEqual(randomScores(s, 2));
  });

  it('does not change the input model', async () => {
    const model = tinyBert();
    const before = [...model.graph.initializers.values()].map((t) => t.data.byteLength);
    applyHeadPruning(model, findBert(model), { 0: [0] });
    expect([...model.graph.initializers.values()].map((t) => t.data.byteLength)).toEqual(before);
  });

  it.skipIf(!hasTeachers)('on the trained teacher: removing heads equals masking them', async () => {
    await expectPruningEqualsMasking(loadModel(join(TEACHERS, 'sst2-L4H256/model.onnx')), { 0: [0], 1: [1, 2], 3: [3] });
  });

  describe.skipIf(!hasFixtures)('on every exporter fixture', () => {
    for (const file of [
      'bert-toy-pretraining-torch11-op12.onnx',
      'bert-toy-pretraining-ort-fused.onnx',
      'bert-seqcls-mrpc-tiny-keras2onnx-op10.onnx',
      'bert-large-qa-squad-tiny-keras2onnx-op11.onnx',
      'distilbert-seqcls-tiny-torch110-op11.onnx',
      'xlmroberta-crossencoder-tiny-torch27-op14.onnx',
    ]) {
      it(file, async () => {
        const model = loadModel(join(FIXTURES, file));
        const s = findBert(model);
        // one head from every layer that has more than one, two from layer 0 if it has three or more
        const drop: Record<number, number[]> = {};
        for (const l of s.layers) if (l.attention.numHeads > 1) drop[l.index] = [l.index % l.attention.numHeads];
        await expectPruningEqualsMasking(model, drop);
      });
    }
  });
});
