/**
 * Epochs whose optimizer steps are past 2^53 − 1 (no step counter holds them exactly) are refused in one line naming
 * --epochs, the train file and the steps they make (counted exactly), before any session opens, where the schedule
 * refused them as its own internal field ("schedule 'totalSteps': expected an integer from 1 to 2^53 − 1, …").
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

// (the train file of distillRun `name`)
const trainFile = (name: string) => join(work, `glue-${name}`, 'SST-2', 'train.tsv');

// (a distillation of a 1-layer student from a tiny teacher on SST-2 of 8 examples, batches of 1: its folders under `name`)
function distillRun(name: string, epochs: number, distill: Parameters<typeof runTraining>[0]['distill'], log?: (line: string) => void) {
  const teacher = writeModelFolder(join(work, `teacher-${name}`), tinyBert());
  const glueDir = join(work, `glue-${name}`);
  writeGlueTask(glueDir, 'SST-2', 8, ['train', 'dev']);
  const cacheDir = join(work, `cache-${name}`);
  const output = join(work, `out-${name}`);
  const run = runTraining({
    task: 'SST-2',
    teacher,
    student: 'bert:layers=1,hidden=16,heads=2,intermediate=32',
    glueDir,
    cacheDir,
    output: join(output, 'model.onnx'),
    settings: { epochs, batchSize: 1, threads: 1, evalEachEpoch: false },
    distill,
    ...(log ? { log } : {}),
  });
  return { run, cacheDir, output };
}

describe('the optimizer steps of a run', () => {
  it('past 2^53 − 1 are refused naming --epochs, nothing written', async () => {
    const student = writeModelFolder(join(work, 'student'), tinyBert());
    const glueDir = join(work, 'glue');
    writeGlueTask(glueDir, 'SST-2', 16, ['train', 'dev']);
    const output = join(work, 'out', 'model.onnx');
    const epochs = Number.MAX_SAFE_INTEGER;
    const run = runTraining({ task: 'SST-2', student, glueDir, output, settings: { epochs, batchSize: 1, threads: 1, evalEachEpoch: false } });
    expect(await asyncRefusal(run)).toBe(
      `--epochs ${epochs}: 16 training examples of ${join(glueDir, 'SST-2', 'train.tsv')} in batches of 1 make ${16n * BigInt(epochs)} optimizer steps, past 2^53 − 1: give fewer epochs`,
    );
    expect(existsSync(join(work, 'out'))).toBe(false);
  });

  // (a two-phase distillation, intermediate then prediction KD: the prediction phase's --epochs were refused only once
  // the intermediate phase had trained, the teacher's scores and features computed and cached)
  it("of a distillation's later phase are refused before the first phase trains, nothing computed or written", async () => {
    const epochs = Number.MAX_SAFE_INTEGER;
    const lines: string[] = [];
    const { run, cacheDir, output } = distillRun('two', epochs, { intermediate: 'tinybert', intermediateEpochs: 1 }, (l) => lines.push(l));
    expect(await asyncRefusal(run)).toBe(
      `--epochs ${epochs}: 8 training examples of ${trainFile('two')} in batches of 1 make ${8n * BigInt(epochs)} optimizer steps, past 2^53 − 1: give fewer epochs`,
    );
    expect(lines.filter((l) => /^intermediate-layer distillation|teacher outputs/.test(l))).toEqual([]);
    expect(existsSync(output)).toBe(false);
    expect(existsSync(join(cacheDir, 'teacher-logits'))).toBe(false);
  });
  // (--augment: the steps are those of the augmented set, the examples and their variants; refused only once the
  // variants had been made and cached)
  it('of a distillation with --augment are counted over the augmented set and refused before any variant is made', async () => {
    // (within 2^53 − 1 over the 8 examples, past it over the 8 × 3 the augmented set holds)
    const epochs = Math.floor(Number.MAX_SAFE_INTEGER / 8);
    const { run, cacheDir, output } = distillRun('augment', epochs, { augment: 2 });
    expect(await asyncRefusal(run)).toBe(
      `--epochs ${epochs}: 24 training examples (8 of ${trainFile('augment')}, 2 augmented variants of each) in batches of 1 make ${24n * BigInt(epochs)} optimizer steps, past 2^53 − 1: give fewer epochs`,
    );
    expect(existsSync(join(cacheDir, 'augment'))).toBe(false);
    expect(existsSync(output)).toBe(false);
  });
});
