/**
 * A scaling of V (the context MatMul's operand) between its head split and the MatMul: discovery reads Q's and K's
 * scalings into the attention scale, and V's is no part of any attention block, so such a graph is refused in one line
 * rather than read as attention that the canonical rebuild (what training differentiates) and the fused rewrite
 * compute without it.
 */
import { describe, expect, it } from 'vitest';
import { rebuildCanonical } from '../../src/bert/canonical.ts';
import { findBert } from '../../src/bert/discover.ts';
import { NotBertError } from '../../src/errors.ts';
import { cloneModel, type Model } from '../../src/onnx/index.ts';
import { float32Tensor } from '../../src/onnx/tensor.ts';
import { batchLogits, maxRowDiff, onnxNode, paddedBatch, tinyBert } from '../helpers/models.ts';

/** `model` with each layer's V (split into heads, transposed) multiplied by `factor` before the context MatMul. */
function valueScaled(model: Model, factor: number): Model {
  const m = cloneModel(model);
  const g = m.graph;
  g.initializers.set('v_factor', float32Tensor('v_factor', [], [factor]));
  const softmaxes = g.nodes.filter((n) => n.opType === 'Softmax');
  expect(softmaxes.length).toBeGreaterThan(0);
  for (const [l, softmax] of softmaxes.entries()) {
    const context = g.nodes.find((n) => n.opType === 'MatMul' && n.inputs[0] === softmax.outputs[0])!;
    const mul = onnxNode(`v_scale${l}`, 'Mul', [context.inputs[1], 'v_factor'], [`v_scaled${l}`]);
    context.inputs[1] = `v_scaled${l}`;
    g.nodes.splice(g.nodes.indexOf(context), 0, mul);
  }
  return m;
}

describe('attention whose V is scaled before the context MatMul', () => {
  const model = tinyBert({ hiddenSize: 16, numHeads: 2, intermediateSize: 24 }, { seed: 3 });

  it('is refused in one line naming the node, not read as attention without the scaling', () => {
    const scaled = valueScaled(model, 0.5);
    expect(() => findBert(scaled, { label: 'm.onnx' })).toThrow(NotBertError);
    expect(() => findBert(scaled, { label: 'm.onnx' })).toThrow(
      /^m\.onnx: attention at Softmax '[^']+': the V operand of context MatMul '[^']+' is scaled \(by Mul 'v_scale0'\), which no attention block reads$/,
    );
  });

  it('reads a scaling of V by 1 (no change) as attention, with the same logits rebuilt', async () => {
    const scaled = valueScaled(model, 1);
    expect(findBert(scaled).layers.every((l) => l.attention !== undefined)).toBe(true);
    const batch = paddedBatch([5, 3], 64);
    const expected = (await batchLogits(scaled, batch)).rows;
    expect(maxRowDiff((await batchLogits(rebuildCanonical(scaled), batch)).rows, expected)).toBeLessThan(1e-5);
  });
});
