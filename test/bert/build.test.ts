import { describe, expect, it } from 'vitest';
import { buildBert, randomBertWeights, resolveWeights, BERT_INPUTS, type WeightArray } from '../../src/bert/build.ts';
import { transpose2d } from '../../src/bert/build-graph.ts';
import { countParameters } from '../../src/bert/config.ts';
import { DataError, SettingsError } from '../../src/errors.ts';
import { encodeModel, loadModel, readFloat32, validateModel, decodeModel } from '../../src/onnx/index.ts';
import {
  batchLogits,
  maxRowDiff,
  paddedBatch,
  perturbedWeights,
  referenceBertLogits,
  tinyBert,
  tinyBertConfig,
  writeTinyBert,
  type TokenBatch,
} from '../helpers/models.ts';

describe('buildBert: graph', () => {
  it('is a valid opset-14 model with int64 dynamic inputs and [batch_size, numLabels] logits', () => {
    const m = tinyBert();
    expect(validateModel(m)).toEqual([]);
    expect(m.irVersion).toBe(7);
    expect(m.opsetImports).toEqual([{ domain: '', version: 14 }]);
    expect(m.producerName).toBe('bert-compress');
    expect(m.graph.inputs.map((v) => [v.name, v.elemType, v.shape])).toEqual(BERT_INPUTS.map((n) => [n, 7, ['batch_size', 'sequence_length']]));
    expect(m.graph.outputs).toEqual([{ name: 'logits', elemType: 1, shape: ['batch_size', 2] }]);
    // survives an encode/decode round trip through the protobuf seam
    expect(validateModel(decodeModel(encodeModel(m)))).toEqual([]);
  });

  it('writes the exporter’s nodes: counts per op type for L layers', () => {
    const L = 3;
    const m = tinyBert({ numLayers: L });
    const count = (op: string) => m.graph.nodes.filter((n) => n.opType === op).length;
    expect(count('MatMul')).toBe(8 * L); // q, k, v, scores, context, output, ffn in, ffn out
    expect(count('Softmax')).toBe(L);
    expect(count('Erf')).toBe(L);
    expect(count('ReduceMean')).toBe(2 * (2 * L + 1));
    expect(count('Reshape')).toBe(4 * L);
    expect(count('Transpose')).toBe(4 * L);
    expect(count('Gemm')).toBe(2);
    expect(count('Tanh')).toBe(1);
    expect(count('Range')).toBe(1);
    const rm = m.graph.nodes.find((n) => n.opType === 'ReduceMean')!;
    expect(rm.attributes.axes).toEqual({ type: 'ints', value: [-1] });
    const names = new Set(m.graph.nodes.map((n) => n.name));
    expect(names.size).toBe(m.graph.nodes.length);
    expect(names.has('/bert/encoder/layer.0/attention/self/query/MatMul')).toBe(true);
    expect(names.has('/bert/encoder/layer.2/intermediate/intermediate_act_fn/Erf')).toBe(true);
    expect(names.has('/classifier/Gemm')).toBe(true);
  });

  it('stores Linear weights transposed ([in, out]) for MatMul and pooler/classifier as [out, in] for Gemm', () => {
    const c = tinyBertConfig({ intermediateSize: 48 });
    const w = randomBertWeights(c, { seed: 3 });
    const m = buildBert(c, { kind: 'random', seed: 3 });
    const byNode = (name: string) => m.graph.nodes.find((n) => n.name === name)!;
    const mm = byNode('/bert/encoder/layer.1/intermediate/dense/MatMul');
    const wt = m.graph.initializers.get(mm.inputs[1])!;
    expect(mm.inputs[1]).toMatch(/^onnx::MatMul_\d+$/);
    expect(wt.dims).toEqual([32, 48]);
    expect(readFloat32(wt)).toEqual(transpose2d(w.get('bert.encoder.layer.1.intermediate.dense.weight')!, 48, 32));
    const add = byNode('/bert/encoder/layer.1/intermediate/dense/Add');
    expect(add.inputs).toEqual(['bert.encoder.layer.1.intermediate.dense.bias', mm.outputs[0]]);
    const gemm = byNode('/classifier/Gemm');
    expect(gemm.inputs.slice(1)).toEqual(['classifier.weight', 'classifier.bias']);
    expect(gemm.attributes.transB).toEqual({ type: 'int', value: 1 });
    expect(m.graph.initializers.get('classifier.weight')!.dims).toEqual([2, 32]);
    // named parameters first in state-dict order, then the transposed ones
    const names = [...m.graph.initializers.keys()];
    expect(names[0]).toBe('bert.embeddings.word_embeddings.weight');
    expect(names.indexOf('classifier.bias')).toBeLessThan(names.findIndex((n) => n.startsWith('onnx::')));
    const params = [...m.graph.initializers.values()].reduce((s, t) => s + t.data.byteLength / 4, 0);
    expect(params).toBe(countParameters(c));
  });

  it('initializes like transformers: normal(0, 0.02) matrices, zero biases and padding row, LayerNorm 1/0', () => {
    const c = tinyBertConfig({ hiddenSize: 64, vocabSize: 512 });
    const w = randomBertWeights(c, { seed: 11 });
    const word = w.get('bert.embeddings.word_embeddings.weight')!;
    expect(word.subarray(0, 64).every((v) => v === 0)).toBe(true);
    const q = w.get('bert.encoder.layer.0.attention.self.query.weight')!;
    const mean = q.reduce((s, v) => s + v, 0) / q.length;
    const std = Math.sqrt(q.reduce((s, v) => s + (v - mean) ** 2, 0) / q.length);
    expect(Math.abs(mean)).toBeLessThan(0.002);
    expect(std).toBeGreaterThan(0.019);
    expect(std).toBeLessThan(0.021);
    expect(w.get('bert.encoder.layer.0.attention.self.query.bias')!.every((v) => v === 0)).toBe(true);
    expect(w.get('bert.encoder.layer.0.output.LayerNorm.weight')!.every((v) => v === 1)).toBe(true);
    expect(w.get('bert.encoder.layer.0.output.LayerNorm.bias')!.every((v) => v === 0)).toBe(true);
  });

  it('is deterministic: same seed, same bytes; another seed, other weights; seeded = given(randomBertWeights)', () => {
    const a = encodeModel(tinyBert({}, { seed: 5 }));
    const b = encodeModel(tinyBert({}, { seed: 5 }));
    const other = encodeModel(tinyBert({}, { seed: 6 }));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(Buffer.from(a).equals(Buffer.from(other))).toBe(false);
    const c = tinyBertConfig();
    const given = encodeModel(buildBert(c, { kind: 'given', tensors: randomBertWeights(c, { seed: 5 }) }));
    expect(Buffer.from(given).equals(Buffer.from(a))).toBe(true);
  });

  it('writeTinyBert saves a model that loads back unchanged', () => {
    const t = writeTinyBert({ numLayers: 1 }, { seed: 2 });
    try {
      const back = loadModel(t.path);
      expect(back.graph.nodes.map((n) => n.name)).toEqual(t.model.graph.nodes.map((n) => n.name));
      expect(Buffer.from(encodeModel(back)).equals(Buffer.from(encodeModel(t.model)))).toBe(true);
    } finally {
      t.cleanup();
    }
  });

  it('keeps a parameter’s seeded values when other sizes change', () => {
    const a = randomBertWeights(tinyBertConfig({ numLabels: 2 }), { seed: 9 });
    const b = randomBertWeights(tinyBertConfig({ numLabels: 5, numLayers: 3 }), { seed: 9 });
    expect(b.get('bert.encoder.layer.1.attention.self.key.weight')).toEqual(a.get('bert.encoder.layer.1.attention.self.key.weight'));
  });
});

