/**
 * A coordinator (runQueuedSweep, `compress sweep --queue`) told to stop a moment after its Redis went away, before any
 * try to reconnect failed (ECONNREFUSED comes a second later at the soonest): it returns at once, saying Redis is out
 * of reach, where its graceful close waited 5 s for the end of a connection that ioredis, waiting to reconnect, never
 * ends. Needs a redis-server of the test's own (it is stopped).
 */
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CALL_TIMEOUT_MS, CONNECTION_LOST, runQueuedSweep } from '../../src/queue/coordinator.ts';
import { writeTinySweep, type TinySweep } from '../sweep/tiny-sweep.ts';
import { ownRedis, ownRedisSkipReason, type TestRedis } from './redis.ts';

describe.skipIf(ownRedisSkipReason !== null)(
  `a coordinator stopped just after its Redis went away${ownRedisSkipReason ? ` (skipped: ${ownRedisSkipReason})` : ''}`,
  () => {
    let t: TinySweep;
    let redis: TestRedis;
    beforeAll(async () => {
      t = writeTinySweep({ rows: 4, pipelines: ['baseline'] }); // (2 points: none runs)
      redis = await ownRedis();
    });
    afterAll(async () => {
      await redis?.close();
      t?.cleanup();
    });

    it("returns at once, Redis out of reach ('connection lost'), where it returned 5 s after the stop", async () => {
      const stop = new AbortController();
      let queued = false;
      let stoppedAt = 0;
      // (told to stop as the last of its two connections, the queue's and its events', Redis gone, begins to wait to
      // reconnect: the moment, whatever the machine's load, where no try has failed yet and the connection log has no
      // problem to say)
      const waiting = new Set<Redis>();
      const setStatus = (Redis.prototype as unknown as { setStatus: (status: string, arg?: unknown) => void }).setStatus;
      const statuses = vi.spyOn(Redis.prototype as unknown as { setStatus: (status: string, arg?: unknown) => void }, 'setStatus').mockImplementation(function (
        this: Redis,
        status,
        arg,
      ) {
        setStatus.call(this, status, arg);
        if (queued && status === 'reconnecting') waiting.add(this);
        if (waiting.size === 2 && stoppedAt === 0) {
          stoppedAt = Date.now();
          stop.abort();
        }
      });
      const lines: string[] = [];
      try {
        const summary = await runQueuedSweep({
          file: t.sweepFile,
          store: join(t.root, 'stopped-after-outage.sqlite'),
          queue: redis.url(),
          signal: stop.signal,
          onEvent: (e) => {
            if (e.type !== 'log') return;
            lines.push(e.line);
            if (e.line.startsWith('queued')) {
              queued = true;
              void redis.kill();
            }
          },
        });
        const took = Date.now() - stoppedAt;
        expect(stoppedAt).toBeGreaterThan(0);
        expect(
          lines.filter((l) => l.startsWith('queue ')),
          lines.join('\n'),
        ).toEqual([]);
        // (a close waiting for the connection's end returns 5 s after the stop at the soonest, whatever the machine's load)
        expect(took, `${took} ms`).toBeLessThan(CALL_TIMEOUT_MS);
        expect([summary.left, summary.unreachable]).toEqual([2, CONNECTION_LOST]);
      } finally {
        statuses.mockRestore();
      }
    }, 60_000);
  },
);
