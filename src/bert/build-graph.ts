/**
 * A graph writer that names things the way torch.onnx.export (TorchScript exporter, torch ≥ 1.13) does: node
 * `/<module scope>/<OpType>[_<n>]` with output `<node>_output_0`, counted per scope and op type; Constant nodes
 * for scalars; parameters used as they are keep their state-dict names, while Linear weights that torch stores
 * transposed for MatMul become `onnx::MatMul_<id>` initializers placed after the named ones.
 */
import type { Attribute, Node, Tensor } from '../onnx/index.ts';
import { float32Tensor, int64Tensor } from '../onnx/index.ts';
import { quotedText } from '../errors.ts';

/** Attribute shorthands. */
export const attr = {
  int: (value: number): Attribute => ({ type: 'int', value }),
  ints: (value: number[]): Attribute => ({ type: 'ints', value }),
  float: (value: number): Attribute => ({ type: 'float', value }),
  tensor: (value: Tensor): Attribute => ({ type: 'tensor', value }),
};

export class TorchStyleGraphWriter {
  readonly nodes: Node[] = [];
  private readonly named = new Map<string, Tensor>();
  private readonly anonymous: Tensor[] = [];
  private readonly counts = new Map<string, number>();
  /** Counter of `onnx::` value ids, like torch's value numbering (only unique, not torch's exact numbers). */
  private nextId = 100;
  private constantNodes = 0;

  /** The next node name for `opType` in `scope` ('' is the top level). */
  private nodeName(scope: string, opType: string): string {
    const key = `${scope}/${opType}`;
    const n = this.counts.get(key) ?? 0;
    this.counts.set(key, n + 1);
    return n === 0 ? key : `${key}_${n}`;
  }

  /** Adds a node in `scope`; returns its (first) output, or `output` when a graph output name is wanted. */
  op(scope: string, opType: string, inputs: string[], attributes: Record<string, Attribute> = {}, output?: string): string {
    const name = this.nodeName(scope, opType);
    const out = output ?? `${name}_output_0`;
    this.nodes.push({ name, opType, domain: '', inputs, outputs: [out], attributes });
    return out;
  }

  /** A Constant node in `scope` holding `value`. */
  constant(scope: string, value: Tensor): string {
    return this.op(scope, 'Constant', [], { value: attr.tensor(value) });
  }

  /** A float32 scalar Constant. */
  floatScalar(scope: string, v: number): string {
    return this.constant(scope, float32Tensor('', [], [v]));
  }

  /** An int64 scalar Constant. */
  int64Scalar(scope: string, v: number): string {
    return this.constant(scope, int64Tensor('', [], [v]));
  }

  /** An int64 1-D Constant. */
  int64Vector(scope: string, v: number[]): string {
    return this.constant(scope, int64Tensor('', [v.length], v));
  }

  /**
   * The axes Constant torch's unsqueeze symbolic writes outside any scope (`Constant_<n>` → `onnx::Unsqueeze_<id>`).
   */
  unsqueezeAxes(axes: number[]): string {
    const out = `onnx::Unsqueeze_${this.nextId++}`;
    this.nodes.push({
      name: `Constant_${this.constantNodes++}`,
      opType: 'Constant',
      domain: '',
      inputs: [],
      outputs: [out],
      attributes: { value: attr.tensor(int64Tensor('', [axes.length], axes)) },
    });
    return out;
  }

  /** A parameter initializer under its own (state-dict) name. */
  param(name: string, dims: readonly number[], data: Float32Array): string {
    if (this.named.has(name)) throw new Error(`initializer ${quotedText(name)} added twice`);
    this.named.set(name, float32Tensor(name, dims, data));
    return name;
  }

  /** An initializer torch names `onnx::<OpType>_<id>` (a parameter the exporter transformed, e.g. transposed). */
  derived(opType: string, dims: readonly number[], data: Float32Array): string {
    const name = `onnx::${opType}_${this.nextId++}`;
    this.anonymous.push(float32Tensor(name, dims, data));
    return name;
  }

  /**
   * Initializers in torch's order: named parameters first (in `order`, the state-dict order, when given; names not
   * in it follow in the order they were added), then derived ones.
   */
  initializers(order: readonly string[] = []): Map<string, Tensor> {
    const m = new Map<string, Tensor>();
    for (const name of order) {
      const t = this.named.get(name);
      if (t) m.set(name, t);
    }
    for (const [name, t] of this.named) if (!m.has(name)) m.set(name, t);
    for (const t of this.anonymous) m.set(t.name, t);
    return m;
  }
}

/** `w` [rows, cols] row-major, transposed to [cols, rows]. */
export function transpose2d(w: Float32Array, rows: number, cols: number): Float32Array {
  if (w.length !== rows * cols) throw new RangeError(`transpose2d: ${w.length} values for [${rows}, ${cols}]`);
  const out = new Float32Array(w.length);
  // Blocked so both sides stay in cache for the 768×3072 matrices of BERT-base; the inner loop writes linearly.
  const B = 64;
  for (let r0 = 0; r0 < rows; r0 += B) {
    const r1 = Math.min(rows, r0 + B);
    for (let c0 = 0; c0 < cols; c0 += B) {
      const c1 = Math.min(cols, c0 + B);
      for (let c = c0; c < c1; c++) {
        const dst = c * rows;
        for (let r = r0; r < r1; r++) out[dst + r] = w[r * cols + c];
      }
    }
  }
  return out;
}
