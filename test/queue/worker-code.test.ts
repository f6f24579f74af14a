/**
 * A queue worker's copy of the code may change under it (a `git pull`) while it runs: the pool forks its worker
 * processes as points need them, and one forked since runs the newer code. Each says the code it started with, which
 * a point's failure carries and the worker compares with the coordinator's, where the worker compared its own as it
 * started. (The first test takes some seconds: the copy's code is compiled anew in its worker processes, which is
 * the only way to run code that changed between two forks without editing this checkout.)
 */
import { appendFileSync, cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { otherCopyNote } from '../../src/queue/worker.ts';
import { planSweep } from '../../src/sweep/plan.ts';
import type { PointFailure, workerPool as WorkerPool } from '../../src/sweep/pool.ts';
import { parseSweep } from '../../src/sweep/spec.ts';
import { writeTinySweep, type TinySweep } from '../sweep/tiny-sweep.ts';

let t: TinySweep;
let copy: string;
beforeAll(() => {
  t = writeTinySweep({ rows: 8 });
  // a copy of the code, which the test edits as a `git pull` would
  copy = mkdtempSync(join(tmpdir(), 'worker-code-'));
  cpSync(resolve('src'), join(copy, 'src'), { recursive: true });
  cpSync(resolve('package.json'), join(copy, 'package.json'));
  symlinkSync(resolve('node_modules'), join(copy, 'node_modules'));
});
afterAll(() => {
  t?.cleanup();
  if (copy) rmSync(copy, { recursive: true, force: true });
});

describe("a queue worker's code", () => {
  it('is, for a failure in a worker process, the code that process started with, where the copy changed between two forks', async () => {
    const { workerPool } = (await import(join(copy, 'src', 'sweep', 'pool.ts'))) as { workerPool: typeof WorkerPool };
    const { codeFingerprint } = (await import(join(copy, 'src', 'version.ts'))) as { codeFingerprint: () => string | undefined };
    const doc = {
      models: [{ path: 'models/tiny-sst2', tasks: ['SST-2'] }],
      pipelines: [{ name: 'ffn', steps: [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }] }],
      bench: { batch: [1], seq: [8], repeats: 1, warmup: 0, threads: 1 },
      eval: { threads: 1 },
    };
    const points = await planSweep(parseSweep(doc, t.sweepFile, 'code.yaml'), { glueDir: t.glueDir, workDir: join(t.root, 'work') });
    const point = points.find((p) => p.label === 'ffn')!;
    rmSync(join(t.root, 'models', 'tiny-sst2'), { recursive: true }); // (its runs fail, in the worker process)
    /** The code a fresh pool's worker process reports with the point's failure. */
    const runCode = async (): Promise<string | undefined> => {
      const pool = workerPool(1, 1, undefined, undefined, { reportCode: true });
      try {
        const e = (await pool.run(point).then(
          () => undefined,
          (e: unknown) => e,
        )) as PointFailure;
        expect(e?.name).toBe('PointFailure');
        return e.runCode;
      } finally {
        await pool.close();
      }
    };
    const before = codeFingerprint(); // (the copy as this process loaded it)
    expect(await runCode()).toBe(before);
    appendFileSync(join(copy, 'src', 'errors.ts'), '\n// pulled\n');
    const after = await runCode();
    expect([after === before, after?.length]).toEqual([false, 64]);
  }, 60_000);

  it("notes a failure of code other than the coordinator's, and where it is not the worker's as it started, that the copy changed", () => {
    const [a, b] = ['a'.repeat(64), 'b'.repeat(64)];
    expect(otherCopyNote(a, a, a)).toBe('');
    expect(otherCopyNote(a, b, a)).toBe(''); // (a worker started on another copy, updated to the coordinator's since)
    expect(otherCopyNote(a, b, b)).toBe(
      " (this worker's copy of bert-compress differs from the coordinator's, though their versions are the same: give this machine the coordinator's copy and start the worker again)",
    );
    expect(otherCopyNote(a, a, b)).toBe(
      " (this worker's copy of bert-compress differs from the coordinator's, changed since the worker started (its worker process started after), though their versions are the same: give this machine the coordinator's copy and start the worker again)",
    );
    expect(otherCopyNote(undefined, a, b)).toBe('');
  });
});
