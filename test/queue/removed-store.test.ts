/**
 * A distributed sweep whose store is removed (its folder deleted) while the coordinator collects: the coordinator
 * stops at once with the one line a local sweep gives, instead of taking the store's error for a Redis problem
 * ('waiting for it') until Redis counts as unreachable. The workers go on; the same command run again collects
 * what they finished.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.ts';
import { runQueuedSweep } from '../../src/queue/coordinator.ts';
import { runQueueWorker } from '../../src/queue/worker.ts';
import { redisSkipReason } from './redis.ts';
import { tinyQueue } from './tiny-queue.ts';

/** This file's database on a shared Redis. */
const DB = 4;

describe.skipIf(redisSkipReason !== null)(`a queued sweep whose store is removed${redisSkipReason ? ` (skipped: ${redisSkipReason})` : ''}`, () => {
  const q = tinyQueue(DB, { pipelines: ['baseline', 'drop-1'] });

  it('the coordinator stops at once with one line saying so; the workers go on', async () => {
    const folder = join(q.t.root, 'runs');
    mkdirSync(folder);
    const store = join(folder, 'queued.sqlite');
    const lines: string[] = [];
    const stop = new AbortController();
    let worker: ReturnType<typeof runQueueWorker> | undefined;
    const coordinator = runQueuedSweep({
      file: q.t.sweepFile,
      store,
      queue: q.redis.url(DB),
      unreachableMs: 3_000, // without the fix, the store's error passes for a Redis problem and ends here
      onEvent: (e) => {
        if (e.type !== 'log') return;
        lines.push(e.line);
        if (!e.line.startsWith('queued')) return;
        rmSync(folder, { recursive: true, force: true });
        worker = runQueueWorker({ queue: q.redis.url(DB), cacheDir: join(q.t.root, 'worker'), signal: stop.signal });
      },
    });
    const error = await coordinator.then(
      () => null,
      (e: unknown) => e,
    );
    try {
      expect(error, lines.join('\n')).toBeInstanceOf(UserError);
      expect((error as Error).message).toBe(
        `${store}: the store was removed while the sweep ran, so no result can be kept in it: run the same command again to run the points it lacks`,
      );
      expect(lines.filter((l) => l.includes('waiting for it'))).toEqual([]);
      // The workers go on: every point ends completed in the queue.
      const deadline = Date.now() + 120_000;
      while ((await q.queue.getJobCounts('completed')).completed < q.t.points && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    } finally {
      stop.abort();
    }
    expect(await worker).toEqual({ ran: q.t.points, failed: 0 });

    // The same command again (its folder back) collects what the workers finished.
    mkdirSync(folder);
    const again = await runQueuedSweep({ file: q.t.sweepFile, store, queue: q.redis.url(DB) });
    expect([again.ran, again.failed.length, again.added]).toEqual([q.t.points, 0, 0]);
  }, 180_000);
});
