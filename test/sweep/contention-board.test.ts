/**
 * The machine's stage board is a best effort: a file on it that cannot be removed (a dead runner's, left by another
 * user in a shared temporary folder, or in a read-only folder) never fails a point, and is not taken for a runner
 * that still runs. (Tests may run as root, where a read-only folder does not stop removal: removal is made to fail.)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TIMING_LOCK_ENV } from '../../src/bench/timing-lock.ts';
import { StageTracker } from '../../src/sweep/contention.ts';
import { processStartTime } from '../../src/processes.ts';
import { runSweep } from '../../src/sweep/run.ts';
import { SweepStore } from '../../src/sweep/store.ts';
import { writeTinySweep, type TinySweep } from './tiny-sweep.ts';

/** Removing a file under `under` fails with EACCES. */
const denied = vi.hoisted(() => ({ under: undefined as string | undefined }));
vi.mock('node:fs', async (original) => {
  const fs = await original<typeof import('node:fs')>();
  const rmSync = ((path: Parameters<typeof fs.rmSync>[0], options?: Parameters<typeof fs.rmSync>[1]) => {
    if (denied.under !== undefined && String(path).startsWith(denied.under))
      throw Object.assign(new Error(`EACCES: permission denied, rm '${path}'`), { code: 'EACCES', errno: -13, syscall: 'rm', path: String(path) });
    return fs.rmSync(path, options);
  }) as typeof fs.rmSync;
  return { ...fs, default: { ...fs, rmSync }, rmSync };
});

let t: TinySweep;
const lockEnv = process.env[TIMING_LOCK_ENV];
let board: string;
beforeAll(() => {
  t = writeTinySweep({ rows: 4 });
  process.env[TIMING_LOCK_ENV] = join(t.root, 'timing.lock'); // this test's own lock and board
  board = `${process.env[TIMING_LOCK_ENV]}.stages`;
  mkdirSync(board);
});
afterAll(() => {
  denied.under = undefined;
  if (lockEnv === undefined) delete process.env[TIMING_LOCK_ENV];
  else process.env[TIMING_LOCK_ENV] = lockEnv;
  t?.cleanup();
});

describe('a stage board whose files cannot be removed', () => {
  it("ignores a gone runner's files it cannot remove, and keeps what other runners appended to its benchmark's", () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    const leftover = [`${dead}-0-0.stage`, `${dead}-0-1.bench`, `${dead}-0-2.stage.k3x9.tmp`];
    writeFileSync(join(board, leftover[0]!), JSON.stringify({ stage: 'train', point: 'x · kd' }));
    for (const name of leftover.slice(1)) writeFileSync(join(board, name), '');
    denied.under = board;
    try {
      const a = new StageTracker({ board });
      const b = new StageTracker({ board });
      a.set(0, 'bench', 'a · ffn');
      b.set(0, 'compress', 'b · heads');
      a.set(0, null, 'a · ffn'); // its benchmark's file, taken, cannot be removed either
      b.set(0, null, 'b · heads');
      expect(a.takeCompany(0)).toEqual([`b · heads (compress, pid ${process.pid})`]);
      for (const name of leftover) expect(existsSync(join(board, name))).toBe(true);
    } finally {
      denied.under = undefined;
    }
    for (const name of readdirSync(board)) rmSync(join(board, name));
  });

  it("takes a file named by a live pid with another start time (the pid reused) for a gone runner's, as a lock would", () => {
    const start = processStartTime(process.pid);
    if (start === undefined) return; // (no start times on this system: the pid alone decides)
    const reused = join(board, `${process.pid}@${Number(start) + 1}-0-0.stage`);
    writeFileSync(reused, JSON.stringify({ stage: 'train', point: 'x · kd' }));
    const a = new StageTracker({ board });
    a.set(0, 'bench', 'a · ffn');
    a.set(0, null, 'a · ffn');
    expect(a.takeCompany(0)).toEqual([]);
    expect(existsSync(reused)).toBe(false);
    for (const name of readdirSync(board)) rmSync(join(board, name));
  });

  it('runs a sweep point as if the board were empty: its timing is not recorded as contended by a gone runner', async () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    writeFileSync(join(board, `${dead}-0-0.stage`), JSON.stringify({ stage: 'train', point: 'x · kd' }));
    const file = join(t.root, 'one.yaml');
    writeFileSync(
      file,
      `name: one
glueDir: glue
models:
  - {path: models/tiny-sst2, tasks: [SST-2]}
pipelines:
  - baseline
bench: {batch: [1], seq: [8], repeats: 2, warmup: 1, threads: 1}
eval: {threads: 1}
`,
    );
    const store = join(t.root, 'one.sqlite');
    denied.under = board;
    try {
      expect(await runSweep({ file, store, jobs: 1 })).toMatchObject({ ran: 1, failed: [] });
    } finally {
      denied.under = undefined;
    }
    const s = SweepStore.open(store, { readonly: true });
    const [baseline] = s.finished();
    s.close();
    expect(baseline!.result.bench.timing).toMatchObject({ exclusive: true });
    expect(existsSync(join(board, `${dead}-0-0.stage`))).toBe(true);
  });
});
