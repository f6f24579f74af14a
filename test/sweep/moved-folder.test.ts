/**
 * A sweep folder moved (or renamed) with its models, GLUE data and store: the rerun reuses its points (keys hold the
 * files' hashes, not their paths) and records where it found the files they read, so `compress report` compares the
 * files there now: a model, a teacher, a student model, a config.json or a GLUE file replaced in the moved folder
 * reads as changed, as it does in a folder never moved.
 */
import { cpSync, mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { saveModel } from '../../src/onnx/index.ts';
import { runSweep } from '../../src/sweep/run.ts';
import { loadReport, renderReport } from '../../src/report/write.ts';
import { tinyBert } from '../helpers/models.ts';
import { PRUNE_HEADS } from '../../src/prune/settings.ts';
import type { SweepPoint } from '../../src/sweep/plan.ts';
import { clockAhead, writeQuickSweep, writeTinySst2, writeTinySweep, type TinySweep } from './tiny-sweep.ts';

let t: TinySweep;
beforeAll(() => {
  t = writeTinySweep({ rows: 8 });
  const a = join(t.root, 'a');
  mkdirSync(a);
  cpSync(join(t.root, 'models', 'tiny-sst2'), join(a, 'model'), { recursive: true });
  writeTinySst2(join(a, 'teacher'), 9);
  writeTinySst2(join(a, 'student'), 11);
  cpSync(t.glueDir, join(a, 'glue'), { recursive: true });
  writeQuickSweep(
    a,
    'moved',
    `models: [{path: model, tasks: [SST-2]}]
calibration: false
pipelines:
  - baseline
  - {name: kd, steps: [{pass: distill, settings: {teacher: teacher, epochs: 1, maxExamples: 8, batchSize: 4}}]}
  - {name: kd-student, steps: [{pass: distill, settings: {student: student, epochs: 1, maxExamples: 8, batchSize: 4}}]}
`,
  );
  clockAhead();
});
afterAll(() => {
  vi.useRealTimers();
  t?.cleanup();
});

const changes = (store: string) => loadReport({ store }).rows.map((r) => [r.label, r.dataChange]);

describe('a sweep folder moved', () => {
  it("is reused by the rerun, and the report compares the files in the folder's new place", async () => {
    const a = join(t.root, 'a');
    const b = join(t.root, 'b');
    expect(await runSweep({ file: join(a, 'moved.yaml'), store: join(a, 'out', 's.sqlite') })).toMatchObject({ total: 3, ran: 3, failed: [] });
    renameSync(a, b);
    const store = join(b, 'out', 's.sqlite');
    expect(await runSweep({ file: join(b, 'moved.yaml'), store })).toMatchObject({ total: 3, alreadyDone: 3, ran: 0, failed: [] });
    expect(changes(store)).toEqual([
      ['baseline', null],
      ['kd', null],
      ['kd-student', null],
    ]);

    saveModel(tinyBert({ numLabels: 2 }, { seed: 10 }), join(b, 'teacher', 'model.onnx'));
    saveModel(tinyBert({ numLabels: 2 }, { seed: 12 }), join(b, 'student', 'model.onnx'));
    writeFileSync(join(b, 'glue', 'SST-2', 'dev.tsv'), 'sentence\tlabel\nthe film is good .\t1\n');
    expect(changes(store)).toEqual([
      ['baseline', `data changed: ${join(b, 'glue', 'SST-2', 'dev.tsv')} (SST-2 dev) edited`],
      [
        'kd',
        `data changed: ${join(b, 'teacher', 'model.onnx')} (teacher of step 1 (distill)) changed, ${join(b, 'glue', 'SST-2', 'dev.tsv')} (SST-2 dev) edited`,
      ],
      [
        'kd-student',
        `data changed: ${join(b, 'student', 'model.onnx')} (student of step 1 (distill)) changed, ${join(b, 'glue', 'SST-2', 'dev.tsv')} (SST-2 dev) edited`,
      ],
    ]);

    saveModel(tinyBert({ numLabels: 2 }, { seed: 13 }), join(b, 'model', 'model.onnx'));
    writeFileSync(join(b, 'model', 'config.json'), JSON.stringify({ model_type: 'bert', num_labels: 2, id2label: { 0: 'positive', 1: 'negative' } }));
    expect(changes(store)[0]).toEqual([
      'baseline',
      `data changed: ${join(b, 'model', 'model.onnx')} (model) changed, ${join(b, 'glue', 'SST-2', 'dev.tsv')} (SST-2 dev) edited, ${join(b, 'model', 'config.json')} (model folder) edited`,
    ]);
  });

  it("is copied: the rerun in the copy records the copy's files, so the copy's report compares them, not the original's", async () => {
    const p = join(t.root, 'p');
    mkdirSync(p);
    cpSync(join(t.root, 'models', 'tiny-sst2'), join(p, 'model'), { recursive: true });
    cpSync(t.glueDir, join(p, 'glue'), { recursive: true });
    writeQuickSweep(p, 'copied', 'models: [{path: model, tasks: [SST-2]}]\ncalibration: false\npipelines: [baseline]\n');
    expect(await runSweep({ file: join(p, 'copied.yaml'), store: join(p, 'out', 's.sqlite') })).toMatchObject({ total: 1, ran: 1, failed: [] });
    const q = join(t.root, 'q');
    cpSync(p, q, { recursive: true });
    const store = join(q, 'out', 's.sqlite');
    expect(await runSweep({ file: join(q, 'copied.yaml'), store })).toMatchObject({ total: 1, alreadyDone: 1, ran: 0, failed: [] });
    saveModel(tinyBert({ numLabels: 2 }, { seed: 14 }), join(q, 'model', 'model.onnx'));
    writeFileSync(join(q, 'glue', 'SST-2', 'dev.tsv'), 'sentence\tlabel\nthe film is good .\t1\n');
    expect(changes(store)).toEqual([
      ['baseline', `data changed: ${join(q, 'model', 'model.onnx')} (model) changed, ${join(q, 'glue', 'SST-2', 'dev.tsv')} (SST-2 dev) edited`],
    ]);
  });

  it("is copied and not run again: the copy's report compares the copy's files, and says which folder it compared", async () => {
    const p = join(t.root, 'c1');
    mkdirSync(p);
    cpSync(join(t.root, 'models', 'tiny-sst2'), join(p, 'model'), { recursive: true });
    cpSync(t.glueDir, join(p, 'glue'), { recursive: true });
    writeQuickSweep(p, 'copied', 'models: [{path: model, tasks: [SST-2]}]\ncalibration: false\npipelines: [baseline]\n');
    expect(await runSweep({ file: join(p, 'copied.yaml'), store: join(p, 'out', 's.sqlite') })).toMatchObject({ total: 1, ran: 1, failed: [] });
    const q = join(t.root, 'c2');
    cpSync(p, q, { recursive: true });
    writeFileSync(join(q, 'glue', 'SST-2', 'dev.tsv'), 'sentence\tlabel\nthe film is good .\t1\n');
    const store = join(q, 'out', 's.sqlite');
    expect(changes(store)).toEqual([['baseline', `data changed: ${join(q, 'glue', 'SST-2', 'dev.tsv')} (SST-2 dev) edited`]]);
    expect(loadReport({ store }).relocated).toEqual([{ store: join(p, 'out', 's.sqlite'), from: p, to: q, points: 1 }]);
    expect(await renderReport(loadReport({ store }), 'md', store)).toContain(
      `Store moved or copied since its points were planned (from ${join(p, 'out', 's.sqlite')}: the files one point read under ${p} were compared under ${q}, where they are there).`,
    );
    // the original opened through a link to its folder is not moved
    symlinkSync(p, join(t.root, 'c1-link'));
    expect(loadReport({ store: join(t.root, 'c1-link', 'out', 's.sqlite') }).relocated).toBeUndefined();
    // the original is unchanged, and its report says nothing moved
    expect(changes(join(p, 'out', 's.sqlite'))).toEqual([['baseline', null]]);
    expect(loadReport({ store: join(p, 'out', 's.sqlite') }).relocated).toBeUndefined();
    // a rerun in the copy computes the point on the edited data there, and records the copy's files: only the old point is relocated
    expect(await runSweep({ file: join(q, 'copied.yaml'), store })).toMatchObject({ total: 1, ran: 1, failed: [] });
    expect(loadReport({ store }).relocated).toEqual([{ store: join(p, 'out', 's.sqlite'), from: p, to: q, points: 1 }]);
  });

  it('is a store copied alone: its points compare the files where they were, and no note says they moved', async () => {
    const p = join(t.root, 'o1');
    mkdirSync(p);
    cpSync(join(t.root, 'models', 'tiny-sst2'), join(p, 'model'), { recursive: true });
    cpSync(t.glueDir, join(p, 'glue'), { recursive: true });
    writeQuickSweep(p, 'alone', 'models: [{path: model, tasks: [SST-2]}]\ncalibration: false\npipelines: [baseline]\n');
    expect(await runSweep({ file: join(p, 'alone.yaml'), store: join(p, 'out', 's.sqlite') })).toMatchObject({ total: 1, ran: 1, failed: [] });
    // the store file alone, under the same folder and file name elsewhere: none of the files its point read is there
    const q = join(t.root, 'o2');
    mkdirSync(join(q, 'out'), { recursive: true });
    cpSync(join(p, 'out', 's.sqlite'), join(q, 'out', 's.sqlite'));
    const store = join(q, 'out', 's.sqlite');
    writeFileSync(join(p, 'glue', 'SST-2', 'dev.tsv'), 'sentence\tlabel\nthe film is good .\t1\n');
    expect(changes(store)).toEqual([['baseline', `data changed: ${join(p, 'glue', 'SST-2', 'dev.tsv')} (SST-2 dev) edited`]]);
    expect(loadReport({ store }).relocated).toBeUndefined();
    expect(await renderReport(loadReport({ store }), 'md', store)).not.toContain('Store moved or copied');
  });

  it("is copied with a point left unfinished: the rerun in the copy records the plan it runs that point with, the copy's files", async () => {
    const p = join(t.root, 'u1');
    mkdirSync(p);
    cpSync(join(t.root, 'models', 'tiny-sst2'), join(p, 'model'), { recursive: true });
    cpSync(t.glueDir, join(p, 'glue'), { recursive: true });
    writeQuickSweep(p, 'unfinished', 'models: [{path: model, tasks: [SST-2]}]\ncalibration: false\npipelines: [baseline]\n');
    expect(await runSweep({ file: join(p, 'unfinished.yaml'), store: join(p, 'out', 's.sqlite') })).toMatchObject({ total: 1, ran: 1, failed: [] });
    // the point as a failed (or killed) run leaves it: claimed, no result
    const db = new Database(join(p, 'out', 's.sqlite'));
    try {
      db.prepare('DELETE FROM results').run();
      db.prepare("UPDATE points SET status = 'failed', error = 'killed'").run();
    } finally {
      db.close();
    }
    const q = join(t.root, 'u2');
    cpSync(p, q, { recursive: true });
    const store = join(q, 'out', 's.sqlite');
    expect(await runSweep({ file: join(q, 'unfinished.yaml'), store })).toMatchObject({ total: 1, ran: 1, failed: [] });
    const db2 = new Database(store, { readonly: true });
    try {
      const plan = JSON.parse((db2.prepare('SELECT point FROM points').get() as { point: string }).point) as SweepPoint & { storeFile: string };
      expect([plan.storeFile, plan.glueDir, plan.model.onnx]).toEqual([store, join(q, 'glue'), join(q, 'model', 'model.onnx')]);
    } finally {
      db2.close();
    }
    expect(loadReport({ store }).relocated).toBeUndefined();
  });

  it('keeps a stale point in the moved folder: the rerun records where it found the files that point read too', async () => {
    const a = join(t.root, 's1');
    mkdirSync(a);
    cpSync(join(t.root, 'models', 'tiny-sst2'), join(a, 'model'), { recursive: true });
    cpSync(t.glueDir, join(a, 'glue'), { recursive: true });
    writeQuickSweep(
      a,
      'stale',
      'models: [{path: model, tasks: [SST-2]}]\ncalibration: false\npipelines: [baseline, {name: heads, steps: [{pass: prune-heads, settings: {ratio: 0.5}}]}]\n',
    );
    // (the store outside the folder: the folder moves, the store stays)
    const store = join(t.root, 's-outside.sqlite');
    expect(await runSweep({ file: join(a, 'stale.yaml'), store })).toMatchObject({ total: 2, ran: 2, failed: [] });
    // the heads point as an older prune-heads computed it, under another key
    const db = new Database(store);
    try {
      db.pragma('foreign_keys = OFF');
      const row = db.prepare("SELECT key, point FROM points WHERE label = 'heads'").get() as { key: string; point: string };
      const point = JSON.parse(row.point) as SweepPoint;
      point.key = 'key-of-older-code';
      point.versions.passes['prune-heads'] = PRUNE_HEADS.keyVersion(PRUNE_HEADS.check({ ratio: 0.5 }), undefined) - 1;
      db.prepare('UPDATE points SET key = ?, point = ? WHERE key = ?').run(point.key, JSON.stringify(point), row.key);
      db.prepare('UPDATE results SET key = ? WHERE key = ?').run(point.key, row.key);
    } finally {
      db.close();
    }
    const b = join(t.root, 's2');
    renameSync(a, b);
    const rerun = await runSweep({ file: join(b, 'stale.yaml'), store });
    expect(rerun).toMatchObject({ total: 2, alreadyDone: 1, ran: 0, failed: [] });
    expect(rerun.stale.map((m) => m.stored.map((s) => s.key))).toEqual([['key-of-older-code']]);
    writeFileSync(join(b, 'glue', 'SST-2', 'dev.tsv'), 'sentence\tlabel\nthe film is good .\t1\n');
    const edited = `data changed: ${join(b, 'glue', 'SST-2', 'dev.tsv')} (SST-2 dev) edited`;
    expect(loadReport({ store }).rows.map((r) => [r.label, r.dataChange])).toEqual([
      ['baseline', edited],
      ['heads', edited],
    ]);
  });
});
