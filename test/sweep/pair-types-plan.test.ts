/**
 * A sweep model of one token type (type_vocab_size 1, a token_type_ids input) whose tokenizer's pair template gives
 * type 1 is refused by the sweep's plan on a sentence-pair task, before any point runs, in eval's words
 * (checkEncodings), where every point failed when it evaluated it. On a single-sentence task it plans, as does a
 * model of two token types on the pair task. A single sentence's own types are checked alike: a folder read as
 * FunnelTokenizer gives [CLS] type 2 (transformers' FunnelConverter), past a model of two token types on SST-2, where
 * the plan passed and every point failed when it evaluated it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tinyBert } from '../helpers/models.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { DataError } from '../../src/errors.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { planRefusal } from './plan-refusal.ts';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'pair-types-plan-'));
  writeModelFolder(join(root, 'models', 'one-type'), tinyBert({ typeVocabSize: 1, numLabels: 1 }, { seed: 1 }), { regression: true });
  writeModelFolder(join(root, 'models', 'one-type-sst2'), tinyBert({ typeVocabSize: 1 }, { seed: 2 }));
  writeModelFolder(join(root, 'models', 'two-types'), tinyBert({ numLabels: 1 }, { seed: 3 }), { regression: true });
  for (const [name, typeVocabSize] of [
    ['funnel-two-types', 2],
    ['funnel-three-types', 3],
  ] as const) {
    writeModelFolder(join(root, 'models', name), tinyBert({ typeVocabSize }, { seed: 4 }));
    writeFileSync(join(root, 'models', name, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: 'FunnelTokenizer' }));
  }
  writeGlueTask(join(root, 'glue'), 'STS-B', 8, ['train', 'dev']);
  writeGlueTask(join(root, 'glue'), 'SST-2', 8, ['train', 'dev']);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The line the plan refuses a sweep of `model` (a folder) on `task` with (a DataError, eval's), or undefined when it plans. */
const refusal = (model: string, task: string) =>
  planRefusal(root, 'types', [{ folder: model, tasks: [task] }], 'p', [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }], DataError);

describe("a sweep's plan refuses a pair task on a model of fewer token types than its tokenizer's pair template gives", () => {
  it('type_vocab_size 1 on STS-B: refused in one line naming the sweep file, the model, its tokenizer and its graph', async () => {
    expect(await refusal('one-type', 'STS-B')).toBe(
      `${join(root, 'types.yaml')}: models[0] 'one-type': ${join(root, 'models', 'one-type', 'vocab.txt')} gives token type 1, but ${join(root, 'models', 'one-type', 'model.onnx')} has 1 token type: the tokenizer's template is not the model's`,
    );
  });

  it('plans type_vocab_size 1 on a single-sentence task, and two token types on STS-B', async () => {
    expect(await refusal('one-type-sst2', 'SST-2')).toBeUndefined();
    expect(await refusal('two-types', 'STS-B')).toBeUndefined();
  });
});

describe("a sweep's plan refuses a single-sentence task on a model of fewer token types than its tokenizer gives a text", () => {
  it("a Funnel tokenizer's [CLS] (type 2) on a model of two token types: refused on SST-2; three token types plan", async () => {
    expect(await refusal('funnel-two-types', 'SST-2')).toBe(
      `${join(root, 'types.yaml')}: models[0] 'funnel-two-types': ${join(root, 'models', 'funnel-two-types', 'vocab.txt')} gives token type 2, but ${join(root, 'models', 'funnel-two-types', 'model.onnx')} has 2 token types: the tokenizer's template is not the model's`,
    );
    expect(await refusal('funnel-three-types', 'SST-2')).toBeUndefined();
  });
});

describe("a sweep's plan refuses a calibration task whose texts get more token types than the model has", () => {
  /** The line the plan refuses the one-type SST-2 model with, calibrated on `task` by an int8-static step; undefined where it plans. */
  const calibrated = (task: string): Promise<string | undefined> => {
    registerAllPasses();
    return planRefusal(
      root,
      'calibrated',
      [{ folder: 'one-type-sst2', tasks: ['SST-2'] }],
      'static',
      [{ pass: 'quantize', settings: { mode: 'int8-static' } }],
      DataError,
      { task, examples: 8 },
    );
  };

  it("type_vocab_size 1 on SST-2 calibrated on STS-B (pairs): refused in eval's words, where the plan passed and every calibrating point failed in them; on SST-2 it plans", async () => {
    expect(await calibrated('STS-B')).toBe(
      `${join(root, 'calibrated.yaml')}: models[0] 'one-type-sst2': ${join(root, 'models', 'one-type-sst2', 'vocab.txt')} gives token type 1, but ${join(root, 'models', 'one-type-sst2', 'model.onnx')} has 1 token type: the tokenizer's template is not the model's`,
    );
    expect(await calibrated('SST-2')).toBeUndefined();
  });
});
