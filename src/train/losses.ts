/**
 * Losses as graph fragments: each term appends standard ONNX nodes to a forward graph, reading the student's
 * output and targets fed as extra graph inputs, and the weighted terms are added into one scalar `loss` output the
 * gradient builder differentiates. Targets are fed by the trainer: one-hot labels, regression scores, the cached
 * teacher logits.
 *
 * - `hard-ce`: cross-entropy with the gold labels, mean over the batch (−Σ y·log softmax(z)).
 * - `soft-ce`: Hinton's KD term: T² · cross-entropy between softmax(t/T) and log softmax(z/T) (DistilBERT,
 *   TextBrewer's `kd_ce_loss` scaled by T²).
 * - `logit-mse`: mean squared error between student and teacher logits (Distilled BiLSTM), mean over elements.
 * - `score-mse`: regression against gold scores (STS-B), and `teacher-score-mse` against the teacher's score.
 */
import type { Model, Node, ValueInfo } from '../onnx/graph.ts';
import { cloneModel } from '../onnx/graph.ts';
import { DataType } from '../onnx/dtype.ts';
import { float32Tensor, int64Tensor } from '../onnx/tensor.ts';
import { SettingsError } from '../errors.ts';

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

export interface LossGraph {
  model: Model;
  loss: string;
  /** The per-term scalar values (outputs too, for logging). */
  terms: Array<{ kind: LossKind; output: string }>;
  /** Target inputs the trainer must feed. */
  inputs: string[];
}

class Writer {
  readonly nodes: Node[] = [];
  private n = 0;
  op(opType: string, inputs: string[], attributes: Node['attributes'] = {}, output?: string): string {
    const out = output ?? `loss/${opType}_${this.n++}`;
    this.nodes.push({ name: `${out}/node`, opType, domain: '', inputs, outputs: [out], attributes });
    return out;
  }
  f(v: number): string {
    return this.op('Constant', [], { value: { type: 'tensor', value: float32Tensor('', [], [v]) } });
  }
  axes(v: number[]): string {
    return this.op('Constant', [], { value: { type: 'tensor', value: int64Tensor('', [v.length], v) } });
  }
  /** mean over the batch of the sum over the last axis. */
  batchMeanOfRowSums(x: string): string {
    const rows = this.op('ReduceSum', [x, this.axes([-1])], { keepdims: { type: 'int', value: 0 } });
    return this.op('ReduceMean', [rows], { keepdims: { type: 'int', value: 0 } });
  }
  meanAll(x: string): string {
    return this.op('ReduceMean', [x], { keepdims: { type: 'int', value: 0 } });
  }
}

/**
 * `forward` with the weighted sum of `terms` on its output `logits` appended as the scalar output `loss`. The
 * forward graph must be at opset 13 or later (ReduceSum takes axes as an input); outputs are replaced by
 * the loss, the terms and the logits.
 */
export function appendLoss(forward: Model, logits: string, numLabels: number, terms: readonly LossTerm[]): LossGraph {
  if (!terms.length) throw new SettingsError('a loss needs at least one term');
  const model = cloneModel(forward);
  const w = new Writer();
  const needed = new Set<string>();
  const termOutputs: Array<{ kind: LossKind; output: string }> = [];
  const weighted: string[] = [];
  for (const [i, t] of terms.entries()) {
    if (!(t.weight >= 0) || !Number.isFinite(t.weight)) throw new SettingsError(`loss term ${t.kind}: weight must be a non-negative number`);
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
        if (!(temp > 0)) throw new SettingsError(`temperature must be > 0 (got ${temp})`);
        const inv = w.f(1 / temp);
        const p = w.op('Softmax', [w.op('Mul', [LOSS_INPUTS.teacher, inv])], { axis: { type: 'int', value: -1 } });
        const logq = w.op('LogSoftmax', [w.op('Mul', [logits, inv])], { axis: { type: 'int', value: -1 } });
        const ce = w.op('Neg', [w.batchMeanOfRowSums(w.op('Mul', [p, logq]))]);
        w.op('Mul', [ce, w.f(temp * temp)], {}, out);
        break;
      }
      case 'logit-mse':
      case 'teacher-score-mse':
      case 'score-mse': {
        const target = t.kind === 'score-mse' ? LOSS_INPUTS.scores : LOSS_INPUTS.teacher;
        needed.add(target);
        const d = w.op('Sub', [logits, target]);
        w.meanAll(w.op('Mul', [d, d]));
        w.nodes[w.nodes.length - 1].outputs[0] = out;
        break;
      }
    }
    termOutputs.push({ kind: t.kind, output: out });
    weighted.push(t.weight === 1 ? out : w.op('Mul', [out, w.f(t.weight)]));
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
  g.inputs = [...g.inputs, ...targetInputs];
  g.outputs = [
    { name: LOSS_OUTPUT, elemType: DataType.FLOAT, shape: [] },
    ...termOutputs.map((t) => ({ name: t.output, elemType: DataType.FLOAT, shape: [] })),
    ...g.outputs.filter((o) => o.name === logits),
  ];
  return { model, loss: LOSS_OUTPUT, terms: termOutputs, inputs: [...needed] };
}
