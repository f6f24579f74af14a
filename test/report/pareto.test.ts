import { describe, expect, it } from 'vitest';
import { dominates, paretoFront, paretoMask, paretoMaskBy, type Objective } from '../../src/report/pareto.ts';

interface P {
  name: string;
  bytes: number;
  score: number;
  group?: string;
}
const objectives: Objective<P>[] = [
  { value: (p) => p.bytes, direction: 'min' },
  { value: (p) => p.score, direction: 'max' },
];
const p = (name: string, bytes: number, score: number, group = 'g'): P => ({ name, bytes, score, group });

describe('Pareto fronts (smaller is better on bytes, larger on score)', () => {
  it('dominance needs no worse on both and better on one', () => {
    expect(dominates(p('a', 1, 5), p('b', 2, 4), objectives)).toBe(true);
    expect(dominates(p('a', 1, 5), p('b', 1, 4), objectives)).toBe(true);
    expect(dominates(p('a', 1, 5), p('b', 1, 5), objectives)).toBe(false);
    expect(dominates(p('a', 1, 4), p('b', 2, 5), objectives)).toBe(false);
  });

  it('marks the non-dominated points', () => {
    const items = [p('base', 45, 73.4), p('heads', 43, 72), p('int8', 11, 73.1), p('fact', 21, 70), p('combined', 6, 69)];
    expect(paretoMask(items, objectives)).toEqual([true, false, true, false, true]);
    expect(paretoFront(items, objectives).map((x) => x.name)).toEqual(['combined', 'int8', 'base']);
  });

  it('keeps ties on the front and drops a point that only ties on one axis', () => {
    const items = [p('a', 10, 5), p('b', 10, 5), p('c', 10, 4)];
    expect(paretoMask(items, objectives)).toEqual([true, true, false]);
  });

  it('a single point is its own front; no points give an empty front', () => {
    expect(paretoMask([p('a', 1, 1)], objectives)).toEqual([true]);
    expect(paretoFront([], objectives)).toEqual([]);
  });

  it('leaves points with a missing value (NaN) off the front without letting them dominate', () => {
    const items = [p('nan', 1, NaN), p('a', 5, 3), p('inf', Infinity, 9)];
    expect(paretoMask(items, objectives)).toEqual([false, true, false]);
  });

  it('computes fronts within groups (per model) independently', () => {
    const items = [p('a1', 10, 70, 'sst'), p('a2', 5, 60, 'sst'), p('b1', 10, 17, 'sts'), p('b2', 12, 16, 'sts')];
    expect(paretoMaskBy(items, (x) => x.group!, objectives)).toEqual([true, true, true, false]);
    // Pooled, the low STS-B scores would all be dominated by the SST-2 model.
    expect(paretoMask(items, objectives)).toEqual([true, true, false, false]);
  });
});
