/**
 * A worker whose Redis keeps the connection but answers nothing (its process stopped: SIGSTOP, as a Redis stuck or
 * swapped out; a failover's pause of writes) as the worker hands in a point's outcome, or gives a point back: it says
 * so within CALL_TIMEOUT_MS (5 s) in one line, where it waited silently for as long as Redis held the command (a give-
 * back is then not waited for: a stop waited a lock more). Needs a redis-server of the test's own (it is paused).
 */
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sha256File } from '../../src/files.ts';
import { CALL_TIMEOUT_MS, QUEUE_NAME, parseQueueUrl } from '../../src/queue/connection.ts';
import { pointFiles } from '../../src/queue/files.ts';
import { jobOptions } from '../../src/queue/job.ts';
import { workerLogLine } from '../../src/cli/commands/worker.ts';
import { runQueueWorker, unansweredGiveBackLine, unansweredOutcomeLine, type WorkerEvent } from '../../src/queue/worker.ts';
import { planSweep, type SweepPoint } from '../../src/sweep/plan.ts';
import { parseSweepFile } from '../../src/sweep/spec.ts';
import { writeTinySweep, type TinySweep } from '../sweep/tiny-sweep.ts';
import { ownRedis, ownRedisSkipReason, type TestRedis } from './redis.ts';

/** Resolves once `done()` holds, or after `ms` (the caller's expectation then says what did not come). */
async function until(done: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

describe.skipIf(ownRedisSkipReason !== null)(`a worker whose Redis answers nothing${ownRedisSkipReason ? ` (skipped: ${ownRedisSkipReason})` : ''}`, () => {
  let t: TinySweep;
  let redis: TestRedis;
  let point: SweepPoint;
  beforeAll(async () => {
    t = writeTinySweep({ pipelines: ['baseline'] });
    redis = await ownRedis();
    [point] = (await planSweep(parseSweepFile(t.sweepFile), { glueDir: t.glueDir, workDir: join(t.root, 'out') })) as [SweepPoint];
  });
  afterEach(async () => {
    await redis.kill(); // (resumed first, if paused)
    await redis.start(); // (empty: no persistence)
  });
  afterAll(async () => {
    await redis?.close();
    t?.cleanup();
  });
  async function queuePoint(p: SweepPoint): Promise<void> {
    const queue = new Queue(QUEUE_NAME, { connection: parseQueueUrl(redis.url()).connection });
    try {
      await queue.add('point', { point: p, files: await pointFiles(p, sha256File) }, jobOptions(p.key, 10));
    } finally {
      await queue.close();
    }
  }

  it("says within 5 s that Redis has not taken a finished point's result, and goes on once Redis answers, where it waited silently", async () => {
    await queuePoint(point);
    const stop = new AbortController();
    const lines: string[] = [];
    const events: WorkerEvent['type'][] = [];
    let paused = false;
    const running = runQueueWorker({
      queue: redis.url(),
      cacheDir: join(t.root, 'outcome'),
      lockMs: 60_000, // (the point's lock outlasts the pause: its result is taken once Redis answers)
      signal: stop.signal,
      onEvent: (e) => {
        events.push(e.type);
        if (e.type === 'log' && !e.point) lines.push(e.line);
        // (the point's run makes no Redis command of the worker's own: its outcome is the first Redis holds)
        if (e.type === 'start') {
          redis.pause();
          paused = true;
        }
        if (e.type === 'finished') stop.abort();
      },
    });
    try {
      const line = unansweredOutcomeLine(point.key, CALL_TIMEOUT_MS / 1000);
      // (the point's run, seconds on a loaded machine, and the line's 5 s)
      await until(() => lines.includes(line), 40_000);
      expect(lines, events.join(' ')).toEqual([line]);
      expect(workerLogLine({ line })).toBe(line); // (shown without --verbose)
      expect(events).not.toContain('finished');
    } finally {
      if (paused) redis.resume();
      const deadline = setTimeout(() => stop.abort(), 60_000);
      await running.finally(() => clearTimeout(deadline));
    }
    expect(events).toContain('finished');
  }, 150_000);

  it('says within 5 s that Redis has not taken back a point it gives back, and goes on, where it waited for ever (and a stop waited a lock more)', async () => {
    // (a point of newer code than this worker's: given back for a worker of the coordinator's code)
    const other: SweepPoint = { ...point, versions: { ...point.versions, tool: '99.0.0' } };
    await queuePoint(other);
    const stop = new AbortController();
    const lines: string[] = [];
    let paused = false;
    const running = runQueueWorker({
      queue: redis.url(),
      cacheDir: join(t.root, 'give-back'),
      lockMs: 60_000, // (where the worker's stop waited for the give-back a lock more)
      signal: stop.signal,
      onEvent: (e) => {
        if (e.type === 'log' && !e.point) lines.push(e.line);
        if (e.type === 'start') {
          redis.pause();
          paused = true;
        }
      },
    });
    try {
      const line = unansweredGiveBackLine(other.key, CALL_TIMEOUT_MS / 1000);
      await until(() => lines.includes(line), 40_000);
      expect(lines).toEqual([line]);
      expect(workerLogLine({ line })).toBe(line); // (shown without --verbose)
      // (nothing of the point left to wait for: the stop is prompt, Redis still paused)
      const stoppedAt = Date.now();
      stop.abort();
      await running;
      expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    } finally {
      if (paused) redis.resume();
      stop.abort();
      await running.catch(() => {});
    }
  }, 150_000);
});
