import { describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import type { BertStructure } from '../../src/bert/structure.ts';
import { SettingsError, UserError } from '../../src/errors.ts';
import { cloneModel, float32Tensor, loadModel, modelSize, readFloat32, type Model } from '../../src/onnx/index.ts';
import { factorizeEmbeddingsPass, tokenRowWeights, type FactorizeEmbeddingsDetails } from '../../src/factorize/index.ts';
import type { CalibrationSource } from '../../src/pass/pass.ts';
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
    expect(pass.parse({ rank: 16 })).toEqual({ rank: 16, weighting: 'uniform' });
    expect(pass.parse({ rank: '8' })).toEqual({ rank: 8, weighting: 'uniform' });
  });

  it('weighting: uniform (default, no calibration) or tokens (needs calibration); nothing else', () => {
    expect(pass.parse({ rank: 8, weighting: 'tokens' })).toEqual({ rank: 8, weighting: 'tokens' });
    expect(pass.check({ rank: 8 })).toEqual({ rank: 8 });
    expect(pass.needsCalibration(pass.check({ rank: 8 }))).toBe(false);
    expect(pass.needsCalibration(pass.check({ rank: 8, weighting: 'uniform' }))).toBe(false);
    expect(pass.needsCalibration(pass.check({ rank: 8, weighting: 'tokens' }))).toBe(true);
    expect(() => pass.parse({ rank: 8, weighting: 'frequency' })).toThrow(/weighting/);
  });

  it('weighting uniform, given or not, has one canonical form (so one sweep key and lineage): without the setting', () => {
    expect(pass.check({ rank: 8, weighting: 'uniform' })).toEqual({ rank: 8 });
    expect(pass.check({ rank: 8, weighting: 'uniform' })).toEqual(pass.check({ rank: 8 }));
    expect(pass.parse({ rank: 8, weighting: 'uniform' })).toEqual({ rank: 8, weighting: 'uniform' });
    expect(pass.check({ rank: 8, weighting: 'tokens' })).toEqual({ rank: 8, weighting: 'tokens' });
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

  it.each([Number.NaN, Number.POSITIVE_INFINITY])(
    'refuses a word embedding holding %s in one line naming the row, instead of spreading it to every row',
    async (bad) => {
      const m = tinyBert();
      const s = findBert(m);
      const t = m.graph.initializers.get(s.embeddings.word.weight)!;
      const w = Float32Array.from(readFloat32(t));
      w[5 * 32 + 3] = bad;
      m.graph.initializers.set(t.name, float32Tensor(t.name, t.dims, w));
      await expect(pass.run(m, s, { rank: 8 }, {})).rejects.toThrow(
        new RegExp(
          `^factorize-embeddings: row 5 \\(token id 5\\) of the word embedding '${t.name}' holds ${bad} at column 3: .*fix or retrain the model before factorizing it$`,
        ),
      );
      await expect(pass.run(m, s, { rank: 8 }, {})).rejects.toThrow(UserError);
    },
  );

  it("quotes the word embedding's name as a shell takes it (quotedText), where plain quotes showed a quote or line break in it as it is", async () => {
    const m = cloneModel(tinyBert());
    const from = findBert(m).embeddings.word.weight;
    const name = "word's\nemb";
    const t = m.graph.initializers.get(from)!;
    const w = Float32Array.from(readFloat32(t));
    w[5 * 32 + 3] = Number.NaN;
    m.graph.initializers.delete(from);
    m.graph.initializers.set(name, float32Tensor(name, t.dims, w));
    for (const n of m.graph.nodes) n.inputs = n.inputs.map((i) => (i === from ? name : i));
    await expect(pass.run(m, findBert(m), { rank: 8 }, {})).rejects.toThrow(
      /^factorize-embeddings: row 5 \(token id 5\) of the word embedding \$'word\\'s\\nemb' holds NaN at column 3: /,
    );
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
    // Balanced factors: column k of A and row k of B have the same norm.
    const [av, bv] = [readFloat32(a), readFloat32(b)];
    for (let k = 0; k < 16; k++) {
      let ca = 0,
        rb = 0;
      for (let i = 0; i < 128; i++) ca += av[i * 16 + k] ** 2;
      for (let j = 0; j < 32; j++) rb += bv[k * 32 + j] ** 2;
      expect(Math.sqrt(ca) / Math.sqrt(rb)).toBeCloseTo(1, 4);
    }
    expect(report.summary).toMatch(/128×32 → 128×16 · 16×32/);

    const logits = (await runModel(out, { vocab: 128 })).logits;
    expect(logits.length).toBe(4);
    expect(logits.every(Number.isFinite)).toBe(true);
    expectDiscoveryOnFactorized(s, out);
  });

  it("says a table under 1 kB in bytes, where it said '0.000 MB → 0.000 MB (45.0%)'", async () => {
    const { report } = await factorize(tinyBert({ vocabSize: 10, hiddenSize: 8, numHeads: 2, intermediateSize: 16 }), 2);
    // 10×8 floats (320 bytes) → 10×2 + 2×8 (144 bytes)
    expect(report.summary).toMatch(/^word embedding 10×8 → 10×2 · 2×8: 320 B → 144 B \(45\.0%\), relative error /);
  });

  it('the error shrinks as the rank grows', async () => {
    const m = tinyBert();
    const errors: number[] = [];
    for (const rank of [2, 8, 16, 25]) errors.push((await factorize(m, rank)).details.relativeError);
    for (let i = 1; i < errors.length; i++) expect(errors[i]).toBeLessThan(errors[i - 1]);
  });
});

