/**
 * A point's own log lines reach the runner's log with the point they are of, in this process (`--jobs 1`) and from
 * a pool's worker processes (`--jobs N`, `compress worker`), where several points run at once. The workers of
 * `compress worker` run out of the terminal's reach (its Ctrl-C lets their running points finish).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TIMING_LOCK_ENV } from '../../src/bench/timing-lock.ts';
import { planSweep } from '../../src/sweep/plan.ts';
import { PointFailure, WorkerNotStarted, inProcessRunner, workerPool, type PointRunner } from '../../src/sweep/pool.ts';
import { parseSweep } from '../../src/sweep/spec.ts';
import { writeTinySweep, type TinySweep } from './tiny-sweep.ts';

/** While set, a forked process cannot be started (as with EAGAIN: here ENOENT, from a node binary that is not there). */
const unstartable = vi.hoisted(() => ({ on: false }));
vi.mock('node:child_process', async (original) => {
  const cp = await original<typeof import('node:child_process')>();
  const fork = ((path: string, args: readonly string[], options: import('node:child_process').ForkOptions) =>
    cp.fork(path, args, unstartable.on ? { ...options, execPath: '/nonexistent/node' } : options)) as typeof cp.fork;
  return { ...cp, default: { ...cp, fork }, fork };
});

let t: TinySweep;
const lockEnv = process.env[TIMING_LOCK_ENV];
beforeAll(() => {
  t = writeTinySweep({ rows: 8 });
  process.env[TIMING_LOCK_ENV] = join(t.root, 'timing.lock');
});
afterAll(() => {
  if (lockEnv === undefined) delete process.env[TIMING_LOCK_ENV];
  else process.env[TIMING_LOCK_ENV] = lockEnv;
  t?.cleanup();
});

describe('a runner of points', () => {
  it('gives each log line of a point with the point, in this process and from a worker process', async () => {
    // (a point whose only stage an earlier run finished says it reuses it)
    const doc = {
      models: [{ path: 'models/tiny-sst2', tasks: ['SST-2'] }],
      pipelines: [{ name: 'ffn', steps: [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }] }],
      bench: { batch: [1], seq: [8], repeats: 1, warmup: 0, threads: 1 },
      eval: { threads: 1 },
      keepModels: true,
    };
    for (const [name, make] of [
      ['in this process', (log) => inProcessRunner(1, log)],
      ['in a worker process', (log) => workerPool(1, 1, log)],
    ] as Array<[string, (log: (line: string, point: { key: string }) => void) => PointRunner]>) {
      const points = await planSweep(parseSweep(doc, t.sweepFile, `${name}.yaml`), { glueDir: t.glueDir, workDir: join(t.root, name) });
      const point = points.find((p) => p.label === 'ffn');
      const lines: Array<[string, string | undefined]> = [];
      const runner = make((line, p) => lines.push([line, p?.key]));
      try {
        await runner.run(point!);
        await runner.run(point!); // goes on from the first run's stage, and says so
      } finally {
        await runner.close();
      }
      expect(lines.length, name).toBeGreaterThan(0);
      expect(
        lines.filter(([, key]) => key !== point!.key),
        name,
      ).toEqual([]);
    }
  });
});

