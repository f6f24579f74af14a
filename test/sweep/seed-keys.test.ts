/**
 * Equal seeds written differently are one sweep point: a training step's own `seed: 7` and the sweep's `seed: 7`, or
 * `seed: 1` (the trainer's default) and none. A store whose point was stored under the key of its seeds as written
 * (by code before keys held each step's seed) is reused, not recomputed, and not reported stale; a second sweep writing
 * the seed the other way shares that point, and the report shows it once. So is a training step's task written out or
 * left out (`task: sst2`, `task: SST-2` and none on an SST-2 model).
 */
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSweep } from '../../src/sweep/run.ts';
import { pointKey } from '../../src/sweep/key.ts';
import { pointFolder, type SweepPoint } from '../../src/sweep/plan.ts';
import { loadReport } from '../../src/report/write.ts';
import { writeQuickSweep, writeTinySweep, type TinySweep } from './tiny-sweep.ts';
import { runQueuedSweep } from '../../src/queue/coordinator.ts';
import { anyRedis, redisSkipReason } from '../queue/redis.ts';
import { QUEUE_NAME, parseQueueUrl } from '../../src/queue/connection.ts';
import { Queue } from 'bullmq';
import { runMain } from '../helpers/cli.ts';

/** This file's database on a shared Redis, its own (test/queue/databases.test.ts). */
const DB = 8;

let t: TinySweep;
beforeAll(() => {
  t = writeTinySweep({ rows: 12 });
});
afterAll(() => t?.cleanup());

/** A sweep file named `name` over the tiny SST-2 model: its baseline and a fine-tuning step with `settings`, `extra` at the top. */
function sweepFile(name: string, settings: string, extra = ''): string {
  return writeQuickSweep(
    t.root,
    name,
    `models: [{path: models/tiny-sst2, tasks: [SST-2]}]
calibration: false
pipelines:
  - baseline
  - {name: ft-${name}, steps: [{pass: train, settings: {epochs: 1, maxExamples: 8, batchSize: 4${settings}}}]}
`,
    extra,
  );
}

/** Moves the store's trained point to the key its plan has with the seeds as written (as earlier code stored it). */
function storeUnderWrittenKey(store: string): { canonical: string; written: string } {
  const db = new Database(store);
  try {
    db.pragma('foreign_keys = OFF');
    const row = db.prepare("SELECT key, point FROM points WHERE label LIKE 'ft-%'").get() as { key: string; point: string };
    const point = JSON.parse(row.point) as SweepPoint;
    const written = pointKey(point, 'written');
    point.key = written;
    db.transaction(() => {
      db.prepare('UPDATE points SET key = ?, point = ? WHERE key = ?').run(written, JSON.stringify(point), row.key);
      db.prepare('UPDATE results SET key = ? WHERE key = ?').run(written, row.key);
      db.prepare('UPDATE sweep_points SET key = ? WHERE key = ?').run(written, row.key);
    })();
    return { canonical: row.key, written };
  } finally {
    db.close();
  }
}

