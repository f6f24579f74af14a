/** nonFiniteValues: the one scan for NaN and ±Infinity that export, quantize and training refuse weights with. */
import { describe, expect, it } from 'vitest';
import { nonFiniteValues } from '../../src/onnx/tensor.ts';

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
