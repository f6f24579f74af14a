/**
 * A Distilled BiLSTM (float or int8) read with a tokenizer whose ids its word table has no row for (--tokenizer of
 * another vocabulary): eval and train refuse it in one line naming the tokenizer and the table's rows before any
 * work, as they refuse a BERT so, where eval said onnxruntime could not run the model and train died with
 * onnxruntime's Gather error and its stack trace (discovery does not read a BiLSTM, so no limits were checked).
 * Any other graph discovery does not read (a generic ONNX classifier looking its ids up in a table) likewise.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataError } from '../../src/errors.ts';
import { evaluate } from '../../src/eval/evaluate.ts';
import { compressFile } from '../../src/export/compress.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { runTraining } from '../../src/train/run.ts';
import { bilstmConfigJson, exportBilstm, parseBilstmSpec, randomBilstmWeights, resolveBilstmConfig } from '../../src/train/students/bilstm.ts';
import { WORDS, writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tableClassifier } from '../helpers/models.ts';

registerAllPasses();
const work = mkdtempSync(join(tmpdir(), 'bert-compress-bilstm-vocabulary-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const glueDir = join(work, 'glue');
// (the folder's vocab.txt: BERT's 5 special tokens and WORDS; the word table: 8 rows)
const ROWS = 8;
let float: string;
let int8: string;

beforeAll(async () => {
  writeGlueTask(glueDir, 'SST-2', 8, ['train', 'dev']);
  const config = resolveBilstmConfig(parseBilstmSpec('bilstm:hidden=4,embedding=6'), { vocabSize: ROWS, numLabels: 2, maxLength: 16 });
  float = writeModelFolder(join(work, 'float'), exportBilstm(config, randomBilstmWeights(config, 2)));
  writeFileSync(join(float, 'config.json'), JSON.stringify(bilstmConfigJson(config, { id2label: ['negative', 'positive'] })));
  int8 = join(work, 'int8');
  await compressFile({ input: join(float, 'model.onnx'), output: join(int8, 'model.onnx'), steps: [{ pass: 'quantize', settings: { mode: 'int8' } }] });
});

const refusal = (model: string) =>
  new RegExp(
    `^${join(model, 'vocab.txt')} gives token id \\d+, but ${join(model, 'model.onnx')} has ${ROWS} rows in its word embedding: the tokenizer's vocabulary is not the model's$`,
  );

describe('a Distilled BiLSTM read with a tokenizer of more ids than its word table has rows', () => {
  it('is refused by eval in one line, float and int8', async () => {
    expect(5 + WORDS.length).toBeGreaterThan(ROWS);
    for (const model of [float, int8]) {
      const e = await evaluate({ model, tasks: ['SST-2'], glueDir, threads: 1 }).catch((e: unknown) => e);
      expect(e).toBeInstanceOf(DataError);
      expect((e as Error).message).toMatch(refusal(model));
    }
  });

  it('is refused by train in one line before any step; nothing written', async () => {
    const output = join(work, 'trained', 'model.onnx');
    const e = await runTraining({ task: 'SST-2', student: float, glueDir, output, settings: { epochs: 1, batchSize: 4, threads: 1 } }).catch((e: unknown) => e);
    expect(e).toBeInstanceOf(DataError);
    expect((e as Error).message).toMatch(refusal(float));
    expect(existsSync(join(work, 'trained'))).toBe(false);
  });
});

describe('a graph discovery does not read, whose ids look up a table of fewer rows than the tokenizer has ids', () => {
  it("is refused by eval in one line naming the table's rows, where onnxruntime's Gather error stopped it", async () => {
    const model = writeModelFolder(join(work, 'generic'), tableClassifier(ROWS));
    const e = await evaluate({ model, tasks: ['SST-2'], glueDir, threads: 1 }).catch((e: unknown) => e);
    expect(e).toBeInstanceOf(DataError);
    expect((e as Error).message).toMatch(refusal(model));
    // (a table with a row for every id: evaluated)
    const whole = writeModelFolder(join(work, 'generic-whole'), tableClassifier(5 + WORDS.length));
    const result = await evaluate({ model: whole, tasks: ['SST-2'], glueDir, threads: 1 });
    expect(result.tasks[0]!.examples).toBe(8);
  });

  it("is refused by eval in one line naming its token types, where its token types look up a table of fewer rows than a pair task's template gives (onnxruntime's Gather error stopped it)", async () => {
    writeGlueTask(glueDir, 'STS-B', 8, ['dev']);
    const model = writeModelFolder(join(work, 'generic-types'), tableClassifier(5 + WORDS.length, { typeRows: 1, labels: 1 }), { regression: true });
    const e = await evaluate({ model, tasks: ['STS-B'], glueDir, threads: 1 }).catch((e: unknown) => e);
    expect(e).toBeInstanceOf(DataError);
    expect((e as Error).message).toBe(
      `${join(model, 'vocab.txt')} gives token type 1, but ${join(model, 'model.onnx')} has 1 token type: the tokenizer's template is not the model's`,
    );
    const two = writeModelFolder(join(work, 'generic-types2'), tableClassifier(5 + WORDS.length, { typeRows: 2, labels: 1 }), { regression: true });
    expect((await evaluate({ model: two, tasks: ['STS-B'], glueDir, threads: 1 })).tasks[0]!.examples).toBe(8);
  });
});
