/** The stamps a plan takes of the models it hashes, which `compress report` checks before hashing a model again. */
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileStamps, stampsHold } from '../../src/files.ts';
import { parseSweep } from '../../src/sweep/spec.ts';
import { planSweep } from '../../src/sweep/plan.ts';
import { pointKey } from '../../src/sweep/key.ts';
import { GLUE_DIR, TEACHERS, hasGlue, hasTeachers } from '../helpers/paths.ts';

describe('model stamps', () => {
  it('are taken of a file not changed within the last 2 s, and hold until it is written or replaced', () => {
    const root = mkdtempSync(join(tmpdir(), 'stamps-'));
    try {
      const file = join(root, 'model.onnx');
      writeFileSync(file, 'first');
      expect(fileStamps([file])).toBeUndefined(); // (just written: a write in the same clock tick would keep its times)
      expect(fileStamps([file, join(root, 'gone')], Date.now() + 10_000)).toBeUndefined();
      const stamps = fileStamps([file], Date.now() + 10_000)!;
      expect(stamps).toEqual([expect.objectContaining({ file, size: 5 })]);
      expect(stampsHold(JSON.parse(JSON.stringify(stamps)))).toBe(true);
      for (const bad of [undefined, null, [], {}, [{}], [{ file }], 'x']) expect(stampsHold(bad)).toBe(false);
      writeFileSync(file, 'other'); // (the same size)
      expect(stampsHold(stamps)).toBe(false);
      const again = fileStamps([file], Date.now() + 10_000)!;
      writeFileSync(join(root, 'new'), 'other');
      renameSync(join(root, 'new'), file);
      expect(stampsHold(again)).toBe(false);
      rmSync(file);
      expect(stampsHold(again)).toBe(false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it.skipIf(!hasGlue || !hasTeachers)("are in a sweep's plan for its model and a distill step's teacher, outside the point's key", async () => {
    const root = mkdtempSync(join(tmpdir(), 'stamps-plan-'));
    try {
      const model = join(TEACHERS, 'sst2-L2H256');
      const teacher = join(TEACHERS, 'sst2-L4H256');
      const spec = parseSweep(
        {
          models: [{ path: model, tasks: ['SST-2'] }],
          pipelines: [{ name: 'kd', steps: [{ pass: 'distill', settings: { teacher, student: 'bert:layers=1,hidden=64', maxExamples: 8 } }] }],
        },
        join(root, 's.yaml'),
      );
      const points = await planSweep(spec, { glueDir: GLUE_DIR, workDir: join(root, 'w'), cacheDir: join(root, 'c') });
      const kd = points.find((p) => p.label === 'kd')!;
      expect(kd.model.stamps).toEqual(fileStamps([join(model, 'model.onnx')]));
      expect(stampsHold(kd.model.stamps)).toBe(true);
      const step = kd.training!.steps[0]!;
      expect(step.teacherStamps).toEqual(fileStamps([join(teacher, 'model.onnx')]));
      expect(stampsHold(step.teacherStamps)).toBe(true);
      const { stamps: _s, ...unstamped } = kd.model;
      const { teacherStamps: _t, ...rest } = step;
      expect(pointKey({ ...kd, model: unstamped, training: { ...kd.training!, steps: [rest] } })).toBe(kd.key);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
