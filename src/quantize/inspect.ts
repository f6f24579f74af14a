/**
 * Reading quantized projections and embedding lookups back out of a graph this pass wrote: which node, which
 * activation it reads, which initializer holds the integer weight, and the float weight it stands for. Tests use
 * this to check every rewrite against the original weights; it is also the map of the patterns a graph matcher
 * (discovery) must understand to see a Linear in a quantized graph:
 * - com.microsoft DynamicQuantizeMatMul(x, W_int8 [in, out], w_scale[, w_zero_point][, bias])
 * - DynamicQuantizeLinear(x) → com.microsoft MatMulIntegerToFloat(x_q, W_int8 [in, out], x_scale, w_scale, x_zp
 *   [, w_zero_point][, bias])
 * - DynamicQuantizeLinear(x) → MatMulInteger(x_q, W_int8 [in, out], x_zp) → Cast → Mul(·, Mul(x_scale, w_scale))
 * - com.microsoft MatMulNBits(x, B uint8 [N, kBlocks, B/2], scales[, zero_points]) with attributes K, N, block_size
 * - MatMul / Gemm reading DequantizeLinear(W_int8, scale, zero_point[, axis]) as weight, and (static)
 *   DequantizeLinear(QuantizeLinear(x)) as activation
 * - com.microsoft QAttention(DynamicQuantizeLinear(x)…, W_int8 [hidden, 3·width], bias, x_scale, w_scale, …)
 * - embeddings: Gather(table_int8, ids) → Cast → Mul(·, Gather(row_scales, ids)), or → DequantizeLinear(·, scale)
 */
import type { Graph, Model, Node } from '../onnx/graph.ts';
import { attrInt, attrInts } from '../onnx/graph.ts';
import { DataType } from '../onnx/dtype.ts';
import { readFloat32, readNumbers } from '../onnx/tensor.ts';
import { consumers, producers } from '../onnx/analysis.ts';
import { dequantizeInt4Blocks } from './int4-blocks.ts';
import { transpose2d } from '../bert/build-graph.ts';

export interface QuantizedProjection {
  /** The node doing the product. */
  node: string;
  op: string;
  /** The float activation it reads (in front of any run-time or Q/DQ quantization). */
  input: string;
  /** The initializer holding the integer weight. */
  weight: string;
  inFeatures: number;
  outFeatures: number;
  /** The float weight it stands for, [in, out]. */
  dequantized(): Float32Array;
}

export interface QuantizedEmbedding {
  /** The Gather reading the int8 table. */
  gather: string;
  table: string;
  rows: number;
  width: number;
  /** The value holding the float embeddings. */
  output: string;
  /** The float table it stands for. */
  dequantized(): Float32Array;
}

interface View {
  g: Graph;
  prod: Map<string, Node>;
  cons: Map<string, Node[]>;
}

const floats = (g: Graph, name: string): Float32Array | undefined => {
  const t = g.initializers.get(name);
  return t && t.dataType === DataType.FLOAT ? readFloat32(t) : undefined;
};

/** w[r][c] · scale (per column when there are `cols` scales, per row with `rows`, else one). */
function scaled(values: ArrayLike<number>, rows: number, cols: number, scales: Float32Array, axis: 0 | 1, zero?: number[]): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const i = scales.length === 1 ? 0 : axis === 1 ? c : r;
      out[r * cols + c] = (values[r * cols + c] - (zero ? zero[zero.length === 1 ? 0 : i] : 0)) * scales[i];
    }
  }
  return out;
}

function int8Values(g: Graph, name: string): { values: number[]; dims: number[] } | undefined {
  const t = g.initializers.get(name);
  if (!t || (t.dataType !== DataType.INT8 && t.dataType !== DataType.UINT8) || t.dims.length !== 2) return undefined;
  return { values: readNumbers(t), dims: t.dims };
}

/** The int8 [K, N] operand `name`: an initializer, or an [N, K] one through a [1, 0] Transpose (a tied MLM decoder). */
function int8Operand(v: View, name: string): { values: number[]; dims: number[] } | undefined {
  const direct = int8Values(v.g, name);
  if (direct) return direct;
  const t = v.prod.get(name);
  const perm = t && attrInts(t, 'perm');
  if (!t || t.domain || t.opType !== 'Transpose' || (perm && !(perm.length === 2 && perm[0] === 1 && perm[1] === 0))) return undefined;
  const inner = int8Values(v.g, t.inputs[0]);
  if (!inner) return undefined;
  const [rows, cols] = inner.dims;
  const values = new Array<number>(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) values[c * rows + r] = inner.values[r * cols + c];
  return { values, dims: [cols, rows] };
}

/** A projection `n` whose int8 weight (its input 1, [K, N]) has scales `s` per column (or one), reading `input`. */
function int8Projection(n: Node, input: string, w: { values: number[]; dims: number[] }, s: Float32Array): QuantizedProjection {
  const [K, N] = w.dims;
  return { node: n.name, op: n.opType, input, weight: n.inputs[1], inFeatures: K, outFeatures: N, dequantized: () => scaled(w.values, K, N, s, 1) };
}

