/**
 * The optimize pass on every shared exporter fixture (torch, keras2onnx, onnxruntime-fused; BERT, DistilBERT,
 * XLM-R; opsets 10 to 14), float and dynamic int8: the output computes what the input computes, discovery reads it
 * with the same geometry, and every block left as it was comes with a reason.
 */
import { describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import type { BertStructure } from '../../src/bert/structure.ts';
import { loadModel, type Model } from '../../src/onnx/index.ts';
import { OPTIMIZE, optimizeModel, type SkippedRewrite } from '../../src/optimize/index.ts';
import { quantizeModel, parseQuantizeSettings } from '../../src/quantize/index.ts';
import { applyHeadPruning } from '../../src/prune/heads.ts';
import { FIXTURE_MODELS, fixture, hasFixtures } from '../helpers/paths.ts';
import { outputsOf, relativeDiff, sampleFeeds } from '../helpers/run-model.ts';

const geometry = (s: BertStructure) => ({
  family: s.family,
  numLayers: s.numLayers,
  hiddenSize: s.hiddenSize,
  inputs: s.inputs,
  head: s.head?.kind,
  layers: s.layers.map((l) => [l.attention?.numHeads, l.attention?.headSize, l.ffn.intermediateSize, l.ffn.activation]),
});

describe.skipIf(!hasFixtures)('optimize the exporter fixtures (needs ../shared/fixtures/onnx)', () => {
  it.each(FIXTURE_MODELS.map((f) => [f.file]))('%s', async (file) => {
    const model = loadModel(fixture(file));
    const s = findBert(model);
    const feeds = sampleFeeds(model, s, 2, 7);
    const q = (await quantizeModel(model, s, parseQuantizeSettings({ mode: 'int8' }))).model;
    for (const [label, input, tolerance] of [
      ['fp32', model, 1e-4],
      ['int8', q, 0.05],
    ] as Array<[string, Model, number]>) {
      const r = optimizeModel(input, findBert(input), OPTIMIZE.parse({ rewrites: 'all' }));
      const out = findBert(r.model);
      expect(geometry(out), `${file} ${label}`).toEqual(geometry(s));
      expect(relativeDiff(await outputsOf(input, feeds), await outputsOf(r.model, feeds)), `${file} ${label}`).toBeLessThan(tolerance);
      const left = (r.report.details as { leftAsTheyWere: SkippedRewrite[] }).leftAsTheyWere;
      for (const k of left) expect(k.reason, `${file} ${label} ${k.where}`).toMatch(/\w/);
      // a token-level head (pretraining, question answering) reads every token: the last layer stays whole
      if (s.head?.kind !== 'sequence-classification')
        expect(
          out.layers.some((l) => l.firstToken),
          file,
        ).toBe(false);
    }
  });
});

describe.skipIf(!hasFixtures)('pruning heads after --optimize all on a keras2onnx graph (needs ../shared/fixtures/onnx)', () => {
  it('rewrites the head-merge Reshape the fusion left, so the pruned model runs and matches pruning before fusing', async () => {
    const model = loadModel(fixture('bert-seqcls-mrpc-tiny-keras2onnx-op10.onnx'));
    const fused = optimizeModel(model, findBert(model), OPTIMIZE.parse({ rewrites: 'all' })).model;
    const s = findBert(fused);
    expect(s.layers[0]!.attention!.kind).toBe('fused');
    // the leftover Reshape [batch, -1, 8] behind each Attention is known as the attention width
    expect(s.layers[0]!.attention!.headShapeConstants.map((c) => [c.meaning, c.value])).toEqual([['all-head-size', 8]]);
    const drop = { 0: [1], 3: [0] };
    const feeds = sampleFeeds(model, findBert(model), 2, 7);
    const expected = await outputsOf(applyHeadPruning(model, findBert(model), drop), feeds);
    const pruned = applyHeadPruning(fused, s, drop);
    expect(relativeDiff(expected, await outputsOf(pruned, feeds))).toBeLessThan(1e-4);
  });
});
