/**
 * A benchmark's latencies live off the V8 heap, in Float64Array chunks (Latencies): in a JavaScript array they counted
 * against the heap's limit (about 4 GB by default, whatever the machine's memory), and the statistics sorted boxed
 * copies of them, so that a --repeats the memory cap allowed could die of heap exhaustion after hours of timing. The
 * statistics are the same on the same samples, and the cap counts what is kept: 8 bytes a run per model, and 8 for
 * the one working copy the statistics sort.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { keptRepeats } from '../../src/bench/inputs.ts';
import { LATENCY_CHUNK, Latencies } from '../../src/bench/latencies.ts';
import { shapeStats } from '../../src/bench/run.ts';
import { latencyStats, pairedSpeedup, quantile } from '../../src/bench/stats.ts';
import { randomValues } from '../helpers/gradcheck.ts';

const ROOT = resolve(__dirname, '../..');
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** `values` kept as a benchmark keeps them. */
function kept(values: readonly number[]): Latencies {
  const l = new Latencies();
  for (const v of values) l.push(v);
  return l;
}

/** The statistics as a JavaScript array gave them: a sorted copy per quantile, the sum and minimum in run order. */
function reference(xs: readonly number[], batch: number) {
  const q = (p: number) => {
    const s = [...xs].sort((a, b) => a - b);
    const pos = p * (s.length - 1);
    const lo = Math.floor(pos);
    return s[lo]! + (s[Math.ceil(pos)]! - s[lo]!) * (pos - lo);
  };
  return {
    runs: xs.length,
    p50Ms: q(0.5),
    p90Ms: q(0.9),
    p99Ms: q(0.99),
    meanMs: xs.reduce((a, b) => a + b, 0) / xs.length,
    minMs: xs.reduce((a, b) => Math.min(a, b), Infinity),
    throughput: (1000 * batch) / q(0.5),
  };
}

describe('latencies off the V8 heap', () => {
  it('keeps values in order across chunks, as an array would', () => {
    const xs = randomValues(2 * LATENCY_CHUNK + 3, 1, { lo: 0.5, hi: 9 });
    const l = kept(xs);
    expect(l.length).toBe(xs.length);
    for (const i of [0, 1, LATENCY_CHUNK - 1, LATENCY_CHUNK, 2 * LATENCY_CHUNK, xs.length - 1]) expect(l.at(i)).toBe(xs[i]);
    expect([l.at(xs.length), l.at(-1), l.at(-xs.length - 1)]).toEqual([undefined, xs.at(-1), undefined]);
    expect(new Latencies().at(0)).toBeUndefined();
  });

  it("times and summarizes 400,000 rounds within an 80 MB heap (a JavaScript array's statistics exhausted it)", () => {
    // 6.4 MB of latencies: the boxed copies the statistics sorted took the heap to its limit, a fatal error
    const code = [
      `import { timedRounds } from ${JSON.stringify(resolve(ROOT, 'src/bench/run.ts'))};`,
      `import { latencyStats, pairedSpeedup } from ${JSON.stringify(resolve(ROOT, 'src/bench/stats.ts'))};`,
      'const stub = { run: async () => ({}) };',
      'const { timesA, timesB } = await timedRounds(stub, {}, stub, {}, 400000);',
      'const speedup = pairedSpeedup(timesA, timesB);',
      'console.log(JSON.stringify([latencyStats(timesA, 1).runs, latencyStats(timesB, 1).runs, speedup > 0]));',
    ].join('\n');
    const child = spawnSync(process.execPath, ['--max-old-space-size=32', '--import', tsx, '--input-type=module', '-e', code], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
      killSignal: 'SIGKILL',
    });
    expect(child.stderr).not.toMatch(/heap out of memory/);
    expect([child.status, child.stdout.trim()]).toEqual([0, '[400000,400000,true]']);
  }, 70_000);

  it('gives the statistics a JavaScript array gave, on the same samples, with or without a shared working array', () => {
    const n = LATENCY_CHUNK + 4321;
    const model = randomValues(n, 2, { lo: 0.2, hi: 40 });
    const baseline = randomValues(n, 3, { lo: 0.5, hi: 90 });
    const stats = latencyStats(kept(model), 8);
    expect(stats).toEqual(latencyStats(model, 8));
    expect(stats).toEqual(reference(model, 8));
    expect(latencyStats(kept(baseline), 8)).toEqual(reference(baseline, 8));
    const ratios = model.map((m, i) => baseline[i]! / m);
    expect(pairedSpeedup(kept(model), kept(baseline))).toBe(reference(ratios, 1).p50Ms);
    expect(pairedSpeedup(kept(model), kept(baseline))).toBe(pairedSpeedup(model, baseline));
    // one working array for a shape's three statistics: the same numbers
    const shape = shapeStats({ batch: 8, seq: 16 }, kept(model), kept(baseline));
    expect(shape).toEqual({
      batch: 8,
      seq: 16,
      model: stats,
      baseline: latencyStats(baseline, 8),
      speedup: pairedSpeedup(model, baseline),
    });
    expect(shapeStats({ batch: 8, seq: 16 }, kept(model), undefined)).toEqual({ batch: 8, seq: 16, model: stats });
    // a round whose model time is 0 has no ratio, as before: 2/1 and 2/2
    expect(pairedSpeedup(kept([0, 1, 2]), kept([5, 2, 2]))).toBe(1.5);
    expect(pairedSpeedup([0, 1, 2], [5, 2, 2])).toBe(1.5);
    // the caller's samples are left in their order
    const xs = [5, 1, 4, 2, 3];
    expect(quantile(xs, 0.9)).toBeCloseTo(4.6, 12);
    expect(xs).toEqual([5, 1, 4, 2, 3]);
  });

  it('the statistics of no runs are as before: NaN percentiles, no minimum', () => {
    expect(latencyStats(new Latencies(), 1)).toEqual({ runs: 0, p50Ms: NaN, p90Ms: NaN, p99Ms: NaN, meanMs: NaN, minMs: Infinity, throughput: NaN });
    expect(pairedSpeedup(new Latencies(), new Latencies())).toBeNaN();
  });

  it('the cap counts a float64 a run per model and one working copy, and names the longest Float64Array beyond it', () => {
    // 24,000 bytes: a model and its baseline, and the sorted copy, 8 bytes each a run
    expect(keptRepeats(2, 24_000)).toMatchObject({ most: 1000, bound: expect.stringMatching(/^with .* of memory$/) });
    expect(keptRepeats(1, 16_000).most).toBe(1000);
    expect(keptRepeats(1, 1e15)).toEqual({ most: 2 ** 32, bound: 'the longest Float64Array Node.js 20 makes, which the statistics sort' });
  });
});
