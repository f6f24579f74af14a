/** Gradient rules of reductions, Softmax / LogSoftmax and LayerNormalization. */
import type { Node } from '../../onnx/graph.ts';
import { attrFloat, attrInt, attrInts } from '../../onnx/graph.ts';
import { at, GradientError, normalizeAxis, type GradContext, type GradientRule, nodeName } from '../context.ts';
import { DataType } from '../../onnx/dtype.ts';

/** The reduced axes of a Reduce* node (attribute, or a constant input from opset 18), normalized; all when none. */
function reducedAxes(ctx: GradContext, n: Node): number[] {
  const r = ctx.rank(n.inputs[0]);
  let axes = attrInts(n, 'axes');
  if (!axes && n.inputs[1]) {
    const producer = ctx.constantNumbers(n.inputs[1]);
    if (!producer) throw new GradientError(`${n.opType} node ${nodeName(n)}: axes must be a constant to differentiate`);
    axes = producer;
  }
  if (!axes?.length) {
    if (attrInt(n, 'noop_with_empty_axes', 0)) return [];
    return [...Array(r).keys()];
  }
  return axes.map((a) => normalizeAxis(a, r)).sort((a, b) => a - b);
}

/** The output gradient with the reduced axes restored (size 1) and broadcast to the input's run-time shape. */
function expandBack(ctx: GradContext, n: Node, g: string): string {
  const axes = reducedAxes(ctx, n);
  const kept = attrInt(n, 'keepdims', 1) ? g : axes.length ? ctx.unsqueeze(g, axes) : g;
  return ctx.op('Expand', [kept, ctx.shapeOf(n.inputs[0])]);
}

export const ReduceSum: GradientRule = {
  opType: 'ReduceSum',
  grad: (ctx, n, dy, need) => [need[0] ? expandBack(ctx, n, dy[0]!) : undefined, undefined],
};

export const ReduceMean: GradientRule = {
  opType: 'ReduceMean',
  grad(ctx, n, dy, need) {
    if (!need[0]) return [undefined, undefined];
    // divide by the count of reduced elements: size(x) / size(y), at run time
    const type = ctx.typeOf(n.inputs[0]);
    const count = ctx.op('Div', [
      ctx.op('Cast', [ctx.op('Size', [n.inputs[0]])], { to: at.int(type) }),
      ctx.op('Cast', [ctx.op('Size', [n.outputs[0]])], { to: at.int(type) }),
    ]);
    return [ctx.op('Div', [expandBack(ctx, n, dy[0]!), count]), undefined];
  },
};

/**
 * ReduceMax: the gradient goes to the elements equal to the maximum, split evenly among them where several tie (as
 * torch's amax does; the BiLSTM student's max pool over time is one, and a loss depends on it through its head).
 */
export const ReduceMax: GradientRule = {
  opType: 'ReduceMax',
  grad(ctx, n, dy, need) {
    if (!need[0]) return [undefined, undefined];
    const x = n.inputs[0];
    const y = n.outputs[0];
    const yb = expandBack(ctx, n, y);
    const hit = ctx.op('Equal', [x, yb]);
    const g = expandBack(ctx, n, dy[0]!);
    const axes = reducedAxes(ctx, n);
    // ties: each of the k elements equal to the maximum gets 1/k of its gradient (k ≥ 1 where `hit`)
    const share = axes.length ? ctx.op('Div', [g, ctx.reduceSum(ctx.op('Cast', [hit], { to: at.int(ctx.typeOf(x)) }), axes, true)]) : g;
    return [ctx.op('Where', [hit, share, ctx.scalar(0, x)]), undefined];
  },
};

/** The softmax axis of a node (opset 13 semantics: forward graphs are opset 13 or later), normalized. */
function softmaxAxis(ctx: GradContext, n: Node): number {
  return normalizeAxis(attrInt(n, 'axis', -1)!, ctx.rank(n.inputs[0]));
}

