/**
 * Students are canonical graphs: every sequence classifier discovery reads (the shared teachers, the exporter
 * fixtures with a classifier, and the output of every float compression pass) is read back by canonicalBert and
 * rebuilt by buildBert, computing the same logits (max abs diff below 1e-5, onnxruntime with optimizations off).
 * Built models come back byte for byte; shared layers stay shared (one set of initializers), a factorized embedding
 * stays factorized, and the dropout sites change nothing but the graph inputs. Quantized models and models without a
 * sequence-classification head are refused in one line.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { buildBert, dropoutMasks, bertParameters, randomBertWeights, type BuildOptions } from '../../src/bert/build.ts';
import { canonicalBert, rebuildCanonical } from '../../src/bert/canonical.ts';
import { attentionHeadSize, configToHuggingFace, validateExtendedConfig, type ExtendedBertConfig } from '../../src/bert/config.ts';
import { findBert } from '../../src/bert/discover.ts';
import { SettingsError } from '../../src/errors.ts';
import { cloneModel, encodeModel, loadModel, pruneGraph, renameValue, type Model } from '../../src/onnx/index.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { runPipeline } from '../../src/pass/pipeline.ts';
import type { PassStep } from '../../src/pass/pass.ts';
import { openSession, Tensor } from '../../src/runtime/session.ts';
import { encoderFeeds } from '../helpers/feeds.ts';
import { perturbedWeights, tinyBert, tinyBertConfig } from '../helpers/models.ts';
import { FIXTURES, TEACHERS, hasFixtures, hasTeachers } from '../helpers/paths.ts';

registerAllPasses();

const TOL = 1e-5;
const BATCH = 3;

interface RunOptions {
  vocab: number;
  seq?: number;
  /** Value of every dropout mask element (default 1), or a function of the mask index and element index. */
  mask?: number | ((mask: number, i: number) => number);
}

/** The logits (first output) of `model` on seeded ids / mask / token types; dropout masks fed with ones. */
async function logits(model: Model, o: RunOptions): Promise<Float32Array> {
  const seq = o.seq ?? 12;
  const session = await openSession(encodeModel(model), { graphOptimizationLevel: 'disabled' });
  try {
    const feeds = encoderFeeds(session, { batch: BATCH, seq, vocab: o.vocab, seed: 5 });
    dropoutMasks(model).forEach((m, k) => {
      const dims = m.dims.map((d) => (d === 'batch_size' ? BATCH : d === 'sequence_length' ? seq : Number(d)));
      const data = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => (typeof o.mask === 'function' ? o.mask(k, i) : (o.mask ?? 1)));
      feeds[m.name] = new Tensor('float32', data, dims);
    });
    const out = await session.run(feeds);
    return Float32Array.from(Object.values(out)[0].data as Float32Array);
  } finally {
    await session.release();
  }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/**
 * Rebuilds `source` (without dropout, and at opset 17 with all-ones dropout masks) and compares the logits: max abs
 * diff below 1e-5, and below 1e-4 of the largest logit (the random fixtures have logits of 1e-3).
 */
async function expectSameLogits(source: Model, o: RunOptions): Promise<{ rebuilt: Model; diff: number }> {
  const want = await logits(source, o);
  const scale = Math.max(...want.map(Math.abs));
  const rebuilt = rebuildCanonical(source);
  const diff = maxAbsDiff(want, await logits(rebuilt, o));
  expect(diff).toBeLessThan(TOL);
  expect(diff).toBeLessThanOrEqual(1e-4 * scale);
  const training = rebuildCanonical(source, { opset: 17, dropout: true });
  expect(dropoutMasks(training).length).toBeGreaterThan(0);
  const trainingDiff = maxAbsDiff(want, await logits(training, o));
  expect(trainingDiff).toBeLessThan(TOL);
  expect(trainingDiff).toBeLessThanOrEqual(1e-4 * scale);
  return { rebuilt, diff };
}

const bytes = (m: Model) => Buffer.from(encodeModel(m));

/** A config and perturbed weights (every parameter away from its init), built. */
function built(c: ExtendedBertConfig, opts: BuildOptions = {}, seed = 3): Model {
  return buildBert(c, { kind: 'given', tensors: perturbedWeights(c, seed) }, opts);
}

