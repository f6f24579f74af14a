/**
 * `compress worker` refuses flag values it could not work with in one line, before it connects (port 1: nothing
 * listens there), where it would otherwise start and fail every point it takes, or misbehave.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runMain } from '../helpers/cli.ts';
import { workerThreads } from '../../src/queue/worker.ts';
import { defaultThreads } from '../../src/runtime/threads.ts';

const QUEUE = 'redis://127.0.0.1:1/0';

describe('compress worker: flag values', () => {
  it.each([
    // a point's eval, bench and training refuse more threads: every point taken would fail its 3 runs
    // (0 as a sweep file's bench.threads: the default, the physical cores divided among the points run at once)
    [
      '--threads 1000',
      ['--threads', '1000'],
      /^compress: --threads 1000: expected an integer from 0 to 256 \(0: one per physical core, divided among the points run at once\)$/,
    ],
    ['--threads -1', ['--threads', '-1'], /^compress: --threads -1: expected an integer from 0 to 256 \(0: one per physical core, divided among/],
    // BullMQ's check for lost workers waits a lock's length, a Node timer: longer ones fire after 1 ms, every ms
    [
      '--lock-seconds 3000000 (35 days)',
      ['--lock-seconds', '3000000'],
      /^compress: --lock-seconds 3000000: expected a number of seconds in \[1, 2147483\] \(about 24 days at most\)$/,
    ],
    // quoted as typed, not as the number yargs read (0, 1e-10)
    [
      '--lock-seconds 1e-400 (0)',
      ['--lock-seconds', '1e-400'],
      /^compress: --lock-seconds 1e-400: too small for a number to hold \(it reads as 0\); expected a number of seconds in \[1, 2147483\] \(about 24 days at most\)$/,
    ],
    [
      '--lock-seconds 0.0000000001',
      ['--lock-seconds', '0.0000000001'],
      /^compress: --lock-seconds 0\.0000000001: expected a number of seconds in \[1, 2147483\]/,
    ],
    ['--lock-seconds=-0', ['--lock-seconds=-0'], /^compress: --lock-seconds -0: expected a number of seconds in \[1, 2147483\]/],
    // (the one number wording, where it said 'expected a number')
    ["--lock-seconds ''", ['--lock-seconds', ''], /^compress: --lock-seconds '': expected a number of seconds in \[1, 2147483\]/],
  ])('%s', async (_name, flags, re) => {
    const r = await runMain(['worker', '--queue', QUEUE, ...flags]);
    expect(r.code, r.stderr).toBe(2); // (a usage mistake)
    expect(r.stderr.trim()).toMatch(re);
  });
});

// (the worker started and each point it took failed once compressed and evaluated, when its benchmark asked it)
describe('compress worker: the environment its points benchmark in', () => {
  it('BERT_COMPRESS_MACHINE_LOAD with a value it does not take: refused in one line before it connects', async () => {
    const r = await runMain(['worker', '--queue', QUEUE], { BERT_COMPRESS_MACHINE_LOAD: 'no' });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim()).toBe(
      "compress: BERT_COMPRESS_MACHINE_LOAD 'no': expected off (leave the machine's load unchecked) or on (check it, as when unset)",
    );
  });

  // (a folder was waited on by each point's benchmark as a lock another benchmark held, 10 minutes)
  it('BERT_COMPRESS_TIMING_LOCK naming a folder: refused in one line before it connects', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'worker-lock-'));
    try {
      const r = await runMain(['worker', '--queue', QUEUE], { BERT_COMPRESS_TIMING_LOCK: folder });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim()).toBe(
        `compress: BERT_COMPRESS_TIMING_LOCK: ${folder} is a folder, not a lock file; name a file (or unset it: a file in the temporary folder)`,
      );
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

describe("compress worker --threads 0: the default, as a sweep file's bench.threads 0", () => {
  it('divides the physical cores among the points run at once, as without --threads', () => {
    const divided = (concurrency: number) => Math.max(1, Math.floor(defaultThreads() / concurrency));
    expect(workerThreads(0, 2)).toBe(divided(2));
    expect(workerThreads(0, 1000)).toBe(1);
    expect(workerThreads(undefined, 1)).toBe(divided(1));
    expect(workerThreads(3, 2)).toBe(3);
  });
});
