/**
 * A rerun into a work folder whose checkpoint is of another job names each setting that differs with its value as
 * every message shows a value (valueText): a word quoted ('scaled'), a number as written, none for a missing one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTraining } from '../../src/train/run.ts';
import type { TrainSettings } from '../../src/train/trainer.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';

const work = mkdtempSync(join(tmpdir(), 'bert-compress-job-difference-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the refusal of a checkpoint of another job', () => {
  it("quotes a word setting ('scaled') and shows a missing one as none, where it wrote scaled bare", async () => {
    const glueDir = join(work, 'glue');
    writeGlueTask(glueDir, 'SST-2', 8, ['train', 'dev']);
    const student = writeModelFolder(join(work, 'student'), tinyBert());
    const output = join(work, 'out', 'model.onnx');
    const job = (more: Partial<TrainSettings>, signal?: AbortSignal) =>
      runTraining({
        task: 'SST-2',
        student,
        output,
        glueDir,
        settings: { epochs: 2, batchSize: 4, threads: 1, checkpointEvery: 1, ...more },
        ...(signal ? { signal } : {}),
      });
    const stop = new AbortController();
    stop.abort(); // (stopped after the first step, with a checkpoint)
    expect((await job({ embeddingLr: 'scaled' }, stop.signal)).interrupted).toBe(true);
    const refused = await job({}).then(
      () => 'ran',
      (e: Error) => e.message,
    );
    expect(refused).toMatch(/ of a run with embeddingLr 'scaled' \(this run: none\): rerun with the settings/);
  });
});
