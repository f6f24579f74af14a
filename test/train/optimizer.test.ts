import { describe, expect, it } from 'vitest';
import { AdamW, accumulateRows, clipFactor, defaultNoDecay, globalNorm, sumOfSquares, type RowWorkspace } from '../../src/train/optimizer.ts';
import { bitIdentical, lcg } from '../helpers/feeds.ts';
import { bertStudent, bilstmStudent } from '../../src/train/students/index.ts';
import { randomBilstmWeights } from '../../src/train/students/bilstm-config.ts';
import { randomBertWeights } from '../../src/bert/build-weights.ts';
import { tinyBertConfig } from '../helpers/models.ts';
import type { Student } from '../../src/train/student.ts';

/** Float32 values from a seeded LCG in [-1, 1). */
function randomArray(n: number, seed: number): Float32Array {
  const r = lcg(seed);
  return Float32Array.from({ length: n }, () => 2 * r() - 1);
}

describe('AdamW', () => {
  // Hand-computed in float64 from torch.optim.AdamW's update (bias-corrected, decay p·(1 − lr·wd) first), p0 = 1 or
  // -2, gradients 0.5 then -0.25. Step 1: p = 0.999 − 1·0.05/(0.5 + 1e-8) = 0.899000002.
  // Step 2: p = 0.899000002·0.999 − (0.1/0.19)·0.02/(√0.00031225/√0.001999 + 1e-8) = 0.8714672987058463.
  it('matches hand-computed values over two steps, with and without weight decay', () => {
    const params = new Map([
      ['encoder.dense.weight', Float32Array.of(1)],
      ['encoder.dense.bias', Float32Array.of(-2)],
      ['frozen', Float32Array.of(3)],
    ]);
    const opt = new AdamW(params, { lr: 0.1 });
    opt.step(
      new Map([
        ['encoder.dense.weight', Float32Array.of(0.5)],
        ['encoder.dense.bias', Float32Array.of(0.5)],
      ]),
    );
    expect(params.get('encoder.dense.weight')![0]).toBeCloseTo(0.899000002, 7);
    expect(params.get('encoder.dense.bias')![0]).toBeCloseTo(-2.099999998, 6);
    opt.step(
      new Map([
        ['encoder.dense.weight', Float32Array.of(-0.25)],
        ['encoder.dense.bias', Float32Array.of(-0.25)],
      ]),
    );
    expect(params.get('encoder.dense.weight')![0]).toBeCloseTo(0.8714672987058463, 7);
    expect(params.get('encoder.dense.bias')![0]).toBeCloseTo(-2.1266337012921537, 6);
    expect(params.get('frozen')![0]).toBe(3); // no gradient, no step, no decay
    expect(opt.state().steps).toEqual({ 'encoder.dense.weight': 2, 'encoder.dense.bias': 2 });
  });

  it('uses the learning rate of each call (decay and step size), as a scheduler sets it', () => {
    const params = new Map([['w', Float32Array.of(1)]]);
    const opt = new AdamW(params, { lr: 123 });
    opt.step(new Map([['w', Float32Array.of(0.5)]]), 0.1);
    opt.step(new Map([['w', Float32Array.of(-0.25)]]), 0.05);
    expect(params.get('w')![0]).toBeCloseTo(0.8852336503529232, 7);
  });

  it('skips weight decay on biases and norms by default (Hugging Face convention)', () => {
    for (const n of ['bert.encoder.layer.0.output.dense.bias', 'bert.embeddings.LayerNorm.weight', 'layer_norm.gamma', 'final_norm.weight']) {
      expect(defaultNoDecay(n)).toBe(true);
    }
    for (const n of ['bert.embeddings.word_embeddings.weight', 'onnx::MatMul_1234', 'classifier.weight']) expect(defaultNoDecay(n)).toBe(false);
    // With a zero gradient only the decay moves a parameter: 1 − lr·wd for decayed ones, nothing for the others.
    const params = new Map([
      ['a.weight', Float32Array.of(1)],
      ['a.bias', Float32Array.of(1)],
    ]);
    new AdamW(params, { lr: 0.5, weightDecay: 0.1 }).step(
      new Map([
        ['a.weight', Float32Array.of(0)],
        ['a.bias', Float32Array.of(0)],
      ]),
    );
    expect(params.get('a.weight')![0]).toBeCloseTo(0.95, 7);
    expect(params.get('a.bias')![0]).toBe(1);
  });

  it("exempts every student's biases and norms from decay, as the README says, and decays its matrices and tables", () => {
    const bilstm = { vocabSize: 50, embeddingSize: 8, hiddenSize: 4, mlpSize: 4, numLabels: 2, maxLength: 8 };
    const config = tinyBertConfig({ numLayers: 1 });
    const students: Student[] = [
      bertStudent({ config, weights: randomBertWeights(config, { seed: 1 }) }, 'BERT'),
      bilstmStudent(bilstm, randomBilstmWeights(bilstm, 1)),
    ];
    for (const student of students) {
      const params = [...student.forward(true).graph.initializers].filter(([, t]) => t.dataType === 1 && t.dims.length > 0);
      // (vectors are the biases and norms: the BiLSTM's lstm.fw.b and lstm.bw.b were decayed)
      const decayed = params.filter(([name]) => !defaultNoDecay(name)).map(([name, t]) => `${name} [${t.dims.join(', ')}]`);
      expect(
        decayed.filter((d) => !d.includes(', ')),
        student.description,
      ).toEqual([]);
      expect(params.filter(([name, t]) => t.dims.length === 2 && defaultNoDecay(name)).map(([name]) => name)).toEqual([]);
    }
  });

  it('takes a custom noDecay and hyperparameters', () => {
    const params = new Map([['a.bias', Float32Array.of(1)]]);
    new AdamW(params, { lr: 0.5, weightDecay: 0.1, noDecay: () => false }).step(new Map([['a.bias', Float32Array.of(0)]]));
    expect(params.get('a.bias')![0]).toBeCloseTo(0.95, 7);
    expect(() => new AdamW(params, { lr: 0.1, betas: [0.9, 1] })).toThrow(RangeError);
    expect(() => new AdamW(params, { lr: -1 })).toThrow(/learning rate/);
  });

  it('refuses gradients of unknown parameters or of the wrong length', () => {
    const opt = new AdamW(new Map([['w', new Float32Array(4)]]), { lr: 0.1 });
    expect(() => opt.step(new Map([['v', new Float32Array(4)]]))).toThrow(/'v' is not a parameter/);
    expect(() => opt.step(new Map([['w', new Float32Array(3)]]))).toThrow(/3 values; the parameter has 4/);
  });

  it('sparse steps with every row touched equal dense steps bit for bit', () => {
    const rows = 6;
    const width = 5;
    const dense = new Map([['emb.weight', randomArray(rows * width, 1)]]);
    const sparse = new Map([['emb.weight', Float32Array.from(dense.get('emb.weight')!)]]);
    const a = new AdamW(dense, { lr: 0.01 });
    const b = new AdamW(sparse, { lr: 0.01 });
    for (let s = 0; s < 5; s++) {
      const g = randomArray(rows * width, 100 + s);
      a.step(new Map([['emb.weight', g]]), 0.01 * (s + 1));
      // Rows in a scrambled order, their gradient rows permuted alike.
      const order = [3, 0, 5, 1, 4, 2];
      const rowGrads = new Float32Array(rows * width);
      order.forEach((row, r) => rowGrads.set(g.subarray(row * width, (row + 1) * width), r * width));
      b.stepSparse('emb.weight', Int32Array.from(order), rowGrads, width, 0.01 * (s + 1));
    }
    expect(bitIdentical(sparse.get('emb.weight')!, dense.get('emb.weight')!)).toBe(true);
    expect(bitIdentical(b.state().expAvg.get('emb.weight')!, a.state().expAvg.get('emb.weight')!)).toBe(true);
    expect(bitIdentical(b.state().expAvgSq.get('emb.weight')!, a.state().expAvgSq.get('emb.weight')!)).toBe(true);
  });

  it('sparse steps move only the touched rows (lazy: no decay, no moment decay elsewhere)', () => {
    const width = 3;
    const table = randomArray(4 * width, 2);
    const before = Float32Array.from(table);
    const opt = new AdamW(new Map([['emb', table]]), { lr: 0.1 });
    opt.stepSparse('emb', [2], Float32Array.of(1, 1, 1), width);
    const m = Float32Array.from(opt.state().expAvg.get('emb')!);
    opt.stepSparse('emb', [0], Float32Array.of(1, 1, 1), width);
    // Rows 1 and 3 never move; row 2 keeps its step-1 value and moment while row 0 is stepped.
    for (const row of [1, 3])
      expect(Array.from(table.subarray(row * width, (row + 1) * width))).toEqual(Array.from(before.subarray(row * width, (row + 1) * width)));
    expect(
      Array.from(
        opt
          .state()
          .expAvg.get('emb')!
          .subarray(2 * width, 3 * width),
      ),
    ).toEqual(Array.from(m.subarray(2 * width, 3 * width)));
    expect(table[0]).not.toBe(before[0]);
    // Lazy Adam's bias correction uses the table's step count (2 here), as TF LazyAdam's global beta powers.
    expect(opt.state().steps.emb).toBe(2);
  });

  it("lrScale: a parameter with factor f steps, dense or sparse, exactly as with f × the schedule's lr (decay included)", () => {
    const width = 4;
    const scaled = new Map([
      ['emb', randomArray(3 * width, 4)],
      ['w', randomArray(6, 5)],
    ]);
    const plain = new Map([...scaled].map(([k, v]) => [k, Float32Array.from(v)] as const));
    const a = new AdamW(scaled, { lr: 0.01, lrScale: new Map([['emb', 30]]) });
    const b = new AdamW(plain, { lr: 0.01 });
    for (let s = 0; s < 3; s++) {
      const lr = 0.01 * (s + 1);
      const gw = randomArray(6, 50 + s);
      const ge = randomArray(2 * width, 60 + s);
      a.step(new Map([['w', gw]]), lr);
      a.stepSparse('emb', [0, 2], ge, width, lr);
      b.step(new Map([['w', gw]]), lr);
      b.stepSparse('emb', [0, 2], ge, width, lr * 30);
    }
    expect(bitIdentical(scaled.get('emb')!, plain.get('emb')!)).toBe(true);
    expect(bitIdentical(scaled.get('w')!, plain.get('w')!)).toBe(true);
    const dense = new Map([['emb', randomArray(8, 6)]]);
    const reference = new Map([['emb', Float32Array.from(dense.get('emb')!)]]);
    new AdamW(dense, { lr: 0.01, lrScale: new Map([['emb', 0.5]]) }).step(new Map([['emb', randomArray(8, 7)]]), 0.02);
    new AdamW(reference, { lr: 0.01 }).step(new Map([['emb', randomArray(8, 7)]]), 0.01);
    expect(bitIdentical(dense.get('emb')!, reference.get('emb')!)).toBe(true);
    expect(() => new AdamW(dense, { lr: 0.01, lrScale: new Map([['emb', 0]]) })).toThrow(/lr factor of 'emb'/);
  });

  it('refuses duplicate or out-of-range sparse rows and mismatched sizes', () => {
    const opt = new AdamW(new Map([['emb', new Float32Array(12)]]), { lr: 0.1 });
    expect(() => opt.stepSparse('emb', [1, 1], new Float32Array(6), 3)).toThrow(/given twice.*accumulateRows/);
    expect(() => opt.stepSparse('emb', [4], new Float32Array(3), 3)).toThrow(/outside \[0, 4\)/);
    expect(() => opt.stepSparse('emb', [1], new Float32Array(4), 3)).toThrow(/rowGrads/);
    expect(() => opt.stepSparse('emb', [1], new Float32Array(5), 5)).toThrow(/does not divide/);
  });

  it('resumes from state() exactly: load, then the same steps give the same parameters', () => {
    const init = randomArray(20, 3);
    const p1 = new Map([
      ['w', Float32Array.from(init)],
      ['b.bias', randomArray(4, 4)],
    ]);
    const a = new AdamW(p1, { lr: 0.01 });
    const grads = (s: number) =>
      new Map([
        ['w', randomArray(20, 10 + s)],
        ['b.bias', randomArray(4, 20 + s)],
      ]);
    for (let s = 0; s < 3; s++) a.step(grads(s));
    // A copy of the state as a checkpoint would hold it, loaded into a fresh optimizer over copied parameters.
    const st = a.state();
    const saved = {
      ...st,
      expAvg: new Map([...st.expAvg].map(([k, v]) => [k, Float32Array.from(v)])),
      expAvgSq: new Map([...st.expAvgSq].map(([k, v]) => [k, Float32Array.from(v)])),
    };
    const p2 = new Map([...p1].map(([k, v]) => [k, Float32Array.from(v)]));
    const b = new AdamW(p2, { lr: 0.01 });
    b.load(saved);
    for (let s = 3; s < 6; s++) {
      a.step(grads(s));
      b.step(grads(s));
    }
    for (const k of p1.keys()) expect(bitIdentical(p2.get(k)!, p1.get(k)!)).toBe(true);
    expect(() => new AdamW(new Map([['w', new Float32Array(3)]]), { lr: 0.1 }).load(saved)).toThrow(RangeError);
  });

  it('a parameter left out of a loaded state starts fresh, even one that had stepped before', () => {
    const grad = new Map([['b.bias', randomArray(4, 31)]]);
    const used = new Map([
      ['w', randomArray(6, 1)],
      ['b.bias', randomArray(4, 2)],
    ]);
    const fresh = new Map([...used].map(([k, v]) => [k, v.slice()]));
    const opt = new AdamW(used, { lr: 0.01 });
    opt.step(new Map([['w', randomArray(6, 30)], ...grad]));
    used.get('b.bias')!.set(fresh.get('b.bias')!);
    const wState = opt.state();
    opt.load({
      ...wState,
      steps: { w: wState.steps.w },
      expAvg: new Map([['w', wState.expAvg.get('w')!]]),
      expAvgSq: new Map([['w', wState.expAvgSq.get('w')!]]),
    });
    expect(opt.state().steps).toEqual({ w: 1 });
    opt.step(grad);
    new AdamW(fresh, { lr: 0.01 }).step(grad);
    expect(bitIdentical(used.get('b.bias')!, fresh.get('b.bias')!)).toBe(true);
    expect(opt.state().steps['b.bias']).toBe(1);
  });
});

