/**
 * A distill step on a sentence-pair task feeds its teacher's tokenizer's token types to the teacher, to a student
 * model given by path and to the model so far it trains: one of those of fewer token types than that tokenizer's
 * pair template gives is refused by the sweep's plan, before any point runs, in training's words (checkEncodings),
 * naming the step and the setting that gives the model, where --dry-run listed the point and it failed when its
 * training set was checked. Models of two token types plan, as does a one-type model on a single-sentence task. A
 * single text's types are checked alike: a teacher read as FunnelTokenizer gives [CLS] type 2, past a student model of
 * two token types on SST-2.
 */
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataError } from '../../src/errors.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';
import { runTraining } from '../../src/train/run.ts';
import { planRefusal } from './plan-refusal.ts';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'step-types-plan-'));
  const folder = (name: string, types: number, seed: number) =>
    writeModelFolder(join(root, 'models', name), tinyBert({ numLabels: 1, typeVocabSize: types, numLayers: 1 }, { seed }), { regression: true });
  folder('two-types', 2, 1);
  folder('one-type', 1, 2);
  folder('student-two', 2, 3);
  // (one token type, its tokenizer's pair template all type 0: it plans on STS-B as a sweep's model)
  const flat = folder('flat', 1, 4);
  const vocab = readFileSync(join(flat, 'vocab.txt'), 'utf8').trim().split('\n');
  unlinkSync(join(flat, 'vocab.txt'));
  const special = (id: string) => ({ SpecialToken: { id, type_id: 0 } });
  const sequence = (id: string) => ({ Sequence: { id, type_id: 0 } });
  writeFileSync(
    join(flat, 'tokenizer.json'),
    JSON.stringify({
      version: '1.0',
      added_tokens: [],
      normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
      pre_tokenizer: { type: 'BertPreTokenizer' },
      post_processor: {
        type: 'TemplateProcessing',
        single: [special('[CLS]'), sequence('A'), special('[SEP]')],
        pair: [special('[CLS]'), sequence('A'), special('[SEP]'), sequence('B'), special('[SEP]')],
        special_tokens: Object.fromEntries(['[CLS]', '[SEP]'].map((t) => [t, { id: t, ids: [vocab.indexOf(t)], tokens: [t] }])),
      },
      decoder: null,
      model: {
        type: 'WordPiece',
        unk_token: '[UNK]',
        continuing_subword_prefix: '##',
        max_input_chars_per_word: 100,
        vocab: Object.fromEntries(vocab.map((t, i) => [t, i])),
      },
    }),
  );
  writeModelFolder(join(root, 'models', 'sst2-one-type'), tinyBert({ typeVocabSize: 1, numLayers: 1 }, { seed: 5 }));
  writeModelFolder(join(root, 'models', 'sst2'), tinyBert({ numLayers: 1 }, { seed: 6 }));
  // (a folder read as FunnelTokenizer gives a single text's [CLS] type 2: a teacher of three token types)
  writeModelFolder(join(root, 'models', 'funnel'), tinyBert({ numLayers: 1, typeVocabSize: 3 }, { seed: 7 }));
  writeFileSync(join(root, 'models', 'funnel', 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: 'FunnelTokenizer' }));
  writeGlueTask(join(root, 'glue'), 'STS-B', 8, ['train', 'dev']);
  writeGlueTask(join(root, 'glue'), 'SST-2', 8, ['train', 'dev']);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const file = () => join(root, 'types.yaml');
const onnx = (name: string) => join(root, 'models', name, 'model.onnx');
const vocab = (name: string) => join(root, 'models', name, 'vocab.txt');
const distill = (settings: Record<string, unknown>) => ({
  pass: 'distill',
  settings: { epochs: 1, batchSize: 4, maxExamples: 8, logitLoss: 'mse', ...settings },
});

/** The line the plan refuses a sweep of `model` on `task` with one pipeline of `steps` (a DataError), or undefined when it plans. */
const refusal = (model: string, steps: unknown[], task = 'STS-B') => planRefusal(root, 'types', [{ folder: model, tasks: [task] }], 'kd', steps, DataError);

const template = (tokenizer: string, model: string, setting: string) =>
  `${tokenizer} gives token type 1, but ${model} (${setting}) has 1 token type: the tokenizer's template is not the model's`;

