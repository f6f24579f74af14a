/**
 * The read-only view of a graph that the discovery matchers share: who produces and who reads each value,
 * constant folding of the small constants exporters scatter around (initializers, Constant nodes, and the
 * Identity / Cast / Sqrt / Reciprocal chains in front of them), and ancestor / descendant queries.
 * Every matcher refuses through `refuse`, which throws a NotBertError whose one-line message starts with the label.
 */
import { NotBertError } from '../../errors.ts';
import { attrInt, opsetVersion, type Graph, type Model, type Node, type Tensor } from '../../onnx/graph.ts';
import { consumers, producers } from '../../onnx/analysis.ts';
import { constantNodeTensor, tensorNumbers } from '../../onnx/constants.ts';
import { DataType, isFloatType } from '../../onnx/dtype.ts';
import { valueRanks } from './value-ranks.ts';

/** A constant tensor and where it lives: an initializer, or the `value` of a Constant node (by node name). */
export interface ConstRef {
  tensor: Tensor;
  source: 'initializer' | 'constant-node';
  /** Initializer name or Constant node name. */
  name: string;
}

/** The ops foldNumber computes a scalar through. */
const FOLDED_OPS = new Set(['Sqrt', 'Reciprocal', 'Neg', 'Cast', 'Div', 'Mul', 'Pow']);

/** Ops that pass a value through unchanged at inference time. */
const PASS_THROUGH = new Set(['Identity', 'Dropout']);

export class GraphContext {
  readonly model: Model;
  readonly graph: Graph;
  readonly label: string;
  private readonly prod: Map<string, Node>;
  private readonly cons: Map<string, Node[]>;
  private readonly order: Map<Node, number>;
  private readonly graphInputs: Set<string>;
  private ranks: Map<string, number> | undefined;

  constructor(model: Model, label: string) {
    this.model = model;
    this.graph = model.graph;
    this.label = label;
    this.prod = producers(model.graph);
    this.cons = consumers(model.graph);
    this.order = new Map(model.graph.nodes.map((n, i) => [n, i]));
    this.graphInputs = new Set(model.graph.inputs.map((v) => v.name).filter((n) => !model.graph.initializers.has(n)));
  }

  /** Throws a NotBertError: `<label>: <message>`. */
  refuse(message: string): never {
    throw new NotBertError(`${this.label}: ${message}`);
  }

  producer(value: string): Node | undefined {
    return this.prod.get(value);
  }

  /** Nodes reading a value directly. */
  readers(value: string): Node[] {
    return this.cons.get(value) ?? [];
  }

  /**
   * Nodes reading a value, looking through Identity / Dropout nodes (their readers are returned instead of them).
   */
  consumers(value: string): Node[] {
    const out: Node[] = [];
    const seen = new Set<string>();
    const visit = (v: string) => {
      if (seen.has(v)) return;
      seen.add(v);
      for (const n of this.readers(v)) {
        if (PASS_THROUGH.has(n.opType) && n.domain === '' && n.inputs[0] === v) visit(n.outputs[0]);
        else out.push(n);
      }
    };
    visit(value);
    return out;
  }

  /** The value behind Identity / Dropout chains. */
  source(value: string): string {
    let v = value;
    for (let i = 0; i < 64; i++) {
      const p = this.prod.get(v);
      if (!p || !PASS_THROUGH.has(p.opType) || p.domain !== '') return v;
      v = p.inputs[0];
    }
    return v;
  }

  /** The producer of a value, looking through Identity / Dropout. */
  producerOf(value: string): Node | undefined {
    return this.prod.get(this.source(value));
  }

  /** Position of a node in the (topologically sorted) node list. */
  position(node: Node): number {
    return this.order.get(node) ?? -1;
  }

  isGraphInput(value: string): boolean {
    return this.graphInputs.has(value);
  }

  /** The initializer named `value`, looking through Identity (torch 2 exports alias shared initializers that way). */
  initializer(value: string): { name: string; tensor: Tensor } | undefined {
    const v = this.sourceThroughIdentity(value);
    const t = this.graph.initializers.get(v);
    return t ? { name: v, tensor: t } : undefined;
  }

  private sourceThroughIdentity(value: string): string {
    let v = value;
    for (let i = 0; i < 64; i++) {
      if (this.graph.initializers.has(v)) return v;
      const p = this.prod.get(v);
      if (p?.opType !== 'Identity' || p.domain !== '') return v;
      v = p.inputs[0];
    }
    return v;
  }

  /** A constant: an initializer or a Constant node's value (through Identity), with where it lives. */
  constant(value: string): ConstRef | undefined {
    if (!value) return undefined;
    const init = this.initializer(value);
    if (init) return { tensor: init.tensor, source: 'initializer', name: init.name };
    const p = this.prod.get(this.sourceThroughIdentity(value));
    const t = p && constantNodeTensor(p);
    return t ? { tensor: t, source: 'constant-node', name: p!.name } : undefined;
  }

