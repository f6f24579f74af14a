/**
 * A sweep without bench.seq benchmarks each model at the length its baseline is evaluated at; a default (config.json
 * without max_length: 128, or the tokenizer's smaller model_max_length) is capped at the model's position table, as
 * eval caps it, where the plan refused a model whose table is shorter than 128 with 'bench.seq 128 is beyond the
 * model's position table', naming a setting the sweep file never wrote. A bench.seq written beyond it is still refused.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSweep } from '../../src/sweep/spec.ts';
import { planSweep } from '../../src/sweep/plan.ts';
import { tinyBert } from '../helpers/models.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'default-bench-seq-'));
  const dir = join(root, 'models', 'p24');
  writeModelFolder(dir, tinyBert({ maxPositions: 24 }, { seed: 1 }));
  // config.json without max_length (as transformers writes it): the default length is 128, beyond the table
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'bert', num_labels: 2, id2label: { 0: 'negative', 1: 'positive' } }));
  writeGlueTask(join(root, 'glue'), 'SST-2', 8, ['train', 'dev']);
  writeGlueTask(join(root, 'glue'), 'STS-B', 8, ['train', 'dev']);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const plan = (bench: Record<string, unknown>, model: { path: string; tasks: string[] } = { path: 'models/p24', tasks: ['SST-2'] }) =>
  planSweep(
    parseSweep(
      {
        name: 'seq',
        models: [model],
        calibration: false,
        pipelines: ['baseline'],
        bench: { batch: [1], repeats: 1, ...bench },
      },
      join(root, 'seq.yaml'),
      'seq.yaml',
    ),
    { glueDir: join(root, 'glue'), workDir: join(root, 'work') },
  );

describe('a sweep without bench.seq on a model whose position table is shorter than the default length', () => {
  it("plans, benchmarking at the table's length (the length eval cuts its examples at)", async () => {
    const points = await plan({});
    expect(points.map((p) => p.bench.seq)).toEqual([[24]]);
  });

  it('a bench.seq written beyond the table is refused as before', async () => {
    await expect(plan({ seq: [32] })).rejects.toThrow(`seq.yaml: models[0] 'p24': bench.seq 32 is beyond the model's position table (24 tokens at most)`);
  });
});

describe("a sweep on a model whose tokenizer_config.json's model_max_length leaves no room for text", () => {
  /** models/NAME: a tiny BERT whose config.json names no max_length (nor labels) and whose tokenizer_config.json says this model_max_length. */
  const model = (name: string, modelMaxLength: number, numLabels = 2): string => {
    const dir = join(root, 'models', name);
    writeModelFolder(dir, tinyBert({ numLabels }, { seed: 1 }));
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    // (no id2label: SST-2's labels in the canonical order, or STS-B's score)
    for (const key of ['max_length', 'id2label', 'label2id']) delete config[key];
    config.num_labels = numLabels;
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    const file = join(dir, 'tokenizer_config.json');
    writeFileSync(file, JSON.stringify({ ...(existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {}), model_max_length: modelMaxLength }));
    return dir;
  };

  // (each point's evaluation refused its first example, after compressing: the plan let bench.seq [1] through)
  it.each([
    ['one', 1, 'SST-2', 2, 2],
    ['zero', 0, 'SST-2', 2, 2],
    ['negative', -1, 'SST-2', 2, 2],
    ['three', 3, 'STS-B', 1, 3],
  ])('(%s: %i, %s) is refused up front, naming the file and eval.maxLength', async (name, length, task, labels, specials) => {
    const dir = model(name, length, labels);
    await expect(plan({}, { path: `models/${name}`, tasks: [task] })).rejects.toThrow(
      `seq.yaml: ${join(dir, 'tokenizer_config.json')}: model_max_length ${length} leaves no room for text after ${specials} special tokens${specials === 3 ? ' (a sentence pair)' : ''}: give eval.maxLength ${specials + 1} or more, or fix model_max_length`,
    );
  });

  it('a length that leaves room plans', async () => {
    model('four', 4, 1);
    expect((await plan({}, { path: 'models/four', tasks: ['STS-B'] })).map((p) => p.bench.seq)).toEqual([[4]]);
  });
});

describe("a sweep on a model whose config.json's max_length leaves no room for text", () => {
  // (the plan said 'eval.maxLength 2 leaves no room for text', a setting the file never gave)
  it.each([
    ['cfg-two', 2, 'SST-2', 2, 2, ''],
    ['cfg-three', 3, 'STS-B', 1, 3, ' (a sentence pair)'],
  ])('(%s: %i, %s) is refused up front, naming config.json', async (name, length, task, labels, specials, pair) => {
    const dir = writeModelFolder(join(root, 'models', name), tinyBert({ numLabels: labels }, { seed: 1 }), { regression: labels === 1, maxLength: length });
    await expect(plan({}, { path: `models/${name}`, tasks: [task] })).rejects.toThrow(
      `seq.yaml: ${join(dir, 'config.json')}: max_length ${length} leaves no room for text after ${specials} special tokens${pair}: give eval.maxLength ${specials + 1} or more`,
    );
  });
});
