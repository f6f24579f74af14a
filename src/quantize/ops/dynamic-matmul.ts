/**
 * Dynamic int8 projections: the weight becomes int8 (symmetric: zero point 0) with one scale per tensor, output
 * channel or channel group, and the activation is quantized to uint8 at run time. Two formulations:
 * - 'contrib' (the default, the fastest measured: `npm run bench -- int8-formulations`): the graph onnxruntime's
 *   optimizer makes of the standard form, written directly. An activation read by several quantized projections
 *   (Q, K and V) is quantized once, DynamicQuantizeLinear(x) (opset >= 11), and each projection is a com.microsoft
 *   MatMulIntegerToFloat(x_q, W_int8, x_scale, w_scale, x_zp, , bias); an activation with one reader (or any, below
 *   opset 11) goes into one com.microsoft DynamicQuantizeMatMul(x, W_int8, w_scale, , bias). Both add the bias
 *   themselves (the bias Add goes) and take per-column scales;
 * - 'standard': DynamicQuantizeLinear(x) → MatMulInteger(x_q, W_int8, x_zp) → Cast(float) → Mul(x_scale · w_scale),
 *   ONNX standard ops (opset >= 11), the bias Add kept; onnxruntime fuses it into the contrib form when it loads it.
 * The weight is stored [in, out] (an [out, in] weight is transposed once here).
 */
import type { Node } from '../../onnx/graph.ts';
import { DataType } from '../../onnx/dtype.ts';
import { float32Tensor, int8Tensor } from '../../onnx/tensor.ts';
import { attr, MS_DOMAIN, withoutTrailingEmpty } from '../graph-edit.ts';
import { int8Qmax, quantizeInt8 } from '../int8-weights.ts';
import { int8SchemeKey, schemeName, type OpQuantizer, type RewriteContext, type TensorRecord, type WeightScheme } from '../registry.ts';
import { finishProjection, fusableBias, outputFor, projectionWeight, readProjection, type Projection } from './projection.ts';
import { tiedTable } from './tied-table.ts';

/** The int8 [in, out] weight and its scales as initializers, quantized once per weight and scheme. */
function int8WeightInitializers(
  p: Projection,
  scheme: WeightScheme & { kind: 'int8' },
  ctx: RewriteContext,
  target: string,
  op: string,
): { weight: string; scale: string; record: TensorRecord } {
  const lin = p.linear;
  const key = `int8|${lin.weight}|${lin.layout}|${int8SchemeKey(scheme)}|${p.alpha}`;
  const cached = ctx.weights.get(key);
  if (cached) return { weight: cached.names[0], scale: cached.names[1], record: { ...cached.record, target, node: p.node.name, bytesAfter: 0 } };
  const tied = tiedTableWeight(p, scheme, ctx, target, op);
  if (tied) {
    ctx.weights.set(key, tied);
    return { weight: tied.names[0], scale: tied.names[1], record: tied.record };
  }
  const w = projectionWeight(p, ctx);
  const q = quantizeInt8(w, lin.inFeatures, lin.outFeatures, 1, scheme.granularity, int8Qmax(scheme.reduceRange));
  const scales = p.alpha === 1 ? q.scales : q.scales.map((s) => s * p.alpha);
  const weight = ctx.edit.addInitializer(`${lin.weight}_int8`, int8Tensor('', [lin.inFeatures, lin.outFeatures], q.values));
  const scaleDims = scheme.granularity.kind === 'tensor' ? [] : [lin.outFeatures];
  const scale = ctx.edit.addInitializer(`${lin.weight}_scale`, float32Tensor('', scaleDims, scales));
  const record: TensorRecord = {
    target,
    tensor: lin.weight,
    node: p.node.name,
    op,
    scheme: schemeName(scheme),
    dims: [lin.inFeatures, lin.outFeatures],
    bytesBefore: 4 * lin.inFeatures * lin.outFeatures,
    bytesAfter: q.values.byteLength + 4 * scales.length,
    maxAbsError: q.maxAbsError,
    maxAbs: q.maxAbs,
  };
  ctx.weights.set(key, { names: [weight, scale], record });
  return { weight, scale, record };
}

/**
 * The int8 weight of a tied MLM decoder (tied-table.ts): the table's int8 values read through a Transpose
 * (onnxruntime folds it when it loads the model), so the file holds them once; only per-channel scales are stored
 * again, as the product op takes them ([out] rather than [rows, 1]). Undefined when not tied.
 */
function tiedTableWeight(
  p: Projection,
  scheme: WeightScheme & { kind: 'int8' },
  ctx: RewriteContext,
  target: string,
  op: string,
): { names: string[]; record: TensorRecord } | undefined {
  const tied = tiedTable(p, scheme, ctx);
  if (!tied) return undefined;
  const lin = p.linear;
  const { edit } = ctx;
  const weight = edit.fresh(`${tied.values}_transposed`);
  edit.insertBefore(p.node, [edit.makeNode('Transpose', [tied.values], [weight], { perm: attr.ints([1, 0]) })]);
  const scale = typeof tied.scales === 'string' ? tied.scales : edit.addInitializer(`${lin.weight}_scale`, float32Tensor('', [lin.outFeatures], tied.scales));
  const record: TensorRecord = {
    ...tied.record,
    target,
    node: p.node.name,
    op,
    scheme: schemeName(scheme),
    dims: [lin.inFeatures, lin.outFeatures],
    bytesBefore: 0,
    bytesAfter: typeof tied.scales === 'string' ? 0 : 4 * lin.outFeatures,
  };
  return { names: [weight, scale], record };
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
      finishProjection(
        p,
        ctx,
        [
          mm,
          edit.makeNode('Cast', [acc], [asFloat], { to: attr.int(DataType.FLOAT) }),
          edit.makeNode('Mul', [xs, w.scale], [scale]),
          edit.makeNode('Mul', [asFloat, scale], [product]),
        ],
        product,
      );
      return [{ ...w.record, node: mm.name }];
    }
    if (ctx.options.format === 'standard' && !ctx.notes.some((n) => n.startsWith('format standard'))) {
      ctx.notes.push(`format standard needs opset >= 11 (DynamicQuantizeLinear); opset ${edit.opset()}: used the com.microsoft contrib ops`);
    }
    edit.importDomain(MS_DOMAIN);
    const fused = fusableBias(p, ctx);
    const out = fused ? fused.output : product;
    const bias = fused?.bias ?? '';
    // DynamicQuantizeLinear is an opset-11 op: below that, every projection quantizes its own input.
    const shared = edit.opset() >= 11 && ((ctx.integerReaders.get(p.x) ?? 0) > 1 || ctx.activations.has(`dql|${p.x}`));
    const w = int8WeightInitializers(p, s, ctx, target.id, shared ? 'MatMulIntegerToFloat' : 'DynamicQuantizeMatMul');
    let mm: Node;
    if (shared) {
      const [xq, xs, xz] = dynamicQuantized(p.x, node, ctx);
      mm = edit.makeNode('MatMulIntegerToFloat', withoutTrailingEmpty([xq, w.weight, xs, w.scale, xz, '', bias]), [out], {}, MS_DOMAIN);
    } else {
      mm = edit.makeNode('DynamicQuantizeMatMul', withoutTrailingEmpty([p.x, w.weight, w.scale, '', bias]), [out], {}, MS_DOMAIN);
    }
    finishProjection(p, ctx, [mm], product, fused);
    return [{ ...w.record, node: mm.name }];
  },
};
