/**
 * The entropy (KL-divergence) range method as onnxruntime's EntropyCalibrater computes it: one histogram of all
 * calibration batches' values, as quantize_static collects them at once, and the threshold of least KL divergence
 * over it. The expected ranges and counts are onnxruntime's (HistogramCollector.collect_value of all batches,
 * get_entropy_threshold, run on the same values).
 */
import { describe, expect, it } from 'vitest';
import { countValues, emptyHistogram, entropyRange, pairwiseSum32, percentileRange, type EntropyHistogram } from '../../src/quantize/entropy.ts';
import { addInPasses, addRealTokens, RangeCollector } from '../../src/quantize/calibrate.ts';
import type { RangeMethod } from '../../src/quantize/settings.ts';
import type { CalibrationBatch } from '../../src/pass/pass.ts';
import { lcg } from '../helpers/feeds.ts';

/** A bell of `n` bins centred at bin `c` (width `w`, height `peak`), in whole counts. */
const bell = (n: number, c: number, w: number, peak: number) => Array.from({ length: n }, (_, k) => Math.round(peak * Math.exp(-(((k - c) / w) ** 2))));
const histogram = (counts: number[], threshold: number, min = -threshold, max = threshold): EntropyHistogram => ({
  counts: Float64Array.from(counts),
  threshold,
  min,
  max,
});
const total = (h: EntropyHistogram) => h.counts.reduce((a, b) => a + b, 0);

describe('entropy range', () => {
  it('picks the window onnxruntime picks on a hand-built histogram: a bell with a few outliers at the ends', () => {
    const counts = bell(256, 127.5, 12, 10000);
    counts[0] += 3;
    counts[255] += 5;
    // onnxruntime: window 26 of 65, bins 64 + 26 either side of zero (bin width 1/128)
    expect(entropyRange(histogram(counts, 1))).toEqual({ min: -90 / 128, max: 91 / 128 });
  });

  it('keeps the full range of a uniform distribution', () => {
    expect(entropyRange(histogram(Array(256).fill(1000), 1))).toEqual({ min: -1, max: 1 });
  });

  it('clips the outliers of an outlier-heavy distribution (2048 bins, as TensorRT)', () => {
    const counts = bell(2048, 1023.5, 15, 5000);
    counts[0] += 1;
    counts[2047] += 1;
    counts[1500] += 2;
    const r = entropyRange(histogram(counts, 4));
    // onnxruntime (float32 sums) picks ±0.3125…0.3164; windows 16 to 18 differ in the 7th digit of their divergence
    expect(r.min).toBeGreaterThanOrEqual(-0.33);
    expect(r.min).toBeLessThanOrEqual(-0.31);
    expect(r.max).toBeGreaterThanOrEqual(0.31);
    expect(r.max).toBeLessThanOrEqual(0.33);
  });

  it('with as many bins as quantized bins has one window: the min/max seen', () => {
    const counts = bell(128, 63.5, 5, 1000);
    counts[127] += 1;
    expect(entropyRange(histogram(counts, 1, -0.9, 1))).toEqual({ min: -0.9, max: 1 });
    // a one-sided distribution keeps its min
    const skew = Array.from({ length: 256 }, (_, k) => (k >= 128 ? Math.round(8000 * Math.exp(-(k - 128) / 10)) : k >= 120 ? 50 : 0));
    skew[250] += 4;
    expect(entropyRange(histogram(skew, 2, -0.1, 1.9))).toEqual({ min: -0.1, max: 1.9 });
  });
});

/** One histogram of all `batches`' values (their smallest and largest, then their counts), as collectRanges takes it. */
function histogramOf(batches: readonly Float32Array[], bins: number): EntropyHistogram {
  const all = batches.flatMap((b) => [...b].filter(Number.isFinite));
  const h = emptyHistogram(Math.min(...all), Math.max(...all), bins);
  countValues(h, batches);
  return h;
}

/** The range a RangeCollector takes of `batches`, each one calibration batch, in as many passes as it needs. */
async function rangeOf(method: RangeMethod, batches: readonly Float32Array[]) {
  const c = new RangeCollector(method);
  await addInPasses([c], () => {
    for (const b of batches) c.addBatch([b]);
  });
  return c.range();
}

