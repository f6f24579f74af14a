/**
 * A constant attention scale computed from constants is read as onnxruntime computes it: a Cast to an integer type
 * truncates (sqrt(6) cast to int64 and back is 2) and a Div of integers too (12 / 5 is 2), so the canonical rebuild
 * and --optimize's fused Attention use the scale the graph divides by.
 */
import { describe, expect, it } from 'vitest';
import { rebuildCanonical } from '../../src/bert/canonical.ts';
import { findBert } from '../../src/bert/discover.ts';
import { SettingsError } from '../../src/errors.ts';
import { cloneModel, DataType, type Model } from '../../src/onnx/index.ts';
import { float32Tensor, int64Tensor } from '../../src/onnx/tensor.ts';
import { batchLogits, maxRowDiff, onnxNode, paddedBatch, tinyBert } from '../helpers/models.ts';

/** `model` with each layer's scores divided by 2, computed from constants of other values (see the describe). */
function scaledBy(model: Model, kind: 'truncated-root' | 'integer-division'): Model {
  const m = cloneModel(model);
  const g = m.graph;
  g.initializers.set('fold_six', float32Tensor('fold_six', [], [6]));
  g.initializers.set('fold_twelve', int64Tensor('fold_twelve', [], [12]));
  g.initializers.set('fold_five', int64Tensor('fold_five', [], [5]));
  const int64 = { to: { type: 'int' as const, value: DataType.INT64 } };
  const float = { to: { type: 'int' as const, value: DataType.FLOAT } };
  const nodes =
    kind === 'truncated-root'
      ? [
          onnxNode('fold/Sqrt', 'Sqrt', ['fold_six'], ['fold/root']),
          onnxNode('fold/Cast_int', 'Cast', ['fold/root'], ['fold/root_int'], int64),
          onnxNode('fold/Cast_float', 'Cast', ['fold/root_int'], ['fold/scale'], float),
        ]
      : [
          onnxNode('fold/Div', 'Div', ['fold_twelve', 'fold_five'], ['fold/quotient']),
          onnxNode('fold/Cast_float', 'Cast', ['fold/quotient'], ['fold/scale'], float),
        ];
  const divs = g.nodes.filter((n) => n.opType === 'Div' && g.nodes.some((s) => s.opType === 'Add' && s.inputs[0] === n.outputs[0]));
  expect(divs).toHaveLength(2);
  for (const d of divs) d.inputs[1] = 'fold/scale';
  g.nodes.unshift(...nodes);
  return m;
}

describe('attention scales folded from integer constants', () => {
  const batch = paddedBatch([7, 4, 1, 6], 128);

  for (const kind of ['truncated-root', 'integer-division'] as const) {
    const how = kind === 'truncated-root' ? 'Cast(Cast(Sqrt(6), int64), float)' : 'Cast(Div(int64 12, int64 5), float)';
    it(`reads a scale of 2 computed as ${how}, and rebuilds the logits of heads 4 wide (sqrt(4) = 2)`, async () => {
      const model = tinyBert({ hiddenSize: 16, numHeads: 4, intermediateSize: 32 }, { seed: 4, std: 0.2 });
      const scaled = scaledBy(model, kind);
      for (const l of findBert(scaled).layers) expect(l.attention?.scale).toBe(2);
      const logits = (await batchLogits(scaled, batch)).rows;
      expect(maxRowDiff(logits, (await batchLogits(model, batch)).rows)).toBeLessThan(1e-5);
      expect(maxRowDiff((await batchLogits(rebuildCanonical(scaled), batch)).rows, logits)).toBeLessThan(1e-5);
    });

    it(`refuses to rebuild heads 6 wide whose scores are divided by ${how} (2, not sqrt(6))`, async () => {
      const model = tinyBert({ hiddenSize: 24, numHeads: 4, intermediateSize: 32 }, { seed: 4, std: 0.2 });
      const scaled = scaledBy(model, kind);
      for (const l of findBert(scaled).layers) expect(l.attention?.scale).toBe(2);
      // (the graph computes other logits than the model's sqrt(6): a rebuild with sqrt(6) would compute the model's)
      expect(maxRowDiff((await batchLogits(scaled, batch)).rows, (await batchLogits(model, batch)).rows)).toBeGreaterThan(1e-2);
      expect(() => rebuildCanonical(scaled)).toThrow(
        new SettingsError('canonical rebuild: layer 0 divides the attention scores by 2, not sqrt(head size) = 2.449489742783178'),
      );
    });
  }
});
