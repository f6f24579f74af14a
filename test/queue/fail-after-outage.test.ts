/**
 * A coordinator (runQueuedSweep, `compress sweep --queue`) whose planning fails a moment after its Redis went away,
 * before any try to reconnect failed (ECONNREFUSED comes a second later at the soonest): it refuses at once, where
 * its close, reading the connection log (no problem said yet) and not the connections' readiness, closed its queue
 * events gracefully and waited 5 s for the end of a connection that ioredis, waiting to reconnect, never ends. The
 * planning's failure is stood in for (planAgainstStore mocked: Redis stopped, both connections waiting to reconnect,
 * then a throw). Needs a redis-server of the test's own (it is stopped).
 */
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CALL_TIMEOUT_MS, runQueuedSweep } from '../../src/queue/coordinator.ts';
import { writeTinySweep, type TinySweep } from '../sweep/tiny-sweep.ts';
import { ownRedis, ownRedisSkipReason, type TestRedis } from './redis.ts';

const failing = vi.hoisted(() => ({ plan: undefined as undefined | (() => Promise<never>) }));

vi.mock('../../src/sweep/run.ts', async (original) => {
  const run = await original<typeof import('../../src/sweep/run.ts')>();
  return { ...run, planAgainstStore: (...args: Parameters<typeof run.planAgainstStore>) => failing.plan?.() ?? run.planAgainstStore(...args) };
});

type SetStatus = { setStatus: (status: string, arg?: unknown) => void };

describe.skipIf(ownRedisSkipReason !== null)(
  `a coordinator whose planning fails just after its Redis went away${ownRedisSkipReason ? ` (skipped: ${ownRedisSkipReason})` : ''}`,
  () => {
    let t: TinySweep;
    let redis: TestRedis;
    beforeAll(async () => {
      t = writeTinySweep({ rows: 4, pipelines: ['baseline'] });
      redis = await ownRedis();
    });
    afterAll(async () => {
      failing.plan = undefined;
      await redis?.close();
      t?.cleanup();
    });

    it('refuses at once, where it refused 5 s after the failure', async () => {
      // (the coordinator's two connections, the queue's and its events', waiting to reconnect: Redis gone, no try failed)
      const waiting = new Set<Redis>();
      const setStatus = (Redis.prototype as unknown as SetStatus).setStatus;
      const statuses = vi.spyOn(Redis.prototype as unknown as SetStatus, 'setStatus').mockImplementation(function (this: Redis, status, arg) {
        setStatus.call(this, status, arg);
        if (status === 'reconnecting') waiting.add(this);
      });
      let failedAt = 0;
      failing.plan = async () => {
        await redis.kill();
        while (waiting.size < 2) await new Promise((r) => setTimeout(r, 5));
        failedAt = Date.now();
        throw new Error('planning failed');
      };
      const lines: string[] = [];
      try {
        await expect(
          runQueuedSweep({
            file: t.sweepFile,
            store: join(t.root, 'failed-after-outage.sqlite'),
            queue: redis.url(),
            onEvent: (e) => {
              if (e.type === 'log') lines.push(e.line);
            },
          }),
        ).rejects.toThrow('planning failed');
        const took = Date.now() - failedAt;
        expect(failedAt).toBeGreaterThan(0);
        // (a close waiting for the connection's end returns 5 s after the failure at the soonest, whatever the load)
        expect(took, `${took} ms; ${lines.join('\n')}`).toBeLessThan(CALL_TIMEOUT_MS);
      } finally {
        statuses.mockRestore();
      }
    }, 60_000);
  },
);
