/**
 * The numbers of constant values: an initializer or a Constant node (its `value` tensor, or the scalar and list forms
 * `value_float(s)` / `value_int(s)`), read as JS numbers. The one reading of constants that graph discovery
 * (GraphContext.constNumbers) and the gradient builder (its rules' lookup, and its erf GELU matcher) share.
 */
import { attrFloat, attrInt, attrInts, attrTensor, type Graph, type Model, type Node, type Tensor } from './graph.ts';
import { DataType } from './dtype.ts';
import { readNumbers } from './tensor.ts';

/**
 * The tensor a Constant node (of the default domain, which a file's 'ai.onnx' is read as) holds (`value`, or the
 * scalar/list forms `value_float(s)` / `value_int(s)`); undefined for any other node.
 */
export function constantNodeTensor(node: Node): Tensor | undefined {
  if (node.opType !== 'Constant' || node.domain !== '') return undefined;
  const t = attrTensor(node, 'value');
  if (t) return t;
  const f = attrFloat(node, 'value_float');
  if (f !== undefined) return floatTensor(node.name, [], [f]);
  const fs = attrFloats(node, 'value_floats');
  if (fs) return floatTensor(node.name, [fs.length], fs);
  const i = attrInt(node, 'value_int');
  if (i !== undefined) return int64(node.name, [], [i]);
  const is = attrInts(node, 'value_ints');
  if (is) return int64(node.name, [is.length], is);
  return undefined;
}

function attrFloats(node: Node, name: string): number[] | undefined {
  const a = node.attributes[name];
  return a && a.type === 'floats' ? a.value : undefined;
}

function floatTensor(name: string, dims: number[], values: number[]): Tensor {
  const a = Float32Array.from(values);
  return { name, dataType: DataType.FLOAT, dims, data: new Uint8Array(a.buffer) };
}

function int64(name: string, dims: number[], values: number[]): Tensor {
  const a = BigInt64Array.from(values, (v) => BigInt(v));
  return { name, dataType: DataType.INT64, dims, data: new Uint8Array(a.buffer) };
}

/** The numbers of a tensor (a boolean as 0/1), or undefined for one readNumbers does not read (string, bfloat16, …). */
export function tensorNumbers(t: Tensor): number[] | undefined {
  if (t.dataType === DataType.STRING) return undefined;
  try {
    return readNumbers(t);
  } catch {
    return undefined;
  }
}

/**
 * The tensor of a value of `graph` that is an initializer or a Constant node's output (constantNodeTensor), by value
 * name; undefined for any other value.
 */
export function constantTensors(graph: Graph): (value: string) => Tensor | undefined {
  const constants = new Map<string, Tensor>();
  for (const n of graph.nodes) {
    const t = constantNodeTensor(n);
    if (t && n.outputs[0]) constants.set(n.outputs[0], t);
  }
  return (value) => graph.initializers.get(value) ?? constants.get(value);
}

/**
 * The numbers of a value of `model` that is an initializer or a Constant node's output (constantTensors), by value
 * name; undefined for any other value, or a tensor tensorNumbers does not read.
 */
export function constantNumbers(model: Model): (value: string) => number[] | undefined {
  const tensor = constantTensors(model.graph);
  return (value) => {
    const t = tensor(value);
    return t ? tensorNumbers(t) : undefined;
  };
}
