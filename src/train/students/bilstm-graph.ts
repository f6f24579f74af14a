/**
 * The BiLSTM student's TRAINING graph: the LSTM unrolled over the fixed length L with standard ops only (MatMul,
 * Add, Sub, Mul, Sigmoid, Tanh, Relu, Gather, Split, Concat, Unsqueeze, Reshape, Transpose, ReduceMax, Cast), so the
 * reverse-mode differentiator can build its gradient graph. Every weight is a float32 initializer under its
 * training-layout name (bilstm-config.ts).
 *
 * Sentence pairs (MRPC, STS-B, …) are not encoded separately: the whole `[CLS] a [SEP] b [SEP]` token sequence the
 * tokenizer makes is read as one sequence.
 *
 * Dataflow, for a batch right-padded to L (m_t = attention_mask[:, t]):
 *   e = embedding[input_ids]                       [B, L, E]   (× dropout_mask.0)
 *   p_d = e · W_d + b_d                            [B, L, 4H]  once per direction, all steps at once
 *   step t: z = p_d[:, t] + h · R_d, gates i f g o, c' = σf·c + σi·tanh g, h' = σo·tanh c'
 *           h = m_t·h' + (1−m_t)·h, c = m_t·c' + (1−m_t)·c   (padding leaves the state as it was)
 *   forward runs t = 0 … L−1, backward t = L−1 … 0 (with right padding it starts at each row's last token);
 *   step k runs both cells at once, stacked [2, B, ·] (the forward one at t = k, the backward one at t = L−1−k)
 *   pooled = [max_t (h_fw·m + (m−1)·1e9); the same of h_bw]   [B, 2H]   (padding never wins the max; × dropout_mask.1)
 *   logits = relu(pooled · mlp.0 + b) · mlp.2 + b  [B, numLabels]
 */
import { GraphWriter } from '../../onnx/writer.ts';
import { attr } from '../../bert/build-graph.ts';
import { DataType } from '../../onnx/dtype.ts';
import { createModel, type Model, type ValueInfo } from '../../onnx/graph.ts';
import { BILSTM_DIRECTIONS, checkBilstmWeights, type BilstmConfig } from './bilstm-config.ts';

export const BILSTM_OPSET = 17;

/** Added to the states at padding positions before the max over time: far below any tanh-bounded state. */
export const BILSTM_POOL_MASK_VALUE = -1e9;

export interface BilstmGraphOptions {
  /** Multiply in dropout masks fed as float32 graph inputs (see bilstmDropoutMasks). Default false. */
  dropout?: boolean;
}

/** One dropout mask input of the training graph. */
export interface BilstmDropoutMask {
  /** Graph input name, `dropout_mask.<n>`. */
  name: string;
  /** Shape; 'batch' is the batch dimension. */
  shape: Array<number | 'batch'>;
  /** Which value it multiplies. */
  appliesTo: string;
}

/**
 * The dropout masks of `bilstmTrainingGraph(config, weights, { dropout: true })`, in input order. Feed inverted
 * dropout masks: each element 0 (dropped) or 1/(1−p) (kept), so no rescaling is needed at evaluation, where the
 * masks are absent (or all ones).
 */
export function bilstmDropoutMasks(config: BilstmConfig): BilstmDropoutMask[] {
  return [
    { name: 'dropout_mask.0', shape: ['batch', config.maxLength, config.embeddingSize], appliesTo: 'word embeddings [batch, L, E]' },
    { name: 'dropout_mask.1', shape: ['batch', 2 * config.hiddenSize], appliesTo: 'max-pooled BiLSTM features, the MLP input [batch, 2H]' },
  ];
}

export const int64Input = (name: string, shape: Array<number | string>): ValueInfo => ({ name, elemType: DataType.INT64, shape });
export const floatValue = (name: string, shape: Array<number | string>): ValueInfo => ({ name, elemType: DataType.FLOAT, shape });

/** attention_mask as float [B, S, 1]. */
export function floatMask3(w: GraphWriter, mask: string): string {
  const maskF = w.op('Cast', [mask], { to: attr.int(DataType.FLOAT) }, undefined, '/mask');
  return w.op('Unsqueeze', [maskF, w.int64Vector([2])], {}, undefined, '/mask');
}

/**
 * The masked max over time of `states` (time on `axis`; e.g. [B, S, 2H] with mask3 [B, S, 1], float 0/1):
 * states·m + (m−1)·1e9, then ReduceMax over the time axis (dropped). Exact at real positions (m = 1), −1e9 at
 * padding.
 */