describe('entropy histogram', () => {
  it('counts every batch in one histogram over their largest magnitude, as onnxruntime collects them all at once', () => {
    const h = histogramOf([Float32Array.of(-1, -0.5, 0), Float32Array.of(0.25, 1), Float32Array.of(2.625, -0.125), Float32Array.of(0.3, Number.NaN)], 8);
    expect(h).toMatchObject({ threshold: 2.625, min: -1, max: 2.625 });
    expect([...h.counts]).toEqual([0, 0, 1, 2, 3, 1, 0, 1]); // NaN left out
    expect(entropyRange(h, 4)).toEqual({ min: -1, max: 2.625 });
  });

  it('gives the range of all values whatever batches hold them, as onnxruntime (a later batch reaching further)', async () => {
    // a peak within ±0.5 over 3000 values, and two outliers in the last batch; onnxruntime's ranges of them all
    const values = Array.from({ length: 3000 }, (_, k) => ((((k * 7919) % 1001) - 500) / 1000) * (((k * 104729) % 1001) / 1000));
    const first = Float32Array.from(values.slice(0, 2000));
    const last = Float32Array.from([...values.slice(2000), 7.5, -6]);
    const expected: [RangeMethod, { min: number; max: number }][] = [
      [
        { kind: 'entropy', bins: 128 },
        { min: -6, max: 7.5 },
      ],
      [
        { kind: 'entropy', bins: 512 },
        { min: -3.22265625, max: 3.251953125 },
      ],
      [
        { kind: 'entropy', bins: 2048 },
        { min: -0.46875, max: 0.47607421875 },
      ],
      [
        { kind: 'percentile', percentile: 99.9 },
        { min: -0.46875, max: 0.47607421875 },
      ],
      [
        { kind: 'percentile', percentile: 99 },
        { min: -0.439453125, max: 0.4248046875 },
      ],
    ];
    for (const [method, range] of expected) {
      expect(await rangeOf(method, [first, last])).toEqual(range);
      expect(await rangeOf(method, [last, first])).toEqual(range);
      expect(await rangeOf(method, [Float32Array.from([...first, ...last])])).toEqual(range);
    }
    expect(await rangeOf({ kind: 'entropy', bins: 128 }, [])).toEqual({ min: 0, max: 0 });
  });

  it('leaves the padding positions of a batch out of its histogram', async () => {
    // 2 sentences of 3 tokens, the second with one padding position whose values are a spike
    const batch: CalibrationBatch = {
      inputIds: BigInt64Array.of(5n, 6n, 7n, 8n, 9n, 0n),
      attentionMask: BigInt64Array.of(1n, 1n, 1n, 1n, 1n, 0n),
      tokenTypeIds: new BigInt64Array(6),
      batch: 2,
      seq: 3,
      labels: Float32Array.of(0, 1),
      regression: false,
    };
    const values = Float32Array.of(-0.5, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, -0.2, 0.9, 1000, -1000);
    const c = new RangeCollector({ kind: 'entropy', bins: 128 });
    await addInPasses([c], () => addRealTokens(c, values, [2, 3, 2], batch));
    // as many bins as quantized bins: the min/max of the real tokens
    expect(c.range()).toEqual({ min: -0.5, max: Math.fround(0.9) });
  });

  it.each([{ kind: 'minmax' }, { kind: 'percentile', percentile: 99 }, { kind: 'entropy', bins: 256 }] as const)(
    'takes the real tokens of a batch as the batch of their values alone ($kind)',
    async (method) => {
      // 3 sentences of 5 tokens, 16 values a token, over 2 batches (the second reaching further)
      const rand = lcg(5);
      const mask = BigInt64Array.of(1n, 1n, 1n, 1n, 1n, 1n, 1n, 0n, 0n, 0n, 1n, 1n, 1n, 1n, 0n);
      const batch: CalibrationBatch = {
        inputIds: new BigInt64Array(15),
        attentionMask: mask,
        tokenTypeIds: new BigInt64Array(15),
        batch: 3,
        seq: 5,
        labels: Float32Array.of(0, 1, 0),
        regression: false,
      };
      const byTokens = new RangeCollector(method);
      const byValues = new RangeCollector(method);
      const batches = [1, 3].map((spread) => Float32Array.from({ length: 15 * 16 }, (_, i) => (rand() - 0.5) * spread * (mask[Math.floor(i / 16)] ? 1 : 100)));
      await addInPasses([byTokens, byValues], () => {
        for (const values of batches) {
          addRealTokens(byTokens, values, [3, 5, 16], batch);
          byValues.addBatch([values.filter((_, i) => mask[Math.floor(i / 16)] !== 0n)]);
        }
      });
      expect(byTokens.range()).toEqual(byValues.range());
      expect(byTokens.range().max).toBeLessThan(2);
    },
  );

  it('keeps every value of a per-example [batch, hidden] input whose width equals the sequence length', () => {
    // the pooler's input of 2 sentences padded to 3 tokens, hidden size 3: no position of it is padding
    const batch: CalibrationBatch = {
      inputIds: BigInt64Array.of(5n, 6n, 7n, 8n, 0n, 0n),
      attentionMask: BigInt64Array.of(1n, 1n, 1n, 1n, 0n, 0n),
      tokenTypeIds: new BigInt64Array(6),
      batch: 2,
      seq: 3,
      labels: Float32Array.of(0, 1),
      regression: false,
    };
    const c = new RangeCollector({ kind: 'minmax' });
    addRealTokens(c, Float32Array.of(0.1, 0.2, 0.3, 0.4, 5, -5), [2, 3], batch);
    expect(c.range()).toEqual({ min: -5, max: 5 });
  });
});

