/**
 * A queue worker's copy of the code may change under it (a `git pull`) while it runs: the pool forks its worker
 * processes as points need them, and one forked since runs the newer code. Each says the code it started with, which
 * a point's failure carries and the worker compares with the coordinator's, where the worker compared its own as it
 * started. (The first test forks one worker process from a changed copy of the code, the only way to run code that
 * changed without editing this checkout: it compiles that copy's worker anew, which takes a second or two.)
 */
import { fork } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEntry } from '../../src/processes.ts';
import { otherCopyNote } from '../../src/queue/worker.ts';
import { planSweep } from '../../src/sweep/plan.ts';
import { PointFailure, REPORT_CODE, type WorkerReply, workerPool } from '../../src/sweep/pool.ts';
import { parseSweep } from '../../src/sweep/spec.ts';
import { codeFingerprint } from '../../src/version.ts';
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

/** The code a worker process started from `entry` (as the pool starts one, asked to report it) says first. */
function startedCode(entry: string): Promise<string | undefined> {
  const child = fork(entry, [REPORT_CODE], { execArgv: childEntry(import.meta.url, 'worker-main').execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise<string | undefined>((done, fail) => {
    child.once('message', (reply: WorkerReply) => (reply.type === 'code' ? done(reply.code) : fail(new Error(`first reply: ${reply.type}`))));
    child.once('exit', (code) => fail(new Error(`worker process exited (code ${code}) before saying its code`)));
    child.once('error', fail);
  }).finally(() => child.kill());
}

describe("a queue worker's code", () => {
  it('is, for a failure in a worker process, the code that process started with, and a copy changed since gives another', async () => {
    const doc = {
      models: [{ path: 'models/tiny-sst2', tasks: ['SST-2'] }],
      pipelines: [{ name: 'ffn', steps: [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }] }],
      bench: { batch: [1], seq: [8], repeats: 1, warmup: 0, threads: 1 },
      eval: { threads: 1 },
    };
    const points = await planSweep(parseSweep(doc, t.sweepFile, 'code.yaml'), { glueDir: t.glueDir, workDir: join(t.root, 'work') });
    const point = points.find((p) => p.label === 'ffn')!;
    rmSync(join(t.root, 'models', 'tiny-sst2'), { recursive: true }); // (its runs fail, in the worker process)
    const pool = workerPool(1, 1, undefined, undefined, { onCode: () => {} });
    try {
      const e = await pool.run(point).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(e).toBeInstanceOf(PointFailure);
      expect((e as PointFailure).runCode).toBe(codeFingerprint()); // (this checkout, as the worker process loaded it)
    } finally {
      await pool.close();
    }
    appendFileSync(join(copy, 'src', 'errors.ts'), '\n// pulled\n');
    const pulled = await startedCode(join(copy, 'src', 'sweep', 'worker-main.ts'));
    expect([pulled === codeFingerprint(), pulled?.length]).toEqual([false, 64]);
    // (vitest's limit, 120 s: two worker processes start here, each compiling its sources through tsx, the copy's
    // anew; the test ran 27 s of the 30 s it was given at load 17 on 2 cores)
  });

  it('is that of every module of ours a worker process runs: it imports none lazily, after it said its code', () => {
    const seen = new Set<string>();
    const lazy: string[] = [];
    const visit = (file: string) => {
      if (seen.has(file) || !existsSync(file)) return;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      if (/\bimport\(\s*['"]\./.test(text)) lazy.push(file);
      for (const m of text.matchAll(/^\s*(?:import|export)\b[^;]*?(?:from|import)\s*['"](\.\.?\/[^'"]+)['"]/gm)) visit(resolve(dirname(file), m[1]!));
    };
    visit(resolve('src', 'sweep', 'worker-main.ts'));
    expect(seen.size).toBeGreaterThan(100);
    expect(lazy).toEqual([]);
  });

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
