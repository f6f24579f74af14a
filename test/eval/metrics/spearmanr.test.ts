import { describe, expect, it } from 'vitest';
import { averageRanks, spearmanr } from '../../../src/eval/metrics/spearmanr.ts';

describe('spearmanr', () => {
  it('replays its doc example', () => {
    expect(spearmanr([1, 2, 2, 3], [1, 2, 3, 4]).spearmanr).toBeCloseTo(0.9486832980505138, 15);
  });

  it('gives tied values the average of their ranks', () => {
    expect(Array.from(averageRanks([2.5, 0.1, 3.3, 4.8, 1.2, 3.3, 0.0, 5.0]))).toEqual([4, 2, 5.5, 7, 3, 5.5, 1, 8]);
    expect(Array.from(averageRanks([7, 7, 7]))).toEqual([2, 2, 2]);
  });

  it('equals 1 − 6Σd²/(n(n²−1)) without ties (hand-computed: Σd² = 4, n = 5 → 0.8)', () => {
    expect(spearmanr([10, 20, 30, 40, 50], [1, 3, 2, 5, 4]).spearmanr).toBeCloseTo(0.8, 15);
  });

  it('with ties, equals Pearson of average ranks computed in plain Python 3', () => {
    // Ranks [4, 2, 5.5, 7, 3, 5.5, 1, 8] and [5, 1, 4, 7, 3, 6, 2, 8]; Python 3 Pearson of those: 0.9341484842923421.
    const x = [2.5, 0.1, 3.3, 4.8, 1.2, 3.3, 0.0, 5.0];
    const y = [3.0, 0.4, 2.9, 4.1, 2.2, 3.8, 0.6, 4.4];
    expect(spearmanr(x, y).spearmanr).toBeCloseTo(0.9341484842923421, 14);
  });

  it('depends only on order (monotone transforms do not change it)', () => {
    const x = [0.3, 1.7, 0.9, 2.2, 1.1];
    const y = [1, 4, 2, 5, 3];
    expect(
      spearmanr(
        x.map((v) => Math.exp(v)),
        y,
      ).spearmanr,
    ).toBeCloseTo(spearmanr(x, y).spearmanr, 15);
    expect(spearmanr(x, y).spearmanr).toBe(1);
  });
});
