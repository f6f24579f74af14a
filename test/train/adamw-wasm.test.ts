/**
 * The WebAssembly SIMD AdamW kernel: the embedded binary is what adamw.wat compiles to, and it computes the same bits
 * as the TypeScript loop, dense and row-sparse, at every length (the groups of four and the tail the TypeScript loop
 * finishes), with clipping's factor, weight decay, lr factors, special values, and across a checkpoint.
 */
import { describe, expect, it } from 'vitest';
import { type Coefficients, type Moments, SCRATCH_VALUES, type UpdateKernel, updateKernel } from '../../src/train/adamw-kernel.ts';
import { AdamW, type AdamWOptions, clipFactor, scatterAddRows, squares } from '../../src/train/optimizer.ts';
import { bitIdentical, lcg } from '../helpers/feeds.ts';

function randomArray(n: number, seed: number, scale = 1): Float32Array {
  const r = lcg(seed);
  return Float32Array.from({ length: n }, () => scale * (2 * r() - 1));
}

const copy = (m: ReadonlyMap<string, Float32Array>) => new Map([...m].map(([k, v]) => [k, v.slice()]));

/** Runs `steps` on a copy of `params` with each kernel; returns both optimizers and parameter maps. */
function both(params: Map<string, Float32Array>, opts: Omit<AdamWOptions, 'kernel'>, steps: (opt: AdamW, s: number) => void, count = 4) {
  const run = (kernel: 'wasm' | 'js') => {
    const p = copy(params);
    const opt = new AdamW(p, { ...opts, kernel });
    expect(opt.kernelName).toBe(kernel);
    for (let s = 0; s < count; s++) steps(opt, s);
    return { p, opt };
  };
  return { wasm: run('wasm'), js: run('js') };
}

function expectSameBits(a: { p: ReadonlyMap<string, Float32Array>; opt: AdamW }, b: { p: ReadonlyMap<string, Float32Array>; opt: AdamW }): void {
  for (const [name, v] of b.p) expect(bitIdentical(a.p.get(name)!, v), name).toBe(true);
  const sa = a.opt.state();
  const sb = b.opt.state();
  expect(sa.steps).toEqual(sb.steps);
  for (const [name, v] of sb.expAvg) expect(bitIdentical(sa.expAvg.get(name)!, v), `m of ${name}`).toBe(true);
  for (const [name, v] of sb.expAvgSq) expect(bitIdentical(sa.expAvgSq.get(name)!, v), `v of ${name}`).toBe(true);
}

