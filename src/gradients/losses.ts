/**
 * Losses as graph fragments (graph-level: the trainer and data-driven passes append them): each term appends standard ONNX nodes to a forward graph, reading the student's
 * output and targets fed as extra graph inputs, and the weighted terms are added into one scalar `loss` output the
 * gradient builder differentiates. Targets are fed by the trainer: one-hot labels, regression scores, the cached
 * teacher logits.
 *
 * - `hard-ce`: cross-entropy with the gold labels, mean over the batch (−Σ y·log softmax(z)); an example without a
 *   gold label (an augmented one) has y = 0 and adds nothing.
 * - `soft-ce`: Hinton's KD term: T² · cross-entropy between softmax(t/T) and log softmax(z/T) (DistilBERT,
 *   TextBrewer's `kd_ce_loss` scaled by T²).
 * - `logit-mse`: mean squared error between student and teacher logits (Distilled BiLSTM), mean over elements.
 * - `score-mse`: regression against gold scores (STS-B), and `teacher-score-mse` against the teacher's score.
 */
import type { Model, ValueInfo } from '../onnx/graph.ts';
import { GraphWriter } from '../onnx/writer.ts';
import { Rng } from '../bert/random.ts';
import { cloneModel, graphValueNames } from '../onnx/graph.ts';
import { DataType } from '../onnx/dtype.ts';
import { checkNumberFlag, type NumberRange, SettingsError, quotedText, valueAndKind } from '../errors.ts';
import { Tensor, type Feeds } from '../runtime/session.ts';
import { GradientError } from './context.ts';
import { checkModelArg, checkOptionKinds, checkStringOption, SEED_OPTION, type OptionKind } from '../library-args.ts';

export type LossKind = 'hard-ce' | 'soft-ce' | 'logit-mse' | 'score-mse' | 'teacher-score-mse';

export interface LossTerm {
  kind: LossKind;
  weight: number;
  /** Temperature of soft-ce (default 1). */
  temperature?: number;
}

/** Names of the extra inputs the loss reads. */
export const LOSS_INPUTS = {
  /** One-hot gold labels [batch, labels] (classification). */
  labels: 'target.labels',
  /** Gold scores [batch, 1] (regression). */
  scores: 'target.scores',
  /** Teacher logits [batch, labels]. */
  teacher: 'target.teacher_logits',
} as const;

export const LOSS_OUTPUT = 'loss';

/** The weights a loss term takes, in the one number wording: 'a number 0 or greater'. */
const TERM_WEIGHT_RANGE: NumberRange = { min: 0 };

/**
 * The temperatures soft-ce computes in float32, which scales logits by 1/T and the term by T²: past them 1/T or T²
 * overflows (a NaN or infinite loss) or T² is 0 (the teacher term and its gradient vanish).
 */
export const TEMPERATURE_RANGE: NumberRange = { min: 1e-19, max: 1e19, note: '(1/T and T² are computed in float32)' };

/**
 * A batch's gold targets as the loss reads them: one-hot labels [batch, numLabels] (labels are output indices), or
 * scores [batch, 1] for regression. A NaN label (an augmented example: no gold label) gets an all-zero row, so it adds
 * nothing to `hard-ce`, which still averages over the whole batch; a regression target must be a number.
 */
export function goldTargets(labels: ArrayLike<number>, numLabels: number, regression: boolean): Feeds {
  const batch = labels.length;
  if (regression) {
    for (let i = 0; i < batch; i++) if (Number.isNaN(labels[i]!)) throw new SettingsError('an example without a gold score cannot be regressed on');
    return { [LOSS_INPUTS.scores]: new Tensor('float32', Float32Array.from(labels), [batch, 1]) };
  }
  const onehot = new Float32Array(batch * numLabels);
  for (let i = 0; i < batch; i++) {
    const k = labels[i]!;
    if (Number.isNaN(k)) continue;
    if (!(Number.isInteger(k) && k >= 0 && k < numLabels)) throw new SettingsError(`label ${k} is not one of the model's ${numLabels} outputs`);
    onehot[i * numLabels + k] = 1;
  }
  return { [LOSS_INPUTS.labels]: new Tensor('float32', onehot, [batch, numLabels]) };
}

/**
 * An intermediate-layer term (intermediate.ts): a student value against a teacher feature fed as an input. A hidden
 * feature of another width goes through a learned projection W [student width, teacher width] (TinyBERT's W_h, an
 * extra parameter of the loss, dropped from the exported student); attention features with different head counts
 * are compared as their mean over heads.
 */
