import { describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import type { BertStructure } from '../../src/bert/structure.ts';
import { SettingsError } from '../../src/errors.ts';
import { cloneModel, float32Tensor, loadModel, modelSize, readFloat32, type Model } from '../../src/onnx/index.ts';
import { factorizeEmbeddingsPass, type FactorizeEmbeddingsDetails } from '../../src/factorize/index.ts';
import { tinyBert } from '../helpers/models.ts';
import { lcg } from '../helpers/feeds.ts';
import { FIXTURE_MODELS, TEACHERS, fixture, hasFixtures, hasTeachers } from '../helpers/paths.ts';
import { relativeDiff, runModel } from '../helpers/run-model.ts';

const pass = factorizeEmbeddingsPass;

async function factorize(model: Model, rank: number, s: BertStructure = findBert(model)) {
  const r = await pass.run(model, s, pass.parse({ rank }), {});
  return { ...r, details: r.report.details as unknown as FactorizeEmbeddingsDetails };
}

/** The model with its word embedding replaced by a random rank-`r` matrix of about the same scale. */
function withLowRankEmbedding(model: Model, s: BertStructure, r: number): Model {
  const m = cloneModel(model);
  const t = m.graph.initializers.get(s.embeddings.word.weight)!;
  const [rows, cols] = t.dims;
  const rand = lcg(42);
  const x = Float64Array.from({ length: rows * r }, () => rand() - 0.5);
  const y = Float64Array.from({ length: r * cols }, () => rand() - 0.5);
  const w = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      let acc = 0;
      for (let k = 0; k < r; k++) acc += x[i * r + k] * y[k * cols + j];
      w[i * cols + j] = 0.1 * acc;
    }
  }
  m.graph.initializers.set(t.name, float32Tensor(t.name, t.dims, w));
  return m;
}

/** ‖W − A·B‖_F / ‖W‖_F from the initializers of the factorized model. */
function measuredError(before: Model, after: Model, weight: string, a: string, b: string): number {
  const w = readFloat32(before.graph.initializers.get(weight)!);
  const at = after.graph.initializers.get(a)!;
  const av = readFloat32(at);
  const bv = readFloat32(after.graph.initializers.get(b)!);
  const [rows, rank] = at.dims;
  const cols = w.length / rows;
  let num = 0,
    den = 0;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      let s = 0;
      for (let k = 0; k < rank; k++) s += av[i * rank + k] * bv[k * cols + j];
      num += (w[i * cols + j] - s) ** 2;
      den += w[i * cols + j] ** 2;
    }
  }
  return Math.sqrt(num / den);
}

/** Discovery on a factorized graph finds the narrow table A, its projection B, and everything else as before. */
function expectDiscoveryOnFactorized(before: BertStructure, out: Model): void {
  const s = findBert(out);
  const word = s.embeddings.word;
  expect(word.weight).toBe(`${before.embeddings.word.weight}_factor_a`);
  expect(word.gather).toBe(before.embeddings.word.gather);
  expect(word.rows).toBe(before.vocabSize);
  expect(word.projection?.weight).toBe(`${before.embeddings.word.weight}_factor_b`);
  expect(word.projection?.outFeatures).toBe(before.hiddenSize);
  expect(s.hiddenSize).toBe(before.hiddenSize);
  expect(s.vocabSize).toBe(before.vocabSize);
  expect(s.numLayers).toBe(before.numLayers);
  expect(s.inputs).toEqual(before.inputs);
}

