import { describe, expect, it } from 'vitest';
import { matthewsCorrelation } from '../../../src/eval/metrics/matthews-correlation.ts';

describe('matthews_correlation', () => {
  it('replays its doc example', () => {
    expect(matthewsCorrelation([1, 1, 0, 0], [1, 0, 0, 0]).matthews_correlation).toBeCloseTo(0.5773502691896258, 15);
  });

  it('matches the binary formula (TP·TN − FP·FN)/sqrt(...) computed by hand', () => {
    // TP = 5, TN = 3, FP = 2, FN = 2: (15 − 4) / sqrt(7·7·5·5) = 11/35.
    const P = [0, 1, 1, 0, 1, 1, 0, 0, 1, 1, 1, 0];
    const R = [0, 1, 0, 0, 1, 1, 1, 0, 1, 0, 1, 1];
    expect(matthewsCorrelation(P, R).matthews_correlation).toBeCloseTo(11 / 35, 15);
  });

  it('handles three classes like sklearn (multiclass formula)', () => {
    // Reference from the multiclass formula evaluated in plain Python 3 on the confusion matrix:
    // c = 7, s = 10, p = [3, 3, 4], t = [3, 4, 3]: (70 − 33) / sqrt((100 − 34)(100 − 34)) = 37/66.
    const P = [0, 1, 2, 2, 1, 0, 2, 1, 0, 2];
    const R = [0, 1, 2, 1, 1, 0, 0, 1, 2, 2];
    expect(matthewsCorrelation(P, R).matthews_correlation).toBeCloseTo(37 / 66, 15);
  });

  it('is 1 for perfect and −1 for inverted binary predictions', () => {
    expect(matthewsCorrelation([0, 1, 0, 1], [0, 1, 0, 1]).matthews_correlation).toBe(1);
    expect(matthewsCorrelation([1, 0, 1, 0], [0, 1, 0, 1]).matthews_correlation).toBe(-1);
  });

  it('is 0 when every prediction is one class (zero denominator, as sklearn)', () => {
    expect(matthewsCorrelation([1, 1, 1, 1], [0, 1, 0, 1])).toEqual({ matthews_correlation: 0 });
  });
});