export function maskedMaxPool(w: GraphWriter, states: string, mask3: string, axis = 1): string {
  const kept = w.op('Mul', [states, mask3], {}, undefined, '/pool');
  const off = w.op('Sub', [mask3, w.floatScalar(1)], {}, undefined, '/pool');
  const penalty = w.op('Mul', [off, w.floatScalar(-BILSTM_POOL_MASK_VALUE)], {}, undefined, '/pool');
  const masked = w.op('Add', [kept, penalty], {}, undefined, '/pool');
  return w.op('ReduceMax', [masked], { axes: attr.ints([axis]), keepdims: attr.int(0) }, axis === 1 ? 'pooled' : undefined, '/pool');
}

/** The MLP head: Linear(2H → M) + ReLU + Linear(M → numLabels), writing the graph output `logits`. */
export function mlpHead(w: GraphWriter, config: BilstmConfig, weights: ReadonlyMap<string, Float32Array>, pooled: string): string {
  const { hiddenSize: H, mlpSize: M, numLabels: K } = config;
  const w0 = w.weight('mlp.0.weight', [2 * H, M], weights.get('mlp.0.weight')!);
  const b0 = w.weight('mlp.0.bias', [M], weights.get('mlp.0.bias')!);
  const w2 = w.weight('mlp.2.weight', [M, K], weights.get('mlp.2.weight')!);
  const b2 = w.weight('mlp.2.bias', [K], weights.get('mlp.2.bias')!);
  const hidden = w.op('Relu', [w.op('Add', [w.op('MatMul', [pooled, w0], {}, undefined, '/mlp.0'), b0], {}, undefined, '/mlp.0')], {}, undefined, '/mlp.1');
  return w.op('Add', [w.op('MatMul', [hidden, w2], {}, undefined, '/mlp.2'), b2], {}, 'logits', '/mlp.2');
}

/**
 * The training graph: inputs `input_ids`, `attention_mask` int64 [batch, L] (right-padded to exactly L =
 * config.maxLength), plus `dropout_mask.<n>` float32 with `dropout: true`; output `logits` float [batch,
 * numLabels]. See the file comment for the computation.
 */