/** Layouts the passes and other exporters produce, as extended configs of the tiny BERT. */
const EXTENDED: Record<string, ExtendedBertConfig> = {
  'uneven heads with a layer without attention': {
    ...tinyBertConfig({ numLayers: 3 }),
    numHeads: 4,
    layers: [
      { numHeads: 0, intermediateSize: 64 },
      { numHeads: 2, intermediateSize: 40 },
      { numHeads: 4, intermediateSize: 64 },
    ],
  },
  'pruned heads, uniform (3 of 4)': { ...tinyBertConfig(), numHeads: 3, attentionHeadSize: 8 },
  'factorized word embedding': { ...tinyBertConfig(), embeddingSize: 12 },
  'shared layers, 2 groups': { ...tinyBertConfig({ numLayers: 4 }), layerGroups: [0, 0, 1, 1] },
  distilbert: { ...tinyBertConfig({ activation: 'gelu', typeVocabSize: 1 }), family: 'distilbert' },
  roberta: { ...tinyBertConfig({ typeVocabSize: 1, layerNormEps: 1e-5, numLabels: 1 }), family: 'roberta', padTokenId: 1 },
  'everything at once (RoBERTa, factorized, shared, uneven)': {
    ...tinyBertConfig({ numLayers: 4, typeVocabSize: 1, activation: 'gelu_tanh' }),
    family: 'roberta',
    padTokenId: 1,
    embeddingSize: 16,
    numHeads: 4,
    intermediateSize: 64,
    layerGroups: [0, 1, 1, 2],
    layers: [
      { numHeads: 0, intermediateSize: 64 },
      { numHeads: 2, intermediateSize: 48 },
      { numHeads: 2, intermediateSize: 48 },
      { numHeads: 4, intermediateSize: 64 },
    ],
  },
};

