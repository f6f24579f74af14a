/**
 * A worker whose Redis goes away and comes back, twice: it says so each time ('queue URL: ECONNREFUSED', then
 * 'connected again'), where it logged the first outage only and never the return (BullMQ's worker says 'ready'
 * once, at its start). Needs a redis-server of the test's own (it is stopped).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runQueueWorker } from '../../src/queue/worker.ts';
import { ownRedis, ownRedisSkipReason, withoutResetBeforeRefused, type TestRedis } from './redis.ts';

describe.skipIf(ownRedisSkipReason !== null)(`a worker whose Redis restarts${ownRedisSkipReason ? ` (skipped: ${ownRedisSkipReason})` : ''}`, () => {
  let redis: TestRedis;
  let dir: string;
  beforeAll(async () => {
    redis = await ownRedis();
    dir = mkdtempSync(join(tmpdir(), 'worker-reconnect-'));
  });
  afterAll(async () => {
    await redis?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('logs each outage and each return', async () => {
    const lines: string[] = [];
    const stop = new AbortController();
    let ready = false;
    const running = runQueueWorker({
      queue: redis.url(),
      cacheDir: join(dir, 'cache'),
      signal: stop.signal,
      onEvent: (e) => {
        if (e.type === 'ready') ready = true;
        if (e.type === 'log' && !e.point) lines.push(e.line);
      },
    });
    const until = async (done: () => boolean, what: string) => {
      const deadline = Date.now() + 60_000;
      while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(done(), `${what}; lines: ${lines.join(' | ')}`).toBe(true);
    };
    const count = (re: RegExp) => lines.filter((l) => re.test(l)).length;
    try {
      await until(() => ready, 'the worker started');
      for (const n of [1, 2]) {
        await redis.kill();
        await until(() => count(/: ECONNREFUSED$/) === n, `outage ${n} logged`);
        await redis.start();
        await until(() => count(/: connected again$/) === n, `return ${n} logged`);
      }
    } finally {
      stop.abort();
      await running.catch(() => {});
    }
    const url = redis.url();
    expect(withoutResetBeforeRefused(lines), lines.join('\n')).toEqual([
      `queue ${url}: ECONNREFUSED`,
      `queue ${url}: connected again`,
      `queue ${url}: ECONNREFUSED`,
      `queue ${url}: connected again`,
    ]);
  }, 180_000);
});
