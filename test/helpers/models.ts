/**
 * Small BERTs for tests: `tinyBert()` builds a seeded BertForSequenceClassification graph (the graph torch's
 * exporter writes), `writeTinyBert()` saves one to a temporary folder, and `referenceBertLogits()` is a plain
 * TypeScript forward pass of the same model (float64) to check graphs numerically.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBert, type WeightSource } from '../../src/bert/build.ts';
import { type BertConfig, bertConfig } from '../../src/bert/config.ts';
import { bertParameters, layerParamNames, randomBertWeights } from '../../src/bert/build-weights.ts';
import { Rng } from '../../src/bert/random.ts';
import type { Model, Node } from '../../src/onnx/index.ts';
import { cloneModel, createModel, DataType, encodeModel, renameValue, saveModel } from '../../src/onnx/index.ts';
import { float32Tensor, int64Tensor } from '../../src/onnx/tensor.ts';
import { openSession, Tensor, type Feeds } from '../../src/runtime/session.ts';
import { encoderLayer, layerNorm, linear } from './reference-ops.ts';

/** The tiny config: 2 layers × 4 heads × 32 hidden (FFN 64), vocab 128, 64 positions, 2 labels, erf GELU. */
export const TINY_CONFIG: Readonly<BertConfig> = Object.freeze({
  numLayers: 2,
  hiddenSize: 32,
  numHeads: 4,
  intermediateSize: 64,
  vocabSize: 128,
  maxPositions: 64,
  typeVocabSize: 2,
  numLabels: 2,
  activation: 'gelu',
  layerNormEps: 1e-12,
});

/** The tiny config with `overrides` (validated). */
export function tinyBertConfig(overrides: Partial<BertConfig> = {}): BertConfig {
  return bertConfig({ ...TINY_CONFIG, ...overrides });
}

export interface TinyBertOptions {
  /** PRNG seed of the weights (default 1). */
  seed?: number;
  /** Std of matrices and embeddings (default 0.02, as transformers initializes). */
  std?: number;
}

/** A seeded tiny BERT graph (see TINY_CONFIG); `overrides` change the config. */
export function tinyBert(overrides: Partial<BertConfig> = {}, opts: TinyBertOptions = {}): Model {
  const source: WeightSource = { kind: 'random', seed: opts.seed ?? 1, std: opts.std };
  return buildBert(tinyBertConfig(overrides), source);
}

