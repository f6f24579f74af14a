/**
 * Finding self-attention blocks. Unfused blocks are anchored on their Softmax:
 *
 *   scores = MatMul(Transpose(Reshape(Q)), Transpose(Reshape(K))) [/ scale] [+ mask | Where(mask, −∞, ·)]
 *   context = MatMul(Softmax(scores), Transpose(Reshape(V))) → Transpose → Reshape → output projection
 *
 * The matcher walks back from the Softmax through Div / Mul / Add / Where to the Q·Kᵀ MatMul, through the
 * Transposes (and any scaling of Q or K) to the head-splitting Reshapes, and on to the Q, K and V projections;
 * a scaling of Q or K may be computed from the head size the graph reads off a head's shape (torch's
 * scaled_dot_product_attention without a scale multiplies Q and Kᵀ by Sqrt(1 / Sqrt(Cast(Slice(Shape(Q), -1)))));
 * then forward from the context MatMul through Transposes and Reshapes to the output projection. The head count and
 * head size come from the split Reshape's target shape; every constant holding the head count or the attention width
 * is recorded (HeadShapeConstant), with the nodes of this layer that read it.
 * Onnxscript's torchlib (torch.onnx.export(dynamo=True)) writes Kᵀ as Reshape → Transpose [0, 2, 1] → Reshape of K
 * [B, H, S, D] (lastAxesSwap), casts the scale like the query (CastLike), and with a Boolean mask makes the
 * probabilities of a row all masked 0 (Where(IsNaN(p), 0, p) before the context MatMul: nanGuard).
 * The Q·Kᵀ product may be onnxruntime's com.microsoft FusedMatMul (what its optimizer, at level 'extended', makes of
 * MatMul and the scaling: `alpha` multiplies the scores, `transB` transposes K's last two axes).
 * Fused blocks are com.microsoft Attention nodes (packed QKV weight, `num_heads` attribute), or QAttention nodes
 * (the same with an int8 packed weight, reading DynamicQuantizeLinear(x)). The queries of an unfused block may read
 * the first token of the layer input only (Slice [:, 0:1], the optimize pass's first-token rewrite of the last
 * layer): the block then records that slice (`firstToken`).
 */
import { attrFloat, attrInt, attrInts, type Node } from '../../onnx/graph.ts';
import type { AttentionBlock, HeadShapeConstant, Linear } from '../structure.ts';
import type { GraphContext } from './graph-context.ts';
import { linearProducing, linearsReading, type LinearMatch } from './linear.ts';
import { castWeightBehind, quantizedActivation } from './product.ts';
import { dataTypeName, isFloatType } from '../../onnx/dtype.ts';
import { shapeSuffix, type ShapeElement } from './shape-vector.ts';
import { quotedText } from '../../errors.ts';

export interface AttentionMatch {
  block: AttentionBlock;
  /** The value Q, K and V read (the layer's input on the residual stream). */
  input: string;
  /** The Softmax or Attention node (for ordering and messages). */
  anchor: Node;
  /** The first token of `input` (a Slice [:, 0:1]) when only it is queried (see EncoderLayer.firstToken). */
  firstToken?: string;
  /**
   * Batch sizes and sequence lengths the block holds as constants (a swap of K's axes whose shapes an export with
   * static shapes folded: see lastAxesSwap): right only where the model's inputs fix them (findBert checks that).
   */
  fixedSizes?: FixedSize[];
}

/** A batch size or sequence length held as a constant in the shape of a Reshape (see AttentionMatch.fixedSizes). */
export interface FixedSize {
  size: 'batch' | 'sequence';
  value: number;
  /** The Reshape, and the value whose size it holds. */
  reshape: string;
  of: string;
}

/** Result of walking back from Softmax to the Q·Kᵀ MatMul. */
interface ScoresTrace {
  qk: Node;
  /** The scores are divided by scale · headSize^headSizePower on the way. */
  scale: number;
  headSizePower?: number;
  /** The shape axes that gave the head size in that scaling (see headSizeScalar). */
  sizeOf?: ShapeAxis[];
  /** The product transposes K's last two axes (a FusedMatMul with transB 1). */
  transB?: boolean;
}

/**
 * A com.microsoft FusedMatMul of two computed operands that is a plain batched MatMul times `alpha`, with K's last
 * two axes transposed when transB is 1; undefined for any other (transposed A or batch axes, a constant operand).
 */
function fusedScores(ctx: GraphContext, p: Node): ScoresTrace | undefined {
  if (p.domain !== 'com.microsoft' || p.opType !== 'FusedMatMul') return undefined;
  if (ctx.isConstantValue(p.inputs[0]) || ctx.isConstantValue(p.inputs[1])) return undefined;
  if ((attrInt(p, 'transA') ?? 0) !== 0 || (attrInt(p, 'transBatchA') ?? 0) !== 0 || (attrInt(p, 'transBatchB') ?? 0) !== 0) return undefined;
  const alpha = attrFloat(p, 'alpha') ?? 1;
  if (!Number.isFinite(alpha) || alpha === 0) return undefined;
  return { qk: p, scale: 1 / alpha, ...((attrInt(p, 'transB') ?? 0) !== 0 ? { transB: true } : {}) };
}

