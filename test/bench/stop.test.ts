/**
 * Stopping a benchmark (Ctrl-C, SIGTERM): its wait for the machine-wide timing lock says what it waits for and
 * stops at once, and a long timing stops between two timed runs, releasing the lock. It used to wait up to 10
 * minutes in silence, and to time on to the end (holding the lock) after a SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BenchStopped, acquireTimingLock, timingLockWaitLine } from '../../src/bench/index.ts';
// (benchModels of run.ts, as compress bench runs it, its refusals naming the flags; the package's names its options)
import { benchModels } from '../../src/bench/run.ts';
import { timedRounds } from '../../src/bench/run.ts';
import { processAlive } from '../../src/processes.ts';
import { writeTinyBert } from '../helpers/models.ts';
import { childPids } from '../helpers/processes.ts';

const BIN = resolve(__dirname, '../../bin/compress.mjs');
const model = writeTinyBert({ numLayers: 1 }, { seed: 2 });
const dirs: string[] = [];
/** Processes these tests started: killed at the end, should one outlive its test. */
const children: ChildProcess[] = [];
afterAll(() => {
  model.cleanup();
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const lockFile = () => {
  dirs.push(mkdtempSync(join(tmpdir(), 'timing-stop-')));
  return join(dirs.at(-1)!, 'timing.lock');
};
const quick = { batches: [1], seqs: [8], warmup: 0, threads: 1 };

/** A process that stays alive until killed, and its pid. */
function liveProcess() {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120000)'], { stdio: 'ignore' });
  return { pid: child.pid!, kill: () => child.kill('SIGKILL') };
}

/** Resolves once `test()` holds (polled), or rejects after `ms`. */
async function until(test: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

function collect(child: ChildProcess): { stderr: () => string; done: Promise<{ code: number | null; signal: string | null }> } {
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  return { stderr: () => stderr, done: new Promise((res) => child.on('close', (code, signal) => res({ code, signal }))) };
}

describe('the wait for the timing lock', () => {
  it('is worded with the process that holds the lock, and what happens at its end', () => {
    expect(timingLockWaitLine(1234)).toBe(
      'waiting for the timing lock held by process 1234 (another benchmark timing on this machine; after 10 min this one times without it, marked as timed on a shared machine)…',
    );
  });

  it('stops when its signal aborts, holding nothing, and leaves the holder its lock', async () => {
    const file = lockFile();
    const holder = liveProcess();
    try {
      writeFileSync(file, `${holder.pid}\n`);
      const controller = new AbortController();
      const waits: Array<number | undefined> = [];
      const taking = acquireTimingLock({
        file,
        waitSeconds: 600,
        signal: controller.signal,
        onWait: (pid) => {
          waits.push(pid);
          controller.abort();
        },
      });
      await expect(taking).rejects.toThrow(BenchStopped);
      await expect(taking).rejects.toThrow('stopped while waiting for the timing lock');
      expect(waits).toEqual([holder.pid]);
      expect(readFileSync(file, 'utf8')).toBe(`${holder.pid}\n`);
    } finally {
      holder.kill();
    }
  });

  it('of benchModels stops too', async () => {
    const file = lockFile();
    const holder = liveProcess();
    try {
      writeFileSync(file, `${holder.pid}\n`);
      const controller = new AbortController();
      await expect(
        benchModels({
          model: model.path,
          ...quick,
          repeats: 2,
          timingLock: { file, waitSeconds: 600 },
          signal: controller.signal,
          onLockWait: () => controller.abort(),
        }),
      ).rejects.toThrow(/^stopped while waiting for the timing lock$/);
    } finally {
      holder.kill();
    }
  });
});

describe('a long timing', () => {
  it('stops between two timed rounds once its signal aborts', async () => {
    const controller = new AbortController();
    let runs = 0;
    const fake = {
      run: async () => {
        if (++runs === 5) controller.abort();
        return {};
      },
    };
    await expect(timedRounds(fake, {}, fake, {}, 1e9, controller.signal)).rejects.toThrow(/^stopped while timing$/);
    expect(runs).toBeLessThanOrEqual(6);
  });

  it('of benchModels releases the timing lock when stopped (a huge --repeats no longer runs on holding it)', async () => {
    const file = lockFile();
    const controller = new AbortController();
    const timing = benchModels({
      model: model.path,
      ...quick,
      repeats: 1e8,
      timingLock: { file, waitSeconds: 600 },
      signal: controller.signal,
    });
    await until(() => existsSync(file));
    controller.abort();
    await expect(timing).rejects.toThrow(BenchStopped);
    expect(existsSync(file)).toBe(false);
  });
});

describe('compress bench stopped', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('by %s while waiting for the timing lock: says what it waited for, then stops in one line', async (signal) => {
    const file = lockFile();
    const holder = liveProcess();
    try {
      writeFileSync(file, `${holder.pid}\n`);
      const child = spawn(process.execPath, [BIN, 'bench', model.path, '--batch', '1', '--seq', '8', '--threads', '1'], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, BERT_COMPRESS_TIMING_LOCK: file },
      });
      const r = collect(child);
      await until(() => r.stderr().includes('waiting for the timing lock'));
      child.kill(signal);
      const { code } = await r.done;
      expect(code).toBe(signal === 'SIGTERM' ? 143 : 130);
      expect(r.stderr()).toBe(`${timingLockWaitLine(holder.pid)}\ncompress: stopped while waiting for the timing lock; nothing was measured to the end\n`);
      expect(readFileSync(file, 'utf8')).toBe(`${holder.pid}\n`);
    } finally {
      holder.kill();
    }
  });

  it('by SIGTERM during a long timing: stops between runs, releases the lock, one line', async () => {
    const file = lockFile();
    const child = spawn(process.execPath, [BIN, 'bench', model.path, '--batch', '1', '--seq', '8', '--threads', '1', '--repeats', '100000000'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, BERT_COMPRESS_TIMING_LOCK: file },
    });
    const r = collect(child);
    // the timing starts once the session memory is measured (in a process of its own, under the lock)
    let measured = false;
    await until(() => existsSync(file) && (measured ||= measuringChildren(child.pid!).length > 0) && measuringChildren(child.pid!).length === 0);
    child.kill('SIGTERM');
    const { code } = await r.done;
    expect(code).toBe(143);
    expect(r.stderr()).toBe('compress: stopped while timing; nothing was measured to the end\n');
    expect(existsSync(file)).toBe(false);
  });

  it('by SIGTERM while the session memory is measured: the measuring process ends too, one line', async () => {
    const file = lockFile();
    const child = spawn(process.execPath, [BIN, 'bench', model.path, '--batch', '1', '--seq', '8', '--threads', '1', '--repeats', '1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, BERT_COMPRESS_TIMING_LOCK: file },
    });
    children.push(child);
    const r = collect(child);
    let measuring: number[] = [];
    await until(() => (measuring = measuringChildren(child.pid!)).length > 0);
    child.kill('SIGTERM'); // (to the parent alone, as a service manager would)
    const { code } = await r.done;
    expect(code).toBe(143);
    expect(r.stderr()).toBe('compress: stopped while measuring the session memory; nothing was measured to the end\n');
    expect(existsSync(file)).toBe(false);
    expect(measuring.filter(processAlive)).toEqual([]);
  });
});

/** Pids of the children of `pid` that measure a session's memory (session-memory-main). */
function measuringChildren(pid: number): number[] {
  return childPids(pid, 'session-memory-main');
}
