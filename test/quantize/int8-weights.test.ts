/** Symmetric int8 weights: scales per tensor, channel and group, the error bound, and the edge cases. */
import { describe, expect, it } from 'vitest';
import { lcg } from '../helpers/feeds.ts';
import { dequantizeInt8, quantizeInt8, int8WeightBytes } from '../../src/quantize/index.ts';

/** Uniform values in [-1, 1). */
const rand = (seed: number) => {
  const next = lcg(seed);
  return () => next() * 2 - 1;
};

describe('int8 weights', () => {
  it('quantizes a hand-made matrix per column', () => {
    // [2, 3]; column maxima 127·2⁻⁷, 127·2⁻⁹ and 0, so the scales are 2⁻⁷, 2⁻⁹ exactly (an all-zero column gets
    // scale 1 and stays 0).
    const w = Float32Array.of(127 / 128, -127 / 512, 0, -64 / 128, 64 / 512, 0);
    const q = quantizeInt8(w, 2, 3, 1, { kind: 'channel' });
    expect(Array.from(q.scales)).toEqual([1 / 128, 1 / 512, 1]);
    expect(q.maxAbsError).toBe(0);
    expect(Array.from(q.values)).toEqual([127, -127, 0, -64, 64, 0]);
    expect(q.scaleCount).toBe(3);
  });

  it("gives onnxruntime's codes and scales (quantize_data: numpy.round of the float32 quotient)", () => {
    // [2, 4], a channel per column: row 0 the channel's largest magnitude, row 1 a weight of the L2H256 teacher's
    // word table whose float32 quotient w / s is a half (-36.5, -63.5, 8.5; in float64 -36.5000012, -63.4999999, 8.5),
    // and a channel below float32's smallest normal scale. The expected values are numpy's, from quant_utils.py's
    // quantize_data (compute_scale_zp, quantize_nparray) ported to numpy: halves go to the even code, and a scale
    // 1e-37 / 127, below 2^-126, is 1.
    const w = Float32Array.of(
      0.10703017562627792,
      0.11825049668550491,
      0.11324417591094971,
      1e-37,
      -0.030760642141103745,
      -0.05912524834275246,
      0.007579334545880556,
      -5e-38,
    );
    const q = quantizeInt8(w, 2, 4, 1, { kind: 'channel' });
    expect(Array.from(q.values)).toEqual([127, 127, 127, 0, -36, -64, 8, 0]);
    expect(Array.from(q.scales)).toEqual([0.0008427572902292013, 0.0009311062749475241, 0.0008916864171624184, 1]);
  });

  it('bounds the error by half a step of each channel', () => {
    const r = rand(5);
    const w = Float32Array.from({ length: 48 * 20 }, () => r() * (1 + r()));
    for (const g of [{ kind: 'tensor' } as const, { kind: 'channel' } as const, { kind: 'group', size: 5 } as const]) {
      const q = quantizeInt8(w, 48, 20, 1, g);
      const back = dequantizeInt8(q);
      for (let i = 0; i < w.length; i++) {
        const s = q.scales.length === 1 ? q.scales[0] : q.scales[i % 20];
        expect(Math.abs(back[i] - w[i])).toBeLessThanOrEqual(s / 2 + 1e-7);
      }
      expect(q.maxAbsError).toBeLessThanOrEqual(Math.max(...q.scales) / 2 + 1e-7);
    }
  });

  it('shares one scale per group of channels, and per tensor', () => {
    const r = rand(9);
    const w = Float32Array.from({ length: 8 * 6 }, r);
    const grouped = quantizeInt8(w, 8, 6, 1, { kind: 'group', size: 3 });
    expect(grouped.scaleCount).toBe(2);
    expect(new Set(grouped.scales.slice(0, 3)).size).toBe(1);
    expect(new Set(grouped.scales.slice(3)).size).toBe(1);
    const perTensor = quantizeInt8(w, 8, 6, 1, { kind: 'tensor' });
    expect(perTensor.scales.length).toBe(1);
    expect(perTensor.scales[0]).toBe(Math.max(...grouped.scales));
    expect(() => quantizeInt8(w, 8, 6, 1, { kind: 'group', size: 4 })).toThrow(/does not divide/);
  });

  it('follows rows with axis 0 (embedding tables)', () => {
    const w = Float32Array.of(127 / 64, 0, 0, 127 / 1024);
    const q = quantizeInt8(w, 2, 2, 0, { kind: 'channel' });
    expect(Array.from(q.scales)).toEqual([1 / 64, 1 / 1024]);
    expect(Array.from(q.values)).toEqual([127, 0, 0, 127]);
  });

  it('counts bytes: values plus one float scale per channel', () => {
    expect(int8WeightBytes(256, 1024, { kind: 'channel' })).toBe(256 * 1024 + 4096);
    expect(int8WeightBytes(256, 1024, { kind: 'tensor' })).toBe(256 * 1024 + 4);
  });
});
