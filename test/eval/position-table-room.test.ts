/**
 * A model whose position table leaves no room for text after the tokenizer's special tokens (a table of 1-2 rows under
 * BERT's [CLS] … [SEP]; 3 rows for a sentence pair's three) is refused in one line naming the model's table, by eval,
 * calibration, training (the student's and the teacher's table) and a sweep's plan, whatever --max-length is given:
 * no length mends it, where the refusals named --max-length in a loop ('give --max-length 2 or less', then
 * '--max-length 2 leaves no room for text after 2 special tokens: give --max-length 3 or more').
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCalibration } from '../../src/eval/calibration.ts';
import { evaluate } from '../../src/eval/evaluate.ts';
import { checkConfigLengthRoom, checkModelLengthRoom } from '../../src/eval/graph-checks.ts';
import { EMPTY_MODEL_CONFIG } from '../../src/eval/model-files.ts';
import { planSweep } from '../../src/sweep/plan.ts';
import { parseSweep } from '../../src/sweep/spec.ts';
import { runTraining } from '../../src/train/run.ts';
import { tinyBert } from '../helpers/models.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { asyncRefusal } from '../helpers/refusal.ts';

const work = mkdtempSync(join(tmpdir(), 'bc-position-table-room-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const glueDir = join(work, 'glue');
writeGlueTask(glueDir, 'SST-2', 4, ['train', 'dev']);
writeGlueTask(glueDir, 'STS-B', 4, ['train', 'dev']);
// (config.json's max_length 16, beyond each table)
const rows = (n: number, regression = false) =>
  writeModelFolder(join(work, `rows-${n}${regression ? '-regression' : ''}`), tinyBert({ numLayers: 1, maxPositions: n, numLabels: regression ? 1 : 2 }), {
    regression,
  });
const one = rows(1);
const two = rows(2);
const threeRegression = rows(3, true);
const line = (dir: string, n: number, specials: number, pair: boolean) =>
  `${join(dir, 'model.onnx')}: the model's position table covers ${n} token${n === 1 ? '' : 's'}, which leaves no room for text after the ${specials} special tokens of ${pair ? 'a sentence pair' : 'a single text'}: no --max-length mends that (a model needs ${specials + 1} positions or more)`;
const settings = { epochs: 1, batchSize: 4, threads: 1 };

describe('a position table that leaves no room for text', () => {
  it('eval names the table, with or without --max-length; a table that holds a single text but not a pair is refused for the pair task', async () => {
    expect(await asyncRefusal(evaluate({ model: one, tasks: ['SST-2'], glueDir }))).toBe(line(one, 1, 2, false));
    expect(await asyncRefusal(evaluate({ model: two, tasks: ['SST-2'], glueDir }))).toBe(line(two, 2, 2, false));
    expect(await asyncRefusal(evaluate({ model: two, tasks: ['SST-2'], glueDir, maxLength: 2 }))).toBe(line(two, 2, 2, false));
    expect(await asyncRefusal(evaluate({ model: threeRegression, tasks: ['STS-B'], glueDir, maxLength: 3 }))).toBe(line(threeRegression, 3, 3, true));
  });

  it('calibration names the table', async () => {
    expect(await asyncRefusal(loadCalibration({ model: two, task: 'SST-2', glueDir }))).toBe(line(two, 2, 2, false));
  });

  it("training names the student's table and a teacher's, before writing anything", async () => {
    const output = join(work, 'out', 'model.onnx');
    expect(await asyncRefusal(runTraining({ task: 'SST-2', student: two, glueDir, output, settings }))).toBe(line(two, 2, 2, false));
    expect(await asyncRefusal(runTraining({ task: 'SST-2', teacher: one, student: 'every-other', glueDir, output, settings }))).toBe(line(one, 1, 2, false));
    expect(existsSync(join(work, 'out'))).toBe(false);
  });

  it("a sweep's plan names the table, and eval.maxLength", async () => {
    const file = join(work, 'rows.yaml');
    const spec = parseSweep(
      { name: 'rows', models: [{ path: two, tasks: ['SST-2'] }], calibration: false, pipelines: ['baseline'], bench: { batch: [1], repeats: 1 } },
      file,
      'rows.yaml',
    );
    expect(await asyncRefusal(planSweep(spec, { glueDir, workDir: join(work, 'work') }))).toBe(
      `rows.yaml: ${line(two, 2, 2, false)
        .replace(`${join(two, 'model.onnx')}:`, `models[0] 'rows-2':`)
        .replace('--max-length', 'eval.maxLength')}`,
    );
  });
});

describe('one special token', () => {
  it("is counted as one in the refusals of a length that leaves no room for text (a template adding [SEP] alone, as T5's adds </s>)", () => {
    const oneSpecial = { encode: () => ({ ids: [3], typeIds: [0], attentionMask: [1] }) };
    expect(() => checkModelLengthRoom({ fixedSequence: null, maxSequence: 1 }, oneSpecial, false, 'm.onnx')).toThrow(
      "m.onnx: the model's position table covers 1 token, which leaves no room for text after the 1 special token of a single text: no --max-length mends that (a model needs 2 positions or more)",
    );
    const config = { ...EMPTY_MODEL_CONFIG, file: 'config.json', maxLength: 1 };
    expect(() => checkConfigLengthRoom(undefined, config, 1, oneSpecial, false)).toThrow(
      'config.json: max_length 1 leaves no room for text after 1 special token: give --max-length 2 or more',
    );
  });
});