describe('canonical rebuild of built models', () => {
  it('a plain BERT comes back as its config and byte for byte the same graph, at every opset', () => {
    const c = tinyBertConfig({ numLabels: 3 });
    for (const opset of [11, 14, 17]) {
      const m = built(c, { opset });
      const canon = canonicalBert(m);
      expect(canon.config).toEqual(c);
      expect(canon.family).toBe('bert');
      expect(canon.sourceInputs).toEqual({ inputIds: 'input_ids', attentionMask: 'attention_mask', tokenTypeIds: 'token_type_ids' });
      expect(bytes(rebuildCanonical(m, { opset })).equals(bytes(m)), `opset ${opset}`).toBe(true);
    }
  });

  for (const [name, c] of Object.entries(EXTENDED)) {
    describe(name, () => {
      const model = built(c);
      it('discovery reads it; canonicalBert gives back the config and the same graph, byte for byte', () => {
        const s = findBert(model);
        expect(s.family).toBe(c.family ?? 'bert');
        const canon = canonicalBert(model, s);
        expect(canon.config).toEqual(c);
        expect(bytes(rebuildCanonical(model, { structure: s })).equals(bytes(model))).toBe(true);
        expect(model.graph.inputs.map((v) => v.name)).toEqual(
          c.family && c.family !== 'bert' ? ['input_ids', 'attention_mask'] : ['input_ids', 'attention_mask', 'token_type_ids'],
        );
      });

      it('gives the same logits at opsets 11 and 17 as at 14', async () => {
        const want = await logits(model, { vocab: c.vocabSize });
        for (const opset of [11, 17]) expect(maxAbsDiff(want, await logits(built(c, { opset }), { vocab: c.vocabSize })), `opset ${opset}`).toBeLessThan(TOL);
      });
    });
  }

  it('shared layers read one set of initializers, the transposed MatMul weights included', () => {
    const c = EXTENDED['shared layers, 2 groups'];
    const m = built(c);
    // One initializer per parameter of the 2 groups; each of the 6 matrices a group has (Q, K, V, attention
    // output, FFN in, FFN out) stored once, transposed for MatMul.
    expect(m.graph.initializers.size).toBe(bertParameters(c).length);
    expect([...m.graph.initializers.keys()].filter((k) => k.startsWith('onnx::MatMul_'))).toHaveLength(2 * 6);
    const queryWeights = [0, 1, 2, 3].map((i) => m.graph.nodes.find((n) => n.name === `/bert/encoder/layer.${i}/attention/self/query/MatMul`)!.inputs[1]);
    expect(queryWeights[0]).toBe(queryWeights[1]);
    expect(queryWeights[2]).toBe(queryWeights[3]);
    expect(queryWeights[0]).not.toBe(queryWeights[2]);
    expect([...m.graph.initializers.keys()].filter((k) => k.startsWith('bert.encoder.layer.')).every((k) => /^bert\.encoder\.layer\.[01]\./.test(k))).toBe(
      true,
    );
  });

  it('refuses bad extended configs with a one-line SettingsError naming the field', () => {
    const base = tinyBertConfig({ numLayers: 2 });
    const bad: Array<[ExtendedBertConfig, RegExp]> = [
      [{ ...base, layers: [{ numHeads: 4, intermediateSize: 64 }] }, /layers must list numLayers \(2\)/],
      [
        {
          ...base,
          layers: [
            { numHeads: -1, intermediateSize: 64 },
            { numHeads: 4, intermediateSize: 64 },
          ],
        },
        /layers\[0\]\.numHeads: expected an integer from 0 to 2\^53 − 1, got /,
      ],
      [
        {
          ...base,
          numHeads: 3,
          layers: [
            { numHeads: 3, intermediateSize: 64 },
            { numHeads: 3, intermediateSize: 64 },
          ],
        },
        /give attentionHeadSize/,
      ],
      [{ ...base, layerGroups: [1, 0] }, /layerGroups\[0\]: expected a known group id or the next new one, 0, got number 1$/],
      [
        {
          ...base,
          layerGroups: [0, 0],
          layers: [
            { numHeads: 4, intermediateSize: 64 },
            { numHeads: 2, intermediateSize: 64 },
          ],
          attentionHeadSize: 8,
        },
        /layers 0 and 1 share group 0 but have different sizes/,
      ],
      [{ ...base, embeddingSize: 0 }, /embeddingSize: expected an integer from 1 to 2\^53 − 1, got number 0/],
      [{ ...base, family: 'gpt2' as 'bert' }, /family: expected one of bert, distilbert, roberta, electra, albert, got string "gpt2"$/],
      [{ ...base, padTokenId: base.vocabSize }, new RegExp(`padTokenId: expected an integer from 0 to ${base.vocabSize - 1}, got number ${base.vocabSize}$`)],
    ];
    for (const [c, message] of bad) {
      expect(() => validateExtendedConfig(c)).toThrow(SettingsError);
      expect(() => buildBert(c, { kind: 'random', seed: 1 })).toThrow(message);
      try {
        validateExtendedConfig(c);
      } catch (e) {
        expect((e as Error).message).not.toContain('\n');
      }
    }
    // A Hugging Face BertConfig cannot say any of it.
    expect(() => configToHuggingFace({ ...base, embeddingSize: 8 } as ExtendedBertConfig)).toThrow(
      /embeddingSize cannot be written as a Hugging Face BertConfig/,
    );
  });

  it('seeds RoBERTa tables with their padding row zeroed (padding_idx = padTokenId)', () => {
    const c = EXTENDED.roberta;
    const w = randomBertWeights(c, { seed: 2 });
    for (const name of ['roberta.embeddings.word_embeddings.weight', 'roberta.embeddings.position_embeddings.weight']) {
      const t = w.get(name)!;
      expect(
        t.subarray(32, 64).every((v) => v === 0),
        name,
      ).toBe(true);
      expect(
        t.subarray(0, 32).some((v) => v !== 0),
        name,
      ).toBe(true);
    }
  });
});

