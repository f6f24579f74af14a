/**
 * Discovery's reading of the attention scale (traceScores, headSizeScalar: ff1226d2, c9507f02, 08216fb2, 5003000d)
 * against onnxruntime's: seeded random scalings of tiny BERTs' attention, a factor computed from constants and the
 * head size read off the shape of Q, Kᵀ or V split into heads (Shape, Slice [-1:] or Gather -1) through Cast, Sqrt,
 * Reciprocal, Div, Mul and Pow of float32 and int64 values, that either divides or multiplies the scores, or
 * multiplies both Q and Kᵀ (scaled_dot_product_attention's form), are read as the scale onnxruntime computes, the
 * scores divided by it, or refused; never read as another (the canonical rebuild and training would compute other
 * logits than the graph's). The factor's value is onnxruntime's, the graph's value computed.
 */
import { describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import { NotBertError } from '../../src/errors.ts';
import { cloneModel, DataType, encodeModel, type Node } from '../../src/onnx/index.ts';
import { float32Tensor, int64Tensor } from '../../src/onnx/tensor.ts';
import { openSession } from '../../src/runtime/session.ts';
import { lcg } from '../helpers/feeds.ts';
import { batchFeeds, onnxNode, paddedBatch, tinyBert } from '../helpers/models.ts';

type Scalar = { leaf: 'head size' | number; type: 'f' | 'i' } | { op: string; type: 'f' | 'i'; a: Scalar; b?: Scalar };

const FLOAT = { to: { type: 'int' as const, value: DataType.FLOAT } };
const INT64 = { to: { type: 'int' as const, value: DataType.INT64 } };

/** The scalar's expression, as a test's failure names it. */
const text = (e: Scalar): string =>
  'leaf' in e ? `${e.leaf}:${e.type}` : `${e.op}${e.op === 'Cast' ? `<${e.type}>` : ''}(${[e.a, e.b].flatMap((x) => (x ? [text(x)] : [])).join(', ')})`;

describe('attention scales read as onnxruntime computes them', () => {
  it.each([1, 2, 3])('reads the scale onnxruntime computes, or refuses (seed %i)', async (seed) => {
    const r = lcg(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    const headSize = pick([4, 6, 8]);
    const model = tinyBert({ hiddenSize: headSize * 4, numHeads: 4, intermediateSize: 32 }, { seed: 4, std: 0.2 });
    const feeds = batchFeeds(paddedBatch([7, 4, 1, 6], 128));
    const scalar = (depth: number, type: 'f' | 'i'): Scalar => {
      if (depth === 0 || r() < 0.3) return { leaf: r() < 0.5 ? 'head size' : type === 'f' ? pick([0.5, 2, 4, 6, 8, 0.25, -0.5, 1]) : pick([1, 2, 4, 6]), type };
      const op = pick(type === 'f' ? ['Sqrt', 'Reciprocal', 'Cast', 'Div', 'Mul', 'Pow', 'Pow'] : ['Cast', 'Div', 'Mul', 'Pow']);
      if (op === 'Cast') return { op, type, a: scalar(depth - 1, type === 'f' && r() < 0.7 ? 'i' : pick(['f', 'i'] as const)) };
      if (op === 'Div' || op === 'Mul') return { op, type, a: scalar(depth - 1, type), b: scalar(depth - 1, type) };
      if (op === 'Pow') return { op, type, a: scalar(depth - 1, type), b: { leaf: pick([-0.5, -0.25, 0.5, 2, -1]), type: 'f' } };
      return { op, type, a: scalar(depth - 1, type) };
    };
    const counts = { read: 0, refused: 0 };
    for (let trial = 0; trial < 15; trial++) {
      const factor = scalar(3, 'f');
      const where = pick(['divides the scores', 'multiplies the scores', 'multiplies Q and Kᵀ'] as const);
      const shapeOf = pick(['Q', 'Kᵀ', 'V'] as const);
      const m = cloneModel(model);
      const g = m.graph;
      g.initializers.set('s_start', int64Tensor('s_start', [1], [-1]));
      g.initializers.set('s_end', int64Tensor('s_end', [1], [9223372036854775807n]));
      g.initializers.set('s_last', int64Tensor('s_last', [], [-1]));
      const added: Node[] = [];
      const factors: string[] = [];
      let k = 0;
      const divs = g.nodes.filter((n) => n.opType === 'Div' && g.nodes.some((a) => a.opType === 'Add' && a.inputs[0] === n.outputs[0]));
      expect(divs).toHaveLength(2);
      for (const [l, div] of divs.entries()) {
        const qk = g.nodes.find((n) => n.opType === 'MatMul' && n.outputs[0] === div.inputs[0])!;
        const [q, kT] = qk.inputs as [string, string];
        const v = g.nodes.find(
          (n) =>
            n.opType === 'MatMul' &&
            n.inputs[0] ===
              g.nodes.find(
                (s) => s.opType === 'Softmax' && s.inputs[0] === g.nodes.find((a) => a.opType === 'Add' && a.inputs[0] === div.outputs[0])!.outputs[0],
              )!.outputs[0],
        )!.inputs[1]!;
        const shaped = shapeOf === 'Q' ? q : shapeOf === 'Kᵀ' ? kT : v;
        const emit = (e: Scalar): string => {
          const out = `scale${l}_${k++}`;
          if ('leaf' in e && e.leaf !== 'head size') {
            g.initializers.set(out, e.type === 'f' ? float32Tensor(out, [], [e.leaf]) : int64Tensor(out, [], [e.leaf]));
            return out;
          }
          if ('leaf' in e) {
            // (the last axis of the shape: torch's Slice(Shape(x), [-1], [INT64_MAX]), or a Gather of index -1)
            added.push(onnxNode(`${out}/Shape`, 'Shape', [shaped], [`${out}/shape`]));
            if (r() < 0.5) added.push(onnxNode(`${out}/Slice`, 'Slice', [`${out}/shape`, 's_start', 's_end'], [`${out}/size`]));
            else added.push(onnxNode(`${out}/Gather`, 'Gather', [`${out}/shape`, 's_last'], [`${out}/size`]));
            if (e.type === 'i') return `${out}/size`;
            added.push(onnxNode(`${out}/Cast`, 'Cast', [`${out}/size`], [out], FLOAT));
            return out;
          }
          const inputs = [emit(e.a), ...(e.b ? [emit(e.b)] : [])];
          added.push(onnxNode(out, e.op, inputs, [out], e.op === 'Cast' ? (e.type === 'f' ? FLOAT : INT64) : {}));
          return out;
        };
        const f = emit(factor);
        factors.push(f);
        if (where === 'multiplies Q and Kᵀ') {
          added.push(onnxNode(`scale${l}/q`, 'Mul', [q, f], [`scale${l}/q`]), onnxNode(`scale${l}/k`, 'Mul', [kT, f], [`scale${l}/k`]));
          qk.inputs = [`scale${l}/q`, `scale${l}/k`];
          g.nodes.find((a) => a.opType === 'Add' && a.inputs[0] === div.outputs[0])!.inputs[0] = qk.outputs[0]!;
          g.nodes.splice(g.nodes.indexOf(div), 1);
        } else {
          div.opType = where === 'divides the scores' ? 'Div' : 'Mul';
          div.inputs[1] = f;
        }
      }
      // (each node once its inputs are computed)
      const known = new Set([...g.initializers.keys(), ...g.inputs.map((i) => i.name)]);
      const sorted: Node[] = [];
      for (let rest = [...g.nodes, ...added]; rest.length; ) {
        const ready = rest.filter((n) => n.inputs.every((i) => !i || known.has(i)));
        expect(ready.length).toBeGreaterThan(0);
        for (const n of ready) for (const o of n.outputs) known.add(o);
        sorted.push(...ready);
        rest = rest.filter((n) => !ready.includes(n));
      }
      g.nodes = sorted;
      const probe = cloneModel(m);
      probe.graph.outputs = [...probe.graph.outputs, { name: factors[0]! }];
      const session = await openSession(encodeModel(probe));
      let value: number;
      try {
        const out = await session.run(Object.fromEntries(session.inputNames.map((n) => [n, feeds[n]!])));
        value = Number((out[factors[0]!]!.data as Float32Array)[0]);
      } finally {
        await session.release();
      }
      // (the scores divided by: the factor; its reciprocal; the reciprocal of its square, Q and Kᵀ each multiplied by it)
      const divisor = where === 'divides the scores' ? value : where === 'multiplies the scores' ? 1 / value : 1 / value ** 2;
      let scale: number | undefined;
      try {
        scale = findBert(m).layers[0]!.attention!.scale;
      } catch (e) {
        expect(e).toBeInstanceOf(NotBertError);
        counts.refused++;
        continue;
      }
      counts.read++;
      // (a scaling found: the matcher records one for every attention it reads)
      if (scale === undefined) throw new Error(`${text(factor)} ${where}: read with no scale`);
      const what = `${text(factor)} of ${shapeOf}'s shape ${where}, heads ${headSize} wide: onnxruntime's ${divisor}, read as ${scale}`;
      if (Number.isNaN(divisor)) expect(scale, what).toBeNaN();
      else if (Number.isFinite(divisor)) expect(Math.abs(scale - divisor), what).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(divisor)));
      else expect(scale, what).toBe(divisor);
    }
    // (most are read: the cases refused are those of an integer Div or Pow onnxruntime truncates, or of another axis)
    expect(counts.read).toBeGreaterThan(counts.refused);
  });
});
