/**
 * A point whose worker is lost in every run (SIGKILLed, out of memory, cut off from Redis) is failed by BullMQ's
 * stalled-job check with its own text, 'job stalled more than allowable limit'. The coordinator stores and says it in
 * this tool's words: what happened, and that a rerun of the coordinator queues the point again, which that rerun
 * does: afresh, its count of lost workers set back with its runs (a BullMQ retry keeps it). The lost workers
 * are played by a BullMQ worker of the test's that takes the job and never renews its lock (a stall limit of 0: the
 * first stall fails it, as the third does with the workers' limit).
 */
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { QUEUE_NAME, parseQueueUrl } from '../../src/queue/connection.ts';
import { runQueuedSweep } from '../../src/queue/coordinator.ts';
import { pointFiles } from '../../src/queue/files.ts';
import { jobOptions } from '../../src/queue/job.ts';
import { runQueueWorker, type WorkerEvent } from '../../src/queue/worker.ts';
import { sha256File } from '../../src/files.ts';
import { parseSweepFile } from '../../src/sweep/spec.ts';
import { planSweep, type SweepPoint } from '../../src/sweep/plan.ts';
import { pointName } from '../../src/sweep/progress.ts';
import { SweepStore } from '../../src/sweep/store.ts';
import { redisSkipReason } from './redis.ts';
import { stopOnceQueued, tinyQueue } from './tiny-queue.ts';

/** This file's database on a shared Redis. */
const DB = 11;

