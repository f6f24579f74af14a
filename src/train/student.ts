/**
 * What the trainer trains: a student is a forward graph whose float initializers are its parameters, with dropout
 * masks as optional inputs, plus how to write the trained model. Two kinds: a canonical BERT (any discovered model
 * rebuilt by the builder, src/bert) and the Distilled BiLSTM (students/bilstm.ts). The trainer never looks inside.
 */
import type { Model } from '../onnx/graph.ts';
import { cloneModel } from '../onnx/graph.ts';
import { DataType } from '../onnx/dtype.ts';
import { float32Tensor, nonFiniteFloat32, readFloat32 } from '../onnx/tensor.ts';
import { quotedText } from '../errors.ts';

/** A dropout mask input: its name and dims, symbolic dims named 'batch' or 'sequence'. */
export interface MaskInput {
  name: string;
  dims: Array<number | 'batch' | 'sequence'>;
}

export interface Student {
  readonly kind: 'bert' | 'bilstm';
  /** One line: what the student is (for logs and lineage). */
  readonly description: string;
  /**
   * `description` without the path of the file it was read from, where it names one: what a run's checkpoints hold
   * of the student (trainer.ts jobFacts; its weights are hashed apart), so a run stopped in a folder since moved or
   * copied (a sweep's work folder) resumes there. Absent: `description`.
   */
  readonly identity?: string;
  /** Width of the logits. */
  readonly numLabels: number;
  /**
   * Written without a classifier (transformers' BertModel: `last_hidden_state`, `pooler_output`): its logits come
   * from a placeholder classifier that only general distillation (no loss on the logits) may train it with.
   */
  readonly encoderOnly?: boolean;
  /** The forward graph: inputs (ids, mask, types as the model has them, dropout masks when `dropout`), output `logits`. */
  forward(dropout: boolean): Model;
  /** The dropout mask inputs of `forward(true)`. */
  readonly masks: readonly MaskInput[];
  /** Parameters read only as embedding tables (trained with row-sparse gradients). */
  readonly sparse: readonly string[];
  /** Graph id inputs the forward graph reads, by role. */
  readonly inputs: { ids: string; mask?: string; types?: string };
  /** Every batch padded to this length (unrolled students); undefined: to the batch's longest example. */
  readonly fixedLength?: number;
  /** The model to write: `forward(false)` with these parameter values. */
  export(params: ReadonlyMap<string, Float32Array>): Model;
  /**
   * From now on the forward graphs read `params` (arrays of the same names and lengths, e.g. the optimizer's) as
   * their parameter values, and the student's own starting values (a copy of its weights) are dropped: for a run
   * that trains the student once (`TrainJob.trainsOnce`), as it is no longer the student it was. Absent: the
   * student keeps its starting values (a BiLSTM: small).
   */
  adopt?(params: ReadonlyMap<string, Float32Array>): void;
  /** config.json for the output folder, from the source model's (labels kept). */
  configJson(source: Record<string, unknown>): Record<string, unknown>;
}

/** The trainable parameters of a forward graph: its float32 initializers, as fresh arrays. */
export function initialParameters(forward: Model): Map<string, Float32Array> {
  const params = new Map<string, Float32Array>();
  for (const [name, t] of forward.graph.initializers) {
    if (t.dataType === DataType.FLOAT && t.dims.length > 0) params.set(name, readFloat32(t));
  }
  return params;
}

/**
 * The first trainable parameter of a forward graph (as initialParameters reads them) holding NaN or ±Infinity, with
 * how many such values it holds, the first's index and value (read in place: no copy of the weights); undefined when
 * all are finite.
 */
export function nonFiniteInitialParameter(forward: Model): { name: string; count: number; index: number; value: number } | undefined {
  for (const [name, t] of forward.graph.initializers) {
    if (t.dataType !== DataType.FLOAT || t.dims.length === 0) continue;
    const bad = nonFiniteFloat32(t);
    if (bad) return { name, count: bad.count, index: bad.first, value: bad.value };
  }
  return undefined;
}

/**
 * The 2-D float parameters a forward graph multiplies by (not those it looks rows up in with Gather: embedding
 * tables of any kind), the reference scale of `--embedding-lr scaled`.
 */
export function weightMatrices(forward: Model): string[] {
  const tables = new Set(forward.graph.nodes.filter((n) => n.opType === 'Gather').map((n) => n.inputs[0]));
  const out: string[] = [];
  for (const [name, t] of forward.graph.initializers) {
    if (t.dataType === DataType.FLOAT && t.dims.length === 2 && !tables.has(name)) out.push(name);
  }
  return out;
}

/** Replaces, in place, the values of `model`'s initializers named in `params` (same lengths) by those arrays (not copied). */
export function adoptParameters(model: Model, params: ReadonlyMap<string, Float32Array>): void {
  const inits = model.graph.initializers;
  for (const [name, values] of params) {
    const t = inits.get(name);
    if (t) inits.set(name, float32Tensor(name, t.dims, values));
  }
}

/** `model` with the named initializers' values replaced (same names and dims). */
export function withParameters(model: Model, params: ReadonlyMap<string, Float32Array>): Model {
  const m = cloneModel(model);
  for (const [name, values] of params) {
    const t = m.graph.initializers.get(name);
    if (!t) throw new RangeError(`parameter ${quotedText(name)} is not an initializer of the student`);
    m.graph.initializers.set(name, float32Tensor(name, t.dims, values));
  }
  return m;
}
