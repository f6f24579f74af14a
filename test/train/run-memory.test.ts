/**
 * What `compress train` keeps while it trains: the student model it read is dropped once the student is made from
 * it (the student holds its own copy of the weights), where the run kept it to the end; the best epoch's parameters
 * are written to its checkpoint folder and read back at the end, where a copy of them was kept through later epochs;
 * a distillation's teacher model is dropped once its logits are computed, unless its layers are matched.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { Model } from '../../src/onnx/graph.ts';
import { runTraining } from '../../src/train/run.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';

const loaded = vi.hoisted(() => [] as Array<WeakRef<object>>);
/** The parameters each checkpoint of the run was written from: the best epoch's (weakly held), the others'. */
const written = vi.hoisted(() => ({ best: [] as Array<WeakRef<Float32Array>>, others: new Set<Float32Array>() }));
vi.mock('../../src/train/checkpoint.ts', async (importOriginal) => {
  const checkpoint = await importOriginal<typeof import('../../src/train/checkpoint.ts')>();
  return {
    ...checkpoint,
    saveCheckpoint: (...args: Parameters<typeof checkpoint.saveCheckpoint>) => {
      const [dir, c] = args;
      for (const p of c.params.values()) {
        if (/[/\\]best$/.test(dir)) written.best.push(new WeakRef(p));
        else written.others.add(p);
      }
      return checkpoint.saveCheckpoint(...args);
    },
  };
});
vi.mock('../../src/onnx/load.ts', async (importOriginal) => {
  const load = await importOriginal<typeof import('../../src/onnx/load.ts')>();
  return {
    ...load,
    loadModel: (...args: Parameters<typeof load.loadModel>): Model => {
      const model = load.loadModel(...args);
      loaded.push(new WeakRef(model));
      return model;
    },
  };
});

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const work = mkdtempSync(join(tmpdir(), 'bert-compress-run-memory-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const glueDir = join(work, 'glue');
writeGlueTask(glueDir, 'SST-2', 8, ['train', 'dev']);

describe('compress train in memory', () => {
  it('does not keep the student model it read while the student trains', async () => {
    const student = writeModelFolder(join(work, 'student'), tinyBert());
    const alive: boolean[] = [];
    await runTraining({
      task: 'SST-2',
      student,
      glueDir,
      output: join(work, 'out', 'model.onnx'),
      settings: { epochs: 1, batchSize: 4, threads: 1, dropout: 0 },
      onStep: () => {
        gc();
        alive.push(loaded.some((r) => r.deref() !== undefined));
      },
    });
    expect(loaded.length).toBeGreaterThan(0); // (the student model was read through loadModel)
    expect(alive).toEqual([false, false]);
  });

  it("keeps no copy of the best epoch's parameters through the later epochs, and returns them", async () => {
    const student = writeModelFolder(join(work, 'student-best'), tinyBert({}, { seed: 5 }));
    written.best.length = 0;
    const copies: number[] = [];
    const result = await runTraining({
      task: 'SST-2',
      student,
      glueDir,
      output: join(work, 'out-best', 'model.onnx'),
      settings: { epochs: 2, batchSize: 4, threads: 1, dropout: 0 },
      onStep: (p) => {
        if (p.epoch !== 1) return;
        gc();
        // (the best epoch was written from the live parameters, which every checkpoint is written from)
        copies.push(written.best.filter((r) => r.deref() !== undefined && !written.others.has(r.deref()!)).length);
      },
    });
    expect(written.best.length).toBeGreaterThan(0); // epoch 1 was the best so far when it ended
    expect(copies).toEqual([0, 0]);
    expect(result.lineage!.epochs).toHaveLength(2);
  });

  it("does not keep the teacher model while the student trains on the teacher's logits", async () => {
    const teacher = writeModelFolder(join(work, 'teacher'), tinyBert({}, { seed: 1 }));
    const student = writeModelFolder(join(work, 'student-distil'), tinyBert({}, { seed: 6 }));
    loaded.length = 0;
    const alive: number[] = [];
    await runTraining({
      task: 'SST-2',
      teacher,
      student,
      glueDir,
      cacheDir: join(work, 'cache'),
      output: join(work, 'out-distil', 'model.onnx'),
      settings: { epochs: 1, batchSize: 4, threads: 1, dropout: 0 },
      onStep: () => {
        gc();
        alive.push(loaded.filter((r) => r.deref() !== undefined).length);
      },
    });
    expect(loaded.length).toBeGreaterThanOrEqual(2); // the teacher and the student model
    expect(alive).toEqual([0, 0]);
  });
});
