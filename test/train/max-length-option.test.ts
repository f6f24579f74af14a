/**
 * runTraining's maxLength (the library's --max-length) is checked as the CLI, a sweep and eval check it
 * (checkMaxLength: an integer from 2, which leaves a token of text between [CLS] and [SEP]), before anything is
 * read or written, where maxLength 1 was taken and trained on sequences of [CLS] alone.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SettingsError } from '../../src/errors.ts';
import { runTraining } from '../../src/train/run.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';

const work = mkdtempSync(join(tmpdir(), 'bert-compress-max-length-option-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const glueDir = join(work, 'glue');
writeGlueTask(glueDir, 'SST-2', 8, ['train', 'dev']);
const model = writeModelFolder(join(work, 'model'), tinyBert());
const settings = { epochs: 1, batchSize: 4, threads: 1 };

describe('runTraining maxLength', () => {
  it.each([
    [1, '--max-length 1: expected an integer from 2 to 2^53 − 1'],
    [0, '--max-length 0: expected an integer from 2 to 2^53 − 1'],
    [2.5, '--max-length 2.5: expected an integer from 2 to 2^53 − 1'],
  ])('refuses maxLength %s in the CLI wording before writing anything', async (maxLength, message) => {
    const output = join(work, `out-${maxLength}`, 'model.onnx');
    await expect(runTraining({ task: 'SST-2', student: model, glueDir, output, maxLength, settings })).rejects.toThrow(new SettingsError(message));
    await expect(runTraining({ task: 'SST-2', teacher: model, student: 'every-other', glueDir, output, maxLength, settings })).rejects.toThrow(
      new SettingsError(message),
    );
    expect(existsSync(join(work, `out-${maxLength}`))).toBe(false);
  });
});

// (tokenizer_config.json's model_max_length is the length where neither --max-length nor config.json's max_length is
// given: one leaving no room for text is refused naming that file, as eval refuses it, where loadTrainingSet's check
// named a --max-length never given ('--max-length -1: expected an integer from 2'), and 0 or below had trained at 128)
describe("runTraining without maxLength, under tokenizer_config.json's model_max_length", () => {
  it.each([-1, 0, 1])('refuses model_max_length %s naming tokenizer_config.json, before writing anything', async (length) => {
    const dir = writeModelFolder(join(work, `tokenizer-length-${length}`), tinyBert());
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'bert', num_labels: 2, id2label: { 0: 'negative', 1: 'positive' } }));
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ model_max_length: length }));
    const output = join(work, `out-tokenizer-${length}`, 'model.onnx');
    await expect(runTraining({ task: 'SST-2', student: dir, glueDir, output, settings })).rejects.toThrow(
      new SettingsError(
        `${join(dir, 'tokenizer_config.json')}: model_max_length ${length} leaves no room for text after 2 special tokens: give --max-length 3 or more, or fix model_max_length`,
      ),
    );
    expect(existsSync(join(work, `out-tokenizer-${length}`))).toBe(false);
  });
});

// (a student model whose config.json names its labels is read with them; the length is still the teacher's
// config.json max_length, which a refusal names, where it named the student's config.json with the teacher's length)
describe("distill's length from the teacher's config.json, a student model's config.json naming its labels", () => {
  const student = writeModelFolder(join(work, 'student-16'), tinyBert({ maxPositions: 16 }, { seed: 3 }), { maxLength: 16 });
  it.each([
    [
      32,
      (teacher: string) =>
        `${join(student, 'model.onnx')}: ${join(teacher, 'config.json')}: max_length 32 is beyond the model's position table (16 tokens at most); give --max-length 16 or less`,
    ],
    [2, (teacher: string) => `${join(teacher, 'config.json')}: max_length 2 leaves no room for text after 2 special tokens: give --max-length 3 or more`],
  ])("a teacher's max_length %s is refused naming the teacher's config.json", async (length, message) => {
    const teacher = writeModelFolder(join(work, `teacher-${length}`), tinyBert(), { maxLength: length });
    const output = join(work, `out-teacher-${length}`, 'model.onnx');
    const cacheDir = join(work, `cache-teacher-${length}`);
    await expect(runTraining({ task: 'SST-2', teacher, student, glueDir, cacheDir, output, settings })).rejects.toThrow(new SettingsError(message(teacher)));
    expect(existsSync(join(work, `out-teacher-${length}`))).toBe(false);
    expect(existsSync(cacheDir)).toBe(false);
  });
});
