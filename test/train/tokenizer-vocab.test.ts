/**
 * A tokenizer whose ids the model has no rows for (a --tokenizer of another vocabulary, as evaluation refuses it):
 * `compress train` and `compress distill` refuse it in one line naming both before any training or write, where
 * onnxruntime's Gather failed mid-run with a stack trace.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError } from '../../src/errors.ts';
import { runTraining } from '../../src/train/run.ts';
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