describe('accumulateRows', () => {
  it('sums the gradient rows of repeated indices into sorted unique rows', () => {
    const indices = BigInt64Array.from([7n, 2n, 7n, 0n, 2n, 7n]);
    const rowGrads = Float32Array.from([1, 10, 2, 20, 3, 30, 4, 40, 5, 50, 6, 60]);
    const { rows, grads } = accumulateRows(indices, rowGrads, 2);
    expect(Array.from(rows)).toEqual([0, 2, 7]);
    expect(Array.from(grads)).toEqual([4, 40, 2 + 5, 20 + 50, 1 + 3 + 6, 10 + 30 + 60]);
    expect(accumulateRows(Int32Array.of(3), Float32Array.of(1.5), 1)).toEqual({ rows: Int32Array.of(3), grads: Float32Array.of(1.5) });
  });

  it('equals the dense scatter-add, and feeds stepSparse like a dense step', () => {
    const vocab = 9;
    const width = 4;
    const ids = Int32Array.from({ length: 40 }, (_, i) => (i * 7) % vocab);
    const rowGrads = randomArray(ids.length * width, 5);
    const denseGrad = new Float32Array(vocab * width);
    for (let i = 0; i < ids.length; i++) for (let c = 0; c < width; c++) denseGrad[ids[i]! * width + c]! += rowGrads[i * width + c]!;
    const acc = accumulateRows(ids, rowGrads, width);
    expect(acc.rows.length).toBe(vocab);
    for (let k = 0; k < acc.grads.length; k++) expect(acc.grads[k]).toBeCloseTo(denseGrad[k]!, 5);
    expect(globalNorm([], [acc])).toBeCloseTo(globalNorm([denseGrad]), 5);
  });

  it('sums a repeated row in float64, in the order the indices come, rounding once', () => {
    const ids = Int32Array.from({ length: 64 }, (_, i) => (i * 5) % 3);
    const rowGrads = randomArray(64 * 3, 8);
    const acc = accumulateRows(ids, rowGrads, 3);
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let i = 0; i < ids.length; i++) if (ids[i] === r) sum += rowGrads[i * 3 + c]!;
        expect(acc.grads[r * 3 + c]).toBe(Math.fround(sum));
      }
    }
  });

  it('writes into a workspace, reused while it is large enough and grown when not', () => {
    const ws: RowWorkspace = {};
    const a = accumulateRows(Int32Array.of(4, 1, 4), randomArray(3 * 2, 9), 2, ws);
    expect(a).toEqual(accumulateRows(Int32Array.of(4, 1, 4), randomArray(3 * 2, 9), 2));
    const buffer = ws.buffer!;
    expect(a.grads.buffer).toBe(buffer.buffer);
    const b = accumulateRows(Int32Array.of(0), Float32Array.of(1, 2), 2, ws);
    expect(ws.buffer).toBe(buffer);
    expect(Array.from(b.grads)).toEqual([1, 2]);
    accumulateRows(Int32Array.of(0, 1, 2), randomArray(6, 10), 2, ws);
    expect(ws.buffer!.length).toBe(6);
  });

  it('refuses negative ids and mismatched sizes', () => {
    expect(() => accumulateRows(BigInt64Array.of(-1n), new Float32Array(2), 2)).toThrow(/not a row id/);
    expect(() => accumulateRows(Int32Array.of(1, 2), new Float32Array(3), 2)).toThrow(/rowGrads/);
  });
});

