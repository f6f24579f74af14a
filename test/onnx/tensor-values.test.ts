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

  it('with negativeInfinity (attention scores a mask fills with −Infinity), is true of finite values and −Infinity, false of NaN or +Infinity anywhere', () => {
    const masked = new Float32Array(10).fill(2);
    masked[1] = Number.NEGATIVE_INFINITY;
    masked[9] = Number.NEGATIVE_INFINITY;
    expect(float32AllFinite(masked, true)).toBe(true);
    expect(float32AllFinite(masked)).toBe(false);
    expect(float32AllFinite(new Float32Array(10).fill(-3.4e38), true)).toBe(true);
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
      for (const at of [0, 1, 2, 3, 8, 9]) {
        // (beside −Infinity in the same sum and in another: NaN, +Infinity or NaN)
        const values = new Float32Array(10).fill(2);
        values[at === 0 ? 4 : 0] = Number.NEGATIVE_INFINITY;
        values[at === 1 ? 5 : 1] = Number.NEGATIVE_INFINITY;
        values[at] = bad;
        expect(float32AllFinite(values, true), `${bad} at ${at}`).toBe(false);
        const alone = new Float32Array(10).fill(2);
        alone[at] = bad;
        expect(float32AllFinite(alone, true), `${bad} alone at ${at}`).toBe(false);
      }
    }
  });
});
