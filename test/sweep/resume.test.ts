/**
 * Crash safety of the sweep store, end to end through the CLI: a sweep killed with SIGKILL in the middle and started
 * again finishes with exactly the rows of an uninterrupted run (none lost, none duplicated, finished points not
 * redone), and two sweeps writing one store at the same time leave it consistent.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processAlive } from '../../src/processes.ts';
import { runSweep } from '../../src/sweep/run.ts';
import { writeTinySweep, type TinySweep } from './tiny-sweep.ts';
import { childPids } from '../helpers/processes.ts';
import { runMain } from '../helpers/cli.ts';

const CLI = resolve('bin/compress.mjs');

function sweepProcess(t: TinySweep, store: string, jobs: number): ChildProcess {
  return spawn(process.execPath, [CLI, 'sweep', t.sweepFile, '--store', store, '--jobs', String(jobs)], { stdio: ['ignore', 'pipe', 'pipe'] });
}

function finished(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise((res) => child.on('close', (code) => res({ code, stdout, stderr })));
}

/** Rows of a store, read without disturbing a writer (WAL readers do not block). */
function readStore(path: string): { results: Array<{ key: string; finished_at: string }>; points: Array<{ key: string; status: string }> } {
  const db = new Database(path, { readonly: true, fileMustExist: true, timeout: 10_000 });
  try {
    return {
      results: db.prepare('SELECT key, finished_at FROM results ORDER BY key').all() as Array<{ key: string; finished_at: string }>,
      points: db.prepare('SELECT key, status FROM points ORDER BY key').all() as Array<{ key: string; status: string }>,
    };
  } finally {
    db.close();
  }
}

function integrity(path: string): string {
  const db = new Database(path, { readonly: true });
  try {
    return db.pragma('integrity_check', { simple: true }) as string;
  } finally {
    db.close();
  }
}

function countResults(path: string): number {
  try {
    return readStore(path).results.length;
  } catch {
    return 0; // not created yet
  }
}

describe('sweep store: kill -9 and resume, concurrent writers', () => {
  let t: TinySweep;
  let reference: string[];

  beforeAll(async () => {
    // Enough rows and bench repeats that a point takes a noticeable moment, so the kill lands mid-sweep; 8 points (3
    // kinds), each test's sweep running them to the end.
    t = writeTinySweep({ rows: 150, pipelines: ['baseline', 'heads', 'drop-1'] });
    const store = join(t.root, 'reference.sqlite');
    const summary = await runSweep({ file: t.sweepFile, store });
    expect(summary.failed).toEqual([]);
    reference = readStore(store).results.map((r) => r.key);
  });
  afterAll(() => t?.cleanup());

  it('an uninterrupted run stores every point once', () => {
    expect(reference).toHaveLength(t.points);
    expect(new Set(reference).size).toBe(t.points);
  });

  it('killed with SIGKILL mid-run and rerun: same rows as an uninterrupted run, finished points kept, none redone', async () => {
    const store = join(t.root, 'killed.sqlite');
    const child = sweepProcess(t, store, 2);
    const exited = finished(child);
    // (a loaded machine takes the spawned sweep a minute or more to its third point: the wait ends at it)
    const deadline = Date.now() + 150_000;
    while (countResults(store) < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const workers = childPids(child.pid!);
    child.kill('SIGKILL');
    const { code } = await exited;
    expect(code).toBeNull(); // killed, not finished
    // Its worker processes notice the parent is gone and exit instead of working on.
    expect(workers.length).toBeGreaterThan(0);
    const gone = Date.now() + 10_000;
    while (workers.some(processAlive) && Date.now() < gone) await new Promise((r) => setTimeout(r, 50));
    expect(workers.filter(processAlive)).toEqual([]);
    const before = readStore(store);
    expect(before.results.length).toBeGreaterThanOrEqual(3);
    expect(before.results.length).toBeLessThan(t.points);
    expect(before.points.some((p) => p.status === 'running')).toBe(true);

    const rerun = await runMain(['sweep', t.sweepFile, '--store', store]);
    expect(rerun.stderr).not.toMatch(/FAILED|internal error/);
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toContain(`${t.points} points: ${before.results.length} already in the store, ${t.points - before.results.length} run now, 0 failed`);

    const after = readStore(store);
    expect(after.results.map((r) => r.key)).toEqual(reference);
    expect(after.points.every((p) => p.status === 'done')).toBe(true);
    // Points finished before the kill were not redone: their rows are untouched.
    for (const r of before.results) expect(after.results.find((a) => a.key === r.key)!.finished_at).toBe(r.finished_at);
    expect(integrity(store)).toBe('ok');
  }, 300_000);

  it.each([1, 2])(
    'Ctrl-C (--jobs %i): the running points stop at their next stage, one line says what is kept and how to go on (exit 130); the rerun finishes',
    async (jobs) => {
      const store = join(t.root, `interrupted-${jobs}.sqlite`);
      const child = sweepProcess(t, store, jobs);
      const exited = new Promise<{ code: number | null; stderr: string }>((res) => {
        let stderr = '';
        child.stderr!.on('data', (d) => (stderr += d));
        child.on('close', (code) => res({ code, stderr }));
      });
      const deadline = Date.now() + 40_000;
      while (countResults(store) < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      child.kill('SIGINT');
      const { code, stderr } = await exited;
      expect(code, stderr).toBe(130);
      expect(stderr).toMatch(
        new RegExp(
          `compress: interrupted after \\d+ points? run now; the points finished are kept in ${store.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: rerun the same command to run the rest`,
        ),
      );
      expect(stderr).not.toMatch(/internal error|FAILED/);
      const stopped = readStore(store);
      expect(stopped.results.length).toBeLessThan(t.points);
      const rerun = await runMain(['sweep', t.sweepFile, '--store', store]);
      expect(rerun.code, rerun.stderr).toBe(0);
      expect(readStore(store).results.map((r) => r.key)).toEqual(reference);
    },
  );

  it('two sweeps writing one store at once: every point stored once, store intact', async () => {
    const store = join(t.root, 'shared.sqlite');
    const [a, b] = await Promise.all([finished(sweepProcess(t, store, 1)), finished(sweepProcess(t, store, 1))]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const rows = readStore(store);
    expect(rows.results.map((r) => r.key)).toEqual(reference);
    expect(rows.points).toHaveLength(t.points);
    expect(rows.points.every((p) => p.status === 'done')).toBe(true);
    expect(integrity(store)).toBe('ok');
  });
});

describe('sweep whose store is removed while it runs', () => {
  it('stops with one line saying so, instead of reporting points stored in a file that is gone', async () => {
    const t = writeTinySweep();
    try {
      const folder = join(t.root, 'runs');
      mkdirSync(folder);
      const store = join(folder, 'gone.sqlite');
      const ran: string[] = [];
      const sweep = runSweep({
        file: t.sweepFile,
        store,
        workDir: join(t.root, 'work'),
        onEvent: (e) => {
          if (e.type !== 'finished') return;
          ran.push(e.point.key);
          if (ran.length === 1) rmSync(folder, { recursive: true, force: true });
        },
      });
      await expect(sweep).rejects.toThrow(
        `${store}: the store was removed while the sweep ran, so no result can be kept in it: run the same command again to run the points it lacks`,
      );
      expect(ran).toHaveLength(1);
    } finally {
      t.cleanup();
    }
  });
});
