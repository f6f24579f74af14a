/**
 * plannedBytes (mixed's size of everything but the encoder layers' projections) from dims and data types alone: the
 * bytes and kept targets of what applyPlan writes, exactly, on every exporter fixture and built models (tables per
 * row or per table, kept float, tied decoders, fused tables after optimize, reduceRange).
 */
import { describe, expect, it } from 'vitest';
import { loadModel, type Model } from '../../src/onnx/index.ts';
import { cloneModel } from '../../src/onnx/graph.ts';
import { attr } from '../../src/quantize/graph-edit.ts';
import { modelSize } from '../../src/onnx/size.ts';
import { findBert } from '../../src/bert/discover.ts';
import { applyPlan, plannedBytes } from '../../src/quantize/apply.ts';
import { parseQuantizeSettings } from '../../src/quantize/settings.ts';
import { quantizationTargets } from '../../src/quantize/targets.ts';
import type { Assignment } from '../../src/quantize/registry.ts';
import { optimizeModel } from '../../src/optimize/pass.ts';
import { FIXTURE_MODELS, fixture, hasFixtures } from '../helpers/paths.ts';
import { tinyBert } from '../helpers/models.ts';

/** mixed's plan with every layer at 32 bits: the projections outside the layers int8 per channel, the tables as set. */
function expectExact(model: Model, settings: Record<string, unknown>): void {
  const o = parseQuantizeSettings({ mode: 'int8', ...settings });
  const targets = quantizationTargets(findBert(model));
  const plan = new Map<string, Assignment>();
  for (const t of targets) {
    if (t.kind === 'embedding')
      plan.set(
        t.id,
        o.embeddings
          ? { format: 'integer', scheme: { kind: 'int8', granularity: o.perChannel ? { kind: 'channel' } : { kind: 'tensor' }, reduceRange: false } }
          : { format: 'float', reason: 'kept' },
      );
    else if (t.layer !== undefined) plan.set(t.id, { format: 'float', reason: 'kept at 32 bits' });
    else
      plan.set(t.id, {
        format: 'integer',
        scheme: { kind: 'int8', granularity: o.perChannel ? { kind: 'channel' } : { kind: 'tensor' }, reduceRange: o.reduceRange },
      });
  }
  const written = applyPlan(model, targets, plan, o);
  const planned = plannedBytes(model, targets, plan, o);
  expect(planned.bytes).toBe(modelSize(written.model).bytes);
  expect(planned.kept.map((k) => [k.target, k.reason])).toEqual(written.kept.map((k) => [k.target, k.reason]));
}

const SETTINGS = [{}, { embeddings: false }, { perChannel: false }, { reduceRange: true }];

describe('plannedBytes', () => {
  it.each([
    ['tiny BERT', tinyBert({ numLayers: 2 }, { seed: 3 })],
    ['tiny BERT, odd widths', tinyBert({ numLayers: 1, hiddenSize: 24, numHeads: 3, intermediateSize: 40 }, { seed: 5 })],
  ])('%s: as applyPlan writes', (_, model) => {
    for (const settings of SETTINGS) expectExact(model, settings);
  });

  it.each(['embed-layernorm', 'attention'])('a tiny BERT optimized with %s', (rewrite) => {
    const model = tinyBert({ numLayers: 2 }, { seed: 3 });
    const optimized = optimizeModel(model, findBert(model), { rewrites: new Set([rewrite]) } as never).model;
    for (const settings of SETTINGS) expectExact(optimized, settings);
  });

  describe.skipIf(!hasFixtures)('the exporter fixtures', () => {
    it.each(FIXTURE_MODELS.map((f) => [f.file]))('%s', (file) => {
      const model = loadModel(fixture(file));
      for (const settings of SETTINGS) expectExact(model, settings);
    });

    it('a Gemm whose beta the product op cannot take (its beta stored beside it)', () => {
      const model = cloneModel(loadModel(fixture('distilbert-seqcls-tiny-torch110-op11.onnx')));
      const gemms = model.graph.nodes.filter((n) => n.opType === 'Gemm' && n.inputs[2]);
      expect(gemms.length).toBeGreaterThan(0);
      for (const n of gemms) n.attributes.beta = attr.float(0.5);
      expectExact(model, {});
    });
  });
});
