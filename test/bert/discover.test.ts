import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import { structureProblems } from '../../src/bert/discover/structure-check.ts';
import type { BertStructure, ExporterKind, HeadKind, ModelFamily } from '../../src/bert/structure.ts';
import { loadModel, type Model } from '../../src/onnx/index.ts';
import { FIXTURE_MODELS, TEACHERS, fixture, hasFixtures, hasTeachers } from '../helpers/paths.ts';

interface Expected {
  family: ModelFamily;
  exporter: ExporterKind;
  opset: number;
  layers: number;
  heads: number;
  headSize: number;
  hidden: number;
  ffn: number;
  vocab: number;
  maxPositions: number;
  typeVocab?: number;
  pooler: boolean;
  head: HeadKind;
  numLabels: number;
  outputs: string[];
  headLinears: number;
  inputs: { inputIds: string; attentionMask?: string; tokenTypeIds?: string };
  attention: 'unfused' | 'fused';
  normKind: 'pattern' | 'skip-op';
}

/** The numbers of MANIFEST.md, per fixture. */
const EXPECTED: Record<string, Expected> = {
  'distilbert-seqcls-tiny-torch110-op11.onnx': {
    family: 'distilbert',
    exporter: 'torch',
    opset: 11,
    layers: 2,
    heads: 2,
    headSize: 1,
    hidden: 2,
    ffn: 2,
    vocab: 30522,
    maxPositions: 512,
    pooler: false,
    head: 'sequence-classification',
    numLabels: 2,
    outputs: ['logits'],
    headLinears: 2,
    inputs: { inputIds: 'input_ids', attentionMask: 'attention_mask' },
    attention: 'unfused',
    normKind: 'pattern',
  },
  'bert-seqcls-mrpc-tiny-keras2onnx-op10.onnx': {
    family: 'bert',
    exporter: 'keras2onnx',
    opset: 10,
    layers: 12,
    heads: 2,
    headSize: 4,
    hidden: 8,
    ffn: 32,
    vocab: 20,
    maxPositions: 7,
    typeVocab: 2,
    pooler: true,
    head: 'sequence-classification',
    numLabels: 2,
    outputs: ['output_1'],
    headLinears: 1,
    inputs: { inputIds: 'input_ids', attentionMask: 'attention_mask', tokenTypeIds: 'token_type_ids' },
    attention: 'unfused',
    normKind: 'pattern',
  },
  'bert-large-qa-squad-tiny-keras2onnx-op11.onnx': {
    family: 'bert',
    exporter: 'keras2onnx',
    opset: 11,
    layers: 24,
    heads: 2,
    headSize: 4,
    hidden: 8,
    ffn: 32,
    vocab: 20,
    maxPositions: 10,
    typeVocab: 2,
    pooler: false,
    head: 'question-answering',
    numLabels: 2,
    outputs: ['output_1', 'output_2'],
    headLinears: 1,
    inputs: { inputIds: 'input_ids', attentionMask: 'attention_mask', tokenTypeIds: 'token_type_ids' },
    attention: 'unfused',
    normKind: 'pattern',
  },
  'bert-toy-pretraining-torch11-op12.onnx': {
    family: 'bert',
    exporter: 'torch',
    opset: 12,
    layers: 5,
    heads: 4,
    headSize: 8,
    hidden: 32,
    ffn: 37,
    vocab: 99,
    maxPositions: 512,
    typeVocab: 16,
    pooler: true,
    head: 'pretraining',
    numLabels: 2,
    outputs: ['prediction_scores', 'seq_relationship_score'],
    headLinears: 3,
    inputs: { inputIds: 'input_ids', attentionMask: 'input_mask', tokenTypeIds: 'token_type_ids' },
    attention: 'unfused',
    normKind: 'pattern',
  },
  'bert-toy-pretraining-ort-fused.onnx': {
    family: 'bert',
    exporter: 'ort-fused',
    opset: 12,
    layers: 5,
    heads: 4,
    headSize: 8,
    hidden: 32,
    ffn: 37,
    vocab: 99,
    maxPositions: 512,
    typeVocab: 16,
    pooler: true,
    head: 'pretraining',
    numLabels: 2,
    outputs: ['prediction_scores', 'seq_relationship_score'],
    headLinears: 3,
    inputs: { inputIds: 'input_ids', attentionMask: 'input_mask', tokenTypeIds: 'token_type_ids' },
    attention: 'fused',
    normKind: 'skip-op',
  },
  'xlmroberta-crossencoder-tiny-torch27-op14.onnx': {
    family: 'roberta',
    exporter: 'torch',
    opset: 14,
    layers: 2,
    heads: 2,
    headSize: 16,
    hidden: 32,
    ffn: 64,
    vocab: 100,
    maxPositions: 64,
    typeVocab: 1,
    pooler: false,
    head: 'sequence-classification',
    numLabels: 1,
    outputs: ['logits'],
    headLinears: 2,
    inputs: { inputIds: 'input_ids', attentionMask: 'attention_mask' },
    attention: 'unfused',
    normKind: 'pattern',
  },
};

