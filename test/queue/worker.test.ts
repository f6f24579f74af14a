/**
 * A worker refuses a point queued by other code (another bert-compress, or another version of one of its passes):
 * its result would not be the one its key names. The point goes back to the queue for a worker of the coordinator's
 * code, its runs not counted; a worker that gives back 3 points in a row stops.
 */
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { UnrecoverableError, Worker } from 'bullmq';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { pointFiles, type FileTree } from '../../src/queue/files.ts';
import { QUEUE_NAME, parseQueueUrl } from '../../src/queue/connection.ts';
import { runQueuedSweep } from '../../src/queue/coordinator.ts';
import { QueueError } from '../../src/errors.ts';
import { GIVE_BACKS_PER_POINT, jobOptions } from '../../src/queue/job.ts';
import { GIVE_BACKS_TO_STOP, WAITING_RETAKE_MS, connectedWorkerNames, runQueueWorker, type WorkerEvent, type WorkerSummary } from '../../src/queue/worker.ts';
import { sha256File } from '../../src/files.ts';
import { findBert } from '../../src/bert/discover.ts';
import { loadModel, readFloat32, saveModel } from '../../src/onnx/index.ts';
import { float32Tensor } from '../../src/onnx/tensor.ts';
import { parseSweepFile } from '../../src/sweep/spec.ts';
import { planSweep, type SweepPoint } from '../../src/sweep/plan.ts';
import { SweepStore } from '../../src/sweep/store.ts';
import { codeFingerprint, toolVersion } from '../../src/version.ts';
import { ownRedis, ownRedisSkipReason, redisSkipReason } from './redis.ts';
import { stopOnceQueued, tinyQueue } from './tiny-queue.ts';
import { tinyBert } from '../helpers/models.ts';
import { writeQuickSweep, writeXlmModel } from '../sweep/tiny-sweep.ts';

/** `text` as a regular expression matching it alone. */
const escaped = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The name of a worker run by this process (workerName): its hostname, its pid and a random suffix. */
const ownName = new RegExp(`^${escaped(hostname())}:${process.pid}:[0-9a-f]{6}$`);

/** This file's database on a shared Redis. */
const DB = 2;

/** While set, a worker process cannot be started (as with EAGAIN: here ENOENT, from a node binary that is not there). */
const unstartable = vi.hoisted(() => ({ on: false }));
vi.mock('node:child_process', async (original) => {
  const cp = await original<typeof import('node:child_process')>();
  const fork = ((path: string, args: readonly string[], options: import('node:child_process').ForkOptions) =>
    cp.fork(path, args, unstartable.on ? { ...options, execPath: '/nonexistent/node' } : options)) as typeof cp.fork;
  return { ...cp, default: { ...cp, fork }, fork };
});

