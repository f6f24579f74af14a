/**
 * A sweep's rerun gives each point it reuses the file stamps its plan took of the models the point read, where the
 * stored ones no longer hold and the model hashes as it did (a `touch`): `compress report` then trusts them instead
 * of hashing the model again at every report; so does a point stored without stamps. A model whose bytes changed
 * keeps its old stamps, so the report still finds it changed.
 */
import { utimesSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stampsHold } from '../../src/files.ts';
import { saveModel } from '../../src/onnx/index.ts';
import { runSweep } from '../../src/sweep/run.ts';
import { SweepStore } from '../../src/sweep/store.ts';
import type { SweepPoint } from '../../src/sweep/plan.ts';
import { loadReport } from '../../src/report/write.ts';
import { tinyBert } from '../helpers/models.ts';
import { clockAhead, writeQuickSweep, writeTinySst2, writeTinySweep, type TinySweep } from './tiny-sweep.ts';

let t: TinySweep;
beforeAll(() => {
  t = writeTinySweep({ rows: 8 });
  writeTinySst2(join(t.root, 'models', 'teacher'), 9);
  clockAhead();
});
afterAll(() => {
  vi.useRealTimers();
  t?.cleanup();
});

const model = () => join(t.root, 'models', 'tiny-sst2', 'model.onnx');
const teacher = () => join(t.root, 'models', 'teacher', 'model.onnx');

function sweepFile(): string {
  return writeQuickSweep(
    t.root,
    'stamps',
    `models: [{path: models/tiny-sst2, tasks: [SST-2]}]
calibration: false
pipelines:
  - baseline
  - {name: kd, steps: [{pass: distill, settings: {teacher: models/teacher, epochs: 1, maxExamples: 8, batchSize: 4}}]}
`,
  );
}

/** Whether the stamps of each stored point's model and distill teacher hold, as [label, …], sorted. */
function holding(store: string): Array<[string, ...boolean[]]> {
  const s = SweepStore.open(store, { readonly: true });
  try {
    const plans = s.finishedPlans();
    return s
      .finished()
      .map((f): [string, ...boolean[]] => {
        const p = plans.get(f.key) as SweepPoint;
        return [f.label, ...[p.model.stamps, ...(p.training?.steps ?? []).map((t) => t.teacherStamps)].map(stampsHold)];
      })
      .sort((a, b) => String(a).localeCompare(String(b)));
  } finally {
    s.close();
  }
}

/** holding() of the sweep's two points (the baseline; kd, its model and teacher) when every stamp holds, or none does. */
const everyStamp = (held: boolean) => [
  ['baseline', held],
  ['kd', held, held],
];

/** Moves a file's times forward by `s` seconds (a `touch`): its bytes stay. */
const touch = (file: string, s: number) => {
  const at = new Date(Date.now() - 5_000 + s);
  utimesSync(file, at, at);
};

describe("a sweep's rerun", () => {
  it('gives a reused point the stamps it took of a model that hashes as it did, and keeps the stored ones of a model that changed', async () => {
    const store = join(t.root, 'stamps.sqlite');
    const file = sweepFile();
    expect(await runSweep({ file, store })).toMatchObject({ total: 2, ran: 2, failed: [] });
    expect(holding(store)).toEqual(everyStamp(true));

    // touched: the stored stamps no longer hold, so every report would hash the models again
    touch(model(), 1);
    touch(teacher(), 2);
    clockAhead(); // (the rerun stamps them)
    expect(holding(store)).toEqual(everyStamp(false));
    expect(await runSweep({ file, store })).toMatchObject({ total: 2, alreadyDone: 2, ran: 0, failed: [] });
    expect(holding(store)).toEqual(everyStamp(true));
    expect(loadReport({ store }).rows.map((r) => [r.label, r.dataChange])).toEqual([
      ['baseline', null],
      ['kd', null],
    ]);

    // the teacher's bytes changed: the rerun plans another point, the stored one keeps its stamps and reads as changed
    saveModel(tinyBert({ numLabels: 2 }, { seed: 10 }), teacher());
    touch(teacher(), 3);
    clockAhead();
    await runSweep({ file, store });
    expect(holding(store)).toEqual([
      ['baseline', true],
      ['kd', true, false],
      ['kd', true, true],
    ]);
    const changed = `data changed: ${teacher()} (teacher of step 1 (distill)) changed`;
    expect(loadReport({ store }).rows.map((r) => [r.label, r.dataChange])).toEqual([
      ['baseline', null],
      ['kd', changed],
      ['kd', null],
    ]);
  });

  it('gives stamps to a point stored without them (by code before plans kept them), which every report hashed', async () => {
    clockAhead(); // (past the files the first test wrote)
    const store = join(t.root, 'unstamped.sqlite');
    const file = sweepFile();
    expect(await runSweep({ file, store })).toMatchObject({ total: 2, ran: 2, failed: [] });
    const db = new Database(store);
    try {
      for (const row of db.prepare('SELECT key, point FROM points').all() as Array<{ key: string; point: string }>) {
        const p = JSON.parse(row.point) as SweepPoint;
        delete p.model.stamps;
        for (const t of p.training?.steps ?? []) delete t.teacherStamps;
        db.prepare('UPDATE points SET point = ? WHERE key = ?').run(JSON.stringify(p), row.key);
      }
    } finally {
      db.close();
    }
    expect(holding(store)).toEqual(everyStamp(false));
    expect(await runSweep({ file, store })).toMatchObject({ total: 2, alreadyDone: 2, ran: 0, failed: [] });
    expect(holding(store)).toEqual(everyStamp(true));
  });
});
