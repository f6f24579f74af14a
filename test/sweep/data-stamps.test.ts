/**
 * The stamps a sweep's plan takes of the data files it hashes (GLUE dev and train files, config.json and tokenizer
 * files, a teacher's: SweepPoint.dataStamps): `compress report` hashes such a file again only where its stamp no
 * longer holds, as it does a model, where it hashed every data file of every point at every report. A file edited
 * reads as edited; a rerun gives stamps to a point stored without them.
 */
import { utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runSweep } from '../../src/sweep/run.ts';
import { plannedDataFiles, type SweepPoint } from '../../src/sweep/plan.ts';
import { currentHashes, dataChange } from '../../src/sweep/stale.ts';
import { clockAhead, storedPlans, writeQuickSweep, writeTinySst2, writeTinySweep, type TinySweep } from './tiny-sweep.ts';

let t: TinySweep;
/**
 * Each test its own setting, written before its clock goes ahead: the first edits a data file, which the second
 * must not read (the second's plan, run at a clock 10 s past the setting, would take the file edited under load
 * less than 2 s before that clock for one changed just now, and leave it unstamped).
 */
beforeEach(() => {
  t = writeTinySweep({ rows: 8 });
  writeTinySst2(join(t.root, 'models', 'teacher'), 9);
  writeQuickSweep(
    t.root,
    'data-stamps',
    `models: [{path: models/tiny-sst2, tasks: [SST-2]}]
calibration: {examples: 4}
pipelines:
  - baseline
  - {name: heads, steps: [{pass: prune-heads, settings: {ratio: 0.5, importance: ablation}}]}
  - {name: kd, steps: [{pass: distill, settings: {teacher: models/teacher, epochs: 1, maxExamples: 8, batchSize: 4}}]}
`,
  );
  clockAhead();
});
afterEach(() => {
  vi.useRealTimers();
  t?.cleanup();
});

/** What dataChange says of each plan, and the files it hashed to say it (each file once: as a report's memo). */
function report(points: SweepPoint[]): { changes: Array<[string, string | undefined]>; hashed: string[] } {
  const hashed = new Set<string>();
  const current = currentHashes();
  const hash = (file: string) => {
    hashed.add(file);
    return current(file);
  };
  const changes = points.map((p): [string, string | undefined] => [p.label, dataChange(p, hash)]);
  return { changes, hashed: [...hashed].sort() };
}

/** The data files a plan hashed that its folder held (side files it did not hold are looked for again). */
const heldFiles = (p: SweepPoint) => plannedDataFiles(p).filter((f) => f.sha256 !== undefined);
const unheld = (points: SweepPoint[]) =>
  [
    ...new Set(
      points.flatMap((p) =>
        plannedDataFiles(p)
          .filter((f) => f.sha256 === undefined)
          .map((f) => f.file),
      ),
    ),
  ].sort();

describe("a sweep's data file stamps", () => {
  it('spare the report hashing the data files again, until one is touched or edited', async () => {
    const store = join(t.root, 'data-stamps.sqlite');
    const file = join(t.root, 'data-stamps.yaml');
    expect(await runSweep({ file, store })).toMatchObject({ total: 3, ran: 3, failed: [] });
    const stored = storedPlans(store);
    for (const p of stored)
      expect(p.dataStamps?.map((s) => s.file).sort()).toEqual(
        heldFiles(p)
          .map((f) => f.file)
          .sort(),
      );
    const dev = join(t.root, 'glue', 'SST-2', 'dev.tsv');
    const train = join(t.root, 'glue', 'SST-2', 'train.tsv');
    expect(heldFiles(stored.find((p) => p.label === 'heads')!).map((f) => f.file)).toContain(train); // (calibration)
    expect(heldFiles(stored.find((p) => p.label === 'kd')!).map((f) => f.file)).toContain(join(t.root, 'models', 'teacher', 'config.json'));
    expect(report(stored)).toEqual({ changes: stored.map((p) => [p.label, undefined]), hashed: unheld(stored) });

    // touched: hashed again, the same bytes
    const at = new Date(Date.now() - 5_000);
    utimesSync(dev, at, at);
    expect(report(stored)).toEqual({ changes: stored.map((p) => [p.label, undefined]), hashed: [dev, ...unheld(stored)].sort() });

    // edited (the same size): hashed again, changed
    const config = join(t.root, 'models', 'tiny-sst2', 'config.json');
    const model = join(t.root, 'models', 'tiny-sst2');
    writeFileSync(config, JSON.stringify({ model_type: 'bert', num_labels: 2, id2label: { 0: 'positive', 1: 'negative' }, max_length: 16 }, null, 2));
    const edited = `data changed: ${join(model, 'config.json')} (model folder) edited`;
    expect(report(stored).changes).toEqual(stored.map((p) => [p.label, edited]));
  });

  it('are given by a rerun to a point stored without them (by code before plans kept them)', async () => {
    const store = join(t.root, 'unstamped.sqlite');
    const file = join(t.root, 'data-stamps.yaml');
    expect(await runSweep({ file, store })).toMatchObject({ total: 3, ran: 3, failed: [] });
    const db = new Database(store);
    try {
      for (const row of db.prepare('SELECT key, point FROM points').all() as Array<{ key: string; point: string }>) {
        const p = JSON.parse(row.point) as SweepPoint;
        delete p.dataStamps;
        db.prepare('UPDATE points SET point = ? WHERE key = ?').run(JSON.stringify(p), row.key);
      }
    } finally {
      db.close();
    }
    expect(storedPlans(store).map((p) => p.dataStamps)).toEqual([undefined, undefined, undefined]);
    expect(await runSweep({ file, store })).toMatchObject({ total: 3, alreadyDone: 3, ran: 0, failed: [] });
    const stored = storedPlans(store);
    expect(report(stored)).toEqual({ changes: stored.map((p) => [p.label, undefined]), hashed: unheld(stored) });
  });
});
