/**
 * A sweep's distill step with intermediate matches starts their projections from the projections file beside its
 * student model (the general stage's, projections.ts), as `compress distill` does: the file is part of what the point
 * read. Its plan hashes it into the point (another file, another key), a report finds it added, edited or removed
 * since, and a queued point's worker is sent it with the student's files. One the step would refuse (damaged, a
 * folder) is refused by the plan.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync } from 'node:fs';
import { DataError } from '../../src/errors.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSweep } from '../../src/sweep/spec.ts';
import { planSweep, type SweepPoint } from '../../src/sweep/plan.ts';
import { currentHashes, dataChange } from '../../src/sweep/stale.ts';
import { pointFiles } from '../../src/queue/files.ts';
import { runTraining } from '../../src/train/run.ts';
import { projectionsPath } from '../../src/train/projections.ts';
import { memoizedSha256, sha256FileSync } from '../../src/files.ts';
import { tinyBert } from '../helpers/models.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';

let root: string;
let gd: string;
let sidecar: string;
const KD = { epochs: 1, batchSize: 4, maxExamples: 8, maxLength: 16, intermediate: 'tinybert' };

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'projections-plan-'));
  const teacher = writeModelFolder(join(root, 'models', 'teacher'), tinyBert());
  writeGlueTask(join(root, 'glue'), 'SST-2', 8, ['train', 'dev']);
  gd = join(root, 'models', 'gd');
  // the general stage of a student narrower than the teacher: its projections are written beside it
  await runTraining({
    teacher,
    student: 'bert:layers=1,hidden=16,heads=2,intermediate=32',
    output: join(gd, 'model.onnx'),
    glueDir: join(root, 'glue'),
    cacheDir: join(root, 'cache'),
    maxLength: 16,
    settings: { epochs: 1, batchSize: 4, threads: 1 },
    distill: { stage: 'general', intermediate: 'tinybert' },
  });
  sidecar = projectionsPath(join(gd, 'model.onnx'));
}, 60_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The one point of a sweep of `model` whose one pipeline is a distill step of `settings`. */
async function plan(model: string, settings: Record<string, unknown>): Promise<SweepPoint> {
  const spec = parseSweep(
    {
      name: 'projections',
      models: [{ path: model, tasks: ['SST-2'] }],
      calibration: false,
      pipelines: [{ name: 'tiny', steps: [{ pass: 'distill', settings: { ...KD, ...settings } }] }],
    },
    join(root, 'projections.yaml'),
    'projections.yaml',
  );
  const points = await planSweep(spec, { glueDir: join(root, 'glue'), workDir: join(root, 'work') });
  return points.find((p) => p.label === 'tiny')!;
}

describe("a distill step's student projections in a sweep", () => {
  it('are hashed into the point, for a student model path and for the pipeline model a first step distils', async () => {
    const sha256 = sha256FileSync(sidecar);
    const named = await plan('models/teacher', { student: 'models/gd' });
    expect(named.data?.training?.['0']?.projections).toBe(sha256);
    const first = await plan('models/gd', { teacher: 'models/teacher' });
    expect(first.data?.training?.['0']?.projections).toBe(sha256);
    // (prediction-layer KD alone reads none)
    const { intermediate: _, ...predictionOnly } = KD;
    const spec = parseSweep(
      {
        name: 'projections',
        models: [{ path: 'models/teacher', tasks: ['SST-2'] }],
        calibration: false,
        pipelines: [{ name: 'kd', steps: [{ pass: 'distill', settings: { ...predictionOnly, student: 'models/gd' } }] }],
      },
      join(root, 'projections.yaml'),
      'projections.yaml',
    );
    const kd = (await planSweep(spec, { glueDir: join(root, 'glue'), workDir: join(root, 'work') })).find((p) => p.label === 'kd');
    expect(kd!.data?.training?.['0']?.projections).toBeUndefined();
  });

  it('another key without them, and a stored point reads as changed when they are added or removed since', async () => {
    const withFile = await plan('models/teacher', { student: 'models/gd' });
    expect(dataChange(withFile, currentHashes())).toBeUndefined();
    const kept = join(root, 'kept.safetensors');
    cpSync(sidecar, kept);
    rmSync(sidecar);
    try {
      const without = await plan('models/teacher', { student: 'models/gd' });
      expect(without.key).not.toBe(withFile.key);
      expect(dataChange(withFile, currentHashes())).toBe(`data changed: ${sidecar} (student's projections of step 1 (distill)) removed`);
      cpSync(kept, sidecar);
      expect(dataChange(without, currentHashes())).toBe(`data changed: ${sidecar} (student's projections of step 1 (distill)) added`);
    } finally {
      cpSync(kept, sidecar);
    }
  });

  it('damaged, or a folder in their place, are refused by the plan naming the step, as the step would refuse them, where every point failed when it ran', async () => {
    const kept = join(root, 'whole.safetensors');
    cpSync(sidecar, kept);
    const step = `projections.yaml: pipeline 'tiny' on model 'teacher', step 1 (distill): ${sidecar}`;
    try {
      truncateSync(sidecar, 100);
      await expect(plan('models/teacher', { student: 'models/gd' })).rejects.toThrow(
        new DataError(
          `${step}: truncated safetensors file: the header needs ${readFileSync(kept).readUInt32LE(0)} bytes but only 92 follow; remove it to start new projections`,
        ),
      );
      rmSync(sidecar);
      mkdirSync(sidecar);
      await expect(plan('models/teacher', { student: 'models/gd' })).rejects.toThrow(
        new DataError(`${step}: a folder, not a safetensors file; remove it to start new projections`),
      );
    } finally {
      rmSync(sidecar, { recursive: true, force: true });
      cpSync(kept, sidecar);
    }
  });

  it("are sent to a queued point's worker with the student's files", async () => {
    for (const point of [await plan('models/teacher', { student: 'models/gd' }), await plan('models/gd', { teacher: 'models/teacher' })]) {
      const trees = await pointFiles(point, memoizedSha256());
      const student = trees.find((t) => t.root === gd);
      expect(student?.files.map((f) => f.path)).toContain('model.onnx.projections.safetensors');
    }
  });
});
