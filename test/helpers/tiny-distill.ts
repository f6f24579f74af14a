/**
 * The setting of the training tests that distill a tiny student once or twice and read what the run says or records:
 * a tiny BERT SST-2 teacher folder and 8 SST-2 rows (train and dev) in a temporary folder of the test file's own
 * (removed after its tests), and `distill` running a task stage of a 1-layer student from them (1 epoch, 1 thread unless
 * given, no evaluation per epoch).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { type DistillSettings, runTraining } from '../../src/train/run.ts';
import { writeGlueTask, writeModelFolder } from './model-folder.ts';
import { tinyBert } from './models.ts';

/** Writes the teacher and the rows (the folder named by `prefix`); `distill` writes the student `name`/model.onnx. */
export function tinyDistill(prefix: string): {
  distill(
    name: string,
    distill: Partial<DistillSettings>,
    opts?: { batchSize?: number; threads?: number; log?: (line: string) => void },
  ): ReturnType<typeof runTraining>;
} {
  const work = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const teacher = writeModelFolder(join(work, 'teacher'), tinyBert());
  const glueDir = join(work, 'glue');
  writeGlueTask(glueDir, 'SST-2', 8, ['train', 'dev']);
  return {
    distill: (name, distill, { batchSize = 4, threads = 1, log = () => {} } = {}) =>
      runTraining({
        task: 'SST-2',
        teacher,
        student: 'bert:layers=1,hidden=16,heads=2,intermediate=32',
        glueDir,
        cacheDir: join(work, 'cache'),
        output: join(work, name, 'model.onnx'),
        settings: { epochs: 1, batchSize, threads, evalEachEpoch: false },
        distill,
        log,
      }),
  };
}
