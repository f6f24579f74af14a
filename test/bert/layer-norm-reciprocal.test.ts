/**
 * LayerNorms decomposed with the division by the standard deviation written as a product: d · Reciprocal(Sqrt(v + ε))
 * or d · (1 / Sqrt(v + ε)), where torch writes d / Sqrt(v + ε).
 */
import { describe, expect, it } from 'vitest';
import { rebuildCanonical } from '../../src/bert/canonical.ts';
import { findBert } from '../../src/bert/discover.ts';
import { cloneModel, type Model } from '../../src/onnx/index.ts';
import { float32Tensor } from '../../src/onnx/tensor.ts';
import { batchLogits, maxRowDiff, onnxNode, paddedBatch, tinyBert } from '../helpers/models.ts';

/** `model` with each LayerNorm's Div(d, Sqrt(…)) replaced by d times 1 / Sqrt(…), as Reciprocal or Div(1, ·). */
function reciprocalNorms(model: Model, form: 'Reciprocal' | 'Div'): Model {
  const m = cloneModel(model);
  const g = m.graph;
  g.initializers.set('ln_one', float32Tensor('ln_one', [], [1]));
  const divs = g.nodes.filter((n) => n.opType === 'Div' && g.nodes.find((p) => p.outputs[0] === n.inputs[1])?.opType === 'Sqrt');
  expect(divs).toHaveLength(5);
  for (const div of divs) {
    const inverse = `${div.name}/inverse`;
    g.nodes.splice(
      g.nodes.indexOf(div),
      1,
      form === 'Reciprocal'
        ? onnxNode(`${div.name}/Reciprocal`, 'Reciprocal', [div.inputs[1]], [inverse])
        : onnxNode(`${div.name}/Inverse`, 'Div', ['ln_one', div.inputs[1]], [inverse]),
      onnxNode(div.name, 'Mul', [div.inputs[0], inverse], div.outputs),
    );
  }
  return m;
}

describe('LayerNorms that multiply by the inverse standard deviation', () => {
  const model = tinyBert({}, { seed: 6 });
  const batch = paddedBatch([7, 4, 1, 6], 128);

  for (const form of ['Reciprocal', 'Div'] as const) {
    it(`reads d · ${form === 'Reciprocal' ? 'Reciprocal(Sqrt(v + ε))' : '(1 / Sqrt(v + ε))'} as the LayerNorm, and rebuilds the same logits`, async () => {
      const reciprocal = reciprocalNorms(model, form);
      const expected = (await batchLogits(model, batch)).rows;
      expect(maxRowDiff((await batchLogits(reciprocal, batch)).rows, expected)).toBeLessThan(1e-5);
      const s = findBert(reciprocal);
      expect(s.numLayers).toBe(2);
      const norms = [s.embeddings.norm, ...s.layers.flatMap((l) => [l.attentionNorm, l.outputNorm])];
      // the ten nodes: ReduceMean, Sub, Pow, ReduceMean, Add ε, Sqrt, the inverse, the product, Mul γ, Add β
      expect(norms.map((n) => [n?.kind, n?.epsilon, n?.nodes.length])).toEqual(Array(5).fill(['pattern', Math.fround(1e-12), 10]));
      expect(maxRowDiff((await batchLogits(rebuildCanonical(reciprocal), batch)).rows, expected)).toBeLessThan(1e-5);
    });
  }
});
