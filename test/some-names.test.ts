/** Capped lists of names in messages: one rule (src/some-names.ts), 'a, b, c, d, … (3 more)'. */
import { describe, expect, it } from 'vitest';
import { someNames } from '../src/some-names.ts';

describe('someNames', () => {
  it("gives every name up to its max, else the first max and how many more, 'a, b, … (2 more)', with the separator given", () => {
    expect(someNames([], 2)).toBe('');
    expect(someNames(['a'], 2)).toBe('a');
    expect(someNames(['a', 'b'], 2)).toBe('a, b');
    expect(someNames(['a', 'b', 'c'], 2)).toBe('a, b, … (1 more)');
    expect(someNames(['a', 'b', 'c', 'd'], 2)).toBe('a, b, … (2 more)');
    expect(someNames(['a: x, y', 'b: z', 'c'], 2, '; ')).toBe('a: x, y; b: z; … (1 more)');
    expect(someNames(['a: x, y', 'b: z'], 2, '; ')).toBe('a: x, y; b: z');
  });
});
