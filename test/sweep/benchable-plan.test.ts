/**
 * A distill step whose trained student every point would fail to benchmark against the point's model (bench's
 * baseline) is refused by the sweep's plan, before any point runs, in bench's words, naming the step and the setting
 * that gives the student its inputs and vocabulary: a student model given by path reading an input the point's model
 * does not have by role (written with the student's inputs; one reading the same roles by other names, keras'
 * input_mask, plans: bench feeds each model by its own names), or a bert:… student of a named teacher of another vocabulary,
 * where the point failed after training, when it benchmarked the student. A student of the point's inputs, a bert:…
 * student of the point's model and a BiLSTM of it plan. A student whose inputs fix another sequence length than the point
 * model's (static-shape exports: training keeps a student's fixed inputs) is refused too, where the point failed
 * after training, in bench's 'the models fix different seq sizes'. (A BiLSTM of another vocabulary is refused too: bench feeds
 * it the point's model's ids, beyond its word table.)
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renameValue } from '../../src/onnx/analysis.ts';
import { cloneModel } from '../../src/onnx/graph.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert, tinyBertConfig } from '../helpers/models.ts';
import { buildBert } from '../../src/bert/build.ts';
import { planRefusal } from './plan-refusal.ts';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'benchable-plan-'));
  writeModelFolder(join(root, 'models', 'point'), tinyBert({}, { seed: 1 }));
  writeModelFolder(join(root, 'models', 'student'), tinyBert({ numLayers: 1 }, { seed: 2 }));
  // (a student exported with another name for its attention mask, as the toy pretraining checkpoint's 'input_mask')
  const renamed = cloneModel(tinyBert({ numLayers: 1 }, { seed: 3 }));
  renameValue(renamed.graph, 'attention_mask', 'input_mask');
  writeModelFolder(join(root, 'models', 'input-mask'), renamed);
  // (a teacher of a vocabulary of 150 tokens, past the point model's 128 rows)
  const rows = writeModelFolder(join(root, 'models', 'rows'), tinyBert({ vocabSize: 150 }, { seed: 4 }));
  writeFileSync(
    join(rows, 'vocab.txt'),
    [...readFileSync(join(rows, 'vocab.txt'), 'utf8').trim().split('\n'), ...Array.from({ length: 127 }, (_, i) => `w${i}`)].join('\n') + '\n',
  );
  // (a teacher padded past the point model's vocabulary: 100 rows holding the 23 ids of the same vocab.txt)
  writeModelFolder(join(root, 'models', 'padded'), tinyBert({ vocabSize: 100 }, { seed: 9 }));
  // (a point model that computes its token types, a student that reads them)
  writeModelFolder(join(root, 'models', 'no-types-point'), buildBert({ ...tinyBertConfig(), zeroTokenTypes: true }, { kind: 'random', seed: 7 }));
  writeModelFolder(join(root, 'models', 'no-types'), tinyBert({ numLayers: 1 }, { seed: 8 }));
  // (static-shape exports fixing 64 and 160 tokens: training keeps a student's fixed inputs)
  for (const [length, seed] of [
    [64, 5],
    [160, 6],
  ] as const) {
    const fixed = tinyBert({ maxPositions: 256 }, { seed });
    for (const input of fixed.graph.inputs) input.shape = ['batch', length];
    writeModelFolder(join(root, 'models', `fixed-${length}`), fixed);
  }
  writeGlueTask(join(root, 'glue'), 'SST-2', 8, ['train', 'dev']);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const KD = { epochs: 1, batchSize: 4, maxExamples: 8, maxLength: 16 };
const refusal = (settings: Record<string, unknown>, point = 'point') =>
  planRefusal(root, 'bench', [point], 'kd', [{ pass: 'distill', settings: { ...KD, ...settings } }]);
const onnx = (name: string) => join(root, 'models', name, 'model.onnx');
const line = (from: string, setting: string, why: string, point = 'point') =>
  `${join(root, 'bench.yaml')}: pipeline 'kd' on model '${point}', step 1 (distill): the student it trains takes its inputs and vocabulary from ${onnx(from)} (${setting}), and each point benchmarks it with ${onnx(point)} as its baseline, and bench compares no such models: ${why}`;

describe("a sweep's plan refuses a distill step whose student cannot be benchmarked against the point's model", () => {
  it('a student model given by path that reads an input the point model does not have', async () => {
    expect(await refusal({ student: 'models/no-types' }, 'no-types-point')).toBe(
      line(
        'no-types',
        'distill.student',
        "the model reads token types (input 'token_type_ids'), which the baseline does not (its inputs: input_ids, attention_mask)",
        'no-types-point',
      ),
    );
  });

  it("plans a student model whose inputs have other names than the point model's (bench feeds each by its own names)", async () => {
    expect(await refusal({ student: 'models/input-mask' })).toBeUndefined();
  });

  it('a bert:… student of a named teacher of another vocabulary', async () => {
    expect(await refusal({ student: 'bert:layers=1', teacher: 'models/rows' })).toBe(
      line(
        'rows',
        'distill.teacher',
        `the model's vocabulary has 150 tokens, the baseline's 128, and ${join(root, 'models', 'rows', 'vocab.txt')} gives token ids up to 149, past the baseline's 128 rows`,
      ),
    );
  });

  it("a bilstm:… student of a named teacher of another vocabulary (its word table is the teacher's size)", async () => {
    expect(await refusal({ student: 'bilstm:hidden=8,embedding=8', teacher: 'models/rows' })).toBe(
      line(
        'rows',
        'distill.teacher',
        `the model's vocabulary has 150 tokens, the baseline's 128, and ${join(root, 'models', 'rows', 'vocab.txt')} gives token ids up to 149, past the baseline's 128 rows`,
      ),
    );
  });

  it("a student whose inputs fix another length than the point model's: a student model given by path, every-other of a named teacher", async () => {
    expect(await refusal({ student: 'models/fixed-160' }, 'fixed-64')).toBe(
      line('fixed-160', 'distill.student', 'the models fix different seq sizes (160, 64)', 'fixed-64'),
    );
    expect(await refusal({ student: 'every-other', teacher: 'models/fixed-64' }, 'fixed-160')).toBe(
      line('fixed-64', 'distill.teacher', 'the models fix different seq sizes (64, 160)', 'fixed-160'),
    );
  });

  it('plans a student of the length the point model fixes, or of none', async () => {
    expect(await refusal({ student: 'models/fixed-64' }, 'fixed-64')).toBeUndefined();
    expect(await refusal({ student: 'models/point' }, 'fixed-64')).toBeUndefined();
    expect(await refusal({ student: 'models/fixed-160' })).toBeUndefined();
    expect(await refusal({ student: 'every-other', teacher: 'models/fixed-160' }, 'fixed-160')).toBeUndefined();
  });

  it('plans a bert:… or bilstm:… student of a teacher of other rows that hold every id of the tokenizers (a teacher padded past its vocabulary)', async () => {
    expect(await refusal({ student: 'bert:layers=1', teacher: 'models/padded' })).toBeUndefined();
    expect(await refusal({ student: 'bilstm:hidden=8,embedding=8', teacher: 'models/padded' })).toBeUndefined();
  });

  it("plans a student of the point's inputs, a bert:… or bilstm:… student of its model", async () => {
    expect(await refusal({ student: 'models/student' })).toBeUndefined();
    expect(await refusal({ student: 'bert:layers=1' })).toBeUndefined();
    expect(await refusal({ student: 'bilstm:hidden=8,embedding=8' })).toBeUndefined();
  });
});
