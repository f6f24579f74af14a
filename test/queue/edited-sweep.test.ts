/**
 * A queued sweep whose file was edited (a pipeline removed, a grid value changed) and queued again: the coordinator
 * takes out of the queue the points its earlier run queued that the plan no longer holds and no worker has started,
 * where they stayed queued, and workers ran points nobody would collect. A started one runs on. None of them is the
 * sweep's any more (its report does not list them as not finished). (About 3 s, and 6 s for a run a worker finishes: two
 * coordinator runs and two plans of the 16-point sweep, the least that queues, edits and queues again.)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { describe, expect, it, vi } from 'vitest';
import { QUEUE_NAME, parseQueueUrl } from '../../src/queue/connection.ts';
import { queuedTotalLine } from '../../src/cli/commands/sweep.ts';
import { CALL_TIMEOUT_MS, runQueuedSweep } from '../../src/queue/coordinator.ts';
import { parseSweepFile } from '../../src/sweep/spec.ts';
import { planSweep } from '../../src/sweep/plan.ts';
import { runSweep } from '../../src/sweep/run.ts';
import { SweepStore } from '../../src/sweep/store.ts';
import { redisSkipReason } from './redis.ts';
import { tinyQueue } from './tiny-queue.ts';

/** This file's database on a shared Redis. */
const DB = 9;

