/**
 * A train or distill step's version (TRAINING_VERSIONS) in a sweep point's key, as a graph pass's: a point whose
 * step an older version trained is stale, kept and reported (by the sweep, its --dry-run and the report), not silently
 * reused and recomputed only with --rerun-stale; a point of the other training step, or of none, keeps its result. A
 * store written before steps had versions holds none: version 1, its points current.
 */
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runSweep } from '../../src/sweep/run.ts';
import { pointKey } from '../../src/sweep/key.ts';
import type { SweepPoint } from '../../src/sweep/plan.ts';
import { staleLine } from '../../src/cli/commands/sweep.ts';
import { loadReport } from '../../src/report/write.ts';
import { TRAINING_VERSIONS, trainingVersion } from '../../src/train/versions.ts';
import { storedPlans, writeQuickSweep, writeTinySst2, writeTinySweep, type TinySweep } from './tiny-sweep.ts';
import { staleChange } from '../../src/sweep/stale.ts';
import { writeModelFolder } from '../helpers/model-folder.ts';
import { bilstmConfigJson, exportBilstm, parseBilstmSpec, randomBilstmWeights, resolveBilstmConfig } from '../../src/train/students/bilstm.ts';
import { runMain } from '../helpers/cli.ts';

let t: TinySweep;
let file: string;
beforeAll(() => {
  t = writeTinySweep({ rows: 12 });
  file = writeQuickSweep(
    t.root,
    'versions',
    `models: [{path: models/tiny-sst2, tasks: [SST-2]}]
calibration: false
pipelines:
  - baseline
  - {name: ft, steps: [{pass: train, settings: {epochs: 1, maxExamples: 8, batchSize: 4}}]}
  - {name: kd, steps: [{pass: distill, settings: {epochs: 1, maxExamples: 8, batchSize: 4, student: 'bert:layers=1'}}]}
`,
  );
});
afterAll(() => t?.cleanup());

/** The versions the code of this test file runs with, put back after each test that plays a later version. */
const versions = TRAINING_VERSIONS as Record<'train' | 'distill', Record<'bert' | 'bilstm', number>>;
const released = structuredClone(versions);
afterEach(() => Object.assign(versions, structuredClone(released)));
/** Every kind of student at version `n`, as code before versions by kind keyed them. */
const every = (n: number) => ({ bert: n, bilstm: n });

/** The stored points' versions and keys, by label. */
function stored(store: string): Map<string, { key: string; versions: SweepPoint['versions'] }> {
  const db = new Database(store, { readonly: true });
  try {
    const rows = db.prepare('SELECT p.key, p.label, p.point FROM points p JOIN results r ON r.key = p.key').all() as Array<{
      key: string;
      label: string;
      point: string;
    }>;
    return new Map(rows.map((r) => [r.label, { key: r.key, versions: (JSON.parse(r.point) as SweepPoint).versions }]));
  } finally {
    db.close();
  }
}

const dryRun = (store: string, ...flags: string[]) => runMain(['sweep', file, '--dry-run', '--store', store, ...flags]);