describe("a sweep's plan refuses a distill step's model of fewer token types than its teacher's tokenizer gives", () => {
  it('a named teacher of one token type (a bert:… student), after a graph step too', async () => {
    expect(await refusal('two-types', [distill({ teacher: 'models/one-type', student: 'bert:layers=1' })])).toBe(
      `${file()}: pipeline 'kd' on model 'two-types', step 1 (distill): ${template(vocab('one-type'), onnx('one-type'), 'distill.teacher')}`,
    );
    expect(await refusal('two-types', [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }, distill({ teacher: 'models/one-type' })])).toBe(
      `${file()}: pipeline 'kd' on model 'two-types', step 2 (distill): ${template(vocab('one-type'), onnx('one-type'), 'distill.teacher')}`,
    );
  });

  it('a student model of one token type, given by path, of the default or a named teacher', async () => {
    expect(await refusal('two-types', [distill({ student: 'models/one-type' })])).toBe(
      `${file()}: pipeline 'kd' on model 'two-types', step 1 (distill): ${template(vocab('two-types'), onnx('one-type'), 'distill.student')}`,
    );
    expect(await refusal('flat', [distill({ student: 'models/one-type', teacher: 'models/two-types' })])).toBe(
      `${file()}: pipeline 'kd' on model 'flat', step 1 (distill): ${template(vocab('two-types'), onnx('one-type'), 'distill.student')}`,
    );
  });

  it("the point's model of one token type, which a named teacher's tokenizer gives type 1 (its own gives none)", async () => {
    expect(await refusal('flat', [distill({ teacher: 'models/two-types' })])).toBe(
      `${file()}: pipeline 'kd' on model 'flat', step 1 (distill): ${template(vocab('two-types'), onnx('flat'), 'the model the step trains')}`,
    );
  });

  it('plans models of two token types, a one-type model fed by its own template, and one-type models on a single-sentence task', async () => {
    expect(await refusal('two-types', [distill({ student: 'models/student-two' })])).toBeUndefined();
    expect(await refusal('flat', [distill({ student: 'bert:layers=1' })])).toBeUndefined();
    expect(await refusal('sst2', [distill({ teacher: 'models/sst2-one-type', student: 'bert:layers=1', logitLoss: 'ce' })], 'SST-2')).toBeUndefined();
    expect(await refusal('sst2-one-type', [distill({ student: 'models/sst2', logitLoss: 'ce' })], 'SST-2')).toBeUndefined();
  });
});

// (the step's check read pair tasks alone: a student fed a Funnel tokenizer's [CLS] of type 2 on SST-2 planned, and
// the point failed when training checked it)
describe("a sweep's plan refuses a distill step's model of fewer token types than its teacher's tokenizer gives a single text", () => {
  it('a student model of two token types taught by a teacher whose Funnel tokenizer gives [CLS] type 2, on SST-2; three plan', async () => {
    expect(await refusal('funnel', [distill({ student: 'models/sst2', logitLoss: 'ce' })], 'SST-2')).toBe(
      `${file()}: pipeline 'kd' on model 'funnel', step 1 (distill): ${vocab('funnel')} gives token type 2, but ${onnx('sst2')} (distill.student) has 2 token types: the tokenizer's template is not the model's`,
    );
    expect(await refusal('funnel', [distill({ student: 'bert:layers=1', logitLoss: 'ce' })], 'SST-2')).toBeUndefined();
  });
});

// (the plan encoded its pair at the step's length and, at one with no room for a pair's text, refused the length,
// where training checks a pair's types first, at a length that cuts nothing, and refused the token types)
describe("a sweep's plan checks a step's token types before its length, at the length training checks them", () => {
  it('a one-type teacher at a maxLength with no room for a pair: the token-type line, as training says it', async () => {
    const line = template(vocab('one-type'), onnx('one-type'), 'distill.teacher');
    for (const maxLength of [3, 2]) {
      expect(await refusal('two-types', [distill({ teacher: 'models/one-type', student: 'bert:layers=1', maxLength })])).toBe(
        `${file()}: pipeline 'kd' on model 'two-types', step 1 (distill): ${line}`,
      );
    }
    // (the point's own refusal: training's line, which names the teacher by its file alone)
    const run = runTraining({
      task: 'STS-B',
      teacher: onnx('one-type'),
      student: 'bert:layers=1',
      glueDir: join(root, 'glue'),
      output: join(root, 'out', 'model.onnx'),
      settings: { epochs: 1, batchSize: 4, threads: 1 },
      distill: { logitLoss: 'mse' },
      maxLength: 3,
    });
    await expect(run).rejects.toThrow(new DataError(line.replace(' (distill.teacher)', '')));
  });
});
