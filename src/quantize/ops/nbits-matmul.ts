/**
 * 4-bit projections: MatMul / Gemm → com.microsoft MatMulNBits(x, B, scales[, zero_points]) with K, N, bits = 4 and
 * block_size attributes (layout in int4-blocks.ts). The activation stays float; onnxruntime dequantizes the blocks
 * inside the kernel. The bias Add (or Gemm's C) stays as it was.
 */
import { uint8Tensor, float32Tensor } from '../../onnx/tensor.ts';
import { attr, MS_DOMAIN } from '../graph-edit.ts';
import { quantizeInt4Blocks } from '../int4-blocks.ts';
import { schemeName, type OpQuantizer, type TensorRecord, type WeightScheme } from '../registry.ts';
import { finishProjection, outputFor, projectionWeight, readProjection, type Projection } from './projection.ts';

export const nbitsMatMul: OpQuantizer = {
  check(node, target, scheme, ctx) {
    if (scheme.kind !== 'int4') return 'MatMulNBits takes 4-bit weights only';
    // (a projection its blocks would store in more bytes than float: int4-block's plan leaves it float, planInt4)
    const p = readProjection(node, target, ctx);
    return typeof p === 'string' ? p : undefined;
  },
  rewrite(node, target, scheme, ctx) {
    const p = readProjection(node, target, ctx) as Projection;
    const s = scheme as WeightScheme & { kind: 'int4' };
    const { edit } = ctx;
    const lin = p.linear;
    const K = lin.inFeatures,
      N = lin.outFeatures;
    const key = `int4|${lin.weight}|${lin.layout}|${s.blockSize}|${s.symmetric}|${p.alpha}`;
    let names = ctx.weights.get(key)?.names;
    let record: TensorRecord;
    if (names) {
      record = { ...ctx.weights.get(key)!.record, target: target.id, node: node.name, bytesAfter: 0 };
    } else {
      const q = quantizeInt4Blocks(projectionWeight(p, ctx), K, N, s.blockSize, s.symmetric);
      const scales = p.alpha === 1 ? q.scales : q.scales.map((v) => v * p.alpha);
      names = [
        edit.addInitializer(`${lin.weight}_int4`, uint8Tensor('', [N, q.kBlocks, s.blockSize / 2], q.packed)),
        edit.addInitializer(`${lin.weight}_scales`, float32Tensor('', [N, q.kBlocks], scales)),
      ];
      if (q.zeroPoints) names.push(edit.addInitializer(`${lin.weight}_zero_points`, uint8Tensor('', [N, Math.ceil(q.kBlocks / 2)], q.zeroPoints)));
      record = {
        target: target.id,
        tensor: lin.weight,
        node: node.name,
        op: 'MatMulNBits',
        scheme: schemeName(s),
        dims: [K, N],
        bytesBefore: 4 * K * N,
        bytesAfter: q.packed.byteLength + 4 * scales.length + (q.zeroPoints?.byteLength ?? 0),
        maxAbsError: q.maxAbsError,
        maxAbs: q.maxAbs,
      };
      ctx.weights.set(key, { names, record });
    }
    edit.importDomain(MS_DOMAIN);
    const product = outputFor(p, ctx);
    const mm = edit.makeNode(
      'MatMulNBits',
      [p.x, ...names],
      [product],
      {
        K: attr.int(K),
        N: attr.int(N),
        bits: attr.int(4),
        block_size: attr.int(s.blockSize),
      },
      MS_DOMAIN,
    );
    finishProjection(p, ctx, [mm], product);
    return [{ ...record, node: mm.name }];
  },
};
