/**
 * The gradient of each intermediate-layer loss term (losses.ts: mse through a learned projection, cosine, pkd,
 * attention-mse on masked scores with heads averaged, attention-kl on probabilities) against finite differences,
 * in float64, on a tiny case: the student value is a parameter, the teacher feature an input.
 */
import { describe, expect, it } from 'vitest';
import { createModel, DataType, float32Tensor, type Model, type Node } from '../../src/onnx/index.ts';
import { appendLoss, type IntermediateTerm } from '../../src/gradients/losses.ts';
import { Tensor } from '../../src/runtime/session.ts';
import { gradCheck, toFloat64 } from '../helpers/gradcheck.ts';
import { lcg } from '../helpers/feeds.ts';

function randoms(n: number, seed: number, scale = 1): Float32Array {
  const r = lcg(seed);
  return Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale);
}

/** A forward graph with the parameter `p` (dims `dims`), the student value `s` = p or Softmax(p), and one term on it. */
function termGraph(term: Omit<IntermediateTerm, 'student' | 'teacher' | 'label'>, p: Float32Array, dims: number[], softmax: boolean) {
  const nodes: Node[] = [
    {
      name: 's_node',
      opType: softmax ? 'Softmax' : 'Identity',
      domain: '',
      inputs: ['p'],
      outputs: ['s'],
      attributes: softmax ? { axis: { type: 'int' as const, value: -1 } } : {},
    },
    { name: 'logits_node', opType: 'ReduceSum', domain: '', inputs: ['s'], outputs: ['logits'], attributes: { keepdims: { type: 'int' as const, value: 0 } } },
  ];
  const g = {
    name: 'g',
    nodes,
    inputs: [],
    outputs: [{ name: 'logits', elemType: DataType.FLOAT, shape: [] }],
    initializers: new Map([['p', float32Tensor('p', dims, p)]]),
    valueInfo: [],
  };
  const forward: Model = createModel(g, [{ domain: '', version: 17 }]);
  return appendLoss(forward, 'logits', 1, [], [{ ...term, student: 's', teacher: 'teacher', label: 'x' }], 3);
}

async function check(term: Omit<IntermediateTerm, 'student' | 'teacher' | 'label'>, p: Float32Array, dims: number[], t: Float32Array, softmax = false) {
  const lg = termGraph(term, p, dims, softmax);
  const parameters = ['p', ...lg.parameters.keys()];
  const feeds = { teacher: new Tensor('float64', Float64Array.from(t), term.teacherDims as number[]) };
  return gradCheck(toFloat64(lg.model), { loss: lg.loss, feeds, parameters, samples: 8 });
}

describe('intermediate loss terms: gradients against finite differences (float64)', () => {
  const B = 2,
    S = 3,
    H = 4;
  const t = randoms(B * S * H, 2);

  it('mse through a learned projection (student width 3, teacher width 4): the student value and W', async () => {
    const r = await check({ kind: 'mse', weight: 0.7, teacherDims: [B, S, H], studentWidth: 3, teacherWidth: H }, randoms(B * S * 3, 4), [B, S, 3], t);
    expect(Object.keys(r.perParameter)).toHaveLength(2);
    expect(r.worst).toBeLessThan(1e-5);
  });

  it('cosine', async () => {
    const r = await check({ kind: 'cosine', weight: 1, teacherDims: [B, S, H], studentWidth: H, teacherWidth: H }, randoms(B * S * H, 5), [B, S, H], t);
    expect(r.worst).toBeLessThan(1e-5);
  });

  it('pkd ([CLS] normalized; the other tokens get no gradient)', async () => {
    const r = await check({ kind: 'pkd', weight: 100, teacherDims: [B, S, H], studentWidth: H, teacherWidth: H }, randoms(B * S * H, 6), [B, S, H], t);
    expect(r.worst).toBeLessThan(1e-5);
    const g = r.analytic.p!;
    for (let b = 0; b < B; b++) for (let i = H; i < S * H; i++) expect(g[b * S * H + i]).toBe(0);
  });

  it('attention-mse on scores with masked entries, 2 student heads against 1 teacher head', async () => {
    const A = 2;
    const p = randoms(B * A * S * S, 7, 3);
    p[1] = -1e4; // masked on the student side: zeroed, no gradient
    const tt = randoms(B * S * S, 8, 3);
    tt[2] = -1e4;
    const r = await check({ kind: 'attention-mse', weight: 1, teacherDims: [B, 1, S, S], studentWidth: A, teacherWidth: 1, scores: true }, p, [B, A, S, S], tt);
    expect(r.worst).toBeLessThan(1e-5);
    expect(r.analytic.p![1]).toBe(0);
  });

  it('attention-kl on probabilities (through the student Softmax)', async () => {
    const A = 2;
    const soft = (x: Float32Array) => {
      const out = new Float32Array(x.length);
      for (let r = 0; r < x.length / S; r++) {
        let z = 0;
        for (let j = 0; j < S; j++) z += Math.exp(x[r * S + j]);
        for (let j = 0; j < S; j++) out[r * S + j] = Math.exp(x[r * S + j]) / z;
      }
      return out;
    };
    const r = await check(
      { kind: 'attention-kl', weight: 1, teacherDims: [B, A, S, S], studentWidth: A, teacherWidth: A },
      randoms(B * A * S * S, 9, 2),
      [B, A, S, S],
      soft(randoms(B * A * S * S, 10, 2)),
      true,
    );
    expect(r.worst).toBeLessThan(1e-5);
  });
});
