/**
 * The last line of `compress train` / `distill`: a model saved with its weights in an external data file (one past
 * protobuf's 2 GiB) is said with that file and their size together, where the line named the .onnx alone and gave
 * its size (the graph: 0.5 MB of a 2.2 GB model). Its counts line says one example and one step in the singular. The
 * best epoch's line says what its dev score is where the task has two metrics (MRPC: the mean of acc and F1, which
 * the table shows apart), where it gave a number found in no column.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatSummary, outputBytes } from '../../src/cli/training.ts';
import type { TrainLineage } from '../../src/train/run.ts';
import { formatMB } from '../../src/units.ts';

const dir = mkdtempSync(join(tmpdir(), 'train-summary-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function lineage(output: TrainLineage['output'], examples = 8, steps = 2, task = 'SST-2', metrics: Record<string, number> = { accuracy: 0.5 }): TrainLineage {
  const values = Object.values(metrics);
  const epochs = [{ epoch: 1, loss: 0.5, seconds: 1, metrics, score: values.reduce((a, b) => a + b, 0) / values.length }];
  return {
    kind: 'train',
    task,
    student: { spec: 'x', description: 'canonical rebuild of x' },
    data: { file: 'train.tsv', sha256: '', examples, maxLength: 16 },
    steps,
    epochs,
    bestEpoch: 1,
    examplesPerSecond: 1,
    after: { params: 1000, bytes: 4000 },
    output,
  } as unknown as TrainLineage;
}

describe('the summary line of a trained model', () => {
  it('names the external data file and counts its bytes in the size', () => {
    const path = join(dir, 'model.onnx');
    const dataFile = `${path}.data`;
    writeFileSync(path, new Uint8Array(1000));
    writeFileSync(dataFile, new Uint8Array(3_000_000));
    const output = { path, sha256: '', dataFile };
    expect(outputBytes(output)).toBe(3_001_000);
    expect(formatSummary(lineage(output), outputBytes(output)).at(-1)).toBe(
      `wrote ${path} with its weights in ${dataFile} (${formatMB(3_001_000)}, 1,000 parameters) and ${path}.json`,
    );
  });

  it('names the .onnx alone when it holds its weights', () => {
    const path = join(dir, 'inline.onnx');
    writeFileSync(path, new Uint8Array(5000));
    const output = { path, sha256: '' };
    expect(outputBytes(output)).toBe(5000);
    expect(formatSummary(lineage(output), 5000).at(-1)).toBe(`wrote ${path} (${formatMB(5000)}, 1,000 parameters) and ${path}.json`);
  });

  it('counts one example and one step in the singular (was "1 examples × 1 epoch = 1 steps")', () => {
    const output = { path: join(dir, 'inline.onnx'), sha256: '' };
    expect(formatSummary(lineage(output, 1, 1), 5000)[1]).toBe('1 example × 1 epoch = 1 step, 1 ex/s');
    expect(formatSummary(lineage(output, 1_000, 2), 5000)[1]).toBe('1,000 examples × 1 epoch = 2 steps, 1 ex/s');
  });

  it("says what the best epoch's dev score is where the task has two metrics (was 'dev MRPC 80.00' beside acc and F1 columns)", () => {
    const output = { path: join(dir, 'inline.onnx'), sha256: '' };
    const best = (task: string, metrics: Record<string, number>) => formatSummary(lineage(output, 8, 2, task, metrics), 5000).at(-2);
    expect(best('MRPC', { accuracy: 0.75, f1: 0.85 })).toBe('best epoch: 1 (dev MRPC 80.00, the mean of acc and F1)');
    expect(best('STS-B', { pearson: 0.5, spearmanr: 0.4 })).toBe('best epoch: 1 (dev STS-B 45.00, the mean of Pearson and Spearman)');
    expect(best('SST-2', { accuracy: 0.5 })).toBe('best epoch: 1 (dev SST-2 50.00)');
  });

  it("says no epoch was chosen where no epoch's dev score is defined (was 'best epoch: 1 (dev STS-B -, the mean of Pearson and Spearman)')", () => {
    const output = { path: join(dir, 'inline.onnx'), sha256: '' };
    const kept = (task: string, metrics: Record<string, number>) => formatSummary(lineage(output, 8, 2, task, metrics), 5000).at(-2);
    expect(kept('STS-B', { pearson: Number.NaN, spearmanr: Number.NaN })).toBe(
      'kept epoch 1: no epoch has a defined dev STS-B score (Pearson and Spearman undefined)',
    );
    expect(kept('CoLA', { matthews_correlation: Number.NaN })).toBe('kept epoch 1: no epoch has a defined dev CoLA score (MCC undefined)');
    // (the table marks it kept, not best; one of a defined score, best)
    const table = (score: number) => {
      const l = lineage(output, 8, 2, 'STS-B', { pearson: score, spearmanr: score });
      const epochs = [l.epochs[0]!, { ...l.epochs[0]!, epoch: 2 }];
      return formatSummary({ ...l, epochs } as TrainLineage, 5000).filter((line) => /^ +[12] /.test(line));
    };
    expect(table(Number.NaN).map((line) => line.split(/ +/).at(-1))).toEqual(['kept', '1.0']);
    expect(table(0.5).map((line) => line.split(/ +/).at(-1))).toEqual(['best', '1.0']);
  });
});