describe('dropout sites', () => {
  const configs: Record<string, ExtendedBertConfig> = {
    bert: tinyBertConfig({ numLayers: 2 }),
    'uneven heads with a layer without attention': EXTENDED['uneven heads with a layer without attention'],
    distilbert: EXTENDED.distilbert,
    roberta: EXTENDED.roberta,
    'everything at once': EXTENDED['everything at once (RoBERTa, factorized, shared, uneven)'],
  };
  for (const [name, c] of Object.entries(configs)) {
    it(`${name}: the same initializers as without dropout, and ones give the same logits`, async () => {
      const plain = built(c, { opset: 17 });
      const training = built(c, { opset: 17, dropout: true });
      const inits = (m: Model) => [...m.graph.initializers].map(([k, t]) => [k, t.dims, Buffer.from(t.data).toString('base64')]);
      expect(inits(training)).toEqual(inits(plain));
      const want = await logits(plain, { vocab: c.vocabSize });
      expect(maxAbsDiff(want, await logits(training, { vocab: c.vocabSize }))).toBeLessThan(1e-6);
      // A real mask changes them.
      const noisy = await logits(training, { vocab: c.vocabSize, mask: (k, i) => ((i * 7 + k) % 5 === 0 ? 0 : 1.25) });
      expect(maxAbsDiff(want, noisy)).toBeGreaterThan(1e-4);
    });
  }

  it('masks are named dropout_mask.<n> in graph order, with symbolic shapes and their site', () => {
    const c = configs['uneven heads with a layer without attention'];
    const masks = dropoutMasks(built(c, { dropout: true }));
    const B = 'batch_size';
    const S = 'sequence_length';
    expect(masks).toEqual([
      { name: 'dropout_mask.0', dims: [B, S, 32], site: 'embeddings' },
      { name: 'dropout_mask.1', dims: [B, S, 32], site: 'layer 0 attention output' },
      { name: 'dropout_mask.2', dims: [B, S, 32], site: 'layer 0 FFN output' },
      { name: 'dropout_mask.3', dims: [B, 2, S, S], site: 'layer 1 attention probabilities' },
      { name: 'dropout_mask.4', dims: [B, S, 32], site: 'layer 1 attention output' },
      { name: 'dropout_mask.5', dims: [B, S, 32], site: 'layer 1 FFN output' },
      { name: 'dropout_mask.6', dims: [B, 4, S, S], site: 'layer 2 attention probabilities' },
      { name: 'dropout_mask.7', dims: [B, S, 32], site: 'layer 2 attention output' },
      { name: 'dropout_mask.8', dims: [B, S, 32], site: 'layer 2 FFN output' },
      { name: 'dropout_mask.9', dims: [B, 32], site: 'classifier input' },
    ]);
    expect(dropoutMasks(built(c))).toEqual([]);
    const sites = (cc: ExtendedBertConfig) => dropoutMasks(built(cc, { dropout: true, batchDim: 'n', sequenceDim: 't' })).map((m) => m.site);
    // DistilBERT: no dropout after the attention output projection; RoBERTa's head drops out twice.
    expect(sites(configs.distilbert)).toEqual([
      'embeddings',
      ...[0, 1].flatMap((i) => [`layer ${i} attention probabilities`, `layer ${i} FFN output`]),
      'classifier input',
    ]);
    expect(sites(configs.roberta).filter((s) => s === 'classifier input')).toHaveLength(2);
    expect(dropoutMasks(built(configs.roberta, { dropout: true, batchDim: 'n', sequenceDim: 't' }))[0].dims).toEqual(['n', 't', 32]);
  });

  it('the classifier-input mask sits right before the classifier: zeros there give the classifier bias', async () => {
    const c = configs.bert;
    const w = perturbedWeights(c, 3);
    const training = buildBert(c, { kind: 'given', tensors: w }, { dropout: true });
    const last = dropoutMasks(training).length - 1;
    const out = await logits(training, { vocab: c.vocabSize, mask: (k) => (k === last ? 0 : 1) });
    const bias = w.get('classifier.bias')!;
    for (let i = 0; i < out.length; i++) expect(out[i]).toBeCloseTo(bias[i % bias.length], 6);
  });
});

