/**
 * A sweep model of one token type (type_vocab_size 1, a token_type_ids input) whose tokenizer's pair template gives
 * type 1 is refused by the sweep's plan on a sentence-pair task, before any point runs, in eval's words
 * (checkEncodings), where every point failed when it evaluated it. On a single-sentence task it plans, as does a
 * model of two token types on the pair task.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tinyBert } from '../helpers/models.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { DataError } from '../../src/errors.ts';
import { planSweep } from '../../src/sweep/plan.ts';
import { parseSweep } from '../../src/sweep/spec.ts';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'pair-types-plan-'));
  writeModelFolder(join(root, 'models', 'one-type'), tinyBert({ typeVocabSize: 1, numLabels: 1 }, { seed: 1 }), { regression: true });
  writeModelFolder(join(root, 'models', 'one-type-sst2'), tinyBert({ typeVocabSize: 1 }, { seed: 2 }));
  writeModelFolder(join(root, 'models', 'two-types'), tinyBert({ numLabels: 1 }, { seed: 3 }), { regression: true });
  writeGlueTask(join(root, 'glue'), 'STS-B', 8, ['dev']);
  writeGlueTask(join(root, 'glue'), 'SST-2', 8, ['dev']);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The error planSweep refuses a sweep of `model` (a folder) on `task` with, or undefined when it plans. */
async function refusal(model: string, task: string): Promise<Error | undefined> {
  const spec = parseSweep(
    {
      name: 'types',
      models: [{ path: `models/${model}`, tasks: [task] }],
      calibration: false,
      pipelines: [{ name: 'p', steps: [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }] }],
    },
    join(root, 'types.yaml'),
    'types.yaml',
  );
  try {
    await planSweep(spec, { glueDir: join(root, 'glue'), workDir: join(root, 'work') });
    return undefined;
  } catch (e) {
    return e as Error;
  }
}

describe("a sweep's plan refuses a pair task on a model of fewer token types than its tokenizer's pair template gives", () => {
  it('type_vocab_size 1 on STS-B: refused in one line naming the sweep file, the model, its tokenizer and its graph', async () => {
    const e = await refusal('one-type', 'STS-B');
    expect(e).toBeInstanceOf(DataError);
    expect(e?.message).toBe(
      `${join(root, 'types.yaml')}: models[0] 'one-type': ${join(root, 'models', 'one-type', 'vocab.txt')} gives token type 1, but ${join(root, 'models', 'one-type', 'model.onnx')} has 1 token type: the tokenizer's template is not the model's`,
    );
  });

  it('plans type_vocab_size 1 on a single-sentence task, and two token types on STS-B', async () => {
    expect(await refusal('one-type-sst2', 'SST-2')).toBeUndefined();
    expect(await refusal('two-types', 'STS-B')).toBeUndefined();
  });
});
