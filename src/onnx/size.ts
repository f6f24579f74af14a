/** Parameter and byte counts of a model's weights, without knowing what the weights are. */
import { DataType } from './dtype.ts';
import type { Model } from './graph.ts';
import { numElements, tensorBytes } from './tensor.ts';

export interface ModelSize {
  /** Elements of floating-point and 8/4-bit integer initializers (weights), each counted once. */
  params: number;
  /** Bytes of all initializers. */
  bytes: number;
}

/** Element types whose initializers count as parameters (weights of any precision; not ids, shapes or flags). */
export const WEIGHT_TYPES: ReadonlySet<number> = new Set<number>([
  DataType.FLOAT,
  DataType.FLOAT16,
  DataType.BFLOAT16,
  DataType.DOUBLE,
  DataType.INT8,
  DataType.UINT8,
  DataType.INT4,
  DataType.UINT4,
]);

/**
 * Params = elements of weight-typed initializers (float, 8-bit and 4-bit integer); int64/int32 shape constants and
 * quantization zero points stored as int32 are not parameters. Bytes = payload bytes of every initializer.
 */
export function modelSize(model: Model): ModelSize {
  let params = 0;
  let bytes = 0;
  for (const t of model.graph.initializers.values()) {
    bytes += tensorBytes(t);
    if (WEIGHT_TYPES.has(t.dataType) && t.dims.length > 0) params += numElements(t.dims);
  }
  return { params, bytes };
}
