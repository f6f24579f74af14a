/**
 * Discovery of quantized graphs: every form the quantize pass writes (dynamic int8 as DynamicQuantizeMatMul or
 * MatMulInteger, group-wise int8, QDQ static int8 per channel or per tensor, MatMulNBits 4-bit, QAttention, int8
 * embedding tables, mixed precision) and MatMulIntegerToFloat (what onnxruntime fuses MatMulInteger into) is read as
 * the same encoder: same layers, heads, widths and vocabulary, each quantized projection or table a Linear /
 * EmbeddingTable with its Quantization (the stored integer weight, its scales). Passes that slice weights refuse a
 * quantized model clearly; drop-layers still works.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { findBert } from '../../src/bert/discover.ts';
import { structureProblems } from '../../src/bert/discover/structure-check.ts';
import { summarize } from '../../src/bert/summary.ts';
import type { BertStructure, QuantizationKind } from '../../src/bert/structure.ts';
import { DataType } from '../../src/onnx/dtype.ts';
import { cloneModel, loadModel, modelSize, removeDeadNodes, type Model } from '../../src/onnx/index.ts';
import { quantizationTargets, type FloatRecord, type TensorRecord } from '../../src/quantize/index.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { runPipeline } from '../../src/pass/pipeline.ts';
import { getPass } from '../../src/pass/registry.ts';
import { SettingsError } from '../../src/errors.ts';
import { tinyBert } from '../helpers/models.ts';
import { maxDiff, outputsOf, sampleFeeds } from '../helpers/run-model.ts';
import { FIXTURE_MODELS, TEACHERS, fixture, hasFixtures, hasTeachers } from '../helpers/paths.ts';
import { quantize, relativeDiff, syntheticCalibration } from '../quantize/helpers.ts';

registerAllPasses();

/** The Quantization kind discovery must report for a record of the quantize pass (by the op it wrote). */
const KIND_OF_OP: Record<string, QuantizationKind[]> = {
  DynamicQuantizeMatMul: ['dynamic-int8'],
  MatMulIntegerToFloat: ['matmul-integer-to-float'],
  MatMulInteger: ['matmul-integer'],
  MatMulNBits: ['matmul-nbits'],
  MatMul: ['qdq'],
  Gemm: ['qdq'],
  QAttention: ['qattention'],
  Gather: ['gather-scale', 'gather-dequantize'],
};

const MODES: ReadonlyArray<{ settings: Record<string, unknown>; calibrate?: boolean }> = [
  { settings: { mode: 'int8' } },
  { settings: { mode: 'int8', format: 'standard' } },
  { settings: { mode: 'int8-group:8' } },
  { settings: { mode: 'int4-block:16' } },
  { settings: { mode: 'int4-block:32', symmetric: false } },
  { settings: { mode: 'int8-static' }, calibrate: true },
  { settings: { mode: 'int8-static', perChannel: false }, calibrate: true },
  { settings: { mode: 'mixed:0.45', mixedBlockSize: 16 }, calibrate: true },
];

/** The shape of an encoder, what quantizing must not change. */
function shape(s: BertStructure) {
  return {
    family: s.family,
    numLayers: s.numLayers,
    numHeads: s.numHeads,
    headSize: s.headSize,
    hiddenSize: s.hiddenSize,
    intermediateSize: s.intermediateSize,
    vocabSize: s.vocabSize,
    maxPositions: s.maxPositions,
    typeVocabSize: s.typeVocabSize,
    inputs: s.inputs,
    head: s.head && { kind: s.head.kind, numLabels: s.head.numLabels, outputs: s.head.outputs },
    pooler: s.pooler !== undefined,
    layers: s.layers.map((l) => [l.attention?.kind, l.attention?.numHeads, l.ffn.intermediateSize, l.ffn.activation]),
  };
}

/**
 * `q` (quantized from a model with structure `s`) is discovered with the same shape; every target the report
 * quantized carries the matching Quantization and names an integer initializer; targets kept float carry none.
 */
function expectDiscovered(q: Model, s: BertStructure, records: TensorRecord[], kept: FloatRecord[]): BertStructure {
  const t = findBert(q);
  expect(shape(t)).toEqual(shape(s));
  expect(structureProblems(q, t)).toEqual([]);
  const sum = summarize(q, t);
  expect({ params: sum.params, bytes: sum.bytes }).toEqual(modelSize(q));
  const before = new Map(quantizationTargets(s).map((x) => [x.id, x]));
  for (const target of quantizationTargets(t)) {
    const rec = records.find((r) => r.target === target.id);
    const q8n =
      target.kind === 'linear'
        ? target.linear.quantization
        : target.kind === 'embedding'
          ? target.table.quantization
          : t.layers[target.layer].attention?.fused?.quantization;
    const weight = target.kind === 'linear' ? target.linear.weight : target.kind === 'embedding' ? target.table.weight : target.weight;
    const init = q.graph.initializers.get(weight)!;
    if (!rec) {
      expect(
        kept.some((k) => k.target === target.id),
        `${target.id} is quantized or kept`,
      ).toBe(true);
      expect(q8n, `${target.id} kept float`).toBeUndefined();
      continue;
    }
    expect(q8n, `${target.id} (${rec.op})`).toBeDefined();
    expect(KIND_OF_OP[rec.op], `${target.id}: ${q8n!.kind} for ${rec.op}`).toContain(q8n!.kind);
    expect([DataType.INT8, DataType.UINT8], `${target.id} stores an integer weight`).toContain(init.dataType);
    expect(q.graph.initializers.has(q8n!.scale ?? ''), `${target.id} scale`).toBe(true);
    expect(q8n!.bits).toBe(rec.op === 'MatMulNBits' ? 4 : 8);
    const was = before.get(target.id)!;
    if (target.kind === 'linear' && was.kind === 'linear') {
      expect([target.linear.inFeatures, target.linear.outFeatures], target.id).toEqual([was.linear.inFeatures, was.linear.outFeatures]);
    }
    if (target.kind === 'embedding' && was.kind === 'embedding') expect(target.table.rows).toBe(was.table.rows);
  }
  return t;
}

