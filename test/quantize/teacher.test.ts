/**
 * The trained SST-2 teacher (shared/teachers/sst2-L4H256): int8 per-channel with int8 embeddings takes at most 30%
 * of the fp32 bytes and keeps the logits close; per-tensor and 4-bit variants load and run too.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadModel, modelSize, type Model } from '../../src/onnx/index.ts';
import { findBert } from '../../src/bert/discover.ts';
import type { BertStructure } from '../../src/bert/structure.ts';
import type { Feeds } from '../../src/runtime/session.ts';
import { TEACHERS, hasTeachers } from '../helpers/paths.ts';
import { outputsOf, sampleFeeds } from '../helpers/run-model.ts';
import { expectWeightsReadBack, quantize, relativeDiff } from './helpers.ts';
import type { TensorRecord } from '../../src/quantize/index.ts';

describe.skipIf(!hasTeachers)('quantize the SST-2 teacher (needs ../shared/teachers)', () => {
  let model: Model;
  let s: BertStructure;
  let feeds: Feeds;
  let ref: Record<string, Float32Array>;
  beforeAll(async () => {
    model = loadModel(join(TEACHERS, 'sst2-L4H256', 'model.onnx'));
    s = findBert(model);
    feeds = sampleFeeds(model, s, 4, 32);
    ref = await outputsOf(model, feeds);
  });

  it('int8 per-channel with embeddings: at most 30% of the fp32 bytes, logits close', async () => {
    const { model: q, report } = await quantize(model, s, { mode: 'int8' });
    const ratio = modelSize(q).bytes / modelSize(model).bytes;
    expect(ratio).toBeLessThanOrEqual(0.3);
    const d = report.details as { ratio: number; keptFloat: unknown[]; otherFloat: { bytes: number } };
    expect(d.ratio).toBeCloseTo(ratio, 10);
    expect(d.keptFloat).toEqual([]);
    // what stays float (biases, LayerNorm, scales) is a small share of the output
    expect(d.otherFloat.bytes / modelSize(q).bytes).toBeLessThan(0.02);
    expect(relativeDiff(ref, await outputsOf(q, feeds))).toBeLessThan(0.03);
    expectWeightsReadBack(model, s, q, (report.details as { quantized: TensorRecord[] }).quantized);
  });

  it.each([
    // one scale per table is coarse: a step of max|table| / 127 ≈ 0.04 on this teacher's word table moves a logit
    // by up to ~0.1 (per row it is 0.003)
    [{ mode: 'int8', perChannel: false }, 0.2],
    [{ mode: 'int8-group:64' }, 0.03],
    [{ mode: 'int4-block:32' }, 0.15],
  ])('%j runs close to fp32', async (settings, tolerance) => {
    const { model: q } = await quantize(model, s, settings);
    expect(relativeDiff(ref, await outputsOf(q, feeds))).toBeLessThan(tolerance);
  });
});