  /** True when the value is a constant, or a scalar folded from constants (see foldScalar). */
  isConstantValue(value: string): boolean {
    return this.constant(value) !== undefined || this.foldScalar(value) !== undefined;
  }

  /** Numbers of a constant, or undefined. */
  constNumbers(value: string): number[] | undefined {
    const c = this.constant(value);
    return c ? tensorNumbers(c.tensor) : undefined;
  }

  /**
   * A single number computed from constants: a one-element constant, or Sqrt / Reciprocal / Cast / Neg of one, or
   * a Div / Mul / Pow of two (keras writes the attention scale as Sqrt(Cast(head size)), torch a head size ** -0.5 as
   * Pow(head size, -0.5)). Undefined when not constant.
   * Computed as onnxruntime does for the values' element types (see foldNumber).
   */
  foldScalar(value: string): number | undefined {
    return this.foldNumber(value)?.value;
  }

  /**
   * foldScalar's number, and whether it is of an integer type (a constant's element type; a Cast's `to`; else its
   * first operand's): a Cast to an integer type truncates (a float cast to int64 and back: 2.45 → 2) and a Div of
   * integers too, as onnxruntime computes them.
   */
  foldNumber(value: string, depth = 0): { value: number; integer: boolean } | undefined {
    if (depth > 8 || !value) return undefined;
    const c = this.constant(value);
    if (c) {
      // (a constant of more elements is no scalar: its data, an embedding table's maybe, is not decoded to count them)
      if (c.tensor.dims.some((d) => d !== 1)) return undefined;
      const nums = tensorNumbers(c.tensor);
      return nums?.length === 1 ? { value: nums[0]!, integer: !isFloatType(c.tensor.dataType) } : undefined;
    }
    const p = this.producerOf(value);
    // (only back through the ops folded below: not through a Gather or an Add to whatever constant lies behind them)
    if (p?.domain !== '' || !FOLDED_OPS.has(p.opType)) return undefined;
    const x = this.foldNumber(p.inputs[0], depth + 1);
    if (!x) return undefined;
    const y = () => this.foldNumber(p.inputs[1], depth + 1)?.value;
    const same = (v: number | undefined) => (v === undefined ? undefined : { value: x.integer ? Math.trunc(v) : v, integer: x.integer });
    switch (p.opType) {
      case 'Sqrt':
        return same(Math.sqrt(x.value));
      case 'Reciprocal':
        return same(1 / x.value);
      case 'Neg':
        return same(-x.value);
      case 'Cast': {
        const to = attrInt(p, 'to');
        if (to === undefined) return undefined;
        if (to === DataType.BOOL) return { value: x.value !== 0 ? 1 : 0, integer: true };
        return isFloatType(to) ? { value: x.value, integer: false } : { value: Math.trunc(x.value), integer: true };
      }
      case 'Div': {
        const d = y();
        return d === undefined || (x.integer && d === 0) ? undefined : same(x.value / d);
      }
      case 'Mul': {
        const m = y();
        return m === undefined ? undefined : same(x.value * m);
      }
      case 'Pow': {
        const k = y();
        return k === undefined ? undefined : same(x.value ** k);
      }
      default:
        return undefined;
    }
  }

  /** Values (graph inputs included) that `value` is computed from, up to `limit` nodes back. */
  ancestorValues(values: readonly string[], limit = 100_000): Set<string> {
    const seen = new Set<string>();
    const stack = [...values];
    let steps = 0;
    while (stack.length && steps++ < limit) {
      const v = stack.pop()!;
      if (seen.has(v)) continue;
      seen.add(v);
      const p = this.prod.get(v);
      if (p) for (const i of p.inputs) if (i && !seen.has(i)) stack.push(i);
    }
    return seen;
  }

  /** Nodes the value flows into, transitively. */
  descendantNodes(value: string): Set<Node> {
    const seen = new Set<Node>();
    const stack = [value];
    const seenValues = new Set<string>();
    while (stack.length) {
      const v = stack.pop()!;
      if (seenValues.has(v)) continue;
      seenValues.add(v);
      for (const n of this.readers(v)) {
        if (seen.has(n)) continue;
        seen.add(n);
        for (const o of n.outputs) if (o) stack.push(o);
      }
    }
    return seen;
  }

  /** Nodes that compute the value, transitively. */
  ancestorNodes(value: string): Set<Node> {
    const out = new Set<Node>();
    for (const v of this.ancestorValues([value])) {
      const p = this.prod.get(v);
      if (p) out.add(p);
    }
    return out;
  }

  /** The rank of a value where it follows from the graph's declared shapes (valueRanks), else undefined. */
  rank(value: string): number | undefined {
    this.ranks ??= valueRanks(this.graph);
    return this.ranks.get(value);
  }

  /** The opset of a domain ('' for ai.onnx). */
  opset(domain = ''): number | undefined {
    return opsetVersion(this.model, domain);
  }
}
