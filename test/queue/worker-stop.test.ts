/**
 * A worker told to stop while its Redis is out of reach stops: with no point running, at once; with one running, once
 * it finished and the queue had a lock's time from its end to take its result, saying that the queue did not.
 * BullMQ's close() waits for the running points and then for its connections, which ioredis never ends while it
 * reconnects: the worker said 'stopping after the running points' and ran on for ever. Needs a redis-server of the
 * test's own (it is stopped).
 */
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sha256File } from '../../src/files.ts';
import { CALL_TIMEOUT_MS, QUEUE_NAME, parseQueueUrl } from '../../src/queue/connection.ts';
import { pointFiles } from '../../src/queue/files.ts';
import { jobOptions } from '../../src/queue/job.ts';
import {
  STOP_WAIT_MAX_MS,
  refusedResultLine,
  runQueueWorker,
  stopWaitMs,
  unansweredOutcomeLine,
  untakenResultLine,
  type WorkerEvent,
  type WorkerSummary,
} from '../../src/queue/worker.ts';
import { planSweep, type SweepPoint } from '../../src/sweep/plan.ts';
import { parseSweepFile } from '../../src/sweep/spec.ts';
import { writeTinySweep, type TinySweep } from '../sweep/tiny-sweep.ts';
import { compress, type CliProcess } from './cli-process.ts';
import { ownRedis, ownRedisSkipReason, type TestRedis } from './redis.ts';

/** The call's summary, or 'still running' once `ms` have passed. */
const within = <T>(p: Promise<T>, ms: number): Promise<T | 'still running'> =>
  Promise.race([p, new Promise<'still running'>((res) => setTimeout(() => res('still running'), ms).unref())]);

