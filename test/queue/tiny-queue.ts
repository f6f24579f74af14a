/**
 * The setting most queue tests share: a tiny sweep (writeTinySweep) and the test file's own database on a Redis
 * (anyRedis), with its queue emptied before the tests and after them. `tinyQueue` registers the describe block's
 * beforeAll and afterAll hooks; the fields are set once beforeAll has run.
 */
import { Queue } from 'bullmq';
import { afterAll, beforeAll } from 'vitest';
import { QUEUE_NAME, parseQueueUrl } from '../../src/queue/connection.ts';
import type { SweepEvent } from '../../src/sweep/run.ts';
import { writeTinySweep, type TinySweep } from '../sweep/tiny-sweep.ts';
import { anyRedis, type TestRedis } from './redis.ts';

export interface TinyQueue {
  t: TinySweep;
  redis: TestRedis;
  /** The queue on database `db`. */
  queue: Queue;
}

/** Registers the hooks that set up (and afterwards empty, close and remove) a tiny sweep and database `db`'s queue. */
export function tinyQueue(db: number, sweep: Parameters<typeof writeTinySweep>[0] = {}): TinyQueue {
  const q = {} as Partial<TinyQueue>;
  beforeAll(async () => {
    q.t = writeTinySweep(sweep);
    q.redis = await anyRedis();
    q.queue = new Queue(QUEUE_NAME, { connection: parseQueueUrl(q.redis.url(db)).connection });
    await q.queue.obliterate({ force: true });
  });
  afterAll(async () => {
    await q.queue?.obliterate({ force: true }).catch(() => {});
    await q.queue?.close();
    await q.redis?.close();
    q.t?.cleanup();
  });
  return q as TinyQueue;
}

/**
 * A coordinator's signal and event listener (runQueuedSweep's `signal` and `onEvent`) that stop it once it queued a
 * point (which no worker would run, so it would wait for ever): a rerun that must queue nothing ends of itself, one
 * that queues a point stops at once, however slowly a loaded machine plans, where a fixed bound could stop a slow
 * rerun before it finished.
 */
export function stopOnceQueued(): { signal: AbortSignal; onEvent: (e: SweepEvent) => void } {
  const queued = new AbortController();
  const onEvent = (e: SweepEvent) => {
    if (e.type === 'log' && e.line.startsWith('queued')) queued.abort();
  };
  return { signal: queued.signal, onEvent };
}