describe.skipIf(redisSkipReason !== null)(`a point whose worker is lost in every run${redisSkipReason ? ` (skipped: ${redisSkipReason})` : ''}`, () => {
  const q = tinyQueue(DB);
  let point: SweepPoint;
  beforeAll(async () => {
    const points = await planSweep(parseSweepFile(q.t.sweepFile), { glueDir: q.t.glueDir, workDir: join(q.t.root, 'out') });
    point = points.find((p) => p.label === 'heads-0.5')!;
  });
  /** The name of the lost worker (BullMQ's processedBy of the jobs it takes), as a worker's own (workerName). */
  const LOST = 'lost-machine:1:abcdef';
  /** A worker that takes a job and never renews its lock, whose first stall fails the job (a stall limit of 0). */
  const lostWorker = () =>
    new Worker(QUEUE_NAME, null, {
      connection: parseQueueUrl(q.redis.url(DB)).connection,
      autorun: false,
      lockDuration: 200,
      stalledInterval: 200,
      maxStalledCount: 0,
      name: LOST,
    });

  it("is stored as failed saying its worker was lost and that a rerun queues it again, not in BullMQ's words; the rerun queues it afresh", async () => {
    await q.queue.add('lost', { point, files: await pointFiles(point, sha256File) }, jobOptions(point.key, 10));
    const lost = lostWorker();
    const until = async (state: string) => {
      const deadline = Date.now() + 30_000;
      while ((await q.queue.getJobState(point.key)) !== state && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(await q.queue.getJobState(point.key)).toBe(state);
    };
    try {
      expect((await lost.getNextJob('lost-worker'))?.id).toBe(point.key);
      await lost.startStalledCheckTimer();
      // the stall check puts it back in the queue, its failure deferred to the next worker that takes it
      await until('waiting');
    } finally {
      await lost.close(true);
    }
    const next = new Worker(QUEUE_NAME, async () => 'never run', { connection: parseQueueUrl(q.redis.url(DB)).connection });
    try {
      await until('failed');
    } finally {
      await next.close();
    }
    expect((await q.queue.getJob(point.key))!.failedReason).toBe('job stalled more than allowable limit'); // BullMQ's words

    const store = join(q.t.root, 'lost.sqlite');
    const summary = await runQueuedSweep({ file: q.t.sweepFile, store, queue: q.redis.url(DB), follow: true });
    const said =
      "its worker was lost while running it 3 times (killed, out of memory, or cut off from Redis; BullMQ: 'job stalled more than allowable limit'): a rerun of the coordinator (the same command, without --follow) queues it again";
    expect(summary.failed.map((f) => [f.point.key, f.error])).toEqual([[point.key, said]]);
    const s = SweepStore.open(store, { readonly: true });
    try {
      expect(s.failures().map((f) => f.error)).toEqual([said]);
    } finally {
      s.close();
    }

    // The rerun it names (stopped once it has queued the points) queues it again: waiting, with the runs BullMQ counts
    // (its stalls among them) set back, so that it gets its 3 runs again
    await runQueuedSweep({ file: q.t.sweepFile, store, queue: q.redis.url(DB), ...stopOnceQueued() });
    const again = (await q.queue.getJob(point.key))!;
    expect(await again.getState()).toBe('waiting');
    expect([again.attemptsMade, again.stalledCounter, again.failedReason ?? null]).toEqual([0, 0, null]);
  }, 120_000);

  it('is said failed, not queued again, by the coordinator at its last stall, and by the worker that fails it', async () => {
    await q.queue.obliterate({ force: true });
    await q.queue.add('lost', { point, files: await pointFiles(point, sha256File) }, jobOptions(point.key, 10));
    const lost = lostWorker(); // (its stall is the last one allowed)
    const lines: string[] = [];
    // (the coordinator says a point started once it has looked at the job running, and at the worker that holds it)
    let seenRunning: () => void = () => {};
    const seen = new Promise<void>((res) => (seenRunning = res));
    let coordinator: Promise<unknown> | undefined;
    try {
      expect((await lost.getNextJob('lost-worker'))?.id).toBe(point.key);
      coordinator = runQueuedSweep({
        file: q.t.sweepFile,
        store: join(q.t.root, 'last-stall.sqlite'),
        queue: q.redis.url(DB),
        follow: true,
        onEvent: (e) => {
          if (e.type === 'start') seenRunning();
          if (e.type === 'log') lines.push(e.line);
        },
      });
      await seen;
      await lost.startStalledCheckTimer();
      const deadline = Date.now() + 30_000;
      while (!lines.some((l) => l.includes('stopped renewing the lock')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await lost.close(true);
    }
    const stop = new AbortController();
    const events: WorkerEvent[] = [];
    const running = runQueueWorker({
      queue: q.redis.url(DB),
      cacheDir: join(q.t.root, 'worker'),
      signal: stop.signal,
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'failed') stop.abort();
      },
    });
    await coordinator; // done once it has collected the failed point
    stop.abort();
    const summary = await running;
    const said =
      "its worker was lost while running it 3 times (killed, out of memory, or cut off from Redis; BullMQ: 'job stalled more than allowable limit'): a rerun of the coordinator (the same command, without --follow) queues it again";
    expect(lines.filter((l) => l.includes('stopped renewing the lock'))).toEqual([
      `${pointName(point)}: its worker ${LOST} stopped renewing the lock (killed, or cut off): failed, ${said}`,
    ]);
    expect(events.filter((e) => e.type === 'failed').map((e) => [(e as { point: SweepPoint }).point.key, (e as { error: string }).error])).toEqual([
      [point.key, said],
    ]);
    expect(events.filter((e) => e.type === 'failed').map((e) => (e as { attempt: number }).attempt)).toEqual([1]); // its one lost run
    expect(events.some((e) => e.type === 'start')).toBe(false); // never run: failed as BullMQ hands it over
    expect(summary).toEqual({ ran: 0, failed: 1 });
  }, 120_000);

  it("names the worker that held it at its stall where the coordinator missed that worker's taking it (its 'active' event lost, or its look failed), where it named the worker of the stall before", async () => {
    await q.queue.obliterate({ force: true });
    await q.queue.add('lost', { point, files: await pointFiles(point, sha256File) }, jobOptions(point.key, 10));
    /** A worker that takes the job and never renews its lock; its stall checks allow 2 stalls (the job is queued again). */
    const taker = (name: string) =>
      new Worker(QUEUE_NAME, null, {
        connection: parseQueueUrl(q.redis.url(DB)).connection,
        autorun: false,
        lockDuration: 200,
        stalledInterval: 200,
        maxStalledCount: 2,
        name,
      });
    const redis = new Redis(q.redis.url(DB));
    const lines: string[] = [];
    const stop = new AbortController();
    let seenRunning: () => void = () => {};
    const seen = new Promise<void>((res) => (seenRunning = res));
    const waitLine = async (count: number) => {
      const deadline = Date.now() + 30_000;
      while (lines.filter((l) => l.includes('stopped renewing the lock')).length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    };
    const first = taker('first-machine:1:aaaaaa');
    const second = taker('second-machine:2:bbbbbb');
    // the holders the coordinator's looks find (each look at a point found active gets its job, naming its holder)
    const lookedUp: string[] = [];
    const getJob = Queue.prototype.getJob;
    const looks = vi.spyOn(Queue.prototype, 'getJob').mockImplementation(async function (this: Queue, ...args) {
      const job = await getJob.apply(this, args);
      if (args[0] === point.key) lookedUp.push(job?.processedBy ?? '');
      return job;
    });
    let coordinator: Promise<unknown> | undefined;
    try {
      expect((await first.getNextJob('first'))?.id).toBe(point.key);
      coordinator = runQueuedSweep({
        file: q.t.sweepFile,
        store: join(q.t.root, 'missed-take.sqlite'),
        queue: q.redis.url(DB),
        follow: true,
        rescanMs: 200,
        signal: stop.signal,
        onEvent: (e) => {
          if (e.type === 'start') seenRunning();
          if (e.type === 'log') lines.push(e.line);
        },
      });
      await seen;
      await first.startStalledCheckTimer();
      await waitLine(1);
      await first.close(true);
      // the coordinator's queue events cut off (ioredis reconnects a second later) while the second worker takes the
      // point, and the events of that time gone from the stream (trimmed, as a long outage of a large sweep trims them)
      const list = (await redis.client('LIST')) as string;
      const reader = list.split('\n').find((l) => / db=11 /.test(l) && / cmd=xread\b/.test(l));
      expect(reader, list).toBeDefined();
      await redis.client('KILL', 'ID', /\bid=(\d+)/.exec(reader!)![1]!);
      expect((await second.getNextJob('second'))?.id).toBe(point.key);
      await redis.xtrim(q.queue.keys.events, 'MAXLEN', 0);
      // (the coordinator's looks, every 200 ms, find it running: waited for, where 2 s were slept, which a loaded
      // machine's looks could take; one that does not look its holder up is judged by the stall's line below)
      const deadline = Date.now() + 30_000;
      while (!lookedUp.includes('second-machine:2:bbbbbb') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      await second.startStalledCheckTimer();
      await waitLine(2);
    } finally {
      stop.abort();
      await Promise.all([first.close(true), second.close(true)]);
      await coordinator;
      redis.disconnect();
      looks.mockRestore();
    }
    expect(lines.filter((l) => l.includes('stopped renewing the lock'))).toEqual([
      `${pointName(point)}: its worker first-machine:1:aaaaaa stopped renewing the lock (killed, or cut off): queued again for another worker`,
      `${pointName(point)}: its worker second-machine:2:bbbbbb stopped renewing the lock (killed, or cut off): queued again for another worker`,
    ]);
  }, 120_000);
});