/** Result of walking back from a Q·Kᵀ or context MatMul operand to the head-splitting Reshape. */
interface HeadPath {
  reshape: Node;
  /** Composite permutation of the Transposes on the way (output dim i = Reshape output dim perm[i]). */
  perm: number[];
  /** The operand is the head's values divided by scale · headSize^headSizePower. */
  scale: number;
  headSizePower: number;
  /** The shape axes that gave the head size in the scaling (see headSizeScalar). */
  sizeOf: ShapeAxis[];
  /** The Div / Mul nodes of that scaling, nearest the MatMul first. */
  scalings: Node[];
  /**
   * The sizes a swap of axes on the way (lastAxesSwap) holds as constants, each with the axis of the split Reshape's
   * output [batch, sequence, heads, head size] it must equal.
   */
  swapConstants: SwapConstant[];
}

/** A size of a swap of axes held as a constant: it must be `axis` of the split Reshape's output (0 batch … 3 head size). */
interface SwapConstant {
  element: ShapeElement;
  axis: number;
  reshape: Node;
  of: string;
}

/** A number computed from constants and axes of some values' shapes (taken to be the head size): c · (head size)^e. */
interface HeadSizeScalar {
  c: number;
  e: number;
  sizeOf: ShapeAxis[];
  /** Of an integer type (a shape's element, an integer constant, a Cast to one): a Pow of it truncates. */
  integer?: boolean;
}

/** Axis `axis` of `value`'s shape (counted from the end when negative). */
interface ShapeAxis {
  value: string;
  axis: number;
}

/**
 * The axis element `index` of the shape vector `vector` is: Shape(x), or a Gather of constant indices of one
 * (onnxruntime's optimizer reads Shape(Transpose(x)) as Gather(Shape(x), perm)); undefined for anything else.
 */
function shapeVectorAxis(ctx: GraphContext, vector: string, index: number, depth = 0): ShapeAxis | undefined {
  const p = ctx.producerOf(vector);
  if (depth > 4 || p?.domain !== '') return undefined;
  if (p.opType === 'Shape') return p.attributes.start === undefined && p.attributes.end === undefined ? { value: p.inputs[0], axis: index } : undefined;
  if (p.opType !== 'Gather' || (attrInt(p, 'axis') ?? 0) !== 0 || ctx.constant(p.inputs[1])?.tensor.dims.length !== 1) return undefined;
  const indices = ctx.constNumbers(p.inputs[1])!;
  const i = index < 0 ? indices.length + index : index;
  return i >= 0 && i < indices.length ? shapeVectorAxis(ctx, p.inputs[0], indices[i]!, depth + 1) : undefined;
}

/** The one element of a shape vector that a Slice ([-1, end) or [i, i + 1)) or a Gather (one index) reads. */
function shapeElement(ctx: GraphContext, p: Node): ShapeAxis | undefined {
  const one = (v: string | undefined) => {
    const xs = v ? ctx.constNumbers(v) : undefined;
    return xs?.length === 1 ? xs[0] : undefined;
  };
  if (p.opType === 'Gather') {
    const index = one(p.inputs[1]);
    return (attrInt(p, 'axis') ?? 0) === 0 && index !== undefined ? shapeVectorAxis(ctx, p.inputs[0], index) : undefined;
  }
  if (p.opType !== 'Slice' || p.inputs.length < 3) return undefined;
  const [start, end] = [one(p.inputs[1]), one(p.inputs[2])];
  if ((p.inputs[3] && one(p.inputs[3]) !== 0) || (p.inputs[4] && one(p.inputs[4]) !== 1) || start === undefined || end === undefined) return undefined;
  const single = start === -1 ? end >= 2 ** 31 - 1 : end === start + 1;
  return single ? shapeVectorAxis(ctx, p.inputs[0], start) : undefined;
}

/**
 * A scalar computed from constants and an axis of values' shapes (see shapeElement) through Sqrt / Reciprocal / Cast (to an
 * integer type, of a whole number only) / Div / Mul / Pow (by a constant exponent)
 * (torch's scaled_dot_product_attention without a scale: 1 / Sqrt(Cast(Slice(Shape(query), -1)))); undefined for
 * anything else.
 */
