import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import { summarize, type ModelSummary, type Size } from '../../src/bert/summary.ts';
import { parameterCounts } from '../../src/onnx/size.ts';
import { runPipeline } from '../../src/pass/pipeline.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { syntheticCalibration } from '../helpers/calibration.ts';
import { buildBert } from '../../src/bert/build.ts';
import { bertConfig } from '../../src/bert/config.ts';
import { float32Tensor, int64Tensor, loadModel, modelSize, numElements, tensorBytes, type Model, type Tensor } from '../../src/onnx/index.ts';
import { FIXTURE_MODELS, TEACHERS, fixture, hasFixtures, hasTeachers } from '../helpers/paths.ts';

const plus = (a: Size, b: Size | undefined): Size => (b ? { params: a.params + b.params, bytes: a.bytes + b.bytes } : a);
const total = (parts: Array<Size | undefined>): Size => parts.reduce<Size>((s, p) => plus(s, p), { params: 0, bytes: 0 });

/** Every level of the summary is the sum of the level below, and the top is the sum of everything. */
function expectConsistent(s: ModelSummary): void {
  const e = s.embeddings;
  expect(total([e.word, e.position, e.tokenType, e.norm])).toEqual({ params: e.params, bytes: e.bytes });
  for (const l of s.layers) {
    const a = l.attention;
    expect(total([a.q, a.k, a.v, a.qkv, a.output]).params).toBe(a.params);
    expect(total([a.q, a.k, a.v, a.qkv, a.output]).bytes).toBeLessThanOrEqual(a.bytes); // + head-shape constants
    expect(total([l.ffn.in, l.ffn.out]).params).toBe(l.ffn.params);
    expect(total([a, l.attentionNorm, l.ffn, l.outputNorm])).toEqual({ params: l.params, bytes: l.bytes });
  }
  expect(total([e, ...s.layers, s.pooler, s.head, s.other])).toEqual({ params: s.params, bytes: s.bytes });
}

const cache = new Map<string, { model: Model; s: ModelSummary }>();
function summaryOf(path: string) {
  let hit = cache.get(path);
  if (!hit) {
    const model = loadModel(path);
    hit = { model, s: summarize(model, findBert(model)) };
    cache.set(path, hit);
  }
  return hit;
}

describe.skipIf(!hasFixtures)('summarize on the fixtures (needs ../shared/fixtures/onnx)', () => {
  for (const { file } of FIXTURE_MODELS) {
    it(`${file}: totals are every initializer once, and the parts add up`, () => {
      const { model, s } = summaryOf(fixture(file));
      const counts = parameterCounts(model.graph);
      let params = 0;
      let bytes = 0;
      for (const [name, t] of model.graph.initializers) {
        params += counts.get(name)!;
        bytes += tensorBytes(t);
      }
      expect({ params: s.params, bytes: s.bytes }).toEqual({ params, bytes });
      expect({ params: s.params, bytes: s.bytes }).toEqual(modelSize(model));
      expectConsistent(s);
      // `other` holds no weight matrix: every 2-D parameter belongs to a component.
      for (const name of s.otherInitializers) {
        const t = model.graph.initializers.get(name)!;
        if (counts.get(name)! > 0) expect(t.dims.length).toBeLessThan(2);
      }
    });
  }

  it('counts shared initializers once (XLM-R aliases zero biases through Identity)', () => {
    const { s } = summaryOf(fixture('xlmroberta-crossencoder-tiny-torch27-op14.onnx'));
    // The Q bias is the embeddings LayerNorm's bias tensor: counted in the embeddings, not again in layer 0.
    expect(s.layers[0].attention.q).toEqual({ params: 32 * 32, bytes: 32 * 32 * 4 });
    expect(s.embeddings.norm.params).toBe(64);
    // dense weight, out_proj weight and bias; dense's zero bias is that same shared tensor.
    expect(s.head).toEqual({ params: 32 * 32 + 32 + 1, bytes: (32 * 32 + 32 + 1) * 4 });
  });

  it('counts the tied MLM decoder weight in the word embeddings (torch 1.1 pretraining)', () => {
    const { s } = summaryOf(fixture('bert-toy-pretraining-torch11-op12.onnx'));
    expect(s.embeddings.word.params).toBe(99 * 32);
    // transform dense 32×32+32, its LayerNorm 2×32, decoder bias 99, NSP 2×32+2.
    expect(s.head!.params).toBe(32 * 32 + 32 + 64 + 99 + 66);
    expect(s.pooler!.params).toBe(32 * 32 + 32);
    expect(s.other).toEqual({ params: 0, bytes: 0 });
  });

  it('fused attention: the packed QKV weight and bias', () => {
    const { s } = summaryOf(fixture('bert-toy-pretraining-ort-fused.onnx'));
    for (const l of s.layers) {
      expect(l.attention.qkv!.params).toBe(32 * 96 + 96);
      expect(l.attention.q).toBeUndefined();
      expect(l.attention.params).toBe(32 * 96 + 96 + 32 * 32 + 32);
    }
  });

  it('keras: constants shared by all layers are counted in the first layer only', () => {
    const { s } = summaryOf(fixture('bert-seqcls-mrpc-tiny-keras2onnx-op10.onnx'));
    const linearsBytes = (i: number) => {
      const a = s.layers[i].attention;
      return total([a.q, a.k, a.v, a.output]).bytes;
    };
    expect(s.layers[0].attention.bytes).toBeGreaterThan(linearsBytes(0));
    for (let i = 1; i < s.layers.length; i++) expect(s.layers[i].attention.bytes).toBe(linearsBytes(i));
    expect(s.layers.map((l) => l.params)).toEqual(Array(12).fill(s.layers[0].params));
  });
});

