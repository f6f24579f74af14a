/**
 * The BiLSTM student for inference: the same function as the training graph, with the recurrence as ONE standard
 * ONNX `LSTM` node (bidirectional, per-row `sequence_lens`), over inputs of any sequence length. Saved as a model
 * folder (model.onnx, config.json with `model_type: "bilstm"`, the teacher's tokenizer files) it is evaluated on
 * GLUE like any model of the project.
 *
 * Sentence pairs are read as one sequence, `[CLS] a [SEP] b [SEP]`, exactly as the tokenizer encodes them.
 */
import { GraphWriter } from '../../onnx/writer.ts';
import { attr } from '../../bert/build-graph.ts';
import { DataType } from '../../onnx/dtype.ts';
import { createModel, type Model } from '../../onnx/graph.ts';
import { SettingsError, quotedText } from '../../errors.ts';
import { readFloat32 } from '../../onnx/tensor.ts';
import { BILSTM_DIRECTIONS, checkBilstmWeights, type BilstmConfig } from './bilstm-config.ts';
import { BILSTM_OPSET, describeBilstm, floatMask3, floatValue, int64Input, maskedMaxPool, mlpHead } from './bilstm-graph.ts';

/**
 * ONNX LSTM's gate order is i, o, f, c; ours (torch's) is i, f, g, o. ONNX_GATE_SOURCE[k] is the index in our
 * order of ONNX gate k.
 */
const ONNX_GATE_SOURCE = [0, 3, 1, 2] as const;

/**
 * The training-layout LSTM weights re-packed for the ONNX LSTM node: W [2, 4H, E], R [2, 4H, H], B [2, 8H]
 * (Wb = our bias, Rb = 0), direction 0 forward and 1 backward, gates i, o, f, c.
 */
export function onnxLstmWeights(config: BilstmConfig, weights: ReadonlyMap<string, Float32Array>): { W: Float32Array; R: Float32Array; B: Float32Array } {
  const { embeddingSize: E, hiddenSize: H } = config;
  const W = new Float32Array(2 * 4 * H * E);
  const R = new Float32Array(2 * 4 * H * H);
  const B = new Float32Array(2 * 8 * H);
  BILSTM_DIRECTIONS.forEach((d, dir) => {
    const w = weights.get(`lstm.${d}.W`)!; // [E, 4H]
    const r = weights.get(`lstm.${d}.R`)!; // [H, 4H]
    const b = weights.get(`lstm.${d}.b`)!; // [4H]
    for (let k = 0; k < 4; k++) {
      const src = ONNX_GATE_SOURCE[k] * H;
      for (let j = 0; j < H; j++) {
        const row = k * H + j; // row of the ONNX [4H, in] matrix
        const col = src + j; // column of our [in, 4H] matrix
        for (let e = 0; e < E; e++) W[(dir * 4 * H + row) * E + e] = w[e * 4 * H + col];
        for (let e = 0; e < H; e++) R[(dir * 4 * H + row) * H + e] = r[e * 4 * H + col];
        B[dir * 8 * H + row] = b[col];
      }
    }
  });
  return { W, R, B };
}

/** The initializers `exportBilstm` writes, by name. */
const EXPORTED = ['embedding.weight', 'lstm.W', 'lstm.R', 'lstm.B', 'mlp.0.weight', 'mlp.0.bias', 'mlp.2.weight', 'mlp.2.bias'] as const;

/**
 * The classifier width of a saved Distilled BiLSTM student (the graph importBilstm reads), undefined for any other
 * model; read from the shapes alone, without the weights.
 */
export function savedBilstmOutputs(model: Model): number | undefined {
  return isSavedBilstm(model) ? model.graph.initializers.get('mlp.2.weight')!.dims[1] : undefined;
}

/** Whether `model` is a graph exportBilstm wrote: one LSTM node and the float initializers it names. */
function isSavedBilstm(model: Model): boolean {
  const init = model.graph.initializers;
  return model.graph.nodes.filter((n) => n.opType === 'LSTM').length === 1 && EXPORTED.every((n) => init.get(n)?.dataType === DataType.FLOAT);
}

/**
 * The inverse of `exportBilstm`: the config and training-layout weights of a saved Distilled BiLSTM student (its
 * graph holds one bidirectional LSTM node and the initializers exportBilstm names), so that it can be trained
 * further; `maxLength` is the length the training graph unrolls to. Undefined when `model` is not one. The LSTM's
 * two biases are summed into the cell's one (they are added together), so a model this project wrote comes back
 * bit for bit.
 */
