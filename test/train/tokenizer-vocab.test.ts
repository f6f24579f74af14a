/**
 * A tokenizer whose ids the model has no rows for (a --tokenizer of another vocabulary, as evaluation refuses it):
 * `compress train` and `compress distill` refuse it in one line naming both before any training or write, where
 * onnxruntime's Gather failed mid-run with a stack trace.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import { DataError } from '../../src/errors.ts';
import { loadModel } from '../../src/onnx/load.ts';
import { runTraining } from '../../src/train/run.ts';
import { exportBilstm } from '../../src/train/students/bilstm-export.ts';
import { randomBilstmWeights, resolveBilstmConfig } from '../../src/train/students/bilstm-config.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';

const work = mkdtempSync(join(tmpdir(), 'bert-compress-tokenizer-vocab-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const glueDir = join(work, 'glue');
writeGlueTask(glueDir, 'SST-2', 8, ['train', 'dev']);
// the folder's vocab.txt has 23 tokens (ids 0–22); the word embedding has 12 rows
const small = writeModelFolder(join(work, 'small'), tinyBert({ vocabSize: 12 }));
const fits = writeModelFolder(join(work, 'fits'), tinyBert());
const settings = { epochs: 1, batchSize: 4, threads: 1, dropout: 0 };

describe('a tokenizer giving ids past the word embedding', () => {
  it('train refuses it in one line before writing anything', async () => {
    const output = join(work, 'out-train', 'model.onnx');
    const run = runTraining({ task: 'SST-2', student: small, glueDir, output, settings });
    await expect(run).rejects.toThrow(DataError);
    await expect(runTraining({ task: 'SST-2', student: small, glueDir, output, settings })).rejects.toThrow(
      new RegExp(
        `vocab\\.txt gives token id \\d+, but ${join(small, 'model.onnx')} has 12 rows in its word embedding: the tokenizer's vocabulary is not the model's$`,
      ),
    );
    expect(existsSync(join(work, 'out-train'))).toBe(false);
  });

  it("distill refuses it for the teacher (every-other) and for a student model that is smaller than the teacher's vocabulary", async () => {
    const cacheDir = join(work, 'cache');
    const output = join(work, 'out-distill', 'model.onnx');
    await expect(runTraining({ task: 'SST-2', teacher: small, student: 'every-other', glueDir, cacheDir, output, settings })).rejects.toThrow(
      /gives token id \d+, but .*small\/model\.onnx has 12 rows in its word embedding/,
    );
    await expect(runTraining({ task: 'SST-2', teacher: fits, student: small, tokenizer: fits, glueDir, cacheDir, output, settings })).rejects.toThrow(
      /has 12 rows in its word embedding|vocabulary \(12\) differs from the teacher's \(128\)/,
    );
    expect(existsSync(join(work, 'out-distill'))).toBe(false);
    expect(existsSync(cacheDir)).toBe(false);
  });
});

describe('the dev split, read before any work', () => {
  // (vocab.txt: 5 special tokens, then WORDS; a table of 12 rows has the specials and 'the' … 'runs')
  const table = writeModelFolder(join(work, 'table-12'), tinyBert({ vocabSize: 12 }));
  const devGlue = join(work, 'glue-dev');
  writeGlueTask(devGlue, 'SST-2', 8, ['dev']);
  writeFileSync(join(devGlue, 'SST-2', 'train.tsv'), ['sentence\tlabel', 'the man runs\t1', 'a dog\t0', 'the cat\t1', 'a woman runs\t0'].join('\n') + '\n');

  it('a dev token id past the word embedding is refused in one line before training, not by Gather when the epoch ends', async () => {
    const output = join(work, 'out-dev-ids', 'model.onnx');
    await expect(runTraining({ task: 'SST-2', student: table, glueDir: devGlue, output, settings })).rejects.toThrow(
      new RegExp(`vocab\\.txt gives token id \\d+, but ${join(table, 'model.onnx')} has 12 rows in its word embedding`),
    );
    expect(existsSync(join(work, 'out-dev-ids'))).toBe(false);
  });

  it('a missing dev file is refused before the teacher logits are computed and cached', async () => {
    const noDev = join(work, 'glue-no-dev');
    writeGlueTask(noDev, 'SST-2', 8, ['train']);
    const cacheDir = join(work, 'cache-no-dev');
    const output = join(work, 'out-no-dev', 'model.onnx');
    await expect(runTraining({ task: 'SST-2', teacher: fits, student: 'every-other', glueDir: noDev, cacheDir, output, settings })).rejects.toThrow(
      /SST-2\/dev\.tsv: file not found/,
    );
    expect(existsSync(cacheDir)).toBe(false);
    expect(existsSync(join(work, 'out-no-dev'))).toBe(false);
  });
});

describe('a student model of another vocabulary than the teacher, whose position table is shorter than the length', () => {
  // (the teacher's config.json max_length 32 is beyond the student's 16 positions: a length no --max-length helps)
  const teacher = writeModelFolder(join(work, 'teacher-32'), tinyBert(), { maxLength: 32 });
  // (12 rows: fewer than the 23 ids of the teacher's vocab.txt)
  const fewer = writeModelFolder(join(work, 'student-12-words'), tinyBert({ vocabSize: 12, maxPositions: 16 }, { seed: 3 }));
  const bilstmConfig = resolveBilstmConfig({ hiddenSize: 4, embeddingSize: 4, mlpSize: 4 }, { vocabSize: 12, numLabels: 2, maxLength: 8 });
  const bilstm = join(work, 'bilstm-12-words');
  writeModelFolder(bilstm, exportBilstm(bilstmConfig, randomBilstmWeights(bilstmConfig, 1)));

  it('distill refuses the vocabulary first, not the length a --max-length would mend and then the vocabulary', async () => {
    const cacheDir = join(work, 'cache-first');
    for (const student of [fewer, bilstm]) {
      const output = join(work, 'out-first', 'model.onnx');
      await expect(runTraining({ task: 'SST-2', teacher, student, glueDir, cacheDir, output, settings })).rejects.toThrow(
        new RegExp(
          `^student vocabulary \\(12\\) differs from the teacher's \\(128\\), and ${join(teacher, 'vocab.txt')} gives token ids up to 22, past the student's 12 rows: distillation feeds both the tokenizer's ids$`,
        ),
      );
      expect(existsSync(join(work, 'out-first'))).toBe(false);
    }
    expect(existsSync(cacheDir)).toBe(false);
  });

  it('a teacher that cannot teach the task is refused before the length too', async () => {
    const output = join(work, 'out-task', 'model.onnx');
    const stsb = join(work, 'glue-stsb');
    writeGlueTask(stsb, 'STS-B', 4, ['train', 'dev']);
    await expect(runTraining({ task: 'STS-B', teacher, student: fewer, glueDir: stsb, cacheDir: join(work, 'cache-task'), output, settings })).rejects.toThrow(
      /^STS-B needs 1 output; the teacher has 2/,
    );
  });
});

describe('a student model of one token type, whose position table is shorter than the length, on a sentence-pair task', () => {
  it('distill refuses the token types first, not the length a --max-length would mend and then the types', async () => {
    const teacher = writeModelFolder(join(work, 'teacher-pairs'), tinyBert({ numLabels: 1 }), { regression: true, maxLength: 32 });
    const student = writeModelFolder(join(work, 'student-one-type'), tinyBert({ numLabels: 1, typeVocabSize: 1, maxPositions: 16 }, { seed: 3 }), {
      regression: true,
    });
    const stsb = join(work, 'glue-pairs');
    writeGlueTask(stsb, 'STS-B', 4, ['train', 'dev']);
    const output = join(work, 'out-pairs', 'model.onnx');
    const cacheDir = join(work, 'cache-pairs');
    await expect(runTraining({ task: 'STS-B', teacher, student, glueDir: stsb, cacheDir, output, settings })).rejects.toThrow(
      new DataError(
        `${join(teacher, 'vocab.txt')} gives token type 1, but ${join(student, 'model.onnx')} has 1 token type: the tokenizer's template is not the model's`,
      ),
    );
    expect(existsSync(join(work, 'out-pairs'))).toBe(false);
    expect(existsSync(cacheDir)).toBe(false);
  });
});

// (a run checked a pair's token types alone before its length: a single text's, a Funnel tokenizer's [CLS] of type 2,
// came after the length's refusal, from the data's encodings)
describe("a model of two token types fed a Funnel tokenizer's [CLS] (type 2), whose position table is shorter than the length, on SST-2", () => {
  const line = (tokenizer: string, model: string) =>
    new DataError(
      `${join(tokenizer, 'vocab.txt')} gives token type 2, but ${join(model, 'model.onnx')} has 2 token types: the tokenizer's template is not the model's`,
    );

  it('train refuses the token types first, not the length a --max-length would mend and then the types', async () => {
    const model = writeModelFolder(join(work, 'funnel-two-types'), tinyBert({ maxPositions: 16 }, { seed: 5 }), { maxLength: 32 });
    writeFileSync(join(model, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: 'FunnelTokenizer' }));
    const output = join(work, 'out-funnel-train', 'model.onnx');
    await expect(runTraining({ task: 'SST-2', student: model, glueDir, output, settings })).rejects.toThrow(line(model, model));
    expect(existsSync(join(work, 'out-funnel-train'))).toBe(false);
  });

  it("distill refuses a student model's token types first, of a teacher of three", async () => {
    const teacher = writeModelFolder(join(work, 'funnel-teacher'), tinyBert({ typeVocabSize: 3 }), { maxLength: 32 });
    writeFileSync(join(teacher, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: 'FunnelTokenizer' }));
    const student = writeModelFolder(join(work, 'funnel-student'), tinyBert({ maxPositions: 16 }, { seed: 3 }));
    const output = join(work, 'out-funnel-distill', 'model.onnx');
    const cacheDir = join(work, 'cache-funnel');
    await expect(runTraining({ task: 'SST-2', teacher, student, glueDir, cacheDir, output, settings })).rejects.toThrow(line(teacher, student));
    expect(existsSync(join(work, 'out-funnel-distill'))).toBe(false);
    expect(existsSync(cacheDir)).toBe(false);
  });
});

describe("a student model of other rows than the teacher's, each holding every id of the tokenizer", () => {
  // (a teacher padded past its vocabulary, as bert-base's 30522 tokens in 30528 rows: transformers and TextBrewer
  // distil it to a 30522-row student; here 128 and 100 rows, the vocab.txt's 23 ids)
  const padded = writeModelFolder(join(work, 'student-100-rows'), tinyBert({ vocabSize: 100, numLayers: 1 }, { seed: 4 }));

  it('distill takes it, either way round, and writes the student of its own rows', async () => {
    for (const [teacher, student, rows] of [
      [fits, padded, 100],
      [padded, fits, 128],
    ] as const) {
      const output = join(work, 'out-padded', `${rows}`, 'model.onnx');
      await runTraining({ task: 'SST-2', teacher, student, glueDir, cacheDir: join(work, 'cache-padded'), output, settings });
      expect(findBert(loadModel(output)).vocabSize).toBe(rows);
    }
  });
});
