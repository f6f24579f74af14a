/**
 * Every shared exporter fixture discovery understands (torch, keras2onnx, onnxruntime-fused; BERT, DistilBERT,
 * XLM-R; opsets 10 to 14): int8 and int4 outputs load and run in onnxruntime close to the original, projections
 * reached through a Transpose or Gemm transB and tied embeddings included; what stays float is reported.
 */
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/onnx/index.ts';
import { findBert } from '../../src/bert/discover.ts';
import type { FloatRecord } from '../../src/quantize/index.ts';
import { FIXTURE_MODELS, fixture, hasFixtures } from '../helpers/paths.ts';
import { outputsOf, sampleFeeds } from '../helpers/run-model.ts';
import { expectWeightsReadBack, quantize, relativeDiff } from './helpers.ts';
import type { TensorRecord } from '../../src/quantize/index.ts';

describe.skipIf(!hasFixtures)('quantize the exporter fixtures (needs ../shared/fixtures/onnx)', () => {
  it.each(FIXTURE_MODELS.map((f) => [f.file]))('%s', async (file) => {
    const model = loadModel(fixture(file));
    const s = findBert(model);
    const feeds = sampleFeeds(model, s, 2, 7);
    const ref = await outputsOf(model, feeds);
    for (const [settings, tolerance] of [
      [{ mode: 'int8' }, 0.05],
      [{ mode: 'int4-block:16' }, 0.3],
    ] as const) {
      const { model: q, report } = await quantize(model, s, settings);
      const d = report.details as { quantized: TensorRecord[]; keptFloat: FloatRecord[] };
      expect(relativeDiff(ref, await outputsOf(q, feeds)), `${file} ${settings.mode}`).toBeLessThan(tolerance);
      expect(d.quantized.length).toBeGreaterThan(0);
      for (const k of d.keptFloat) expect(k.reason.length).toBeGreaterThan(0);
      if (settings.mode === 'int8' && s.exporter !== 'ort-fused') expectWeightsReadBack(model, s, q, d.quantized);
      if (s.exporter === 'ort-fused') {
        const kept = d.keptFloat.map((k) => k.target);
        if (settings.mode === 'int8') expect(q.graph.nodes.filter((n) => n.opType === 'QAttention')).toHaveLength(s.numLayers);
        else expect(kept.filter((t) => t.endsWith('.attention.qkv'))).toHaveLength(s.numLayers);
      }
    }
  });
});
