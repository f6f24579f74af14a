/** Gradient rules of the products: MatMul (batched, broadcasting) and Gemm. */
import { attrFloat, attrInt } from '../../onnx/graph.ts';
import { at, GradientError, type GradContext, type GradientRule, nodeName } from '../context.ts';

/** x with its last two axes swapped. */
function swapLast(ctx: GradContext, x: string): string {
  const r = ctx.rank(x);
  const perm = [...Array(r).keys()];
  [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
  return ctx.op('Transpose', [x], { perm: at.ints(perm) });
}

/**
 * Y = A·B. dA = dY·Bᵀ, dB = Aᵀ·dY, each summed over the batch axes its operand was broadcast along. The common
 * case of a rank-2 weight B under a rank-≥3 A is done as one [K, M]·[M, N] product over the flattened batch.
 */
export const MatMul: GradientRule = {
  opType: 'MatMul',
  grad(ctx, n, dy, need) {
    const g = dy[0]!;
    const [a, b] = n.inputs;
    const y = n.outputs[0];
    const ra = ctx.rank(a);
    const rb = ctx.rank(b);
    if (ra < 2 || rb < 2) throw new GradientError(`MatMul node ${nodeName(n)}: 1-D operands are not differentiable here`);
    let da: string | undefined;
    let db: string | undefined;
    if (need[0]) {
      da = rb === 2 ? ctx.op('MatMul', [g, ctx.op('Transpose', [b], { perm: at.ints([1, 0]) })]) : ctx.op('MatMul', [g, swapLast(ctx, b)]);
      da = ctx.unbroadcast(da, a, y);
    }
    if (need[1]) {
      if (rb === 2 && ra > 2) {
        // [batch…, K] → [batch, K] and [batch…, N] → [batch, N] at run time (K and N may be symbolic)
        const a2 = ctx.op('Flatten', [a], { axis: at.int(ra - 1) });
        const g2 = ctx.op('Flatten', [g], { axis: at.int(ctx.rank(y) - 1) });
        db = ctx.op('Gemm', [a2, g2], { transA: at.int(1) });
      } else {
        db = ctx.unbroadcast(ctx.op('MatMul', [swapLast(ctx, a), g]), b, y);
      }
    }
    return [da, db];
  },
};

/** Y = α·op(A)·op(B) + β·C with op = transpose when transA / transB. */
export const Gemm: GradientRule = {
  opType: 'Gemm',
  grad(ctx, n, dy, need) {
    const g = dy[0]!;
    const [a, b, c] = n.inputs;
    const alpha = attrFloat(n, 'alpha', 1)!;
    const beta = attrFloat(n, 'beta', 1)!;
    const ta = attrInt(n, 'transA', 0)!;
    const tb = attrInt(n, 'transB', 0)!;
    const gemm = (x: string, y: string, tx: number, ty: number) => ctx.op('Gemm', [x, y], { alpha: at.float(alpha), transA: at.int(tx), transB: at.int(ty) });
    let da: string | undefined;
    let db: string | undefined;
    if (need[0]) da = ta ? gemm(b, g, tb, 1) : gemm(g, b, 0, tb ? 0 : 1);
    if (need[1]) db = tb ? gemm(g, a, 1, ta) : gemm(a, g, ta ? 0 : 1, 0);
    let dc: string | undefined;
    if (c && need[2]) {
      const scaled = beta === 1 ? g : ctx.op('Mul', [g, ctx.scalar(beta, n.outputs[0])]);
      dc = ctx.unbroadcast(scaled, c, n.outputs[0]);
    }
    return [da, db, dc];
  },
};
