/**
 * Points stored timed contended (their benchmark did not have the machine to itself: † in the report) are kept by a
 * rerun of the sweep, which says so in one line; `--rerun-contended` recomputes them and replaces their results (with
 * kept models, from the stages the earlier run wrote). The sweep's closing hint names its sweep when the store holds
 * others.
 */
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TIMING_LOCK_ENV } from '../../src/bench/timing-lock.ts';
import { contendedLine, reportCommand } from '../../src/cli/commands/sweep.ts';
import { splitFile } from '../../src/glue/dataset.ts';
import { getTask } from '../../src/glue/registry.ts';
import { loadReport, toMarkdown } from '../../src/report/index.ts';
import { planAgainstStore, RERUN_CONTENDED_JOBS, runSweep, type SweepEvent } from '../../src/sweep/run.ts';
import { SweepStore, type StoredPoint } from '../../src/sweep/store.ts';
import { writeTinySweep, type TinySweep } from './tiny-sweep.ts';
import { runMain } from '../helpers/cli.ts';

let t: TinySweep;
let file: string;
const lockEnv = process.env[TIMING_LOCK_ENV];
beforeAll(() => {
  t = writeTinySweep({ rows: 12 });
  process.env[TIMING_LOCK_ENV] = join(t.root, 'timing.lock'); // this test's own lock (the CLI's main reads it)
  file = join(t.root, 'contended.yaml');
  writeFileSync(
    file,
    `name: contended
glueDir: glue
models: [{path: models/tiny-sst2, tasks: [SST-2]}]
calibration: false
pipelines:
  - baseline
  - {name: ffn, steps: [{pass: prune-ffn, settings: {ratio: 0.5}}]}
bench: {batch: [1], seq: [8], repeats: 2, warmup: 0, threads: 1}
eval: {threads: 1}
keepModels: true
`,
  );
});
afterAll(() => {
  if (lockEnv === undefined) delete process.env[TIMING_LOCK_ENV];
  else process.env[TIMING_LOCK_ENV] = lockEnv;
  t?.cleanup();
});

function stored(store: string): StoredPoint[] {
  const s = SweepStore.open(store, { readonly: true });
  try {
    return s.finished();
  } finally {
    s.close();
  }
}

/** Rewrites the stored result of the point `label` as timed while another benchmark held the timing lock. */
function markStoredContended(store: string, label: string): void {
  const db = new Database(store);
  try {
    const row = db.prepare('SELECT r.key, r.result FROM results r JOIN points p ON p.key = r.key WHERE p.label = ?').get(label) as {
      key: string;
      result: string;
    };
    const result = JSON.parse(row.result);
    result.bench.timing = { exclusive: false, waitedSeconds: 600, heldBy: 4242, reason: 'busy' };
    db.prepare('UPDATE results SET result = ? WHERE key = ?').run(JSON.stringify(result), row.key);
  } finally {
    db.close();
  }
}

const exclusive = (store: string, label: string) => stored(store).find((p) => p.label === label)!.result.bench.timing?.exclusive;

