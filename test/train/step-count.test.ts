/**
 * Epochs whose optimizer steps are past 2^53 − 1 (no step counter holds them exactly) are refused in one line naming
 * --epochs and the steps they make, before any session opens, where the schedule refused them as its own internal
 * field ("schedule 'totalSteps': expected an integer from 1 to 2^53 − 1, …").
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTraining } from '../../src/train/run.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';
import { asyncRefusal } from '../helpers/refusal.ts';

const work = mkdtempSync(join(tmpdir(), 'bert-compress-step-count-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the optimizer steps of a run', () => {
  it('past 2^53 − 1 are refused naming --epochs, nothing written', async () => {
    const student = writeModelFolder(join(work, 'student'), tinyBert());
    const glueDir = join(work, 'glue');
    writeGlueTask(glueDir, 'SST-2', 16, ['train', 'dev']);
    const output = join(work, 'out', 'model.onnx');
    const epochs = Number.MAX_SAFE_INTEGER;
    const run = runTraining({ task: 'SST-2', student, glueDir, output, settings: { epochs, batchSize: 1, threads: 1, evalEachEpoch: false } });
    expect(await asyncRefusal(run)).toBe(
      `--epochs ${epochs}: 16 training examples in batches of 1 make ${16 * epochs} optimizer steps, past 2^53 − 1: give fewer epochs`,
    );
    expect(existsSync(join(work, 'out'))).toBe(false);
  });
});
