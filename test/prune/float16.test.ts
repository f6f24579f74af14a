/**
 * Pruning and factorizing a float16 model (every weight and activation float16, as a float16 export or
 * onnxconverter-common's convert_float_to_float16 writes it): the sliced weights stay float16, every constant the
 * passes add is float16 too (onnxruntime refuses a Mul of float16 by float32), and the result computes what the
 * float32 model pruned the same way computes, to float16 precision. Importances that read the model's outputs in
 * onnxruntime (ablation, confidence, the predictions target) are refused on float16 weights with one line.
 */
import { describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import { DataType } from '../../src/onnx/dtype.ts';
import type { Model } from '../../src/onnx/index.ts';
import { applyHeadPruning, pruneFfnPass, pruneHeadsPass } from '../../src/prune/index.ts';
import { factorizeEmbeddingsPass } from '../../src/factorize/index.ts';
import { optimizeModel } from '../../src/optimize/index.ts';
import { SettingsError } from '../../src/errors.ts';
import { tinyBert } from '../helpers/models.ts';
import { outputsOf as run, sampleFeeds } from '../helpers/run-model.ts';
import { toFloat16 } from '../helpers/float16.ts';
import { syntheticCalibration } from '../helpers/calibration.ts';

/** max |a − b| over every output, relative to max |a|. */
function drift(a: Record<string, Float32Array>, b: Record<string, Float32Array>): number {
  let d = 0;
  let top = 1e-6;
  for (const [k, x] of Object.entries(a)) {
    expect(b[k]?.length, k).toBe(x.length);
    x.forEach((v, i) => {
      d = Math.max(d, Math.abs(v - b[k]![i]!));
      top = Math.max(top, Math.abs(v));
    });
  }
  return d / top;
}

const floatTypes = (m: Model) =>
  new Set([...m.graph.initializers.values()].filter((t) => t.dataType === DataType.FLOAT || t.dataType === DataType.FLOAT16).map((t) => t.dataType));

describe('float16 models', () => {
  const model32 = tinyBert({}, { std: 0.2 });
  const model16 = toFloat16(model32);
  const s32 = findBert(model32);
  const s16 = findBert(model16);
  const feeds = sampleFeeds(model32, s32);

  it('lose heads, and a whole attention block, as the float32 model does', async () => {
    // layer 1 loses every head: its attention block becomes a constant, written as Mul(x, 0) + b before the
    // fused SkipLayerNormalization and the first-token layer (a float32 0 there did not load)
    for (const rewrites of [undefined, new Set(['first-token', 'skip-layernorm'] as const)]) {
      const [a, b] = rewrites ? [model32, model16].map((m) => optimizeModel(m, findBert(m), { rewrites: new Set(rewrites) }).model) : [model32, model16];
      const drop = { 0: [1, 3], 1: [0, 1, 2, 3] };
      const p32 = applyHeadPruning(a!, findBert(a!), drop);
      const p16 = applyHeadPruning(b!, findBert(b!), drop);
      expect(floatTypes(p16)).toEqual(new Set([DataType.FLOAT16]));
      expect(findBert(p16).layers.map((l) => l.attention?.numHeads ?? 0)).toEqual([2, 0]);
      expect(drift(await run(p32, feeds), await run(p16, feeds)), rewrites ? 'optimized' : 'plain').toBeLessThan(0.02);
    }
  });

  it('lose heads by magnitude, FFN neurons and embedding width as the float32 model does', async () => {
    const steps = [
      [pruneHeadsPass, { ratio: 0.5 }],
      [pruneFfnPass, { ratio: 0.5 }],
      [factorizeEmbeddingsPass, { rank: 8 }],
    ] as const;
    for (const [pass, settings] of steps) {
      const [r32, r16] = await Promise.all([
        pass.run(model32, s32, pass.parse(settings) as never, {}),
        pass.run(model16, s16, pass.parse(settings) as never, {}),
      ]);
      const sizeless = (t: string) => t.replace(/[\d.]+ MB/g, 'N MB'); // (float16 bytes are half)
      expect(sizeless(r16.report.summary), pass.name).toBe(sizeless(r32.report.summary));
      expect(floatTypes(r16.model), pass.name).toEqual(new Set([DataType.FLOAT16]));
      expect(drift(await run(r32.model, feeds), await run(r16.model, feeds)), pass.name).toBeLessThan(0.02);
    }
  });

  it('refuse importances that read their outputs in onnxruntime, with one line', async () => {
    const calibration = syntheticCalibration([3, 2], 128, { classes: 2 });
    for (const settings of [
      { ratio: 0.5, importance: 'ablation' },
      { ratio: 0.5, importance: 'confidence' },
      { ratio: 0.5, importance: 'gradient', target: 'predictions' },
    ]) {
      const o = pruneHeadsPass.parse(settings);
      await expect(pruneHeadsPass.run(model16, s16, o, { calibration }), settings.importance).rejects.toThrow(SettingsError);
      await expect(pruneHeadsPass.run(model16, s16, o, { calibration }), settings.importance).rejects.toThrow(/is float16: use --importance/);
    }
  });
});
