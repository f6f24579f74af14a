/**
 * A library caller's process once runQueueWorker or runQueuedSweep returned after a stop with Redis out of reach: the
 * timers BullMQ and ioredis left behind end soon, so the process ends of itself soon too (a CLI command exits at once,
 * bin/compress.mjs). ioredis waited its disconnectTimeout (2 s) for a socket that had closed already, and a blocking
 * read waited for its watchdog (the worker's wait for a point: BullMQ's drainDelay, 5 s, and 1 s; the coordinator's
 * read of the queue's events: BullMQ's blockingTimeout, 10 s, and 1 s), which the close of a connection trying to
 * reconnect never clears. Needs a redis-server of the test's own (it is stopped).
 */
import { createHook } from 'node:async_hooks';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLOCKING_MS, DISCONNECT_TIMEOUT_MS } from '../../src/queue/connection.ts';
import { runQueuedSweep } from '../../src/queue/coordinator.ts';
import { runQueueWorker } from '../../src/queue/worker.ts';
import { writeTinySweep, type TinySweep } from '../sweep/tiny-sweep.ts';
import { ownRedis, ownRedisSkipReason, type TestRedis } from './redis.ts';

/** BullMQ's margin over a blocking read's own timeout before its watchdog gives up on it (waitForJob, readEvents). */
const WATCHDOG_MARGIN_MS = 1_000;

/**
 * Runs `call` (which returns once stopped) and gives how long, after it returned, timers set by BullMQ's or ioredis's
 * code stayed pending (at most `ms`).
 */
async function lingerAfter(call: () => Promise<unknown>, ms = 20_000): Promise<number> {
  const timers = new Set<number>();
  const hook = createHook({
    init(id, type) {
      if (type === 'Timeout' && /[\\/]node_modules[\\/](?:bullmq|ioredis)[\\/]/.test(new Error().stack ?? '')) timers.add(id);
    },
    destroy(id) {
      timers.delete(id);
    },
  });
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 30;
  hook.enable();
  try {
    await call();
    const returned = Date.now();
    while (timers.size > 0 && Date.now() - returned < ms) await new Promise((r) => setTimeout(r, 20));
    return Date.now() - returned;
  } finally {
    hook.disable();
    Error.stackTraceLimit = limit;
  }
}

describe.skipIf(ownRedisSkipReason !== null)(
  `a library caller's process after a stop with Redis out of reach${ownRedisSkipReason ? ` (skipped: ${ownRedisSkipReason})` : ''}`,
  () => {
    let t: TinySweep;
    let redis: TestRedis;
    beforeAll(async () => {
      t = writeTinySweep({ rows: 4, pipelines: ['baseline'] });
      redis = await ownRedis();
    });
    afterAll(async () => {
      await redis?.close();
      t?.cleanup();
    });

    it("runQueueWorker: BullMQ's and ioredis's timers end within a wait for a point and its watchdog's margin of its return, where they kept the process up to 6 s", async () => {
      await redis.kill();
      await redis.start();
      const stop = new AbortController();
      const ms = await lingerAfter(() =>
        runQueueWorker({
          queue: redis.url(),
          cacheDir: join(t.root, 'worker'),
          signal: stop.signal,
          onEvent: (e) => {
            // (stopped a second into the outage: ioredis between two tries to reconnect, its socket closed already)
            if (e.type === 'ready') void redis.kill();
            else if (e.type === 'log' && e.line.endsWith(': ECONNREFUSED')) setTimeout(() => stop.abort(), 1_000);
          },
        }),
      );
      // (the watchdog of the wait for a point under way as Redis went away: at most the wait and its margin, and the
      // disconnect's wait for a socket closed already)
      expect(ms, `${ms} ms`).toBeLessThan(BLOCKING_MS + WATCHDOG_MARGIN_MS + DISCONNECT_TIMEOUT_MS + 500);
    }, 60_000);

    it("runQueuedSweep: BullMQ's and ioredis's timers end within a read of the event stream and its watchdog's margin of its return, where they kept the process up to 11 s", async () => {
      await redis.kill();
      await redis.start();
      const stop = new AbortController();
      const ms = await lingerAfter(() =>
        runQueuedSweep({
          file: t.sweepFile,
          store: join(t.root, 'linger.sqlite'),
          queue: redis.url(),
          rescanMs: 200,
          signal: stop.signal,
          onEvent: (e) => {
            if (e.type !== 'log') return;
            if (e.line.startsWith('queued')) void redis.kill();
            else if (e.line.endsWith(': ECONNREFUSED')) setTimeout(() => stop.abort(), 1_000);
          },
        }),
      );
      // (the watchdog of the read under way as Redis went away: at most the read and its margin, and the disconnect's wait)
      expect(ms, `${ms} ms`).toBeLessThan(BLOCKING_MS + WATCHDOG_MARGIN_MS + DISCONNECT_TIMEOUT_MS + 500);
    }, 60_000);
  },
);
