/**
 * A float16 model (every tensor float16, as onnxconverter-common writes it) is read back by canonicalBert and
 * rebuilt as a float32 model computing its logits: its float16 attention scale (sqrt(8) is 2.828125 there, 1.1e-4
 * away) is sqrt(head size) within float16 rounding, where it was refused ('divides the attention scores by
 * 2.828125, not sqrt(head size)'), and a LayerNorm epsilon that underflowed to 0 in float16 (BERT's 1e-12) is read as
 * 1e-12, where the rebuild was refused ('layerNormEps must be a positive number (got 0)').
 */
import { describe, expect, it } from 'vitest';
import { canonicalBert, rebuildCanonical } from '../../src/bert/canonical.ts';
import { findBert } from '../../src/bert/discover.ts';
import { float32Tensor, readFloat32, type Tensor } from '../../src/onnx/index.ts';
import { toFloat16 } from '../helpers/float16.ts';
import { tinyBert } from '../helpers/models.ts';
import { maxAbs, maxDiff, outputsOf, sampleFeeds } from '../helpers/run-model.ts';

describe('canonicalBert on a float16 model', () => {
  it.each([1e-12, 1e-5])('rebuilds a float16 tiny BERT (head size 8, epsilon %s) computing its logits', async (eps) => {
    const model32 = tinyBert({ layerNormEps: eps }, { std: 0.2 });
    const model16 = toFloat16(model32);
    const { config } = canonicalBert(model16);
    expect(config.layerNormEps).toBeCloseTo(eps, 7); // 1e-5 is 1.0014e-5 in float16
    const rebuilt = rebuildCanonical(model16);
    const feeds = sampleFeeds(model32, findBert(model32));
    const [a, b] = await Promise.all([outputsOf(model16, feeds), outputsOf(rebuilt, feeds)]);
    expect(maxAbs(a)).toBeGreaterThan(0.01);
    expect(maxDiff(a, b)).toBeLessThan(0.02 * maxAbs(a));
  });

  it('still refuses a float32 model dividing its scores by 2.828125 (float16 rounding is no excuse in float32)', () => {
    const model = tinyBert();
    const constants = model.graph.nodes.filter((n) => n.opType === 'Constant' && n.attributes.value?.type === 'tensor');
    const sqrt8 = constants.filter((n) => {
      const t = n.attributes.value!.value as Tensor;
      return t.dims.length === 0 && readFloat32(t)[0] === Math.fround(Math.sqrt(8));
    });
    expect(sqrt8).toHaveLength(2); // one per layer
    for (const n of sqrt8) n.attributes.value = { type: 'tensor', value: float32Tensor('', [], [2.828125]) };
    expect(() => canonicalBert(model)).toThrow(/layer 0 divides the attention scores by 2\.828125, not sqrt\(head size\) = 2\.828427/);
  });
});
