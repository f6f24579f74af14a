/** Parameter and byte counts of a model's weights, without knowing what the weights are. */
import { DataType } from './dtype.ts';
import { attrInt, type Graph, type Model, type Node } from './graph.ts';
import { numElements, shapeBytes, tensorBytes } from './tensor.ts';

export interface ModelSize {
  /** Parameters of the weights, each initializer counted once (`parameterCounts`). */
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
 * Inputs of quantized operators that say how a weight is stored (scales, zero points, group indices): bytes of the
 * model, not parameters of it. A quantized weight counts as many parameters as the float weight it stores.
 */
const STORAGE_INPUTS: ReadonlyMap<string, readonly number[]> = new Map([
  ['QuantizeLinear', [1, 2]],
  ['DequantizeLinear', [1, 2]],
  ['DynamicQuantizeMatMul', [2, 3]],
  ['MatMulInteger', [2, 3]],
  ['MatMulIntegerToFloat', [2, 3, 4, 5]],
  ['MatMulNBits', [2, 3, 4]],
  ['QAttention', [3, 4, 6, 7]],
  ['GatherBlockQuantized', [2, 3]],
  ['DynamicQuantizeLSTM', [8, 9, 10, 11]],
]);

const INTEGER_WEIGHTS: ReadonlySet<number> = new Set<number>([DataType.INT8, DataType.UINT8, DataType.INT4, DataType.UINT4]);

/**
 * The parameters each initializer holds: the elements of a weight-typed initializer (float, 8-bit and 4-bit
 * integer) of rank ≥ 1, except that
 * - quantization storage holds none: the scale and zero-point inputs of (De)QuantizeLinear, MatMulInteger,
 *   DynamicQuantizeMatMul, MatMulIntegerToFloat, MatMulNBits, QAttention, DynamicQuantizeLSTM, and a scale multiplied into dequantized
 *   integers (Mul by DynamicQuantizeLinear's scale, or by the Cast of integers gathered from a table or computed by
 *   MatMulInteger, e.g. an int8 table's row scales, gathered with the same ids);
 * - MatMulNBits' packed weight holds K × N (its attributes), not its bytes.
 * int64/int32 shape constants and scalars (ε, GELU constants) hold none.
 */
export function parameterCounts(graph: Graph): Map<string, number> {
  const counts = new Map<string, number>();
  for (const [name, t] of graph.initializers) counts.set(name, WEIGHT_TYPES.has(t.dataType) && t.dims.length > 0 ? numElements(t.dims) : 0);
  const producer = new Map<string, Node>();
  for (const n of graph.nodes) for (const o of n.outputs) if (o) producer.set(o, n);
  const storage = (name: string | undefined) => {
    if (name && counts.has(name)) counts.set(name, 0);
  };
  const integerTable = (n: Node | undefined) => n?.opType === 'Gather' && INTEGER_WEIGHTS.has(graph.initializers.get(n.inputs[0] ?? '')?.dataType ?? -1);
  /** Whether `value` is a quantization scale or dequantized integers. */
  const quantized = (value: string) => {
    const p = producer.get(value);
    if (p?.opType === 'DynamicQuantizeLinear') return p.outputs[1] === value;
    if (p?.opType !== 'Cast') return false;
    const from = producer.get(p.inputs[0] ?? '');
    return from?.opType === 'MatMulInteger' || integerTable(from);
  };
  /** The initializer `value` is, or that a Gather reads it from. */
  const initializerOf = (value: string) => {
    if (graph.initializers.has(value)) return value;
    const p = producer.get(value);
    return p?.opType === 'Gather' && graph.initializers.has(p.inputs[0] ?? '') ? p.inputs[0] : undefined;
  };
  for (const n of graph.nodes) {
    for (const i of STORAGE_INPUTS.get(n.opType) ?? []) storage(n.inputs[i]);
    if (n.opType === 'MatMulNBits' && counts.has(n.inputs[1] ?? '')) {
      const k = attrInt(n, 'K') ?? 0;
      const cols = attrInt(n, 'N') ?? 0;
      if (k > 0 && cols > 0) counts.set(n.inputs[1]!, k * cols);
    }
    if (n.opType === 'Mul' && n.inputs.length === 2) {
      const [a, b] = n.inputs as [string, string];
      if (quantized(a)) storage(initializerOf(b));
      if (quantized(b)) storage(initializerOf(a));
    }
  }
  return counts;
}

/** Params = the sum of `parameterCounts`; bytes = payload bytes of every initializer. */
export function modelSize(model: Model): ModelSize {
  let params = 0;
  let bytes = 0;
  for (const n of parameterCounts(model.graph).values()) params += n;
  for (const t of model.graph.initializers.values()) bytes += tensorBytes(t);
  return { params, bytes };
}

/** modelSize's bytes from the initializers' dims and types (shapeBytes), reading no weight a model reads lazily. */
export function modelBytesFromShapes(model: Model): number {
  let bytes = 0;
  for (const t of model.graph.initializers.values()) bytes += shapeBytes(t);
  return bytes;
}

/** The float element types a model may store its weights in. */
const FLOAT_TYPES: ReadonlySet<number> = new Set<number>([DataType.FLOAT, DataType.FLOAT16, DataType.BFLOAT16]);

/**
 * The float type holding most of `model`'s float initializers' bytes (float16 for quantize float16's output, float32
 * for an int8 model's scales and biases), or undefined when it has no float initializers.
 */
export function floatStorage(model: Model): number | undefined {
  const bytes = new Map<number, number>();
  for (const t of model.graph.initializers.values()) if (FLOAT_TYPES.has(t.dataType)) bytes.set(t.dataType, (bytes.get(t.dataType) ?? 0) + t.data.length);
  return [...bytes].sort((a, b) => b[1] - a[1])[0]?.[0];
}