function projectionAt(v: View, n: Node): QuantizedProjection | undefined {
  const { g, prod, cons } = v;
  const ms = n.domain === 'com.microsoft';
  if (ms && n.opType === 'DynamicQuantizeMatMul') {
    const w = int8Operand(v, n.inputs[1]);
    const s = floats(g, n.inputs[2]);
    if (!w || !s) return undefined;
    return int8Projection(n, n.inputs[0], w, s);
  }
  if (ms && (n.opType === 'MatMulIntegerToFloat' || n.opType === 'QAttention')) {
    // the weight scale: MatMulIntegerToFloat(x_q, W, x_scale, w_scale, …), QAttention(x_q, W, b, x_scale, w_scale, …)
    const w = int8Operand(v, n.inputs[1]);
    const s = floats(g, n.inputs[n.opType === 'QAttention' ? 4 : 3]);
    const dql = prod.get(n.inputs[0]);
    if (!w || !s || dql?.opType !== 'DynamicQuantizeLinear') return undefined;
    return int8Projection(n, dql.inputs[0], w, s);
  }
  if (!n.domain && n.opType === 'MatMulInteger') {
    const w = int8Operand(v, n.inputs[1]);
    const dql = prod.get(n.inputs[0]);
    const cast = cons.get(n.outputs[0])?.[0];
    const mul = cast && cons.get(cast.outputs[0])?.[0];
    const scaleMul = mul && prod.get(mul.inputs.find((i) => i !== cast!.outputs[0]) ?? '');
    const s = scaleMul?.inputs.map((i) => floats(g, i)).find(Boolean);
    if (!w || dql?.opType !== 'DynamicQuantizeLinear' || !s) return undefined;
    return int8Projection(n, dql.inputs[0], w, s);
  }
  if (ms && n.opType === 'MatMulNBits') {
    const B = g.initializers.get(n.inputs[1]);
    const scales = floats(g, n.inputs[2]);
    const zp = n.inputs[3] ? g.initializers.get(n.inputs[3]) : undefined;
    const K = attrInt(n, 'K')!,
      N = attrInt(n, 'N')!,
      blockSize = attrInt(n, 'block_size')!;
    if (!B || !scales || (attrInt(n, 'bits', 4) ?? 4) !== 4) return undefined;
    const kBlocks = Math.ceil(K / blockSize);
    return {
      node: n.name,
      op: n.opType,
      input: n.inputs[0],
      weight: n.inputs[1],
      inFeatures: K,
      outFeatures: N,
      dequantized: () => dequantizeInt4Blocks({ K, N, blockSize, kBlocks, packed: B.data, scales, zeroPoints: zp?.data, maxAbsError: 0, maxAbs: 0 }),
    };
  }
  if (!n.domain && (n.opType === 'MatMul' || n.opType === 'Gemm')) {
    const dq = prod.get(n.inputs[1]);
    if (dq?.opType !== 'DequantizeLinear') return undefined;
    const w = int8Operand(v, dq.inputs[0]);
    const s = floats(g, dq.inputs[1]);
    if (!w || !s) return undefined;
    const zero = dq.inputs[2] ? readNumbers(g.initializers.get(dq.inputs[2])!) : undefined;
    const axis = (attrInt(dq, 'axis', 1) ?? 1) === 0 ? 0 : 1;
    const [r, c] = w.dims;
    const outIn = n.opType === 'Gemm' && (attrInt(n, 'transB', 0) ?? 0) === 1;
    const actDq = prod.get(n.inputs[0]);
    const actQ = actDq?.opType === 'DequantizeLinear' ? prod.get(actDq.inputs[0]) : undefined;
    const input = actQ?.opType === 'QuantizeLinear' ? actQ.inputs[0] : n.inputs[0];
    return {
      node: n.name,
      op: n.opType,
      input,
      weight: dq.inputs[0],
      inFeatures: outIn ? c : r,
      outFeatures: outIn ? r : c,
      dequantized: () => {
        const m = scaled(w.values, r, c, s, axis, zero);
        return outIn ? transpose2d(m, r, c) : m;
      },
    };
  }
  return undefined;
}

function view(model: Model): View {
  return { g: model.graph, prod: producers(model.graph), cons: consumers(model.graph) };
}

/** Every quantized projection of a graph, in node order. */
export function quantizedProjections(model: Model): QuantizedProjection[] {
  const v = view(model);
  return model.graph.nodes.map((n) => projectionAt(v, n)).filter((p): p is QuantizedProjection => !!p);
}

/** Every int8 embedding lookup of a graph. */
export function quantizedEmbeddings(model: Model): QuantizedEmbedding[] {
  const v = view(model);
  const out: QuantizedEmbedding[] = [];
  for (const n of model.graph.nodes) {
    if (n.domain || n.opType !== 'Gather') continue;
    const table = int8Values(v.g, n.inputs[0]);
    if (!table) continue;
    const [rows, width] = table.dims;
    const next = v.cons.get(n.outputs[0])?.[0];
    if (next?.opType === 'DequantizeLinear') {
      const s = floats(v.g, next.inputs[1]);
      if (s) out.push({ gather: n.name, table: n.inputs[0], rows, width, output: next.outputs[0], dequantized: () => scaled(table.values, rows, width, s, 0) });
      continue;
    }
    const mul = next?.opType === 'Cast' ? v.cons.get(next.outputs[0])?.[0] : undefined;
    if (mul?.opType !== 'Mul') continue;
    const other = mul.inputs.find((i) => i !== next!.outputs[0])!;
    const scaleGather = v.prod.get(other);
    const s = scaleGather?.opType === 'Gather' ? floats(v.g, scaleGather.inputs[0]) : floats(v.g, other);
    if (s) out.push({ gather: n.name, table: n.inputs[0], rows, width, output: mul.outputs[0], dequantized: () => scaled(table.values, rows, width, s, 0) });
  }
  return out;
}
