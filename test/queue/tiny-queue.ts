/**
 * The setting most queue tests share: a tiny sweep (writeTinySweep) and the test file's own database on a Redis
 * (anyRedis), with its queue emptied before the tests and after them. `tinyQueue` registers the describe block's
 * beforeAll and afterAll hooks; the fields are set once beforeAll has run.
 */
import { Queue } from 'bullmq';
import { afterAll, beforeAll } from 'vitest';
import { QUEUE_NAME, parseQueueUrl } from '../../src/queue/connection.ts';
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
