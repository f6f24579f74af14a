/** Every message counts things one way (counted, src/errors.ts): the noun in the singular for one, else its plural. */
import { describe, expect, it } from 'vitest';
import { counted } from '../src/errors.ts';

describe('counted', () => {
  it('writes one in the singular and every other count, 0 included, in the plural', () => {
    expect(counted(1, 'point')).toBe('1 point');
    expect(counted(0, 'point')).toBe('0 points');
    expect(counted(2, 'failed run')).toBe('2 failed runs');
    expect(counted(1n, 'step')).toBe('1 step');
    expect(counted(3n, 'step')).toBe('3 steps');
  });

  it("takes a noun's own plural where it is not NOUNs", () => {
    expect(counted(1, 'batch', 'batches')).toBe('1 batch');
    expect(counted(4, 'batch', 'batches')).toBe('4 batches');
  });
});
