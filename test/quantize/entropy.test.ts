/**
 * The entropy (KL-divergence) range method as onnxruntime's EntropyCalibrater computes it: the histogram each
 * calibration batch is added to (growing by whole bins), and the threshold of least KL divergence over it. The
 * expected ranges and counts are onnxruntime's (HistogramCollector.collect_value / merge_histogram /
 * get_entropy_threshold run on the same histograms and batches).
 */
import { describe, expect, it } from 'vitest';
import { addToHistogram, entropyRange, MAX_HISTOGRAM_BINS, pairwiseSum32, type EntropyHistogram } from '../../src/quantize/entropy.ts';
import { addRealTokens, RangeCollector } from '../../src/quantize/calibrate.ts';
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

describe('entropy histogram', () => {
  it('grows by whole bins on both sides when a later batch reaches further, as onnxruntime merges', () => {
    let h = addToHistogram(undefined, [Float32Array.of(-1, -0.5, 0), Float32Array.of(0.25, 1)], 8);
    expect(h).toMatchObject({ threshold: 1, min: -1, max: 1 });
    expect([...h!.counts]).toEqual([1, 0, 1, 0, 1, 1, 0, 1]);
    h = addToHistogram(h, [Float32Array.of(2.625, -0.125)], 8);
    h = addToHistogram(h, [Float32Array.of(0.3, Number.NaN)], 8); // fits: counted in the same bins; NaN skipped
    expect(h).toMatchObject({ threshold: 2.75, min: -1, max: 2.625 });
    expect([...h!.counts]).toEqual([0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 1, 2, 0, 1, 0, 0, 0, 0, 0, 0, 1]);
    expect(entropyRange(h!, 4)).toEqual({ min: -1, max: 2.25 });
  });

  it('after a batch of zeros counts them in the middle bin of the next range', () => {
    let h = addToHistogram(undefined, [Float32Array.of(0, 0)], 8);
    h = addToHistogram(h, [Float32Array.of(0.5, -1)], 8);
    expect(h).toMatchObject({ threshold: 1, min: -1, max: 0.5 });
    expect([...h!.counts]).toEqual([1, 0, 0, 0, 2, 0, 1, 0]);
    expect(entropyRange(h!, 4)).toEqual({ min: -1, max: 0.5 });
  });

  it('merges bins in pairs rather than grow past MAX_HISTOGRAM_BINS, zero staying a bin edge', () => {
    let h = addToHistogram(undefined, [Float32Array.of(-1e-3, 1e-3, 5e-4)], 128);
    h = addToHistogram(h, [Float32Array.of(10, -10, 0.5)], 128);
    expect(h!.counts.length).toBeLessThanOrEqual(MAX_HISTOGRAM_BINS);
    expect(h!.counts.length % 2).toBe(0);
    expect(h!.threshold).toBeGreaterThanOrEqual(10);
    expect(total(h!)).toBe(6);
    // the first batch's values stay either side of zero
    const mid = h!.counts.length / 2;
    expect(h!.counts[mid - 1]).toBe(1);
    expect(h!.counts[mid]).toBe(2);
  });

  it('collects one histogram per calibration batch in a RangeCollector', () => {
    const c = new RangeCollector({ kind: 'entropy', bins: 128 });
    c.addBatch([Float32Array.from(bell(200, 100, 30, 1).map((_, k) => (k - 100) / 100))]);
    c.addBatch([Float32Array.of(3, -0.2)]);
    const r = c.range();
    expect(r.min).toBeGreaterThanOrEqual(-1);
    expect(r.max).toBeLessThan(3); // the lone 3 of the second batch is clipped
    expect(new RangeCollector({ kind: 'entropy', bins: 128 }).range()).toEqual({ min: 0, max: 0 });
  });

  it('leaves the padding positions of a batch out of its histogram', () => {
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
    addRealTokens(c, values, [2, 3, 2], batch);
    // one batch in as many bins as quantized bins: the min/max of the real tokens
    expect(c.range()).toEqual({ min: -0.5, max: Math.fround(0.9) });
  });

  it.each([{ kind: 'minmax' }, { kind: 'percentile', percentile: 99 }, { kind: 'entropy', bins: 256 }] as const)(
    'takes the real tokens of a batch as the batch of their values alone ($kind)',
    (method) => {
      // 3 sentences of 5 tokens, 16 values a token, over 2 batches (the second widens the histograms)
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
      for (const spread of [1, 3]) {
        const values = Float32Array.from({ length: 15 * 16 }, (_, i) => (rand() - 0.5) * spread * (mask[Math.floor(i / 16)] ? 1 : 100));
        addRealTokens(byTokens, values, [3, 5, 16], batch);
        byValues.addBatch([values.filter((_, i) => mask[Math.floor(i / 16)] !== 0n)]);
      }
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

  it("grows, bins and places the range in float32 as numpy.histogram and onnxruntime's merge do", () => {
    // values that are exact in both languages: whole numbers divided once, rounded to float32
    const batch = (n: number, mult: number, mod: number, div: number, off = 0) =>
      Float32Array.from({ length: n }, (_, k) => (((k * mult + off) % mod) - Math.floor(mod / 2)) / div);
    let h: EntropyHistogram | undefined;
    for (const b of [batch(700, 7919, 2001, 337), batch(300, 104729, 1999, 97, 5), batch(500, 31, 401, 61, 2)]) h = addToHistogram(h, [b], 128);
    expect(h!.counts.length).toBe(444);
    expect(h!.threshold).toBe(10.2930269241333);
    expect(total(h!)).toBe(1500);
    expect([...h!.counts.slice(148, 160)]).toEqual([0, 1, 0, 5, 3, 6, 5, 6, 5, 3, 10, 9]);
    expect([...h!.counts.slice(286, 300)]).toEqual([5, 5, 5, 3, 4, 2, 4, 0, 2, 0, 1, 0, 1, 0]);
    // onnxruntime: window 129 of 159, its float32 edges
    expect(entropyRange(h!)).toEqual({ min: -8.948442459106445, max: 8.994807243347168 });
  });
});