/** dx = y ⊙ (dy − Σ(dy ⊙ y)) along the axis. */
export const Softmax: GradientRule = {
  opType: 'Softmax',
  grad(ctx, n, dy, need) {
    if (!need[0]) return [undefined];
    const y = n.outputs[0];
    const g = dy[0]!;
    const axis = softmaxAxis(ctx, n);
    const dot = ctx.reduceSum(ctx.op('Mul', [g, y]), [axis], true);
    return [ctx.op('Mul', [y, ctx.op('Sub', [g, dot])])];
  },
};

/** dx = dy − exp(y) ⊙ Σ dy along the axis. */
export const LogSoftmax: GradientRule = {
  opType: 'LogSoftmax',
  grad(ctx, n, dy, need) {
    if (!need[0]) return [undefined];
    const g = dy[0]!;
    const axis = softmaxAxis(ctx, n);
    const total = ctx.reduceSum(g, [axis], true);
    return [ctx.op('Sub', [g, ctx.op('Mul', [ctx.op('Exp', [n.outputs[0]]), total])])];
  },
};

/**
 * LayerNormalization(x, γ, β) over axes [axis, rank): with x̂ = (x − μ)·r, r = 1/√(σ² + ε):
 * dβ = Σ dy, dγ = Σ dy ⊙ x̂ (over the leading axes, and any normalized axes γ / β are broadcast along),
 * dx = r·(g − mean(g) − x̂·mean(g ⊙ x̂)) with g = dy ⊙ γ.
 * A float32 node's μ and r are its own Mean and InvStdDev outputs (the builder adds them to it where the graph left
 * them out): three passes over x fewer than recomputing them, which a float64 node still does (its stash type
 * makes them float32).
 */
export const LayerNormalization: GradientRule = {
  opType: 'LayerNormalization',
  grad(ctx, n, dy, need) {
    if (dy[1] || dy[2]) {
      throw new GradientError(
        `LayerNormalization node ${nodeName(n)}: its Mean / InvStdDev outputs reach the loss; only the normalized output is differentiable`,
      );
    }
    const g = dy[0];
    if (!g) return n.inputs.map(() => undefined);
    const [x, scale, bias] = n.inputs;
    const r = ctx.rank(x);
    const axis = normalizeAxis(attrInt(n, 'axis', -1)!, r);
    const eps = attrFloat(n, 'epsilon', 1e-5)!;
    const normAxes = [...Array(r - axis).keys()].map((i) => axis + i);
    const mean = (v: string) => ctx.reduceMean(v, normAxes);
    let xc: string;
    let rstd: string;
    if (ctx.typeOf(x) === DataType.FLOAT && attrInt(n, 'stash_type', 1) === 1) {
      // the node's own float32 Mean and InvStdDev, which it computes anyway (added to it where the graph left them out)
      xc = ctx.op('Sub', [x, ctx.forwardOutput(n, 1)]);
      rstd = ctx.forwardOutput(n, 2);
    } else {
      // (float64: Mean and InvStdDev are float32 at stash_type 1; recomputed in x's type)
      xc = ctx.op('Sub', [x, mean(x)]);
      const variance = mean(ctx.op('Mul', [xc, xc]));
      rstd = ctx.op('Reciprocal', [ctx.op('Sqrt', [ctx.op('Add', [variance, ctx.scalar(eps, x)])])]);
    }
    const xhat = ctx.op('Mul', [xc, rstd]);
    const out: Array<string | undefined> = [undefined, undefined, undefined];
    if (need[0]) {
      const gs = ctx.op('Mul', [g, scale]);
      const inner = ctx.op('Sub', [ctx.op('Sub', [gs, mean(gs)]), ctx.op('Mul', [xhat, mean(ctx.op('Mul', [gs, xhat]))])]);
      out[0] = ctx.op('Mul', [inner, rstd]);
    }
    // γ and β broadcast (unidirectionally) to the normalized shape: sum over the leading axes and over the
    // normalized axes where they have size 1.
    if (need[1]) out[1] = ctx.unbroadcast(ctx.op('Mul', [g, xhat]), scale, x);
    if (bias && need[2]) out[2] = ctx.unbroadcast(g, bias, x);
    return out;
  },
};
