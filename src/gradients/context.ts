/**
 * What a gradient rule writes with: a node emitter over the training graph under construction, constants of the
 * graph's float type, run-time shape helpers and the probe's static facts. Every emitted node and value gets a
 * fresh name under the `grad/` prefix, so the backward part never collides with the forward graph.
 */
import type { Attribute, Node, Tensor } from '../onnx/graph.ts';
import { GraphWriter } from '../onnx/writer.ts';
import { DataType, dataTypeName } from '../onnx/dtype.ts';
import type { ValueFacts } from './probe.ts';
import { quotedText } from '../errors.ts';

/** Attribute shorthands for rules. */
export const at = {
  int: (value: number): Attribute => ({ type: 'int', value }),
  ints: (value: number[]): Attribute => ({ type: 'ints', value }),
  float: (value: number): Attribute => ({ type: 'float', value }),
  str: (value: string): Attribute => ({ type: 'string', value: new TextEncoder().encode(value) }),
  tensor: (value: Tensor): Attribute => ({ type: 'tensor', value }),
};

/** Thrown when a graph needs a gradient the engine has no rule for, or a rule cannot handle a node's form. */
export class GradientError extends Error {
  override name = 'GradientError';
}

export class GradContext {
  private readonly writer = new GraphWriter('grad');
  private readonly shapes = new Map<string, string>();
  /** The node whose rule is running (the builder sets it): errors the context raises name it. */
  node?: Node;
  /**
   * Outputs the builder adds to forward nodes in the training graph, by node and output index: values a node can
   * write at no cost that a rule reads (LayerNormalization's Mean and InvStdDev), where the forward graph left them out.
   */
  readonly addedOutputs = new Map<Node, Map<number, string>>();

  constructor(
    private readonly probe: ReadonlyMap<string, ValueFacts>,
    /** Element type of the differentiated values (FLOAT, or DOUBLE in float64 tests). */
    readonly floatType: number,
    /** The ai.onnx opset of the training graph (what emitted nodes follow; the forward graph's is 13 or later). */
    readonly opset: number,
    /** The numbers of a constant value (initializer or Constant node; a boolean as 0/1), or undefined. */
    readonly constantNumbers: (value: string) => number[] | undefined = () => undefined,
    /**
     * Probe sizes that do not tell symbolic dims apart, or a symbolic dim from a fixed one (probe.ts `probeShapes`):
     * an axis of such a size may be 1 at run time where the probe saw it equal to the other side, so `unbroadcast`
     * tests it at run time.
     */
    readonly ambiguousSizes: ReadonlySet<number> = new Set(),
  ) {}

  /** The nodes emitted so far, in order. */
  get nodes(): readonly Node[] {
    return this.writer.nodes;
  }

  /** Emits a node; returns its outputs (`count` of them). */
  opN(opType: string, inputs: string[], attributes: Record<string, Attribute> = {}, count = 1): string[] {
    return this.writer.opN(opType, inputs, attributes, count);
  }

  /** Emits a one-output node; returns its output. */
  op(opType: string, inputs: string[], attributes: Record<string, Attribute> = {}): string {
    return this.writer.op(opType, inputs, attributes);
  }

  /** Output `index` of the forward node `n`: its name, or a name the builder gives it in the training graph (`addedOutputs`). */
  forwardOutput(n: Node, index: number): string {
    const given = n.outputs[index];
    if (given) return given;
    let added = this.addedOutputs.get(n);
    if (!added) this.addedOutputs.set(n, (added = new Map()));
    let name = added.get(index);
    if (!name) {
      name = `grad/saved/${n.outputs[0]}:${index}`;
      added.set(index, name);
    }
    return name;
  }

  /** The probe's facts of `value`; a GradientError when the probe did not see it. */
  facts(value: string): ValueFacts {
    const f = this.probe.get(value);
    if (!f) this.fail(`no shape facts for value ${quotedText(value)}`);
    return f;
  }

  /** A GradientError naming the node whose rule is running. */
  private fail(message: string): never {
    throw new GradientError(this.node ? `node ${nodeName(this.node)} (${this.node.opType}): ${message}` : message);
  }

  /** `type` when gradients can be computed in it (float32, float64); else a GradientError naming the node. */
  private gradType(type: number): number {
    if (type !== DataType.FLOAT && type !== DataType.DOUBLE) this.fail(`gradients of ${dataTypeName(type)} values are not supported (float32 or float64 only)`);
    return type;
  }

  /** The element type of a value of the forward graph (a gradient has its value's type). */
  typeOf(value: string): number {
    return this.facts(value).dataType;
  }

  rank(value: string): number {
    return this.facts(value).dims.length;
  }

  /** Shape(value), emitted once per value. */
  shapeOf(value: string): string {
    let s = this.shapes.get(value);
    if (!s) {
      s = this.op('Shape', [value]);
      this.shapes.set(value, s);
    }
    return s;
  }

  /**
   * A float scalar of the element type of `like` (a forward value), else of the loss's type. Rules pass the value
   * they work on, so that a float32 region of a float64 graph (or the reverse, between Casts) gets float32 constants.
   */
  scalar(v: number, like?: string): string {
    return this.writer.floatScalar(v, this.gradType(like ? this.typeOf(like) : this.floatType));
  }

  /** An int64 vector (or scalar when `scalar`). */
  ints(values: number[], scalar = false): string {
    return scalar ? this.writer.int64Scalar(values[0]!) : this.writer.int64Vector(values);
  }

