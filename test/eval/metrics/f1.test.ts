import { describe, expect, it } from 'vitest';
import { f1 } from '../../../src/eval/metrics/f1.ts';

// Hand-computed: TP = 5, FP = 2, FN = 2, so F1 = 2·5 / (2·5 + 2 + 2) = 10/14 = 5/7.
const P = [0, 1, 1, 0, 1, 1, 0, 0, 1, 1, 1, 0];
const R = [0, 1, 0, 0, 1, 1, 1, 0, 1, 0, 1, 1];

describe('f1 (binary, positive class 1)', () => {
  it('replays its doc example', () => {
    expect(f1([1, 1, 0, 0], [1, 0, 1, 0])).toEqual({ f1: 0.5 });
  });
  it('is 2TP/(2TP+FP+FN)', () => {
    expect(f1(P, R).f1).toBeCloseTo(5 / 7, 15);
  });
  it('counts class 1 as positive, not class 0', () => {
    // Swapping the classes changes F1: TP = 3 (both 0), FP = 2, FN = 2 → 6/10.
    const flip = (a: number[]) => a.map((v) => 1 - v);
    expect(f1(flip(P), flip(R)).f1).toBeCloseTo(0.6, 15);
  });
  it('is 0 with no positive predictions or references (sklearn zero_division)', () => {
    expect(f1([0, 0, 0], [0, 0, 0])).toEqual({ f1: 0 });
  });
  it('is 1 for perfect predictions', () => {
    expect(f1([1, 0, 1], [1, 0, 1])).toEqual({ f1: 1 });
  });
});