function headSizeScalar(ctx: GraphContext, value: string, depth = 0): HeadSizeScalar | undefined {
  const c = ctx.foldNumber(value);
  if (c !== undefined) return { c: c.value, e: 0, sizeOf: [], integer: c.integer };
  const p = ctx.producerOf(value);
  if (depth > 8 || p?.domain !== '') return undefined;
  const a = () => headSizeScalar(ctx, p.inputs[0], depth + 1);
  const b = () => headSizeScalar(ctx, p.inputs[1], depth + 1);
  switch (p.opType) {
    case 'Slice':
    case 'Gather': {
      const x = shapeElement(ctx, p);
      return x === undefined ? undefined : { c: 1, e: 1, sizeOf: [x], integer: true };
    }
    case 'Cast': {
      // (to an integer type, only a whole number, such as the head size itself: one cast so, a root truncated, is no c · (head size)^e)
      const x = a();
      const to = attrInt(p, 'to');
      const whole = x !== undefined && Number.isInteger(x.c) && Number.isInteger(x.e) && x.e >= 0;
      return x !== undefined && to !== undefined && (isFloatType(to) || whole) ? { ...x, integer: !isFloatType(to) } : undefined;
    }
    case 'CastLike': {
      // (torchlib's scaled_dot_product_attention casts the head size, 1 and the scale like the query: CastLike(x, query),
      // of a float type as Q, K and V split into heads are, or like a constant of the type it holds)
      const x = a();
      const like = ctx.constant(p.inputs[1]!);
      const float = like ? isFloatType(like.tensor.dataType) : traceHeadPath(ctx, p.inputs[1]!) !== undefined;
      if (!x || (!like && !float)) return undefined;
      const whole = Number.isInteger(x.c) && Number.isInteger(x.e) && x.e >= 0;
      return float || whole ? { ...x, integer: !float } : undefined;
    }
    case 'Pow': {
      // (by a constant exponent: torch's head size ** -0.5, Pow(Cast(Slice(Shape(Q), -1)), -0.5); of an integer base only
      // a whole power, as onnxruntime truncates one of an integer type: Pow(int64 6, -0.5) is 0)
      const x = a();
      const k = x && ctx.foldScalar(p.inputs[1]);
      if (!x || k === undefined || !Number.isFinite(k)) return undefined;
      if (x.integer && !(Number.isInteger(k) && k >= 0)) return undefined;
      return { c: x.c ** k, e: x.e * k, sizeOf: x.sizeOf, integer: x.integer };
    }
    case 'Sqrt': {
      const x = a();
      return x && { c: Math.sqrt(x.c), e: x.e / 2, sizeOf: x.sizeOf };
    }
    case 'Reciprocal': {
      const x = a();
      return x && { c: 1 / x.c, e: -x.e, sizeOf: x.sizeOf };
    }
    case 'Div':
    case 'Mul': {
      const x = a();
      const y = x && b();
      if (!x || !y) return undefined;
      // (of two integers, a product stays one (a Pow of it truncates), and onnxruntime's Div truncates: head size // 4 is
      // 1 for heads 6 wide, no c · (head size)^e, unless the divisor is 1)
      const integer = x.integer === true && y.integer === true;
      if (p.opType === 'Div' && integer && !(y.e === 0 && y.c === 1)) return undefined;
      return p.opType === 'Div'
        ? { c: x.c / y.c, e: x.e - y.e, sizeOf: [...x.sizeOf, ...y.sizeOf], integer }
        : { c: x.c * y.c, e: x.e + y.e, sizeOf: [...x.sizeOf, ...y.sizeOf], integer };
    }
    default:
      return undefined;
  }
}

/**
 * The value `value` is the first token of: Slice(x, starts [0], ends [1], axes [1]) (steps 1), through Identity;
 * undefined for anything else.
 */
export function firstTokenOf(ctx: GraphContext, value: string): string | undefined {
  const p = ctx.producerOf(value);
  if (p?.domain !== '' || p.opType !== 'Slice') return undefined;
  const [starts, ends, axes, steps] =
    p.inputs.length > 1
      ? [1, 2, 3, 4].map((i) => (p.inputs[i] ? ctx.constNumbers(p.inputs[i]) : undefined))
      : [attrInts(p, 'starts'), attrInts(p, 'ends'), attrInts(p, 'axes'), undefined];
  const one = (xs: number[] | undefined, v: number) => xs !== undefined && xs.length === 1 && xs[0] === v;
  return one(starts, 0) && one(ends, 1) && one(axes, 1) && (steps === undefined || one(steps, 1)) ? ctx.source(p.inputs[0]) : undefined;
}

const Q_PERM = [0, 2, 1, 3];
const K_PERM = [0, 2, 3, 1];

const samePerm = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Walks back from the Softmax input to the Q·Kᵀ MatMul (two non-constant operands). */
export function traceScores(ctx: GraphContext, value: string, depth = 0): ScoresTrace | undefined {
  if (depth > 12) return undefined;
  const p = ctx.producerOf(value);
  if (p?.domain === 'com.microsoft') return fusedScores(ctx, p);
  if (p?.domain !== '') return undefined;
  switch (p.opType) {
    case 'MatMul':
      return ctx.isConstantValue(p.inputs[0]) || ctx.isConstantValue(p.inputs[1]) ? undefined : { qk: p, scale: 1 };
    case 'Cast':
      return traceScores(ctx, p.inputs[0], depth + 1);
    case 'Div':
    case 'Mul': {
      // (by a constant, or a power of the head size read off a shape: torch's scores * q.size(-1) ** -0.5)
      const orders = p.opType === 'Div' ? [[p.inputs[0], p.inputs[1]]] : [p.inputs, [p.inputs[1], p.inputs[0]]];
      for (const [x, s] of orders) {
        const c = headSizeScalar(ctx, s!);
        const r = c === undefined ? undefined : traceScores(ctx, x!, depth + 1);
        if (!r || !c) continue;
        const sign = p.opType === 'Div' ? 1 : -1;
        return {
          ...r,
          scale: p.opType === 'Div' ? r.scale * c.c : r.scale / c.c,
          headSizePower: (r.headSizePower ?? 0) + sign * c.e,
          sizeOf: [...(r.sizeOf ?? []), ...c.sizeOf],
        };
      }
      return undefined;
    }
    case 'Add':
    case 'Sub':
      return traceScores(ctx, p.inputs[0], depth + 1) ?? (p.opType === 'Add' ? traceScores(ctx, p.inputs[1], depth + 1) : undefined);
    case 'Where':
      return traceScores(ctx, p.inputs[2], depth + 1) ?? traceScores(ctx, p.inputs[1], depth + 1);
    default:
      return undefined;
  }
}