describe('buildBert: running in onnxruntime', () => {
  it('runs a padded batch of 3 with varied lengths; logits are [3, numLabels]', async () => {
    const m = tinyBert({ numLabels: 3 });
    const { dims, rows } = await batchLogits(m, paddedBatch([5, 12, 1], 128));
    expect(dims).toEqual([3, 3]);
    for (const r of rows) for (const v of r) expect(Number.isFinite(v)).toBe(true);
  });

  for (const activation of ['gelu', 'gelu_tanh', 'relu'] as const) {
    it(`matches a plain TypeScript BERT within 1e-4 (${activation}, 2 layers, hidden 32, 4 heads)`, async () => {
      const c = tinyBertConfig({ activation, numLabels: 3 });
      const w = perturbedWeights(c, 21);
      const batch = paddedBatch([7, 16, 3], c.vocabSize, 3);
      const { rows } = await batchLogits(buildBert(c, { kind: 'given', tensors: w }), batch);
      const want = referenceBertLogits(c, (n) => w.get(n)!, batch);
      expect(maxRowDiff(rows, want)).toBeLessThan(1e-4);
      // the check means something: logits are O(1) and differ between examples
      expect(Math.max(...want.flat().map(Math.abs))).toBeGreaterThan(0.1);
      expect(maxRowDiff([want[0]], [want[1]])).toBeGreaterThan(1e-2);
      if (activation !== 'relu') {
        // and tells the two GELUs apart
        const other = referenceBertLogits({ ...c, activation: activation === 'gelu' ? 'gelu_tanh' : 'gelu' }, (n) => w.get(n)!, batch);
        expect(maxRowDiff(rows, other)).toBeGreaterThan(2e-4);
      }
    });
  }

  it('ignores padding: a padded row gives the logits of the same row unpadded', async () => {
    const c = tinyBertConfig();
    const m = buildBert(c, { kind: 'given', tensors: perturbedWeights(c, 4) });
    const padded = paddedBatch([4, 10], c.vocabSize, 8);
    const alone: TokenBatch = {
      inputIds: [padded.inputIds[0].slice(0, 4)],
      attentionMask: [padded.attentionMask[0].slice(0, 4)],
      tokenTypeIds: [padded.tokenTypeIds[0].slice(0, 4)],
    };
    const a = await batchLogits(m, padded);
    const b = await batchLogits(m, alone);
    expect(maxRowDiff([a.rows[0]], b.rows)).toBeLessThan(1e-5);
  });

  it('builds a 0-layer model and a single-label regression head', async () => {
    const c = tinyBertConfig({ numLayers: 0, numLabels: 1, problemType: 'regression' });
    const w = perturbedWeights(c, 2);
    const batch = paddedBatch([3, 6], c.vocabSize);
    const { dims, rows } = await batchLogits(buildBert(c, { kind: 'given', tensors: w }), batch);
    expect(dims).toEqual([2, 1]);
    expect(
      maxRowDiff(
        rows,
        referenceBertLogits(c, (n) => w.get(n)!, batch),
      ),
    ).toBeLessThan(1e-4);
  });
});

