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

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** The buffers of the starting values of each student the run made (weakly held). */
const starting = vi.hoisted(() => [] as Array<WeakRef<ArrayBufferLike>>);
/** The students the run made, and whether the buffer their graphs read while they trained was alive when the model was saved. */
const made = vi.hoisted(() => ({
  students: [] as Array<{ forward(dropout: boolean): import('../../src/onnx/graph.ts').Model }>,
  trainedIn: [] as Array<WeakRef<ArrayBufferLike>>,
  aliveAtSave: [] as boolean[],
}));
vi.mock('../../src/onnx/save.ts', async (importOriginal) => {
  const save = await importOriginal<typeof import('../../src/onnx/save.ts')>();
  return {
    ...save,
    saveModel: (...args: Parameters<typeof save.saveModel>) => {
      gc();
      made.aliveAtSave.push(made.trainedIn.some((r) => r.deref() !== undefined));
      return save.saveModel(...args);
    },
  };
});
vi.mock('../../src/train/students/index.ts', async (importOriginal) => {
  const students = await importOriginal<typeof import('../../src/train/students/index.ts')>();
  return {
    ...students,
    makeStudent: (...args: Parameters<typeof students.makeStudent>) => {
      const student = students.makeStudent(...args);
      for (const t of student.student.forward(false).graph.initializers.values()) {
        if (t.dataType === DataType.FLOAT && t.dims.length > 0) starting.push(new WeakRef(t.data.buffer));
      }
      made.students.push(student.student);
      return student;
    },
  };
});

const work = mkdtempSync(join(tmpdir(), 'bert-compress-starting-values-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("a trained student's starting values", () => {
  it('are dropped once the optimizer holds the parameters, the optimizer once training ends, and the run writes what it trained', async () => {
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
        // (the optimizer's memory, which the student's graphs read while it trains)
        const word = made.students[0]!.forward(false).graph.initializers.get('bert.embeddings.word_embeddings.weight')!;
        made.trainedIn.push(new WeakRef(word.data.buffer));
      },
    });
    expect(starting.length).toBeGreaterThan(10); // (every weight of the student)
    expect(alive).toEqual([0, 0, 0, 0]);
    // once trained, the student reads the best epoch's parameters (read back), not the optimizer's memory
    expect(made.aliveAtSave.length).toBeGreaterThan(0);
    expect(made.aliveAtSave).not.toContain(true);
    // the parameters written are those trained (the best epoch's), not the starting values
    const written = loadModel(output).graph.initializers.get('classifier.weight')!;
    const initial = tinyBert({}, { seed: 4 }).graph.initializers.get('classifier.weight')!;
    expect(Buffer.from(written.data).equals(Buffer.from(initial.data))).toBe(false);
    expect(result.lineage!.epochs).toHaveLength(2);
  });
});
