/**
 * Every shared exporter fixture discovery understands (torch, keras2onnx, onnxruntime-fused; BERT, DistilBERT,
 * XLM-R; opsets 10 to 14): int8 and int4 outputs load and run in onnxruntime close to the original, projections
 * reached through a Transpose or Gemm transB and tied embeddings included; what stays float is reported.
 */
import { describe, expect, it } from 'vitest';
import { loadModel, type Model } from '../../src/onnx/index.ts';
import { DataType } from '../../src/onnx/dtype.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { runPipeline } from '../../src/pass/pipeline.ts';
import { modelSize } from '../../src/onnx/size.ts';
import { findBert } from '../../src/bert/discover.ts';
import type { FloatRecord } from '../../src/quantize/index.ts';
import { FIXTURE_MODELS, fixture, hasFixtures } from '../helpers/paths.ts';
import { tinyBert } from '../helpers/models.ts';
import { outputsOf, sampleFeeds } from '../helpers/run-model.ts';
import { expectWeightsReadBack, quantize, relativeDiff, syntheticCalibration } from './helpers.ts';
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

describe.skipIf(!hasFixtures)('a word table tied to an MLM decoder (needs ../shared/fixtures/onnx)', () => {
  it.each([
    [{ mode: 'int8' }],
    [{ mode: 'int8', perChannel: false }],
    [{ mode: 'int8', format: 'standard' }],
    [{ mode: 'int8-static' }],
    [{ mode: 'int8-static', perChannel: false }],
  ])('is stored int8 once and read transposed by the decoder (%o)', async (settings) => {
    const model = loadModel(fixture('bert-toy-pretraining-torch11-op12.onnx'));
    const s = findBert(model);
    const table = s.embeddings.word.weight;
    const decoder = model.graph.nodes.find((n) => n.opType === 'Transpose' && n.inputs[0] === table);
    expect(decoder, 'the fixture ties its decoder to the word table').toBeDefined();
    // 6 batches: the ranges count real tokens only, and 3 batches of this fixture's short rows leave too few
    const calibration = settings.mode === 'int8-static' ? syntheticCalibration(99, 2, 6, 11, 7) : undefined;
    const { model: q, report } = await quantize(model, s, settings, calibration);
    const d = report.details as { quantized: TensorRecord[] };
    const int8Tables = [...q.graph.initializers.values()].filter((t) => t.dims.length === 2 && t.dims[0] * t.dims[1] === 99 * 32);
    expect(int8Tables.map((t) => t.dims)).toEqual([[99, 32]]);
    const stored = int8Tables[0]!.name;
    const transposed = q.graph.nodes.find((n) => n.opType === 'Transpose' && n.inputs[0] === stored);
    expect(transposed).toBeDefined();
    // read by the product, directly (dynamic) or through its DequantizeLinear (QDQ)
    const readers = (v: string) => q.graph.nodes.filter((n) => n.inputs.includes(v));
    const product = readers(transposed!.outputs[0]).flatMap((n) => (n.opType === 'DequantizeLinear' ? readers(n.outputs[0]) : [n]));
    expect(product.some((n) => /MatMul/.test(n.opType))).toBe(true);
    expect(modelSize(q).params).toBe(modelSize(model).params);
    expectWeightsReadBack(model, s, q, d.quantized);
    const feeds = sampleFeeds(model, s, 2, 7);
    const ref = await outputsOf(model, feeds);
    expect(relativeDiff(ref, await outputsOf(q, feeds))).toBeLessThan(0.05);
    // with onnxruntime's optimizations too (as eval runs it: int8-static's Q/DQ pairs fused into int8 products)
    expect(relativeDiff(ref, await outputsOf(q, feeds, 'all'))).toBeLessThan(0.05);
  });
});

