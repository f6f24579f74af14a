/**
 * A trained model's lineage records the onnxruntime threads its run used: a model's bytes can depend on the count
 * (test/runtime/matmul-threads.test.ts), so the lineage says which --threads repeats them on another machine. A run
 * of --threads 0 (one per physical core, the default) records the count that was, where it recorded 0; a run resumed
 * at another count records each count its steps ran with.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultThreads } from '../../src/runtime/threads.ts';
import { runTraining } from '../../src/train/run.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';
import { tinyDistill } from '../helpers/tiny-distill.ts';

const run = tinyDistill('bert-compress-lineage-threads-');

describe("a trained model's lineage", () => {
  it('records the threads the run used: those given, or for 0 one per physical core', async () => {
    expect((await run.distill('one', {}, { threads: 1 })).lineage!.settings.threads).toBe(1);
    const cores = (await run.distill('default', {}, { threads: 0 })).lineage!.settings.threads;
    expect(cores).toBe(defaultThreads());
    expect(cores).toBeGreaterThan(0);
  });
});

// (where it recorded the count of the process that finished the run alone: 2, of a model whose first 4 steps ran at 1)
describe('a run stopped, then resumed at another thread count', () => {
  const work = mkdtempSync(join(tmpdir(), 'bert-compress-lineage-threads-resumed-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const teacher = writeModelFolder(join(work, 'teacher'), tinyBert());
  const glueDir = join(work, 'glue');
  writeGlueTask(glueDir, 'SST-2', 24, ['train', 'dev']);
  /** 24 examples at batch 4: 6 steps in the one epoch. */
  const job = (threads: number, more: Partial<Parameters<typeof runTraining>[0]> = {}): Parameters<typeof runTraining>[0] => ({
    task: 'SST-2',
    teacher,
    student: 'bert:layers=1,hidden=16,heads=2,intermediate=32',
    glueDir,
    cacheDir: join(work, 'cache'),
    output: join(work, 'out', 'model.onnx'),
    settings: { epochs: 1, batchSize: 4, threads, evalEachEpoch: false },
    ...more,
  });

  it('records every count its steps ran with, in order, and the last as settings.threads; one count records none', async () => {
    const stop = new AbortController();
    const stopped = await runTraining(job(1, { signal: stop.signal, onStep: (s) => s.step === 4 && stop.abort() }));
    expect(stopped.interrupted).toBe(true);
    const logs: string[] = [];
    const resumed = (await runTraining(job(2, { log: (l) => logs.push(l) }))).lineage!;
    expect(logs).toContain('resuming from step 4 (epoch 1)');
    expect(resumed.settings.threads).toBe(2);
    expect(resumed.trainedThreads).toEqual([1, 2]);
    // (a run of one count: its lineage as before)
    const whole = (await runTraining(job(1, { output: join(work, 'whole', 'model.onnx') }))).lineage!;
    expect(whole.settings.threads).toBe(1);
    expect(whole).not.toHaveProperty('trainedThreads');
  });
});