describe('contended points', () => {
  it('are kept and counted by default, recomputed and replaced with rerunContended', async () => {
    const store = join(t.root, 'contended.sqlite');
    const first = await runSweep({ file, store });
    expect(first).toMatchObject({ ran: 2, failed: [], contended: { kept: [], recomputed: [], again: [], first: [] } });
    expect(exclusive(store, 'ffn')).toBe(true);
    markStoredContended(store, 'ffn');
    const before = stored(store).find((p) => p.label === 'ffn')!;
    expect(toMarkdown(loadReport({ store }))).toContain('rerun their sweep with nothing else running: compress sweep FILE --jobs 1 --rerun-contended.');

    const kept = await runSweep({ file, store });
    expect(kept).toMatchObject({ total: 2, alreadyDone: 2, ran: 0, failed: [] });
    expect(kept.contended.kept.map((p) => p.label)).toEqual(['ffn']);
    expect(contendedLine(kept.contended)).toBe(
      '1 point timed contended (the machine was shared while benchmarking, † in the report) and kept, not recomputed: tiny-sst2 · ffn; rerun with --jobs 1 --rerun-contended, nothing else running, to time it alone',
    );
    // a queued sweep's line (--queue refuses --rerun-contended): a local run of the sweep times them again
    expect(contendedLine(kept.contended, true)).toBe(
      '1 point timed contended (the machine was shared while benchmarking, † in the report) and kept, not recomputed: tiny-sst2 · ffn; rerun as a local sweep (without --queue) with --jobs 1 --rerun-contended, nothing else running, to time it alone',
    );
    expect(stored(store).find((p) => p.label === 'ffn')).toEqual(before);

    const logs: string[] = [];
    const rerun = await runSweep({ file, store, rerunContended: true, onEvent: (e) => e.type === 'log' && logs.push(e.line) });
    expect(rerun).toMatchObject({ total: 2, alreadyDone: 1, ran: 1, failed: [] });
    expect(rerun.contended.recomputed.map((p) => p.label)).toEqual(['ffn']);
    expect(rerun.contended.again).toEqual([]);
    expect(contendedLine(rerun.contended)).toBe('1 point timed contended, recomputed: tiny-sst2 · ffn');
    // the kept model was not compressed again: the recompute evaluated and benchmarked it
    expect(logs.filter((l) => l.startsWith('reusing the output of stage'))).toHaveLength(1);
    const after = stored(store);
    expect(after).toHaveLength(2);
    const ffn = after.find((p) => p.label === 'ffn')!;
    expect(ffn.key).toBe(before.key);
    expect(ffn.result.bench.timing?.exclusive).toBe(true);
    expect(ffn.finishedAt > before.finishedAt).toBe(true);
    expect(toMarkdown(loadReport({ store }))).not.toContain('†');

    await expect(runSweep({ file, store, rerunContended: true, jobs: 2 })).rejects.toThrow(RERUN_CONTENDED_JOBS);
    const again = await runSweep({ file, store, rerunContended: true });
    expect(again).toMatchObject({ alreadyDone: 2, ran: 0, contended: { kept: [], recomputed: [], again: [], first: [] } });
    expect(contendedLine(again.contended)).toBeUndefined();
  });

  it('counts a point whose recompute failed as kept, with its stored result', async () => {
    // GLUE data the evaluation cannot read: the dev file of the sweep's own copy of the folder is broken once the
    // plan has hashed it (point keys hold that hash: a file broken before the plan would make other points)
    const glueDir = join(t.root, 'breaking-glue');
    cpSync(join(t.root, 'glue'), glueDir, { recursive: true });
    const store = join(t.root, 'failing.sqlite');
    await runSweep({ file, store, glueDir });
    markStoredContended(store, 'ffn');
    const before = stored(store).find((p) => p.label === 'ffn')!;
    const breakDev = (e: SweepEvent) => {
      if (e.type === 'plan') writeFileSync(splitFile(getTask('SST-2'), 'dev', glueDir).file, 'not\ta\tglue\tfile\n');
    };
    const rerun = await runSweep({ file, store, glueDir, rerunContended: true, onEvent: breakDev });
    expect(rerun).toMatchObject({ total: 2, alreadyDone: 1, ran: 0, contended: { recomputed: [], again: [] } });
    expect(rerun.failed.map((f) => f.point.label)).toEqual(['ffn']);
    expect(rerun.contended.kept.map((p) => p.label)).toEqual(['ffn']);
    expect(contendedLine(rerun.contended)).toBe(
      '1 point timed contended (the machine was shared while benchmarking, † in the report) and kept, not recomputed: tiny-sst2 · ffn; rerun with --jobs 1 --rerun-contended, nothing else running, to time it alone',
    );
    expect(stored(store).find((p) => p.label === 'ffn')).toEqual(before);
    // recomputed and timed contended again: their lines of this run (pointLine) mark them † as the report does; kept
    // ones are stored, with no line of this run, so † in the report only
    expect(contendedLine({ kept: [], recomputed: rerun.contended.kept, again: rerun.contended.kept, first: [] })).toBe(
      '1 point timed contended, recomputed: tiny-sst2 · ffn; 1 of them timed contended again (other work ran on this machine meanwhile; † above and in the report): tiny-sst2 · ffn; rerun with --jobs 1 --rerun-contended, nothing else running',
    );
    // with another recomputed: both said
    expect(contendedLine({ ...rerun.contended, recomputed: rerun.contended.kept })).toMatch(
      /^1 point timed contended, recomputed: tiny-sst2 · ffn; 1 point timed contended \(.*\) and kept, not recomputed: tiny-sst2 · ffn; rerun with --jobs 1 --rerun-contended, nothing else running, to time it alone$/,
    );
  });

  it('a recompute that fails or is stopped leaves the point done with its stored result; one recomputed meanwhile is done', async () => {
    const store = join(t.root, 'claims.sqlite');
    await runSweep({ file, store });
    markStoredContended(store, 'ffn');
    const plan = await planAgainstStore({ file, store, rerunContended: true });
    const point = plan.points.find((p) => p.label === 'ffn')!;
    const base = plan.points.find((p) => p.label === 'baseline')!;
    expect([...plan.contended.keys()]).toEqual([point.key]);
    expect(plan.previous.has(point.key)).toBe(false);
    const s = plan.store;
    try {
      const old = s.finished().find((p) => p.key === point.key)!;
      expect(s.claim(point)).toBe('done');
      expect(s.claim(base, { recompute: true })).toBe('done'); // timed alone: nothing to recompute
      expect(s.claim(point, { recompute: true })).toBe('claimed');
      expect(s.finished().find((p) => p.key === point.key)).toEqual(old); // still stored (and reported) meanwhile
      s.fail(point.key, 'boom');
      expect(s.failures()).toEqual([]);
      expect(s.finishedPlans().has(point.key)).toBe(true);
      expect(s.claim(point)).toBe('done');

      expect(s.claim(point, { recompute: true })).toBe('claimed');
      expect(s.release(point.key)).toBe(true); // stopped (Ctrl-C)
      expect(s.claim(point)).toBe('done');

      // a result not recomputed does not replace the stored one; a recomputed one does, once
      const fresh = { ...old.result, latencyMs: 1234, bench: { ...old.result.bench, timing: { exclusive: true, waitedSeconds: 0 } } };
      s.finish(point, fresh);
      expect(s.finished().find((p) => p.key === point.key)!.result).toEqual(old.result);
      expect(s.claim(point, { recompute: true })).toBe('claimed');
      s.finish(point, fresh, { recompute: true });
      expect(s.finished().find((p) => p.key === point.key)!.result).toEqual(fresh);
      expect(s.claim(point, { recompute: true })).toBe('done'); // recomputed meanwhile (by another sweep)
      s.finish(point, { ...fresh, latencyMs: 1 }, { recompute: true });
      expect(s.finished().find((p) => p.key === point.key)!.result.latencyMs).toBe(1234);
    } finally {
      s.close();
    }
  });
});