async function quantizeAndDiscover(model: Model, s: BertStructure, mode: (typeof MODES)[number], vocab = s.vocabSize, seq?: number) {
  const calibration = mode.calibrate ? syntheticCalibration(vocab, s.head?.numLabels ?? 2, 2, 11, seq) : undefined;
  const { model: q, report } = await quantize(model, s, mode.settings, calibration);
  const d = report.details as { quantized: TensorRecord[]; keptFloat: FloatRecord[] };
  expect(d.quantized.length).toBeGreaterThan(0);
  return { q, t: expectDiscovered(q, s, d.quantized, d.keptFloat), d };
}

describe('findBert on quantized built BERTs', () => {
  const model = tinyBert({ numLayers: 2 }, { std: 0.1, seed: 5 });
  const s = findBert(model);
  for (const mode of MODES) {
    it(`${JSON.stringify(mode.settings)}: same encoder, every quantized projection and table recognised`, async () => {
      const { t } = await quantizeAndDiscover(model, s, mode);
      if (mode.settings.mode !== 'mixed:0.45') {
        for (const l of t.layers)
          for (const lin of [l.attention!.q!, l.attention!.output, l.ffn.in, l.ffn.out]) expect(lin.quantization, lin.node).toBeDefined();
        expect(t.embeddings.word.quantization).toBeDefined();
      }
    });
  }

  it('the MatMulInteger form keeps its nodes: DynamicQuantizeLinear, Cast, rescaling Muls', async () => {
    const { q, t } = await quantizeAndDiscover(model, s, { settings: { mode: 'int8', format: 'standard' } });
    const qz = t.layers[0].attention!.q!.quantization!;
    const ops = qz.nodes.map((n) => q.graph.nodes.find((x) => x.name === n)!.opType);
    expect(ops).toEqual(['DynamicQuantizeLinear', 'Cast', 'Mul', 'Mul']);
    expect(q.graph.nodes.find((n) => n.name === t.layers[0].attention!.q!.node)!.opType).toBe('MatMulInteger');
    // Q, K and V share one DynamicQuantizeLinear of the layer input.
    expect(t.layers[0].attention!.k!.quantization!.nodes[0]).toBe(qz.nodes[0]);
    expect(t.layers[0].attention!.q!.bias).toBe(s.layers[0].attention!.q!.bias);
  });

  it("MatMulIntegerToFloat (onnxruntime's fusion of the MatMulInteger form) is read the same way", async () => {
    const { model: q } = await quantize(model, s, { mode: 'int8', format: 'standard' });
    const fused = toMatMulIntegerToFloat(q);
    expect(fused.graph.nodes.some((n) => n.opType === 'MatMulInteger')).toBe(false);
    const t = findBert(fused);
    expect(shape(t)).toEqual(shape(s));
    expect(t.layers.every((l) => l.ffn.in.quantization?.kind === 'matmul-integer-to-float')).toBe(true);
    expect(structureProblems(fused, t)).toEqual([]);
    const feeds = sampleFeeds(model, s);
    expect(maxDiff(await outputsOf(q, feeds), await outputsOf(fused, feeds))).toBeLessThan(1e-4);
  });
});

/** Rewrites every MatMulInteger → Cast → Mul(·, Mul(x_scale, w_scale)) chain as one com.microsoft MatMulIntegerToFloat. */
function toMatMulIntegerToFloat(m: Model): Model {
  const out = cloneModel(m);
  const g = out.graph;
  const readerOf = (v: string) => g.nodes.find((n) => n.inputs.includes(v))!;
  const producerOf = (v: string) => g.nodes.find((n) => n.outputs.includes(v))!;
  for (const mmi of g.nodes.filter((n) => n.opType === 'MatMulInteger')) {
    const cast = readerOf(mmi.outputs[0]);
    const mul = readerOf(cast.outputs[0]);
    const scaleMul = producerOf(mul.inputs.find((v) => v !== cast.outputs[0])!);
    const dql = producerOf(mmi.inputs[0]);
    const wScale = scaleMul.inputs.find((v) => g.initializers.has(v))!;
    const node = {
      name: `${mmi.name}_to_float`,
      opType: 'MatMulIntegerToFloat',
      domain: 'com.microsoft',
      inputs: [mmi.inputs[0], mmi.inputs[1], dql.outputs[1], wScale, dql.outputs[2]],
      outputs: [mul.outputs[0]],
      attributes: {},
    };
    g.nodes.splice(g.nodes.indexOf(mul), 1, node);
  }
  removeDeadNodes(g);
  if (!out.opsetImports.some((o) => o.domain === 'com.microsoft')) out.opsetImports.push({ domain: 'com.microsoft', version: 1 });
  return out;
}

