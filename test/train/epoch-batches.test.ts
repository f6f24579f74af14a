/**
 * The training loop makes each batch as its step comes, where it padded an epoch's batches all at once before its
 * first step and held them through the epoch (SST-2's 67,349 examples: 66 MB of padded int64 ids, tokens and types;
 * a set of MNLI's size about 1 GB, beside the run's weights). A run resumed mid-epoch makes only the batches it has
 * left. The batches themselves, and so the model's bytes, are as before (test/train/resume.test.ts,
 * threads-reproducible.test.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { runTraining } from '../../src/train/run.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';

/** Batches padded so far (every training batch is padded by tokenBatch). */
const padded = vi.hoisted(() => ({ count: 0 }));
vi.mock('../../src/eval/batching.ts', async (importOriginal) => {
  const batching = await importOriginal<typeof import('../../src/eval/batching.ts')>();
  return {
    ...batching,
    tokenBatch: (...args: Parameters<typeof batching.tokenBatch>) => {
      padded.count++;
      return batching.tokenBatch(...args);
    },
  };
});

const work = mkdtempSync(join(tmpdir(), 'bert-compress-epoch-batches-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const model = writeModelFolder(join(work, 'model'), tinyBert({ numLayers: 1 }));
const glueDir = join(work, 'glue');
writeGlueTask(glueDir, 'SST-2', 24, ['train', 'dev']);

/** 24 examples at batch 4: 6 steps an epoch. */
const job = (more: Partial<Parameters<typeof runTraining>[0]> = {}): Parameters<typeof runTraining>[0] => ({
  task: 'SST-2',
  student: model,
  glueDir,
  output: join(work, 'out', 'model.onnx'),
  settings: { epochs: 2, batchSize: 4, threads: 1, evalEachEpoch: false, checkpointEvery: 1 },
  log: () => {},
  ...more,
});

describe('the batches of an epoch', () => {
  it('are made one at a time, each before its step, not all before the first', async () => {
    const before: number[] = [];
    padded.count = 0;
    let last = 0;
    const stop = new AbortController();
    const stopped = await runTraining(
      job({
        signal: stop.signal,
        onStep: (s) => {
          before.push(padded.count - last);
          last = padded.count;
          if (s.step === 9) stop.abort();
        },
      }),
    );
    expect(stopped.interrupted).toBe(true);
    // (one batch padded for each step, in both epochs)
    expect(before).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1]);
    // resumed at step 9 (epoch 2's fourth): the three batches left, one a step
    padded.count = 0;
    const counts: number[] = [];
    const logs: string[] = [];
    await runTraining(job({ onStep: () => counts.push(padded.count), log: (l) => logs.push(l) }));
    expect(logs).toContain('resuming from step 9 (epoch 2)');
    expect(counts).toEqual([1, 2, 3]);
  });
});
