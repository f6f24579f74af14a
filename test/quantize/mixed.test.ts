/**
 * Q-BERT mixed precision (mode mixed:BUDGET): the greedy allocation on hand-made numbers, and the whole mode on a
 * built BERT with calibration data (per-layer sensitivities and bits in the report, the budget respected).
 */
import { describe, expect, it } from 'vitest';
import { modelSize } from '../../src/onnx/index.ts';
import { findBert } from '../../src/bert/discover.ts';
import { ModelLoadError, SettingsError } from '../../src/errors.ts';
import { allocateBits, type FloatRecord, type LayerCost } from '../../src/quantize/index.ts';
import { inspectModel } from '../../src/bert/inspect.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { runPipeline } from '../../src/pass/pipeline.ts';
import { tinyBert } from '../helpers/models.ts';
import { optimizeModel } from '../../src/optimize/pass.ts';
import { outputsOf, sampleFeeds } from '../helpers/run-model.ts';
import { overflowingModel, quantize, relativeDiff, syntheticCalibration } from './helpers.ts';

const cost = (layer: number): LayerCost => ({ layer, bytes: { 4: 10, 8: 20, 32: 80 } });

describe('mixed precision', () => {
  it('gives the most sensitive layers more bits, within the budget', () => {
    const costs = [0, 1, 2].map(cost);
    // fixed 100 + 3 × 10 = 130 at 4 bits everywhere.
    expect(allocateBits([0.1, 0.5, 0.2], costs, 100, 129)).toBeUndefined();
    expect(allocateBits([0.1, 0.5, 0.2], costs, 100, 130)).toEqual({ bits: [4, 4, 4], bytes: 130 });
    // 20 more bytes: layers 1 then 2 move to 8 bits.
    expect(allocateBits([0.1, 0.5, 0.2], costs, 100, 150)).toEqual({ bits: [4, 8, 8], bytes: 150 });
    // enough for all at 8 and one at 32: the most sensitive gets 32.
    expect(allocateBits([0.1, 0.5, 0.2], costs, 100, 220)).toEqual({ bits: [8, 32, 8], bytes: 220 });
    expect(allocateBits([0.1, 0.5, 0.2], costs, 100, 1e9)).toEqual({ bits: [32, 32, 32], bytes: 340 });
  });

  const model = tinyBert({ numLayers: 3 }, { std: 0.1, seed: 4 });
  const s = findBert(model);
  const calibration = syntheticCalibration(128, 2);

  it('needs calibration data', async () => {
    await expect(quantize(model, s, { mode: 'mixed:0.5' })).rejects.toThrow(/calibration/);
  });

  it('measures each layer at 4 bits and chooses bits under the budget', async () => {
    const fp32 = modelSize(model).bytes;
    const { model: q, report } = await quantize(model, s, { mode: 'mixed:0.32', mixedBlockSize: 16 }, calibration);
    const d = report.details as {
      layers: Array<{ layer: number; bits: number; sensitivity: number }>;
      budgetBytes: number;
      predictedBytes: number;
      bytesAfter: number;
    };
    expect(d.layers).toHaveLength(3);
    expect(d.layers.every((l) => [4, 8, 32].includes(l.bits) && Number.isFinite(l.sensitivity))).toBe(true);
    expect(d.budgetBytes).toBe(Math.floor(0.32 * fp32));
    expect(d.bytesAfter).toBe(d.predictedBytes);
    expect(d.bytesAfter).toBeLessThanOrEqual(d.budgetBytes);
    // the one-line summary says the budget (in bytes, as resolved) and the bits each layer got
    const mb = (b: number) => `${(b / 1e6).toFixed(b < 1e6 ? 3 : 1)} MB`;
    expect(report.summary).toContain(`mixed:0.32: ${mb(fp32)} → ${mb(d.bytesAfter)} (`);
    expect(report.summary).toContain(`) within a budget of ${mb(d.budgetBytes)}, layers at ${d.layers.map((l) => l.bits).join(', ')} bits, `);
    // more sensitive layers never get fewer bits than less sensitive ones
    for (const a of d.layers) for (const b of d.layers) if (a.sensitivity > b.sensitivity) expect(a.bits).toBeGreaterThanOrEqual(b.bits);
    const ops = new Set(q.graph.nodes.map((n) => n.opType));
    const bits = new Set(d.layers.map((l) => l.bits));
    expect(ops.has('MatMulNBits')).toBe(bits.has(4));
    const f = sampleFeeds(model, s);
    expect(relativeDiff(await outputsOf(model, f), await outputsOf(q, f))).toBeLessThan(0.3);
  });

  it('refuses in one line a float model whose calibration loss is NaN or Infinity, where every sensitivity was NaN and the bits chosen blindly', async () => {
    // layer 1's FFN input weights at ±3e38: their products overflow, the logits are NaN
    const overflowing = overflowingModel(model, s);
    const run = quantize(overflowing, s, { mode: 'mixed:0.32', mixedBlockSize: 16 }, calibration);
    await expect(run).rejects.toThrow(ModelLoadError);
    await expect(run).rejects.toThrow(
      /^quantize mixed:0\.32: the calibration loss of the float model is NaN \(it computes NaN or Infinity on the calibration examples\), which ranks no layer's sensitivity; fix or retrain the model before quantizing it$/,
    );
  });

  it('gives int8 to the projections of a 4-bit layer whose blocks would outweigh them, and counts them so', async () => {
    // hidden 32, FFN 64: blocks of 256 store 132 bytes a column, against 36 (or 68) in int8 and 128 (or 256) in float
    const fp32 = modelSize(model).bytes;
    const { model: q, report } = await quantize(model, s, { mode: 'mixed:0.32', mixedBlockSize: 256 }, calibration);
    const d = report.details as {
      layers: Array<{ bits: number; sensitivity: number }>;
      budgetBytes: number;
      predictedBytes: number;
      bytesAfter: number;
      keptFloat: FloatRecord[];
    };
    expect(d.budgetBytes).toBe(Math.floor(0.32 * fp32));
    expect(d.bytesAfter).toBe(d.predictedBytes);
    expect(d.bytesAfter).toBeLessThanOrEqual(d.budgetBytes);
    expect(d.layers.every((l) => Number.isFinite(l.sensitivity))).toBe(true);
    expect(d.keptFloat.filter((k) => /would store more bytes/.test(k.reason))).toEqual([]);
    expect(q.graph.nodes.some((n) => n.opType === 'MatMulNBits')).toBe(false);
  });

  it('predicts the bytes exactly on an onnxruntime-fused graph (packed Attention weights at 8 bits)', async () => {
    // a classifier whose attention is onnxruntime's fused Attention (--optimize attention); the fused fixture
    // (bert-toy-pretraining-ort-fused) is a pretraining model, which mixed refuses (test/pass/sequence-classifier.test.ts)
    const plain = tinyBert({ numLayers: 4 }, { std: 0.1, seed: 4 });
    const m = optimizeModel(plain, findBert(plain), { rewrites: new Set(['attention']) }).model;
    expect(m.graph.nodes.filter((n) => n.opType === 'Attention')).toHaveLength(4);
    const fs = findBert(m);
    const { model: q, report } = await quantize(m, fs, { mode: 'mixed:0.6', mixedBlockSize: 16 }, syntheticCalibration(fs.vocabSize, 2));
    const d = report.details as { layers: Array<{ bits: number }>; predictedBytes: number; bytesAfter: number; budgetBytes: number };
    expect(d.bytesAfter).toBe(d.predictedBytes);
    expect(d.bytesAfter).toBeLessThanOrEqual(d.budgetBytes);
    const int8Layers = d.layers.filter((l) => l.bits === 8).length;
    expect(int8Layers).toBeGreaterThan(0);
    expect(q.graph.nodes.filter((n) => n.opType === 'QAttention')).toHaveLength(int8Layers);
  });

  it('counts the packed Attention weights float where QAttention does not take them (attention: false): the budget holds', async () => {
    const plain = tinyBert({ numLayers: 3, hiddenSize: 64, numHeads: 2, intermediateSize: 128, vocabSize: 50 }, { std: 0.1, seed: 5 });
    const m = optimizeModel(plain, findBert(plain), { rewrites: new Set(['attention']) }).model;
    const fs = findBert(m);
    const cal = syntheticCalibration(fs.vocabSize, 2);
    const { model: q, report } = await quantize(m, fs, { mode: 'mixed:0.5', attention: false }, cal);
    const d = report.details as { predictedBytes: number; bytesAfter: number; budgetBytes: number };
    expect(d.bytesAfter).toBe(d.predictedBytes);
    expect(d.bytesAfter).toBeLessThanOrEqual(d.budgetBytes);
    expect(q.graph.nodes.filter((n) => n.opType === 'Attention')).toHaveLength(3);
    await expect(quantize(m, fs, { mode: 'mixed:0.3', attention: false }, cal)).rejects.toThrow(
      /below the smallest this model reaches \([\d,]+ bytes: every layer 4-bit, layer0\.attention\.qkv float: fused Attention quantization is off \(attention: false\), embeddings int8\)$/,
    );
  });

  it('refuses a budget below what 4 bits everywhere reach', async () => {
    await expect(quantize(model, s, { mode: 'mixed:0.05' }, calibration)).rejects.toThrow(SettingsError);
    // (a share of the float weights said as the share it is, whether typed as a fraction or a percentage, which the
    // mode's name writes as a fraction, 1.1% as 0.011, where it read 1.1 / 100 and wrote 0.011000000000000001; a size
    // as its bytes, 1000b named as 1kb)
    const fp32 = modelSize(model).bytes;
    await expect(quantize(model, s, { mode: 'mixed:1.1%' }, calibration)).rejects.toThrow(
      new RegExp(
        `^quantize mixed:0\\.011: the budget, 1\\.1% of the float weights' ${fp32.toLocaleString('en-US')} bytes \\(${Math.floor(0.011 * fp32).toLocaleString('en-US')} bytes\\), is below the smallest this model reaches \\([\\d,]+ bytes: every layer 4-bit, embeddings int8\\)$`,
      ),
    );
    await expect(quantize(model, s, { mode: 'mixed:1000b' }, calibration)).rejects.toThrow(
      /^quantize mixed:1kb: the budget of 1,000 bytes is below the smallest this model reaches \([\d,]+ bytes: every layer 4-bit, embeddings int8\)$/,
    );
    await expect(quantize(model, s, { mode: 'mixed:1kb' }, calibration)).rejects.toThrow(
      /below the smallest this model reaches \([\d,]+ bytes: every layer 4-bit, embeddings int8\)$/,
    );
  });

  it('after --optimize all, says the tables inside EmbedLayerNormalization stay float (not "embeddings int8")', async () => {
    const m = optimizeModel(model, s, { rewrites: new Set(['embed-layernorm']) }).model;
    expect(m.graph.nodes.filter((n) => n.opType === 'EmbedLayerNormalization')).toHaveLength(1);
    await expect(quantize(m, findBert(m), { mode: 'mixed:1kb' }, calibration)).rejects.toThrow(
      /below the smallest this model reaches \([\d,]+ bytes: every layer 4-bit, embeddings float: the table is read by com\.microsoft EmbedLayerNormalization '[^']+', which takes float tables \(quantize before --optimize to store it int8\)\)$/,
    );
  });
});