export interface IntermediateTerm {
  kind: 'mse' | 'cosine' | 'pkd' | 'attention-mse' | 'attention-kl';
  weight: number;
  /** Value name in the student graph. */
  student: string;
  /** Input name of the teacher feature, and its dims (symbolic batch/sequence). */
  teacher: string;
  teacherDims: Array<number | string>;
  /** Hidden widths (hidden features) or head counts (attention features). */
  studentWidth: number;
  teacherWidth: number;
  /** Attention scores: entries ≤ −100 (masked positions) are zeroed on both sides, as TinyBERT does. */
  scores?: boolean;
  /**
   * The student's attention-mask input ([batch, seq], 1 on tokens): `cosine` takes its mean over these tokens only,
   * as DistilBERT's cosine loss selects them (padding, all of a fixed-length export's tail, is left out), and
   * `attention-kl` over their query rows, as MiniLM's.
   */
  mask?: string;
  /** Names the term's output. */
  label: string;
  /**
   * The starting values of a hidden feature's projection [studentWidth × teacherWidth] (one an earlier run learned:
   * TinyBERT's fit_dense carried from general to task distillation); absent: drawn from N(0, 0.02).
   */
  projection?: Float32Array;
}

/** Whether an intermediate term learns a projection: a hidden feature (mse, cosine, pkd) of two widths. */
export function projects(t: Pick<IntermediateTerm, 'kind' | 'studentWidth' | 'teacherWidth'>): boolean {
  return (t.kind === 'mse' || t.kind === 'cosine' || t.kind === 'pkd') && t.studentWidth !== t.teacherWidth;
}

/** The name of the projection parameter of the intermediate term labelled `label` (one that `projects`). */
export function projectionName(label: string): string {
  return `distill.projection.${label}`;
}

export interface LossGraph {
  model: Model;
  /** Parameters the loss adds (projections), initialized: trained with the student, not exported. */
  parameters: Map<string, Float32Array>;
  loss: string;
  /** The per-term scalar values (outputs too, for logging). */
  terms: Array<{ kind: LossKind | IntermediateTerm['kind']; output: string }>;
  /** Target inputs the trainer must feed. */
  inputs: string[];
}

/** The graph writer of loss fragments (nodes under `loss/`), with the reductions the terms share. */
class LossWriter extends GraphWriter {
  constructor() {
    super('loss');
  }
  /** mean over the batch of the sum over the last axis. */
  batchMeanOfRowSums(x: string): string {
    const rows = this.op('ReduceSum', [x, this.int64Vector([-1])], { keepdims: { type: 'int', value: 0 } });
    return this.op('ReduceMean', [rows], { keepdims: { type: 'int', value: 0 } });
  }
  meanAll(x: string, output?: string): string {
    return this.op('ReduceMean', [x], { keepdims: { type: 'int', value: 0 } }, output);
  }
  sumLast(x: string, keep: boolean): string {
    return this.op('ReduceSum', [x, this.int64Vector([-1])], { keepdims: { type: 'int', value: keep ? 1 : 0 } });
  }
  meanAxis(x: string, axis: number): string {
    return this.op('ReduceMean', [x], { axes: { type: 'ints', value: [axis] }, keepdims: { type: 'int', value: 1 } });
  }
  /** x / ‖x‖ along the last axis. */
  normalize(x: string): string {
    return this.op('Div', [x, this.op('Add', [this.op('Sqrt', [this.sumLast(this.op('Mul', [x, x]), true)]), this.floatScalar(1e-12)])]);
  }
  /**
   * The mean of `x` [batch, seq] over the positions where `mask` [batch, seq] (an id input: 0 or 1) is 1; with
   * `heads`, of `x` [batch, heads, seq] over every head of those positions.
   */
  maskedMean(x: string, mask: string, heads?: number): string {
    const m = this.op('Cast', [mask], { to: { type: 'int', value: DataType.FLOAT } });
    const all = { keepdims: { type: 'int' as const, value: 0 } };
    const tokens = this.op('ReduceSum', [m], all);
    if (heads === undefined) return this.op('Div', [this.op('ReduceSum', [this.op('Mul', [x, m])], all), tokens]);
    const perHead = this.op('Unsqueeze', [m, this.int64Vector([1])]);
    return this.op('Div', [this.op('ReduceSum', [this.op('Mul', [x, perHead])], all), this.op('Mul', [tokens, this.floatScalar(heads)])]);
  }
  /** TinyBERT's score cleaning, where(att <= -1e2, 0, att): masked entries (≤ −100) become 0. */
  zeroMasked(x: string): string {
    return this.op('Where', [this.op('LessOrEqual', [x, this.floatScalar(-100)]), this.floatScalar(0), x]);
  }
}

