import { describe, expect, it } from 'vitest';
import { pearson } from '../../../src/eval/metrics/pearson.ts';

describe('pearson', () => {
  it('replays its doc example (hand-computed: Σdxdy = 4, Σdx² = Σdy² = 5)', () => {
    expect(pearson([1, 2, 3, 4], [1, 3, 2, 4]).pearson).toBeCloseTo(0.8, 15);
  });

  it('matches the textbook formula evaluated in plain Python 3', () => {
    // sum((x-mx)*(y-my)) / sqrt(sum((x-mx)**2) * sum((y-my)**2)) in Python 3 gives 0.9637978194654102.
    const x = [2.5, 0.1, 3.3, 4.8, 1.2, 3.3, 0.0, 5.0];
    const y = [3.0, 0.4, 2.9, 4.1, 2.2, 3.8, 0.6, 4.4];
    expect(pearson(x, y).pearson).toBeCloseTo(0.9637978194654102, 14);
  });

  it('is exactly ±1 for linear relations and invariant to shift and scale', () => {
    expect(pearson([1, 2, 3], [10, 20, 30]).pearson).toBe(1);
    expect(pearson([1, 2, 3], [3, 2, 1]).pearson).toBe(-1);
    expect(pearson([1e6 + 1, 1e6 + 2, 1e6 + 4], [1, 2, 4]).pearson).toBeCloseTo(1, 12);
  });

  it('is NaN for constant input, as scipy', () => {
    expect(pearson([2, 2, 2], [1, 2, 3]).pearson).toBeNaN();
  });

  it('is NaN for constant input whose mean rounds off the value (1500 × 0.1: a model scoring every STS-B pair alike)', () => {
    // scipy tells constant input by comparing the values, (x == x[0]).all(), not by the deviations from the mean
    const constant = new Array<number>(1500).fill(0.1);
    const references = Array.from({ length: 1500 }, (_, i) => ((i * 37) % 51) / 10);
    expect(constant.reduce((a, b) => a + b, 0) / 1500).not.toBe(0.1); // (what the old code tripped on)
    expect(pearson(constant, references).pearson).toBeNaN();
    expect(pearson(references, constant).pearson).toBeNaN();
  });
});