describe('factorize-embeddings settings', () => {
  it('parses a positive integer rank', () => {
    expect(pass.parse({ rank: 16 })).toEqual({ rank: 16 });
    expect(pass.parse({ rank: '8' })).toEqual({ rank: 8 });
  });

  it('refuses rank <= 0, fractions, text and a missing rank', () => {
    for (const rank of [0, -3, 2.5, 'abc', undefined, null]) expect(() => pass.parse({ rank })).toThrow(SettingsError);
  });

  it('refuses rank at or above hidden when run', async () => {
    const m = tinyBert();
    const s = findBert(m);
    for (const rank of [32, 40]) await expect(pass.run(m, s, { rank }, {})).rejects.toThrow(/rank \d+ is at or above hidden 32/);
    await expect(pass.run(m, s, { rank: 32 }, {})).rejects.toBeInstanceOf(SettingsError);
  });

  it('refuses a rank that would make the embedding larger (V·r + r·H ≥ V·H), and takes the largest that does not', async () => {
    const m = tinyBert(); // vocab 128 × hidden 32: the factors are smaller only while r · 160 < 4096, r ≤ 25
    const s = findBert(m);
    for (const rank of [26, 31])
      await expect(pass.run(m, s, { rank }, {})).rejects.toThrow(/rank \d+ would make the embedding larger .*at most 25 for this table/);
    const { model } = await factorize(m, 25);
    expect(modelSize(model).bytes).toBeLessThan(modelSize(m).bytes);
  });

  it('refuses to factorize an already factorized table', async () => {
    const { model: once } = await factorize(tinyBert(), 16);
    await expect(pass.run(once, findBert(once), { rank: 8 }, {})).rejects.toThrow(/already factorized .*rank 16/);
  });

  it('refuses embeddings fused into EmbedLayerNormalization', async () => {
    const m = tinyBert();
    const s = findBert(m);
    const fused: BertStructure = {
      ...s,
      embeddings: { ...s.embeddings, word: { weight: s.embeddings.word.weight, rows: s.embeddings.word.rows }, fusedNode: 'EmbedLayerNorm_0' },
    };
    await expect(pass.run(m, fused, { rank: 8 }, {})).rejects.toThrow(/fused EmbedLayerNormalization node 'EmbedLayerNorm_0'/);
  });
});

describe('factorize-embeddings on a built BERT', () => {
  it('rank = numerical rank reconstructs W within 1e-4 and leaves the logits unchanged', async () => {
    const m = withLowRankEmbedding(tinyBert(), findBert(tinyBert()), 6);
    const { model: out, details } = await factorize(m, 6);
    expect(details.numericalRank).toBe(6);
    expect(details.relativeError).toBeLessThan(1e-4);
    const word = findBert(m).embeddings.word.weight;
    expect(measuredError(m, out, word, `${word}_factor_a`, `${word}_factor_b`)).toBeLessThan(1e-4);
    const [before, after] = [await runModel(m, { vocab: 128 }), await runModel(out, { vocab: 128 })];
    expect(relativeDiff(before, after)).toBeLessThan(1e-4);
  });

  it('rewrites Gather(W) into MatMul(Gather(A), B), reports error and bytes, and leaves the input untouched', async () => {
    const m = tinyBert();
    const s = findBert(m);
    const word = s.embeddings.word;
    const nodesBefore = m.graph.nodes.length;
    const { model: out, details, report } = await factorize(m, 16);
    expect(m.graph.nodes.length).toBe(nodesBefore);
    expect(m.graph.initializers.has(word.weight)).toBe(true);

    const g = out.graph;
    expect(g.initializers.has(word.weight)).toBe(false);
    const a = g.initializers.get(`${word.weight}_factor_a`)!;
    const b = g.initializers.get(`${word.weight}_factor_b`)!;
    expect(a.dims).toEqual([128, 16]);
    expect(b.dims).toEqual([16, 32]);
    const gather = g.nodes.find((n) => n.name === word.gather)!;
    expect(gather.inputs[0]).toBe(a.name);
    const matmul = g.nodes.find((n) => n.opType === 'MatMul' && n.inputs[1] === b.name)!;
    expect(matmul.inputs[0]).toBe(gather.outputs[0]);
    expect(g.nodes.indexOf(matmul)).toBeGreaterThan(g.nodes.indexOf(gather));

    expect(details.embeddingBytesBefore).toBe(128 * 32 * 4);
    expect(details.embeddingBytesAfter).toBe((128 * 16 + 16 * 32) * 4);
    expect(details.modelBytesBefore - details.modelBytesAfter).toBe(details.embeddingBytesBefore - details.embeddingBytesAfter);
    expect(details.tiedReaders).toEqual([]);
    expect(details.relativeError).toBeGreaterThan(0);
    expect(details.relativeError).toBeLessThan(1);
    expect(measuredError(m, out, word.weight, a.name, b.name)).toBeCloseTo(details.relativeError, 5);
    expect(report.summary).toMatch(/128×32 → 128×16 · 16×32/);

    const logits = (await runModel(out, { vocab: 128 })).logits;
    expect(logits.length).toBe(4);
    expect(logits.every(Number.isFinite)).toBe(true);
    expectDiscoveryOnFactorized(s, out);
  });

  it('the error shrinks as the rank grows', async () => {
    const m = tinyBert();
    const errors: number[] = [];
    for (const rank of [2, 8, 16, 25]) errors.push((await factorize(m, rank)).details.relativeError);
    for (let i = 1; i < errors.length; i++) expect(errors[i]).toBeLessThan(errors[i - 1]);
  });
});

