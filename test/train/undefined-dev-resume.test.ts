/**
 * An epoch whose dev score is undefined (Pearson and Spearman of constant STS-B predictions: NaN): its line says why,
 * and a resumed run reads its record back from the checkpoint's JSON, where NaN is written as null, as the
 * uninterrupted run holds it: NaN, shown '-' by the summary, where null read as 0.00.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { formatSummary } from '../../src/cli/training.ts';
import { runTraining } from '../../src/train/run.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';

/** Set to make the next model write fail as a kill before it would (the checkpoints stay). */
const killBeforeWrite = vi.hoisted(() => ({ armed: false }));
vi.mock('../../src/onnx/save.ts', async (original) => {
  const { killableSave } = await import('../helpers/kill-before-write.ts');
  return killableSave(await original<typeof import('../../src/onnx/save.ts')>(), killBeforeWrite);
});

const work = mkdtempSync(join(tmpdir(), 'bert-compress-undefined-dev-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// every weight 0: every example's hidden states are 0, so the regression output is the classifier's bias for all of
// them, and only that bias learns (the other gradients are 0): constant dev predictions after every step
const student = writeModelFolder(join(work, 'student'), tinyBert({ numLabels: 1 }, { std: 0 }), { regression: true });
const glueDir = join(work, 'glue');
writeGlueTask(glueDir, 'STS-B', 8, ['train', 'dev']);

const job = (name: string, log?: (line: string) => void): Parameters<typeof runTraining>[0] => ({
  task: 'STS-B',
  student,
  output: join(work, name, 'model.onnx'),
  glueDir,
  maxLength: 16,
  settings: { epochs: 1, batchSize: 4, lr: 1e-3, threads: 1 },
  ...(log ? { log } : {}),
});

describe('an undefined dev score across a resume', () => {
  it('is NaN in the resumed run, as the uninterrupted run holds it (not null, which the summary showed as 0.00)', async () => {
    killBeforeWrite.armed = true;
    const killedLogs: string[] = [];
    await expect(runTraining(job('killed', (l) => killedLogs.push(l)))).rejects.toThrow('killed before the model was written');
    // (the epoch's line says why, where it said 'dev STS-B NaN')
    expect(killedLogs.filter((l) => l.startsWith('epoch 1:'))).toEqual([
      expect.stringMatching(/^epoch 1: loss \d+\.\d{4}, dev STS-B: Pearson and Spearman undefined \(constant predictions\)$/),
    ]);
    const logs: string[] = [];
    const resumed = await runTraining(job('killed', (l) => logs.push(l)));
    expect(logs).toContain('resuming from step 2: all 1 epoch was done, nothing is left to train');
    const first = resumed.lineage!.epochs[0]!;
    expect(first.score).toBeNaN();
    expect(first.metrics).toEqual({ pearson: Number.NaN, spearmanr: Number.NaN });
    const summary = formatSummary(resumed.lineage!, 0);
    expect(summary.filter((l) => /\b0\.00\b/.test(l))).toEqual([]);
  });
});
