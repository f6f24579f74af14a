/**
 * 4-bit MatMulNBits blocks: the packing checked against a hand-computed example, symmetric and asymmetric, padding
 * of a last partial block, and onnxruntime's MatMulNBits computing x · dequantized(W) on what we pack.
 */
import { describe, expect, it } from 'vitest';
import { lcg } from '../helpers/feeds.ts';
import { createModel, DataType, encodeModel, float32Tensor, uint8Tensor } from '../../src/onnx/index.ts';
import { openSession, Tensor } from '../../src/runtime/session.ts';
import { dequantizeInt4Blocks, int4WeightBytes, nibble, packNibbles, quantizeInt4Blocks } from '../../src/quantize/index.ts';

/** Uniform values in [-1, 1). */
const rand = (seed: number) => {
  const next = lcg(seed);
  return () => next() * 2 - 1;
};

describe('int4 blocks', () => {
  it('packs two codes per byte, low nibble first', () => {
    expect(Array.from(packNibbles([1, 2, 3, 4, 15]))).toEqual([0x21, 0x43, 0x0f]);
    expect(nibble(Uint8Array.of(0x21, 0x43), 3)).toBe(4);
  });

  it('matches a hand-computed symmetric example', () => {
    // K = 16, N = 1, one block of 16: w_k = (k - 8) / 2, so the largest magnitude is w_0 = -4: scale = -4 / -8 = 0.5
    // and code = round(w / 0.5) + 8 = k. Codes 0..15 pack as 0x10, 0x32, …, 0xfe.
    const w = Float32Array.from({ length: 16 }, (_, k) => (k - 8) / 2);
    const q = quantizeInt4Blocks(w, 16, 1, 16, true);
    expect(q.kBlocks).toBe(1);
    expect(Array.from(q.scales)).toEqual([0.5]);
    expect(Array.from(q.packed)).toEqual([0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe]);
    expect(q.zeroPoints).toBeUndefined();
    expect(q.maxAbsError).toBe(0);
    expect(Array.from(dequantizeInt4Blocks(q))).toEqual(Array.from(w));
  });

  it('matches a hand-computed asymmetric example with packed zero points and a padded last block', () => {
    // K = 20, N = 2, block 16: two blocks per column, the second has 4 weights (12 padded with code 0, as
    // onnxruntime's quantizer leaves them).
    // Column 0: block 0 spans [0, 1.5] (w_k = k / 10): scale 0.1, zero point 0, codes k; block 1 = w_16..19 = 1.6..1.9
    // spans [0, 1.9]: scale 1.9 / 15, zero point 0.
    // Column 1: all -0.3: block range [-0.3, 0]: scale 0.02, zero point 15, codes 0.
    const K = 20,
      N = 2;
    const w = new Float32Array(K * N);
    for (let k = 0; k < K; k++) {
      w[k * N] = k / 10;
      w[k * N + 1] = -0.3;
    }
    const q = quantizeInt4Blocks(w, K, N, 16, false);
    expect(q.kBlocks).toBe(2);
    expect(q.packed.length).toBe(N * 2 * 8);
    expect(Array.from(q.packed.subarray(0, 8))).toEqual([0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe]);
    const s1 = Math.fround(Math.fround(1.9) / 15);
    const c = (x: number) => Math.round(x / s1);
    expect(Array.from(q.packed.subarray(8, 10))).toEqual([c(1.6) | (c(1.7) << 4), c(1.8) | (c(1.9) << 4)]);
    expect(Array.from(q.packed.subarray(10, 16))).toEqual([0, 0, 0, 0, 0, 0]);
    expect(Array.from(q.packed.subarray(16))).toEqual(new Array(16).fill(0));
    const s2 = Math.fround(Math.fround(0.3) / 15);
    expect(Array.from(q.scales)).toEqual([Math.fround(0.1), s1, s2, s2]);
    // zero points [N, ceil(2 / 2)]: column 0 → blocks (0, 0) = 0x00; column 1 → (15, 15) = 0xff.
    expect(Array.from(q.zeroPoints!)).toEqual([0x00, 0xff]);
    const back = dequantizeInt4Blocks(q);
    for (let i = 0; i < w.length; i++) expect(Math.abs(back[i] - w[i])).toBeLessThanOrEqual(q.maxAbsError + 1e-7);
    expect(q.maxAbsError).toBeLessThan(s1 / 2 + 1e-6);
    expect(int4WeightBytes(K, N, 16, false)).toBe(q.packed.length + 4 * q.scales.length + q.zeroPoints!.length);
  });

  it("gives onnxruntime's codes, scales and zero points (MatMul4BitsQuantizer: MLAS's BlockwiseQuantizer, float32, roundf)", () => {
    // K = 16, one block per column. The expected values are numpy's, from q4_dq.cpp's quantizeAndTranspose with
    // range2scale / range2scalezp ported to numpy in float32. Symmetric: a block of the L2H256 teacher's word table
    // whose w · (1 / scale) + 8 is 12.5 in float32 (12.4999… as w / scale + 8 in float64: code 13, not 12); a block
    // whose max and min are of one magnitude (the min's sign sets the scale: 1 / 8, where the first of them, 1, gave
    // -1 / 8); an all-zero block (scale -0, as -0 / 8). Asymmetric: a teacher block whose width max - min is rounded
    // to float32 before it is divided by 15 (scale 0.0057535786…, where 0.0057535790… was), and an all-zero block
    // (scale 0); a column's one block leaves the high nibble of its zero point byte 8.
    const teacherSym = [
      -0.025289269164204597, 0.030601730570197105, -0.03428345173597336, -0.01892944797873497, -0.010402461513876915, 0.019242137670516968,
      -0.005630555097013712, 0.017211025580763817, -0.004573444370180368, -0.0038481331430375576, 0.031833332031965256, -0.014977163635194302,
      0.022925907745957375, -0.025882359594106674, -0.031641870737075806, -0.04075717180967331,
    ];
    const tie = [1, -0.5, -1, 0.25, ...new Array(12).fill(0)];
    const zero = new Array(16).fill(0);
    const teacherAsym = [
      0.015216375701129436, -0.03767857328057289, 0.031610533595085144, 0.020137526094913483, -0.018305229023098946, 0.014784920029342175,
      -0.0029368316754698753, 0.003570847911760211, -0.014666692353785038, 0.010668377391994, 0.015361969359219074, -0.0009074814734049141,
      0.019734326750040054, -0.0036543370224535465, -0.05469315126538277, 0.020236806944012642,
    ];
    /** [16, columns] row-major from columns. */
    const matrix = (columns: number[][]) =>
      Float32Array.from({ length: 16 * columns.length }, (_, i) => columns[i % columns.length]![Math.floor(i / columns.length)]!);
    const codes = (q: ReturnType<typeof quantizeInt4Blocks>) =>
      Array.from({ length: q.N }, (_, n) => Array.from({ length: 16 }, (_, k) => nibble(q.packed.subarray(n * 8, n * 8 + 8), k)));
    const sym = quantizeInt4Blocks(matrix([teacherSym, tie, zero]), 16, 3, 16, true);
    expect(codes(sym)).toEqual([
      [3, 14, 1, 4, 6, 12, 7, 11, 7, 7, 14, 5, 13, 3, 2, 0],
      [15, 4, 0, 10, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8],
      new Array(16).fill(8),
    ]);
    expect(Array.from(sym.scales)).toEqual([0.005094646476209164, 0.125, -0]);
    expect(Object.is(sym.scales[2], -0)).toBe(true);
    const asym = quantizeInt4Blocks(matrix([teacherAsym, zero]), 16, 2, 16, false);
    expect(codes(asym)).toEqual([[13, 3, 15, 14, 7, 13, 9, 11, 7, 12, 13, 10, 13, 9, 0, 14], new Array(16).fill(0)]);
    expect(Array.from(asym.scales)).toEqual([0.005753578618168831, 0]);
    expect(Array.from(asym.zeroPoints!)).toEqual([10 | (8 << 4), 0 | (8 << 4)]);
  });

  it.each([
    [64, 24, 16, true],
    [64, 24, 32, false],
    [80, 7, 32, true],
    [48, 5, 16, false],
  ])('onnxruntime MatMulNBits computes x · dequantized W (K %i, N %i, block %i, symmetric %s)', async (K, N, B, symmetric) => {
    const r = rand(K * N + B);
    const w = Float32Array.from({ length: K * N }, r);
    const q = quantizeInt4Blocks(w, K, N, B, symmetric);
    const M = 3;
    const x = Float32Array.from({ length: M * K }, r);
    const inits = [uint8Tensor('B', [N, q.kBlocks, B / 2], q.packed), float32Tensor('S', [N, q.kBlocks], q.scales)];
    if (q.zeroPoints) inits.push(uint8Tensor('Z', [N, Math.ceil(q.kBlocks / 2)], q.zeroPoints));
    const model = createModel(
      {
        name: 'g',
        valueInfo: [],
        nodes: [
          {
            name: 'mm',
            opType: 'MatMulNBits',
            domain: 'com.microsoft',
            inputs: ['x', ...inits.map((t) => t.name)],
            outputs: ['y'],
            attributes: {
              K: { type: 'int', value: K },
              N: { type: 'int', value: N },
              bits: { type: 'int', value: 4 },
              block_size: { type: 'int', value: B },
            },
          },
        ],
        inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: [M, K] }],
        outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: [M, N] }],
        initializers: new Map(inits.map((t) => [t.name, t])),
      },
      [
        { domain: '', version: 14 },
        { domain: 'com.microsoft', version: 1 },
      ],
      { producerName: 'test' },
    );
    const session = await openSession(encodeModel(model));
    const y = (await session.run({ x: new Tensor('float32', x, [M, K]) })).y.data as Float32Array;
    const dq = dequantizeInt4Blocks(q);
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let want = 0;
        for (let k = 0; k < K; k++) want += x[i * K + k] * dq[k * N + j];
        expect(Math.abs(y[i * N + j] - want)).toBeLessThan(1e-4);
      }
    }
    await session.release();
  });
});
