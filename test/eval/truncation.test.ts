import { describe, expect, it } from 'vitest';
import { longestFirstLengths, truncateLongestFirst } from '../../src/eval/truncation.ts';

describe('longest-first truncation (tokenizers TruncationStrategy::LongestFirst)', () => {
  it('keeps pairs that fit', () => {
    expect(longestFirstLengths(3, 4, 10)).toEqual([3, 4]);
  });
  it('cuts only the longer sequence when the shorter fits in half', () => {
    expect(longestFirstLengths(3, 20, 10)).toEqual([3, 7]);
    expect(longestFirstLengths(20, 3, 10)).toEqual([7, 3]);
  });
  it('halves the budget when both are long, the longer taking the odd token', () => {
    expect(longestFirstLengths(30, 20, 11)).toEqual([6, 5]);
    expect(longestFirstLengths(20, 30, 11)).toEqual([5, 6]);
    expect(longestFirstLengths(8, 8, 10)).toEqual([5, 5]);
  });
  it('truncates from the end', () => {
    expect(truncateLongestFirst(['a', 'b', 'c'], null, 2)).toEqual([['a', 'b'], null]);
    expect(truncateLongestFirst([1, 2, 3, 4], [5, 6], 4)).toEqual([
      [1, 2],
      [5, 6],
    ]);
  });
});