/**
 * The output of Where(IsNaN(p), 0, p) reading the attention probabilities `p`, as torchlib's scaled_dot_product_attention
 * with a Boolean mask writes it (a row whose keys are all masked: NaN, made 0 as torch does), or undefined.
 */
function nanGuard(ctx: GraphContext, p: string): string | undefined {
  for (const w of ctx.consumers(p)) {
    if (w.domain !== '' || w.opType !== 'Where' || ctx.source(w.inputs[2] ?? '') !== ctx.source(p) || ctx.foldScalar(w.inputs[1] ?? '') !== 0) continue;
    const test = ctx.producerOf(w.inputs[0]!);
    if (test?.domain === '' && test.opType === 'IsNaN' && ctx.source(test.inputs[0]!) === ctx.source(p)) return w.outputs[0];
  }
  return undefined;
}

/** The permutation that swaps the last two of four axes. */
const SWAP_LAST = [0, 1, 3, 2];

/** One element of a Reshape's target shape: an axis of a value's shape, read off it, or a constant. */
type TargetPart = { axis: ShapeAxis } | { constant: ShapeElement };

/**
 * The elements of the target shape `shape` of Reshape `reshape`: one constant, or a Concat of constants and of axes
 * read off a shape (a one-element Slice or Gather of it, or Slice(Shape(x), start, end) of an `x` of rank 4, several);
 * undefined for anything else.
 */
function targetParts(ctx: GraphContext, shape: string, reshape: Node): TargetPart[] | undefined {
  const constants = (v: string, reader: Node, input: number): TargetPart[] | undefined => {
    const c = ctx.constant(v);
    const nums = c && ctx.constNumbers(v);
    return nums?.map((value, index) => ({ constant: { value, ref: { source: c!.source, name: c!.name, index, reader: reader.name, input } } }));
  };
  if (ctx.constant(shape)) return constants(shape, reshape, 1);
  const concat = ctx.producerOf(shape);
  if (concat?.domain !== '' || concat.opType !== 'Concat' || (attrInt(concat, 'axis') ?? 0) !== 0) return undefined;
  const parts: TargetPart[] = [];
  for (const [i, v] of concat.inputs.entries()) {
    const held = ctx.constant(v) ? constants(v, concat, i) : shapeAxes(ctx, v)?.map((axis) => ({ axis }));
    if (!held) return undefined;
    parts.push(...held);
  }
  return parts;
}

/** The axes of a shape that `v` holds: one (shapeElement), or Slice(Shape(x), start, end) of an `x` of rank 4. */
function shapeAxes(ctx: GraphContext, v: string): ShapeAxis[] | undefined {
  const p = ctx.producerOf(v);
  if (p?.domain !== '') return undefined;
  const one = shapeElement(ctx, p);
  if (one) return [one];
  if (p.opType !== 'Slice' || p.inputs.length < 3 || p.inputs.length > 5) return undefined;
  const at = (i: number) => {
    const xs = p.inputs[i] ? ctx.constNumbers(p.inputs[i]!) : undefined;
    return xs?.length === 1 ? xs[0] : undefined;
  };
  const [start, end] = [at(1), at(2)];
  if (start === undefined || end === undefined || (p.inputs[3] && at(3) !== 0) || (p.inputs[4] && at(4) !== 1)) return undefined;
  const shape = ctx.producerOf(p.inputs[0]!);
  if (shape?.domain !== '' || shape.opType !== 'Shape' || shape.attributes.start || shape.attributes.end) return undefined;
  const x = shape.inputs[0]!;
  const rank = ctx.rank(x) ?? 4;
  if (rank !== 4) return undefined;
  const clamp = (i: number) => Math.min(Math.max(i < 0 ? i + rank : i, 0), rank);
  const axes: ShapeAxis[] = [];
  for (let a = clamp(start); a < clamp(end); a++) axes.push({ value: x, axis: a });
  return axes;
}

/** A swap of the last two axes of `x` (lastAxesSwap), with the sizes its Reshapes hold as constants, by x's axis. */
interface AxesSwap {
  x: string;
  constants: { element: ShapeElement; axis: number; reshape: Node }[];
}

/**
 * The value `outer` gives with its last two axes swapped, where `outer` is the last of the Reshape → Transpose [0, 2, 1]
 * → Reshape torchlib's scaled_dot_product_attention writes for Kᵀ (onnxscript's torch_lib/ops/nn.py,
 * _aten_scaled_dot_product_attention_float_mask_onnx and the other two): x [B, H, S, D] reshaped to Concat([-1],
 * x.shape[-2:-1], x.shape[-1:]), transposed, and reshaped to Concat(x.shape[:-2], x.shape[-1:], x.shape[-2:-1]);
 * undefined for a Reshape that is not so. Each size may be read off x's shape, as torchlib writes it, or be a constant,
 * as an export with static shapes (or an optimizer that knows some of x's sizes) folds it in: [-1, S, D] and
 * [B, H, D, S]; each constant comes back with the axis of x it stands for, which the caller checks (the head count
 * and head size against the block's, the batch size and sequence length against the model's inputs). One of other
 * sizes is refused: discovery does not follow it.
 */