/** The process group of each live worker process (worker-main) this process forked. */
function workerGroups(): number[] {
  const children = readdirSync('/proc/self/task').flatMap((tid) =>
    readFileSync(`/proc/self/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number),
  );
  return children
    .filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('worker-main'))
    .map((pid) => {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return Number(
        stat
          .slice(stat.lastIndexOf(')') + 1)
          .trim()
          .split(/\s+/)[2],
      ); // field 5: pgrp
    });
}

/** This process's group. */
function ownGroup(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  return Number(
    stat
      .slice(stat.lastIndexOf(')') + 1)
      .trim()
      .split(/\s+/)[2],
  );
}

describe.runIf(process.platform === 'linux')("a pool's worker processes", () => {
  it("run in this process's group by default (the terminal's Ctrl-C stops their points), in their own with ownProcessGroup", async () => {
    const doc = {
      models: [{ path: 'models/tiny-sst2', tasks: ['SST-2'] }],
      pipelines: ['baseline'],
      bench: { batch: [1], seq: [8], repeats: 1, warmup: 0, threads: 1 },
    };
    const [point] = await planSweep(parseSweep(doc, t.sweepFile, 'groups.yaml'), { glueDir: t.glueDir, workDir: join(t.root, 'groups') });
    for (const ownProcessGroup of [false, true]) {
      const runner = workerPool(1, 1, undefined, undefined, { ownProcessGroup });
      try {
        await runner.run(point!); // (its worker stays for the next point until closed)
        const groups = workerGroups();
        expect(groups).toHaveLength(1);
        if (ownProcessGroup) expect(groups[0]).not.toBe(ownGroup());
        else expect(groups[0]).toBe(ownGroup());
      } finally {
        await runner.close();
      }
    }
    expect(workerGroups()).toEqual([]);
  });
});

describe('the folders a point in a worker process made', () => {
  it("are removed when left empty inside the point's own folder only, not its model's work folder other workers' points share, with --jobs 1 too", async () => {
    // (drop-layers of a layer the 2-layer model lacks, which the plan refuses: given to the point planned for layer 1,
    // it fails once it has made its folder, before writing)
    const doc = {
      models: [{ path: 'models/tiny-sst2', tasks: ['SST-2'] }],
      pipelines: [{ name: 'no-such-layer', steps: [{ pass: 'drop-layers', settings: { layers: '1' } }] }],
      bench: { batch: [1], seq: [8], repeats: 1, warmup: 0, threads: 1 },
    };
    for (const [name, runner] of [
      ['in a worker process', workerPool(1, 1)],
      ['in this process', inProcessRunner(1)],
    ] as Array<[string, PointRunner]>) {
      const workDir = join(t.root, `failed-before-writing ${name}`);
      const planned = (await planSweep(parseSweep(doc, t.sweepFile, 'failing.yaml'), { glueDir: t.glueDir, workDir })).find(
        (p) => p.label === 'no-such-layer',
      )!;
      const point = { ...planned, steps: [{ ...planned.steps[0]!, settings: { layers: [5] } }] };
      try {
        await expect(runner.run(point), name).rejects.toThrow(/layer 5 does not exist/);
      } finally {
        await runner.close();
      }
      expect(existsSync(point.outputDir!), name).toBe(false);
      // (made by this process, empty now, but shared: another worker may be creating its point's folder in it meanwhile)
      expect(readdirSync(dirname(point.outputDir!)), name).toEqual([]);
    }
  });
});

describe('a pool whose worker process cannot be started', () => {
  it('fails the point in one line (no crash, no point waiting forever), and the next point too', { timeout: 30_000 }, async () => {
    const doc = {
      models: [{ path: 'models/tiny-sst2', tasks: ['SST-2'] }],
      pipelines: ['baseline'],
      bench: { batch: [1], seq: [8], repeats: 1, warmup: 0, threads: 1 },
    };
    const [point] = await planSweep(parseSweep(doc, t.sweepFile, 'unstartable.yaml'), { glueDir: t.glueDir, workDir: join(t.root, 'unstartable') });
    unstartable.on = true;
    const runner = workerPool(1, 1);
    try {
      for (let i = 0; i < 2; i++) {
        // (the pool's failure, not the point's: a sweep fails the point, a queue worker gives it back)
        const run = runner.run(point!);
        await expect(run).rejects.toThrow(new WorkerNotStarted('cannot start a worker process: spawn /nonexistent/node ENOENT'));
        await expect(run).rejects.toBeInstanceOf(PointFailure);
      }
    } finally {
      unstartable.on = false;
      await runner.close();
    }
  });
});
