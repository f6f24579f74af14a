/**
 * A sweep file's threads: 0 means the runner's share (the physical cores divided among the points run at once, the
 * RunPointOptions' threads) for eval.threads, bench.threads and a train step's threads alike, as unset; where eval's
 * explicit 0 meant one per physical core in every point (and a train step's 0 too), bench's 0 the share.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { planSweep } from '../../src/sweep/plan.ts';
import { runPoint } from '../../src/sweep/point.ts';
import { parseSweep } from '../../src/sweep/spec.ts';
import { writeTinySweep, type TinySweep } from './tiny-sweep.ts';

const seen: Record<string, unknown[]> = { eval: [], bench: [], train: [] };

vi.mock('../../src/eval/evaluate.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/eval/evaluate.ts')>();
  return { ...real, evaluate: (o: { threads?: number }) => (seen.eval!.push(o.threads), real.evaluate(o as never)) };
});
vi.mock('../../src/bench/run.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/bench/run.ts')>();
  return { ...real, benchModels: (o: { threads?: number }) => (seen.bench!.push(o.threads), real.benchModels(o as never)) };
});
vi.mock('../../src/train/run.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/train/run.ts')>();
  // (the threads the step was given are all this test reads: the step stops there)
  return {
    ...real,
    runTraining: (o: { settings: { threads?: number } }) => {
      seen.train!.push(o.settings.threads);
      return Promise.reject(new Error('train step not run here'));
    },
  };
});

let t: TinySweep;
beforeAll(() => {
  t = writeTinySweep({ rows: 8 });
});
afterAll(() => t?.cleanup());

async function points(evalThreads: number | undefined, trainThreads: number | undefined) {
  const doc = {
    models: [{ path: 'models/tiny-sst2', tasks: ['SST-2'] }],
    pipelines: [
      'baseline',
      { name: 'ft', steps: [{ pass: 'train', settings: { epochs: 1, ...(trainThreads === undefined ? {} : { threads: trainThreads }) } }] },
    ],
    bench: { batch: [1], seq: [8], repeats: 1, warmup: 0, threads: 0 },
    ...(evalThreads === undefined ? {} : { eval: { threads: evalThreads } }),
    calibration: false,
  };
  return planSweep(parseSweep(doc, t.sweepFile, 'threads.yaml'), { glueDir: t.glueDir, workDir: join(t.root, `work-${evalThreads}-${trainThreads}`) });
}

describe("a sweep file's threads 0", () => {
  it("is the runner's share for eval, bench and a train step alike, as unset", async () => {
    for (const [evalThreads, trainThreads, share, want] of [
      [0, 0, 3, { eval: 3, bench: 3, train: 3 }],
      [undefined, undefined, 3, { eval: 3, bench: 3, train: 3 }],
      // (a train step without threads takes eval.threads; its 0 the share)
      [2, 0, 3, { eval: 2, bench: 3, train: 2 }],
      [0, 1, 3, { eval: 3, bench: 3, train: 1 }],
    ] as const) {
      for (const k of Object.keys(seen)) seen[k] = [];
      const [baseline, ft] = await points(evalThreads, trainThreads);
      await runPoint(baseline!, { threads: share });
      await expect(runPoint(ft!, { threads: share })).rejects.toThrow('train step not run here');
      expect({ eval: seen.eval, bench: seen.bench, train: seen.train }, `eval.threads ${evalThreads}, train threads ${trainThreads}`).toEqual({
        eval: [want.eval],
        bench: [want.bench],
        train: [want.train],
      });
    }
  });
});
