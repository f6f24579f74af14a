/**
 * Dynamic int8 projections, as onnxruntime's quantize_dynamic writes them: the weight becomes int8 (symmetric:
 * zero point 0) with one scale per tensor, output channel or channel group, and the activation is quantized to
 * uint8 at run time. Two formulations:
 * - 'contrib': one com.microsoft DynamicQuantizeMatMul(x, W_int8, w_scale) node (per-column scales supported);
 * - 'standard': DynamicQuantizeLinear(x) → MatMulInteger(x_q, W_int8, x_zp) → Cast(float) → Mul(x_scale · w_scale),
 *   ONNX standard ops (opset >= 11), which onnxruntime fuses into the contrib op anyway.
 * The weight is stored [in, out] (an [out, in] weight is transposed once here). The bias Add stays as it was.
 */
import type { Node } from '../../onnx/graph.ts';
import { DataType } from '../../onnx/dtype.ts';
import { float32Tensor, int8Tensor } from '../../onnx/tensor.ts';
import { attr, MS_DOMAIN } from '../graph-edit.ts';
import { quantizeInt8 } from '../int8-weights.ts';
import { granularityKey, schemeName, type OpQuantizer, type RewriteContext, type TensorRecord, type WeightScheme } from '../registry.ts';
import { finishProjection, outputFor, projectionWeight, readProjection, type Projection } from './projection.ts';

/** The int8 [in, out] weight and its scales as initializers, quantized once per weight and scheme. */
function int8WeightInitializers(p: Projection, scheme: WeightScheme & { kind: 'int8' }, ctx: RewriteContext, target: string, op: string): { weight: string; scale: string; record: TensorRecord } {
  const lin = p.linear;
  const key = `int8|${lin.weight}|${lin.layout}|${granularityKey(scheme.granularity)}|${p.alpha}`;
  const cached = ctx.weights.get(key);
  if (cached) return { weight: cached.names[0], scale: cached.names[1], record: { ...cached.record, target, node: p.node.name, bytesAfter: 0 } };
  const w = projectionWeight(p, ctx);
  const q = quantizeInt8(w, lin.inFeatures, lin.outFeatures, 1, scheme.granularity);
  const scales = p.alpha === 1 ? q.scales : q.scales.map((s) => s * p.alpha);
  const weight = ctx.edit.addInitializer(`${lin.weight}_int8`, int8Tensor('', [lin.inFeatures, lin.outFeatures], q.values));
  const scaleDims = scheme.granularity.kind === 'tensor' ? [] : [lin.outFeatures];
  const scale = ctx.edit.addInitializer(`${lin.weight}_scale`, float32Tensor('', scaleDims, scales));
  const record: TensorRecord = {
    target, tensor: lin.weight, node: p.node.name, op, scheme: schemeName(scheme),
    dims: [lin.inFeatures, lin.outFeatures],
    bytesBefore: 4 * lin.inFeatures * lin.outFeatures,
    bytesAfter: q.values.byteLength + 4 * scales.length,
    maxAbsError: q.maxAbsError, maxAbs: q.maxAbs,
  };
  ctx.weights.set(key, { names: [weight, scale], record });
  return { weight, scale, record };
}

/** DynamicQuantizeLinear of a value, made once and shared by every projection reading it. */
export function dynamicQuantized(x: string, before: Node, ctx: RewriteContext): [q: string, scale: string, zeroPoint: string] {
  const key = `dql|${x}`;
  const done = ctx.activations.get(key);
  if (done) return done as [string, string, string];
  const { edit } = ctx;
  const out: [string, string, string] = [edit.fresh(`${x}_quantized`), edit.fresh(`${x}_scale`), edit.fresh(`${x}_zero_point`)];
  edit.insertBefore(before, [edit.makeNode('DynamicQuantizeLinear', [x], [...out])]);
  ctx.activations.set(key, out);
  return out;
}

function useStandard(ctx: RewriteContext): boolean {
  return ctx.options.format === 'standard' && ctx.edit.opset() >= 11;
}

export const dynamicMatMul: OpQuantizer = {
  check(node, target, scheme, ctx) {
    if (scheme.kind !== 'int8') return 'dynamic int8 takes int8 weights only';
    const p = readProjection(node, target, ctx);
    return typeof p === 'string' ? p : undefined;
  },
  rewrite(node, target, scheme, ctx) {
    const p = readProjection(node, target, ctx) as Projection;
    const s = scheme as WeightScheme & { kind: 'int8' };
    const { edit } = ctx;
    const product = outputFor(p, ctx);
    if (useStandard(ctx)) {
      const w = int8WeightInitializers(p, s, ctx, target.id, 'MatMulInteger');
      const [xq, xs, xz] = dynamicQuantized(p.x, node, ctx);
      const acc = edit.fresh(`${p.y}_int32`);
      const asFloat = edit.fresh(`${p.y}_float`);
      const scale = edit.fresh(`${p.y}_rescale`);
      const mm = edit.makeNode('MatMulInteger', [xq, w.weight, xz], [acc]);
      finishProjection(p, ctx, [
        mm,
        edit.makeNode('Cast', [acc], [asFloat], { to: attr.int(DataType.FLOAT) }),
        edit.makeNode('Mul', [xs, w.scale], [scale]),
        edit.makeNode('Mul', [asFloat, scale], [product]),
      ], product);
      return [{ ...w.record, node: mm.name }];
    }
    if (ctx.options.format === 'standard' && !ctx.notes.some((n) => n.startsWith('format standard'))) {
      ctx.notes.push(`format standard needs opset >= 11 (DynamicQuantizeLinear); opset ${edit.opset()}: used com.microsoft DynamicQuantizeMatMul`);
    }
    edit.importDomain(MS_DOMAIN);
    const w = int8WeightInitializers(p, s, ctx, target.id, 'DynamicQuantizeMatMul');
    const mm = edit.makeNode('DynamicQuantizeMatMul', [p.x, w.weight, w.scale], [product], {}, MS_DOMAIN);
    finishProjection(p, ctx, [mm], product);
    return [{ ...w.record, node: mm.name }];
  },
};