describe('global norm clipping', () => {
  it('computes the norm over dense and sparse gradients together', () => {
    expect(globalNorm([Float32Array.of(3)], [{ rows: Int32Array.of(0), grads: Float32Array.of(4) }])).toBe(5);
    expect(globalNorm(new Map([['a', Float32Array.of(3, 4)]]))).toBe(5);
  });

  it('scales by maxNorm / (norm + 1e-6) when the norm is above maxNorm (torch clip_grad_norm_), touching nothing', () => {
    const a = Float32Array.of(3, 0);
    const rows = { rows: Int32Array.of(5), grads: Float32Array.of(4) };
    const { norm, scale } = clipFactor(new Map([['a', a]]), new Map([['emb', rows]]), 1);
    expect(norm).toBe(5);
    expect(scale).toBeCloseTo(1 / (5 + 1e-6), 12);
    expect(Array.from(a)).toEqual([3, 0]);
    expect(Array.from(rows.grads)).toEqual([4]);
  });

  it('gives 1 below the threshold, or when the norm is not finite', () => {
    expect(clipFactor([Float32Array.of(0.3, 0.4)], [], 1)).toEqual({ norm: expect.closeTo(0.5, 6), scale: 1 });
    expect(clipFactor([Float32Array.of(Infinity, 1)], [], 1)).toEqual({ norm: Infinity, scale: 1 });
    expect(clipFactor([Float32Array.of(Number.NaN)], [], 1).scale).toBe(1);
    expect(() => clipFactor([Float32Array.of(1)], [], 0)).toThrow(RangeError);
  });

  it('reads a generator of gradients once only', () => {
    const a = Float32Array.of(30, 40);
    function* gen() {
      yield a;
    }
    expect(clipFactor(gen(), [], 5).scale).toBeCloseTo(5 / (50 + 1e-6), 12);
  });

  it('sums squares over any length (the four partial sums and the tail)', () => {
    for (const n of [0, 1, 3, 4, 5, 1001]) {
      const a = randomArray(n, n + 1);
      let expected = 0;
      for (const x of a) expected += x * x;
      expect(sumOfSquares([a, Float32Array.of(2)])).toBeCloseTo(expected + 4, 10);
    }
  });

  it('a step with gradScale s equals a step on the gradients multiplied by s, dense and sparse', () => {
    const scaled = (g: Float32Array, s: number) => Float32Array.from(g, (x) => x * s);
    const g = randomArray(50, 11);
    const rowGrads = randomArray(6, 12);
    const run = (s: number, prescale: boolean) => {
      const params = new Map([
        ['w', randomArray(50, 13)],
        ['emb', randomArray(12, 14)],
      ]);
      const opt = new AdamW(params, { lr: 0.01 });
      for (let t = 0; t < 3; t++) {
        opt.step(new Map([['w', prescale ? scaled(g, s) : g]]), 0.01, prescale ? 1 : s);
        opt.stepSparse('emb', [0, 3], prescale ? scaled(rowGrads, s) : rowGrads, 3, 0.01, prescale ? 1 : s);
      }
      return [...params.values()].flatMap((v) => Array.from(v));
    };
    const a = run(0.25, false);
    const b = run(0.25, true);
    a.forEach((x, i) => expect(x).toBeCloseTo(b[i], 6));
    expect(run(1, false)).toEqual(run(1, true));
    expect(() => new AdamW(new Map([['w', g]]), { lr: 0.1 }).step(new Map([['w', g]]), 0.1, Number.NaN)).toThrow(/gradScale/);
  });
});