describe.skipIf(redisSkipReason !== null)(`compress worker${redisSkipReason ? ` (skipped: ${redisSkipReason})` : ''}`, () => {
  const q = tinyQueue(DB);
  let point: SweepPoint;
  // (each test leaves no point to run: one that fails may leave points queued, which the next test's worker would take
  // first, failing that test too: the queue is emptied after each; a test that passes but left points to run fails
  // itself, the fault the next test caught before)
  afterEach(async ({ task }) => {
    const left = await q.queue.getJobCounts('waiting', 'delayed', 'prioritized', 'active', 'waiting-children');
    await q.queue.obliterate({ force: true });
    if (task.result?.state !== 'fail') expect(Object.entries(left).filter(([, n]) => n > 0)).toEqual([]);
  });
  beforeAll(async () => {
    const points = await planSweep(parseSweepFile(q.t.sweepFile), { glueDir: q.t.glueDir, workDir: join(q.t.root, 'out') });
    point = points.find((p) => p.label === 'heads-0.5')!;
  });

  it("gives back a point queued by newer code, saying which, without counting its runs, and stops after giving back 3 in a row, where such workers used up the point's 3 runs", async () => {
    const other: SweepPoint = { ...point, versions: { tool: '99.0.0', passes: { ...point.versions.passes } } };
    await q.queue.add('other', { point: other, files: await pointFiles(other, sha256File) }, jobOptions(other.key, 10));
    const events: WorkerEvent[] = [];
    const why = `queued by other code than this worker's (bert-compress 99.0.0 → ${toolVersion()}): run workers of the coordinator's version`;
    await expect(
      runQueueWorker({ queue: q.redis.url(DB), cacheDir: join(q.t.root, 'worker'), signal: AbortSignal.timeout(60_000), onEvent: (e) => events.push(e) }),
    ).rejects.toThrow(
      `this worker stopped after giving back ${GIVE_BACKS_TO_STOP} points in a row that it cannot run (the last: ${why}); their runs are not counted: mend this machine and start the worker again`,
    );
    const job = (await q.queue.getJob(other.key))!;
    expect(await job.getState()).toBe('delayed'); // (back in the queue, for a worker of the coordinator's code)
    expect(job.attemptsMade).toBe(0);
    expect(events.filter((e) => e.type === 'given-back').map((e) => (e as { error: string }).error)).toEqual(Array(GIVE_BACKS_TO_STOP).fill(why));
    expect(events.filter((e) => e.type === 'start').map((e) => (e as { attempt: number }).attempt)).toEqual([1, 1, 1]);
    expect(events.some((e) => e.type === 'failed')).toBe(false);
    await job.remove();
  }, 120_000);

  it("does not stop for points queued by older code (an older coordinator's, ahead of the current ones during an upgrade), which fail once given back 5 times, where a healthy worker stopped after 3 in a row", async () => {
    const older = ['0.0.9', '0.1.0-rc.1', '0.0.1'].map(
      (tool, i): SweepPoint => ({ ...point, key: `${point.key}-old${i}`, versions: { ...point.versions, tool } }),
    );
    for (const p of older) await q.queue.add('old', { point: p, files: await pointFiles(p, sha256File) }, jobOptions(p.key, 10));
    const events: WorkerEvent[] = [];
    const stop = new AbortController();
    // (a worker that stopped would throw here; this one goes on, for the current points behind them, until aborted)
    const summary = await runQueueWorker({
      queue: q.redis.url(DB),
      cacheDir: join(q.t.root, 'worker'),
      signal: stop.signal,
      onEvent: (e) => {
        events.push(e);
        if (events.filter((x) => x.type === 'failed').length === older.length) stop.abort();
      },
    });
    expect(summary).toEqual({ ran: 0, failed: older.length });
    expect(events.filter((e) => e.type === 'given-back')).toHaveLength(older.length * (GIVE_BACKS_PER_POINT - 1));
    for (const p of older) {
      const job = (await q.queue.getJob(p.key))!;
      expect([await job.getState(), job.failedReason.split(' (the last: ')[0]]).toEqual([
        'failed',
        `given back by the workers that took it ${GIVE_BACKS_PER_POINT} times, none of which could run it`,
      ]);
      await job.remove();
    }
  }, 60_000);

  it("gives back a point whose files this worker does not have, without counting its runs, where a worker without the data failed the points' runs", async () => {
    const missing: SweepPoint = { ...point, key: `${point.key}-missing` };
    const files: FileTree[] = [{ root: join(q.t.root, 'elsewhere'), files: [{ path: 'model.onnx', sha256: 'a'.repeat(64), bytes: 1 }] }];
    await q.queue.add('missing', { point: missing, files }, jobOptions(missing.key, 10));
    const events: WorkerEvent[] = [];
    await expect(
      runQueueWorker({ queue: q.redis.url(DB), cacheDir: join(q.t.root, 'worker'), signal: AbortSignal.timeout(60_000), onEvent: (e) => events.push(e) }),
    ).rejects.toThrow(
      /^this worker stopped after giving back 3 points in a row that it cannot run \(the last: \S+\/elsewhere\/model\.onnx: not found on this worker; share /,
    );
    const job = (await q.queue.getJob(missing.key))!;
    expect([await job.getState(), job.attemptsMade]).toEqual(['delayed', 0]);
    expect(events.filter((e) => e.type === 'given-back')).toHaveLength(GIVE_BACKS_TO_STOP);
    expect(events.some((e) => e.type === 'failed')).toBe(false);
    await job.remove();
  }, 120_000);

  it('fails a point given back 5 times (its file gone for every worker) with the last reason, where it was given back for ever and every worker stopped', async () => {
    const gone: SweepPoint = { ...point, key: `${point.key}-gone` };
    const files: FileTree[] = [{ root: join(q.t.root, 'deleted'), files: [{ path: 'model.onnx', sha256: 'a'.repeat(64), bytes: 1 }] }];
    await q.queue.add('gone', { point: gone, files }, jobOptions(gone.key, 10));
    const cacheDir = join(q.t.root, 'worker');
    // the first worker gives it back 3 times in a row and stops; the second gives it back once more, then fails it
    await expect(runQueueWorker({ queue: q.redis.url(DB), cacheDir, signal: AbortSignal.timeout(60_000) })).rejects.toThrow(/^this worker stopped after/);
    expect((await q.queue.getJob(gone.key))!.data.giveBacks).toBe(GIVE_BACKS_TO_STOP);
    const events: WorkerEvent[] = [];
    const stop = new AbortController();
    const summary = await runQueueWorker({
      queue: q.redis.url(DB),
      cacheDir,
      signal: stop.signal,
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'failed') stop.abort();
      },
    });
    expect(summary).toEqual({ ran: 0, failed: 1 });
    expect(events.filter((e) => e.type === 'given-back')).toHaveLength(GIVE_BACKS_PER_POINT - GIVE_BACKS_TO_STOP - 1);
    const job = (await q.queue.getJob(gone.key))!;
    expect([await job.getState(), job.attemptsMade]).toEqual(['failed', 1]);
    const why = `given back by the workers that took it ${GIVE_BACKS_PER_POINT} times, none of which could run it (the last: ${join(q.t.root, 'deleted', 'model.onnx')}: not found on this worker; share `;
    expect(job.failedReason.startsWith(why)).toBe(true);
    expect(job.failedReason).toMatch(/; a rerun of the coordinator \(the same command, without --follow\) queues it again$/);
    expect(events.filter((e) => e.type === 'failed').map((e) => (e as { error: string }).error)).toEqual([job.failedReason]);
    await job.remove();
  }, 120_000);

  it('gives back a point asking more memory than this machine has before running it, without stopping for it, and runs the points that fit; it does not run it again, and fails it naming the memory once taken 5 times with no other worker connected, where it was compressed and evaluated, then failed at its benchmark 3 times', async () => {
    // (a bench shape a queued plan leaves to the workers' memory, as a local plan refuses it on this machine)
    const large = [0, 1, 2].map((i): SweepPoint => ({ ...point, key: `${point.key}-large${i}`, bench: { ...point.bench, batch: [2 ** 29] } }));
    const fits: SweepPoint = { ...point, key: `${point.key}-fits` };
    for (const p of [...large, fits]) await q.queue.add('memory', { point: p, files: await pointFiles(p, sha256File) }, jobOptions(p.key, 10));
    const events: WorkerEvent[] = [];
    const stop = new AbortController();
    // (a worker that stopped would throw here: this one, which runs the points that fit, goes on until aborted)
    const summary = await runQueueWorker({
      queue: q.redis.url(DB),
      cacheDir: join(q.t.root, 'worker'),
      workDir: join(q.t.root, 'worker-models'),
      signal: stop.signal,
      onEvent: (e) => {
        events.push(e);
        if (events.filter((x) => x.type === 'failed').length >= large.length && events.some((x) => x.type === 'finished')) stop.abort();
      },
    });
    expect(summary).toEqual({ ran: 1, failed: large.length });
    const memory =
      /^bench\.batch 536870912 bench\.seq 8: one activation of \S+model\.onnx would take [\d.,]+ GB, more than this machine's [\d.,]+ GB of memory; give a smaller bench\.batch or bench\.seq$/;
    const backs = events.filter((e) => e.type === 'given-back') as Extract<WorkerEvent, { type: 'given-back' }>[];
    expect(backs.map((b) => b.point.key)).toEqual(expect.arrayContaining(large.map((p) => p.key)));
    expect(backs).toHaveLength(large.length);
    for (const b of backs) expect(b.error).toMatch(memory);
    // (each started once: taken again, it is left in the queue unrun)
    expect(events.filter((e) => e.type === 'start' && e.point.key !== fits.key)).toHaveLength(large.length);
    // (refused before any stage: nothing compressed, evaluated or timed)
    expect(events.some((e) => e.type === 'log' && e.point !== undefined && e.point.key !== fits.key)).toBe(false);
    for (const p of large) {
      const job = (await q.queue.getJob(p.key))!;
      expect([await job.getState(), job.attemptsMade, job.data.tooLarge?.workers]).toEqual(['failed', 1, [expect.stringMatching(ownName)]]);
      const [head, last] = job.failedReason.split(' (the last: ');
      expect(head).toBe('no worker connected to the queue has memory enough for it: 1 worker gave it back');
      expect(
        last!.replace(/\); a rerun of the coordinator \(the same command, without --follow\) queues it again, for a worker with more memory$/, ''),
      ).toMatch(memory);
      await job.remove();
    }
    const done = (await q.queue.getJob(fits.key))!;
    expect(await done.getState()).toBe('completed');
    await done.remove();
  }, 120_000);

  /**
   * Queues a point too large for this machine's memory and runs a worker here beside `larger`, a worker of another
   * name connected to the queue and not taking points (a larger machine's, busy), until `then` (called once the point
   * was taken here more than GIVE_BACKS_PER_POINT times, or failed) has settled and the point has failed or completed.
   */
  const besideLarger = async (key: string, then: (larger: Worker) => Promise<void>, retryDelayMs = 10) => {
    const big: SweepPoint = { ...point, key: `${point.key}-${key}`, bench: { ...point.bench, batch: [2 ** 29] } };
    await q.queue.add('memory', { point: big, files: await pointFiles(big, sha256File) }, jobOptions(big.key, retryDelayMs));
    const ranThere: string[] = [];
    const larger = new Worker(
      QUEUE_NAME,
      async (job) => {
        ranThere.push(job.id!);
        return {};
      },
      { connection: parseQueueUrl(q.redis.url(DB)).connection, autorun: false, name: 'larger-machine:1' },
    );
    await larger.waitUntilReady();
    const events: WorkerEvent[] = [];
    const stop = new AbortController();
    const worker = runQueueWorker({ queue: q.redis.url(DB), cacheDir: join(q.t.root, 'worker'), signal: stop.signal, onEvent: (e) => events.push(e) });
    try {
      let job = (await q.queue.getJob(big.key))!;
      const deadline = Date.now() + 60_000;
      while ((job.data.tooLarge?.retakes ?? 0) < GIVE_BACKS_PER_POINT && !(await job.isFailed()) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
        job = (await q.queue.getJob(big.key))!;
      }
      const waited = await job.getState();
      await then(larger);
      while (!['failed', 'completed'].includes(await job.getState()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      job = (await q.queue.getJob(big.key))!;
      return { job, waited, events, ranThere, state: await job.getState() };
    } finally {
      stop.abort();
      await worker;
      await larger.close(true);
    }
  };

  it('leaves a point it gave back for memory in the queue, unrun, while a worker it has not been given back by is connected (a larger one, busy), which then runs it, where the small worker failed it once it had taken it 5 times', async () => {
    const r = await besideLarger('larger', async (larger) => void larger.run());
    expect(r.waited).not.toBe('failed');
    expect([r.state, r.ranThere]).toEqual(['completed', [r.job.id]]);
    expect(r.events.filter((e) => e.type === 'start')).toHaveLength(1);
    expect(r.events.filter((e) => e.type === 'given-back')).toHaveLength(1);
    expect(r.events.some((e) => e.type === 'failed')).toBe(false);
    await r.job.remove();
  }, 120_000);

  it('takes a point it left for a larger worker again no more than once a second, whatever the retry delay (--retry-delay 0 retook it thousands of times a second while the larger one was busy)', async () => {
    let during = 0;
    let watchedMs = 0;
    const r = await besideLarger(
      'retry-0',
      async (larger) => {
        const retakes = async () => (await q.queue.getJob(`${point.key}-retry-0`))!.data.tooLarge!.retakes;
        const before = await retakes();
        const from = Date.now();
        await new Promise((res) => setTimeout(res, 2500));
        during = (await retakes()) - before;
        // (the time watched, which a loaded machine makes longer than the 2.5 s asked)
        watchedMs = Date.now() - from;
        await larger.close(true);
      },
      0,
    );
    expect(r.waited).not.toBe('failed');
    // (at most one retake a WAITING_RETAKE_MS in the time watched, and one under way as it began)
    expect(during, `${during} retakes in ${watchedMs} ms`).toBeLessThanOrEqual(Math.ceil(watchedMs / WAITING_RETAKE_MS) + 1);
    expect(r.state).toBe('failed');
    await r.job.remove();
  }, 120_000);

  it('fails a point it gave back for memory once the other worker connected has gone, having never taken it', async () => {
    const r = await besideLarger('gone', (larger) => larger.close(true));
    expect(r.waited).not.toBe('failed');
    expect(r.state).toBe('failed');
    expect(r.ranThere).toEqual([]);
    expect(r.job.failedReason).toMatch(/^no worker connected to the queue has memory enough for it: 1 worker gave it back \(the last: bench\.batch 536870912 /);
    expect(r.events.filter((e) => e.type === 'failed').map((e) => (e as { error: string }).error)).toEqual([r.job.failedReason]);
    await r.job.remove();
  }, 120_000);

  it("counts apart each worker that gave a point back for memory, though two share a hostname and a process id (pid 1 in two containers; here two workers in one process), where the second took the first's refusal for its own, left the point unrun, and failed it as given back by 1 worker", async () => {
    const big: SweepPoint = { ...point, key: `${point.key}-same-pid`, bench: { ...point.bench, batch: [2 ** 29] } };
    const stop = new AbortController();
    const events: WorkerEvent[][] = [[], []];
    const names: string[] = [];
    let ready: () => void = () => {};
    const bothReady = new Promise<void>((res) => (ready = res));
    const workers = events.map((list, i) =>
      runQueueWorker({
        queue: q.redis.url(DB),
        cacheDir: join(q.t.root, `same-pid-${i}`),
        signal: stop.signal,
        onEvent: (e) => {
          list.push(e);
          if (e.type === 'ready' && names.push(e.name) === 2) ready();
        },
      }),
    );
    try {
      await bothReady;
      await q.queue.add('memory', { point: big, files: await pointFiles(big, sha256File) }, jobOptions(big.key, 10));
      let job = (await q.queue.getJob(big.key))!;
      const deadline = Date.now() + 60_000;
      while (!(await job.isFailed()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      job = (await q.queue.getJob(big.key))!;
      expect(job.failedReason).toMatch(
        /^no worker connected to the queue has memory enough for it: 2 workers gave it back \(the one with the most memory: bench\.batch 536870912 /,
      );
      // (each tried it once and refused it once — given back, or, where its refusal was the last the point needed,
      // failed; which one depends on how often the first retook it before the second took it —; taken again, it was
      // left unrun)
      for (const list of events) {
        expect(list.filter((e) => e.type === 'start')).toHaveLength(1);
        expect(list.filter((e) => e.type === 'given-back').length).toBeLessThanOrEqual(1);
      }
      expect(events.flat().filter((e) => e.type === 'failed')).toHaveLength(1);
      expect(names[0]).not.toBe(names[1]);
      for (const name of names) expect(name).toMatch(ownName);
      await job.remove();
    } finally {
      stop.abort();
      await Promise.all(workers);
    }
  }, 120_000);

  it("fails a point too large for every worker connected naming the refusal of the worker with the most memory, where it named the last refusal (a smaller machine's), and counting apart the workers no longer connected, where '2 workers gave it back' counted the gone one as connected", async () => {
    const big: SweepPoint = { ...point, key: `${point.key}-largest`, bench: { ...point.bench, batch: [2 ** 29] } };
    // (a worker of twice this machine's memory refused it before, and has gone; the point's give-backs all but used up)
    const larger = { workers: ['larger-machine:1:abcdef'], error: "the larger machine's refusal", memory: 2 * totalmem(), retakes: 0 };
    const files = await pointFiles(big, sha256File);
    await q.queue.add('memory', { point: big, files, giveBacks: GIVE_BACKS_PER_POINT - 1, tooLarge: larger }, jobOptions(big.key, 10));
    const stop = new AbortController();
    const events: WorkerEvent[] = [];
    const worker = runQueueWorker({
      queue: q.redis.url(DB),
      cacheDir: join(q.t.root, 'worker'),
      signal: stop.signal,
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'failed') stop.abort();
      },
    });
    try {
      await worker;
      const job = (await q.queue.getJob(big.key))!;
      expect(await job.getState()).toBe('failed');
      expect(job.failedReason).toBe(
        "no worker connected to the queue has memory enough for it: 1 worker gave it back, as did 1 worker no longer connected (the one with the most memory: the larger machine's refusal); a rerun of the coordinator (the same command, without --follow) queues it again, for a worker with more memory",
      );
      expect(events.filter((e) => e.type === 'start')).toHaveLength(1);
      await job.remove();
    } finally {
      stop.abort();
      await worker;
    }
  }, 120_000);

  it("gives back a point for which it cannot start a worker process, without counting its runs, where such a worker used up the point's runs", async () => {
    const unrun: SweepPoint = { ...point, key: `${point.key}-unstarted` };
    await q.queue.add('unstarted', { point: unrun, files: await pointFiles(unrun, sha256File) }, jobOptions(unrun.key, 10));
    const events: WorkerEvent[] = [];
    const why = 'cannot start a worker process: spawn /nonexistent/node ENOENT';
    unstartable.on = true;
    try {
      await expect(
        runQueueWorker({ queue: q.redis.url(DB), cacheDir: join(q.t.root, 'worker'), signal: AbortSignal.timeout(60_000), onEvent: (e) => events.push(e) }),
      ).rejects.toThrow(
        `this worker stopped after giving back ${GIVE_BACKS_TO_STOP} points in a row that it cannot run (the last: ${why}); their runs are not counted: mend this machine and start the worker again`,
      );
    } finally {
      unstartable.on = false;
    }
    const job = (await q.queue.getJob(unrun.key))!;
    expect([await job.getState(), job.attemptsMade]).toEqual(['delayed', 0]);
    expect(events.filter((e) => e.type === 'given-back').map((e) => (e as { error: string }).error)).toEqual(Array(GIVE_BACKS_TO_STOP).fill(why));
    expect(events.some((e) => e.type === 'failed')).toBe(false);
    await job.remove();
  }, 120_000);

  it('gives back a point whose coordinator then says so, naming the worker and why, where it said nothing', async () => {
    const file = writeQuickSweep(q.t.root, 'given-back', 'models: [{path: models/tiny-sst2, tasks: [SST-2]}]\ncalibration: false\npipelines: [baseline]\n');
    const why = 'cannot start a worker process: spawn /nonexistent/node ENOENT';
    const said = new RegExp(
      `^tiny-sst2 · baseline: worker ${ownName.source.slice(1, -1)} gave it back \\(${escaped(why)}\\); queued again for another worker, its run not counted$`,
    );
    const stop = new AbortController();
    const lines: string[] = [];
    let worker: Promise<unknown> | undefined;
    const store = join(q.t.root, 'given-back.sqlite');
    try {
      await runQueuedSweep({
        file,
        store,
        queue: q.redis.url(DB),
        retryDelayMs: 10,
        signal: AbortSignal.any([stop.signal, AbortSignal.timeout(60_000)]),
        onEvent: (e) => {
          if (e.type !== 'log') return;
          lines.push(e.line);
          if (e.line.startsWith('queued 1 point')) {
            // (a worker that cannot start a worker process gives the point back 3 times, then stops)
            unstartable.on = true;
            worker = runQueueWorker({ queue: q.redis.url(DB), cacheDir: join(q.t.root, 'worker'), signal: AbortSignal.timeout(60_000) }).catch(
              (x: unknown) => x,
            );
          }
          if (lines.filter((l) => said.test(l)).length === GIVE_BACKS_TO_STOP) stop.abort();
        },
      });
      expect(await worker).toBeInstanceOf(QueueError);
    } finally {
      unstartable.on = false;
      await q.queue.obliterate({ force: true });
    }
    const backs = lines.filter((l) => l.includes('gave it back'));
    expect(backs).toHaveLength(GIVE_BACKS_TO_STOP);
    for (const l of backs) expect(l).toMatch(said);
    expect(new Set(backs).size).toBe(1); // (one worker, one name)
  }, 120_000);

  /** The error of the first run of `queued` (with `files`) by a worker here: its failure's, or why it gave it back. */
  const firstRunError = async (queued: SweepPoint, files: FileTree[]): Promise<string> => {
    await q.queue.add('other', { point: queued, files }, jobOptions(queued.key, 10));
    const stop = new AbortController();
    let error = '';
    await runQueueWorker({
      queue: q.redis.url(DB),
      cacheDir: join(q.t.root, 'worker'),
      signal: stop.signal,
      onEvent: (e) => {
        if (e.type === 'finished') stop.abort();
        if (e.type === 'failed' || e.type === 'given-back') (error = e.error), stop.abort();
      },
    });
    await (await q.queue.getJob(queued.key))?.remove();
    return error;
  };

  it("refuses a point queued by other code before looking for its files, which that code's coordinator may list differently", async () => {
    const other: SweepPoint = { ...point, key: `${point.key}-v1`, versions: { tool: point.versions.tool, passes: { 'prune-heads': 1 } } };
    // (a folder this machine does not have, without --path-map: a worker of the same code would fail on it)
    const files: FileTree[] = [{ root: join(q.t.root, 'elsewhere'), files: [{ path: 'model.onnx', sha256: 'a'.repeat(64), bytes: 1 }] }];
    expect(await firstRunError(other, files)).toBe(
      `queued by other code than this worker's (prune-heads v1 → v${point.versions.passes['prune-heads']}): run workers of the coordinator's version`,
    );
  }, 60_000);

  it('refuses a point with a step this code does not have (a pass added since) as queued by other code, naming the step', async () => {
    const other: SweepPoint = {
      ...point,
      key: `${point.key}-future`,
      steps: [...point.steps, { pass: 'prune-future', settings: {} }],
      versions: { ...point.versions, passes: { ...point.versions.passes, 'prune-future': 1 } },
    };
    expect(await firstRunError(other, await pointFiles(point, sha256File))).toBe(
      "queued by other code than this worker's (prune-future v1 → not in this code): run workers of the coordinator's version",
    );
  }, 60_000);

  it("says once per run that a point's lock expired, which BullMQ repeats at each renewal", async () => {
    // its files fetched from a server that answers 404 after 1.5 s, past several renewals of a 1-s lock (every 250 ms)
    const server = createServer((_req, res) => void setTimeout(() => res.writeHead(404).end(), 1500));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const redis = new Redis(q.redis.url(DB));
    const lost: SweepPoint = { ...point, key: `${point.key}-lost` };
    const files: FileTree[] = [{ root: '/elsewhere/models', files: [{ path: 'model.onnx', sha256: 'a'.repeat(64), bytes: 1 }] }];
    await q.queue.add('lost', { point: lost, files }, jobOptions(lost.key, 10));
    const stop = new AbortController();
    const lines: string[] = [];
    try {
      await runQueueWorker({
        queue: q.redis.url(DB),
        cacheDir: join(q.t.root, 'worker'),
        pathMap: [{ from: '/elsewhere', to: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }],
        lockMs: 1000,
        signal: stop.signal,
        onEvent: (e) => {
          // its lock gone as the point starts, as when Redis let it expire while the worker was paused
          if (e.type === 'start') void redis.del(`bull:${QUEUE_NAME}:${lost.key}:lock`);
          if (e.type !== 'log') return;
          lines.push(e.line);
          if (e.line.includes('refused its result')) stop.abort(); // (its failure, after the fetch)
        },
      });
    } finally {
      redis.disconnect();
      server.close();
    }
    await (await q.queue.getJob(lost.key))?.remove();
    const tag = `point ${lost.key.slice(0, 12)}: `;
    expect(lines.filter((l) => l.startsWith(tag)).map((l) => l.slice(tag.length).split(' (')[0])).toEqual([
      'its lock expired before this worker renewed it',
      'the queue refused its result',
    ]);
  }, 60_000);

  it("names the worker a point's run failed on, and where its copy of the code is not the coordinator's, says so and what to do, where a stale copy's failures said neither", async () => {
    /** The failure the queue stores of a run of the point queued by a coordinator of `code` (its model not the file it hashed). */
    const failure = async (key: string, code: string): Promise<string> => {
      const queued: SweepPoint = { ...point, key: `${point.key}-${key}` };
      const files = (await pointFiles(queued, sha256File)).map((t) => ({ ...t, files: t.files.map((f) => ({ ...f, sha256: 'a'.repeat(64) })) }));
      await q.queue.add('failing', { point: queued, files, code }, jobOptions(queued.key, 60_000));
      const stop = new AbortController();
      await runQueueWorker({
        queue: q.redis.url(DB),
        cacheDir: join(q.t.root, 'worker'),
        signal: stop.signal,
        onEvent: (e) => (e.type === 'failed' ? stop.abort() : undefined),
      });
      const job = (await q.queue.getJob(queued.key))!;
      await job.remove();
      return job.failedReason;
    };
    const same = await failure('same-copy', codeFingerprint()!);
    expect(same).toMatch(new RegExp(`^worker ${ownName.source.slice(1, -1)}: \\S+: (?!.*copy)`));
    // (each worker its own name: the same failure but for it)
    const unnamed = (f: string) => f.replace(/^worker \S+: /, 'worker NAME: ');
    expect(unnamed(await failure('other-copy', 'b'.repeat(64)))).toBe(
      `${unnamed(same)} (this worker's copy of bert-compress differs from the coordinator's, though their versions are the same: give this machine the coordinator's copy and start the worker again)`,
    );
  }, 60_000);

  it('takes points with a lock of a fraction of a millisecond (--lock-seconds 1.005: 1004.9999999999999 ms), rounded, where Redis refused every lock and stalled check of it', async () => {
    const odd: SweepPoint = { ...point, key: `${point.key}-odd-lock` };
    // (its files hash otherwise: the run fails at once, having started)
    const files = (await pointFiles(odd, sha256File)).map((t) => ({ ...t, files: t.files.map((f) => ({ ...f, sha256: 'a'.repeat(64) })) }));
    await q.queue.add('odd-lock', { point: odd, files }, jobOptions(odd.key, 60_000));
    const stop = new AbortController();
    const events: WorkerEvent[] = [];
    await runQueueWorker({
      queue: q.redis.url(DB),
      cacheDir: join(q.t.root, 'worker'),
      lockMs: 1.005 * 1000,
      signal: stop.signal,
      onEvent: (e) => {
        events.push(e);
        // (its first run's end, or Redis's refusal of the lock or the stalled check, said as a line of the queue's)
        if (e.type === 'failed' || (e.type === 'log' && e.line.includes('ERR'))) stop.abort();
      },
    });
    await (await q.queue.getJob(odd.key))?.remove();
    expect(events.filter((e) => e.type === 'log' && e.line.includes('ERR')).map((e) => (e as { line: string }).line)).toEqual([]);
    expect(events.filter((e) => e.type === 'start' || e.type === 'failed').map((e) => e.type)).toEqual(['start', 'failed']);
  }, 60_000);

  it('counts a give-back only where the point moved back to the queue, where one whose lock was lost meanwhile counted one more', async () => {
    const redis = new Redis(q.redis.url(DB));
    const lost: SweepPoint = { ...point, key: `${point.key}-lost-give-back` };
    // its file fetched from a server that answers 404 once the point's lock is gone (as when it expired while the
    // worker was paused): the worker gives the point back, and the queue refuses the move (the job no longer its)
    const server = createServer((_req, res) => void redis.del(`bull:${QUEUE_NAME}:${lost.key}:lock`).then(() => res.writeHead(404).end()));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const files: FileTree[] = [{ root: '/elsewhere/models', files: [{ path: 'model.onnx', sha256: 'a'.repeat(64), bytes: 1 }] }];
    await q.queue.add('lost', { point: lost, files }, jobOptions(lost.key, 10));
    const stop = new AbortController();
    const events: WorkerEvent[] = [];
    try {
      await runQueueWorker({
        queue: q.redis.url(DB),
        cacheDir: join(q.t.root, 'worker'),
        pathMap: [{ from: '/elsewhere', to: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }],
        lockMs: 240_000, // (no stalled-job check while the test runs: one a minute)
        signal: stop.signal,
        onEvent: (e) => {
          events.push(e);
          if (e.type === 'log' && e.line.includes('refused its result')) stop.abort();
        },
      });
    } finally {
      redis.disconnect();
      server.close();
    }
    const job = (await q.queue.getJob(lost.key))!;
    expect([job.data.giveBacks, events.some((e) => e.type === 'given-back')]).toEqual([undefined, false]);
    await job.remove();
  }, 60_000);

  it('says done, and counts the point as run here, only once the queue took its result, where a refused one was said done too', async () => {
    const refused: SweepPoint = { ...point, key: `${point.key}-refused` };
    await q.queue.add('refused', { point: refused, files: await pointFiles(point, sha256File) }, jobOptions(refused.key, 10));
    const redis = new Redis(q.redis.url(DB));
    const stop = new AbortController();
    const events: WorkerEvent[] = [];
    let summary: WorkerSummary | undefined;
    try {
      summary = await runQueueWorker({
        queue: q.redis.url(DB),
        cacheDir: join(q.t.root, 'worker'),
        lockMs: 240_000, // (no renewal or stalled check while the point runs, one a minute: its result is refused on completing)
        signal: stop.signal,
        onEvent: (e) => {
          events.push(e);
          // its lock gone as the point starts, as when Redis let it expire while the worker was paused
          if (e.type === 'start') void redis.del(`bull:${QUEUE_NAME}:${refused.key}:lock`);
          if (e.type === 'log' && e.line.includes('refused its result')) stop.abort();
        },
      });
    } finally {
      redis.disconnect();
    }
    await (await q.queue.getJob(refused.key))?.remove();
    expect(events.map((e) => e.type).filter((t) => t !== 'log' && t !== 'ready')).toEqual(['start']);
    expect(summary).toEqual({ ran: 0, failed: 0 });
  }, 120_000);

  it("refuses a --queue database the server does not have, in one line, where ioredis went on with database 0's queue", async () => {
    const url = q.redis.url(DB).replace(/\/\d+$/, '/99');
    const refusal =
      /^redis:\/\/\S+\/99: no database 99 there \(ERR DB index is out of range\): give one below the server's 'databases' setting \(16 by default\)$/;
    const stop = AbortSignal.timeout(5000); // (without the refusal, the worker would take database 0's points until then)
    await expect(runQueueWorker({ queue: url, cacheDir: join(q.t.root, 'worker'), signal: stop })).rejects.toThrow(refusal);
    const store = join(q.t.root, 'db99.sqlite');
    await expect(runQueuedSweep({ file: q.t.sweepFile, store, queue: url, signal: stop })).rejects.toThrow(refusal);
    expect(existsSync(store)).toBe(false);
  }, 60_000);

  it('fails a point whose input the code running refuses (an XLM folder of vocab.json and merges.txt) at its first run, where the workers ran it 3 times, failing the same way; another failure is retried', async () => {
    // tiny-sst2's model with an XLM tokenizer folder, which the code running now refuses (tokenizerRefusals)
    writeXlmModel(q.t.root);
    const file = writeQuickSweep(q.t.root, 'xlm', 'models: [{path: models/tiny-xlm, tasks: [SST-2]}]\ncalibration: false\npipelines: [baseline]\n');
    const [xlm] = await planSweep(parseSweepFile(file), { glueDir: q.t.glueDir, workDir: join(q.t.root, 'out') });
    const files = await pointFiles(xlm!, sha256File);
    // the same point queued by a coordinator of another copy of the code (which may read the folder), and with files
    // that differ from the coordinator's (a failure that says nothing of the next run): both retried
    const otherCopy: SweepPoint = { ...xlm!, key: `${xlm!.key}-other-copy` };
    const differing: SweepPoint = { ...xlm!, key: `${xlm!.key}-differing` };
    await q.queue.add('xlm', { point: xlm!, files, code: codeFingerprint() }, jobOptions(xlm!.key, 60_000));
    await q.queue.add('xlm', { point: otherCopy, files, code: 'b'.repeat(64) }, jobOptions(otherCopy.key, 60_000));
    const changed = files.map((t) => ({ ...t, files: t.files.map((f) => ({ ...f, sha256: 'a'.repeat(64) })) }));
    await q.queue.add('xlm', { point: differing, files: changed }, jobOptions(differing.key, 60_000));
    const stop = new AbortController();
    let failed = 0;
    await runQueueWorker({
      queue: q.redis.url(DB),
      cacheDir: join(q.t.root, 'worker'),
      signal: stop.signal,
      onEvent: (e) => (e.type === 'failed' && ++failed === 3 ? stop.abort() : undefined),
    });
    /** The job's state, runs and error after its first run. */
    const after = async (key: string): Promise<[string, number, string]> => {
      const job = (await q.queue.getJob(key))!;
      const state = await job.getState();
      await job.remove();
      return [state, job.attemptsMade, job.failedReason];
    };
    const refusal = /^worker \S+: \S+tiny-xlm: its vocab\.json and merges\.txt are XLMTokenizer's BPE/;
    expect(await after(xlm!.key)).toEqual(['failed', 1, expect.stringMatching(refusal)]);
    expect(await after(otherCopy.key)).toEqual(['delayed', 1, expect.stringMatching(new RegExp(`${refusal.source}.*differs from the coordinator's`))]);
    expect(await after(differing.key)).toEqual(['delayed', 1, expect.stringMatching(/^worker \S+: \S+: differs from the coordinator's \(sha256/)]);
  }, 60_000);

  it('is not queued again by a rerun of the coordinator once it failed for an input the code refuses: it fails again at once, where the rerun queued it to fail alike', async () => {
    writeXlmModel(q.t.root, 'tiny-xlm-again');
    const file = writeQuickSweep(q.t.root, 'xlm-again', 'models: [{path: models/tiny-xlm-again, tasks: [SST-2]}]\ncalibration: false\npipelines: [baseline]\n');
    const store = join(q.t.root, 'xlm-again.sqlite');
    // the first run: queued, failed at its first run (as a worker of this code fails it: played by a BullMQ worker of
    // the test's, no point process), collected as failed
    const failing = new Worker(
      QUEUE_NAME,
      async () => {
        throw new UnrecoverableError("worker w: its vocab.json and merges.txt are XLMTokenizer's BPE");
      },
      { connection: parseQueueUrl(q.redis.url(DB)).connection },
    );
    let first: Awaited<ReturnType<typeof runQueuedSweep>>;
    try {
      first = await runQueuedSweep({ file, store, queue: q.redis.url(DB) });
    } finally {
      await failing.close();
    }
    expect(first.failed.map((f) => [f.error, f.refused?.includes("its vocab.json and merges.txt are XLMTokenizer's BPE")])).toEqual([
      [expect.stringMatching(/^worker w: /), true],
    ]);
    const key = first.failed[0]!.point.key;
    const job = async () => {
      const j = (await q.queue.getJob(key))!;
      return [await j.getState(), j.attemptsMade, j.timestamp];
    };
    const queued = await job();
    // the rerun: not queued again (no worker runs now, so a point queued would wait), failed again with the refusal,
    // what a run of it fails with, shown and stored as its error, where it showed and kept the worker's error of the
    // run before (which could be another fault: a full disk)
    const refused = first.failed[0]!.refused!;
    expect(first.failed[0]!.error).not.toBe(refused);
    const lines: string[] = [];
    const failedLines: string[] = [];
    const rerun = stopOnceQueued();
    const again = await runQueuedSweep({
      file,
      store,
      queue: q.redis.url(DB),
      signal: rerun.signal,
      onEvent: (e) => {
        rerun.onEvent(e);
        if (e.type === 'log') lines.push(e.line);
        if (e.type === 'failed') failedLines.push(e.error);
      },
    });
    expect(again).toMatchObject({ added: 0, alreadyQueued: 0, left: 0, failed: [{ error: refused, refused }] });
    expect(failedLines).toEqual([refused]);
    const stored = SweepStore.open(store, { readonly: true });
    try {
      expect(stored.failures().map((f) => [f.key, f.error])).toEqual([[key, refused]]);
    } finally {
      stored.close();
    }
    expect(lines.filter((l) => l.startsWith('queued'))).toEqual([]);
    expect(await job()).toEqual(queued);
    expect(queued.slice(0, 2)).toEqual(['failed', 1]);
  }, 60_000);

  it('fails a point of a model computing NaN (a refusal of its files) at its first run and marks it so, where it was retried 3 times; the coordinator stores the refusal and its rerun fails it again unrun', async () => {
    // tiny-sst2's model with a NaN in its layer 0 attention query weight: compress's check of its input refuses it
    const dir = join(q.t.root, 'models', 'tiny-nan');
    cpSync(join(q.t.root, 'models', 'tiny-sst2'), dir, { recursive: true });
    const model = loadModel(join(dir, 'model.onnx'));
    const weight = findBert(model).layers[0]!.attention!.q!.weight;
    const tensor = model.graph.initializers.get(weight)!;
    const values = readFloat32(tensor).slice();
    values[5] = Number.NaN;
    model.graph.initializers.set(weight, float32Tensor(weight, tensor.dims, values));
    saveModel(model, join(dir, 'model.onnx'));
    const file = writeQuickSweep(q.t.root, 'nan', 'models: [{path: models/tiny-nan, tasks: [SST-2]}]\ncalibration: false\npipelines: [baseline]\n');
    const store = join(q.t.root, 'nan.sqlite');
    const stop = new AbortController();
    const worker = runQueueWorker({
      queue: q.redis.url(DB),
      cacheDir: join(q.t.root, 'worker'),
      signal: stop.signal,
      onEvent: (e) => (e.type === 'failed' ? stop.abort() : undefined),
    });
    let first: Awaited<ReturnType<typeof runQueuedSweep>>;
    try {
      first = await runQueuedSweep({ file, store, queue: q.redis.url(DB), signal: AbortSignal.timeout(50_000) });
    } finally {
      stop.abort();
      await worker;
    }
    const refusal = /^worker \S+: \S+tiny-nan\S*: the model computes \d+ non-finite values/;
    expect(first.failed.map((f) => [f.error, f.refused])).toEqual([[expect.stringMatching(refusal), expect.stringMatching(refusal)]]);
    const key = first.failed[0]!.point.key;
    const job = (await q.queue.getJob(key))!;
    expect([await job.getState(), job.attemptsMade, job.data.inputRefused]).toEqual(['failed', 1, true]);
    // the rerun (no worker runs now): not queued again, failed again with the stored refusal
    const rerun = stopOnceQueued();
    const again = await runQueuedSweep({ file, store, queue: q.redis.url(DB), ...rerun });
    expect(again).toMatchObject({ added: 0, alreadyQueued: 0, left: 0, failed: [{ error: first.failed[0]!.error, refused: first.failed[0]!.error }] });
    await job.remove();
  }, 60_000);

  it('runs a point of a tokenizer a reading change touched, whose reading version it reads from its own files', async () => {
    // the tiny model with an added token (added_tokens.json): its points hold tokenizer reading version 2
    cpSync(join(q.t.root, 'models', 'tiny-sst2'), join(q.t.root, 'models', 'tiny-added'), { recursive: true });
    writeFileSync(join(q.t.root, 'models', 'tiny-added', 'added_tokens.json'), JSON.stringify({ movie: 7 }));
    const file = writeQuickSweep(q.t.root, 'added', 'models: [{path: models/tiny-added, tasks: [SST-2]}]\ncalibration: false\npipelines: [baseline]\n');
    const [added] = await planSweep(parseSweepFile(file), { glueDir: q.t.glueDir, workDir: join(q.t.root, 'out') });
    expect(added!.versions.tokenizer).toBe(2);
    await q.queue.add('added', { point: added!, files: await pointFiles(added!, sha256File) }, jobOptions(added!.key, 10));
    const stop = new AbortController();
    const summary = await runQueueWorker({
      queue: q.redis.url(DB),
      cacheDir: join(q.t.root, 'worker'),
      signal: stop.signal,
      onEvent: (e) => {
        if (e.type === 'finished' || e.type === 'failed') stop.abort();
      },
    });
    expect(summary).toEqual({ ran: 1, failed: 0 });
  }, 120_000);

  it('runs a point of a static-shape model whose training length version it reads from its own files, where it refused it as queued by other code', async () => {
    // a model whose inputs fix 160 tokens, its config.json without max_length: its train step trains at 160 (training
    // length version 2), where code before d790addc cut at 128
    const dir = join(q.t.root, 'models', 'tiny-160');
    cpSync(join(q.t.root, 'models', 'tiny-sst2'), dir, { recursive: true });
    const model = tinyBert({ maxPositions: 256 }, { seed: 3, std: 0.2 });
    for (const input of model.graph.inputs) input.shape = ['batch', 160];
    model.graph.outputs[0]!.shape = ['batch', 2];
    saveModel(model, join(dir, 'model.onnx'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'bert', num_labels: 2, id2label: { 0: 'negative', 1: 'positive' } }));
    const file = join(q.t.root, 'fixed-160.yaml');
    const train = '{epochs: 1, batchSize: 4, maxExamples: 4, evalEachEpoch: false, threads: 1}';
    writeFileSync(
      file,
      `name: fixed-160\nglueDir: glue\nmodels: [{path: models/tiny-160, tasks: [SST-2]}]\ncalibration: false\npipelines: [{name: ft, steps: [{pass: train, settings: ${train}}]}]\nbench: {batch: [1], repeats: 1, warmup: 0, threads: 1}\neval: {threads: 1}\nkeepModels: false\n`,
    );
    const trained = (await planSweep(parseSweepFile(file), { glueDir: q.t.glueDir, workDir: join(q.t.root, 'out') })).find((p) => p.label === 'ft');
    expect(trained!.versions.trainingLength).toBe(2);
    await q.queue.add('fixed-160', { point: trained!, files: await pointFiles(trained!, sha256File) }, jobOptions(trained!.key, 10));
    const stop = new AbortController();
    const events: WorkerEvent[] = [];
    const summary = await runQueueWorker({
      queue: q.redis.url(DB),
      cacheDir: join(q.t.root, 'worker'),
      signal: stop.signal,
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'finished' || e.type === 'failed' || e.type === 'given-back') stop.abort();
      },
    });
    const ends = events.filter((e) => e.type === 'finished' || e.type === 'failed' || e.type === 'given-back');
    expect(ends.map((e) => ('error' in e ? `${e.type}: ${e.error}` : e.type))).toEqual(['finished']);
    expect(summary).toEqual({ ran: 1, failed: 0 });
  }, 120_000);
});

describe.skipIf(ownRedisSkipReason !== null)(
  `compress worker and sweep --queue on a Redis asking for a password${ownRedisSkipReason ? ` (skipped: ${ownRedisSkipReason})` : ''}`,
  () => {
    it("say that it asks for one, or refuses the one given, where they said it with Redis's HELLO text and asked whether redis-server runs there", async () => {
      const redis = await ownRedis();
      const root = mkdtempSync(join(tmpdir(), 'worker-auth-'));
      try {
        const admin = new Redis(redis.url());
        await admin.config('SET', 'requirepass', 's3cret');
        admin.disconnect();
        const url = redis.url(); // redis://127.0.0.1:PORT/0
        await expect(runQueueWorker({ queue: url, cacheDir: join(root, 'cache') })).rejects.toThrow(
          /^redis:\/\/127\.0\.0\.1:\d+\/0: the server asks for a password \(NOAUTH\): give it in the URL, redis:\/\/\[USER\]:PASSWORD@HOST:PORT\[\/DB\]$/,
        );
        const wrong = url.replace('redis://', 'redis://:wrong@');
        await expect(runQueuedSweep({ file: join(root, 'none.yaml'), store: join(root, 's.sqlite'), queue: wrong })).rejects.toThrow(
          /^redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/0: the server refuses this user or password \(WRONGPASS\)$/,
        );
      } finally {
        await redis.close();
        rmSync(root, { recursive: true, force: true });
      }
    }, 60_000);
  },
);

describe('compress worker: folders checked before it connects', () => {
  it('refuses a --work-dir or --cache-dir that is a file, with one line and no connection', async () => {
    const root = mkdtempSync(join(tmpdir(), 'worker-dirs-'));
    try {
      const file = join(root, 'a-file');
      writeFileSync(file, 'x');
      // Port 1: nothing listens there, so reaching the connection would fail otherwise.
      const queue = 'redis://127.0.0.1:1/0';
      await expect(runQueueWorker({ queue, cacheDir: join(root, 'cache'), workDir: file })).rejects.toThrow(
        new RegExp(`^--work-dir ${file}: ${file} is a file, not a folder$`),
      );
      await expect(runQueueWorker({ queue, cacheDir: join(file, 'cache') })).rejects.toThrow(
        new RegExp(`^--cache-dir ${file}/cache: ${file} is a file, not a folder$`),
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('connectedWorkerNames', () => {
  it("names the workers of the queue on its database alone, from Redis's CLIENT LIST", () => {
    const base = 'bull:YmVydC1jb21wcmVzcy1wb2ludHM=';
    const list = [
      `id=3 addr=127.0.0.1:5 laddr=127.0.0.1:6379 fd=8 name=${base}:w:small:12 age=1 idle=0 flags=b db=2 sub=0 cmd=bzpopmin`,
      `id=4 addr=127.0.0.1:6 laddr=127.0.0.1:6379 fd=9 name=${base}:w:large:7 age=1 idle=0 flags=b db=2 sub=0 cmd=bzpopmin`,
      `id=5 addr=127.0.0.1:7 laddr=127.0.0.1:6379 fd=10 name=${base}:w:other-db:1 age=1 idle=0 flags=b db=3 sub=0 cmd=bzpopmin`,
      `id=6 addr=127.0.0.1:8 laddr=127.0.0.1:6379 fd=11 name=${base} age=1 idle=0 flags=N db=2 sub=0 cmd=evalsha`,
      `id=7 addr=127.0.0.1:9 laddr=127.0.0.1:6379 fd=12 name=bull:b3RoZXI=:w:another-queue:1 age=1 idle=0 flags=b db=2 sub=0 cmd=bzpopmin`,
      `id=8 addr=127.0.0.1:10 laddr=127.0.0.1:6379 fd=13 name= age=1 idle=0 flags=N db=2 sub=0 cmd=client|list`,
      '',
    ].join('\r\n');
    expect([...connectedWorkerNames(list, base, 2)]).toEqual(['small:12', 'large:7']);
    expect([...connectedWorkerNames(list, base, 3)]).toEqual(['other-db:1']);
  });
});
