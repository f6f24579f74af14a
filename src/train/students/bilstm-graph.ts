/**
 * The BiLSTM student's TRAINING graph: the LSTM unrolled over the fixed length L with standard ops only (MatMul,
 * Add, Sub, Mul, Sigmoid, Tanh, Relu, Gather, Split, Concat, Unsqueeze, Reshape, ReduceMax, Cast, Constant), so the
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
 *   forward runs t = 0 … L−1, backward t = L−1 … 0 (with right padding it starts at each row's last token)
 *   s = [h_fw; h_bw]                               [B, L, 2H]
 *   pooled = max_t (s·m + (m−1)·1e9)               [B, 2H]     (padding never wins the max; × dropout_mask.1)
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
 * The masked max over time of `states` [B, S, 2H] (mask3 [B, S, 1], float 0/1): states·m + (m−1)·1e9, then
 * ReduceMax over axis 1 → [B, 2H]. Exact at real positions (m = 1), −1e9 at padding.
 */
export function maskedMaxPool(w: GraphWriter, states: string, mask3: string): string {
  const kept = w.op('Mul', [states, mask3], {}, undefined, '/pool');
  const off = w.op('Sub', [mask3, w.floatScalar(1)], {}, undefined, '/pool');
  const penalty = w.op('Mul', [off, w.floatScalar(-BILSTM_POOL_MASK_VALUE)], {}, undefined, '/pool');
  const masked = w.op('Add', [kept, penalty], {}, undefined, '/pool');
  return w.op('ReduceMax', [masked], { axes: attr.ints([1]), keepdims: attr.int(0) }, 'pooled', '/pool');
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

  // Per-step mask m_t [B, 1] and 1 − m_t, shared by both directions and by h and c.
  const mask3 = floatMask3(w, 'attention_mask');
  const keep: string[] = [];
  const hold: string[] = [];
  for (let t = 0; t < L; t++) {
    keep.push(w.op('Gather', [mask3, w.int64Scalar(t)], { axis: attr.int(1) }, undefined, '/mask'));
    hold.push(w.op('Sub', [w.floatScalar(1), keep[t]], {}, undefined, '/mask'));
  }

  // Steps and gates are taken with Split, whose gradient is one Concat: a Gather per step would scatter each
  // step's gradient into a zero tensor as large as all the steps (quadratic in L, and thousands of nodes that make
  // onnxruntime's session creation slow).
  const stepSizes = w.int64Vector(new Array<number>(L).fill(1));
  const stepShape = w.int64Vector([-1, 4 * H]);
  const gateSizes = w.int64Vector([H, H, H, H]);
  const sequences: string[] = [];
  for (const d of BILSTM_DIRECTIONS) {
    const scope = `/lstm.${d}`;
    const W = w.weight(`lstm.${d}.W`, [E, 4 * H], weights.get(`lstm.${d}.W`)!);
    const R = w.weight(`lstm.${d}.R`, [H, 4 * H], weights.get(`lstm.${d}.R`)!);
    const b = w.weight(`lstm.${d}.b`, [4 * H], weights.get(`lstm.${d}.b`)!);
    // Input projections of every step in one MatMul: [B, L, 4H].
    const projected = w.op('Add', [w.op('MatMul', [emb, W], {}, undefined, scope), b], {}, undefined, scope);
    const steps = w.opN('Split', [projected, stepSizes], { axis: attr.int(1) }, L, undefined, scope); // [B, 1, 4H] each
    const states: string[] = new Array(L);
    let h: string | null = null;
    let c: string | null = null;
    for (let k = 0; k < L; k++) {
      const t = d === 'fw' ? k : L - 1 - k;
      const s = `${scope}/t${t}`;
      const x = w.op('Reshape', [steps[t]!, stepShape], {}, undefined, s);
      const z = h ? w.op('Add', [x, w.op('MatMul', [h, R], {}, undefined, s)], {}, undefined, s) : x;
      const gates = w.opN('Split', [z, gateSizes], { axis: attr.int(1) }, 4, undefined, s); // i f g o, [B, H] each
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
          ? w.op('Add', [w.op('Mul', [keep[t], fresh], {}, undefined, s), w.op('Mul', [hold[t], prev], {}, undefined, s)], {}, undefined, s)
          : w.op('Mul', [keep[t], fresh], {}, undefined, s);
      c = blend(cNew, c);
      h = blend(hNew, h);
      states[t] = h;
    }
    // [B, H] × L in time order → [B, L·H] → [B, L, H].
    const flat = w.op('Concat', states, { axis: attr.int(1) }, undefined, scope);
    sequences.push(w.op('Reshape', [flat, w.int64Vector([-1, L, H])], {}, undefined, scope));
  }
  const both = w.op('Concat', sequences, { axis: attr.int(2) }, 'lstm_states', '/lstm');
  let pooled = maskedMaxPool(w, both, mask3);
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