  /** ReduceSum over `axes` (axes as an input, opset ≥ 13). */
  reduceSum(x: string, axes: number[], keepdims: boolean): string {
    return this.op('ReduceSum', [x, this.ints(axes)], { keepdims: at.int(keepdims ? 1 : 0) });
  }

  /** ReduceMean over `axes`, keeping them (attribute below opset 18, input from 18). */
  reduceMean(x: string, axes: number[]): string {
    return this.opset >= 18
      ? this.op('ReduceMean', [x, this.ints(axes)], { keepdims: at.int(1) })
      : this.op('ReduceMean', [x], { axes: at.ints(axes), keepdims: at.int(1) });
  }

  /** An integer value as int64 (a Cast unless it is one). */
  int64(x: string): string {
    return this.typeOf(x) === DataType.INT64 ? x : this.op('Cast', [x], { to: at.int(DataType.INT64) });
  }

  /** Dimension `axis` of `x` at run time, as an int64 scalar. */
  dimOf(x: string, axis: number): string {
    return this.op('Squeeze', [this.op('Slice', [this.shapeOf(x), this.ints([axis]), this.ints([axis + 1])])]);
  }

  /** int64 indices with negative ones counted from the end of `size` (as Gather and Slice read them). */
  wrapNegative(indices: string, size: string): string {
    return this.op('Where', [this.op('Less', [indices, this.ints([0], true)]), this.op('Add', [indices, size]), indices]);
  }

  /** Unsqueeze with an axes input (opset ≥ 13). */
  unsqueeze(x: string, axes: number[]): string {
    return this.op('Unsqueeze', [x, this.ints(axes)]);
  }

  /** x reshaped to the run-time shape of `like`. */
  reshapeLike(x: string, like: string): string {
    return this.op('Reshape', [x, this.shapeOf(like)]);
  }

  /** Zeros shaped like `like` at run time, of `like`'s element type (give `dataType` when `like` is not a forward value). */
  zerosLike(like: string, dataType: number = this.typeOf(like)): string {
    return this.op('ConstantOfShape', [this.shapeOf(like)], { value: at.tensor(floatScalarTensor(this.gradType(dataType), 0, [1])) });
  }

  /**
   * The gradient `grad` (shaped like `output`, the result of a broadcasting op) summed back to the shape of
   * `input`: over the leading axes `input` lacks and the axes where `input` has size 1 and `output` does not. An
   * axis whose probe size is ambiguous (a symbolic dim that may be 1 at run time on one side only) is tested at run
   * time: summed when `input` has size 1 there and `output` does not.
   */
  unbroadcast(grad: string, input: string, output: string): string {
    const din = this.facts(input).dims;
    const dout = this.facts(output).dims;
    const lead = dout.length - din.length;
    const axes: number[] = [];
    const tested: number[] = [];
    for (let i = 0; i < dout.length; i++) {
      if (i < lead) axes.push(i);
      else if (this.ambiguousSizes.has(din[i - lead]!)) tested.push(i);
      else if (din[i - lead] === 1 && dout[i] !== 1) axes.push(i);
    }
    if (!tested.length) {
      if (!axes.length) return grad;
      return this.reshapeLike(this.reduceSum(grad, axes, true), input);
    }
    const one = this.ints([1], true);
    const inDims = this.op('Gather', [this.shapeOf(input), this.ints(tested.map((i) => i - lead))]);
    const outDims = this.op('Gather', [this.shapeOf(output), this.ints(tested)]);
    const broadcast = this.op('And', [this.op('Equal', [inDims, one]), this.op('Not', [this.op('Equal', [outDims, one])])]);
    const picked = this.op('Compress', [this.ints(tested), broadcast], { axis: at.int(0) });
    const all = axes.length ? this.op('Concat', [this.ints(axes), picked], { axis: at.int(0) }) : picked;
    const summed = this.op('ReduceSum', [grad, all], { keepdims: at.int(1), noop_with_empty_axes: at.int(1) });
    return this.reshapeLike(summed, input);
  }
}

/** A node as error messages name it, quoted: its name, or (ONNX names are optional) the first value it writes. */
export function nodeName(n: Node): string {
  return n.name ? quotedText(n.name) : `(unnamed, writing ${quotedText(n.outputs[0])})`;
}

/** An axis attribute in [0, rank) (ONNX counts negative axes from the end). */
export function normalizeAxis(axis: number, rank: number): number {
  return ((axis % rank) + rank) % rank;
}

/** A float scalar (or `dims`-shaped single value) tensor of `dataType`. */
export function floatScalarTensor(dataType: number, v: number, dims: number[] = []): Tensor {
  if (dataType === DataType.DOUBLE) return { name: '', dataType, dims, data: new Uint8Array(new Float64Array([v]).buffer) };
  if (dataType === DataType.FLOAT) return { name: '', dataType, dims, data: new Uint8Array(new Float32Array([v]).buffer) };
  throw new GradientError(`gradients of ${dataTypeName(dataType)} values are not supported (float32 or float64 only)`);
}

/** The gradient rule of one ONNX op type. */
export interface GradientRule {
  opType: string;
  /**
   * Emits the gradients of the node's inputs from those of its outputs (`dy[i]` undefined: output i does not reach
   * the loss). `need[i]` says whether input i needs a gradient; return undefined for the others.
   */
  grad(ctx: GradContext, node: Node, dy: Array<string | undefined>, need: boolean[]): Array<string | undefined>;
}
