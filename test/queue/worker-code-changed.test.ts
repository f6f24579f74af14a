/**
 * A queue worker whose copy of the code changed under it (a `git pull`) says so once, in one line, where a worker
 * process it started since reports other code than the worker's as it started, though that process's points succeed
 * (their results stored as any other's). Here the worker's own fingerprint is made another one (as before the pull);
 * its worker processes take the real one as they start.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { workerLogLine } from '../../src/cli/commands/worker.ts';
import { pointFiles } from '../../src/queue/files.ts';
import { jobOptions } from '../../src/queue/job.ts';
import { CODE_CHANGED_LINE, runQueueWorker, type WorkerEvent } from '../../src/queue/worker.ts';
import { sha256File } from '../../src/files.ts';
import { parseSweepFile } from '../../src/sweep/spec.ts';
import { planSweep, type SweepPoint } from '../../src/sweep/plan.ts';
import { codeFingerprint } from '../../src/version.ts';
import { redisSkipReason } from './redis.ts';
import { tinyQueue } from './tiny-queue.ts';

/** This file's database on a shared Redis. */
const DB = 12;

/** The worker's code as it started: not its worker processes' (which compute theirs, unmocked). */
const STARTED = 'f'.repeat(64);
vi.mock('../../src/version.ts', async (original) => ({
  ...(await original<typeof import('../../src/version.ts')>()),
  codeFingerprint: () => STARTED,
}));

describe.skipIf(redisSkipReason !== null)(`compress worker${redisSkipReason ? ` (skipped: ${redisSkipReason})` : ''}`, () => {
  const q = tinyQueue(DB);
  let points: SweepPoint[];
  beforeAll(async () => {
    const planned = await planSweep(parseSweepFile(q.t.sweepFile), { glueDir: q.t.glueDir, workDir: join(q.t.root, 'out') });
    points = ['heads-0.5', 'drop-1'].map((label) => planned.find((p) => p.label === label)!);
  });

  it("says once that its copy changed since it started, where two worker processes started with other code, and stores their points' results, where such points were stored with no remark", async () => {
    expect(codeFingerprint()).toBe(STARTED);
    for (const p of points) await q.queue.add('p', { point: p, files: await pointFiles(p, sha256File), code: STARTED }, jobOptions(p.key, 10));
    const events: WorkerEvent[] = [];
    const stop = new AbortController();
    const summary = await runQueueWorker({
      queue: q.redis.url(DB),
      cacheDir: join(q.t.root, 'worker'),
      concurrency: 2,
      threads: 1,
      signal: stop.signal,
      onEvent: (e) => {
        events.push(e);
        if (events.filter((x) => x.type === 'finished' || x.type === 'failed').length === points.length) stop.abort();
      },
    });
    expect(summary).toEqual({ ran: points.length, failed: 0 });
    expect(events.filter((e) => e.type === 'log' && e.line === CODE_CHANGED_LINE)).toHaveLength(1);
    expect(events.filter((e) => e.type === 'finished')).toHaveLength(points.length);
    for (const p of points) expect(await (await q.queue.getJob(p.key))!.getState()).toBe('completed');
    // (shown without --verbose)
    expect(workerLogLine({ line: CODE_CHANGED_LINE })).toBe(CODE_CHANGED_LINE);
  }, 60_000);
});