export function importBilstm(
  model: Model,
  maxLength: number,
  label = `graph ${quotedText(model.graph.name)}`,
): { config: BilstmConfig; weights: Map<string, Float32Array> } | undefined {
  if (!isSavedBilstm(model)) return undefined;
  const init = model.graph.initializers;
  const dims = (n: (typeof EXPORTED)[number]) => init.get(n)!.dims;
  const [V, E] = dims('embedding.weight');
  const H = dims('lstm.R')[2];
  const [twoH, M] = dims('mlp.0.weight');
  const K = dims('mlp.2.weight')[1];
  const config: BilstmConfig = { vocabSize: V, embeddingSize: E, hiddenSize: H, mlpSize: M, numLabels: K, maxLength };
  const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i]);
  if (!(same(dims('lstm.W'), [2, 4 * H, E]) && same(dims('lstm.R'), [2, 4 * H, H]) && same(dims('lstm.B'), [2, 8 * H]) && twoH === 2 * H)) {
    throw new SettingsError(`${label}: LSTM weights of unexpected shapes (not a BiLSTM student this tool wrote)`);
  }
  const W = readFloat32(init.get('lstm.W')!);
  const R = readFloat32(init.get('lstm.R')!);
  const B = readFloat32(init.get('lstm.B')!);
  const weights = new Map<string, Float32Array>([['embedding.weight', readFloat32(init.get('embedding.weight')!)]]);
  BILSTM_DIRECTIONS.forEach((d, dir) => {
    const w = new Float32Array(E * 4 * H);
    const r = new Float32Array(H * 4 * H);
    const b = new Float32Array(4 * H);
    for (let k = 0; k < 4; k++) {
      const src = ONNX_GATE_SOURCE[k] * H;
      for (let j = 0; j < H; j++) {
        const row = k * H + j;
        const col = src + j;
        for (let e = 0; e < E; e++) w[e * 4 * H + col] = W[(dir * 4 * H + row) * E + e];
        for (let e = 0; e < H; e++) r[e * 4 * H + col] = R[(dir * 4 * H + row) * H + e];
        b[col] = B[dir * 8 * H + row] + B[dir * 8 * H + 4 * H + row];
      }
    }
    weights.set(`lstm.${d}.W`, w).set(`lstm.${d}.R`, r).set(`lstm.${d}.b`, b);
  });
  for (const n of ['mlp.0.weight', 'mlp.0.bias', 'mlp.2.weight', 'mlp.2.bias'] as const) weights.set(n, readFloat32(init.get(n)!));
  checkBilstmWeights(config, weights);
  return { config, weights };
}

/**
 * The inference model: inputs `input_ids`, `attention_mask` int64 [batch, sequence] (any length; right padding),
 * output `logits` float [batch, numLabels]. Embedding Gather → Transpose to [seq, batch, E] → LSTM with
 * sequence_lens = Σ attention_mask (int32) → [batch, seq, 2H] → masked max over time → MLP. Every row needs at
 * least one real token.
 */
export function exportBilstm(config: BilstmConfig, weights: ReadonlyMap<string, Float32Array>): Model {
  checkBilstmWeights(config, weights);
  const { vocabSize: V, embeddingSize: E, hiddenSize: H } = config;
  const w = new GraphWriter();
  const table = w.weight('embedding.weight', [V, E], weights.get('embedding.weight')!);
  const emb = w.op('Gather', [table, 'input_ids'], {}, 'embeddings', '/embedding');
  const x = w.op('Transpose', [emb], { perm: attr.ints([1, 0, 2]) }, undefined, '/lstm');
  const lengths64 = w.op('ReduceSum', ['attention_mask', w.int64Vector([1])], { keepdims: attr.int(0) }, undefined, '/lstm');
  const lengths = w.op('Cast', [lengths64], { to: attr.int(DataType.INT32) }, 'sequence_lens', '/lstm');
  const packed = onnxLstmWeights(config, weights);
  const Wn = w.weight('lstm.W', [2, 4 * H, E], packed.W);
  const Rn = w.weight('lstm.R', [2, 4 * H, H], packed.R);
  const Bn = w.weight('lstm.B', [2, 8 * H], packed.B);
  // Y: [seq, 2, batch, H] (zero past each row's length).
  const y = w.op(
    'LSTM',
    [x, Wn, Rn, Bn, lengths],
    { hidden_size: attr.int(H), direction: { type: 'string', value: new TextEncoder().encode('bidirectional') } },
    undefined,
    '/lstm',
  );
  const byRow = w.op('Transpose', [y], { perm: attr.ints([2, 0, 1, 3]) }, undefined, '/lstm');
  const states = w.op('Reshape', [byRow, w.int64Vector([0, 0, 2 * H])], {}, 'lstm_states', '/lstm');
  const pooled = maskedMaxPool(w, states, floatMask3(w, 'attention_mask'));
  mlpHead(w, config, weights, pooled);
  return createModel(
    {
      name: 'bilstm_student',
      nodes: w.nodes,
      inputs: [int64Input('input_ids', ['batch', 'sequence']), int64Input('attention_mask', ['batch', 'sequence'])],
      outputs: [floatValue('logits', ['batch', config.numLabels])],
      initializers: w.initializers,
      valueInfo: [],
      docString: `Distilled BiLSTM student (Tang et al. 2019): ${describeBilstm(config)}`,
    },
    [{ domain: '', version: BILSTM_OPSET }],
  );
}

/**
 * The config.json of a saved student: the sizes, `model_type: "bilstm"`, labels (`id2label`: the names in id order, as
 * configId2label reads a source's) and max_length.
 */
export function bilstmConfigJson(
  config: BilstmConfig,
  opts: { id2label?: readonly string[]; problemType?: string; task?: string } = {},
): Record<string, unknown> {
  const json: Record<string, unknown> = {
    architectures: ['BilstmForSequenceClassification'],
    model_type: 'bilstm',
    vocab_size: config.vocabSize,
    embedding_size: config.embeddingSize,
    hidden_size: config.hiddenSize,
    mlp_size: config.mlpSize,
    num_labels: config.numLabels,
    max_length: config.maxLength,
  };
  if (opts.id2label) {
    const entries = opts.id2label.map((v, i) => [i, v] as const);
    if (entries.length !== config.numLabels) {
      throw new SettingsError(`BiLSTM config.json: ${entries.length} labels in id2label for ${config.numLabels} outputs`);
    }
    json.id2label = Object.fromEntries(entries.map(([k, v]) => [String(k), v]));
    json.label2id = Object.fromEntries(entries.map(([k, v]) => [v, k]));
  }
  if (opts.problemType) json.problem_type = opts.problemType;
  if (opts.task) json.finetuning_task = opts.task;
  return json;
}
