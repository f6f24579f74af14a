/**
 * Stopping a benchmark (Ctrl-C, SIGTERM): its wait for the machine-wide timing lock says what it waits for and
 * stops at once. It used to wait up to 10 minutes in silence.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BenchStopped, acquireTimingLock, benchModels, timingLockWaitLine } from '../../src/bench/index.ts';
import { writeTinyBert } from '../helpers/models.ts';

const BIN = resolve(__dirname, '../../bin/compress.mjs');
const model = writeTinyBert({ numLayers: 1 }, { seed: 2 });
afterAll(() => model.cleanup());
const lockFile = () => join(mkdtempSync(join(tmpdir(), 'timing-stop-')), 'timing.lock');
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
});
