import { describe, expect, it } from 'vitest';
import { timedRounds } from '../../src/bench/run.ts';

describe('bench rounds', () => {
  it('alternates which side runs first (A B, B A, A B, B A), so neither side always runs first', async () => {
    const order: string[] = [];
    const session = (name: string) => ({ run: async () => (order.push(name), {}) });
    const { timesA, timesB } = await timedRounds(session('A'), {}, session('B'), {}, 4);
    expect(order).toEqual(['A', 'B', 'B', 'A', 'A', 'B', 'B', 'A']);
    expect(timesA).toHaveLength(4);
    expect(timesB).toHaveLength(4);
  });

  it('times the model alone without a baseline', async () => {
    const order: string[] = [];
    const { timesA, timesB } = await timedRounds({ run: async () => (order.push('A'), {}) }, {}, undefined, undefined, 3);
    expect(order).toEqual(['A', 'A', 'A']);
    expect([timesA.length, timesB.length]).toEqual([3, 0]);
  });

  it('stops after the first round that ends past its deadline (--max-time), and takes every round without one', async () => {
    const order: string[] = [];
    const session = (name: string) => ({ run: async () => (order.push(name), {}) });
    const past = await timedRounds(session('A'), {}, session('B'), {}, 1000, undefined, performance.now());
    expect(order).toEqual(['A', 'B']);
    expect([past.timesA.length, past.timesB.length]).toEqual([1, 1]);
    const far = await timedRounds(session('A'), {}, undefined, undefined, 5, undefined, Number.POSITIVE_INFINITY);
    expect(far.timesA).toHaveLength(5);
  });
});