describe('mixed precision and models that are not plain float', () => {
  const model = tinyBert({ numLayers: 4 }, { std: 0.1, seed: 4 });
  const calibration = syntheticCalibration(128, 2);

  it('layers that share their weights get one precision, counted once: sharing survives and the budget holds', async () => {
    registerAllPasses();
    for (const share of ['all', 'groups:2']) {
      const shared = (await runPipeline(model, [{ pass: 'share-layers', settings: { share } }])).model;
      const s = findBert(shared);
      const before = modelSize(shared);
      for (const budget of [0.3, 0.45, 0.7]) {
        const { model: q, report } = await quantize(shared, s, { mode: `mixed:${budget}`, mixedBlockSize: 16 }, calibration);
        const d = report.details as { layers: Array<{ layer: number; bits: number }>; budgetBytes: number; predictedBytes: number };
        const groups = inspectModel(q, 'q').layerGroups;
        // one precision per group of layers that share, and every weight stored once
        expect(groups, `${share} ${budget}`).toEqual(inspectModel(shared, 's').layerGroups);
        for (const [l, g] of groups.entries()) expect(d.layers[l].bits).toBe(d.layers[groups.indexOf(g)].bits);
        expect(modelSize(q).params).toBe(before.params);
        expect(modelSize(q).bytes).toBeLessThanOrEqual(d.budgetBytes);
        expect(Math.abs(modelSize(q).bytes - d.predictedBytes)).toBeLessThan(0.02 * d.predictedBytes);
      }
    }
  });

  it('refuses a model with quantized weights in one line; int8-static calibrates the float rest of a partly quantized one', async () => {
    const s = findBert(model);
    const partly = (await quantize(model, s, { mode: 'int8', embeddings: false })).model;
    const ps = findBert(partly);
    await expect(quantize(partly, ps, { mode: 'mixed:0.5' }, calibration)).rejects.toThrow(
      /^quantize mixed:0\.5: \d+ weights are quantized already \([^)]+\); mixed precision chooses the bits of every layer of a float model: quantize the float model instead$/,
    );
    const { model: q, report } = await quantize(partly, ps, { mode: 'int8-static' }, calibration);
    const kept = (report.details as { keptFloat: FloatRecord[] }).keptFloat;
    expect(kept.filter((k) => !k.reason.startsWith('already quantized')).map((k) => k.target)).toEqual([]);
    expect(report.summary).toMatch(/already quantized/);
    expect(modelSize(q).bytes).toBeLessThan(modelSize(partly).bytes); // the float tables are int8 now
    const feeds = sampleFeeds(model, s, 2, 7);
    expect(relativeDiff(await outputsOf(model, feeds), await outputsOf(q, feeds))).toBeLessThan(0.1);
  });
});