const cache = new Map<string, { model: Model; s: BertStructure }>();
function discovered(path: string): { model: Model; s: BertStructure } {
  let hit = cache.get(path);
  if (!hit) {
    const model = loadModel(path);
    hit = { model, s: findBert(model, { label: path }) };
    cache.set(path, hit);
  }
  return hit;
}

const nodeByName = (m: Model, name: string) => m.graph.nodes.find((n) => n.name === name)!;

describe.skipIf(!hasFixtures)('findBert on the exporter fixtures (needs ../shared/fixtures/onnx)', () => {
  it('has an expectation for every fixture', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual(FIXTURE_MODELS.map((f) => f.file).sort());
  });

  for (const [file, want] of Object.entries(EXPECTED)) {
    describe(file, () => {
      it('finds the numbers of MANIFEST.md', () => {
        const { s } = discovered(fixture(file));
        expect({
          family: s.family,
          exporter: s.exporter,
          opset: s.opset,
          layers: s.numLayers,
          heads: s.numHeads,
          headSize: s.headSize,
          hidden: s.hiddenSize,
          ffn: s.intermediateSize,
          vocab: s.vocabSize,
          maxPositions: s.maxPositions,
          typeVocab: s.typeVocabSize,
        }).toEqual({
          family: want.family,
          exporter: want.exporter,
          opset: want.opset,
          layers: want.layers,
          heads: want.heads,
          headSize: want.headSize,
          hidden: want.hidden,
          ffn: want.ffn,
          vocab: want.vocab,
          maxPositions: want.maxPositions,
          typeVocab: want.typeVocab,
        });
        expect(s.layers).toHaveLength(want.layers);
        for (const l of s.layers) {
          expect([l.attention!.numHeads, l.attention!.headSize, l.ffn.intermediateSize]).toEqual([want.heads, want.headSize, want.ffn]);
          expect(l.attention!.kind).toBe(want.attention!);
          expect(l.attentionNorm.kind).toBe(want.normKind);
          expect(l.outputNorm.kind).toBe(want.normKind);
          expect(l.ffn.activation).toBe('gelu');
        }
      });

      it('finds the inputs, pooler and task head', () => {
        const { s } = discovered(fixture(file));
        expect(s.inputs).toEqual(want.inputs);
        expect(s.pooler !== undefined).toBe(want.pooler);
        if (s.pooler) expect(s.pooler.activation).toBe('tanh');
        expect(s.head?.kind).toBe(want.head);
        expect(s.head?.numLabels).toBe(want.numLabels);
        expect(s.head?.outputs).toEqual(want.outputs);
        expect(s.head?.linears).toHaveLength(want.headLinears);
      });

      it('names only nodes, initializers and values that exist, with consistent shapes', () => {
        const { model, s } = discovered(fixture(file));
        expect(structureProblems(model, s)).toEqual([]);
      });

      if (want.attention === 'unfused') {
        it('records the head-count and attention-width constants of every layer, and the scale', () => {
          const { s } = discovered(fixture(file));
          for (const l of s.layers) {
            const a = l.attention!;
            const heads = a.headShapeConstants.filter((c) => c.meaning === 'num-heads');
            const width = a.headShapeConstants.filter((c) => c.meaning === 'all-head-size');
            expect(heads.length).toBeGreaterThan(0);
            expect(width.length).toBeGreaterThan(0);
            for (const c of heads) expect(c.value).toBe(want.heads);
            for (const c of width) expect(c.value).toBe(want.heads * want.headSize);
            for (const c of a.headShapeConstants) expect(c.readers?.length).toBeGreaterThan(0);
            expect(a.scale).toBeCloseTo(Math.sqrt(want.headSize), 5);
            expect(a.softmax).toBeTruthy();
          }
        });
      }
    });
  }
});