describe.skipIf(!hasFixtures)('factorize-embeddings on exporter fixtures (needs ../shared/fixtures/onnx)', () => {
  it('tied MLM decoder (torch11 pretraining toy): the decoder reads MatMul(A, B); exact at full numerical rank', async () => {
    const base = await loadModel(fixture('bert-toy-pretraining-torch11-op12.onnx'));
    const s = findBert(base);
    const m = withLowRankEmbedding(base, s, 5);
    const { model: out, details, report } = await factorize(m, 5, s);
    expect(details.tiedReaders).toEqual(['Transpose_634']);
    expect(report.summary).toMatch(/tied readers use the product: Transpose_634/);
    const transpose = out.graph.nodes.find((n) => n.name === 'Transpose_634')!;
    const product = out.graph.nodes.find((n) => n.outputs[0] === transpose.inputs[0])!;
    expect(product.opType).toBe('MatMul');
    expect(product.inputs).toEqual([`${s.embeddings.word.weight}_factor_a`, `${s.embeddings.word.weight}_factor_b`]);
    const [before, after] = [await runModel(m, { vocab: 99 }), await runModel(out, { vocab: 99 })];
    expect(Object.keys(after).sort()).toEqual(['prediction_scores', 'seq_relationship_score']);
    expect(relativeDiff(before, after)).toBeLessThan(1e-4);
  });

  for (const f of FIXTURE_MODELS) {
    it(`${f.file}: factorized model runs in onnxruntime with the same outputs' shapes`, async () => {
      const m = await loadModel(fixture(f.file));
      const s = findBert(m);
      const rank = Math.max(1, Math.floor(s.hiddenSize / 2));
      const { model: out, details } = await factorize(m, rank, s);
      expect(details.rank).toBe(rank);
      const [before, after] = [await runModel(m, { vocab: f.vocab, seq: f.seq ?? 9 }), await runModel(out, { vocab: f.vocab, seq: f.seq ?? 9 })];
      for (const k of Object.keys(before)) {
        expect(after[k].length).toBe(before[k].length);
        expect(after[k].every(Number.isFinite)).toBe(true);
      }
      expectDiscoveryOnFactorized(s, out);
    });
  }
});

describe.skipIf(!hasTeachers)('factorize-embeddings on the SST-2 teacher (hidden 256) (needs ../shared/teachers)', () => {
  it('rank 64: embedding at most 30% of its bytes, runs in onnxruntime, discovered with the projection', async () => {
    const m = await loadModel(`${TEACHERS}/sst2-L4H256/model.onnx`);
    const s = findBert(m);
    const { model: out, details } = await factorize(m, 64, s);
    expect(details.vocab).toBe(30522);
    expect(details.hidden).toBe(256);
    expect(details.embeddingBytesBefore).toBe(30522 * 256 * 4);
    expect(details.embeddingBytesAfter / details.embeddingBytesBefore).toBeLessThanOrEqual(0.3);
    expect(details.modelBytesBefore - details.modelBytesAfter).toBe(details.embeddingBytesBefore - details.embeddingBytesAfter);
    expect(details.relativeError).toBeGreaterThan(0);
    expect(details.relativeError).toBeLessThan(1);
    const [before, after] = [await runModel(m, { vocab: 30522, seq: 16 }), await runModel(out, { vocab: 30522, seq: 16 })];
    expect(after.logits.length).toBe(before.logits.length);
    expect(after.logits.every(Number.isFinite)).toBe(true);
    expectDiscoveryOnFactorized(s, out);
  });
});
