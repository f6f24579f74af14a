/**
 * A decomposed LayerNorm averages over the hidden axis, the last: a graph whose ReduceMeans average over another
 * axis (the sequence, -2) or several computes no LayerNorm, and is not read as one (the canonical rebuild and the
 * passes that rewrite LayerNorms would compute one where the graph does not). A positive axis is the last where the
 * rank of the mean's input follows from the graph's declared shapes, else any past the batch's.
 */
import { describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import { NotBertError } from '../../src/errors.ts';
import { cloneModel, type Model } from '../../src/onnx/index.ts';
import { batchLogits, maxRowDiff, paddedBatch, tinyBert } from '../helpers/models.ts';

/** `model` with every ReduceMean's axes set to `axes`. */
function averagedOver(model: Model, axes: number[]): Model {
  const m = cloneModel(model);
  const means = m.graph.nodes.filter((n) => n.opType === 'ReduceMean');
  expect(means).toHaveLength(10);
  for (const n of means) n.attributes.axes = { type: 'ints', value: axes };
  return m;
}

describe('decomposed LayerNorms by the axes they average over', () => {
  const model = tinyBert({}, { seed: 6, std: 0.2 });
  const batch = paddedBatch([7, 4, 1, 6], 32);

  // ([1]: the sequence of [batch, sequence, hidden], a rank read off the declared [batch, sequence] ids through the
  // embeddings' Gathers)
  for (const axes of [[-2], [1, 2], [1]]) {
    it(`refuses means over axes [${axes}] (no LayerNorm)`, async () => {
      const other = averagedOver(model, axes);
      // (the graph computes other logits than the model's LayerNorms)
      expect(maxRowDiff((await batchLogits(other, batch)).rows, (await batchLogits(model, batch)).rows)).toBeGreaterThan(1e-2);
      expect(() => findBert(other, { label: 'm.onnx' })).toThrow(NotBertError);
    });
  }

  it('reads means over axis 2, the last of [batch, sequence, hidden], as LayerNorms', async () => {
    const last = averagedOver(model, [2]);
    expect(maxRowDiff((await batchLogits(last, batch)).rows, (await batchLogits(model, batch)).rows)).toBeLessThan(1e-5);
    const s = findBert(last);
    expect([s.embeddings.norm, ...s.layers.flatMap((l) => [l.attentionNorm, l.outputNorm])].map((n) => n?.kind)).toEqual(Array(5).fill('pattern'));
  });
});