function lastAxesSwap(ctx: GraphContext, outer: Node): AxesSwap | undefined {
  const t = ctx.producerOf(outer.inputs[0]!);
  if (t?.domain !== '' || t.opType !== 'Transpose' || !samePerm(attrInts(t, 'perm') ?? [], [0, 2, 1])) return undefined;
  const inner = ctx.producerOf(t.inputs[0]!);
  if (inner?.domain !== '' || inner.opType !== 'Reshape') return undefined;
  const x = ctx.source(inner.inputs[0]!);
  const constants: AxesSwap['constants'] = [];
  /** Whether `parts` are x's axes `axes` (-1: the constant -1), each read off x's shape or a constant (noted). */
  const follows = (parts: TargetPart[] | undefined, axes: number[], reshape: Node) =>
    parts?.length === axes.length &&
    parts.every((part, i) => {
      const axis = axes[i]!;
      if ('axis' in part) return axis >= 0 && ctx.source(part.axis.value) === x && (part.axis.axis === axis || part.axis.axis === axis - 4);
      if (axis < 0) return part.constant.value === -1;
      constants.push({ element: part.constant, axis, reshape });
      return true;
    });
  if (follows(targetParts(ctx, inner.inputs[1]!, inner), [-1, 2, 3], inner) && follows(targetParts(ctx, outer.inputs[1]!, outer), [0, 1, 3, 2], outer))
    return { x, constants };
  return ctx.refuse(
    `Reshape ${quotedText(inner.name)} → Transpose ${quotedText(t.name)} [0, 2, 1] → Reshape ${quotedText(outer.name)} swaps axes of ${quotedText(x)} (as onnxscript's scaled_dot_product_attention writes Kᵀ) to shapes that are not Concat([-1], its axes -2 and -1) and Concat(its axes before -2, -1, -2), each size read off its shape or a constant, which discovery does not follow`,
  );
}

/** Walks back from an attention MatMul operand through Transposes and scalings to the head-splitting Reshape. */
function traceHeadPath(ctx: GraphContext, value: string): HeadPath | undefined {
  let perm = [0, 1, 2, 3];
  let scale = 1;
  let headSizePower = 0;
  const sizeOf: ShapeAxis[] = [];
  const scalings: Node[] = [];
  const swaps: { swap: AxesSwap; perm: number[] }[] = [];
  let v = value;
  for (let i = 0; i < 10; i++) {
    const p = ctx.producerOf(v);
    if (p?.domain !== '') return undefined;
    if (p.opType === 'Reshape') {
      // (Kᵀ as torchlib's scaled_dot_product_attention writes it: K's last two axes swapped through 3-D values)
      const swap = lastAxesSwap(ctx, p);
      if (swap === undefined) {
        // (axis k of a swapped x is the operand's axis j where the swap's perm has k, so the split output's perm[j])
        const swapConstants = swaps.flatMap((s) =>
          s.swap.constants.map((c) => ({ element: c.element, axis: perm[s.perm.indexOf(c.axis)]!, reshape: c.reshape, of: s.swap.x })),
        );
        return { reshape: p, perm, scale, headSizePower, sizeOf, scalings, swapConstants };
      }
      perm = perm.map((j) => SWAP_LAST[j]!);
      swaps.push({ swap, perm });
      v = swap.x;
    } else if (p.opType === 'Transpose') {
      const pp = attrInts(p, 'perm');
      if (pp?.length !== 4) return undefined;
      perm = perm.map((j) => pp[j]);
      v = p.inputs[0];
    } else if (p.opType === 'Cast') {
      v = p.inputs[0];
    } else if (p.opType === 'Div' || p.opType === 'Mul') {
      const scalars = [0, 1].map((j) => headSizeScalar(ctx, p.inputs[j]));
      const scalarAt = scalars.findIndex((x) => x !== undefined);
      if (scalarAt < 0 || (p.opType === 'Div' && scalarAt !== 1)) return undefined;
      const { c, e, sizeOf: of } = scalars[scalarAt]!;
      scale = p.opType === 'Div' ? scale * c : scale / c;
      headSizePower = p.opType === 'Div' ? headSizePower + e : headSizePower - e;
      sizeOf.push(...of);
      scalings.push(p);
      v = p.inputs[1 - scalarAt];
    } else {
      return undefined;
    }
  }
  return undefined;
}

/** A projection feeding a head-split Reshape, with the head count and size read from the Reshape's shape. */
interface HeadProjection {
  match: LinearMatch;
  path: HeadPath;
  heads?: number;
  headSize?: number;
  shape: ShapeElement[];
}

function known(e: ShapeElement | undefined): number | undefined {
  return e?.value !== undefined && e.value > 0 ? e.value : undefined;
}

export class AttentionMatcher {
  constructor(private readonly ctx: GraphContext) {}

