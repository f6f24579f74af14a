/**
 * A queued sweep whose points a worker timed contended (here: a timing lock it cannot create) closes with the line
 * saying so and how to time them alone, as a local sweep's first run does (the coordinator's lines above mark them †).
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TIMING_LOCK_ENV } from '../../src/bench/timing-lock.ts';
import { contendedLine } from '../../src/cli/commands/sweep.ts';
import { runQueuedSweep } from '../../src/queue/coordinator.ts';
import { runQueueWorker } from '../../src/queue/worker.ts';
import { redisSkipReason } from './redis.ts';
import { tinyQueue } from './tiny-queue.ts';

/** This file's database on a shared Redis. */
const DB = 14;

describe.skipIf(redisSkipReason !== null)(`a queued sweep timed contended${redisSkipReason ? ` (skipped: ${redisSkipReason})` : ''}`, () => {
  const q = tinyQueue(DB, { rows: 8, pipelines: ['baseline'] });
  const lockEnv = process.env[TIMING_LOCK_ENV];
  afterAll(() => {
    if (lockEnv === undefined) delete process.env[TIMING_LOCK_ENV];
    else process.env[TIMING_LOCK_ENV] = lockEnv;
  });

  it('closes with the points its workers timed contended and says to time them alone locally', async () => {
    // (the workers' point processes inherit it: a lock of a name longer than the file system takes cannot be created;
    // one in no folder is refused before anything runs)
    process.env[TIMING_LOCK_ENV] = join(q.t.root, 'x'.repeat(300));
    const stop = new AbortController();
    const worker = runQueueWorker({ queue: q.redis.url(DB), cacheDir: join(q.t.root, 'worker'), signal: stop.signal });
    try {
      const summary = await runQueuedSweep({ file: q.t.sweepFile, store: join(q.t.root, 'queued.sqlite'), queue: q.redis.url(DB) });
      expect(summary).toMatchObject({ ran: 2, failed: [] });
      expect(contendedLine(summary.contended, true)).toBe(
        '2 points run now timed contended (the machine was shared while benchmarking; † above and in the report): tiny-sst2 · baseline, tiny-stsb · baseline; rerun as a local sweep (without --queue) with --jobs 1 --rerun-contended, nothing else running, to time them alone',
      );
    } finally {
      stop.abort();
      await worker;
    }
  }, 120_000);
});
