/** nonFiniteValues: the one scan for NaN and ±Infinity that export, quantize and training refuse weights with; float32AllFinite, its quick yes. */
import { describe, expect, it } from 'vitest';
import { float32AllFinite, nonFiniteValues } from '../../src/onnx/tensor.ts';

describe('nonFiniteValues', () => {
  it('is undefined when every value is finite', () => {
    expect(nonFiniteValues(new Float32Array([0, -1.5, 3.4e38]))).toBeUndefined();
    expect(nonFiniteValues([])).toBeUndefined();
  });

  it('counts NaN and infinities, gives the first index and says whether one is infinite', () => {
    expect(nonFiniteValues(new Float32Array([1, Number.NaN, 2, Number.NaN]))).toEqual({ count: 2, first: 1, infinite: false });
    expect(nonFiniteValues([Number.NEGATIVE_INFINITY, 0, Number.NaN])).toEqual({ count: 2, first: 0, infinite: true });
  });
});

describe('float32AllFinite', () => {
  it('is true of finite values, the largest float32 ones many times over too (a float64 sum does not overflow)', () => {
    expect(float32AllFinite(new Float32Array([]))).toBe(true);
    expect(float32AllFinite(new Float32Array([0, -1.5, 3.4e38, -3.4e38, 1e-45]))).toBe(true);
    expect(float32AllFinite(new Float32Array(1001).fill(3.4e38))).toBe(true);
  });

  it('is false where one value is NaN or ±Infinity, at any place (each of the four sums, and the tail past them)', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      for (const at of [0, 1, 2, 3, 8, 9]) {
        const values = new Float32Array(10).fill(2);
        values[at] = bad;
        expect(float32AllFinite(values), `${bad} at ${at}`).toBe(false);
      }
    }
    // (+Infinity and −Infinity: NaN)
    expect(float32AllFinite(new Float32Array([Number.POSITIVE_INFINITY, 1, 1, 1, Number.NEGATIVE_INFINITY]))).toBe(false);
  });
});