  /** The attention block around a Softmax, undefined when the Softmax is not attention (no Q·Kᵀ MatMul before it). */
  matchSoftmax(softmax: Node): AttentionMatch | undefined {
    const ctx: GraphContext = this.ctx;
    const scores = traceScores(ctx, softmax.inputs[0]);
    if (!scores) return undefined;
    const where = `attention at Softmax ${quotedText(softmax.name)}`;
    const qPath = traceHeadPath(ctx, scores.qk.inputs[0]);
    const kPath = traceHeadPath(ctx, scores.qk.inputs[1]);
    if (!qPath || !kPath) {
      ctx.refuse(`${where}: the operands of Q·Kᵀ MatMul ${quotedText(scores.qk.name)} do not come from Transposes of head-splitting Reshapes`);
    }
    // transB swaps K's last two axes inside the product
    if (scores.transB) kPath.perm = [kPath.perm[0]!, kPath.perm[1]!, kPath.perm[3]!, kPath.perm[2]!];
    if (!samePerm(qPath.perm, Q_PERM) || !samePerm(kPath.perm, K_PERM)) {
      ctx.refuse(
        `${where}: Q·Kᵀ MatMul ${quotedText(scores.qk.name)} has operand layouts [${qPath.perm}] and [${kPath.perm}], expected [${Q_PERM}] and [${K_PERM}]`,
      );
    }
    const probabilities = nanGuard(ctx, softmax.outputs[0]!) ?? softmax.outputs[0]!;
    const context = ctx.consumers(probabilities).find((n) => n.opType === 'MatMul' && ctx.source(n.inputs[0]) === ctx.source(probabilities));
    if (!context) ctx.refuse(`${where}: the attention probabilities are not multiplied with V (no MatMul reads the Softmax)`);
    const vPath = traceHeadPath(ctx, context.inputs[1]);
    if (!vPath || !samePerm(vPath.perm, Q_PERM)) {
      ctx.refuse(
        `${where}: the V operand of context MatMul ${quotedText(context.name)} does not come from a Transpose [${Q_PERM}] of a head-splitting Reshape`,
      );
    }
    // Q's and K's scalings are the attention scale; one of V is no part of an attention block (the canonical rebuild
    // and the fused rewrite would compute the block without it).
    if (vPath.scale !== 1 || vPath.headSizePower !== 0) {
      ctx.refuse(
        `${where}: the V operand of context MatMul ${quotedText(context.name)} is scaled (by ${vPath.scalings[0]!.opType} ${quotedText(vPath.scalings[0]!.name)}), which no attention block reads`,
      );
    }

    const q = this.headProjection(where, 'query', qPath);
    const k = this.headProjection(where, 'key', kPath);
    const v = this.headProjection(where, 'value', vPath);
    // The queries may read the first token of the keys' input only (the optimize pass's first-token rewrite).
    const keysInput = ctx.source(k.match.input);
    const firstToken = ctx.source(q.match.input) !== keysInput && firstTokenOf(ctx, q.match.input) === keysInput ? ctx.source(q.match.input) : undefined;
    const input = firstToken ? keysInput : ctx.source(q.match.input);
    for (const [name, p] of [
      ['key', k],
      ['value', v],
    ] as const) {
      if (ctx.source(p.match.input) !== input) {
        ctx.refuse(
          `${where}: the ${name} projection ${quotedText(p.match.node.name)} reads ${quotedText(p.match.input)}, not the query's input ${quotedText(q.match.input)}`,
        );
      }
    }
    const width = q.match.linear.outFeatures;
    const { heads, headSize } = this.headGeometry(where, [q, k, v], width);
    this.checkHeadSizeReads(where, [qPath, kPath, vPath], scores.sizeOf ?? []);
    const constants = new ConstantCollector();
    const fixedSizes = this.swapSizes(where, [qPath, kPath, vPath], heads, headSize, constants);

    const out = this.outputProjection(where, context);
    for (const p of [q, k, v]) {
      constants.add(p.shape.at(-2), 'num-heads', heads);
      if (p.match.unflatten) {
        constants.add(shapeSuffix(ctx, p.match.unflatten.inputs[1], p.match.unflatten).at(-1), 'all-head-size', width);
      }
    }
    for (const r of out.reshapes) constants.add(shapeSuffix(ctx, r.inputs[1], r).at(-1), 'all-head-size', width);

    return {
      block: {
        kind: 'unfused',
        numHeads: heads,
        headSize,
        q: q.match.linear,
        k: k.match.linear,
        v: v.match.linear,
        output: out.linear,
        softmax: softmax.name,
        headShapeConstants: constants.list(),
        scale: scores.scale * qPath.scale * kPath.scale * headSize ** ((scores.headSizePower ?? 0) + qPath.headSizePower + kPath.headSizePower),
      },
      input,
      anchor: softmax,
      ...(firstToken ? { firstToken } : {}),
      ...(fixedSizes.length ? { fixedSizes } : {}),
    };
  }