describe("a training step's version", () => {
  it('is recorded with each point that trains, and a point trained by an older version is stale: kept, reported, recomputed only with --rerun-stale', async () => {
    const store = join(t.root, 'bumped.sqlite');
    const first = await runSweep({ file, store });
    expect(first).toMatchObject({ total: 3, ran: 3, failed: [] });
    const before = stored(store);
    expect(before.get('baseline')!.versions.passes).toEqual({});
    expect(before.get('ft')!.versions.passes).toEqual({ train: released.train.bert });
    expect(before.get('kd')!.versions.passes).toEqual({ distill: released.distill.bert });

    // the next version of distill for BERT students (a changed loss, say): its points are stale, train's and the baseline are not
    const next = trainingVersion('distill') + 1;
    versions.distill = { ...released.distill, bert: next };
    const change = `distill v${released.distill.bert} → v${next}`;
    const kept = await runSweep({ file, store });
    expect(kept).toMatchObject({ total: 3, alreadyDone: 2, ran: 0, failed: [] });
    expect(kept.stale.map((s) => [s.point.label, s.stored.map((o) => o.key), s.change])).toEqual([['kd', [before.get('kd')!.key], change]]);
    expect(staleLine(kept.stale, false).line).toBe(
      `1 point stale: stored by other code (${change}) and kept, not recomputed: tiny-sst2 · kd; rerun with --rerun-stale to recompute it`,
    );
    expect(stored(store)).toEqual(before);
    const report = loadReport({ store });
    expect(report.rows.map((r) => [r.label, r.stale])).toEqual([
      ['baseline', null],
      ['ft', null],
      ['kd', change],
    ]);

    const rerun = await runSweep({ file, store, rerunStale: true });
    expect(rerun).toMatchObject({ total: 3, alreadyDone: 2, ran: 1, failed: [] });
    const after = stored(store);
    expect(after.get('kd')!.versions.passes).toEqual({ distill: next });
    expect(after.get('kd')!.key).not.toBe(before.get('kd')!.key);
    for (const label of ['baseline', 'ft']) expect(after.get(label)).toEqual(before.get(label));
    expect(await runSweep({ file, store })).toMatchObject({ alreadyDone: 3, ran: 0, stale: [] });

    // the code of this release reads that store as one a later version wrote: its kd point stale, kept (--dry-run says so)
    Object.assign(versions, structuredClone(released));
    const r = await dryRun(store);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([
      'sweep versions: 3 points (1 model × 3 pipelines), 2 already in the store, 1 stale (kept); dry run: none run, nothing written',
      expect.stringMatching(/^[0-9a-f]{12} tiny-sst2 · baseline \(in the store\)$/),
      expect.stringMatching(/^[0-9a-f]{12} tiny-sst2 · ft \(in the store\)$/),
      `${before.get('kd')!.key.slice(0, 12)} tiny-sst2 · kd (stale: distill v${next} → v${released.distill.bert}; kept)`,
    ]);
  });

  it('is 1 in a store written before steps had versions: its points are current, their keys as they were', async () => {
    // (as the code of version 1 ran it: the versions put back after the test)
    Object.assign(versions, { train: every(1), distill: every(1) });
    const store = join(t.root, 'unversioned.sqlite');
    expect(await runSweep({ file, store })).toMatchObject({ ran: 3, failed: [] });
    // as earlier code stored them: no version for the training steps, under the key it gave them
    const db = new Database(store);
    try {
      for (const row of db.prepare("SELECT key, point FROM points WHERE label IN ('ft', 'kd')").all() as Array<{ key: string; point: string }>) {
        const point = JSON.parse(row.point) as SweepPoint;
        point.versions = { ...point.versions, passes: {} };
        expect(pointKey(point)).toBe(row.key);
        db.prepare('UPDATE points SET point = ? WHERE key = ?').run(JSON.stringify(point), row.key);
      }
    } finally {
      db.close();
    }
    expect(await runSweep({ file, store })).toMatchObject({ alreadyDone: 3, ran: 0, stale: [], failed: [] });
    expect(loadReport({ store }).rows.map((r) => r.stale)).toEqual([null, null, null]);
    // (and stale, as 'train v1 → v3', once train's version for BERT students is 3)
    versions.train = every(3);
    expect((await runSweep({ file, store })).stale.map((s) => [s.point.label, s.change])).toEqual([['ft', 'train v1 → v3']]);
  });

  it("is its student's kind's: a store written when every kind had version 2 (a BiLSTM's change) or none keeps its BERT points current; a BiLSTM's version 1 is stale", async () => {
    const kinds = writeQuickSweep(
      t.root,
      'kinds',
      `models: [{path: models/tiny-sst2, tasks: [SST-2]}]
calibration: false
pipelines:
  - baseline
  - {name: ft, steps: [{pass: train, settings: {epochs: 1, maxExamples: 8, batchSize: 4}}]}
  - {name: kd, steps: [{pass: distill, settings: {epochs: 1, maxExamples: 8, batchSize: 4, student: 'bert:layers=1'}}]}
  - {name: lstm, steps: [{pass: distill, settings: {epochs: 1, maxExamples: 8, batchSize: 4, student: 'bilstm:hidden=8'}}]}
`,
    );
    /**
     * Runs the sweep as the code of `version` for every kind stored it: no student kinds in its plans, and at version 1
     * no training versions (as code before steps had versions).
     */
    const storedBy = async (store: string, version: number) => {
      Object.assign(versions, { train: every(version), distill: every(version) });
      expect(await runSweep({ file: kinds, store })).toMatchObject({ ran: 4, failed: [] });
      Object.assign(versions, structuredClone(released));
      const db = new Database(store);
      try {
        for (const row of db.prepare('SELECT key, point FROM points').all() as Array<{ key: string; point: string }>) {
          const point = JSON.parse(row.point) as SweepPoint;
          if (!point.training) continue;
          delete point.training.studentKind;
          if (version === 1) point.versions = { ...point.versions, passes: {} };
          expect(pointKey(point)).toBe(row.key);
          db.prepare('UPDATE points SET point = ? WHERE key = ?').run(JSON.stringify(point), row.key);
        }
      } finally {
        db.close();
      }
    };
    const staleRows = (store: string) => loadReport({ store }).rows.map((r) => [r.label, r.stale]);

    // version 2 for every kind: every point current, reused (a BERT's under that key), the report says so
    const shared = join(t.root, 'shared.sqlite');
    await storedBy(shared, 2);
    const expected = [
      ['baseline', null],
      ['ft', null],
      ['kd', null],
      ['lstm', null],
    ];
    expect(staleRows(shared)).toEqual(expected);
    expect(await runSweep({ file: kinds, store: shared })).toMatchObject({ alreadyDone: 4, ran: 0, stale: [], failed: [] });
    expect(staleRows(shared)).toEqual(expected);

    // none (version 1): the BERT points current and reused, the BiLSTM's stale (its LSTM biases were decayed)
    const before = join(t.root, 'before-versions.sqlite');
    await storedBy(before, 1);
    const rerun = await runSweep({ file: kinds, store: before });
    expect(rerun).toMatchObject({ alreadyDone: 3, ran: 0, failed: [] });
    expect(rerun.stale.map((m) => [m.point.label, m.change])).toEqual([['lstm', 'distill v1 → v2']]);
    // (the model so far a BERT, as the rerun recorded: ft current in the report too)
    expect(staleRows(before)).toEqual([...expected.slice(0, 3), ['lstm', 'distill v1 → v2']]);
  });

  it('reads the kind of a student given by path, or of the model so far, in a store from before kinds were kept: the report calls its BERT points current, a BiLSTM stale', async () => {
    writeTinySst2(join(t.root, 'models', 'student'), 7);
    // a saved Distilled BiLSTM of the tiny models' vocabulary, as a sweep's model (its folder's tokenizer the same)
    const config = resolveBilstmConfig(parseBilstmSpec('bilstm:hidden=8,embedding=16'), { vocabSize: 128, numLabels: 2, maxLength: 16 });
    const lstm = writeModelFolder(join(t.root, 'models', 'lstm'), exportBilstm(config, randomBilstmWeights(config, 5)));
    writeFileSync(join(lstm, 'config.json'), JSON.stringify(bilstmConfigJson(config, { id2label: ['negative', 'positive'], task: 'sst-2' })));
    copyFileSync(join(t.root, 'models', 'tiny-sst2', 'vocab.txt'), join(lstm, 'vocab.txt'));
    const kd = 'epochs: 1, maxExamples: 8, batchSize: 4';
    const paths = writeQuickSweep(
      t.root,
      'paths',
      `models: [{path: models/tiny-sst2, tasks: [SST-2]}]
calibration: false
pipelines:
  - {name: ft, steps: [{pass: train, settings: {${kd}}}]}
  - {name: kd-bert, steps: [{pass: distill, settings: {${kd}, student: models/student}}]}
  - {name: kd-lstm, steps: [{pass: distill, settings: {${kd}, student: models/lstm, logitLoss: mse}}]}
`,
    );
    // as code before steps had versions stored them: no training versions, no student kinds
    const store = join(t.root, 'path-students.sqlite');
    Object.assign(versions, { train: every(1), distill: every(1) });
    expect(await runSweep({ file: paths, store })).toMatchObject({ ran: 4, failed: [] });
    Object.assign(versions, structuredClone(released));
    const db = new Database(store);
    try {
      for (const row of db.prepare('SELECT key, point FROM points').all() as Array<{ key: string; point: string }>) {
        const point = JSON.parse(row.point) as SweepPoint;
        if (!point.training) continue;
        delete point.training.studentKind;
        point.versions = { ...point.versions, passes: {} };
        expect(pointKey(point)).toBe(row.key);
        db.prepare('UPDATE points SET point = ? WHERE key = ?').run(JSON.stringify(point), row.key);
      }
    } finally {
      db.close();
    }
    expect(loadReport({ store }).rows.map((r) => [r.label, r.stale])).toEqual([
      ['baseline', null],
      ['ft', null],
      ['kd-bert', null],
      ['kd-lstm', 'distill v1 → v2'],
    ]);
    // a student model gone since (another machine's store): its kind unknown, stale but for a BERT, and it says so
    const plan = storedPlans(store).find((q) => q.label === 'kd-bert')!;
    const step = plan.training!.steps[0]!;
    Object.assign(step, { student: join(t.root, 'models', 'gone', 'model.onnx'), studentSha256: 'e'.repeat(64) });
    expect(staleChange(plan, pointKey(plan))).toBe(
      'distill v1 → v2 unless its student was a BERT (current then: the model it trained is gone or changed, which would tell; a rerun of its sweep where the model is records it)',
    );
  });
});
