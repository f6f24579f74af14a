import { describe, expect, it } from 'vitest';
import { accuracy } from '../../../src/eval/metrics/accuracy.ts';

// Reference values computed by hand: 8 of the 12 predictions below equal their reference.
const P = [0, 1, 1, 0, 1, 1, 0, 0, 1, 1, 1, 0];
const R = [0, 1, 0, 0, 1, 1, 1, 0, 1, 0, 1, 1];

describe('accuracy', () => {
  it('replays its doc example', () => {
    expect(accuracy([0, 1, 1, 0], [0, 1, 0, 0])).toEqual({ accuracy: 0.75 });
  });
  it('is the fraction of matches (8/12)', () => {
    expect(accuracy(P, R).accuracy).toBeCloseTo(8 / 12, 15);
  });
  it('works on class indices of more than two classes', () => {
    expect(accuracy([0, 1, 2, 2], [0, 2, 2, 1])).toEqual({ accuracy: 0.5 });
  });
  it('refuses arrays of different length or empty input', () => {
    expect(() => accuracy([0, 1], [0])).toThrow(RangeError);
    expect(() => accuracy([], [])).toThrow(/empty/);
  });
});