  /**
   * The sizes the swaps of axes on the paths hold as constants (lastAxesSwap): a head count or head size must be the
   * block's (a head count is recorded as a head-shape constant, which pruning heads rewrites); a batch size or sequence
   * length comes back, for findBert to check against the model's inputs.
   */
  private swapSizes(where: string, paths: HeadPath[], heads: number, headSize: number, constants: ConstantCollector): FixedSize[] {
    const fixed: FixedSize[] = [];
    for (const c of paths.flatMap((p) => p.swapConstants)) {
      const value = c.element.value!;
      if (c.axis === 0 || c.axis === 1) {
        fixed.push({ size: c.axis === 0 ? 'batch' : 'sequence', value, reshape: c.reshape.name, of: c.of });
        continue;
      }
      const [what, want] = c.axis === 2 ? ['head count', heads] : ['head size', headSize];
      if (value !== want) {
        this.ctx.refuse(
          `${where}: Reshape ${quotedText(c.reshape.name)}, which swaps the last two axes of ${quotedText(c.of)} (as onnxscript's scaled_dot_product_attention writes Kᵀ), holds ${value} for its ${what}, which is ${want}: it is no such swap`,
        );
      }
      if (c.axis === 2) constants.add(c.element, 'num-heads', heads);
    }
    return fixed;
  }

  /**
   * A com.microsoft Attention node with its packed QKV weight, or a QAttention: inputs (x_q, W_int8, bias, x_scale,
   * w_scale, mask, x_zero_point, w_zero_point, past), x_q from DynamicQuantizeLinear(x).
   */
  matchFused(node: Node): AttentionMatch {
    const ctx: GraphContext = this.ctx;
    const quantized = node.opType === 'QAttention';
    const where = `fused ${node.opType} ${quotedText(node.name)}`;
    const weight = ctx.initializer(node.inputs[1]);
    const bias = node.inputs[2] ? ctx.initializer(node.inputs[2]) : undefined;
    if (weight?.tensor.dims.length !== 2) ctx.refuse(`${where}: the packed QKV weight is not a 2-D initializer`);
    if (!bias) ctx.refuse(`${where}: the packed QKV bias is not an initializer`);
    const numHeads = attrInt(node, 'num_heads');
    if (!numHeads || numHeads <= 0) ctx.refuse(`${where}: no num_heads attribute`);
    const sizes = attrInts(node, 'qkv_hidden_sizes');
    if (sizes && !(sizes.length === 3 && sizes[0] === sizes[1] && sizes[1] === sizes[2])) {
      ctx.refuse(`${where}: unequal qkv_hidden_sizes [${sizes}] are not supported`);
    }
    const width = weight.tensor.dims[1] / 3;
    if (!Number.isInteger(width) || width % numHeads !== 0) {
      ctx.refuse(`${where}: packed weight [${weight.tensor.dims}] does not split into 3 × ${numHeads} heads`);
    }
    let input = node.inputs[0];
    const fused: NonNullable<AttentionBlock['fused']> = { node: node.name, weight: weight.name, bias: bias.name };
    if (quantized) {
      const act = quantizedActivation(ctx, node.inputs[0]);
      if (!act) ctx.refuse(`${where}: its input is not quantized by a DynamicQuantizeLinear or QuantizeLinear`);
      input = act.x;
      fused.quantization = { kind: 'qattention', nodes: act.nodes.map((n) => n.name), bits: 8 };
      const scale = node.inputs[4] ? ctx.initializer(node.inputs[4]) : undefined;
      const zero = node.inputs[7] ? ctx.initializer(node.inputs[7]) : undefined;
      if (scale) fused.quantization.scale = scale.name;
      if (zero) fused.quantization.zeroPoint = zero.name;
    }
    const outs = linearsReading(ctx, node.outputs[0]);
    if (outs.length !== 1) ctx.refuse(`${where}: expected one output projection reading it, found ${outs.length}`);
    // A head-merge Reshape the fusion left reading the merged context (a keras graph's, feeding its Tensordot's
    // Shape) holds the attention width: pruning heads rewrites it as it does an unfused block's.
    const constants = new ConstantCollector();
    for (const r of ctx.consumers(node.outputs[0])) {
      if (r.opType === 'Reshape' && r.domain === '' && r !== outs[0].flatten) constants.add(shapeSuffix(ctx, r.inputs[1], r).at(-1), 'all-head-size', width);
    }
    const block: AttentionBlock = {
      kind: 'fused',
      numHeads,
      headSize: width / numHeads,
      fused,
      output: outs[0].linear,
      headShapeConstants: constants.list(),
    };
    const scale = node.attributes.scale;
    if (scale?.type === 'float' && scale.value > 0) block.scale = 1 / scale.value;
    return { block, input, anchor: node };
  }

  private headProjection(where: string, role: string, path: HeadPath): HeadProjection {
    const ctx: GraphContext = this.ctx;
    const match = linearProducing(ctx, path.reshape.inputs[0]);
    if (!match) {
      const cast = castWeightBehind(ctx, path.reshape.inputs[0]);
      if (cast) {
        ctx.refuse(
          `${where}: the ${role} projection ${quotedText(cast.product.name)} reads its weight ${quotedText(cast.weight)} (${dataTypeName(cast.dataType)}) through Cast ${quotedText(cast.cast.name)}, and weights cast when the model runs are not supported: store them as float32, or convert the whole model to float16`,
        );
      }
      ctx.refuse(
        `${where}: the ${role} Reshape ${quotedText(path.reshape.name)} does not read a dense projection (MatMul/Gemm with a constant weight, then a bias Add)`,
      );
    }
    const shape = shapeSuffix(ctx, path.reshape.inputs[1], path.reshape);
    return { match, path, shape, heads: known(shape.at(-2)), headSize: known(shape.at(-1)) };
  }

