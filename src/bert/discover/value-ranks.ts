/**
 * The ranks of a graph's values, where they follow from the declared shapes (graph inputs, value_info, initializers,
 * Constant nodes) through the ops an encoder is made of: one pass over the (topologically sorted) nodes. A value whose
 * rank does not follow (an op not listed here, an input of unknown rank) has none: callers then decide without it.
 */
import { attrInt, attrInts, type Graph, type Node, type Tensor } from '../../onnx/graph.ts';
import { constantNodeTensor } from '../../onnx/constants.ts';
import { DataType } from '../../onnx/dtype.ts';

/** Ops whose (first) output has the rank of their first input. */
const SAME_RANK = new Set([
  'Identity',
  'Dropout',
  'Cast',
  'CastLike',
  'Sqrt',
  'Reciprocal',
  'Neg',
  'Abs',
  'Erf',
  'Tanh',
  'Relu',
  'Sigmoid',
  'Exp',
  'Log',
  'Softmax',
  'LogSoftmax',
  'Gelu',
  'LayerNormalization',
  'SkipLayerNormalization',
  'BiasGelu',
  'FastGelu',
  'QuickGelu',
  'Not',
  'Floor',
  'Ceil',
  'Round',
  'Clip',
  'Transpose',
  'Attention',
  'Concat',
]);

/** Elementwise ops that broadcast their inputs: the output has the largest of their ranks. */
const BROADCAST = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Where', 'Equal', 'Less', 'Greater', 'And', 'Or', 'Max', 'Min', 'Sum', 'Mod', 'BiasAdd']);

const REDUCE = new Set(['ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL2', 'ReduceSumSquare']);

/** The rank of every value of `graph` whose rank follows from its declared shapes (see the module comment). */
export function valueRanks(graph: Graph): Map<string, number> {
  const ranks = new Map<string, number>();
  /**
   * The element count of each integer vector (or scalar) constant, a Reshape's or Expand's shape, a Squeeze's axes: of
   * its dims, its data never read (a sweep's plan reads a model without its weights; float16 weights are decoded on
   * first read).
   */
  const counts = new Map<string, number>();
  const constant = (name: string, t: Tensor) => {
    ranks.set(name, t.dims.length);
    if (t.dims.length <= 1 && (t.dataType === DataType.INT64 || t.dataType === DataType.INT32)) counts.set(name, t.dims[0] ?? 1);
  };
  for (const v of [...graph.inputs, ...graph.valueInfo, ...graph.outputs]) if (v.shape) ranks.set(v.name, v.shape.length);
  for (const [name, t] of graph.initializers) constant(name, t);
  const count = (v: string | undefined) => (v ? counts.get(v) : undefined);
  for (const n of graph.nodes) {
    const out = n.outputs[0];
    if (!out || ranks.has(out)) continue;
    if (n.opType === 'Constant' && n.domain === '') {
      const t = constantNodeTensor(n);
      if (t) constant(out, t);
      continue;
    }
    const r = outputRank(n, (v) => ranks.get(v), count);
    if (r !== undefined && r >= 0) ranks.set(out, r);
  }
  return ranks;
}

/** The rank of `n`'s first output from its inputs' ranks, or undefined. `count`: the element count of a constant vector. */
function outputRank(n: Node, rank: (v: string) => number | undefined, count: (v: string | undefined) => number | undefined): number | undefined {
  const ms = n.domain === 'com.microsoft';
  if (n.domain !== '' && !ms) return undefined;
  const first = rank(n.inputs[0]);
  const op = n.opType;
  if (SAME_RANK.has(op)) return first;
  if (BROADCAST.has(op)) {
    const rs = n.inputs.filter((v) => v).map(rank);
    return rs.every((r) => r !== undefined) ? Math.max(...(rs as number[])) : undefined;
  }
  if (ms && op !== 'FusedMatMul' && op !== 'EmbedLayerNormalization') return undefined;
  switch (op) {
    case 'MatMul':
    case 'FusedMatMul': {
      const b = rank(n.inputs[1]);
      return first !== undefined && b !== undefined && first >= 2 && b >= 2 ? Math.max(first, b) : undefined;
    }
    case 'Gemm':
      return 2;
    case 'EmbedLayerNormalization':
      return 3;
    case 'Gather': {
      const i = rank(n.inputs[1]);
      return first !== undefined && i !== undefined ? first + i - 1 : undefined;
    }
    case 'Shape':
    case 'Range':
      return 1;
    case 'Reshape':
      return count(n.inputs[1]);
    case 'Unsqueeze':
    case 'Squeeze': {
      const axes = n.inputs[1] ? count(n.inputs[1]) : attrInts(n, 'axes')?.length;
      if (first === undefined || axes === undefined) return undefined;
      return op === 'Unsqueeze' ? first + axes : first - axes;
    }
    case 'Expand': {
      const s = count(n.inputs[1]);
      return first !== undefined && s !== undefined ? Math.max(first, s) : undefined;
    }
    default:
      if (!REDUCE.has(op) || first === undefined) return undefined;
      if (attrInt(n, 'keepdims', 1) === 1) return first;
      return undefined;
  }
}