describe('factorize-embeddings weighted by calibration tokens', () => {
  /** Calibration batches that use only the ids in `used` (padding after each row's length, masked out). */
  function calibrationOf(rows: number[][], seq: number): CalibrationSource {
    const ids = new BigInt64Array(rows.length * seq);
    const mask = new BigInt64Array(rows.length * seq);
    rows.forEach((r, b) =>
      r.forEach((id, t) => {
        ids[b * seq + t] = BigInt(id);
        mask[b * seq + t] = 1n;
      }),
    );
    // Padding positions hold id 127: never counted, as the mask drops them.
    for (let i = 0; i < ids.length; i++) if (mask[i] === 0n) ids[i] = 127n;
    return {
      task: 'synthetic',
      batches: [
        {
          inputIds: ids,
          attentionMask: mask,
          tokenTypeIds: new BigInt64Array(ids.length),
          batch: rows.length,
          seq,
          labels: new Float32Array(rows.length),
          regression: false,
        },
      ],
    };
  }

  it('counts each id the mask keeps (1 + count), refuses ids outside the table', () => {
    const c = calibrationOf(
      [
        [2, 5, 5],
        [5, 9],
      ],
      4,
    );
    const { weights, tokens, distinct } = tokenRowWeights(c, 128);
    expect([weights[2], weights[5], weights[9], weights[127], weights[0]]).toEqual([2, 4, 2, 1, 1]);
    expect(tokens).toBe(5);
    expect(distinct).toBe(3);
    expect(() => tokenRowWeights(calibrationOf([[2, 200]], 3), 128)).toThrow(/token id 200 is outside the 128-row word embedding/);
  });

  it('needs calibration data', async () => {
    const m = tinyBert();
    await expect(pass.run(m, findBert(m), pass.parse({ rank: 8, weighting: 'tokens' }), {})).rejects.toThrow(/weighting tokens needs calibration data/);
  });

  it('keeps the rows the calibration uses closer to the original than the uniform SVD does, and reports both errors', async () => {
    const m = tinyBert();
    const s = findBert(m);
    const used = [3, 7, 11, 19, 23, 31, 42, 57, 64, 90];
    const calibration = calibrationOf([used, used.slice(0, 6), used.slice(4)], 12);
    const run = async (weighting: 'uniform' | 'tokens') => {
      const r = await pass.run(m, s, pass.parse({ rank: 4, weighting }), { calibration });
      return { ...r, details: r.report.details as unknown as FactorizeEmbeddingsDetails };
    };
    const uniform = await run('uniform');
    const tokens = await run('tokens');
    const word = s.embeddings.word.weight;
    const usedRowsError = (out: Model) => {
      const w = readFloat32(m.graph.initializers.get(word)!);
      const a = readFloat32(out.graph.initializers.get(`${word}_factor_a`)!);
      const b = readFloat32(out.graph.initializers.get(`${word}_factor_b`)!);
      const cols = 32;
      let err = 0;
      for (const r of used)
        for (let c = 0; c < cols; c++) {
          let x = 0;
          for (let k = 0; k < 4; k++) x += a[r * 4 + k] * b[k * cols + c];
          err += (w[r * cols + c] - x) ** 2;
        }
      return err;
    };
    expect(usedRowsError(tokens.model)).toBeLessThan(0.8 * usedRowsError(uniform.model));
    expect(tokens.details.relativeError).toBeGreaterThan(uniform.details.relativeError);
    expect(tokens.details.weighting).toBe('tokens');
    expect(tokens.details.calibrationTokens).toBe(used.length + 6 + (used.length - 4));
    expect(tokens.details.distinctTokens).toBe(used.length);
    expect(tokens.details.weightedRelativeError).toBeLessThan(tokens.details.relativeError);
    expect(tokens.report.summary).toMatch(/weighted by 22 calibration tokens, 10 distinct/);
    expect(tokens.report.settings).toEqual({ rank: 4, weighting: 'tokens' });
    expect(uniform.report.settings).toEqual({ rank: 4 });
    expect(uniform.details.weightedRelativeError).toBeUndefined();
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
