/**
 * The model `train` writes is the best dev epoch's, not the last one's: a tiny STS-B run whose later epochs score
 * below its first (lr 1e-2, seed 1: the dev score falls after epoch 1) writes the weights that scored best, and its
 * lineage names that epoch. The best epoch is the first of the highest dev scores, the score being the task's GLUE
 * score (STS-B: the mean of Pearson and Spearman).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { evaluate } from '../../src/eval/evaluate.ts';
import { runTraining } from '../../src/train/run.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';

const work = mkdtempSync(join(tmpdir(), 'best-epoch-written-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the model written after training', () => {
  it("is the best dev epoch's when a later epoch scores lower", async () => {
    const model = writeModelFolder(join(work, 'model'), tinyBert({ numLabels: 1 }), { regression: true });
    const glueDir = join(work, 'glue');
    writeGlueTask(glueDir, 'STS-B', 16, ['train', 'dev']);
    const output = join(work, 'out', 'model.onnx');
    const r = await runTraining({
      task: 'STS-B',
      student: join(model, 'model.onnx'),
      glueDir,
      cacheDir: join(work, 'cache'),
      output,
      settings: { epochs: 3, batchSize: 4, threads: 1, evalEachEpoch: true, seed: 1, lr: 1e-2 },
      log: () => {},
    });
    const epochs = r.lineage!.epochs;
    const scores = epochs.map((e) => e.score!);
    const first = scores.indexOf(Math.max(...scores)) + 1;
    expect(r.lineage!.bestEpoch).toBe(first);
    // (the case this test is for: were the last epoch the best, its weights would be written either way)
    expect(first).toBeLessThan(epochs.length);
    const written = await evaluate({ model: output, tasks: ['STS-B'], glueDir, threads: 1 });
    expect(written.tasks[0]!.metrics).toEqual(epochs[first - 1]!.metrics);
    expect(written.tasks[0]!.metrics).not.toEqual(epochs.at(-1)!.metrics);
  });
});
