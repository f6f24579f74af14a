/**
 * A distributed sweep whose store cannot take a collected point (a full disk, an I/O error: an SQLite error raised
 * by the store's write, injected here): the coordinator stops at once with one line and keeps what it stored
 * before, instead of swallowing the error on a queue event (and reporting success without the point) or taking it
 * for a Redis problem. The same command run again collects the rest.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { UserError } from '../../src/errors.ts';
import { runQueuedSweep } from '../../src/queue/coordinator.ts';
import { runQueueWorker } from '../../src/queue/worker.ts';
import { SweepStore } from '../../src/sweep/store.ts';
import { failWrites } from '../sweep/store-faults.ts';
import { redisSkipReason } from './redis.ts';
import { tinyQueue } from './tiny-queue.ts';

/** This file's database on a shared Redis. */
const DB = 5;

describe.skipIf(redisSkipReason !== null)(`a queued sweep whose store cannot be written${redisSkipReason ? ` (skipped: ${redisSkipReason})` : ''}`, () => {
  const q = tinyQueue(DB, { pipelines: ['baseline', 'drop-1'] });
  afterAll(async () => {
    vi.restoreAllMocks();
  });

  it('the coordinator stops at once with one line, keeping the points stored before', async () => {
    expect(q.t.points).toBeGreaterThan(1);
    const store = join(q.t.root, 'queued.sqlite');
    // The first collected point is written; every later write fails as on a full disk (SQLite's error, from below
    // the store: the store says it in one line, to which the coordinator adds what is kept).
    const finish = SweepStore.prototype.finish;
    const spy = vi.spyOn(SweepStore.prototype, 'finish').mockImplementationOnce(function (this: SweepStore, ...args) {
      finish.apply(this, args);
      failWrites(this);
    });
    const lines: string[] = [];
    const stop = new AbortController();
    let worker: ReturnType<typeof runQueueWorker> | undefined;
    const error = await runQueuedSweep({
      file: q.t.sweepFile,
      store,
      queue: q.redis.url(DB),
      unreachableMs: 3_000, // without the fix, an error met on a rescan passes for a Redis problem and ends here
      onEvent: (e) => {
        if (e.type !== 'log') return;
        lines.push(e.line);
        if (!e.line.startsWith('queued')) return;
        worker = runQueueWorker({ queue: q.redis.url(DB), cacheDir: join(q.t.root, 'worker'), signal: stop.signal });
      },
    }).then(
      (summary) => summary,
      (e: unknown) => e,
    );
    try {
      expect(error, lines.join('\n')).toBeInstanceOf(UserError);
      expect((error as Error).message).toBe(
        `${store}: cannot write to the store (SQLITE_FULL: database or disk is full); it keeps the 1 point finished so far, and the queue keeps the workers' results: run the same command again once the store can be written`,
      );
      const deadline = Date.now() + 120_000;
      while ((await q.queue.getJobCounts('completed')).completed < q.t.points && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    } finally {
      stop.abort();
      spy.mockRestore();
    }
    expect(await worker).toEqual({ ran: q.t.points, failed: 0 });
    const kept = SweepStore.open(store, { readonly: true });
    try {
      expect(kept.finished()).toHaveLength(1);
    } finally {
      kept.close();
    }

    // The same command again (the store writable) collects the rest from the queue.
    const again = await runQueuedSweep({ file: q.t.sweepFile, store, queue: q.redis.url(DB) });
    expect([again.alreadyDone, again.ran, again.failed.length, again.added]).toEqual([1, q.t.points - 1, 0, 0]);
  }, 180_000);
});
