/**
 * `compress train` trains each student once: once the optimizer holds its parameters, the student's graphs read them
 * there and its starting values (a copy of its weights) are dropped, where they stayed through the whole run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { DataType } from '../../src/onnx/dtype.ts';
import { loadModel } from '../../src/onnx/load.ts';
import { runTraining } from '../../src/train/run.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';

/** The buffers of the starting values of each student the run made (weakly held). */
const starting = vi.hoisted(() => [] as Array<WeakRef<ArrayBufferLike>>);
vi.mock('../../src/train/students/index.ts', async (importOriginal) => {
  const students = await importOriginal<typeof import('../../src/train/students/index.ts')>();
  return {
    ...students,
    makeStudent: (...args: Parameters<typeof students.makeStudent>) => {
      const made = students.makeStudent(...args);
      for (const t of made.student.forward(false).graph.initializers.values()) {
        if (t.dataType === DataType.FLOAT && t.dims.length > 0) starting.push(new WeakRef(t.data.buffer));
      }
      return made;
    },
  };
});

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const work = mkdtempSync(join(tmpdir(), 'bert-compress-starting-values-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("a trained student's starting values", () => {
  it('are dropped once the optimizer holds the parameters, and the run writes what it trained', async () => {
    const glueDir = join(work, 'glue');
    writeGlueTask(glueDir, 'SST-2', 8, ['train', 'dev']);
    const student = writeModelFolder(join(work, 'student'), tinyBert({}, { seed: 4 }));
    starting.length = 0;
    const alive: number[] = [];
    const output = join(work, 'out', 'model.onnx');
    const result = await runTraining({
      task: 'SST-2',
      student,
      glueDir,
      output,
      settings: { epochs: 2, batchSize: 4, threads: 1, dropout: 0.1 },
      onStep: () => {
        gc();
        alive.push(starting.filter((r) => r.deref() !== undefined).length);
      },
    });
    expect(starting.length).toBeGreaterThan(10); // (every weight of the student)
    expect(alive).toEqual([0, 0, 0, 0]);
    // the parameters written are those trained (the best epoch's), not the starting values
    const written = loadModel(output).graph.initializers.get('classifier.weight')!;
    const initial = tinyBert({}, { seed: 4 }).graph.initializers.get('classifier.weight')!;
    expect(Buffer.from(written.data).equals(Buffer.from(initial.data))).toBe(false);
    expect(result.lineage!.epochs).toHaveLength(2);
  });
});
