/**
 * Two coordinators of one sweep and store collect the same finished points. Each stores a point only once it holds
 * it in the store: one the other holds this moment (claimed, its result being written) is left for a later look,
 * which finds it stored by the other, so the two closing lines count each point once, where both stored it and each
 * counted it as collected.
 * (The coordinator looks at its points every 200 ms here, where it looks every 5 s by default.)
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Worker } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { processStartTime } from '../../src/processes.ts';
import { QUEUE_NAME, parseQueueUrl } from '../../src/queue/connection.ts';
import { runQueuedSweep } from '../../src/queue/coordinator.ts';
import type { PointResult } from '../../src/sweep/point.ts';
import type { SweepPoint } from '../../src/sweep/plan.ts';
import type { SweepEvent } from '../../src/sweep/run.ts';
import { SweepStore } from '../../src/sweep/store.ts';
import { redisSkipReason } from './redis.ts';
import { tinyQueue } from './tiny-queue.ts';

const DB = 13;
/** A live process other than this one, which outlives the test (the test runner's): "the other coordinator". */
const other = process.ppid;
const otherStart = processStartTime(other);

describe.skipIf(redisSkipReason !== null || otherStart === undefined)('two coordinators of one sweep and store', () => {
  const q = tinyQueue(DB, { rows: 4 });

  it('leave a point the other holds this moment to a later look, which finds it stored by the other: counted once', async () => {
    const store = join(q.t.root, 'two.sqlite');
    let point: SweepPoint | undefined;
    /** Makes the point look claimed by the other coordinator, to write its result. */
    const otherClaims = () => {
      const s = SweepStore.open(store);
      try {
        expect(s.claim(point!)).toBe('claimed');
      } finally {
        s.close();
      }
      const db = new Database(store);
      try {
        db.prepare('UPDATE points SET pid = ?, host = ?, heartbeat_ms = ?, holder = ? WHERE key = ?').run(
          other,
          hostname(),
          Date.now(),
          `${other} ${otherStart}`,
          point!.key,
        );
      } finally {
        db.close();
      }
    };
    const events: SweepEvent[] = [];
    const stop = new AbortController();
    let queued: () => void = () => {};
    const result: PointResult = { params: 1, bytes: 1, glue: 0.5, speedup: 1, latencyMs: 1 } as PointResult;
    let otherStored = false;
    const running = runQueuedSweep({
      file: q.t.sweepFile,
      store,
      queue: q.redis.url(DB),
      rescanMs: 200,
      signal: stop.signal,
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'plan') {
          point = e.points[0]!;
          otherClaims();
        }
        if (e.type === 'log' && e.line.startsWith('queued')) queued();
        if ((e.type === 'finished' || e.type === 'skipped') && e.point.key === point?.key) stop.abort();
      },
    });
    const worker = new Worker(QUEUE_NAME, null, { connection: parseQueueUrl(q.redis.url(DB)).connection, autorun: false, lockDuration: 60_000 });
    try {
      await new Promise<void>((r) => (queued = r));
      let job = await worker.getNextJob('a-worker');
      while (job!.id !== point!.key) job = await worker.getNextJob('a-worker');
      await job!.moveToCompleted(result, 'a-worker', false);
      // (the coordinator, told the point completed, finds it held by the other: the other then stores it)
      await new Promise((r) => setTimeout(r, 500));
      const mine = SweepStore.open(store);
      try {
        mine.finish(point!, result);
        otherStored = true;
      } finally {
        mine.close();
      }
      const summary = await running;
      expect(otherStored).toBe(true);
      expect(events.filter((e) => 'point' in e && e.point?.key === point!.key && e.type !== 'start').map((e) => e.type)).toEqual(['skipped']);
      expect([summary.ran, summary.byOthers]).toEqual([0, 1]);
    } finally {
      stop.abort();
      await running.catch(() => {});
      await worker.close(true);
    }
  }, 60_000);
});