describe.skipIf(!hasFixtures)('findBert: exporter specifics (needs ../shared/fixtures/onnx)', () => {
  it('torch 1.1: pre-transposed weights, Constant-node shapes, tied MLM decoder, Gemm pooler', () => {
    const { model, s } = discovered(fixture('bert-toy-pretraining-torch11-op12.onnx'));
    const l0 = s.layers[0];
    expect(l0.attention!.q!.weight).toBe('bert.encoder.layer.0.attention.self.query.weight_transposed');
    expect(l0.attention!.q!.layout).toBe('in_out');
    expect(l0.attention!.q!.bias).toBe('bert.encoder.layer.0.attention.self.query.bias');
    expect(l0.ffn.in.weight).toBe('bert.encoder.layer.0.intermediate.dense.weight_transposed');
    // One [0, 0, 4, 8] Constant node per Q/K/V Reshape, element 2; one [0, 0, 32] for the merge, element 2.
    const consts = l0.attention!.headShapeConstants;
    expect(consts.every((c) => c.source === 'constant-node' && c.index === 2)).toBe(true);
    expect(consts.filter((c) => c.meaning === 'num-heads')).toHaveLength(3);
    expect(consts.filter((c) => c.meaning === 'all-head-size').map((c) => c.value)).toEqual([32]);
    expect(s.pooler!.dense).toMatchObject({ weight: 'bert.pooler.dense.weight', layout: 'out_in', inFeatures: 32, outFeatures: 32 });
    const decoder = s.head!.linears[1];
    expect(decoder).toMatchObject({
      weight: 'bert.embeddings.word_embeddings.weight',
      layout: 'out_in',
      inFeatures: 32,
      outFeatures: 99,
      bias: 'cls.predictions.bias',
    });
    expect(s.embeddings.word.weight).toBe(decoder.weight);
    expect(s.head!.linears.map((l) => l.outFeatures)).toEqual([32, 99, 2]);
    // The LayerNorm pattern computes x − mean twice: both Subs are in it.
    expect(l0.attentionNorm.nodes.filter((n) => nodeByName(model, n).opType === 'Sub')).toHaveLength(2);
    expect(l0.attentionNorm.epsilon).toBeCloseTo(1e-12, 15);
  });

  it('ORT-fused: packed QKV Attention, SkipLayerNormalization with the projection bias, BiasGelu, FusedGemm pooler', () => {
    const { s } = discovered(fixture('bert-toy-pretraining-ort-fused.onnx'));
    const l1 = s.layers[1];
    expect(l1.attention!.fused).toEqual({ node: 'Attention_token_7', weight: 'qkv_weights_token_5', bias: 'qkv_bias_token_6' });
    expect(l1.attention!.q).toBeUndefined();
    expect(l1.attention!.headShapeConstants).toEqual([]);
    expect(l1.attention!.output).toMatchObject({ node: 'MatMul_217', bias: 'bert.encoder.layer.1.attention.output.dense.bias' });
    expect(l1.attention!.output.biasNode).toBeUndefined();
    expect(l1.attentionNorm).toMatchObject({ kind: 'skip-op', nodes: ['SkipLayerNormalization_token_24'] });
    expect(l1.ffn.in).toMatchObject({ node: 'MatMul_233', bias: 'bert.encoder.layer.1.intermediate.dense.bias' });
    expect(l1.ffn.activationNodes).toEqual(['BiasGelu_token_17']);
    expect(s.embeddings.norm.kind).toBe('skip-op');
    expect(s.pooler!.dense.node).toBe('fused Gemm_609');
    expect(s.head!.linears.map((l) => l.node)).toEqual(['MatMul_612', 'MatMul_635', 'Gemm_637']);
  });

  it('keras2onnx (MRPC): Tensordot projections, batchnorm LayerNorms, shape constants shared by all layers', () => {
    const { model, s } = discovered(fixture('bert-seqcls-mrpc-tiny-keras2onnx-op10.onnx'));
    const l0 = s.layers[0];
    expect(nodeByName(model, l0.attention!.q!.node).opType).toBe('MatMul');
    expect(l0.attention!.q!.output).toMatch(/query\/BiasAdd:0$/);
    expect(l0.attentionNorm.nodes.map((n) => nodeByName(model, n).opType)).toContain('Reciprocal');
    expect(s.embeddings.position).toMatchObject({ rows: 7 });
    expect(s.embeddings.position!.gather).toBeUndefined();
    // The same int32 initializers hold the head count and widths for all 12 layers; each layer has its own readers.
    const names = (i: number) => s.layers[i].attention!.headShapeConstants.map((c) => `${c.meaning}:${c.name}`).sort();
    for (let i = 1; i < 12; i++) expect(names(i)).toEqual(names(0));
    const readers = new Set(s.layers.flatMap((l) => l.attention!.headShapeConstants.flatMap((c) => c.readers!)));
    expect(readers.size).toBe(12 * l0.attention!.headShapeConstants.length);
    const heads = l0.attention!.headShapeConstants.find((c) => c.meaning === 'num-heads')!;
    expect(heads.source).toBe('initializer');
    expect(model.graph.initializers.get(heads.name)!.dataType).toBe(6);
    expect(s.pooler!.dense.layout).toBe('in_out');
  });

  it('keras2onnx (SQuAD): per-layer shape constants, Q/K/V Tensordot widths, split QA outputs', () => {
    const { s } = discovered(fixture('bert-large-qa-squad-tiny-keras2onnx-op11.onnx'));
    const c0 = s.layers[0].attention!.headShapeConstants;
    expect(c0.filter((c) => c.meaning === 'num-heads')).toHaveLength(3);
    expect(c0.filter((c) => c.meaning === 'all-head-size')).toHaveLength(4);
    const c1 = new Set(s.layers[1].attention!.headShapeConstants.map((c) => c.name));
    expect(c0.some((c) => c1.has(c.name))).toBe(false);
    expect(s.head!.linears[0].outFeatures).toBe(2);
  });

  it('DistilBERT: no token types, Where mask, Q scaled before the MatMul, pre_classifier + ReLU head', () => {
    const { s } = discovered(fixture('distilbert-seqcls-tiny-torch110-op11.onnx'));
    expect(s.embeddings.tokenType).toBeUndefined();
    expect(s.inputs.tokenTypeIds).toBeUndefined();
    expect(s.head!.linears.map((l) => l.weight)).toEqual(['pre_classifier.weight', 'classifier.weight']);
    expect(s.layers[0].attentionNorm.scale).toBe('distilbert.transformer.layer.0.sa_layer_norm.weight');
    expect(s.layers[0].outputNorm.scale).toBe('distilbert.transformer.layer.0.output_layer_norm.weight');
  });

  it('XLM-RoBERTa: CumSum positions, a one-row token type table, biases aliased through Identity, head on <s>', () => {
    const { model, s } = discovered(fixture('xlmroberta-crossencoder-tiny-torch27-op14.onnx'));
    expect(s.embeddings.position!.rows).toBe(64);
    expect(s.embeddings.tokenType!.rows).toBe(1);
    // torch dedupes equal initializers and aliases them with Identity nodes; the structure names the initializer.
    const qBias = s.layers[0].attention!.q!.bias!;
    expect(model.graph.initializers.has(qBias)).toBe(true);
    expect(s.head!.linears.map((l) => l.weight)).toEqual(['classifier.dense.weight', 'classifier.out_proj.weight']);
    expect(s.layers[0].attentionNorm.epsilon).toBeCloseTo(1e-5, 10);
  });
});

