/**
 * A config.json `max_length` that leaves no room for text after the tokenizer's special tokens (2 under BERT's
 * [CLS] … [SEP], 3 for a sentence pair), the length eval, calibration and training read where no --max-length is
 * given: refused in one line naming config.json, where tokenizing the first example said '--max-length 2 leaves no
 * room for text', a flag never given. A --max-length given is still named as the flag. So too a tokenizer_config.json
 * `model_max_length` (the length where neither is given), named with its file and key alone, where the refusal said
 * "--max-length 0 (or, where none is given, …'s model_max_length 0)".
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCalibration } from '../../src/eval/calibration.ts';
import { evaluate } from '../../src/eval/evaluate.ts';
import { runTraining } from '../../src/train/run.ts';
import { tinyBert } from '../helpers/models.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { asyncRefusal } from '../helpers/refusal.ts';

const work = mkdtempSync(join(tmpdir(), 'bc-config-max-length-room-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const glueDir = join(work, 'glue');
writeGlueTask(glueDir, 'SST-2', 4, ['train', 'dev']);
writeGlueTask(glueDir, 'STS-B', 4, ['train', 'dev']);
// (a single text's two special tokens fill 2; a pair's three fill 3, where a single text still has room)
const two = writeModelFolder(join(work, 'two'), tinyBert({ numLabels: 2 }), { maxLength: 2 });
const three = writeModelFolder(join(work, 'three'), tinyBert({ numLabels: 1 }), { regression: true, maxLength: 3 });
const line = (dir: string, length: number, specials: number, pair: boolean) =>
  `${join(dir, 'config.json')}: max_length ${length} leaves no room for text after ${specials} special tokens${pair ? ' (a sentence pair)' : ''}: give --max-length ${specials + 1} or more`;

describe('a config.json max_length that leaves no room for text', () => {
  it('eval names config.json, and --max-length where it is given', async () => {
    expect(await asyncRefusal(evaluate({ model: two, tasks: ['SST-2'], glueDir }))).toBe(line(two, 2, 2, false));
    expect(await asyncRefusal(evaluate({ model: three, tasks: ['STS-B'], glueDir }))).toBe(line(three, 3, 3, true));
    expect(await asyncRefusal(evaluate({ model: two, tasks: ['SST-2'], glueDir, maxLength: 2 }))).toBe(
      '--max-length 2 leaves no room for text after 2 special tokens: give --max-length 3 or more',
    );
  });

  it('calibration names config.json', async () => {
    expect(await asyncRefusal(loadCalibration({ model: two, task: 'SST-2', glueDir }))).toBe(line(two, 2, 2, false));
    expect(await asyncRefusal(loadCalibration({ model: three, task: 'STS-B', glueDir }))).toBe(line(three, 3, 3, true));
  });

  it('train names config.json before any work', async () => {
    const run = runTraining({ task: 'STS-B', student: three, output: join(work, 'out', 'model.onnx'), glueDir, settings: { epochs: 1 } });
    expect(await asyncRefusal(run)).toBe(line(three, 3, 3, true));
  });
});

/** `dir` (a model folder) with no config.json max_length and tokenizer_config.json's model_max_length `length`. */
function tokenizerLength(dir: string, length: number): string {
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  delete config.max_length;
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ model_max_length: length }));
  return dir;
}
const zero = tokenizerLength(writeModelFolder(join(work, 'zero'), tinyBert({ numLabels: 2 })), 0);
const twoAndAHalf = tokenizerLength(writeModelFolder(join(work, 'two-and-a-half'), tinyBert({ numLabels: 2 })), 2.5);
const pairThree = tokenizerLength(writeModelFolder(join(work, 'pair-three'), tinyBert({ numLabels: 1 }), { regression: true }), 3);
const modelMaxLine = (dir: string, length: number, specials: number, pair: boolean) =>
  `${join(dir, 'tokenizer_config.json')}: model_max_length ${length} leaves no room for text after ${specials} special tokens${pair ? ' (a sentence pair)' : ''}: give --max-length ${specials + 1} or more, or fix model_max_length`;

describe('a tokenizer_config.json model_max_length that leaves no room for text, no --max-length given', () => {
  it('eval names the file and key alone, and --max-length alone where it is given', async () => {
    expect(await asyncRefusal(evaluate({ model: zero, tasks: ['SST-2'], glueDir }))).toBe(modelMaxLine(zero, 0, 2, false));
    expect(await asyncRefusal(evaluate({ model: pairThree, tasks: ['STS-B'], glueDir }))).toBe(modelMaxLine(pairThree, 3, 3, true));
    expect(await asyncRefusal(evaluate({ model: zero, tasks: ['SST-2'], glueDir, maxLength: 2 }))).toBe(
      '--max-length 2 leaves no room for text after 2 special tokens: give --max-length 3 or more',
    );
  });

  it('calibration and train name the file and key alone', async () => {
    expect(await asyncRefusal(loadCalibration({ model: zero, task: 'SST-2', glueDir }))).toBe(modelMaxLine(zero, 0, 2, false));
    const run = runTraining({ task: 'STS-B', student: pairThree, output: join(work, 'out-3', 'model.onnx'), glueDir, settings: { epochs: 1 } });
    expect(await asyncRefusal(run)).toBe(modelMaxLine(pairThree, 3, 3, true));
  });
});

describe('a model_max_length of no whole number (2.5, read as 2)', () => {
  it('is quoted as the file writes it, where the refusal quoted the 2 read', async () => {
    expect(await asyncRefusal(evaluate({ model: twoAndAHalf, tasks: ['SST-2'], glueDir }))).toBe(
      `${join(twoAndAHalf, 'tokenizer_config.json')}: model_max_length 2.5 leaves no room for text after 2 special tokens: give --max-length 3 or more, or fix model_max_length`,
    );
    expect(await asyncRefusal(loadCalibration({ model: twoAndAHalf, task: 'SST-2', glueDir }))).toBe(
      `${join(twoAndAHalf, 'tokenizer_config.json')}: model_max_length 2.5 leaves no room for text after 2 special tokens: give --max-length 3 or more, or fix model_max_length`,
    );
  });
});
