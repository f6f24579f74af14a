/**
 * The shape of the model training writes, kept to the original's: a static-shape export (inputs fixed at [1, 128],
 * as some exporters write for mobile and browser runtimes, or a keras export's fixed length) is trained through a
 * rebuilt graph with dynamic axes, and the model written fixes the batch size and the sequence length the original
 * fixed, in its inputs and outputs, so it drops in where the original ran. A dimension the original leaves dynamic
 * stays dynamic.
 */
import { modelInputs } from '../bert/model-inputs.ts';
import type { Dim, Model, ValueInfo } from '../onnx/graph.ts';

/** The batch size and sequence length `model`'s token ids input fixes (undefined where a dimension is dynamic). */
export function fixedShape(model: Model): { batch?: number; seq?: number } {
  const ids = modelInputs(model).find((i) => i.role === 'ids');
  const dims = model.graph.inputs.find((v) => v.name === ids?.name)?.shape;
  const fixed = (d: Dim | undefined) => (typeof d === 'number' && d > 0 ? d : undefined);
  const batch = dims?.length === 2 ? fixed(dims[0]) : undefined;
  const seq = dims?.length === 2 ? fixed(dims[1]) : undefined;
  return { ...(batch !== undefined ? { batch } : {}), ...(seq !== undefined ? { seq } : {}) };
}

/**
 * `written` (a graph of dynamic axes training built) with the batch size and sequence length `original` fixes: the
 * symbols its inputs name for the batch and sequence dimensions replaced by those sizes wherever a graph input,
 * output or value_info names them. `written` is changed in place and returned.
 */
export function withOriginalShape(written: Model, original: Model): Model {
  const { batch, seq } = fixedShape(original);
  if (batch === undefined && seq === undefined) return written;
  const sizes = new Map<string, number>();
  for (const input of written.graph.inputs) {
    const dims = input.shape;
    if (dims?.length !== 2) continue;
    if (batch !== undefined && typeof dims[0] === 'string') sizes.set(dims[0], batch);
    if (seq !== undefined && typeof dims[1] === 'string') sizes.set(dims[1], seq);
  }
  const fix = (v: ValueInfo) => {
    if (v.shape) v.shape = v.shape.map((d) => (typeof d === 'string' ? (sizes.get(d) ?? d) : d));
  };
  written.graph.inputs.forEach(fix);
  written.graph.outputs.forEach(fix);
  written.graph.valueInfo.forEach(fix);
  return written;
}
