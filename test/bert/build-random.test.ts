import { describe, expect, it } from 'vitest';
import { Rng, streamKey } from '../../src/bert/random.ts';

describe('Rng (seeded weights)', () => {
  it('gives fixed numbers for a seed and stream name (a change here changes every seeded model)', () => {
    const r = new Rng(42, 'w');
    expect([r.nextUint32(), r.nextUint32(), r.nextUint32()]).toEqual([3501575635, 3859893852, 3480753739]);
    const a = new Float32Array(4);
    new Rng(42, 'w').fillNormal(a);
    expect(Array.from(a)).toEqual([-1.6302964687347412, -0.8940082788467407, -1.8014309406280518, 0.6333189606666565]);
    expect(new Rng(42, 'v').nextUint32()).not.toBe(3501575635);
    expect(new Rng(43, 'w').nextUint32()).not.toBe(3501575635);
  });

  it('fills normal(mean, std) with the right moments, including odd lengths', () => {
    const a = new Float64Array(200_001);
    new Rng(7).fillNormal(a, 1, 0.5);
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    const sd = Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length);
    const tail = a.filter((v) => Math.abs(v - 1) > 1.5).length / a.length; // P(|z| > 3) = 0.0027
    expect(Math.abs(mean - 1)).toBeLessThan(0.005);
    expect(Math.abs(sd - 0.5)).toBeLessThan(0.005);
    expect(tail).toBeGreaterThan(0.002);
    expect(tail).toBeLessThan(0.0035);
    expect(Number.isFinite(a[a.length - 1])).toBe(true);
  });

  it('gives uniform floats in [0, 1) and ints in [0, n)', () => {
    const r = new Rng(1);
    for (let i = 0; i < 1000; i++) {
      const f = r.nextFloat();
      expect(f >= 0 && f < 1).toBe(true);
      const k = r.nextInt(5);
      expect(Number.isInteger(k) && k >= 0 && k < 5).toBe(true);
    }
  });

  it('refuses seeds that are not safe integers', () => {
    expect(() => new Rng(1.5)).toThrow('seed must be a safe integer (got 1.5)');
    expect(streamKey(2 ** 40, 'a')).not.toBe(streamKey(0, 'a'));
  });
});