describe('a training seed written in the step or as the sweep’s', () => {
  it('is one point: a store holding it under its seeds as written is reused, a sweep writing the seed otherwise shares it, the report shows it once', async () => {
    const store = join(t.root, 'seeds.sqlite');
    const bySweep = sweepFile('by-sweep', '', 'seed: 7\n');
    const inStep = sweepFile('in-step', ', seed: 7');
    expect(await runSweep({ file: bySweep, store })).toMatchObject({ total: 2, ran: 2, failed: [] });
    const { canonical, written } = storeUnderWrittenKey(store);
    expect(written).not.toBe(canonical);

    // the same sweep again: its point found under the key of its seeds as written, not recomputed, not stale
    expect(await runSweep({ file: bySweep, store })).toMatchObject({ total: 2, alreadyDone: 2, ran: 0, stale: [], failed: [] });
    // another sweep writing the seed in its step: the same point
    const shared = await runSweep({ file: inStep, store });
    expect(shared).toMatchObject({ total: 2, alreadyDone: 2, ran: 0, stale: [], failed: [] });

    const all = loadReport({ store });
    expect(all.rows.map((r) => [r.sweep, r.label, r.key, r.stale])).toEqual([
      ['by-sweep', 'baseline', expect.any(String), null],
      ['by-sweep', 'ft-by-sweep', written, null],
    ]);
    const mine = loadReport({ store, sweep: 'in-step' });
    expect(mine.rows.map((r) => [r.label, r.key, r.stale])).toEqual([
      ['baseline', all.rows[0]!.key, null],
      ['ft-in-step', written, null],
    ]);
    expect(mine.unfinished).toBeUndefined();
    // each row shows the seed its model was drawn with, the sweep's where its step has none (the point stored by
    // by-sweep, whose step writes none: in-step's row read as trained with the default seed)
    for (const report of [all, mine]) expect(report.rows[1]!.parameters).toBe('train epochs=1 maxExamples=8 batchSize=4 seed=7');
    expect(mine.rows[1]!.steps[0]!.settings.seed).toBeUndefined();
  });

  it('compress sweep --dry-run lists a point the store holds under its seeds as written under that key, in the store, as the run takes it; reading the store, writing nothing', async () => {
    const store = join(t.root, 'dry-seeds.sqlite');
    const file = sweepFile('dry-by-sweep', '', 'seed: 7\n');
    expect(await runSweep({ file, store })).toMatchObject({ total: 2, ran: 2, failed: [] });
    const { written } = storeUnderWrittenKey(store);
    const before = readFileSync(store);
    const listed = new Set(readdirSync(t.root));
    const r = await runMain(['sweep', file, '--dry-run', '--store', store]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([
      'sweep dry-by-sweep: 2 points (1 model × 2 pipelines), 2 already in the store; dry run: none run, nothing written',
      expect.stringMatching(/^[0-9a-f]{12} tiny-sst2 · baseline \(in the store\)$/),
      `${written.slice(0, 12)} tiny-sst2 · ft-dry-by-sweep (in the store)`,
    ]);
    // the store as it was, and no file beside it (no -wal, -shm)
    expect(readFileSync(store).equals(before)).toBe(true);
    expect(new Set(readdirSync(t.root))).toEqual(listed);
    // an empty file, which the run would make its store, holds none: listed as without a store, left empty
    const empty = join(t.root, 'dry-empty.sqlite');
    writeFileSync(empty, '');
    const none = await runMain(['sweep', file, '--dry-run', '--store', empty]);
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout.split('\n')[0]).toBe('sweep dry-by-sweep: 2 points (1 model × 2 pipelines); dry run: none run, nothing written');
    expect(readFileSync(empty).length).toBe(0);
  });

  it("is one point as the trainer's default written out or left out: seed 1 in the step, the sweep's seed 1, none", async () => {
    const store = join(t.root, 'default-seed.sqlite');
    expect(await runSweep({ file: sweepFile('no-seed', ''), store })).toMatchObject({ total: 2, ran: 2, failed: [] });
    for (const [name, settings, extra] of [
      ['own-one', ', seed: 1', ''],
      ['sweep-one', '', 'seed: 1\n'],
    ] as const)
      expect(await runSweep({ file: sweepFile(name, settings, extra), store }), name).toMatchObject({ total: 2, alreadyDone: 2, ran: 0, failed: [] });
    expect(await runSweep({ file: sweepFile('seed-two', ', seed: 2'), store })).toMatchObject({ total: 2, alreadyDone: 1, ran: 1, failed: [] });
    expect(loadReport({ store }).rows.map((r) => r.label)).toEqual(['baseline', 'ft-no-seed', 'ft-seed-two']);
  });
});