describe.skipIf(!hasTeachers)('findBert on the quantized SST-2 teacher (needs ../shared/teachers)', () => {
  const model = loadModel(join(TEACHERS, 'sst2-L4H256/model.onnx'));
  const s = findBert(model);
  for (const mode of MODES) {
    it(`${JSON.stringify(mode.settings)}: same encoder`, async () => {
      await quantizeAndDiscover(model, s, mode);
    });
  }
});

describe.skipIf(!hasFixtures)('findBert on the quantized exporter fixtures (needs ../shared/fixtures/onnx)', () => {
  for (const f of FIXTURE_MODELS) {
    it(`${f.file}: int8, int4-block:16 and int8-static`, async () => {
      const model = loadModel(fixture(f.file));
      const s = findBert(model);
      for (const mode of [MODES[0], MODES[3], MODES[5]]) await quantizeAndDiscover(model, s, mode, f.vocab, f.seq);
    });
  }

  it('ORT-fused int8: QAttention is a fused attention block with a quantized packed weight, reading the same mask', async () => {
    const model = loadModel(fixture('bert-toy-pretraining-ort-fused.onnx'));
    const s = findBert(model);
    const { q, t } = await quantizeAndDiscover(model, s, MODES[0], 99);
    for (const l of t.layers) {
      const a = l.attention!;
      expect(a.kind).toBe('fused');
      expect(q.graph.nodes.find((n) => n.name === a.fused!.node)!.opType).toBe('QAttention');
      expect(a.fused!.quantization).toMatchObject({ kind: 'qattention', bits: 8 });
      expect(q.graph.initializers.get(a.fused!.weight)!.dataType).toBe(DataType.INT8);
      expect(l.input).toBe(s.layers[l.index].input);
    }
    expect(t.inputs).toEqual(s.inputs);
  });
});

describe('passes after quantization', () => {
  const model = tinyBert({ numLayers: 3 }, { std: 0.1, seed: 6 });
  const s = findBert(model);
  const quantized = (settings: Record<string, unknown>) => quantize(model, s, settings).then((r) => r.model);
  const run = (m: Model, pass: string, settings: Record<string, unknown>) => getPass(pass).run(m, findBert(m), getPass(pass).parse(settings), {});

  it('prune-ffn, factorize-embeddings and share-layers refuse clearly (do them before quantizing)', async () => {
    for (const mode of ['int8', 'int4-block:16']) {
      const q = await quantized({ mode });
      await expect(run(q, 'prune-ffn', { ratio: 0.25 })).rejects.toThrow(SettingsError);
      await expect(run(q, 'prune-ffn', { ratio: 0.25 })).rejects.toThrow(
        /prune-ffn: layer 0's feed-forward weights are quantized .*prune FFN neurons before quantizing/,
      );
      await expect(run(q, 'prune-heads', { ratio: 0.25 })).rejects.toThrow(/prune heads before quantizing/);
      await expect(run(q, 'factorize-embeddings', { rank: 8 })).rejects.toThrow(/factorize before quantizing/);
      await expect(run(q, 'share-layers', { share: 'all' })).rejects.toThrow(/share layers before quantizing/);
    }
  });

  it('drop-layers works on a quantized model, and its output is discovered', async () => {
    const q = await quantized({ mode: 'int8', format: 'standard' });
    const res = await runPipeline(q, [{ pass: 'drop-layers', settings: { layers: '1' } }]);
    expect(res.structure.numLayers).toBe(2);
    expect(res.structure.layers.every((l) => l.ffn.in.quantization?.kind === 'matmul-integer')).toBe(true);
    const feeds = sampleFeeds(res.model, res.structure);
    const dropped = await runPipeline(model, [{ pass: 'drop-layers', settings: { layers: '1' } }]);
    expect(relativeDiff(await outputsOf(dropped.model, feeds), await outputsOf(res.model, feeds))).toBeLessThan(0.1);
  });

  it('quantizing after pruning heads (not all of a layer) rediscovers the pruned heads', async () => {
    const res = await runPipeline(model, [
      { pass: 'prune-heads', settings: { heads: '0:1,2;2:3' } },
      { pass: 'quantize', settings: { mode: 'int8' } },
    ]);
    expect(res.structure.layers.map((l) => l.attention?.numHeads)).toEqual([2, 4, 3]);
    expect(res.structure.layers[0].attention!.q!.quantization?.kind).toBe('matmul-integer-to-float');
  });
});