describe.skipIf(!hasTeachers)('summarize on the teachers (needs ../shared/teachers)', () => {
  for (const name of ['sst2-L4H256', 'stsb-L4H256']) {
    it(`${name}: params equal oracle.json's, component by component as BERT counts them`, () => {
      const dir = resolve(TEACHERS, name);
      const oracle = JSON.parse(readFileSync(resolve(dir, 'oracle.json'), 'utf8'));
      const config = JSON.parse(readFileSync(resolve(dir, 'config.json'), 'utf8'));
      const { s } = summaryOf(resolve(dir, 'model.onnx'));
      expect(s.params).toBe(oracle.params);
      if (name === 'sst2-L4H256') expect(s.params).toBe(11171074);
      const h = config.hidden_size;
      const f = config.intermediate_size;
      expect(s.embeddings.word.params).toBe(config.vocab_size * h);
      expect(s.embeddings.position!.params).toBe(config.max_position_embeddings * h);
      expect(s.embeddings.tokenType!.params).toBe(config.type_vocab_size * h);
      expect(s.embeddings.norm.params).toBe(2 * h);
      for (const l of s.layers) {
        expect(l.attention.params).toBe(4 * (h * h + h));
        expect(l.ffn.params).toBe(2 * h * f + f + h);
        expect(l.attentionNorm.params + l.outputNorm.params).toBe(4 * h);
      }
      expect(s.pooler!.params).toBe(h * h + h);
      expect(s.head!.params).toBe(config.num_labels * (h + 1));
      expect(s.other).toEqual({ params: 0, bytes: 0 });
      expect(s.bytes).toBe(4 * s.params);
      expectConsistent(s);
    });
  }
});

describe('summarize: what counts as a parameter', () => {
  it('elements of rank ≥ 1 float / 8-bit initializers; int64 constants and scalars count bytes only', () => {
    const alone = (t: Tensor) =>
      parameterCounts({ name: 'g', nodes: [], inputs: [], outputs: [], valueInfo: [], initializers: new Map([[t.name, t]]) }).get(t.name);
    expect(alone(float32Tensor('w', [3, 4], new Float32Array(12)))).toBe(12);
    expect(alone(float32Tensor('eps', [], [1e-12]))).toBe(0);
    expect(alone(int64Tensor('shape', [4], [0, 0, 4, 64]))).toBe(0);
    expect(alone({ name: 'q', dataType: 3, dims: [2, 2], data: new Uint8Array(4) })).toBe(4);
  });

  it("a node of a custom op named like a JavaScript built-in ('constructor', 'toString') reads its weights as parameters", () => {
    for (const opType of ['constructor', 'toString', '__proto__']) {
      const w = float32Tensor('w', [3, 4], new Float32Array(12));
      const node = { name: 'n', opType, domain: 'my.ops', inputs: ['x', 'w'], outputs: ['y'], attributes: {} };
      const graph = { name: 'g', nodes: [node], inputs: [], outputs: [], valueInfo: [], initializers: new Map([[w.name, w]]) };
      expect(parameterCounts(graph).get('w'), opType).toBe(12);
    }
  });

  it('a quantized model has the parameters of the float model it stores: scales, zero points and packing hold none', async () => {
    registerAllPasses();
    const float = buildBert(bertConfig({ numLayers: 2, hiddenSize: 32, numHeads: 4, intermediateSize: 64, vocabSize: 40, maxPositions: 16 }), {
      kind: 'random',
      seed: 2,
    });
    const { params } = modelSize(float);
    const calibration = syntheticCalibration([4, 3], 40, { classes: 2 });
    const fused = { pass: 'optimize', settings: { rewrites: 'all' } };
    for (const settings of [
      { mode: 'int8' },
      { mode: 'int8', format: 'standard' },
      { mode: 'int8', perChannel: false },
      { mode: 'int8-static' },
      { mode: 'int4-block:16' },
      { mode: 'int8-group:16' },
    ]) {
      for (const before of [[], [fused]]) {
        const what = JSON.stringify([...before, settings]);
        const q = (await runPipeline(float, [...before, { pass: 'quantize', settings }], { calibration })).model;
        expect(modelSize(q).bytes, what).toBeLessThan(modelSize(float).bytes);
        expect(modelSize(q).params, what).toBe(params);
        expect(summarize(q, findBert(q)).params, what).toBe(params);
      }
    }
  });

  it('puts unclaimed initializers in other, with their names', () => {
    const model = buildBert(bertConfig({ numLayers: 1, hiddenSize: 8, numHeads: 2, intermediateSize: 8, vocabSize: 10, maxPositions: 6 }), {
      kind: 'random',
      seed: 1,
    });
    const structure = findBert(model);
    const extra = [
      int64Tensor('unused_shape', [4], [0, 0, 2, 4]),
      float32Tensor('unused_scalar', [], [0.5]),
      float32Tensor('unused_matrix', [2, 3], new Float32Array(6)),
    ];
    for (const t of extra) model.graph.initializers.set(t.name, t);
    const s = summarize(model, structure);
    expect(s.otherInitializers.sort()).toEqual(['unused_matrix', 'unused_scalar', 'unused_shape']);
    expect(s.other).toEqual({ params: 6, bytes: 32 + 4 + 24 });
    expect({ params: s.params, bytes: s.bytes }).toEqual(modelSize(model));
    expect(s.params).toBe([...model.graph.initializers.values()].reduce((n, t) => n + (t.dataType === 1 && t.dims.length ? numElements(t.dims) : 0), 0));
    expectConsistent(s);
  });
});
