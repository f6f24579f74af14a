/**
 * A checkpoint written before checkpoints named the student by its identity (stop 42's: `canonical rebuild of
 * /path/model.onnx`, the path it was read from) and rerun with other settings: the refusal names what differs (the
 * learning rate), not the student, which is the same file read from the same place.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCheckpoint, saveCheckpoint } from '../../src/train/checkpoint.ts';
import { runTraining } from '../../src/train/run.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';

const work = mkdtempSync(join(tmpdir(), 'bert-compress-legacy-checkpoint-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('a stop-42 checkpoint of a student given by path, rerun with another --lr', () => {
  it('is refused naming the learning rate only', async () => {
    const glueDir = join(work, 'glue');
    writeGlueTask(glueDir, 'SST-2', 8, ['train', 'dev']);
    const student = writeModelFolder(join(work, 'student'), tinyBert());
    const output = join(work, 'out', 'model.onnx');
    const job = (lr: number, signal?: AbortSignal) =>
      runTraining({
        task: 'SST-2',
        student,
        output,
        glueDir,
        settings: { epochs: 2, batchSize: 4, lr, threads: 1, checkpointEvery: 1 },
        ...(signal ? { signal } : {}),
      });
    const stop = new AbortController();
    stop.abort(); // (stopped after the first step, with a checkpoint)
    expect((await job(1e-3, stop.signal)).interrupted).toBe(true);
    // the checkpoint as stop 42's code wrote it: the student named by the path it was read from
    const workDir = `${output}.train`;
    const c = loadCheckpoint(workDir)!;
    const extra = c.extra as { job: { student: string } };
    expect(extra.job.student).toBe('canonical rebuild of a model file');
    extra.job.student = `canonical rebuild of ${student}`;
    saveCheckpoint(workDir, c);

    const refused = await job(2e-3).then(
      () => 'ran',
      (e: Error) => e.message,
    );
    expect(refused).toMatch(/holds the checkpoints \(step 1\) of a run with lr 0\.001 \(this run: 0\.002\): rerun with the settings/);
  });
});