describe.skipIf(!hasTeachers)('findBert on the teachers (needs ../shared/teachers)', () => {
  for (const name of ['sst2-L4H256', 'stsb-L4H256']) {
    it(`${name}: the numbers of config.json`, () => {
      const dir = resolve(TEACHERS, name);
      const config = JSON.parse(readFileSync(resolve(dir, 'config.json'), 'utf8'));
      const { model, s } = discovered(resolve(dir, 'model.onnx'));
      expect({
        layers: s.numLayers,
        heads: s.numHeads,
        hidden: s.hiddenSize,
        ffn: s.intermediateSize,
        vocab: s.vocabSize,
        positions: s.maxPositions,
        types: s.typeVocabSize,
        labels: s.head?.numLabels,
      }).toEqual({
        layers: config.num_hidden_layers,
        heads: config.num_attention_heads,
        hidden: config.hidden_size,
        ffn: config.intermediate_size,
        vocab: config.vocab_size,
        positions: config.max_position_embeddings,
        types: config.type_vocab_size,
        labels: config.num_labels,
      });
      expect(s.headSize).toBe(config.hidden_size / config.num_attention_heads);
      expect([s.family, s.exporter, s.opset]).toEqual(['bert', 'torch', 14]);
      expect(s.head!.kind).toBe('sequence-classification');
      expect(s.pooler).toBeDefined();
      expect(s.inputs).toEqual({ inputIds: 'input_ids', attentionMask: 'attention_mask', tokenTypeIds: 'token_type_ids' });
      for (const l of s.layers) {
        expect(l.ffn.activation).toBe('gelu');
        expect(l.attentionNorm.epsilon).toBe(Math.fround(config.layer_norm_eps));
        // torch ≥ 1.10 writes the head count and the merged width as one-element Constant nodes.
        const consts = l.attention!.headShapeConstants;
        expect(consts.every((c) => c.source === 'constant-node')).toBe(true);
        expect(consts.filter((c) => c.meaning === 'num-heads')).toHaveLength(3);
        expect(consts.filter((c) => c.meaning === 'all-head-size').map((c) => c.value)).toEqual([config.hidden_size]);
      }
      expect(structureProblems(model, s)).toEqual([]);
    });
  }
});

describe.skipIf(!hasFixtures)('findBert is read-only (needs ../shared/fixtures/onnx)', () => {
  it('does not change the model', () => {
    const model = loadModel(fixture('bert-toy-pretraining-torch11-op12.onnx'));
    const before = JSON.stringify(model.graph.nodes.map((n) => [n.name, n.opType, n.inputs, n.outputs]));
    const inits = [...model.graph.initializers.keys()];
    findBert(model);
    expect(JSON.stringify(model.graph.nodes.map((n) => [n.name, n.opType, n.inputs, n.outputs]))).toBe(before);
    expect([...model.graph.initializers.keys()]).toEqual(inits);
  });
});