describe.skipIf(!hasFixtures)('a word table tied to an MLM decoder, not stored twice (needs ../shared/fixtures/onnx)', () => {
  const tableSize = 99 * 32;
  const tables = (m: Model) => [...m.graph.initializers.values()].filter((t) => t.dims.length === 2 && t.dims[0] * t.dims[1] === tableSize);

  it.each([
    [{ mode: 'int8', embeddings: false }, false],
    [{ mode: 'int8-static', embeddings: false }, false],
    [{ mode: 'int4-block:32' }, true],
    // (blocks of 256 on its input width 32 would store more bytes than float, but the tied decoder stores none of its
    // own: it reads the int8 table, as with blocks of 32, where 035967b5 kept it float reading the table dequantized)
    [{ mode: 'int4-block:256' }, true],
  ] as const)('%o: one table (int8: %s), read by the Gather and the decoder', async (settings, int8) => {
    const model = loadModel(fixture('bert-toy-pretraining-torch11-op12.onnx'));
    const s = findBert(model);
    const calibration = settings.mode === 'int8-static' ? syntheticCalibration(99, 2, 3, 11, 7) : undefined;
    const { model: q, report } = await quantize(model, s, settings, calibration);
    const d = report.details as { quantized: TensorRecord[]; keptFloat: FloatRecord[]; notes: string[] };
    expect(tables(q).map((t) => t.dataType)).toEqual([int8 ? DataType.INT8 : DataType.FLOAT]);
    expect(modelSize(q).params).toBe(modelSize(model).params);
    const decoder = s.head!.linears.findIndex((l) => l.weight === s.embeddings.word.weight);
    if (int8) expect(d.notes.join('\n')).toMatch(new RegExp(`head\\.${decoder}: reads embeddings\\.word \\(tied\\), stored int8 per row`));
    else
      expect(d.keptFloat).toContainEqual(
        expect.objectContaining({
          target: `head.${decoder}`,
          reason: 'tied to embeddings.word, which stays float: a quantized copy would store the table twice',
        }),
      );
    const feeds = sampleFeeds(model, s, 2, 7);
    expect(relativeDiff(await outputsOf(model, feeds), await outputsOf(q, feeds))).toBeLessThan(0.1);
  });

  it.each([[{ mode: 'int8' }], [{ mode: 'int8', perChannel: false }], [{ mode: 'int8-static' }], [{ mode: 'int4-block:32' }]])(
    'after factorize-embeddings (%o): the narrow table is stored int8 once, the tied decoder reads its product dequantized',
    async (settings) => {
      registerAllPasses();
      const model = (await runPipeline(loadModel(fixture('bert-toy-pretraining-torch11-op12.onnx')), [{ pass: 'factorize-embeddings', settings: { rank: 8 } }]))
        .model;
      const s = findBert(model);
      const narrow = s.embeddings.word.weight;
      expect(
        model.graph.nodes.some((n) => n.opType === 'MatMul' && n.inputs[0] === narrow),
        'the tied decoder reads MatMul(A, B)',
      ).toBe(true);
      const calibration = settings.mode === 'int8-static' ? syntheticCalibration(99, 2, 6, 11, 7) : undefined;
      const { model: q, report } = await quantize(model, s, settings, calibration);
      const d = report.details as { notes: string[] };
      // one copy of A [99, 8], int8: none left float beside it for the decoder's product
      const copies = [...q.graph.initializers.values()].filter((t) => t.dims.join(',') === '99,8');
      expect(copies.map((t) => t.dataType)).toEqual([DataType.INT8]);
      expect(modelSize(q).params).toBe(modelSize(model).params);
      expect(d.notes.join('\n')).toMatch(/embeddings\.word: .* reads? the whole table too .* dequantized, so the file stores it once/);
      const feeds = sampleFeeds(model, s, 2, 7);
      // int4: the tolerance of the 4-bit projections, as for every fixture above
      expect(relativeDiff(await outputsOf(model, feeds), await outputsOf(q, feeds))).toBeLessThan(settings.mode.startsWith('int4') ? 0.3 : 0.1);
    },
  );

  it('after --optimize all (the table read by EmbedLayerNormalization, float): the decoder stays float too', async () => {
    registerAllPasses();
    const model = (await runPipeline(loadModel(fixture('bert-toy-pretraining-torch11-op12.onnx')), [{ pass: 'optimize', settings: { rewrites: 'all' } }]))
      .model;
    const s = findBert(model);
    const { model: q } = await quantize(model, s, { mode: 'int8' });
    expect(tables(q)).toHaveLength(1);
    expect(modelSize(q).params).toBe(modelSize(model).params);
    expect(modelSize(q).bytes).toBeLessThan(modelSize(model).bytes);
  });
});

describe('an already quantized model', () => {
  it('is refused in one line when every weight is quantized, and its quantized weights are counted apart otherwise', async () => {
    const model = tinyBert();
    const s = findBert(model);
    const { model: once } = await quantize(model, s, { mode: 'int8', embeddings: false });
    const s1 = findBert(once);
    // the embedding tables are still float: only they are quantized now, the projections are named as already quantized
    const { report } = await quantize(once, s1, { mode: 'int8' });
    const d = report.details as { quantized: TensorRecord[]; keptFloat: FloatRecord[] };
    expect(d.quantized.map((r) => r.op)).toEqual(['Gather', 'Gather', 'Gather']);
    const already = d.keptFloat.filter((k) => k.reason.startsWith('already quantized'));
    expect(already.length).toBeGreaterThan(0);
    expect(report.summary).toContain(`${already.length} already quantized`);
    const { model: twice } = await quantize(once, s1, { mode: 'int8' });
    await expect(quantize(twice, findBert(twice), { mode: 'int4-block:16' })).rejects.toThrow(
      /^quantize int4-block:16: every weight is already quantized \(8 bits, .+\): quantize the float model instead$/,
    );
  });

  it('is refused as well when every weight but tables that no Gather reads (which quantize leaves float) is quantized', async () => {
    // --optimize all: the tables are read by EmbedLayerNormalization; int8 quantizes everything else
    registerAllPasses();
    const model = (await runPipeline(tinyBert(), [{ pass: 'optimize', settings: { rewrites: 'all' } }])).model;
    const { model: once } = await quantize(model, findBert(model), { mode: 'int8' });
    await expect(quantize(once, findBert(once), { mode: 'int8' })).rejects.toThrow(
      /^quantize int8: every weight is already quantized \(int8\), but for embeddings\.word, embeddings\.position, embeddings\.token_type, which quantize leaves float \(the table is read by com\.microsoft EmbedLayerNormalization '.+', which takes float tables \(quantize before --optimize to store it int8\)\): quantize the float model instead$/,
    );
  });

  it.skipIf(!hasFixtures)('is refused so on the position table keras2onnx folded (needs ../shared/fixtures/onnx)', async () => {
    const model = loadModel(fixture('bert-seqcls-mrpc-tiny-keras2onnx-op10.onnx'));
    const { model: once } = await quantize(model, findBert(model), { mode: 'int8' });
    await expect(quantize(once, findBert(once), { mode: 'int4-block:16' })).rejects.toThrow(
      /^quantize int4-block:16: every weight is already quantized \(8 bits, dynamic-int8\), but for embeddings\.position, which quantize leaves float \(no Gather reads the table \(folded or fused by the exporter\)\): quantize the float model instead$/,
    );
  });
});