describe.skipIf(ownRedisSkipReason !== null)(
  `a worker stopped while Redis is out of reach${ownRedisSkipReason ? ` (skipped: ${ownRedisSkipReason})` : ''}`,
  () => {
    let t: TinySweep;
    let redis: TestRedis;
    beforeAll(async () => {
      t = writeTinySweep({ pipelines: ['baseline'] });
      redis = await ownRedis();
    });
    afterEach(async () => {
      await redis.kill();
      await redis.start(); // (empty: no persistence)
    });
    const processes: CliProcess[] = [];
    afterAll(async () => {
      for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      await redis?.close();
      t?.cleanup();
    });
    /** The sweep's first point, planned and queued as a coordinator queues it. */
    async function queueFirstPoint(): Promise<SweepPoint> {
      const [point] = await planSweep(parseSweepFile(t.sweepFile), { glueDir: t.glueDir, workDir: join(t.root, 'out') });
      const queue = new Queue(QUEUE_NAME, { connection: parseQueueUrl(redis.url()).connection });
      try {
        await queue.add('point', { point: point!, files: await pointFiles(point!, sha256File) }, jobOptions(point!.key, 10));
      } finally {
        await queue.close();
      }
      return point!;
    }

    it('with no point running: stops at once', async () => {
      const stop = new AbortController();
      const events: WorkerEvent[] = [];
      const running = runQueueWorker({
        queue: redis.url(),
        cacheDir: join(t.root, 'idle'),
        signal: stop.signal,
        onEvent: (e) => {
          events.push(e);
          if (e.type === 'ready') void redis.kill();
          // (a while after: both its connections then wait to reconnect, which the first refusal does not make sure of)
          if (e.type === 'log' && e.line.endsWith(': ECONNREFUSED')) setTimeout(() => stop.abort(), 2_000);
        },
      });
      // (where it ran on for ever: a bound that guards the test alone, as a loaded machine's start of a worker takes seconds)
      const summary = await within(running, 60_000);
      expect(summary, JSON.stringify(events)).toEqual({ ran: 0, failed: 0 } satisfies WorkerSummary);
    });

    it("with a point running: stops once it finished and the queue had a lock's time to take its result, saying it did not", async () => {
      const point = await queueFirstPoint();
      const stop = new AbortController();
      const lines: string[] = [];
      const events: WorkerEvent['type'][] = [];
      const running = runQueueWorker({
        queue: redis.url(),
        cacheDir: join(t.root, 'busy'),
        lockMs: 1_000,
        signal: stop.signal,
        onEvent: (e) => {
          events.push(e.type);
          if (e.type === 'log' && !e.point) lines.push(e.line);
          if (e.type === 'start') void redis.kill().then(() => stop.abort());
        },
      });
      // (where it ran on for ever; the point's run takes seconds more on a loaded machine)
      const summary = await within(running, 90_000);
      expect(summary, lines.join('\n')).toEqual({ ran: 0, failed: 0 } satisfies WorkerSummary);
      expect(events).not.toContain('finished');
      expect(lines).toContain(untakenResultLine(point.key, 1));
      expect(untakenResultLine(point.key, 1)).toMatch(
        /^point [0-9a-f]{12}: the queue did not take this run's outcome within 1 s of its end \(Redis out of reach\);/,
      );
    }, 150_000);

    it.each(['stopped', 'frozen'] as const)(
      "with a point whose outcome Redis (%s) did not take, told to stop a lock after the point's end: stops at once, saying the queue did not take it, where it waited a whole lock more from the stop",
      async (how) => {
        const point = await queueFirstPoint();
        const stop = new AbortController();
        const lines: string[] = [];
        let stoppedAt = 0;
        const lockMs = 4_000; // (less than the 5 s after the point's end at which the worker says Redis did not answer)
        const running = runQueueWorker({
          queue: redis.url(),
          cacheDir: join(t.root, `late-stop-${how}`),
          lockMs,
          signal: stop.signal,
          onEvent: (e) => {
            if (e.type === 'log' && !e.point) lines.push(e.line);
            if (e.type === 'start') void (how === 'stopped' ? redis.kill() : Promise.resolve(redis.pause()));
            // (CALL_TIMEOUT_MS after the point's end: its lock, renewed no more, has expired by then)
            if (e.type === 'log' && e.line === unansweredOutcomeLine(point.key, CALL_TIMEOUT_MS / 1000)) {
              stoppedAt = Date.now();
              stop.abort();
            }
          },
        });
        try {
          const summary = await within(running, 90_000);
          const took = Date.now() - stoppedAt;
          expect(summary, lines.join('\n')).toEqual({ ran: 0, failed: 0 } satisfies WorkerSummary);
          expect(stoppedAt, lines.join('\n')).toBeGreaterThan(0);
          // (a wait counted from the stop lasts a lock at the least, whatever the load)
          expect(took, `${took} ms; ${lines.join('\n')}`).toBeLessThan(lockMs);
          expect(lines).toContain(untakenResultLine(point.key, lockMs / 1000));
        } finally {
          if (how === 'frozen') redis.resume();
        }
      },
      150_000,
    );

    it("with a point running and Redis back without its data: says the queue refused the point's result as it finished, and stops then, where it said nothing and, a lock later, that Redis was out of reach", async () => {
      const point = await queueFirstPoint();
      const stop = new AbortController();
      const lines: string[] = [];
      let back: Promise<void> = Promise.resolve();
      const running = runQueueWorker({
        queue: redis.url(),
        cacheDir: join(t.root, 'restarted'),
        lockMs: STOP_WAIT_MAX_MS, // (the longest a stop waits: the point's run, seconds on a loaded machine, fits in it)
        signal: stop.signal,
        onEvent: (e) => {
          if (e.type === 'log' && !e.point) lines.push(e.line);
          if (e.type === 'start') back = redis.kill().then(() => (stop.abort(), redis.start()));
        },
      });
      const summary = await within(running, STOP_WAIT_MAX_MS - 10_000); // (less than the lock)
      await back;
      expect(summary, lines.join('\n')).toEqual({ ran: 0, failed: 0 } satisfies WorkerSummary);
      await new Promise((r) => setTimeout(r, 500)); // (nothing said after the call returned)
      // (and maybe that its lock was not renewed: Redis lost it too)
      expect(lines).toContain(refusedResultLine(point.key));
      expect(lines).not.toContain(untakenResultLine(point.key, STOP_WAIT_MAX_MS / 1000));
    }, 150_000);

    it('waits for Redis a lock at most, and at most a minute whatever the lock (--lock-seconds 3600 made a stop wait an hour)', () => {
      expect(stopWaitMs(1_000)).toBe(1_000);
      expect(stopWaitMs(30_000)).toBe(30_000);
      expect(stopWaitMs(3_600_000)).toBe(60_000);
      expect(STOP_WAIT_MAX_MS).toBe(60_000);
    });

    it.each([
      ['SIGTERM', 143],
      ['SIGINT', 130],
    ] as const)(
      "compress worker, by %s: one line, its closing line naming it as its first line and the coordinator do (hostname:pid:suffix, where it said its pid alone), exit %i (as every command stopped by a signal), where it exited 0, and at its closing line, ended with BullMQ's and ioredis's timers still pending, where it exited once they fired, 2-6 s after it (BullMQ's fetch left to its watchdog, ioredis's reconnection)",
      async (signal, status) => {
        const w = compress(['worker', '--queue', redis.url(), '--cache-dir', join(t.root, `cli-${signal}`)], { exitProbe: true });
        processes.push(w);
        await w.waitFor(/Ctrl-C to stop$/m);
        await redis.kill();
        await w.waitFor(/: ECONNREFUSED$/m);
        await new Promise((r) => setTimeout(r, 2_000));
        w.child.kill(signal);
        const exit = await within(w.exited, 60_000); // (its timers' 2-6 s, which leftAtExit tells apart below: no timing)
        expect(exit, w.output()).toEqual({ code: status, signal: null });
        // (ended by bin/compress.mjs once main returned, its libraries' timers pending; a process left to end of
        // itself ends only once they have fired, with nothing pending: no timing)
        expect(w.leftAtExit()).toContain('Timeout');
        // (its lines name it as the coordinator's lines and a failed point's error do: hostname:pid:suffix, its own)
        const name = /^worker (\S+:\d+:[0-9a-f]{6}) on /m.exec(w.output())?.[1];
        expect(name, w.output()).toBeDefined();
        expect(w.output()).toContain(
          `\nworker: stopping after the running points (Ctrl-C again to quit at once)\nworker ${name}: stopped after 0 points done here and 0 failed runs\n`,
        );
        expect(w.output().endsWith(`worker ${name}: stopped after 0 points done here and 0 failed runs\n`)).toBe(true);
      },
    );
  },
);