/** The fragment of one intermediate term; returns the term's scalar. */
function intermediateFragment(w: LossWriter, t: IntermediateTerm, params: Map<string, Float32Array>, seed: number, out: string): void {
  let s = t.student;
  let tv = t.teacher;
  switch (t.kind) {
    case 'mse':
    case 'cosine':
    case 'pkd': {
      if (projects(t)) {
        const name = projectionName(t.label);
        const values = new Float32Array(t.studentWidth * t.teacherWidth);
        if (!t.projection) new Rng(seed, name).fillNormal(values, 0, 0.02);
        else if (t.projection.length === values.length) values.set(t.projection);
        else
          throw new GradientError(
            `intermediate term ${t.label}: its starting projection holds ${t.projection.length} values, not ${t.studentWidth} × ${t.teacherWidth}`,
          );
        params.set(name, values);
        w.weight(name, [t.studentWidth, t.teacherWidth], values);
        s = w.op('MatMul', [s, name]);
      }
      if (t.kind === 'mse') {
        const d = w.op('Sub', [s, tv]);
        w.op('ReduceMean', [w.op('Mul', [d, d])], { keepdims: { type: 'int', value: 0 } }, out);
      } else if (t.kind === 'cosine') {
        const cos = w.sumLast(w.op('Mul', [w.normalize(s), w.normalize(tv)]), false);
        // DistilBERT: CosineEmbeddingLoss over the tokens the attention mask selects (each example has at least [CLS])
        const mean = t.mask ? w.maskedMean(cos, t.mask) : w.meanAll(cos);
        w.op('Sub', [w.floatScalar(1), mean], {}, out);
      } else {
        const cls = (x: string) => w.op('Gather', [x, w.int64Scalar(0)], { axis: { type: 'int', value: 1 } });
        // Mean squared error of the normalized [CLS] states (BERT-PKD's reference code: MSE of F.normalize; TextBrewer's
        // pkd_loss sums over the width instead): the pkd presets weigh the mean of these terms over the layers by β,
        // as that code does, so β takes the paper's scale (10–1000).
        const d = w.op('Sub', [w.normalize(cls(s)), w.normalize(cls(tv))]);
        w.op('ReduceMean', [w.op('Mul', [d, d])], { keepdims: { type: 'int', value: 0 } }, out);
      }
      return;
    }
    case 'attention-mse':
    case 'attention-kl': {
      if (t.scores) {
        s = w.zeroMasked(s);
        tv = w.zeroMasked(tv);
      }
      if (t.studentWidth !== t.teacherWidth) {
        s = w.meanAxis(s, 1);
        tv = w.meanAxis(tv, 1);
      }
      if (t.kind === 'attention-mse') {
        const d = w.op('Sub', [s, tv]);
        w.op('ReduceMean', [w.op('Mul', [d, d])], { keepdims: { type: 'int', value: 0 } }, out);
      } else {
        const eps = w.floatScalar(1e-12);
        const logRatio = w.op('Sub', [w.op('Log', [w.op('Add', [tv, eps])]), w.op('Log', [w.op('Add', [s, eps])])]);
        const rows = w.sumLast(w.op('Mul', [tv, logRatio]), false);
        // MiniLM: the mean over heads and the sequence's tokens (TextBrewer's attention_ce with the inputs mask): a
        // padded query row is left out
        if (t.mask) w.op('Identity', [w.maskedMean(rows, t.mask, t.studentWidth !== t.teacherWidth ? 1 : t.studentWidth)], {}, out);
        else w.op('ReduceMean', [rows], { keepdims: { type: 'int', value: 0 } }, out);
      }
      return;
    }
  }
}

/** A loss term's fields by kind (kind and weight required; the weight's range checked as the loss is written). */
const LOSS_TERM_KINDS = {
  kind: ['hard-ce', 'soft-ce', 'logit-mse', 'score-mse', 'teacher-score-mse'],
  weight: 'checked',
  temperature: 'checked',
} as const satisfies Record<keyof LossTerm, OptionKind>;

