/**
 * Static int8 projections in QDQ format (onnxruntime's QDQ quantizer): the activation input passes through a
 * QuantizeLinear → DequantizeLinear pair with the calibrated uint8 scale and zero point (one pair per value, shared
 * by Q/K/V), and the weight is an int8 initializer behind a DequantizeLinear (per output channel: axis 1 of an
 * [in, out] MatMul weight, axis 0 of a Gemm transB=1 weight; opset >= 13). The MatMul / Gemm node keeps its name
 * and output; onnxruntime fuses the pattern into integer kernels.
 */
import { attrInt, type Node } from '../../onnx/graph.ts';
import { float32Tensor, int8Tensor, uint8Tensor } from '../../onnx/tensor.ts';
import { attr } from '../graph-edit.ts';
import { transpose2d } from '../../bert/build-graph.ts';
import { int8Qmax, quantizeInt8 } from '../int8-weights.ts';
import { activationQuantParams } from '../calibrate.ts';
import { int8SchemeKey, schemeName, type OpQuantizer, type RewriteContext, type TensorRecord, type WeightScheme } from '../registry.ts';
import { projectionWeight, readProjection, type Projection } from './projection.ts';
import { tiedTable } from './tied-table.ts';
import { quotedText } from '../../errors.ts';

/** Opset needed for per-axis DequantizeLinear. */
export const PER_AXIS_OPSET = 13;

/** Q → DQ of an activation value with its calibrated parameters, made once per value. */
function qdqActivation(x: string, before: Node, ctx: RewriteContext): string {
  const key = `qdq|${x}`;
  const done = ctx.activations.get(key);
  if (done) return done[0];
  const { edit } = ctx;
  const { scale, zeroPoint } = activationQuantParams(ctx.ranges.get(x)!);
  const s = edit.addInitializer(`${x}_scale`, float32Tensor('', [], [scale]));
  const z = edit.addInitializer(`${x}_zero_point`, uint8Tensor('', [], [zeroPoint]));
  const q = edit.fresh(`${x}_quantized`);
  const dq = edit.fresh(`${x}_dequantized`);
  edit.insertBefore(before, [edit.makeNode('QuantizeLinear', [x, s, z], [q]), edit.makeNode('DequantizeLinear', [q, s, z], [dq])]);
  ctx.activations.set(key, [dq]);
  return dq;
}

/** The int8 weight behind a DequantizeLinear, in the layout the rewritten node reads ([in, out] or [out, in]). */
function qdqWeight(
  p: Projection,
  s: WeightScheme & { kind: 'int8' },
  outIn: boolean,
  before: Node,
  ctx: RewriteContext,
  target: string,
): { value: string; record: TensorRecord } {
  const lin = p.linear;
  const key = `qdq|${lin.weight}|${lin.layout}|${outIn}|${int8SchemeKey(s)}`;
  const cached = ctx.weights.get(key);
  if (cached) return { value: cached.names[0], record: { ...cached.record, target, node: p.node.name, bytesAfter: 0 } };
  const { edit } = ctx;
  const tied = tiedTable(p, s, ctx);
  if (tied) {
    // the decoder tied to the int8 word table reads it ([out, in]; transposed for a MatMul, which onnxruntime folds)
    const values = outIn ? tied.values : edit.fresh(`${tied.values}_transposed`);
    if (!outIn) edit.insertBefore(before, [edit.makeNode('Transpose', [tied.values], [values], { perm: attr.ints([1, 0]) })]);
    const perTensor = typeof tied.scales === 'string';
    const scale = perTensor
      ? (tied.scales as string)
      : edit.addInitializer(`${lin.weight}_scale`, float32Tensor('', [lin.outFeatures], tied.scales as Float32Array));
    const dq = edit.fresh(`${lin.weight}_dequantized`);
    const inputs = perTensor && tied.zeroPoint ? [values, scale, tied.zeroPoint] : [values, scale];
    edit.insertBefore(before, [edit.makeNode('DequantizeLinear', inputs, [dq], perTensor ? {} : { axis: attr.int(outIn ? 0 : 1) })]);
    const record: TensorRecord = {
      ...tied.record,
      target,
      node: p.node.name,
      op: p.node.opType,
      scheme: schemeName(s),
      dims: outIn ? [lin.outFeatures, lin.inFeatures] : [lin.inFeatures, lin.outFeatures],
      bytesBefore: 0,
      bytesAfter: perTensor ? 0 : 4 * lin.outFeatures,
    };
    ctx.weights.set(key, { names: [dq], record });
    return { value: dq, record };
  }
  const inOut = projectionWeight(p, ctx);
  const [rows, cols] = outIn ? [lin.outFeatures, lin.inFeatures] : [lin.inFeatures, lin.outFeatures];
  const w = outIn ? transpose2d(inOut, lin.inFeatures, lin.outFeatures) : inOut;
  const axis = outIn ? 0 : 1;
  const q = quantizeInt8(w, rows, cols, axis, s.granularity, int8Qmax(s.reduceRange));
  const perTensor = s.granularity.kind === 'tensor';
  const values = edit.addInitializer(`${lin.weight}_int8`, int8Tensor('', [rows, cols], q.values));
  const scale = edit.addInitializer(`${lin.weight}_scale`, float32Tensor('', perTensor ? [] : [q.scales.length], q.scales));
  const zero = edit.addInitializer(`${lin.weight}_zero_point`, int8Tensor('', perTensor ? [] : [q.scales.length], new Int8Array(q.scales.length)));
  const dq = edit.fresh(`${lin.weight}_dequantized`);
  edit.insertBefore(before, [edit.makeNode('DequantizeLinear', [values, scale, zero], [dq], perTensor ? {} : { axis: attr.int(axis) })]);
  const record: TensorRecord = {
    target,
    tensor: lin.weight,
    node: p.node.name,
    op: p.node.opType,
    scheme: schemeName(s),
    dims: [rows, cols],
    bytesBefore: 4 * rows * cols,
    bytesAfter: q.values.byteLength + 5 * q.scales.length,
    maxAbsError: q.maxAbsError,
    maxAbs: q.maxAbs,
  };
  ctx.weights.set(key, { names: [dq], record });
  return { value: dq, record };
}

export const qdqMatMul: OpQuantizer = {
  check(node, target, scheme, ctx) {
    if (scheme.kind !== 'int8') return 'QDQ takes int8 weights only';
    const p = readProjection(node, target, ctx);
    if (typeof p === 'string') return p;
    if (!ctx.ranges.has(p.x)) return `no calibrated range for its input ${quotedText(p.x)}`;
    if (scheme.granularity.kind !== 'tensor' && ctx.edit.opset() < PER_AXIS_OPSET)
      return `per-channel DequantizeLinear needs opset ${PER_AXIS_OPSET} (the model has ${ctx.edit.opset()})`;
    if (ctx.edit.opset() < 10) return 'QuantizeLinear / DequantizeLinear need opset 10';
    return undefined;
  },
  rewrite(node, target, scheme, ctx) {
    const p = readProjection(node, target, ctx) as Projection;
    const s = scheme as WeightScheme & { kind: 'int8' };
    const isGemm = node.opType === 'Gemm';
    const x = qdqActivation(p.x, node, ctx);
    const w = qdqWeight(p, s, isGemm, node, ctx, target.id);
    node.inputs = [x, w.value, ...node.inputs.slice(2)];
    if (isGemm && (attrInt(node, 'transB', 0) ?? 0) !== 1) node.attributes = { ...node.attributes, transB: attr.int(1) };
    return [w.record];
  },
};
