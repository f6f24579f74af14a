/** Gradient rules of the ops that move elements without changing them. */
import { attrInt, attrInts } from '../../onnx/graph.ts';
import { at, GradientError, normalizeAxis, type GradientRule, nodeName } from '../context.ts';

/** Ops whose output holds the input's elements in the same order: the gradient is reshaped back. */
function reshapeBack(opType: string): GradientRule {
  return { opType, grad: (ctx, n, dy, need) => n.inputs.map((x, i) => (i === 0 && need[0] ? ctx.reshapeLike(dy[0]!, x) : undefined)) };
}
export const Reshape = reshapeBack('Reshape');
export const Flatten = reshapeBack('Flatten');
export const Squeeze = reshapeBack('Squeeze');
export const Unsqueeze = reshapeBack('Unsqueeze');

export const Transpose: GradientRule = {
  opType: 'Transpose',
  grad(ctx, n, dy, need) {
    if (!need[0]) return [undefined];
    const r = ctx.rank(n.inputs[0]);
    const perm = attrInts(n, 'perm') ?? [...Array(r).keys()].reverse();
    const inverse = new Array<number>(r);
    perm.forEach((p, i) => (inverse[p] = i));
    return [ctx.op('Transpose', [dy[0]!], { perm: at.ints(inverse) })];
  },
};

/** Expand: the gradient summed over the broadcast axes. */
export const Expand: GradientRule = {
  opType: 'Expand',
  grad: (ctx, n, dy, need) => [need[0] ? ctx.unbroadcast(dy[0]!, n.inputs[0], n.outputs[0]) : undefined, undefined],
};

/** Concat: the gradient split back into the inputs' run-time sizes along the axis. */
export const Concat: GradientRule = {
  opType: 'Concat',
  grad(ctx, n, dy, need) {
    const r = ctx.rank(n.outputs[0]);
    const axis = normalizeAxis(attrInt(n, 'axis', 0)!, r);
    const sizes = n.inputs.map((x) => ctx.op('Slice', [ctx.shapeOf(x), ctx.ints([axis]), ctx.ints([axis + 1])]));
    const split = sizes.length === 1 ? sizes[0] : ctx.op('Concat', sizes, { axis: at.int(0) });
    const parts = ctx.opN('Split', [dy[0]!, split], { axis: at.int(axis) }, n.inputs.length);
    return parts.map((p, i) => (need[i] ? p : undefined));
  },
};

/** Split: the output gradients concatenated (zeros for outputs that do not reach the loss). */
export const Split: GradientRule = {
  opType: 'Split',
  grad(ctx, n, dy, need) {
    if (!need[0]) return n.inputs.map(() => undefined);
    const r = ctx.rank(n.inputs[0]);
    const axis = normalizeAxis(attrInt(n, 'axis', 0)!, r);
    const parts = n.outputs.map((o, i) => dy[i] ?? ctx.zerosLike(o));
    return [ctx.op('Concat', parts, { axis: at.int(axis) }), ...n.inputs.slice(1).map(() => undefined)];
  },
};

/**
 * Gather(data, indices, axis): the gradient scattered (and added, for repeated indices) into zeros shaped like
 * the data. The gathered axis is moved to the front so ScatterND can address it. onnxruntime 1.30's CPU ScatterND
 * adds repeated indices concurrently with more than one intra-op thread and loses updates, so a graph that repeats
 * indices is exact on one thread only: training never sends embedding tables here (they are listed as `sparse`,
 * the builder outputs their gathered rows, and the trainer sums them: src/train/optimizer.ts `scatterAddRows`).
 * ScatterND's reduction needs opset 16; every training graph is opset 17 or later (build.ts TRAINING_OPSET).
 */
export const Gather: GradientRule = {
  opType: 'Gather',
  grad(ctx, n, dy, need) {
    if (!need[0]) return [undefined, undefined];
    const [data, indices] = n.inputs;
    const rd = ctx.rank(data);
    const ri = ctx.rank(indices);
    const axis = normalizeAxis(attrInt(n, 'axis', 0)!, rd);
    // dy: data[:axis] + indices + data[axis+1:] → indices + data[:axis] + data[axis+1:]
    const dyPerm = [...Array(ri).keys()].map((i) => axis + i);
    for (let i = 0; i < axis; i++) dyPerm.push(i);
    for (let i = axis + ri; i < rd - 1 + ri; i++) dyPerm.push(i);
    const identity = dyPerm.every((p, i) => p === i);
    const updates = identity ? dy[0]! : ctx.op('Transpose', [dy[0]!], { perm: at.ints(dyPerm) });
    // data with `axis` first
    const dataPerm = [axis, ...[...Array(rd).keys()].filter((i) => i !== axis)];
    const moved = axis === 0 ? data : ctx.op('Transpose', [data], { perm: at.ints(dataPerm) });
    const zeros = ctx.zerosLike(moved, ctx.typeOf(data));
    // Negative indices count from the end, as Gather allows.
    const wrapped = ctx.wrapNegative(ctx.int64(indices), ctx.dimOf(data, axis));
    const scattered = ctx.op('ScatterND', [zeros, ctx.unsqueeze(wrapped, [-1]), updates], { reduction: at.str('add') });
    if (axis === 0) return [scattered, undefined];
    const back = new Array<number>(rd);
    dataPerm.forEach((p, i) => (back[p] = i));
    return [ctx.op('Transpose', [scattered], { perm: at.ints(back) }), undefined];
  },
};

/**
 * Slice with steps of 1 (none, or a constant of ones as torch exports write): the gradient padded back with zeros.
 * starts/ends/axes come from the node's inputs; the pads are computed at run time from the clamped bounds.
 */
export const Slice: GradientRule = {
  opType: 'Slice',
  grad(ctx, n, dy, need) {
    if (!need[0]) return n.inputs.map(() => undefined);
    const [data] = n.inputs;
    const r = ctx.rank(data);
    const steps = n.inputs[4];
    if (steps && !ctx.constantNumbers(steps)?.every((v) => v === 1)) {
      throw new GradientError(`Slice node ${nodeName(n)}: steps other than a constant 1 are not differentiable here`);
    }
    const starts = n.inputs[1];
    const ends = n.inputs[2];
    const axesIn = n.inputs[3];
    const axes = axesIn ? ctx.int64(axesIn) : ctx.op('Range', [ctx.ints([0], true), ctx.op('Size', [starts]), ctx.ints([1], true)]);
    const axesPos = ctx.wrapNegative(axes, ctx.ints([r], true));
    const dims = ctx.op('Gather', [ctx.shapeOf(data), axesPos]);
    const clamp = (v: string) => ctx.op('Min', [ctx.op('Max', [ctx.wrapNegative(ctx.int64(v), dims), ctx.ints([0], true)]), dims]);
    const s = clamp(starts);
    const e = clamp(ends);
    // pads: the slice's start before it, and what follows its end after it, on the sliced axes; 0 elsewhere
    const zeros = ctx.ints(new Array<number>(r).fill(0));
    const before = ctx.op('ScatterElements', [zeros, axesPos, s]);
    const after = ctx.op('ScatterElements', [zeros, axesPos, ctx.op('Sub', [dims, ctx.op('Max', [e, s])])]);
    const pads = ctx.op('Concat', [before, after], { axis: at.int(0) });
    return [ctx.op('Pad', [dy[0]!, pads]), ...n.inputs.slice(1).map(() => undefined)];
  },
};