/** A tiny BERT saved as `<dir>/model.onnx` in a fresh temporary folder; `cleanup()` removes the folder. */
export function writeTinyBert(overrides: Partial<BertConfig> = {}, opts: TinyBertOptions = {}): { dir: string; path: string; model: Model; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'bert-compress-tiny-'));
  const path = join(dir, 'model.onnx');
  const model = tinyBert(overrides, opts);
  saveModel(model, path);
  return { dir, path, model, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A batch of token ids with its attention mask and token types, row-major [batch][seq]. */
export interface TokenBatch {
  inputIds: number[][];
  attentionMask: number[][];
  tokenTypeIds: number[][];
}

/**
 * A padded batch: one row per length in `lengths`, padded with id 0 to the longest; ids drawn in [1, vocab) from a
 * simple LCG on `seed`; token types 0 for the first half of each row and 1 after (when typeVocab > 1).
 */
export function paddedBatch(lengths: number[], vocabSize: number, seed = 7, typeVocabSize = 2): TokenBatch {
  const seq = Math.max(...lengths);
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const rows = lengths.map((len) => {
    const ids = Array.from({ length: seq }, (_, j) => (j < len ? 1 + Math.floor(next() * (vocabSize - 1)) : 0));
    const mask = Array.from({ length: seq }, (_, j) => (j < len ? 1 : 0));
    const types = Array.from({ length: seq }, (_, j) => (typeVocabSize > 1 && j < len && j >= len / 2 ? 1 : 0));
    return { ids, mask, types };
  });
  return { inputIds: rows.map((r) => r.ids), attentionMask: rows.map((r) => r.mask), tokenTypeIds: rows.map((r) => r.types) };
}

/** onnxruntime feeds (int64 [batch, seq]) for a batch. */
export function batchFeeds(b: TokenBatch): Feeds {
  const dims = [b.inputIds.length, b.inputIds[0].length];
  const t = (rows: number[][]) =>
    new Tensor(
      'int64',
      BigInt64Array.from(rows.flat(), (v) => BigInt(v)),
      dims,
    );
  return { input_ids: t(b.inputIds), attention_mask: t(b.attentionMask), token_type_ids: t(b.tokenTypeIds) };
}

/**
 * Logits of BertForSequenceClassification (eval mode) computed directly, in float64: the reference the built graph
 * must match. `weight(name)` gives a parameter by Hugging Face name in torch layout.
 */
export function referenceBertLogits(c: BertConfig, weight: (name: string) => Float32Array, batch: TokenBatch): number[][] {
  const h = c.hiddenSize;
  const word = weight('bert.embeddings.word_embeddings.weight');
  const pos = weight('bert.embeddings.position_embeddings.weight');
  const type = weight('bert.embeddings.token_type_embeddings.weight');
  const act = c.activation === 'gelu_tanh' ? 'gelu_new' : c.activation;
  return batch.inputIds.map((ids, b) => {
    let x = ids.map((id, s) => {
      const t = batch.tokenTypeIds[b][s];
      const v = new Float64Array(h);
      for (let j = 0; j < h; j++) v[j] = word[id * h + j] + pos[s * h + j] + type[t * h + j];
      return layerNorm(v, weight('bert.embeddings.LayerNorm.weight'), weight('bert.embeddings.LayerNorm.bias'), c.layerNormEps);
    });
    for (let l = 0; l < c.numLayers; l++) {
      x = encoderLayer(x, batch.attentionMask[b], { names: layerParamNames(l), weight, numHeads: c.numHeads, act, eps: c.layerNormEps });
    }
    const pooled = linear(weight('bert.pooler.dense.weight'), weight('bert.pooler.dense.bias'), x[0]).map(Math.tanh);
    return Array.from(linear(weight('classifier.weight'), weight('classifier.bias'), pooled));
  });
}

/** Seeded weights with every parameter away from its init (LayerNorm scales near 1, biases non-zero), so a
 * numeric comparison exercises every parameter. */
export function perturbedWeights(c: BertConfig, seed: number): Map<string, Float32Array> {
  const w = randomBertWeights(c, { seed, std: 0.3 });
  for (const p of bertParameters(c)) {
    if (p.init === 'ones' || p.init === 'zeros') new Rng(seed, `${p.name}#perturb`).fillNormal(w.get(p.name)!, p.init === 'ones' ? 1 : 0, 0.1);
  }
  return w;
}

/**
 * The `logits` output of a model (path or in-memory) on a token batch, as rows, with its dims; only the inputs the
 * graph has are fed (DistilBERT and RoBERTa have no token_type_ids).
 */
export async function batchLogits(model: Model | string, batch: TokenBatch): Promise<{ dims: readonly number[]; rows: number[][] }> {
  const s = await openSession(typeof model === 'string' ? model : encodeModel(model));
  try {
    const all = batchFeeds(batch);
    const t = (await s.run(Object.fromEntries(s.inputNames.filter((n) => n in all).map((n) => [n, all[n]])))).logits;
    const data = Array.from(t.data as Float32Array);
    const n = t.dims[1];
    return { dims: t.dims, rows: Array.from({ length: t.dims[0] }, (_, i) => data.slice(i * n, (i + 1) * n)) };
  } finally {
    await s.release();
  }
}

/** Largest |a − b| over two equally shaped row lists. */
export function maxRowDiff(a: number[][], b: number[][]): number {
  let m = 0;
  a.forEach((row, i) => row.forEach((v, j) => (m = Math.max(m, Math.abs(v - b[i][j])))));
  return m;
}

/**
 * A copy of a tiny BERT (`tinyBert()`'s graph) with the last layer's output as a first graph output `output_0`, its
 * logits renamed `output_1`, and no output shapes: the outputs an exporter writes without names or shapes.
 */
export function withUnshapedOutputs(model: Model): Model {
  const m = cloneModel(model);
  const g = m.graph;
  const classifier = g.nodes.find((n) => n.outputs[0] === 'logits')!;
  const lastNorm = g.nodes.filter((n) => n.name.startsWith('/bert/encoder/layer.1/output/LayerNorm/')).at(-1)!;
  classifier.outputs[0] = 'output_1';
  g.nodes.push({ name: '/hidden/Identity', opType: 'Identity', domain: '', inputs: [lastNorm.outputs[0]!], outputs: ['output_0'], attributes: {} });
  g.outputs = [
    { name: 'output_0', elemType: 1 },
    { name: 'output_1', elemType: 1 },
  ];
  return m;
}

/** A node of the default domain, attributes as given (none by default). */
export const onnxNode = (name: string, opType: string, inputs: string[], outputs: string[], attributes: Node['attributes'] = {}): Node => ({
  name,
  opType,
  domain: '',
  inputs,
  outputs,
  attributes,
});

const AXIS_0: Node['attributes'] = { axis: { type: 'int', value: 0 } };

/**
 * A classifier discovery does not read: the mean of the ids' rows of a [rows, 4] table (plus, with `typeRows`, the
 * token types' rows of a [typeRows, 4] table), times a [4, labels] matrix.
 */
export function tableClassifier(rows: number, { typeRows, labels = 2 }: { typeRows?: number; labels?: number } = {}): Model {
  const types = typeRows !== undefined;
  const table = (name: string, r: number, w: number) =>
    float32Tensor(
      name,
      [r, w],
      Array.from({ length: r * w }, (_, i) => Math.sin(i + r)),
    );
  return createModel(
    {
      name: 'g',
      nodes: [
        onnxNode('cast', 'Cast', ['input_ids'], ['ids32'], { to: { type: 'int', value: DataType.INT32 } }),
        onnxNode('gather', 'Gather', ['table', 'ids32'], ['rows']),
        ...(types
          ? [onnxNode('types', 'Gather', ['type_table', 'token_type_ids'], ['type_rows']), onnxNode('add', 'Add', ['rows', 'type_rows'], ['sum'])]
          : []),
        onnxNode('mean', 'ReduceMean', [types ? 'sum' : 'rows'], ['pooled'], { axes: { type: 'ints', value: [1] }, keepdims: { type: 'int', value: 0 } }),
        onnxNode('scores', 'MatMul', ['pooled', 'w'], ['logits']),
      ],
      inputs: [
        { name: 'input_ids', elemType: DataType.INT64, shape: ['batch', 'seq'] },
        { name: 'attention_mask', elemType: DataType.INT64, shape: ['batch', 'seq'] },
        ...(types ? [{ name: 'token_type_ids', elemType: DataType.INT64, shape: ['batch', 'seq'] }] : []),
      ],
      outputs: [{ name: 'logits', elemType: DataType.FLOAT, shape: ['batch', labels] }],
      initializers: new Map([
        ['table', table('table', rows, 4)],
        ['w', table('w', 4, labels)],
        ...(types ? ([['type_table', table('type_table', typeRows, 4)]] as const) : []),
      ]),
      valueInfo: [],
    },
    [{ domain: '', version: 13 }],
  );
}

/**
 * A tiny 2-label BERT whose classifier's weight and bias are named `prefix`.weight and `prefix`.bias: under
 * transformers' name cls.seq_relationship, a next-sentence-prediction head alone (BertForNextSentencePrediction).
 */
export function tinyBertHeadNamed(prefix: string): Model {
  const m = tinyBert({ numLabels: 2 }, { seed: 3 });
  for (const part of ['weight', 'bias']) renameValue(m.graph, `classifier.${part}`, `${prefix}.${part}`);
  return m;
}

/**
 * A tiny one-label BERT as torch exports BertForMultipleChoice: each input [batch, num_choices, sequence] reshaped to
 * [-1, sequence], the logits reshaped to [-1, num_choices] (declared `scores`).
 */
export function multipleChoiceExport(scores: Array<string | number> = ['batch', 'num_choices']): Model {
  const m = tinyBert({ numLabels: 1 }, { seed: 5 });
  const g = m.graph;
  const ids = g.inputs[0]!.name;
  g.initializers.set('mc_minus1', int64Tensor('mc_minus1', [1], [-1]));
  g.initializers.set('mc_1', int64Tensor('mc_1', [1], [1]));
  g.initializers.set('mc_2', int64Tensor('mc_2', [1], [2]));
  const front = [
    onnxNode('mc_shape', 'Shape', [ids], ['mc_ids_shape']),
    onnxNode('mc_sequence', 'Gather', ['mc_ids_shape', 'mc_2'], ['mc_sequence'], AXIS_0),
    onnxNode('mc_choices', 'Gather', ['mc_ids_shape', 'mc_1'], ['mc_choices'], AXIS_0),
    onnxNode('mc_flat', 'Concat', ['mc_minus1', 'mc_sequence'], ['mc_flat_shape'], AXIS_0),
    onnxNode('mc_scores', 'Concat', ['mc_minus1', 'mc_choices'], ['mc_scores_shape'], AXIS_0),
  ];
  for (const input of g.inputs) {
    const flat = `${input.name}_flat`;
    for (const n of g.nodes) n.inputs = n.inputs.map((x) => (x === input.name ? flat : x));
    front.push(onnxNode(`mc_flatten_${input.name}`, 'Reshape', [input.name, 'mc_flat_shape'], [flat]));
    input.shape = ['batch', 'num_choices', 'sequence'];
  }
  g.nodes.unshift(...front);
  const out = g.outputs[0]!;
  for (const n of g.nodes) n.outputs = n.outputs.map((x) => (x === out.name ? 'mc_flat_logits' : x));
  g.nodes.push(onnxNode('mc_reshape_scores', 'Reshape', ['mc_flat_logits', 'mc_scores_shape'], [out.name]));
  out.shape = scores;
  return m;
}