describe('canonical rebuild refuses what it cannot train', () => {
  it('a quantized model, in one line', async () => {
    const res = await runPipeline(tinyBert({}, { std: 0.2 }), [{ pass: 'quantize', settings: { mode: 'int8' } }]);
    expect(() => canonicalBert(res.model)).toThrow(SettingsError);
    expect(() => canonicalBert(res.model)).toThrow(/is stored quantized \(.*\); train before quantizing/);
    try {
      canonicalBert(res.model);
    } catch (e) {
      expect((e as Error).message).not.toContain('\n');
    }
  });

  it.skipIf(!hasFixtures)('pretraining and question-answering heads (needs ../shared/fixtures/onnx)', () => {
    const pre = loadModel(join(FIXTURES, 'bert-toy-pretraining-torch11-op12.onnx'));
    expect(() => canonicalBert(pre)).toThrow(/^canonical rebuild: the model has a pretraining head \(MLM \+ NSP\): only sequence classifiers are rebuilt$/);
    const qa = loadModel(join(FIXTURES, 'bert-large-qa-squad-tiny-keras2onnx-op11.onnx'));
    expect(() => canonicalBert(qa)).toThrow(SettingsError);
    expect(() => canonicalBert(qa)).toThrow(/question-answering head: only sequence classifiers are rebuilt/);
  });
});

/**
 * A pretraining fixture cut down to its NSP output, its projection renamed a classifier's: a sequence classifier
 * (pooler + 2-label Gemm; under transformers' name cls.seq_relationship it reads as the NSP head it is).
 */
function nspOnly(m: Model): Model {
  const out = cloneModel(m);
  out.graph.outputs = out.graph.outputs.filter((o) => o.name === 'seq_relationship_score');
  pruneGraph(out.graph);
  for (const part of ['weight', 'bias']) renameValue(out.graph, `cls.seq_relationship.${part}`, `classifier.${part}`);
  return out;
}

describe.skipIf(!hasFixtures)('canonical rebuild of the exporter fixtures with a classifier (needs ../shared/fixtures/onnx)', () => {
  const cases: Array<{ file: string; vocab: number; seq?: number; family: string; cut?: boolean; check?: (c: ExtendedBertConfig) => void }> = [
    { file: 'distilbert-seqcls-tiny-torch110-op11.onnx', vocab: 30522, family: 'distilbert' },
    { file: 'bert-seqcls-mrpc-tiny-keras2onnx-op10.onnx', vocab: 20, seq: 7, family: 'bert', check: (c) => expect(c.maxPositions).toBe(7) },
    {
      file: 'xlmroberta-crossencoder-tiny-torch27-op14.onnx',
      vocab: 100,
      family: 'roberta',
      check: (c) => expect([c.padTokenId, c.typeVocabSize, c.layerNormEps, c.numLabels]).toEqual([1, 1, 1e-5, 1]),
    },
    // Not classifiers as stored: cut to the NSP output they are (pre-transposed weights; ORT's packed QKV Attention).
    { file: 'bert-toy-pretraining-torch11-op12.onnx', vocab: 99, family: 'bert', cut: true },
    {
      file: 'bert-toy-pretraining-ort-fused.onnx',
      vocab: 99,
      family: 'bert',
      cut: true,
      check: (c) => expect([c.numHeads, c.intermediateSize, c.typeVocabSize]).toEqual([4, 37, 16]),
    },
  ];
  for (const k of cases) {
    it(`${k.file}${k.cut ? ' (NSP output only)' : ''}`, async () => {
      const loaded = loadModel(join(FIXTURES, k.file));
      const source = k.cut ? nspOnly(loaded) : loaded;
      const canon = canonicalBert(source);
      expect(canon.family).toBe(k.family);
      k.check?.(canon.config);
      const { rebuilt } = await expectSameLogits(source, { vocab: k.vocab, seq: k.seq });
      expect(findBert(rebuilt).family).toBe(k.family);
      const ids = ['input_ids', 'attention_mask', ...(k.family === 'bert' ? ['token_type_ids'] : [])];
      expect(rebuilt.graph.inputs.map((v) => v.name)).toEqual(ids);
    });
  }
});

describe.skipIf(!hasTeachers)('canonical rebuild of the shared teachers (needs ../shared/teachers)', () => {
  for (const name of ['sst2-L2H256', 'sst2-L4H256', 'stsb-L4H256']) {
    it(name, async () => {
      const m = loadModel(join(TEACHERS, name, 'model.onnx'));
      const canon = canonicalBert(m);
      expect(canon.config).toMatchObject({ hiddenSize: 256, numHeads: 4, intermediateSize: 1024, layerNormEps: 1e-12 });
      expect(canon.config.family).toBeUndefined();
      await expectSameLogits(m, { vocab: 30522 });
    });
  }
});