export function bilstmTrainingGraph(config: BilstmConfig, weights: ReadonlyMap<string, Float32Array>, opts: BilstmGraphOptions = {}): Model {
  checkBilstmWeights(config, weights);
  const { vocabSize: V, embeddingSize: E, hiddenSize: H, maxLength: L } = config;
  const w = new GraphWriter();
  const masks = opts.dropout ? bilstmDropoutMasks(config) : [];

  const table = w.weight('embedding.weight', [V, E], weights.get('embedding.weight')!);
  let emb = w.op('Gather', [table, 'input_ids'], {}, 'embeddings', '/embedding');
  if (masks.length) emb = w.op('Mul', [emb, masks[0].name], {}, undefined, '/dropout.0');

  // Both directions advance together: step k computes the forward cell at time k and the backward cell at time
  // L−1−k as one [2, B, ·] computation (direction first, so h·R is one batched MatMul of two [B, H]·[H, 4H]
  // products). Half the nodes of one cell chain per direction, and onnxruntime's session creation grows faster than
  // the node count. Steps, masks and gates are taken with Split, whose gradient is one Concat: a Gather per step
  // would scatter each step's gradient into a zero tensor as large as all the steps (quadratic in L).
  const stepSizes = w.int64Vector(new Array<number>(L).fill(1));
  const gateSizes = w.int64Vector([H, H, H, H]);
  const stacked = (names: string[], scope: string) =>
    w.op(
      'Concat',
      names.map((n) => w.op('Unsqueeze', [n, w.int64Vector([0])], {}, undefined, scope)),
      { axis: attr.int(0) },
      undefined,
      scope,
    );
  const R = stacked(
    BILSTM_DIRECTIONS.map((d) => w.weight(`lstm.${d}.R`, [H, 4 * H], weights.get(`lstm.${d}.R`)!)),
    '/lstm',
  ); // [2, H, 4H]
  // Input projections of every step, per direction in one MatMul, time first: [L, B, 4H], split into L steps.
  const inputSteps = BILSTM_DIRECTIONS.map((d) => {
    const scope = `/lstm.${d}`;
    const W = w.weight(`lstm.${d}.W`, [E, 4 * H], weights.get(`lstm.${d}.W`)!);
    const b = w.weight(`lstm.${d}.b`, [4 * H], weights.get(`lstm.${d}.b`)!);
    const projected = w.op('Add', [w.op('MatMul', [emb, W], {}, undefined, scope), b], {}, undefined, scope);
    const timeFirst = w.op('Transpose', [projected], { perm: attr.ints([1, 0, 2]) }, undefined, scope);
    return w.opN('Split', [timeFirst, stepSizes], { axis: attr.int(0) }, L, undefined, scope); // [1, B, 4H] each
  });
  // m_t as [1, B, 1] per time step.
  const mask3 = floatMask3(w, 'attention_mask');
  const maskTime = w.op('Transpose', [mask3], { perm: attr.ints([1, 0, 2]) }, undefined, '/mask');
  const maskSteps = w.opN('Split', [maskTime, stepSizes], { axis: attr.int(0) }, L, undefined, '/mask');
  const hs: string[] = [];
  const keeps: string[] = [];
  let h: string | null = null;
  let c: string | null = null;
  for (let k = 0; k < L; k++) {
    const s = `/lstm/step${k}`;
    const back = L - 1 - k;
    // [2, B, 4H]: the forward input at time k, the backward one at time L−1−k; their masks likewise [2, B, 1].
    const x = w.op('Concat', [inputSteps[0]![k]!, inputSteps[1]![back]!], { axis: attr.int(0) }, undefined, s);
    const keep = w.op('Concat', [maskSteps[k]!, maskSteps[back]!], { axis: attr.int(0) }, undefined, s);
    const hold = w.op('Sub', [w.floatScalar(1), keep], {}, undefined, s);
    const z = h ? w.op('Add', [x, w.op('MatMul', [h, R], {}, undefined, s)], {}, undefined, s) : x;
    const gates = w.opN('Split', [z, gateSizes], { axis: attr.int(2) }, 4, undefined, s); // i f g o, [2, B, H] each
    const gate = (index: number, act: 'Sigmoid' | 'Tanh') => w.op(act, [gates[index]!], {}, undefined, s);
    const i = gate(0, 'Sigmoid');
    const g = gate(2, 'Tanh');
    const o = gate(3, 'Sigmoid');
    const ig = w.op('Mul', [i, g], {}, undefined, s);
    const cNew = c ? w.op('Add', [w.op('Mul', [gate(1, 'Sigmoid'), c], {}, undefined, s), ig], {}, undefined, s) : ig;
    const hNew = w.op('Mul', [o, w.op('Tanh', [cNew], {}, undefined, s)], {}, undefined, s);
    // h = m·h' + (1 − m)·h (exact for m ∈ {0, 1}); from the zero initial state, just m·h'.
    const blend = (fresh: string, prev: string | null) =>
      prev
        ? w.op('Add', [w.op('Mul', [keep, fresh], {}, undefined, s), w.op('Mul', [hold, prev], {}, undefined, s)], {}, undefined, s)
        : w.op('Mul', [keep, fresh], {}, undefined, s);
    c = blend(cNew, c);
    h = blend(hNew, h);
    hs.push(h);
    keeps.push(keep);
  }
  // The max over time does not depend on the order of the steps: pool each direction over its own steps (the
  // backward ones in reverse time order) with their masks: [2, B, L, H] and [2, B, L, 1].
  const states = w.op('Reshape', [w.op('Concat', hs, { axis: attr.int(2) }, undefined, '/lstm'), w.int64Vector([2, -1, L, H])], {}, 'lstm_states', '/lstm');
  const stepMasks = w.op('Unsqueeze', [w.op('Concat', keeps, { axis: attr.int(2) }, undefined, '/lstm'), w.int64Vector([3])], {}, undefined, '/lstm');
  const pooled2 = maskedMaxPool(w, states, stepMasks, 2); // [2, B, H]
  // [h_fw; h_bw] per row: [B, 2H].
  let pooled = w.op(
    'Reshape',
    [w.op('Transpose', [pooled2], { perm: attr.ints([1, 0, 2]) }, undefined, '/pool'), w.int64Vector([-1, 2 * H])],
    {},
    'pooled',
    '/pool',
  );
  if (masks.length) pooled = w.op('Mul', [pooled, masks[1].name], {}, undefined, '/dropout.1');
  mlpHead(w, config, weights, pooled);

  const inputs: ValueInfo[] = [int64Input('input_ids', ['batch', L]), int64Input('attention_mask', ['batch', L])];
  for (const m of masks) inputs.push(floatValue(m.name, m.shape));
  return createModel(
    {
      name: 'bilstm_student_training',
      nodes: w.nodes,
      inputs,
      outputs: [floatValue('logits', ['batch', config.numLabels])],
      initializers: w.initializers,
      valueInfo: [],
      docString: `Distilled BiLSTM student (training graph, unrolled over L=${L}): ${describeBilstm(config)}`,
    },
    [{ domain: '', version: BILSTM_OPSET }],
  );
}

/** One line: the student's sizes. */
export function describeBilstm(c: BilstmConfig): string {
  return `vocab ${c.vocabSize}, embedding ${c.embeddingSize}, hidden ${c.hiddenSize} per direction, mlp ${c.mlpSize}, labels ${c.numLabels}, max length ${c.maxLength}`;
}