/**
 * numpy's float32 arithmetic, as onnxruntime computes. Neighbouring windows' divergences differ in the 7th digit, so
 * float64 sums pick another window. The expected values are onnxruntime's routines run with NumPy 2.4 / SciPy 1.17.
 */
describe('entropy in float32, as numpy', () => {
  it('sums pairwise in float32 as numpy.sum does', () => {
    const tenths = (n: number) => Float32Array.from({ length: n }, (_, k) => Math.fround(k * Math.fround(0.1)));
    // np.sum(np.arange(n, dtype=np.float32) * np.float32(0.1))
    expect(pairwiseSum32(tenths(7))).toBe(2.0999999046325684);
    expect(pairwiseSum32(tenths(9))).toBe(3.5999996662139893);
    expect(pairwiseSum32(tenths(127))).toBe(800.0999755859375);
    expect(pairwiseSum32(tenths(128))).toBe(812.800048828125);
    expect(pairwiseSum32(tenths(129))).toBe(825.5999755859375);
    expect(pairwiseSum32(tenths(1000))).toBe(49950);
    // by hand: 1 + 2^-24 rounds back to 1 in float32, but the pairs of 2^-24 add up first
    const e = 2 ** -24;
    expect(pairwiseSum32([1, e, e, e, e, e, e, e, e])).toBe(1 + 2 ** -21);
  });

  it("picks onnxruntime's window on near-ties where float64 sums pick another", () => {
    const a = bell(256, 127.5, 15, 5000);
    a[0] += 1;
    a[255] += 1;
    // onnxruntime: window 16 (float64 sums: window 18, ±0.640625)
    expect(entropyRange(histogram(a, 1))).toEqual({ min: -0.625, max: 0.6328125 });
    const b = bell(256, 127.5, 12, 5000);
    b[0] += 2;
    b[255] += 2;
    // onnxruntime: window 15 (float64 sums: window 28, ±0.71875)
    expect(entropyRange(histogram(b, 1))).toEqual({ min: -0.6171875, max: 0.625 });
  });

  it('bins and places the range in float32 as numpy.histogram and onnxruntime do', () => {
    // values that are exact in both languages: whole numbers divided once, rounded to float32
    const batch = (n: number, mult: number, mod: number, div: number, off = 0) =>
      Float32Array.from({ length: n }, (_, k) => (((k * mult + off) % mod) - Math.floor(mod / 2)) / div);
    const batches = [batch(700, 7919, 2001, 337), batch(300, 104729, 1999, 97, 5), batch(500, 31, 401, 61, 2)];
    const h = histogramOf(batches, 128);
    expect(h.counts.length).toBe(128);
    expect(h.threshold).toBe(10.257732391357422);
    expect(total(h)).toBe(1500);
    expect([...h.counts.slice(40, 52)]).toEqual([3, 2, 2, 9, 19, 22, 32, 35, 33, 30, 36, 33]);
    expect([...h.counts.slice(76, 90)]).toEqual([34, 32, 34, 34, 32, 32, 26, 14, 8, 1, 3, 2, 2, 3]);
    // onnxruntime's percentile ranges over 2048 bins, at their float32 lower edges
    const c = histogramOf(batches, 2048);
    expect(percentileRange(c, 99)).toEqual({ min: -9.867056846618652, max: 9.766883850097656 });
    expect(percentileRange(c, 90)).toEqual({ min: -5.178952693939209, max: 5.078779220581055 });
  });
});
