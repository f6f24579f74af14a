/**
 * A small graph writer for graphs the project writes itself (students, losses, gradients): nodes named
 * `<scope>/<OpType>[_<n>]` with outputs `<node>:<i>` unless an output name is given, Constant nodes shared by equal
 * requests, float32 weights as initializers. (The builder's TorchStyleGraphWriter, src/bert, names things as torch's
 * exporter does instead.)
 */
import type { Attribute, Node, Tensor } from './graph.ts';
import { DataType } from './dtype.ts';
import { float32Tensor, int64Tensor } from './tensor.ts';
import { quotedText } from '../errors.ts';

export class GraphWriter {
  readonly nodes: Node[] = [];
  readonly initializers = new Map<string, Tensor>();
  private readonly counts = new Map<string, number>();
  private readonly constants = new Map<string, string>();

  /** `scope` names the nodes of calls that give none. */
  constructor(private readonly scope = '') {}

  /** Adds a node with `count` outputs (`outputs` when given, else `<node name>:<i>`); returns them. */
  opN(opType: string, inputs: string[], attributes: Record<string, Attribute> = {}, count = 1, outputs?: string[], scope = this.scope): string[] {
    const key = `${scope}/${opType}`;
    const n = this.counts.get(key) ?? 0;
    this.counts.set(key, n + 1);
    const name = n === 0 ? key : `${key}_${n}`;
    const outs = outputs ?? Array.from({ length: count }, (_, i) => `${name}:${i}`);
    this.nodes.push({ name, opType, domain: '', inputs, outputs: outs, attributes });
    return outs;
  }

  /** Adds a one-output node; returns its output (`output` when given). */
  op(opType: string, inputs: string[], attributes: Record<string, Attribute> = {}, output?: string, scope = this.scope): string {
    return this.opN(opType, inputs, attributes, 1, output === undefined ? undefined : [output], scope)[0]!;
  }

  /** A Constant node holding `make()`, shared by every request with the same `key`. */
  constant(key: string, make: () => Tensor): string {
    let out = this.constants.get(key);
    if (!out) {
      out = this.op('Constant', [], { value: { type: 'tensor', value: make() } }, undefined, `${this.scope}/const`);
      this.constants.set(key, out);
    }
    return out;
  }

  /** An int64 scalar Constant (a Gather index). */
  int64Scalar(v: number): string {
    return this.constant(`i64:${v}`, () => int64Tensor('', [], [v]));
  }

  /** An int64 1-D Constant (axes, shapes). */
  int64Vector(v: readonly number[]): string {
    return this.constant(`i64[]:${v.join(',')}`, () => int64Tensor('', [v.length], [...v]));
  }

  /** A float scalar Constant (float32 unless `dataType` is DOUBLE). */
  floatScalar(v: number, dataType: number = DataType.FLOAT): string {
    return this.constant(`f${dataType}:${v}`, () =>
      dataType === DataType.DOUBLE ? { name: '', dataType, dims: [], data: new Uint8Array(new Float64Array([v]).buffer) } : float32Tensor('', [], [v]),
    );
  }

  /** A float32 initializer (a weight). */
  weight(name: string, dims: readonly number[], data: Float32Array): string {
    if (this.initializers.has(name)) throw new Error(`initializer ${quotedText(name)} added twice`);
    this.initializers.set(name, float32Tensor(name, dims, data));
    return name;
  }
}
