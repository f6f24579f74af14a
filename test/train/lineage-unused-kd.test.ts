/**
 * A distill run's lineage records the prediction-layer settings its loss used: with alpha 1 (the labels alone, no
 * teacher term) neither temperature nor logitLoss, as a sweep reads them unused, where it recorded the defaults.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTraining } from '../../src/train/run.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';

const work = mkdtempSync(join(tmpdir(), 'bert-compress-lineage-kd-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const teacher = writeModelFolder(join(work, 'teacher'), tinyBert());
const glueDir = join(work, 'glue');
writeGlueTask(glueDir, 'SST-2', 8, ['train', 'dev']);

const distil = (name: string, alpha: number) =>
  runTraining({
    task: 'SST-2',
    teacher,
    student: 'bert:layers=1,hidden=16,heads=2,intermediate=32',
    glueDir,
    cacheDir: join(work, 'cache'),
    output: join(work, name, 'model.onnx'),
    settings: { epochs: 1, batchSize: 4, threads: 1, evalEachEpoch: false },
    distill: { alpha },
  });

describe("a distill lineage's prediction-layer settings", () => {
  it('leave out temperature and logitLoss with alpha 1 (no teacher term), and keep them below it', async () => {
    const labelsOnly = (await distil('alpha-1', 1)).lineage!;
    expect(labelsOnly.loss).toEqual([{ kind: 'hard-ce', weight: 1 }]);
    expect(labelsOnly.distill).toEqual({ alpha: 1, stage: 'task', augment: 0 });
    expect((await distil('alpha-half', 0.5)).lineage!.distill).toEqual({ alpha: 0.5, temperature: 2, logitLoss: 'ce', stage: 'task', augment: 0 });
  });
});