describe('AdamW WebAssembly kernel', () => {
  it('dense steps give the bits of the TypeScript loop at every length, with decay, gradScale and lr factors', () => {
    const lengths = [1, 3, 4, 5, 7, 8, 1001, 4096];
    const params = new Map(lengths.map((n, i) => [i % 2 ? `layer.${i}.weight` : `layer.${i}.bias`, randomArray(n, i + 1)]));
    const r = both(params, { lr: 0.01, weightDecay: 0.05, lrScale: new Map([['layer.3.weight', 30]]) }, (opt, s) =>
      opt.step(new Map([...params].map(([k, v], i) => [k, randomArray(v.length, 100 * s + i, 3)])), 0.01 / (s + 1), s % 2 ? 0.37 : 1),
    );
    expectSameBits(r.wasm, r.js);
    expect(bitIdentical(r.wasm.p.get('layer.7.weight')!, params.get('layer.7.weight')!)).toBe(false); // it moved
  });

  it('row-sparse steps give the same bits, rows in any order, widths with and without a tail', () => {
    for (const width of [4, 5, 6, 256]) {
      const rows = 9;
      const params = new Map([['emb', randomArray(rows * width, width)]]);
      const orders = [[3, 0, 8], [8, 1, 2, 7, 0], [4]];
      const r = both(params, { lr: 0.02 }, (opt, s) => {
        const order = orders[s % orders.length];
        opt.stepSparse('emb', order, randomArray(order.length * width, 7 * s + width, 2), width, 0.02, s === 2 ? 0.5 : 1);
      });
      expectSameBits(r.wasm, r.js);
    }
  });

  it('special values go through as the TypeScript loop writes them (±0, subnormals, infinities; NaN stays NaN)', () => {
    const p = Float32Array.of(0, -0, 1e-45, -1e-40, 3.4e38, 1, -1, 2);
    const g = Float32Array.of(-0, 0, 1e-45, 1e-38, 3e38, Infinity, -Infinity, Number.NaN);
    const r = both(new Map([['w', p]]), { lr: 0.1 }, (opt) => opt.step(new Map([['w', g]]), 0.1), 1);
    const a = r.wasm.p.get('w')!;
    const b = r.js.p.get('w')!;
    for (let i = 0; i < a.length; i++) {
      if (Number.isNaN(b[i])) expect(a[i]).toBeNaN();
      else expect(Object.is(a[i], b[i]), `value ${i}: ${a[i]} vs ${b[i]}`).toBe(true);
    }
  });

  it('a checkpoint of one kernel resumes in the other with the same bits', () => {
    const params = new Map([
      ['w', randomArray(37, 1)],
      ['emb', randomArray(10 * 8, 2)],
    ]);
    const grads = (s: number) => new Map([['w', randomArray(37, 50 + s)]]);
    const first = new AdamW(copy(params), { lr: 0.01, kernel: 'wasm' });
    for (let s = 0; s < 3; s++) {
      first.step(grads(s));
      first.stepSparse('emb', [1, 5], randomArray(16, 70 + s), 8);
    }
    const state = first.state();
    const saved = { ...state, expAvg: copy(state.expAvg), expAvgSq: copy(state.expAvgSq) };
    const resumed = new Map<string, Map<string, Float32Array>>();
    for (const kernel of ['wasm', 'js'] as const) {
      const p = copy(params);
      const opt = new AdamW(p, { lr: 0.01, kernel });
      opt.load(saved);
      for (let s = 3; s < 5; s++) {
        opt.step(grads(s));
        opt.stepSparse('emb', [5, 9], randomArray(16, 70 + s), 8);
      }
      resumed.set(kernel, p);
    }
    for (const name of params.keys()) expect(bitIdentical(resumed.get('wasm')!.get(name)!, resumed.get('js')!.get(name)!)).toBe(true);
    // Loading an optimizer's own live state into itself keeps it (the moments are copied before the slots reset).
    first.load(first.state());
    expect(bitIdentical(first.state().expAvg.get('w')!, saved.expAvg.get('w')!)).toBe(true);
  });

  it('hosted parameters and gradients (updated in place in the kernel memory) get the bits of the copying path', () => {
    const params = new Map([
      ['layer.0.weight', randomArray(1001, 1)],
      ['layer.0.bias', randomArray(7, 2)],
      ['emb', randomArray(9 * 6, 3)],
    ]);
    const given = copy(params);
    const hosted = new AdamW(given, { lr: 0.01, weightDecay: 0.05, host: { gradients: ['layer.0.weight', 'layer.0.bias'] } });
    const plain = new AdamW(copy(params), { lr: 0.01, weightDecay: 0.05, kernel: 'js' });
    const views = hosted.parameters;
    expect([...views.keys()]).toEqual([...params.keys()]);
    for (const [name, v] of views) {
      expect(v).not.toBe(given.get(name)); // a copy in the kernel's memory
      expect(bitIdentical(v, params.get(name)!)).toBe(true);
    }
    const gw = hosted.gradientBuffer('layer.0.weight');
    expect(gw.buffer).toBe(views.get('layer.0.weight')!.buffer);
    expect(gw.byteOffset % 64).toBe(0);
    for (let s = 0; s < 4; s++) {
      const g = new Map([...params].filter(([k]) => k !== 'emb').map(([k, v], i) => [k, randomArray(v.length, 10 * s + i, 3)]));
      const into = new Map([...g].map(([k, v]) => [k, hosted.gradientBuffer(k)] as const));
      for (const [k, v] of g) into.get(k)!.set(v); // as onnxruntime writes a step's gradients
      hosted.step(into, 0.01, s % 2 ? 0.5 : 1);
      plain.step(g, 0.01, s % 2 ? 0.5 : 1);
      const rows = s % 2 ? [8, 0, 3] : [4];
      const rowGrads = randomArray(rows.length * 6, 99 + s);
      hosted.stepSparse('emb', rows, rowGrads, 6);
      plain.stepSparse('emb', rows, rowGrads, 6);
    }
    expectSameBits({ p: views, opt: hosted }, { p: plain.parameters, opt: plain });
    for (const [name, v] of given) expect(bitIdentical(v, params.get(name)!), `${name} given, left as it was`).toBe(true);
    // The js kernel hosts nothing: the given arrays are trained, gradient buffers are plain arrays kept for reuse.
    const js = new AdamW(given, { lr: 0.01, kernel: 'js', host: { gradients: ['layer.0.bias'] } });
    expect(js.parameters.get('emb')).toBe(given.get('emb'));
    expect(js.gradientBuffer('layer.0.bias')).toBe(js.gradientBuffer('layer.0.bias'));
    expect(() => new AdamW(given, { lr: 0.01, host: { gradients: ['nope'] } })).toThrow(/'nope' is not a parameter/);
  });

  it('arrays kept outside its memory go through scratch areas a piece at a time, with the bits of the TypeScript loop', () => {
    // scratch areas of 8 values: dense arrays and table rows longer than them (in pieces), rows of which two fit
    // (copied together), tails; the parameter hosted or not
    const k: Coefficients = { beta1: 0.9, beta2: 0.999, decay: 0.999, stepSize: 0.01, epsHat: 1e-8, gradScale: 0.7 };
    /** Runs `steps` on a parameter of `n` values (the same start) with each kernel; expects the same bits. */
    const sameBits = (n: number, hostP: boolean, what: string, steps: (kernel: UpdateKernel, p: Float32Array, mo: Moments) => void) => {
      const start = randomArray(n, n);
      const run = (kernel: UpdateKernel) => {
        const mo = kernel.moments(n);
        const p = hostP && kernel.name === 'wasm' ? kernel.host(n)! : new Float32Array(n);
        p.set(start);
        steps(kernel, p, mo);
        return { p, mo };
      };
      const a = run(updateKernel('wasm', [n], hostP ? n + 16 : 0, 8));
      const b = run(updateKernel('js', [n]));
      expect(bitIdentical(a.p, b.p), `${what}, hosted ${hostP}`).toBe(true);
      expect(bitIdentical(a.mo.m, b.mo.m) && bitIdentical(a.mo.v, b.mo.v), `moments of ${what}`).toBe(true);
    };
    for (const n of [1, 3, 4, 7, 8, 9, 12, 16, 17, 35, 100]) {
      for (const hostP of [false, true]) {
        sameBits(n, hostP, `dense ${n}`, (kernel, p, mo) => {
          for (let s = 0; s < 3; s++) kernel.dense(p, mo, randomArray(n, 10 * n + s, 2), k);
        });
      }
    }
    for (const width of [4, 5, 6, 8, 12, 13, 40]) {
      for (const hostP of [false, true]) {
        sameBits(7 * width, hostP, `rows of width ${width}`, (kernel, p, mo) => {
          for (const order of [[3, 0, 6], [6, 1, 2, 5, 0], [4]]) {
            kernel.rows(p, mo, order, randomArray(order.length * width, 3 * width + order.length, 2), width, k);
          }
        });
      }
    }
  });

  it("clipping's sum of squares of a hosted array, summed in the kernel, has the bits of the TypeScript loop", () => {
    const lengths = [0, 1, 3, 4, 5, 7, 8, 1001, 4096, 100_003];
    const params = new Map(lengths.map((n, i) => [`p${i}`, new Float32Array(n)]));
    const opt = new AdamW(params, { lr: 0.01, host: { gradients: [...params.keys()] } });
    const r = lcg(5);
    for (const [i, name] of [...params.keys()].entries()) {
      const g = opt.gradientBuffer(name);
      // magnitudes from 1e-30 to 1e15: the float64 sums round, so a value summed in another order shows in the bits
      for (let j = 0; j < g.length; j++) g[j] = (2 * r() - 1) * 10 ** Math.floor(45 * r() - 30);
      const inKernel = opt.squares(g);
      expect(Object.is(inKernel, squares(g.slice())), `length ${lengths[i]}`).toBe(true);
    }
    // the kernel sums the arrays in its memory only; the others (a sparse table's gathered rows) in TypeScript
    const kernel = updateKernel('wasm', [8], 8);
    const hosted = kernel.host(8)!;
    hosted.set([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(kernel.squares(hosted)).toBe(204);
    expect(kernel.squares(hosted.slice())).toBeUndefined();
    expect(updateKernel('js', [8]).squares(Float32Array.of(3))).toBeUndefined();
    // special values: ±0, subnormals, the float32 maximum (its square overflows nothing in float64), infinities, NaN
    const special = opt.gradientBuffer('p6');
    special.set([-0, 1e-45, -1e-40, 3.4e38, -3.4e38, 1, 2, 3]);
    expect(Object.is(opt.squares(special), squares(special.slice()))).toBe(true);
    special[5] = Infinity;
    expect(opt.squares(special)).toBe(Infinity);
    special[6] = Number.NaN;
    expect(opt.squares(special)).toBeNaN();
    // clipFactor with the kernel's sums: the norm and scale of the TypeScript loop
    const dense = new Map([...params.keys()].filter((k) => k !== 'p6').map((k) => [k, opt.gradientBuffer(k)] as const));
    const rows = [{ rows: Int32Array.of(0, 2), grads: randomArray(10, 3) }];
    expect(clipFactor(dense, rows, 1, (a) => opt.squares(a))).toEqual(clipFactor(new Map([...dense].map(([k, v]) => [k, v.slice()])), rows, 1));
  });

  it("a small table's gradient summed from its gathered rows in the kernel has the bits of scatterAddRows", () => {
    for (const width of [1, 3, 4, 5, 256]) {
      for (const scratch of [8, SCRATCH_VALUES]) {
        const rows = 5;
        // a hosted gradient buffer (the trainer's token-type table's), rows more than a scratch area holds
        const kernel = updateKernel('wasm', [rows * width], rows * width + 64, scratch);
        const target = kernel.host(rows * width)!;
        const start = randomArray(rows * width, width);
        target.set(start);
        const ids = [0, 4, 4, 1, 0, 0, 3, 2, 4, 1, 0];
        const rowGrads = randomArray(ids.length * width, 3 * width, 1e3);
        const done = kernel.scatterAdd(target, BigInt64Array.from(ids, BigInt), rowGrads, width);
        expect(done).toBe(width <= scratch);
        if (!done) continue;
        const want = start.slice();
        scatterAddRows(want, Int32Array.from(ids), rowGrads, width);
        expect(bitIdentical(target, want), `width ${width}, scratch ${scratch}`).toBe(true);
        // an index outside the table is refused as scatterAddRows refuses it, before any row is added
        const before = target.slice();
        expect(() => kernel.scatterAdd(target, Int32Array.of(1, rows), randomArray(2 * width, 1), width)).toThrow(
          `index ${rows} at position 1 is outside [0, ${rows})`,
        );
        expect(bitIdentical(target, before)).toBe(true);
      }
    }
    // not in its memory, or the js kernel: nothing done (the optimizer then runs the TypeScript loop)
    const kernel = updateKernel('wasm', [8], 8);
    expect(kernel.scatterAdd(new Float32Array(8), Int32Array.of(0), new Float32Array(4), 4)).toBe(false);
    expect(updateKernel('js', [8]).scatterAdd(new Float32Array(8), Int32Array.of(0), new Float32Array(4), 4)).toBe(false);
    // AdamW's scatterAddRows: hosted or not, the same bits
    const opt = new AdamW(new Map([['types', new Float32Array(2 * 6)]]), { lr: 0.01, host: { gradients: ['types'] } });
    const g = opt.gradientBuffer('types');
    const ids = BigInt64Array.from([0, 1, 1, 0, 1], BigInt);
    const rowGrads = randomArray(5 * 6, 9);
    opt.scatterAddRows(g, ids, rowGrads, 6);
    const plain = new Float32Array(12);
    opt.scatterAddRows(plain, ids, rowGrads, 6);
    expect(bitIdentical(g, plain)).toBe(true);
  });

  it('its scratch areas are of a bounded size, not that of the largest parameter', () => {
    // an 8M-value table (an embedding table's size): its moments, and two scratch areas of SCRATCH_VALUES at most,
    // where each area was the table's size (its weights twice more)
    const n = 8_000_000;
    const kernel = updateKernel('wasm', [n, 1000]);
    expect(kernel.name).toBe('wasm');
    const bytes = kernel.moments(n).m.buffer.byteLength;
    expect(bytes).toBeLessThanOrEqual(4 * (2 * n + 2 * 1000 + 2 * SCRATCH_VALUES) + 65536);
    expect(SCRATCH_VALUES).toBeLessThan(n / 16);
  });

  it('falls back to the TypeScript loop when the moments would not fit in WebAssembly memory', () => {
    expect(updateKernel('wasm', [2 ** 30]).name).toBe('js');
    expect(updateKernel('wasm', [1000]).name).toBe('wasm');
    expect(updateKernel('js', [1000]).name).toBe('js');
    // room to host that does not fit: the kernel stays wasm and hosts nothing
    const k = updateKernel('wasm', [1000], 2 ** 31);
    expect(k.name).toBe('wasm');
    expect(k.host(10)).toBeUndefined();
    expect(updateKernel('wasm', [1000], 1024).host(1000)).toBeInstanceOf(Float32Array);
  });
});
