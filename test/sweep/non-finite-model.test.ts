/**
 * A sweep point whose model computes NaN or Infinity on compress's check's sample inputs fails in compress's one line
 * (compressFile's check of its input, checkInput), before it trains, evaluates or benchmarks anything: the baseline
 * point was evaluated and stored (its GLUE undefined: non-finite model scores) and a pipeline starting with a train
 * step failed as 'the loss is NaN before any update: check the loss settings', where only a stage of passes refused
 * it. A finite model beside it runs its points as before.
 */
import Database from 'better-sqlite3';
import { copyFileSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import { loadModel, readFloat32, saveModel } from '../../src/onnx/index.ts';
import { float32Tensor } from '../../src/onnx/tensor.ts';
import { planSweepFile, runSweep } from '../../src/sweep/run.ts';
import { loadReport } from '../../src/report/write.ts';
import { FAILED_REFUSED_INPUT } from '../../src/report/table.ts';
import { writeQuickSweep, writeTinySweep, type TinySweep } from './tiny-sweep.ts';

let t: TinySweep;
let broken: string;
let finite: string;
beforeAll(() => {
  t = writeTinySweep({ rows: 16, pipelines: ['baseline'] });
  // models/tiny-sst2 with a NaN in its layer 0 attention query weight (its folder copied first as models/finite)
  broken = join(t.root, 'models', 'tiny-sst2', 'model.onnx');
  cpSync(join(t.root, 'models', 'tiny-sst2'), join(t.root, 'models', 'finite'), { recursive: true });
  finite = join(t.root, 'models', 'finite', 'model.onnx');
  const model = loadModel(broken);
  const weight = findBert(model).layers[0]!.attention!.q!.weight;
  const tensor = model.graph.initializers.get(weight)!;
  const values = readFloat32(tensor).slice();
  values[5] = Number.NaN;
  model.graph.initializers.set(weight, float32Tensor(weight, tensor.dims, values));
  saveModel(model, broken);
});
afterAll(() => t?.cleanup());

/** compress's one line for the broken model read at `path`. */
const refusal = (path: string) =>
  `${path}: the model computes 4 non-finite values (NaN or Infinity; the first NaN) at its output 'logits' on the check's sample inputs (batch 2 of 16 tokens), before any pass: fix or retrain it before compressing it`;

/** A copy of the broken model's folder as models/`name`, and a sweep file of its baseline: the folder and the file. */
function brokenCopy(name: string): { folder: string; file: string } {
  const folder = join(t.root, 'models', name);
  cpSync(join(t.root, 'models', 'tiny-sst2'), folder, { recursive: true });
  return { folder, file: writeQuickSweep(t.root, name, `models:\n  - {path: models/${name}, tasks: [SST-2]}\ncalibration: false\npipelines: [baseline]\n`) };
}

describe('a sweep model computing NaN', () => {
  it("fails each of its points (baseline, passes, a train step first) in compress's one line; a finite model's points run", async () => {
    const file = writeQuickSweep(
      t.root,
      'nan',
      `models:
  - {path: models/tiny-sst2, tasks: [SST-2]}
  - {path: models/tiny-stsb, tasks: [STS-B]}
calibration: false
pipelines:
  - baseline
  - name: ffn
    steps: [{pass: prune-ffn, settings: {ratio: 0.5}}]
  - name: trained
    steps: [{pass: train, settings: {epochs: 1, batchSize: 8, maxExamples: 8, maxLength: 16}}]
`,
    );
    const summary = await runSweep({ file, store: join(t.root, 'nan.sqlite') });
    const line = refusal(broken);
    expect(summary.failed.map((f) => [f.point.model.name, f.point.label, f.error])).toEqual([
      ['tiny-sst2', 'baseline', line],
      ['tiny-sst2', 'ffn', line],
      ['tiny-sst2', 'trained', line],
    ]);
    expect(summary.ran).toBe(3);
  }, 120_000);

  it('a rerun fails those points again unrun (a refusal of the files the key hashes), local or with --jobs 2, until the tool version differs', async () => {
    const file = writeQuickSweep(
      t.root,
      'nan-again',
      `models:
  - {path: models/tiny-sst2, tasks: [SST-2]}
calibration: false
pipelines:
  - baseline
  - name: ffn
    steps: [{pass: prune-ffn, settings: {ratio: 0.5}}]
`,
    );
    const store = join(t.root, 'nan-again.sqlite');
    const line = refusal(broken);
    // (run by a pool's workers: the refusal crosses the process as PointFailure.inputRefused)
    const first = await runSweep({ file, store, jobs: 2 });
    // (in the order the two workers finished them)
    expect(first.failed.map((f) => [f.point.label, f.error, f.refused]).sort()).toEqual([
      ['baseline', line, line],
      ['ffn', line, line],
    ]);
    for (const jobs of [1, 2]) {
      const events: string[] = [];
      const again = await runSweep({ file, store, jobs, onEvent: (e) => events.push(e.type) });
      expect(again.failed.map((f) => [f.point.label, f.error, f.refused])).toEqual([
        ['baseline', line, line],
        ['ffn', line, line],
      ]);
      expect(events).toEqual(['plan', 'failed', 'failed']); // (no 'start': neither ran)
    }
    // (refused by another tool version: this one runs them, as it did before)
    const db = new Database(store);
    db.prepare("UPDATE points SET refused_by = 'bert-compress 0.0.1' WHERE status = 'failed'").run();
    db.close();
    const events: string[] = [];
    await runSweep({ file, store, onEvent: (e) => events.push(e.type) });
    expect(events.filter((e) => e === 'start')).toHaveLength(2);
  }, 180_000);

  it("a dry run after the model was fixed, run and broken again says its points fail again unrun, as the run does (the fixed run's plan had dropped them)", async () => {
    const { folder, file } = brokenCopy('restored');
    const store = join(t.root, 'restored.sqlite');
    const line = refusal(join(folder, 'model.onnx'));
    expect((await runSweep({ file, store })).failed.map((f) => f.error)).toEqual([line]);
    copyFileSync(finite, join(folder, 'model.onnx'));
    expect((await runSweep({ file, store })).failed).toEqual([]);
    copyFileSync(broken, join(folder, 'model.onnx'));
    const dry = await planSweepFile({ file, store });
    expect([...dry.stored.refusedAgain.values()].map((r) => r.refused)).toEqual([line]);
    const events: string[] = [];
    const again = await runSweep({ file, store, onEvent: (e) => events.push(e.type) });
    expect([again.failed.map((f) => f.error), events]).toEqual([[line], ['plan', 'failed']]);
  }, 180_000);

  it('a point refused for its model whose bytes are now read at another path (a copy, a moved folder) runs again and names that path; then fails again unrun', async () => {
    const store = join(t.root, 'copies.sqlite');
    const first = brokenCopy('first-copy').file;
    const second = brokenCopy('second-copy').file;
    expect((await runSweep({ file: first, store })).failed.map((f) => f.error)).toEqual([refusal(join(t.root, 'models', 'first-copy', 'model.onnx'))]);
    expect((await planSweepFile({ file: second, store })).stored.refusedAgain.size).toBe(0);
    for (const starts of [1, 0]) {
      const events: string[] = [];
      const run = await runSweep({ file: second, store, onEvent: (e) => events.push(e.type) });
      expect([run.failed.map((f) => f.error), events.filter((e) => e === 'start').length]).toEqual([
        [refusal(join(t.root, 'models', 'second-copy', 'model.onnx'))],
        starts,
      ]);
    }
  }, 180_000);

  it("the report says what a rerun does with such a point, as the sweep decides: fails it again unrun while the model holds those bytes, runs it once the model was fixed (where it said 'a rerun fails at them too')", async () => {
    const { folder, file } = brokenCopy('reported');
    const store = join(t.root, 'reported.sqlite');
    const line = refusal(join(folder, 'model.onnx'));
    expect((await runSweep({ file, store })).failed.map((f) => f.error)).toEqual([line]);
    const said = async () => {
      const dry = await planSweepFile({ file, store });
      let report = 'a report';
      try {
        loadReport({ store });
      } catch (e) {
        report = (e as Error).message;
      }
      return { failsAgain: dry.stored.refusedAgain.size, report };
    };
    const failsAgain = `${store}: no finished point; 1 failed (${FAILED_REFUSED_INPUT}): reported · baseline: ${line}`;
    const retried = `${store}: no finished point; 1 failed (a rerun of the sweep retries them): reported · baseline: ${line}`;
    expect(await said()).toEqual({ failsAgain: 1, report: failsAgain });
    // (fixed, not rerun: the rerun plans another point, and runs it)
    copyFileSync(finite, join(folder, 'model.onnx'));
    expect(await said()).toEqual({ failsAgain: 0, report: retried });
    copyFileSync(broken, join(folder, 'model.onnx'));
    expect(await said()).toEqual({ failsAgain: 1, report: failsAgain });
  }, 180_000);
});
