/**
 * What `compress train` keeps while it trains: the student model it read is dropped once the student is made from
 * it (the student holds its own copy of the weights), where the run kept it to the end.
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
});