const WIDTH = { is: (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 1, expected: 'an integer 1 or greater' } as const;

/** An intermediate term's fields by kind (all but scores, mask and projection required). */
const INTERMEDIATE_TERM_KINDS = {
  kind: ['mse', 'cosine', 'pkd', 'attention-mse', 'attention-kl'],
  weight: 'checked',
  student: 'string',
  teacher: 'string',
  teacherDims: {
    is: (v: unknown) => Array.isArray(v) && v.every((d) => (typeof d === 'string' && d !== '') || (Number.isSafeInteger(d) && d >= 1)),
    expected: 'a list of dims (integers 1 or greater, or names)',
  },
  studentWidth: WIDTH,
  teacherWidth: WIDTH,
  scores: 'boolean',
  mask: 'string',
  label: 'string',
  projection: { is: (v: unknown) => v instanceof Float32Array, expected: 'a Float32Array [studentWidth × teacherWidth]' },
} as const satisfies Record<keyof IntermediateTerm, OptionKind>;

const REQUIRED_INTERMEDIATE = ['kind', 'weight', 'student', 'teacher', 'teacherDims', 'studentWidth', 'teacherWidth', 'label'] as const;

/**
 * appendLoss's arguments checked by their kinds before any work, for a JavaScript caller (a term's kind 'ce' or a
 * misspelt temprature was read as nothing; a forward graph null failed with a TypeError).
 */
function checkLossArgs(forward: unknown, logits: unknown, terms: unknown, intermediate: unknown, seed: unknown): void {
  const fn = 'appendLoss';
  checkModelArg(fn, forward, 'forward');
  checkStringOption(fn, 'logits', logits, 'the name of the logits value');
  if (!SEED_OPTION.is(seed)) throw new SettingsError(`${fn}: seed: expected ${SEED_OPTION.expected}, got ${valueAndKind(seed)}`);
  for (const [name, list, kinds, required] of [
    ['terms', terms, LOSS_TERM_KINDS, ['kind', 'weight']],
    ['intermediate', intermediate, INTERMEDIATE_TERM_KINDS, REQUIRED_INTERMEDIATE],
  ] as const) {
    if (!Array.isArray(list)) throw new SettingsError(`${fn}: ${name}: expected a list of loss terms, got ${valueAndKind(list)}`);
    list.forEach((t: unknown, i) => {
      const at = `${name}[${i}]`;
      if (typeof t !== 'object' || t === null || Array.isArray(t))
        throw new SettingsError(`${fn}: ${at}: expected a loss term ({${Object.keys(kinds).join(', ')}}), got ${valueAndKind(t)}`);
      checkOptionKinds(fn, t, kinds, `${at}.`);
      const missing = required.find((k) => (t as Record<string, unknown>)[k] === undefined);
      if (missing !== undefined) throw new SettingsError(`${fn}: ${at}.${missing}: missing`);
    });
  }
}

/**
 * `forward` with the weighted sum of `terms` on its output `logits` appended as the scalar output `loss`. The
 * forward graph must be at opset 13 or later (ReduceSum takes axes as an input); outputs are replaced by
 * the loss, the terms and the logits.
 */
export function appendLoss(
  forward: Model,
  logits: string,
  numLabels: number,
  terms: readonly LossTerm[],
  intermediate: readonly IntermediateTerm[] = [],
  seed = 1,
): LossGraph {
  checkLossArgs(forward, logits, terms, intermediate, seed);
  if (!terms.length && !intermediate.length) throw new SettingsError('a loss needs at least one term');
  const values = graphValueNames(forward.graph);
  if (!values.has(logits)) throw new GradientError(`logits ${quotedText(logits)} is not a value of the graph, so no loss can read it`);
  // (the targets' width: a numLabels other than the logits' own gave a graph onnxruntime refused at its first run, with
  // its own words about broadcasting)
  if (!(Number.isInteger(numLabels) && numLabels >= 1))
    throw new SettingsError(
      `numLabels ${typeof numLabels === 'number' ? numLabels : quotedText(String(numLabels))}: expected an integer from 1 (the logits' width)`,
    );
  const logitsInfo = [...forward.graph.outputs, ...forward.graph.valueInfo].find((v) => v.name === logits);
  const width = logitsInfo?.shape?.at(-1);
  if (typeof width === 'number' && width !== numLabels && terms.some((t) => t.kind !== 'score-mse'))
    throw new SettingsError(`numLabels ${numLabels}: the logits ${quotedText(logits)} hold ${width} per example (their last dim): give numLabels ${width}`);
  for (const t of intermediate) {
    if (!values.has(t.student)) throw new GradientError(`intermediate term ${t.label}: student value ${quotedText(t.student)} is not a value of the graph`);
    if (t.mask !== undefined && !values.has(t.mask))
      throw new GradientError(`intermediate term ${t.label}: attention mask ${quotedText(t.mask)} is not a value of the graph`);
  }
  if (values.has(LOSS_OUTPUT))
    throw new GradientError(`the graph already has a value named ${quotedText(LOSS_OUTPUT)}, the name of the loss output (rename it)`);
  const model = cloneModel(forward);
  const w = new LossWriter();
  const needed = new Set<string>();
  const termOutputs: Array<{ kind: LossKind | IntermediateTerm['kind']; output: string }> = [];
  const parameters = new Map<string, Float32Array>();
  const weighted: string[] = [];
  for (const [i, t] of terms.entries()) {
    checkNumberFlag(`loss term ${t.kind}: weight`, t.weight, TERM_WEIGHT_RANGE);
    const out = `loss/term.${i}.${t.kind}`;
    switch (t.kind) {
      case 'hard-ce': {
        needed.add(LOSS_INPUTS.labels);
        const logp = w.op('LogSoftmax', [logits], { axis: { type: 'int', value: -1 } });
        w.op('Neg', [w.batchMeanOfRowSums(w.op('Mul', [LOSS_INPUTS.labels, logp]))], {}, out);
        break;
      }
      case 'soft-ce': {
        needed.add(LOSS_INPUTS.teacher);
        const temp = t.temperature ?? 1;
        checkNumberFlag('temperature', temp, TEMPERATURE_RANGE);
        const inv = w.floatScalar(1 / temp);
        const p = w.op('Softmax', [w.op('Mul', [LOSS_INPUTS.teacher, inv])], { axis: { type: 'int', value: -1 } });
        const logq = w.op('LogSoftmax', [w.op('Mul', [logits, inv])], { axis: { type: 'int', value: -1 } });
        const ce = w.op('Neg', [w.batchMeanOfRowSums(w.op('Mul', [p, logq]))]);
        w.op('Mul', [ce, w.floatScalar(temp * temp)], {}, out);
        break;
      }
      case 'logit-mse':
      case 'teacher-score-mse':
      case 'score-mse': {
        const target = t.kind === 'score-mse' ? LOSS_INPUTS.scores : LOSS_INPUTS.teacher;
        needed.add(target);
        const d = w.op('Sub', [logits, target]);
        w.meanAll(w.op('Mul', [d, d]), out);
        break;
      }
    }
    termOutputs.push({ kind: t.kind, output: out });
    weighted.push(t.weight === 1 ? out : w.op('Mul', [out, w.floatScalar(t.weight)]));
  }
  for (const t of intermediate) {
    if (!(t.weight >= 0) || !Number.isFinite(t.weight)) throw new SettingsError(`intermediate term ${t.label}: weight must be a non-negative number`);
    const out = `loss/intermediate.${t.label}.${t.kind}`;
    intermediateFragment(w, t, parameters, seed, out);
    termOutputs.push({ kind: t.kind, output: out });
    weighted.push(t.weight === 1 ? out : w.op('Mul', [out, w.floatScalar(t.weight)]));
  }
  if (weighted.length === 1) w.op('Identity', [weighted[0]], {}, LOSS_OUTPUT);
  else w.op('Sum', weighted, {}, LOSS_OUTPUT);

  const g = model.graph;
  g.nodes = [...g.nodes, ...w.nodes];
  const batch = g.outputs.find((o) => o.name === logits)?.shape?.[0] ?? 'batch_size';
  const targetInputs: ValueInfo[] = [...needed].map((name) => ({
    name,
    elemType: DataType.FLOAT,
    shape: [batch, name === LOSS_INPUTS.scores ? 1 : numLabels],
  }));
  // one teacher feature may feed several terms (a teacher layer matched to several student layers): one input each
  const teacherInputs = [...new Map(intermediate.map((t) => [t.teacher, t.teacherDims])).entries()];
  g.inputs = [...g.inputs, ...targetInputs, ...teacherInputs.map(([name, shape]) => ({ name, elemType: DataType.FLOAT, shape }))];
  for (const [name, t] of w.initializers) g.initializers.set(name, t);
  g.outputs = [
    { name: LOSS_OUTPUT, elemType: DataType.FLOAT, shape: [] },
    ...termOutputs.map((t) => ({ name: t.output, elemType: DataType.FLOAT, shape: [] })),
    ...g.outputs.filter((o) => o.name === logits),
  ];
  return { model, parameters, loss: LOSS_OUTPUT, terms: termOutputs, inputs: [...needed, ...teacherInputs.map(([name]) => name)] };
}