describe.skipIf(!hasTeachers)('canonical rebuild of every compression pass on the 4×256 SST-2 teacher (needs ../shared/teachers)', () => {
  let teacher: Model;
  beforeAll(() => {
    teacher = loadModel(join(TEACHERS, 'sst2-L4H256', 'model.onnx'));
  });
  const HEADS: PassStep = { pass: 'prune-heads', settings: { heads: '0:0,1,2,3;1:1' } };
  const FFN: PassStep = { pass: 'prune-ffn', settings: { ratio: 0.3 } };
  const FACTORIZE: PassStep = { pass: 'factorize-embeddings', settings: { rank: 64 } };
  const cases: Array<{ name: string; steps: PassStep[]; check: (c: ExtendedBertConfig, rebuilt: Model) => void }> = [
    {
      name: 'prune-heads, uneven, layer 0 without attention',
      steps: [HEADS],
      check: (c) => {
        expect(c.layers?.map((l) => l.numHeads)).toEqual([0, 3, 4, 4]);
        expect(attentionHeadSize(c)).toBe(64);
      },
    },
    {
      name: 'prune-ffn 0.3',
      steps: [FFN],
      check: (c) => expect(c.layers === undefined ? c.intermediateSize : Math.max(...c.layers.map((l) => l.intermediateSize))).toBeLessThan(1024),
    },
    { name: 'drop-layers 1,3', steps: [{ pass: 'drop-layers', settings: { layers: '1,3' } }], check: (c) => expect(c.numLayers).toBe(2) },
    {
      name: 'factorize-embeddings rank 64',
      steps: [FACTORIZE],
      check: (c, rebuilt) => {
        expect(c.embeddingSize).toBe(64);
        expect(rebuilt.graph.initializers.get('bert.embeddings.word_embeddings.weight')!.dims).toEqual([30522, 64]);
        expect(findBert(rebuilt).embeddings.word.projection?.inFeatures).toBe(64);
      },
    },
    { name: 'share-layers all', steps: [{ pass: 'share-layers', settings: { share: 'all' } }], check: (c, r) => expectShared(c, r, [0, 0, 0, 0]) },
    { name: 'share-layers groups:2', steps: [{ pass: 'share-layers', settings: { share: 'groups:2' } }], check: (c, r) => expectShared(c, r, [0, 0, 1, 1]) },
    {
      name: 'prune-heads + prune-ffn + factorize-embeddings',
      steps: [HEADS, FFN, FACTORIZE],
      check: (c) => expect([c.layers?.[0].numHeads, c.embeddingSize]).toEqual([0, 64]),
    },
    {
      name: 'factorize-embeddings + share-layers groups:2 + drop-layers 3',
      steps: [FACTORIZE, { pass: 'share-layers', settings: { share: 'groups:2' } }, { pass: 'drop-layers', settings: { layers: '3' } }],
      check: (c, r) => {
        expect(c.embeddingSize).toBe(64);
        expectShared(c, r, [0, 0, 1]);
      },
    },
  ];
  for (const k of cases) {
    it(k.name, async () => {
      const { model } = await runPipeline(teacher, k.steps);
      const canon = canonicalBert(model);
      const { rebuilt } = await expectSameLogits(model, { vocab: 30522 });
      k.check(canon.config, rebuilt);
      // A fixed point: the rebuild reads back as the same config and rebuilds byte for byte.
      expect(canonicalBert(rebuilt).config).toEqual(canon.config);
      expect(bytes(rebuildCanonical(rebuilt)).equals(bytes(rebuilt))).toBe(true);
    });
  }
});

/** Layer groups as expected, and one set of initializers per group (the transposed MatMul weights included). */
function expectShared(c: ExtendedBertConfig, rebuilt: Model, groups: number[]): void {
  expect(c.layerGroups).toEqual(groups);
  const G = new Set(groups).size;
  expect(rebuilt.graph.initializers.size).toBe(bertParameters(c).length);
  const matmulWeights = new Set(
    rebuilt.graph.nodes
      .filter((n) => n.opType === 'MatMul' && rebuilt.graph.initializers.has(n.inputs[1]) && n.name.includes('/encoder/'))
      .map((n) => n.inputs[1]),
  );
  expect(matmulWeights.size).toBe(6 * G);
}
