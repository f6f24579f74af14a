import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/bert/random.ts';
import { dropoutMask, MaskBuffers } from '../../src/train/dropout.ts';
import { bitIdentical } from '../helpers/feeds.ts';
import { counterState, permutation, shuffledOrder, uniformIndex } from '../../src/train/random.ts';

describe('dropoutMask', () => {
  it('is a pure function of (seed, step, site)', () => {
    const a = dropoutMask(7, 12, 'layer.0.attention', 1000, 0.1);
    expect(dropoutMask(7, 12, 'layer.0.attention', 1000, 0.1)).toEqual(a);
    // Drawing other masks in between changes nothing: there is no hidden generator state.
    dropoutMask(7, 13, 'layer.1.ffn', 5000, 0.3);
    expect(dropoutMask(7, 12, 'layer.0.attention', 1000, 0.1)).toEqual(a);
    for (const other of [
      dropoutMask(8, 12, 'layer.0.attention', 1000, 0.1),
      dropoutMask(7, 13, 'layer.0.attention', 1000, 0.1),
      dropoutMask(7, 12, 'layer.0.ffn', 1000, 0.1),
    ]) {
      expect(other).not.toEqual(a);
    }
    // A longer mask starts with the shorter one (the stream is read in order).
    expect(dropoutMask(7, 12, 'layer.0.attention', 3000, 0.1).subarray(0, 1000)).toEqual(a);
  });

  it('MaskBuffers (the WebAssembly loop training uses) gives the bits of dropoutMask, in one memory grown as needed', () => {
    const buffers = new MaskBuffers();
    // Sizes of every remainder, a large one, the same site twice in a step and a step whose masks outgrow the memory.
    const steps: Array<Array<{ site: string; size: number }>> = [
      [
        { site: 'a', size: 1 },
        { site: 'b', size: 7 },
        { site: 'c', size: 1000 },
      ],
      [
        { site: 'c', size: 1000 },
        { site: 'd', size: 70_001 },
        { site: 'c', size: 3 },
      ],
      [{ site: 'e', size: 300_000 }],
      [{ site: 'a', size: 0 }],
    ];
    for (const p of [0.1, 0.5, 0.999]) {
      for (const [step, requests] of steps.entries()) {
        const views = buffers.fill(requests, 11, step, p);
        expect(views.map((v) => v.length)).toEqual(requests.map((r) => r.size));
        requests.forEach((r, i) => expect(bitIdentical(views[i]!, dropoutMask(11, step, r.site, r.size, p)), `${r.site} at p=${p}`).toBe(true));
        // All in the one memory, one after another (the views of a step do not overlap).
        expect(new Set(views.map((v) => v.buffer)).size).toBeLessThanOrEqual(1);
        views.slice(1).forEach((v, i) => expect(v.byteOffset).toBe(views[i]!.byteOffset + views[i]!.byteLength));
      }
    }
    // p = 0 and p = 1: every value kept (1) or dropped (0), as dropoutMask gives them.
    expect([...buffers.fill([{ site: 'a', size: 5 }], 1, 0, 0)[0]!]).toEqual([1, 1, 1, 1, 1]);
    expect([...buffers.fill([{ site: 'a', size: 5 }], 1, 0, 1)[0]!]).toEqual([0, 0, 0, 0, 0]);
    expect(() => buffers.fill([{ site: 'a', size: 5 }], 1, 0, 1.5)).toThrow(/must be in \[0, 1\]/);
  });

  it('holds 0 or 1/(1−p), kept with probability 1−p', () => {
    for (const p of [0.1, 0.5, 0.9]) {
      const n = 1_000_000;
      const m = dropoutMask(1, 0, 'site', n, p);
      const keep = Math.fround(1 / (1 - p));
      let kept = 0;
      let dropped = 0;
      for (const v of m) {
        if (v === keep) kept++;
        else if (v === 0) dropped++;
      }
      expect(kept + dropped).toBe(n);
      // Within 5 standard deviations of a binomial(n, 1 − p).
      expect(Math.abs(kept - n * (1 - p))).toBeLessThan(5 * Math.sqrt(n * p * (1 - p)));
    }
  });

  it('gives all ones at p = 0 and all zeros at p = 1, and refuses p outside [0, 1]', () => {
    expect(Array.from(dropoutMask(1, 0, 's', 5, 0))).toEqual([1, 1, 1, 1, 1]);
    expect(Array.from(dropoutMask(1, 0, 's', 5, 1))).toEqual([0, 0, 0, 0, 0]);
    expect(() => dropoutMask(1, 0, 's', 5, 1.5)).toThrow(RangeError);
    expect(() => dropoutMask(1, -1, 's', 5, 0.1)).toThrow(/counter/);
  });
});

describe('counter streams', () => {
  it('gives distinct start states for counters that differ in their high 32 bits only, or by one', () => {
    const key = (s: number[]) => s.join(',');
    const seen = new Set<string>();
    for (const c of [0, 1, 2, 2 ** 32, 2 ** 32 + 1, 2 ** 40]) seen.add(key(counterState(5, 'x', c)));
    expect(seen.size).toBe(6);
  });

  it('starts 100k consecutive steps of one site from 100k distinct states', () => {
    const seen = new Set<string>();
    for (let s = 0; s < 100_000; s++) seen.add(counterState(3, 'layer.0', s).join(','));
    expect(seen.size).toBe(100_000);
  });
});

describe('shuffling', () => {
  it('shuffledOrder is a permutation fixed by (n, seed, epoch)', () => {
    const o = shuffledOrder(1000, 42, 3);
    expect(Array.from(o).sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(shuffledOrder(1000, 42, 3)).toEqual(o);
    expect(shuffledOrder(1000, 42, 4)).not.toEqual(o);
    expect(shuffledOrder(1000, 43, 3)).not.toEqual(o);
    expect(shuffledOrder(0, 1, 0).length).toBe(0);
    expect(() => shuffledOrder(10, 1, -1)).toThrow(RangeError);
  });

  it('puts each element at each position about equally often', () => {
    const n = 4;
    const counts = Array.from({ length: n }, () => new Array<number>(n).fill(0));
    const trials = 8000;
    for (let t = 0; t < trials; t++) {
      const o = permutation(n, new Rng(t, 'test'));
      o.forEach((v, pos) => counts[v]![pos]!++);
    }
    // Chi-square with 9 degrees of freedom over the 16 cells: below 30 except with probability ~4e-4.
    const expected = trials / n;
    const chi2 = counts.flat().reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
    expect(chi2).toBeLessThan(30);
  });

  it('uniformIndex stays in range and refuses an empty range', () => {
    const rng = new Rng(1);
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) counts[uniformIndex(rng, 3)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(900);
    expect(() => uniformIndex(rng, 0)).toThrow(RangeError);
  });
});
