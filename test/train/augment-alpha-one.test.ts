/**
 * A task stage with --augment and --alpha 1 (the labels alone, no teacher term) says as it starts that its augmented
 * examples, which have no gold label, add nothing to the loss; with intermediate-layer KD, whose losses read them, or
 * a teacher term, it says nothing of it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type DistillSettings, runTraining } from '../../src/train/run.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';

const work = mkdtempSync(join(tmpdir(), 'bert-compress-augment-alpha-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const teacher = writeModelFolder(join(work, 'teacher'), tinyBert());
const glueDir = join(work, 'glue');
writeGlueTask(glueDir, 'SST-2', 8, ['train', 'dev']);

const WARNING =
  "warning: --augment 1 with --alpha 1: augmented examples have no gold label and alpha 1 gives the teacher no weight, so they add nothing to the loss but time (and dilute each batch's labelled rows); give --alpha below 1 for the teacher's term to read them, or leave out --augment";

async function warnings(name: string, distill: Partial<DistillSettings>): Promise<string[]> {
  const lines: string[] = [];
  const r = await runTraining({
    task: 'SST-2',
    teacher,
    student: 'bert:layers=1,hidden=16,heads=2,intermediate=32',
    glueDir,
    cacheDir: join(work, 'cache'),
    output: join(work, name, 'model.onnx'),
    settings: { epochs: 1, batchSize: 8, threads: 1, evalEachEpoch: false },
    distill,
    log: (l) => lines.push(l),
  });
  expect(r.lineage?.data.augmented).toBeGreaterThan(0);
  return lines.filter((l) => l.startsWith('warning: --augment'));
}

describe('--augment with --alpha 1', () => {
  it('warns that the augmented examples add nothing to the loss', async () => {
    expect(await warnings('alpha-1', { augment: 1, alpha: 1 })).toEqual([WARNING]);
  });

  it('says nothing with a teacher term, or with intermediate-layer KD, whose losses read the augmented examples', async () => {
    expect(await warnings('alpha-half', { augment: 1, alpha: 0.5 })).toEqual([]);
    expect(await warnings('intermediate', { augment: 1, alpha: 1, intermediate: 'tinybert', intermediateEpochs: 1 })).toEqual([]);
  });
});
