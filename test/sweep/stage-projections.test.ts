/**
 * A sweep pipeline of two distill steps with intermediate matches: the second starts its projections from those the
 * first wrote beside its stage's model (projections.ts). Those projections are one of the stage's files: a rerun of
 * a point stopped after the first stage finds the stage's record only while they are there as written, and otherwise
 * runs the stage again, so the second step starts from them as an uninterrupted run's did. The stop is modelled by
 * the second stage's lineage failing to be written, as the process dying there leaves it. They go with their model:
 * an intermediate stage's when the point ends (its weights dropped), the last stage's with keepModels false.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { planSweep, type SweepPoint } from '../../src/sweep/plan.ts';
import { runPoint } from '../../src/sweep/point.ts';
import { parseSweep } from '../../src/sweep/spec.ts';
import { projectionsPath } from '../../src/train/projections.ts';
import type { TrainLineage } from '../../src/train/run.ts';
import { writeTinySweep, type TinySweep } from './tiny-sweep.ts';

const killAtLineage = vi.hoisted(() => ({ on: false, path: '' }));
vi.mock('../../src/files.ts', async (importOriginal) => {
  const orig = await importOriginal<typeof import('../../src/files.ts')>();
  return {
    ...orig,
    writeFileAtomic: (...[path, data]: Parameters<typeof orig.writeFileAtomic>) => {
      if (killAtLineage.on && path === killAtLineage.path) throw new Error('killed before the lineage was written');
      return orig.writeFileAtomic(path, data);
    },
  };
});

let t: TinySweep;
let point: SweepPoint;
beforeAll(async () => {
  t = writeTinySweep({ rows: 16 });
  const kd = { epochs: 1, batchSize: 8, intermediate: 'tinybert', alpha: 0 };
  const doc = {
    models: [{ path: 'models/tiny-sst2', tasks: ['SST-2'] }],
    pipelines: [
      {
        name: 'kd-kd',
        steps: [
          { pass: 'distill', settings: { ...kd, student: 'bert:layers=1,hidden=16,heads=2,intermediate=32' } },
          { pass: 'distill', settings: kd },
        ],
      },
    ],
    bench: { batch: [1], seq: [8], repeats: 1, warmup: 0, threads: 1 },
    eval: { threads: 1 },
    calibration: false,
    keepModels: true,
  };
  const points = await planSweep(parseSweep(doc, t.sweepFile, 'stage-projections.yaml'), { glueDir: t.glueDir, workDir: join(t.root, 'work') });
  point = points.find((p) => p.label === 'kd-kd')!;
});
afterAll(() => {
  killAtLineage.on = false;
  t?.cleanup();
});

describe("a distill stage's projections, read by the next distill stage of the pipeline", () => {
  it('gone after a stop: the rerun runs the stage that wrote them again, and the next stage starts from them', async () => {
    const first = join(point.outputDir!, 'stage-1', 'model.onnx');
    // (the last stage's model is the point's)
    const second = join(point.outputDir!, 'model.onnx');
    killAtLineage.path = `${second}.json`;
    const startedFrom = () => (JSON.parse(readFileSync(`${second}.json`, 'utf8')) as TrainLineage).student.projections;
    killAtLineage.on = true;
    await expect(runPoint(point, { threads: 1 })).rejects.toThrow('killed before the lineage was written');
    killAtLineage.on = false;
    rmSync(projectionsPath(first));
    const logs: string[] = [];
    await runPoint(point, { threads: 1, log: (l) => logs.push(l) });
    expect(startedFrom()).toMatchObject({ from: projectionsPath(first), matches: ['t0s0.mse', 't2s1.mse'] });
    expect(startedFrom()!.otherTeacher).toBeUndefined();
    expect(logs.some((l) => l.includes('model.onnx.projections.safetensors is missing'))).toBe(true);
  });

  it("go with their model: an intermediate stage's once the point ends, the last stage's with the point's model when keepModels is false", async () => {
    // (the point of the test above, finished: its intermediate model's weights dropped, its own model kept)
    const first = join(point.outputDir!, 'stage-1', 'model.onnx');
    const last = join(point.outputDir!, 'model.onnx');
    expect(existsSync(first)).toBe(false);
    expect(existsSync(projectionsPath(first))).toBe(false);
    expect(existsSync(projectionsPath(last))).toBe(true);
    // (measured again from its stages' records, then its model deleted)
    await runPoint({ ...point, keepModel: false }, { threads: 1 });
    expect(existsSync(last)).toBe(false);
    expect(existsSync(projectionsPath(last))).toBe(false);
  });
});