describe('compress sweep', () => {
  it('says how many contended points it kept, refuses --rerun-contended with --queue or --jobs N in one line, and counts those it times again', async () => {
    const store = join(t.root, 'cli.sqlite');
    expect((await runMain(['sweep', file, '--store', store])).code).toBe(0);
    markStoredContended(store, 'ffn');
    const kept = await runMain(['sweep', file, '--store', store]);
    expect(kept.code).toBe(0);
    expect(kept.stdout).toContain('2 points: 2 already in the store, 0 run now, 0 failed');
    expect(kept.stderr).toContain('1 point timed contended (the machine was shared while benchmarking, † in the report) and kept, not recomputed');
    const queued = await runMain(['sweep', file, '--store', store, '--queue', 'redis://127.0.0.1:1', '--rerun-contended']);
    expect(queued.code).not.toBe(0);
    expect(queued.stderr.trim().split('\n')).toEqual([
      'compress: --rerun-contended: not available with --queue yet; time contended points again with a local sweep (--jobs 1)',
    ]);
    const jobs = await runMain(['sweep', file, '--store', store, '--jobs', '2', '--rerun-contended']);
    expect(jobs.code).not.toBe(0);
    expect(jobs.stderr.trim().split('\n')).toEqual([`compress: ${RERUN_CONTENDED_JOBS}`]);
    expect(stored(store).find((p) => p.label === 'ffn')!.result.bench.timing?.exclusive).toBe(false); // untouched
    const rerun = await runMain(['sweep', file, '--store', store, '--rerun-contended']);
    expect(rerun.code).toBe(0);
    // the contended point is in the store (and reported) until timed again: counted so at the start and the end
    expect(rerun.stderr).toContain('1 already in the store, 1 more stored timed contended, to time again');
    expect(rerun.stdout).toContain('2 points: 1 already in the store, 1 run now (1 of them stored timed contended, timed again), 0 failed');
  });

  it('closes a first run whose points were timed contended with the line saying to time them again alone', async () => {
    const store = join(t.root, 'first-contended.sqlite');
    // a timing lock that cannot be created (a name longer than the file system takes): every benchmark times without
    // it, contended (a lock in no folder is refused before the sweep runs)
    process.env[TIMING_LOCK_ENV] = join(t.root, 'x'.repeat(300));
    try {
      const first = await runMain(['sweep', file, '--store', store]);
      expect(first.code).toBe(0);
      expect(first.stdout).toContain('2 points: 0 already in the store, 2 run now, 0 failed');
      expect(first.stderr).toMatch(/tiny-sst2 · ffn: .*×[\d.]+†/); // its line marks it
      expect(first.stderr).toContain(
        '2 points run now timed contended (the machine was shared while benchmarking; † above and in the report): tiny-sst2 · baseline, tiny-sst2 · ffn; rerun with --jobs 1 --rerun-contended, nothing else running, to time them alone',
      );
    } finally {
      process.env[TIMING_LOCK_ENV] = join(t.root, 'timing.lock');
    }
    expect(stored(store).map((p) => exclusive(store, p.label))).toEqual([false, false]);
  });

  it("names the sweep in the closing report hint when the store holds another sweep's points", async () => {
    const store = join(t.root, 'two sweeps.sqlite');
    const one = await runMain(['sweep', file, '--store', store]);
    expect(one.code).toBe(0);
    expect(one.stdout).toContain(`(next: compress report '${store}')\n`);
    const other = join(t.root, 'other.yaml');
    writeFileSync(
      other,
      `name: my sweep
glueDir: glue
models: [{path: models/tiny-stsb, tasks: [STS-B]}]
calibration: false
pipelines: [baseline]
bench: {batch: [1], seq: [8], repeats: 2, warmup: 0, threads: 1}
eval: {threads: 1}
`,
    );
    const two = await runMain(['sweep', other, '--store', store]);
    expect(two.code).toBe(0);
    expect(two.stdout).toContain(`(next: compress report '${store}' --sweep 'my sweep')\n`);
    expect(reportCommand('runs/a.sqlite', { sweep: 'contended', sweeps: ['contended', 'my sweep'] })).toBe('compress report runs/a.sqlite --sweep contended');
    expect(reportCommand('runs/a.sqlite', { sweep: 'contended', sweeps: ['contended'] })).toBe('compress report runs/a.sqlite');
  });
});