describe('a point a run stopped under its seeds as written (by earlier code)', () => {
  it('goes on from the stages that run finished, in its work folder, and is stored under that key', async () => {
    const store = join(t.root, 'stopped.sqlite');
    const work = join(t.root, 'stopped-models');
    const file = (name: string, settings: string, extra: string) =>
      writeQuickSweep(
        t.root,
        name,
        `models: [{path: models/tiny-sst2, tasks: [SST-2]}]
calibration: false
pipelines:
  - {name: ft-q, steps: [{pass: train, settings: {epochs: 1, maxExamples: 8, batchSize: 4${settings}}}, {pass: quantize, settings: {mode: int8}}]}
`,
        extra,
      );
    // stopped at its evaluation, after both stages (trained, quantized) were written and recorded
    const stop = new AbortController();
    const first = await runSweep({
      file: file('stop-by-sweep', '', 'seed: 7\n'),
      store,
      workDir: work,
      signal: stop.signal,
      onEvent: (e) => {
        if (e.type === 'stage' && e.stage === 'eval' && e.point.label === 'ft-q') stop.abort();
      },
    });
    expect(first).toMatchObject({ ran: 1, interrupted: true, failed: [] });
    // as earlier code left it: the point's row, its work folder and its stage records under the key of its seeds as written
    const db = new Database(store);
    let moved: { from: string; to: string; key: string };
    try {
      const row = db.prepare("SELECT key, point FROM points WHERE label = 'ft-q'").get() as { key: string; point: string };
      const point = JSON.parse(row.point) as SweepPoint;
      const key = pointKey(point, 'written');
      moved = { from: point.outputDir!, to: pointFolder(work, point, key), key };
      point.key = key;
      point.outputDir = moved.to;
      db.prepare('UPDATE points SET key = ?, point = ? WHERE key = ?').run(key, JSON.stringify(point), row.key);
      db.prepare('UPDATE sweep_points SET key = ? WHERE key = ?').run(key, row.key);
      renameSync(moved.from, moved.to);
      for (const record of [join(moved.to, '.sweep-stage.json'), join(moved.to, 'stage-1', '.sweep-stage.json')])
        writeFileSync(record, JSON.stringify({ ...JSON.parse(readFileSync(record, 'utf8')), key }));
    } finally {
      db.close();
    }
    const lines: string[] = [];
    const rerun = await runSweep({
      file: file('stop-in-step', ', seed: 7', ''),
      store,
      workDir: work,
      onEvent: (e) => {
        if (e.type === 'log') lines.push(e.line);
      },
    });
    expect(rerun).toMatchObject({ total: 2, alreadyDone: 1, ran: 1, failed: [] });
    expect(
      lines.filter((l) => l.startsWith('reusing the output of stages 1 to 2 of 2 (train, quantize)')),
      lines.join('\n'),
    ).toHaveLength(1);
    expect(existsSync(moved.from)).toBe(false);
    expect(loadReport({ store, sweep: 'stop-in-step' }).rows.map((r) => [r.label, r.key === moved.key, r.stale])).toEqual([
      ['baseline', false, null],
      ['ft-q', true, null],
    ]);
  });
});

describe.skipIf(redisSkipReason !== null)(`a queued sweep${redisSkipReason ? ` (skipped: ${redisSkipReason})` : ''}`, () => {
  it('queues no point a store holds under its seeds as written (by earlier code, or another sweep writing them otherwise)', async () => {
    const store = join(t.root, 'queued-seeds.sqlite');
    expect(await runSweep({ file: sweepFile('q-by-sweep', '', 'seed: 7\n'), store })).toMatchObject({ ran: 2, failed: [] });
    storeUnderWrittenKey(store);
    const redis = await anyRedis();
    const queue = new Queue(QUEUE_NAME, { connection: parseQueueUrl(redis.url(DB)).connection });
    try {
      await queue.obliterate({ force: true });
      // (nothing to queue: no worker needed, the coordinator returns once it has planned; a point it queued would wait
      // for a worker, so the signal ends the call)
      const signal = AbortSignal.timeout(60_000);
      const summary = await runQueuedSweep({ file: sweepFile('q-in-step', ', seed: 7'), store, queue: redis.url(DB), signal });
      expect(summary).toMatchObject({ total: 2, alreadyDone: 2, added: 0, ran: 0, stale: [], failed: [] });
    } finally {
      await queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
      await redis.close();
    }
  });
});

describe("a training step's task written out or left out", () => {
  it("is one point: the model's one task left out, written out or by an alias; a store holding it under its task as written is reused", async () => {
    const store = join(t.root, 'task.sqlite');
    expect(await runSweep({ file: sweepFile('no-task', ''), store })).toMatchObject({ total: 2, ran: 2, failed: [] });
    for (const [name, settings] of [
      ['task-written', ', task: SST-2'],
      ['task-alias', ', task: sst2'],
    ] as const)
      expect(await runSweep({ file: sweepFile(name, settings), store }), name).toMatchObject({ total: 2, alreadyDone: 2, ran: 0, failed: [] });
    expect(loadReport({ store }).rows.map((r) => r.label)).toEqual(['baseline', 'ft-no-task']);

    // (as a model of tasks [MNLI] now needs task: MNLI-m written, where earlier code planned it without)
    const older = join(t.root, 'task-written.sqlite');
    expect(await runSweep({ file: sweepFile('alias', ', task: sst2'), store: older })).toMatchObject({ total: 2, ran: 2, failed: [] });
    const { canonical, written } = storeUnderWrittenKey(older);
    expect(written).not.toBe(canonical);
    expect(await runSweep({ file: sweepFile('left-out', ''), store: older })).toMatchObject({ total: 2, alreadyDone: 2, ran: 0, stale: [], failed: [] });
    expect(loadReport({ store: older }).rows.map((r) => [r.label, r.key === written, r.stale])).toEqual([
      ['baseline', false, null],
      ['ft-alias', true, null],
    ]);
  });
});