  /**
   * A scaling of Q, K or the scores computed from an axis of a shape reads the head size only when the shape is that of Q, K or V
   * split into heads and the axis is the head size's (torch's Shape(query)[-1]).
   */
  private checkHeadSizeReads(where: string, paths: HeadPath[], scoresSizeOf: ShapeAxis[]): void {
    const reshapes = paths.map((p) => p.reshape);
    const reads = [...paths.flatMap((p) => p.sizeOf.map((a) => ({ ...a, what: 'Q or K is' }))), ...scoresSizeOf.map((a) => ({ ...a, what: 'the scores are' }))];
    for (const { value, axis, what } of reads) {
      const t = traceHeadPath(this.ctx, value);
      if (!t || !reshapes.includes(t.reshape) || t.perm[axis < 0 ? 4 + axis : axis] !== 3) {
        this.ctx.refuse(`${where}: ${what} scaled by a number read off the shape of ${quotedText(value)}, which is not the head size of Q, K or V`);
      }
    }
  }

  /** Head count and size, agreed by the Q, K and V Reshapes and the projection width. */
  private headGeometry(where: string, ps: HeadProjection[], width: number): { heads: number; headSize: number } {
    const ctx: GraphContext = this.ctx;
    let heads: number | undefined;
    let headSize: number | undefined;
    for (const p of ps) {
      if (p.match.linear.outFeatures !== width) {
        ctx.refuse(`${where}: projections have different widths (${width} and ${p.match.linear.outFeatures} at ${quotedText(p.match.node.name)})`);
      }
      const h = p.heads ?? (p.headSize ? width / p.headSize : undefined);
      const d = p.headSize ?? (p.heads ? width / p.heads : undefined);
      if (h === undefined || d === undefined) continue;
      if (h * d !== width) ctx.refuse(`${where}: Reshape ${quotedText(p.path.reshape.name)} splits ${width} features into ${h} × ${d}`);
      if (heads !== undefined && (heads !== h || headSize !== d)) {
        ctx.refuse(`${where}: Q, K and V are split into different head shapes (${heads} × ${headSize} and ${h} × ${d})`);
      }
      heads = h;
      headSize = d;
    }
    if (heads === undefined || headSize === undefined || !Number.isInteger(heads) || !Number.isInteger(headSize)) {
      ctx.refuse(`${where}: cannot read the head count from the shapes of Reshapes ${ps.map((p) => quotedText(p.path.reshape.name)).join(', ')}`);
    }
    return { heads, headSize };
  }

  /** Follows the context through Transposes and Reshapes to the one projection that reads it. */
  private outputProjection(where: string, context: Node): { linear: Linear; reshapes: Node[] } {
    const ctx: GraphContext = this.ctx;
    const found = new Map<Node, LinearMatch>();
    const reshapes: Node[] = [];
    const seen = new Set<string>();
    const stack = [context.outputs[0]];
    while (stack.length) {
      const v = stack.pop()!;
      if (seen.has(v) || seen.size > 32) continue;
      seen.add(v);
      for (const m of linearsReading(ctx, v)) found.set(m.node, m);
      for (const c of ctx.consumers(v)) {
        if (c.domain !== '' || (c.opType !== 'Transpose' && c.opType !== 'Reshape')) continue;
        if ([...found.values()].some((m) => m.flatten === c)) continue;
        if (c.opType === 'Reshape') reshapes.push(c);
        stack.push(c.outputs[0]);
      }
    }
    if (found.size !== 1) {
      ctx.refuse(`${where}: expected one output projection after context MatMul ${quotedText(context.name)}, found ${found.size}`);
    }
    const m = [...found.values()][0];
    return { linear: m.linear, reshapes: reshapes.filter((r) => r !== m.flatten) };
  }
}

/** Collects HeadShapeConstants without duplicates, merging the readers of one constant element. */
class ConstantCollector {
  private readonly items = new Map<string, HeadShapeConstant>();

  add(e: ShapeElement | undefined, meaning: HeadShapeConstant['meaning'], expected: number): void {
    if (!e?.ref || e.value !== expected) return;
    const key = `${e.ref.source}\u0000${e.ref.name}\u0000${e.ref.index}\u0000${meaning}`;
    const existing = this.items.get(key);
    if (existing) {
      if (!existing.readers.includes(e.ref.reader)) existing.readers.push(e.ref.reader);
      const inputs = (existing.readerInputs![e.ref.reader] ??= []);
      if (!inputs.includes(e.ref.input)) inputs.push(e.ref.input);
      return;
    }
    const { source, name, index, reader, input } = e.ref;
    this.items.set(key, { source, name, index, meaning, value: e.value, readers: [reader], readerInputs: { [reader]: [input] } });
  }

  list(): HeadShapeConstant[] {
    return [...this.items.values()];
  }
}
