/**
 * Discovery's folding of a scalar from constants (GraphContext.foldScalar / foldNumber: attention scales, LayerNorm
 * epsilons, activation constants) against onnxruntime's: seeded random expressions of float32 and int64 scalar
 * constants through the ops it folds (Sqrt, Reciprocal, Neg, Cast to float or int64, Div, Mul, Pow), each folded and
 * computed by onnxruntime (optimizations off), give the same number, an integer Cast or Div truncating and a Pow of an
 * int64 base truncating as onnxruntime's kernels do. Results past what float32 or int64 hold (and NaNs, which no
 * scale is) are left out: onnxruntime's overflow is its own (int64's least value, Infinity).
 */
import { describe, expect, it } from 'vitest';
import { GraphContext } from '../../src/bert/discover/graph-context.ts';
import { cloneModel, DataType, type Node } from '../../src/onnx/index.ts';
import { float32Tensor, int64Tensor } from '../../src/onnx/tensor.ts';
import { openModelSession } from '../../src/runtime/model-session.ts';
import { lcg } from '../helpers/feeds.ts';
import { onnxNode, tinyBert } from '../helpers/models.ts';

const FLOATS = [0.5, 2, 3, 6, 12, -1.5, 0.25, 64, 2.5, 1.1];
const INTEGERS = [2, 3, 5, 6, 12, -7, 64, 1, 4];

describe('folding a scalar from constants', () => {
  it.each([1, 2, 3])("computes onnxruntime's number (seed %i)", async (seed) => {
    const r = lcg(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    const m = cloneModel(tinyBert({ numLayers: 1, hiddenSize: 8, numHeads: 2, intermediateSize: 16, vocabSize: 20, maxPositions: 8 }));
    const g = m.graph;
    g.initializers = new Map();
    g.inputs = [];
    g.valueInfo = [];
    const nodes: Node[] = [];
    let k = 0;
    /** A random expression of `depth` levels at most, of float32 ('f') or int64 ('i') values, and its value name. */
    const expression = (depth: number, type: 'f' | 'i' = pick(['f', 'i'] as const)): string => {
      const out = `v${k++}`;
      if (depth === 0 || r() < 0.25) {
        g.initializers.set(out, type === 'f' ? float32Tensor(out, [], [pick(FLOATS)]) : int64Tensor(out, [], [pick(INTEGERS)]));
        return out;
      }
      const op = pick(type === 'f' ? ['Sqrt', 'Reciprocal', 'Neg', 'Cast', 'Div', 'Mul', 'Pow'] : ['Neg', 'Cast', 'Div', 'Mul', 'Pow']);
      const inputs =
        op === 'Cast'
          ? [expression(depth - 1)]
          : op === 'Pow'
            ? [expression(depth - 1, type), expression(depth - 1)]
            : op === 'Div' || op === 'Mul'
              ? // (an int64 divisor a nonzero constant: onnxruntime refuses an integer division by zero)
                [expression(depth - 1, type), op === 'Div' && type === 'i' ? expression(0, 'i') : expression(depth - 1, type)]
              : [expression(depth - 1, type)];
      const to = { to: { type: 'int' as const, value: type === 'f' ? DataType.FLOAT : DataType.INT64 } };
      nodes.push(onnxNode(out, op, inputs, [out], op === 'Cast' ? to : {}));
      return out;
    };
    for (let i = 0; i < 200; i++) expression(3);
    g.nodes = nodes;
    g.outputs = nodes.map((n) => ({ name: n.outputs[0]! }));
    const ctx = new GraphContext(m, 'm');
    const session = await openModelSession(m, { threads: 1, graphOptimizationLevel: 'disabled' });
    try {
      const out = await session.run({});
      const compared: string[] = [];
      for (const n of nodes) {
        const name = n.outputs[0]!;
        const folded = ctx.foldScalar(name);
        const computed = Number((out[name]!.data as Float32Array | BigInt64Array)[0]);
        if (folded === undefined || !Number.isFinite(folded) || Math.abs(folded) > 1e18 || !Number.isFinite(computed)) continue;
        expect(Math.abs(folded - computed), `${name} (${n.opType})`).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(computed)));
        compared.push(name);
      }
      expect(compared.length).toBeGreaterThan(nodes.length / 2);
    } finally {
      await session.release();
    }
  });
});
