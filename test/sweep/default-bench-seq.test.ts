/**
 * A sweep without bench.seq benchmarks each model at the length its baseline is evaluated at; a default (config.json
 * without max_length: 128, or the tokenizer's smaller model_max_length) is capped at the model's position table, as
 * eval caps it, where the plan refused a model whose table is shorter than 128 with 'bench.seq 128 is beyond the
 * model's position table', naming a setting the sweep file never wrote. A bench.seq written beyond it is still refused.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const plan = (bench: Record<string, unknown>) =>
  planSweep(
    parseSweep(
      {
        name: 'seq',
        models: [{ path: 'models/p24', tasks: ['SST-2'] }],
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
    await expect(plan({ seq: [32] })).rejects.toThrow(
      `${join(root, 'seq.yaml')}: models[0] 'p24': bench.seq 32 is beyond the model's position table (24 tokens at most)`,
    );
  });
});
