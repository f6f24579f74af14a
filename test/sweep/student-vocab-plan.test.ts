/**
 * A distill step whose student model, given by path, has not its teacher's vocabulary (another number of
 * word-embedding rows, fewer than the ids its tokenizer gives, or a vocab.txt beside it of other tokens) is refused by the sweep's plan, before any point
 * runs, in training's words (checkStudentVocabulary), where its point failed when it made the student, after the
 * teacher's work of the steps before it; so is the point's model, which a distill step without a student trains, of
 * another vocabulary than the teacher the step names. A student of the teacher's vocabulary plans.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tinyBert } from '../helpers/models.ts';
import { planRefusal } from './plan-refusal.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'student-vocab-plan-'));
  writeModelFolder(join(root, 'models', 'teacher'), tinyBert({}, { seed: 1 }));
  writeModelFolder(join(root, 'models', 'same'), tinyBert({ numLayers: 1 }, { seed: 2 }));
  // (vocab.txt: 23 tokens; a table of 12 rows holds the first 12 ids, one of 100 all of them)
  writeModelFolder(join(root, 'models', 'rows'), tinyBert({ numLayers: 1, vocabSize: 12 }, { seed: 3 }));
  writeModelFolder(join(root, 'models', 'rows-100'), tinyBert({ numLayers: 1, vocabSize: 100 }, { seed: 6 }));
  // (also a position table of 8, shorter than the step's maxLength 16: no maxLength mends the vocabulary)
  writeModelFolder(join(root, 'models', 'rows-short'), tinyBert({ numLayers: 1, vocabSize: 12, maxPositions: 8 }, { seed: 5 }));
  // (the teacher's number of rows, its vocab.txt's first two words swapped)
  const swapped = writeModelFolder(join(root, 'models', 'swapped'), tinyBert({ numLayers: 1 }, { seed: 4 }));
  const lines = readFileSync(join(swapped, 'vocab.txt'), 'utf8').split('\n');
  [lines[5], lines[6]] = [lines[6]!, lines[5]!];
  writeFileSync(join(swapped, 'vocab.txt'), lines.join('\n'));
  writeGlueTask(join(root, 'glue'), 'SST-2', 8, ['train', 'dev']);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const file = () => join(root, 'vocab.yaml');
/** Training's refusal of a student of 12 rows, which the teacher's tokenizer's 23 ids go past. */
const rowsLine = () =>
  `student vocabulary (12) differs from the teacher's (128), and ${join(root, 'models', 'teacher', 'vocab.txt')} gives token ids up to 22, past the student's 12 rows: distillation feeds both the tokenizer's ids`;
const refusal = (student: string) =>
  planRefusal(root, 'vocab', ['teacher'], 'kd', [{ pass: 'distill', settings: { epochs: 1, batchSize: 4, maxExamples: 8, student: `models/${student}` } }]);

describe("a sweep's plan refuses a distill step's student model of another vocabulary than its teacher's", () => {
  it("fewer word-embedding rows than the tokenizer's ids, naming the table they go past", async () => {
    expect(await refusal('rows')).toBe(`${file()}: pipeline 'kd' on model 'teacher', step 1 (distill): ${rowsLine()}`);
  });

  it('plans a student of other rows that hold every id of the tokenizer (a teacher padded past its vocabulary)', async () => {
    expect(await refusal('rows-100')).toBeUndefined();
  });

  it('before the position table a shorter maxLength would fit (the length refused first, then the vocabulary)', async () => {
    const steps = [{ pass: 'distill', settings: { epochs: 1, batchSize: 4, maxExamples: 8, maxLength: 16, student: 'models/rows-short' } }];
    expect(await planRefusal(root, 'vocab', ['teacher'], 'kd', steps)).toBe(`${file()}: pipeline 'kd' on model 'teacher', step 1 (distill): ${rowsLine()}`);
  });

  it('a vocab.txt of other tokens beside it', async () => {
    expect(await refusal('swapped')).toMatch(
      new RegExp(
        `^${file()}: pipeline 'kd' on model 'teacher', step 1 \\(distill\\): student vocabulary \\(${join(root, 'models', 'swapped', 'vocab.txt')}\\) differs from the teacher's \\(${join(root, 'models', 'teacher', 'vocab.txt')}\\): .*; distillation needs the same tokenizer$`,
      ),
    );
  });

  it("plans a student of the teacher's vocabulary", async () => {
    expect(await refusal('same')).toBeUndefined();
  });

  it("the point's model, which a distill step without a student trains from a teacher it names, after a graph step too", async () => {
    const from = (model: string, steps: unknown[]) => planRefusal(root, 'vocab', [model], 'kd', steps);
    const kd = { pass: 'distill', settings: { epochs: 1, batchSize: 4, maxExamples: 8, teacher: 'models/teacher' } };
    expect(await from('rows-100', [kd])).toBeUndefined();
    expect(await from('swapped', [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }, kd])).toMatch(
      new RegExp(
        `^${file()}: pipeline 'kd' on model 'swapped', step 2 \\(distill\\): student vocabulary \\(${join(root, 'models', 'swapped', 'vocab.txt')}\\) differs from the teacher's \\(${join(root, 'models', 'teacher', 'vocab.txt')}\\): .*; distillation needs the same tokenizer$`,
      ),
    );
    expect(await from('same', [kd])).toBeUndefined();
  });
});
