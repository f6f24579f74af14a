/**
 * bench --baseline of a multiple-choice export (token ids [batch, choices, sequence]: a row per choice of each
 * example) against a model fed one row per example, or the other way round, is refused in one line: a batch of N
 * examples runs N × choices rows in the one and N in the other, where it reported the same weights as 1.8× faster
 * (or 0.57×). Two exports of the same choices compare as before.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// (benchModels of run.ts, as compress bench runs it, its refusals naming the flags; the package's names its options)
import { benchModels } from '../../src/bench/run.ts';
import { SettingsError } from '../../src/errors.ts';
import { writeModelFolder } from '../helpers/model-folder.ts';
import { multipleChoiceExport, tinyBert } from '../helpers/models.ts';

const work = mkdtempSync(join(tmpdir(), 'bc-mc-baseline-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const onnx = (dir: string) => join(dir, 'model.onnx');
// (the same weights: multipleChoiceExport is this one-label model with its inputs and scores reshaped)
const mc = onnx(writeModelFolder(join(work, 'mc'), multipleChoiceExport(), { config: false }));
const plain = onnx(writeModelFolder(join(work, 'plain'), tinyBert({ numLabels: 1 }, { seed: 5 }), { config: false }));
const quick = { batches: [2], seqs: [8], repeats: 2, warmup: 0, threads: 1 };
const tail = 'a speed-up compares a model with the one it was compressed or distilled from';

describe('bench --baseline with another number of rows per example', () => {
  it('refuses a multiple-choice baseline for a model of one row per example, and the other way round', async () => {
    await expect(benchModels({ model: plain, baseline: mc, ...quick })).rejects.toThrow(
      new SettingsError(
        `--baseline ${mc} is not comparable with ${plain}: the model is fed one row per example, the baseline 2 (a row per choice of each example: token ids [batch, choices, sequence]); ${tail}`,
      ),
    );
    await expect(benchModels({ model: mc, baseline: plain, ...quick })).rejects.toThrow(
      new SettingsError(
        `--baseline ${plain} is not comparable with ${mc}: the model is fed 2 rows per example (a row per choice of each example: token ids [batch, choices, sequence]), the baseline one; ${tail}`,
      ),
    );
  });

  it('compares two multiple-choice exports of the same choices', async () => {
    const other = onnx(writeModelFolder(join(work, 'mc-other'), multipleChoiceExport(), { config: false }));
    const r = await benchModels({ model: mc, baseline: other, ...quick });
    expect(r.choices).toBe(2);
    expect(r.shapes).toHaveLength(1);
  });
});
