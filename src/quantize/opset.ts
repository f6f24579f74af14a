/**
 * Raising the default-domain opset import of a model (for per-axis DequantizeLinear, opset 13), when every op of
 * the graph means the same at the new opset. Ops whose attributes became inputs (Squeeze / Unsqueeze `axes`,
 * ReduceSum `axes`, Split `split`, Clip `min`/`max`, Dropout `ratio`) are converted; Softmax-like ops are accepted
 * when they normalize the last axis (the only case where opset 13 changed nothing). Any other op that is not known
 * to be unchanged makes the raise impossible: the caller reports it.
 */
import type { Model, Node } from '../onnx/graph.ts';
import { attrInt, attrInts, attrFloat, domainName, opsetVersion } from '../onnx/graph.ts';
import { float32Tensor, int64Tensor } from '../onnx/tensor.ts';
import type { GraphEditor } from './graph-edit.ts';

/** Default-domain ops whose meaning and signature are the same from opset 10 through 13. */
const UNCHANGED = new Set([
  'Abs',
  'Add',
  'And',
  'ArgMax',
  'ArgMin',
  'Cast',
  'Ceil',
  'Concat',
  'Constant',
  'ConstantOfShape',
  'CumSum',
  'DequantizeLinear',
  'Div',
  'DynamicQuantizeLinear',
  'Einsum',
  'Equal',
  'Erf',
  'Exp',
  'Expand',
  'Flatten',
  'Floor',
  'Gather',
  'GatherElements',
  'GatherND',
  'Gelu',
  'Gemm',
  'Greater',
  'GreaterOrEqual',
  'Identity',
  'LayerNormalization',
  'Less',
  'LessOrEqual',
  'Log',
  'MatMul',
  'MatMulInteger',
  'Max',
  'Mean',
  'Min',
  'Mod',
  'Mul',
  'Neg',
  'NonZero',
  'Not',
  'OneHot',
  'Or',
  'Pow',
  'QuantizeLinear',
  'Range',
  'Reciprocal',
  'ReduceL2',
  'ReduceMax',
  'ReduceMean',
  'ReduceMin',
  'ReduceProd',
  'Relu',
  'Reshape',
  'Round',
  'ScatterND',
  'Shape',
  'Sigmoid',
  'Sign',
  'Size',
  'Sqrt',
  'Sub',
  'Sum',
  'Tanh',
  'Tile',
  'Transpose',
  'Where',
  'Xor',
]);

/** Ops unchanged from the given opset on (their earlier versions differ). */
const UNCHANGED_SINCE: Record<string, number> = { Slice: 10, Pad: 11, TopK: 11, Clip: 11, Resize: 13 };

const SOFTMAX_LIKE = new Set(['Softmax', 'LogSoftmax', 'Hardmax']);

export interface OpsetRaise {
  from: number;
  to: number;
  /** Nodes whose attributes were turned into inputs. */
  converted: string[];
}

/**
 * Why the model's default opset cannot be raised to `to`, or undefined when it can. `lastAxisSoftmax` names the
 * Softmax nodes known to normalize the last axis of a rank-4 tensor (the attention probabilities), where axis 3 is
 * the last axis.
 */
export function opsetRaiseBlocker(model: Model, to: number, lastAxisSoftmax: ReadonlySet<string> = new Set()): string | undefined {
  const from = opsetVersion(model) ?? 0;
  const bad = new Set<string>();
  for (const n of model.graph.nodes) {
    if (n.domain !== '') continue;
    if (UNCHANGED.has(n.opType) || CONVERTIBLE.has(n.opType)) continue;
    if (n.opType in UNCHANGED_SINCE && from >= UNCHANGED_SINCE[n.opType]) continue;
    if (SOFTMAX_LIKE.has(n.opType)) {
      const axis = attrInt(n, 'axis', from >= 13 ? -1 : 1);
      if (axis === -1 || (axis === 3 && lastAxisSoftmax.has(n.name))) continue;
      bad.add(`${n.opType} (axis ${axis})`);
      continue;
    }
    if (Object.values(n.attributes).some((a) => a.type === 'graph' || a.type === 'graphs')) {
      bad.add(`${n.opType} (subgraphs)`);
      continue;
    }
    bad.add(n.opType);
  }
  if (from < 10) return `opset ${from} is below 10 (no QuantizeLinear / DequantizeLinear)`;
  return bad.size ? `ops ${[...bad].join(', ')} change meaning between opset ${from} and ${to}` : undefined;
}

/** Ops converted by moving attributes to inputs. */
const CONVERTIBLE = new Set(['Squeeze', 'Unsqueeze', 'ReduceSum', 'Split', 'Dropout']);

function convertNode(n: Node, from: number, to: number, edit: GraphEditor): boolean {
  const int64Input = (base: string, values: number[]) => edit.addInitializer(`${n.name}_${base}`, int64Tensor('', [values.length], values));
  const without = (names: string[]) => Object.fromEntries(Object.entries(n.attributes).filter(([k]) => !names.includes(k)));
  switch (n.opType) {
    case 'Squeeze':
    case 'Unsqueeze':
    case 'ReduceSum': {
      if (from >= 13 || to < 13) return false;
      const axes = attrInts(n, 'axes');
      n.attributes = without(['axes']);
      if (axes) n.inputs = [n.inputs[0], int64Input('axes', axes)];
      return true;
    }
    case 'Split': {
      if (from >= 13 || to < 13) return false;
      const split = attrInts(n, 'split');
      n.attributes = without(['split']);
      if (split) n.inputs = [n.inputs[0], int64Input('split', split)];
      return true;
    }
    case 'Dropout': {
      if (from >= 12 || to < 12) return false;
      const ratio = attrFloat(n, 'ratio');
      n.attributes = without(['ratio', 'is_test']);
      if (ratio !== undefined) n.inputs = [n.inputs[0], edit.addInitializer(`${n.name}_ratio`, float32Tensor('', [], [ratio]))];
      return true;
    }
  }
  return false;
}

/** Raises the default opset of the edited model to `to` (call opsetRaiseBlocker first). */
export function raiseOpset(edit: GraphEditor, to: number): OpsetRaise {
  const m = edit.model;
  const imp = m.opsetImports.find((o) => domainName(o.domain) === '');
  const from = imp?.version ?? 0;
  const converted: string[] = [];
  if (from >= to) return { from, to: from, converted };
  for (const n of m.graph.nodes) {
    if (n.domain === '' && convertNode(n, from, to, edit)) converted.push(n.name);
  }
  if (imp) imp.version = to;
  else m.opsetImports.push({ domain: '', version: to });
  if (m.irVersion < 7) m.irVersion = 7;
  return { from, to, converted };
}
