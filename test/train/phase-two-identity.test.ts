/**
 * A two-phase distillation (--intermediate tinybert: intermediate-layer, then prediction-layer KD) of a student read
 * from a model file, stopped in its second phase, then rerun with the same student's file at another path (a sweep
 * folder moved or copied, a path spelled another way): the second phase resumes from its checkpoint, as the first
 * phase does, where its student was named by the path of the file the first phase's was read from.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTraining } from '../../src/train/run.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';

const work = mkdtempSync(join(tmpdir(), 'bert-compress-phase-two-identity-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("a two-phase distillation's second phase resumes with the student's file at another path", () => {
  const teacher = writeModelFolder(join(work, 'teacher'), tinyBert());
  const before = writeModelFolder(join(work, 'a', 'student'), tinyBert({ numLayers: 1 }, { seed: 7 }));
  const glueDir = join(work, 'glue');
  writeGlueTask(glueDir, 'SST-2', 16, ['train', 'dev']);
  const job = (student: string, more: Partial<Parameters<typeof runTraining>[0]> = {}): Parameters<typeof runTraining>[0] => ({
    task: 'SST-2',
    teacher,
    student,
    glueDir,
    cacheDir: join(work, 'cache'),
    output: join(work, 'out', 'model.onnx'),
    settings: { epochs: 1, batchSize: 4, threads: 1 },
    distill: { intermediate: 'tinybert' },
    ...more,
  });

  it('stopped after the first step of phase 2, rerun with the student copied elsewhere: phase 2 resumes from step 1', async () => {
    const stop = new AbortController();
    let phase = 0;
    const stopped = await runTraining(
      job(before, {
        signal: stop.signal,
        log: (l) => (l.startsWith('phase ') ? phase++ : undefined),
        onStep: (s) => (phase === 2 && s.step === 1 ? stop.abort() : undefined),
      }),
    );
    expect(stopped.interrupted).toBe(true);
    expect(phase).toBe(2);

    const after = join(work, 'b', 'student');
    cpSync(before, after, { recursive: true });
    const logs: string[] = [];
    const resumed = await runTraining(job(after, { log: (l) => logs.push(l) }));
    expect(resumed.interrupted).toBe(false);
    expect(logs.filter((l) => /resuming|starting over/.test(l))).toEqual([
      'resuming from step 4: all 1 epoch was done, nothing is left to train',
      'resuming from step 1 (epoch 1)',
    ]);
  });
});