describe.skipIf(redisSkipReason !== null)(`an edited sweep queued again${redisSkipReason ? ` (skipped: ${redisSkipReason})` : ''}`, () => {
  const q = tinyQueue(DB, { rows: 4 });

  /** Queues the sweep file (stopped once queued); the lines it said. */
  const queueSweep = async (store: string): Promise<string[]> => {
    const stop = new AbortController();
    const lines: string[] = [];
    await runQueuedSweep({
      file: q.t.sweepFile,
      store,
      queue: q.redis.url(DB),
      signal: stop.signal,
      onEvent: (e) => {
        if (e.type !== 'log') return;
        lines.push(e.line);
        if (e.line.startsWith('queued')) stop.abort();
      },
    });
    return lines;
  };
  const queued = async () => new Set((await q.queue.getJobs(['waiting', 'delayed', 'active', 'prioritized'])).map((j) => j.id!));
  const plannedKeys = async () =>
    new Set((await planSweep(parseSweepFile(q.t.sweepFile), { glueDir: q.t.glueDir, workDir: join(q.t.root, 'out') })).map((p) => p.key));

  it("stopped while a look at a point to take out waits for a Redis that does not answer: returns at once as stopped, and the next run takes them out, where it waited for the look's own bound (5 s) and then refused Redis", async () => {
    const original = readFileSync(q.t.sweepFile, 'utf8');
    const store = join(q.t.root, 'stopped-withdrawing.sqlite');
    try {
      await queueSweep(store);
      writeFileSync(q.t.sweepFile, original.replace(/ {2}- name: drop-1\n.*\n.*\n/, ''));
      const stop = new AbortController();
      let stoppedAt = 0;
      // (the look at the first point to take out never answered, as a Redis gone silent: the call told to stop as it begins)
      const looks = vi.spyOn(Queue.prototype, 'getJob').mockImplementation(() => {
        if (!stop.signal.aborted) {
          stoppedAt = Date.now();
          stop.abort();
        }
        return new Promise<never>(() => {});
      });
      try {
        const summary = await runQueuedSweep({ file: q.t.sweepFile, store, queue: q.redis.url(DB), signal: stop.signal });
        const took = Date.now() - stoppedAt;
        expect(stoppedAt).toBeGreaterThan(0);
        expect(summary.withdrawn).toBe(0);
        expect(took, `${took} ms`).toBeLessThan(CALL_TIMEOUT_MS);
      } finally {
        looks.mockRestore();
      }
      // (those not taken out are the next run's to take out: not marked taken out)
      expect(await queueSweep(store)).toContain(
        "took 2 points out of the queue that an earlier run of sweep 'tiny' queued and its plan no longer holds (no worker had started them)",
      );
    } finally {
      writeFileSync(q.t.sweepFile, original);
      await q.queue.obliterate({ force: true });
    }
  }, 120_000);

  it('takes out the points its plan no longer holds that no worker started, and leaves a started one running', async () => {
    const store = join(q.t.root, 'edited.sqlite');
    await queueSweep(store);
    const before = await plannedKeys();
    expect(await queued()).toEqual(before);
    const original = readFileSync(q.t.sweepFile, 'utf8');
    writeFileSync(
      q.t.sweepFile,
      original.replace(/ {2}- name: shared\n.*\n.*\n/, '').replace('ratio: [0.25, 0.5]}}\n  - name: drop-1', 'ratio: [0.25, 0.75]}}\n  - name: drop-1'),
    );
    const after = await plannedKeys();
    const dropped = new Set([...before].filter((k) => !after.has(k)));
    expect(dropped.size).toBe(4); // (both models' shared and ffn-0.5)
    // a worker takes points until it has started one the edit drops
    const worker = new Worker(QUEUE_NAME, null, { connection: parseQueueUrl(q.redis.url(DB)).connection, autorun: false, lockDuration: 60_000 });
    try {
      let started: string | undefined;
      while (started === undefined || !dropped.has(started)) started = (await worker.getNextJob('a-worker'))!.id;
      const lines = await queueSweep(store);
      expect(lines).toContain(
        "took 3 points out of the queue that an earlier run of sweep 'tiny' queued and its plan no longer holds (no worker had started them)",
      );
      expect(await queued()).toEqual(new Set([...after, started]));
      expect(await q.queue.getJobState(started)).toBe('active');
      // and they are no longer the sweep's: its report does not list them as not finished
      const s = SweepStore.open(store, { readonly: true });
      try {
        const left = s.unfinished('tiny').map((p) => p.label);
        expect([left.length, left.filter((l) => l === 'shared' || l === 'ffn-0.5')]).toEqual([after.size, []]);
      } finally {
        s.close();
      }
    } finally {
      await worker.close(true);
    }
  }, 120_000);

  it('takes them out after a local run of the edited sweep, where that run dropped the records it finds them by and they stayed queued', async () => {
    await q.queue.obliterate({ force: true });
    const store = join(q.t.root, 'local-rerun.sqlite');
    await queueSweep(store);
    const before = await plannedKeys();
    writeFileSync(q.t.sweepFile, readFileSync(q.t.sweepFile, 'utf8').replace(/ {2}- name: drop-1\n.*\n.*\n/, ''));
    const after = await plannedKeys();
    expect(before.size - after.size).toBe(2); // (both models' drop-1)
    // the edited sweep run locally (stopped before its first point, as by a Ctrl-C), then queued again
    await runSweep({ file: q.t.sweepFile, store, signal: AbortSignal.abort() });
    const lines = await queueSweep(store);
    expect(lines).toContain(
      "took 2 points out of the queue that an earlier run of sweep 'tiny' queued and its plan no longer holds (no worker had started them)",
    );
    expect(await queued()).toEqual(after);
  }, 120_000);

  it('lets them go in a coordinator of the sweep started before, where it queued them again as if Redis had lost them', async () => {
    await q.queue.obliterate({ force: true });
    const store = join(q.t.root, 'two-coordinators.sqlite');
    // the first coordinator collects (no workers: it waits) while the sweep, edited, is queued again
    const stop = new AbortController();
    const lines: string[] = [];
    let queuedFirst!: () => void;
    const first = runQueuedSweep({
      file: q.t.sweepFile,
      store,
      queue: q.redis.url(DB),
      // (a guard, past its rescans every 5 s, not to wait for ever; 20 s, a loaded machine's plans of the sweep, the
      // first and the edited one's, could spend before its rescans let the points go)
      signal: AbortSignal.any([stop.signal, AbortSignal.timeout(90_000)]),
      onEvent: (e) => {
        if (e.type !== 'log') return;
        lines.push(e.line);
        if (e.line.startsWith('queued')) queuedFirst();
        if (lines.filter((l) => l.includes('taken out of the queue by a later run')).length === 2) stop.abort();
      },
    });
    try {
      await new Promise<void>((r) => (queuedFirst = r));
      writeFileSync(q.t.sweepFile, readFileSync(q.t.sweepFile, 'utf8').replace(/ {2}- name: factorized-8\n.*\n.*\n/, ''));
      expect(await queueSweep(store)).toContain(
        "took 2 points out of the queue that an earlier run of sweep 'tiny' queued and its plan no longer holds (no worker had started them)",
      );
      await first;
    } finally {
      stop.abort();
      await first;
    }
    // its closing line counts them as let go, not among the points it waits for or collected
    const summary = await first;
    expect(summary.letGo).toBe(2);
    expect(queuedTotalLine({ ...summary, seconds: 0 })).toBe(
      `${summary.total} points: 0 already in the store, 0 collected from the queue now, 2 let go (taken out by a later run of the edited sweep), 0 failed (0.0 s)`,
    );
    expect(lines.filter((l) => / · factorized-8: /.test(l)).sort()).toEqual(
      ['tiny-sst2', 'tiny-stsb'].map(
        (m) => `${m} · factorized-8: taken out of the queue by a later run of sweep 'tiny', whose plan no longer holds it; not collected`,
      ),
    );
    expect(await queued()).toEqual(await plannedKeys());
  }, 120_000);

  it('lets go in a coordinator started before a point a worker ran after a local run of the edited sweep dropped it, where it stored the point and the report listed it', async () => {
    await q.queue.obliterate({ force: true });
    const store = join(q.t.root, 'ran-dropped.sqlite');
    const before = await plannedKeys();
    const stop = new AbortController();
    const lines: string[] = [];
    let queuedFirst!: () => void;
    const first = runQueuedSweep({
      file: q.t.sweepFile,
      store,
      queue: q.redis.url(DB),
      signal: AbortSignal.any([stop.signal, AbortSignal.timeout(90_000)]), // (a guard, as above)
      onEvent: (e) => {
        if (e.type === 'finished') stop.abort();
        if (e.type !== 'log') return;
        lines.push(e.line);
        if (e.line.startsWith('queued')) queuedFirst();
        if (e.line.endsWith('not collected')) stop.abort();
      },
    });
    const worker = new Worker(QUEUE_NAME, null, { connection: parseQueueUrl(q.redis.url(DB)).connection, autorun: false, lockDuration: 60_000 });
    try {
      await new Promise<void>((r) => (queuedFirst = r));
      writeFileSync(q.t.sweepFile, readFileSync(q.t.sweepFile, 'utf8').replace('ratio: [0.25, 0.5], importance', 'ratio: [0.5], importance'));
      const after = await plannedKeys();
      const dropped = new Set([...before].filter((k) => !after.has(k)));
      expect(dropped.size).toBe(2); // (both models' heads-0.25)
      // a worker has started one of them; the edited sweep runs locally (stopped before its first point) and drops it
      let job = await worker.getNextJob('a-worker');
      while (!dropped.has(job!.id!)) job = await worker.getNextJob('a-worker');
      await runSweep({ file: q.t.sweepFile, store, signal: AbortSignal.abort() });
      const result = { params: 1, bytes: 1, glue: { 'SST-2': 0.5 }, speedup: 1, latencyMs: 1 };
      await job!.moveToCompleted(result, 'a-worker', false);
      await first;
      expect(lines.filter((l) => l.endsWith('not collected'))).toEqual([
        `${job!.name}: taken out of the sweep by a later run of sweep 'tiny', whose plan no longer holds it; not collected`,
      ]);
      const s = SweepStore.open(store, { readonly: true });
      try {
        expect(s.finished('tiny').map((p) => p.key)).toEqual([]);
      } finally {
        s.close();
      }
    } finally {
      stop.abort();
      await first;
      await worker.close(true);
    }
  }, 120_000);
});
