/**
 * A model that gives NaN (or infinite) scores (an overflowing quantization, a diverged student) has no prediction for
 * those examples: its metrics are undefined with the reason, not an argmax that silently picks class 0 (SST-2
 * accuracy = the share of class-0 references) or a Spearman that ranks NaN somewhere, and no submission with 'NaN' rows
 * (or made-up labels) is written.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.ts';
import { evaluate, predictionsFromRows } from '../../src/eval/evaluate.ts';
import { computeTaskMetrics } from '../../src/eval/metrics/index.ts';
import { SST2, STSB } from '../../src/glue/tasks.ts';
import { saveModel, type Model } from '../../src/onnx/index.ts';
import { tinyBert } from '../helpers/models.ts';

const root = mkdtempSync(join(tmpdir(), 'non-finite-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const WORDS = ['good', 'bad', 'film', 'plot', 'a', 'the', 'is', 'was'];
const glueDir = join(root, 'glue');
mkdirSync(join(glueDir, 'SST-2'), { recursive: true });
mkdirSync(join(glueDir, 'STS-B'), { recursive: true });
const text = (i: number) => `${WORDS[i % 8]} ${WORDS[(i * 3) % 8]} ${WORDS[(i * 5 + 1) % 8]}`;
writeFileSync(join(glueDir, 'SST-2', 'dev.tsv'), ['sentence\tlabel', ...Array.from({ length: 10 }, (_, i) => `${text(i)}\t${i % 2}`)].join('\n') + '\n');
writeFileSync(join(glueDir, 'SST-2', 'test.tsv'), ['index\tsentence', ...Array.from({ length: 6 }, (_, i) => `${i}\t${text(i)}`)].join('\n') + '\n');
const stsHeader = 'index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2';
const stsRow = (i: number) => `${i}\tmain-captions\tMSRvid\t2012test\t${i}\tnone\tnone\t${text(i)}\t${text(i + 1)}`;
writeFileSync(
  join(glueDir, 'STS-B', 'dev.tsv'),
  [`${stsHeader}\tscore`, ...Array.from({ length: 10 }, (_, i) => `${stsRow(i)}\t${(i % 5).toFixed(3)}`)].join('\n') + '\n',
);
writeFileSync(join(glueDir, 'STS-B', 'test.tsv'), [stsHeader, ...Array.from({ length: 6 }, (_, i) => stsRow(i))].join('\n') + '\n');

/** A tiny model folder whose classifier bias is NaN, so that every score is NaN. */
function nanModel(name: string, numLabels: number): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const model: Model = tinyBert({ numLabels });
  const last = model.graph.nodes.find((n) => n.outputs.includes('logits'))!;
  const bias = last.inputs.filter((i) => model.graph.initializers.has(i)).pop()!;
  const t = model.graph.initializers.get(bias)!;
  const nan = new Float32Array(t.dims.reduce((a, b) => a * b, 1)).fill(NaN);
  model.graph.initializers.set(bias, { ...t, data: new Uint8Array(nan.buffer) });
  saveModel(model, join(dir, 'model.onnx'));
  const config = numLabels === 1 ? { num_labels: 1, problem_type: 'regression', max_length: 16 } : { num_labels: 2, max_length: 16 };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  writeFileSync(join(dir, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...WORDS].join('\n') + '\n');
  return dir;
}

describe('non-finite model scores', () => {
  it('are no prediction: NaN, whatever the other scores of the row', () => {
    const rows = { values: new Float32Array([NaN, 1, 0, 2, Infinity, 0]), width: 2, count: 3 };
    const p = predictionsFromRows(SST2, rows, { outputToLabel: [0, 1], from: 'canonical' });
    expect(Array.from(p)).toEqual([NaN, 1, NaN]);
    expect(
      Array.from(predictionsFromRows(STSB, { values: new Float32Array([NaN, 2]), width: 1, count: 2 }, { outputToLabel: [0], from: 'canonical' })),
    ).toEqual([NaN, 2]);
  });

  it('make every metric of the task NaN', () => {
    expect(computeTaskMetrics(SST2, [NaN, 1, 0], [0, 1, 0])).toEqual({ accuracy: NaN });
    expect(computeTaskMetrics(STSB, [NaN, 1, 2, 3], [0, 1, 2, 4])).toEqual({ pearson: NaN, spearmanr: NaN });
  });

  it('leave SST-2 accuracy and STS-B correlations undefined, with the reason, and no GLUE score', async () => {
    for (const [task, dir, names] of [
      ['SST-2', nanModel('sst2', 2), ['accuracy']],
      ['STS-B', nanModel('stsb', 1), ['pearson', 'spearmanr']],
    ] as const) {
      const r = await evaluate({ model: dir, tasks: [task], glueDir, threads: 1 });
      const t = r.tasks[0]!;
      for (const m of names) {
        expect(t.metrics[m]).toBeNaN();
        expect(t.undefinedMetrics?.[m]).toBe('non-finite model scores for 10 of 10 examples');
      }
      expect(r.glue.score).toBeNull();
      expect(r.glue.undefinedReason).toMatch(/non-finite model scores for 10 of 10 examples/);
    }
  });

  it('refuse a submission, writing no file', async () => {
    const out = join(root, 'submission');
    const run = () => evaluate({ model: nanModel('stsb-test', 1), tasks: ['STS-B'], glueDir, threads: 1, split: 'test', submissionDir: out });
    await expect(run()).rejects.toThrow(UserError);
    await expect(run()).rejects.toThrow(
      /^STS-B: the model gave non-finite scores \(NaN or Infinity\) for 6 of 6 test examples \(the first: index 0\); no submission written$/,
    );
    expect(existsSync(join(out, 'STS-B.tsv'))).toBe(false);
  });
});