describe('buildBert: weights and errors', () => {
  it('refuses a bad config with a SettingsError', () => {
    expect(() => tinyBert({ hiddenSize: 30 })).toThrow(SettingsError);
    expect(() => tinyBert({ hiddenSize: 30 })).toThrow('BERT config: hiddenSize (30) is not divisible by numHeads (4)');
  });

  it('names a missing or misshapen weight in a DataError', () => {
    const c = tinyBertConfig();
    const w = randomBertWeights(c, { seed: 1 });
    w.delete('bert.encoder.layer.1.output.dense.bias');
    expect(() => buildBert(c, { kind: 'given', tensors: w })).toThrow(new DataError("weights: parameter 'bert.encoder.layer.1.output.dense.bias' is missing"));
    // several: the first four named, the rest counted, as every capped list (where it named one, '(and 5 more)')
    const lacking = randomBertWeights(c, { seed: 1 });
    const gone = [...lacking.keys()].filter((k) => k.startsWith('bert.encoder.layer.1.')).slice(0, 6);
    for (const k of gone) lacking.delete(k);
    expect(() => buildBert(c, { kind: 'given', tensors: lacking })).toThrow(
      new DataError(
        `weights: parameters ${gone
          .slice(0, 4)
          .map((k) => `'${k}'`)
          .join(', ')}, … (2 more) are missing`,
      ),
    );
    const w2 = randomBertWeights(c, { seed: 1 });
    const bad = { dims: [64, 32], data: w2.get('bert.encoder.layer.0.output.dense.weight')! };
    expect(() => buildBert(c, { kind: 'given', tensors: new Map<string, WeightArray>([...w2, ['bert.encoder.layer.0.output.dense.weight', bad]]) })).toThrow(
      "weights: 'bert.encoder.layer.0.output.dense.weight' has shape [64, 32] but the config needs [32, 64]",
    );
    w2.set('classifier.weight', new Float32Array(10));
    expect(() => buildBert(c, { kind: 'given', tensors: w2 })).toThrow('needs [2, 32] = 64');
  });

  it('reads BertModel names (no bert. prefix, gamma/beta), reports extra keys, seeds missing ones on request', () => {
    const c = tinyBertConfig();
    const full = randomBertWeights(c, { seed: 1 });
    const given: Record<string, Float32Array> = { 'bert.embeddings.position_ids': new Float32Array(64) };
    for (const [k, v] of full) {
      if (k.startsWith('classifier.')) continue;
      given[
        k
          .replace(/^bert\./, '')
          .replace(/LayerNorm\.weight$/, 'LayerNorm.gamma')
          .replace(/LayerNorm\.bias$/, 'LayerNorm.beta')
      ] = v;
    }
    const r = resolveWeights(c, { kind: 'given', tensors: given, fillMissing: { seed: 1 } });
    expect(r.unused).toEqual(['bert.embeddings.position_ids']);
    expect(r.seeded).toEqual(['classifier.weight', 'classifier.bias']);
    expect(r.get('bert.embeddings.LayerNorm.weight')).toBe(full.get('bert.embeddings.LayerNorm.weight'));
    // with the same seed, seeded parameters equal the fully seeded model's
    const m = buildBert(c, { kind: 'given', tensors: given, fillMissing: { seed: 1 } });
    expect(Buffer.from(encodeModel(m)).equals(Buffer.from(encodeModel(tinyBert())))).toBe(true);
  });
});
