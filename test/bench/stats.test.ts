import { describe, expect, it } from 'vitest';
import { geometricMean, latencyStats, median, pairedSpeedup, quantile } from '../../src/bench/stats.ts';
import { describeMachine, parseCpuInfo } from '../../src/bench/machine.ts';

describe('latency statistics', () => {
  it('quantiles interpolate between closest ranks (numpy default)', () => {
    const xs = [5, 1, 4, 2, 3];
    expect(quantile(xs, 0)).toBe(1);
    expect(quantile(xs, 0.5)).toBe(3);
    expect(quantile(xs, 1)).toBe(5);
    expect(quantile(xs, 0.9)).toBeCloseTo(4.6, 12);
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([7], 0.99)).toBe(7);
    expect(quantile([], 0.5)).toBeNaN();
  });

  it('summarizes runs: percentiles, mean, min, and throughput at the median', () => {
    const s = latencyStats([10, 20, 30, 40, 50], 8);
    expect(s).toMatchObject({ runs: 5, p50Ms: 30, meanMs: 30, minMs: 10 });
    expect(s.p90Ms).toBeCloseTo(46, 12);
    expect(s.p99Ms).toBeCloseTo(49.6, 12);
    expect(s.throughput).toBeCloseTo((1000 * 8) / 30, 12);
  });

  it('summarizes as many runs as bench --repeats allows (no argument-count limit)', () => {
    const samples = Array.from({ length: 500_000 }, (_, i) => 1 + (i % 97));
    samples[123_456] = 0.5;
    const s = latencyStats(samples, 1);
    expect(s.runs).toBe(500_000);
    expect(s.minMs).toBe(0.5);
  });

  it('speed-up is the median of paired baseline/model ratios, robust to a drifting machine', () => {
    // The machine slows down 3× half-way; each pair still shows the model 2× faster.
    const model = [1, 1, 1, 3, 3, 3];
    const baseline = [2, 2, 2, 6, 6, 6];
    expect(pairedSpeedup(model, baseline)).toBe(2);
    expect(median([3, 1, 2])).toBe(2);
  });

  it('geometric mean of positive finite values', () => {
    expect(geometricMean([2, 8])).toBeCloseTo(4, 12);
    expect(geometricMean([4, NaN, 0])).toBeCloseTo(4, 12);
    expect(geometricMean([])).toBeNaN();
  });
});

describe('CPU info', () => {
  it('reads the model name and the avx2 / avx512 / vnni / amx flags of the first processor', () => {
    const text = [
      'processor\t: 0',
      'vendor_id\t: GenuineIntel',
      'model name\t: Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz',
      'flags\t\t: fpu sse sse2 avx avx2 avx512f avx512bw avx512_vnni',
      '',
      'processor\t: 1',
      'model name\t: other',
      'flags\t\t: fpu',
    ].join('\n');
    expect(parseCpuInfo(text)).toEqual({ model: 'Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz', flags: { avx2: true, avx512: true, vnni: true, amx: false } });
    expect(parseCpuInfo('model name : AMD\nflags : avx avx2 avx_vnni').flags).toEqual({ avx2: true, avx512: false, vnni: true, amx: false });
    expect(parseCpuInfo('')).toEqual({ model: 'unknown', flags: { avx2: false, avx512: false, vnni: false, amx: false } });
    const amx = parseCpuInfo('model name : Intel(R) Xeon(R) Processor\nflags : avx2 avx512f avx512_vnni amx_bf16 amx_tile amx_int8');
    expect(amx.flags).toEqual({ avx2: true, avx512: true, vnni: true, amx: true });
    const m = { cpu: { ...amx, cores: 2 }, onnxruntime: '1.30.0', node: '20.0.0', threads: 1 };
    expect(describeMachine(m)).toBe('Intel(R) Xeon(R) Processor (2 cores; avx2 avx512 vnni amx), onnxruntime 1.30.0, 1 thread');
    // a record made before amx was read
    expect(describeMachine({ ...m, cpu: { ...m.cpu, flags: { avx2: true, avx512: false, vnni: false } } })).toBe(
      'Intel(R) Xeon(R) Processor (2 cores; avx2), onnxruntime 1.30.0, 1 thread',
    );
  });
});
