/**
 * A sweep point's benchmark stopped (Ctrl-C, SIGTERM): waiting for the machine-wide timing lock another benchmark
 * holds, the point says so once and stops at once; timing a huge bench.repeats, it stops between runs and releases
 * the lock. Either way the point is interrupted, not recorded, and the stop line says what stops (no training
 * checkpoint where none trains). It used to wait up to 10 minutes in silence, and to time on holding the lock.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { timingLockWaitLine } from '../../src/bench/index.ts';
import { stoppingLine } from '../../src/cli/commands/sweep.ts';
import { planSweep } from '../../src/sweep/plan.ts';
import { PointInterrupted, runPoint } from '../../src/sweep/point.ts';
import { runSweep } from '../../src/sweep/run.ts';
import { parseSweep } from '../../src/sweep/spec.ts';
import { writeTinySweep, type TinySweep } from './tiny-sweep.ts';

const CLI = resolve('bin/compress.mjs');
let t: TinySweep;
beforeAll(() => {
  t = writeTinySweep({ rows: 8 });
});
const dirs: string[] = [];
/** Processes these tests started: killed at the end, should one outlive its test. */
const children: ChildProcess[] = [];
afterAll(() => {
  t?.cleanup();
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const lockFile = () => {
  dirs.push(mkdtempSync(join(tmpdir(), 'point-stop-')));
  return join(dirs.at(-1)!, 'timing.lock');
};

/** A process that stays alive until killed, and its pid. */
function liveProcess() {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120000)'], { stdio: 'ignore' });
  return { pid: child.pid!, kill: () => child.kill('SIGKILL') };
}

async function until(test: () => boolean, ms = 90_000): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

function collect(child: ChildProcess): { stderr: () => string; done: Promise<number | null> } {
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  return { stderr: () => stderr, done: new Promise((res) => child.on('close', (code) => res(code))) };
}

/** A sweep file of one baseline point benchmarked `repeats` times. */
function oneBaseline(name: string, repeats: number): string {
  const file = join(t.root, `${name}.yaml`);
  writeFileSync(
    file,
    `name: ${name}
glueDir: glue
models:
  - {path: models/tiny-sst2, tasks: [SST-2]}
calibration: false
pipelines: [baseline]
bench: {batch: [1], seq: [8], repeats: ${repeats}, warmup: 0, threads: 1}
eval: {threads: 1}
`,
  );
  return file;
}

function results(store: string): number {
  const db = new Database(store, { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM results').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('stopping a sweep point in its benchmark', () => {
  it('the first signal says what stops, by the running points stages', () => {
    expect(stoppingLine(['bench'], 'SIGTERM')).toBe('stopping the running points (a benchmark at once); SIGTERM again to quit at once');
    expect(stoppingLine(['train', 'eval'], 'Ctrl-C')).toBe(
      'stopping the running points (a training step after its step, writing a checkpoint; an evaluation between two batches); Ctrl-C again to quit at once',
    );
    expect(stoppingLine([], 'Ctrl-C')).toBe('stopping; Ctrl-C again to quit at once');
  });

  it('runPoint: waiting for the timing lock is logged once and stopped by the signal, as an interrupted point', async () => {
    const lock = lockFile();
    const holder = liveProcess();
    const before = process.env.BERT_COMPRESS_TIMING_LOCK;
    process.env.BERT_COMPRESS_TIMING_LOCK = lock;
    try {
      writeFileSync(lock, `${holder.pid}\n`);
      const [point] = await planSweep(
        parseSweep(
          {
            models: [{ path: 'models/tiny-sst2', tasks: ['SST-2'] }],
            pipelines: ['baseline'],
            bench: { batch: [1], seq: [8], repeats: 1, warmup: 0, threads: 1 },
            calibration: false,
          },
          t.sweepFile,
          'wait.yaml',
        ),
        {
          glueDir: t.glueDir,
          workDir: join(t.root, 'work-wait'),
        },
      );
      const controller = new AbortController();
      const lines: string[] = [];
      const running = runPoint(point!, {
        threads: 1,
        signal: controller.signal,
        log: (line) => {
          lines.push(line);
          if (line.startsWith('waiting for the timing lock')) controller.abort();
        },
      });
      await expect(running).rejects.toThrow(PointInterrupted);
      await expect(running).rejects.toThrow('stopped while waiting for the timing lock');
      expect(lines).toEqual([timingLockWaitLine(holder.pid)]);
      expect(readFileSync(lock, 'utf8')).toBe(`${holder.pid}\n`);
    } finally {
      if (before === undefined) delete process.env.BERT_COMPRESS_TIMING_LOCK;
      else process.env.BERT_COMPRESS_TIMING_LOCK = before;
      holder.kill();
    }
  });

  it.each([1, 2])(
    'compress sweep --jobs %i: SIGTERM while the point waits for the timing lock stops it at once, unrecorded, with no checkpoint line',
    async (jobs) => {
      const lock = lockFile();
      const store = join(t.root, `wait-${jobs}.sqlite`);
      const holder = liveProcess();
      try {
        writeFileSync(lock, `${holder.pid}\n`);
        const child = spawn(process.execPath, [CLI, 'sweep', oneBaseline('wait', 2), '--store', store, '--jobs', String(jobs)], {
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { ...process.env, BERT_COMPRESS_TIMING_LOCK: lock },
        });
        const r = collect(child);
        await until(() => r.stderr().includes('waiting for the timing lock'));
        child.kill('SIGTERM');
        expect(await r.done).toBe(143);
        expect(r.stderr()).toContain(`tiny-sst2 · baseline: ${timingLockWaitLine(holder.pid)}\n`);
        expect(r.stderr()).toContain('stopping the running points (a benchmark at once); SIGTERM again to quit at once\n');
        expect(r.stderr()).not.toContain('checkpoint');
        expect(r.stderr()).toMatch(
          /compress: interrupted after 0 points run now; the points finished are kept in .*wait-\d\.sqlite: rerun the same command to run the rest\n$/,
        );
        expect(results(store)).toBe(0);
        expect(readFileSync(lock, 'utf8')).toBe(`${holder.pid}\n`);
      } finally {
        holder.kill();
      }
    },
  );

  it('a stop during the evaluation ends it between two batches: the point is interrupted, unrecorded, and the rerun runs it', async () => {
    const store = join(t.root, 'eval-stop.sqlite');
    const file = oneBaseline('eval-stop', 1);
    const controller = new AbortController();
    const lines: string[] = [];
    const stages: Array<string | null> = [];
    const summary = await runSweep({
      file,
      store,
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'log') lines.push(e.line);
        if (e.type !== 'stage') return;
        stages.push(e.stage);
        if (e.stage === 'eval') controller.abort();
      },
    });
    expect([summary.ran, summary.failed.length, summary.interrupted]).toEqual([0, 0, true]);
    expect(lines).toEqual(['tiny-sst2 · baseline: stopped during its evaluation']);
    expect(stages).toEqual(['eval']);
    expect(results(store)).toBe(0);
    const again = await runSweep({ file, store });
    expect([again.alreadyDone, again.ran, again.failed.length]).toEqual([0, 1, 0]);
    expect(results(store)).toBe(1);
  });

  it('a stop between two points leaves the rest unrun and the sweep interrupted (not a finished sweep)', async () => {
    const store = join(t.root, 'between.sqlite');
    const controller = new AbortController();
    const summary = await runSweep({
      file: t.sweepFile,
      store,
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'finished') controller.abort();
      },
    });
    expect([summary.ran, summary.failed.length, summary.interrupted]).toEqual([1, 0, true]);
    expect(results(store)).toBe(1);
  });

  it('compress sweep: SIGTERM during a huge bench.repeats stops between runs and releases the timing lock', async () => {
    const lock = lockFile();
    const store = join(t.root, 'long.sqlite');
    const child = spawn(process.execPath, [CLI, 'sweep', oneBaseline('long', 100_000_000), '--store', store], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, BERT_COMPRESS_TIMING_LOCK: lock },
    });
    const r = collect(child);
    await until(() => existsSync(lock));
    child.kill('SIGTERM');
    expect(await r.done).toBe(143);
    expect(existsSync(lock)).toBe(false);
    expect(results(store)).toBe(0);
  });
});
