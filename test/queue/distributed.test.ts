/**
 * A distributed sweep end to end, through the CLI on a real Redis. A coordinator queues the sweep and is killed;
 * queueing it again adds nothing. Worker 1 runs a few points with no coordinator there and is killed with SIGKILL
 * in the middle of one; workers 2 and 3 start, BullMQ's stalled-job check hands them that point once its lock
 * expires, and they run the rest. A second coordinator (`--follow`) collects everything, the points that finished
 * while none was there included. The store ends with a local sweep's rows (same keys, sizes and metrics), each
 * once, and a point that fails its 3 runs is stored as failed with its error, which the report shows.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_NAME, parseQueueUrl } from '../../src/queue/connection.ts';
import { runQueuedSweep } from '../../src/queue/coordinator.ts';
import { loadReport } from '../../src/report/write.ts';
import { runSweep } from '../../src/sweep/run.ts';
import { SweepStore } from '../../src/sweep/store.ts';
import type { PointResult } from '../../src/sweep/point.ts';
import { writeTinySweep, type TinySweep } from '../sweep/tiny-sweep.ts';
import { compress, type CliProcess } from './cli-process.ts';
import { measured } from './measured.ts';
import { anyRedis, redisSkipReason, type TestRedis } from './redis.ts';

/** This file's database on a shared Redis. */
const DB = 1;

function storeRows(path: string) {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return {
      results: db.prepare('SELECT key FROM results ORDER BY key').all() as Array<{ key: string }>,
      points: db.prepare('SELECT key, label, status, error FROM points ORDER BY key').all() as Array<{
        key: string;
        label: string;
        status: string;
        error: string | null;
      }>,
    };
  } finally {
    db.close();
  }
}

describe.skipIf(redisSkipReason !== null)(`distributed sweep on Redis${redisSkipReason ? ` (skipped: ${redisSkipReason})` : ''}`, () => {
  let t: TinySweep;
  let redis: TestRedis;
  let url: string;
  let queue: Queue;
  let sweepFile: string;
  let reference: Map<string, PointResult>;
  const processes: CliProcess[] = [];
  const start = (args: string[]) => {
    const p = compress(args);
    processes.push(p);
    return p;
  };

  beforeAll(async () => {
    // Points take a noticeable moment, so that a worker can be killed in the middle of one; 8 of them (3 kinds of
    // point), enough for a worker to finish 3 alone and be killed in a fourth with points left for the other two.
    t = writeTinySweep({ rows: 80, pipelines: ['baseline', 'heads', 'drop-1'] });
    sweepFile = join(t.root, 'queued.yaml');
    // (a point that fails when it runs: which heads magnitude importance prunes depends on the weights, so no plan can
    // tell that 6 of the 8 heads leave layer 0 without attention, which share-layers then refuses to share with layer 1)
    const failing =
      '  - name: uneven\n    models: [tiny-sst2]\n    steps:\n      - {pass: prune-heads, settings: {ratio: 0.75, importance: magnitude}}\n      - {pass: share-layers, settings: {share: all}}\n';
    writeFileSync(sweepFile, readFileSync(t.sweepFile, 'utf8').replace(/^bench:/m, `${failing}bench:`));
    redis = await anyRedis();
    url = redis.url(DB);
    queue = new Queue(QUEUE_NAME, { connection: parseQueueUrl(url).connection });
    await queue.obliterate({ force: true });
    const ref = join(t.root, 'reference.sqlite');
    expect((await runSweep({ file: t.sweepFile, store: ref })).failed).toEqual([]);
    const store = SweepStore.open(ref, { readonly: true });
    reference = new Map(store.finished().map((p) => [p.key, p.result]));
    store.close();
  }, 180_000);

  afterAll(async () => {
    for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await queue?.obliterate({ force: true }).catch(() => {});
    await queue?.close();
    await redis?.close();
    t?.cleanup();
  });

  it("coordinator and workers killed along the way: the store ends with the local sweep's rows, each once", async () => {
    const store = join(t.root, 'queued.sqlite');
    const coordinate = (...extra: string[]) => start(['sweep', sweepFile, '--queue', url, '--store', store, '--retry-delay', '0.2', ...extra]);
    // (worker 1, killed mid-point, holds a 2-s lock, so that its point is taken over soon after it dies; the workers
    // that run beside another take the default 30-s lock: one slow to renew a 2-s lock on a loaded machine lost its
    // point to the other, which ran it a second time)
    const work = (n: number, ...lock: string[]) => start(['worker', '--queue', url, ...lock, '--cache-dir', join(t.root, `worker-${n}`)]);
    const total = t.points + 1;

    // Queued, then the coordinator dies; queueing again adds nothing.
    const c1 = coordinate();
    await c1.waitFor(new RegExp(`queued ${total} points at redis://`));
    c1.child.kill('SIGKILL');
    const again = new AbortController();
    const second = await runQueuedSweep({
      file: sweepFile,
      store,
      queue: url,
      signal: again.signal,
      onEvent: (e) => (e.type === 'log' && e.line.startsWith('queued') ? again.abort() : undefined),
    });
    expect([second.added, second.alreadyQueued, second.left]).toEqual([0, total, total]);
    const counts = await queue.getJobCounts();
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(total);

    // Worker 1 alone, no coordinator: a few points finish in Redis only; then it is killed in the middle of one.
    const w1 = work(1, '--lock-seconds', '2');
    const deadline = Date.now() + 90_000;
    while ((await queue.getJobCounts('completed')).completed < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const from = w1.output().length;
    const killed = (await w1.waitFor(/start ([0-9a-f]{12}) /, { from }))[1]!;
    w1.child.kill('SIGKILL');
    expect((await w1.exited).signal).toBe('SIGKILL');
    expect(w1.output()).not.toContain(`done  ${killed}`);
    const finishedWhileAway = (await queue.getJobCounts('completed')).completed;
    expect(finishedWhileAway).toBeGreaterThanOrEqual(3);
    expect(storeRows(store).results).toHaveLength(0);

    // Two more workers, and a coordinator that follows the queued sweep.
    const w2 = work(2);
    const w3 = work(3);
    const c2 = coordinate('--follow');
    const { code } = await c2.exited;
    const log = c2.output();
    expect(code, log).toBe(1); // the failing point
    expect(log).toContain(`${total} points: 0 already in the store, ${t.points} collected from the queue now, 1 failed`);
    expect(log).toMatch(/FAILED tiny-sst2 · uneven: worker \S+: share-layers: group 0 mixes layer 0 without attention/);

    // The killed worker's point was taken over once its lock expired (BullMQ's stalled-job check), and run once more.
    const job = (await queue.getJobs(['completed'])).find((j) => j.id!.startsWith(killed))!;
    expect(job).toBeDefined();
    expect(job.stalledCounter).toBeGreaterThanOrEqual(1);
    expect(w2.output() + w3.output()).toContain(`done  ${killed}`);

    w2.child.kill('SIGTERM');
    w3.child.kill('SIGTERM');
    for (const w of [w2, w3]) {
      expect((await w.exited).code, w.output()).toBe(143); // (stopped by SIGTERM, as every command)
      expect(w.output()).toMatch(/stopped after \d+ points? done here and \d+ failed runs?$/m);
    }
    // Each of the failing point's 3 runs happened on some worker.
    const failedRuns = [w1, w2, w3].map((w) => w.output().match(/FAILED [0-9a-f]{12} tiny-sst2 · uneven/g)?.length ?? 0);
    expect(failedRuns.reduce((a, b) => a + b, 0)).toBe(3);
  }, 300_000);

  it("the store holds each point once, with the local sweep's sizes and metrics, and the failure", () => {
    const store = join(t.root, 'queued.sqlite');
    const rows = storeRows(store);
    expect(rows.results.map((r) => r.key)).toEqual([...reference.keys()].sort());
    expect(rows.points).toHaveLength(t.points + 1);
    const failed = rows.points.filter((p) => p.status === 'failed');
    expect(failed.map((p) => p.label)).toEqual(['uneven']);
    expect(failed[0]!.error).toMatch(/group 0 mixes layer 0 without attention/);
    const s = SweepStore.open(store, { readonly: true });
    try {
      for (const p of s.finished()) expect(measured(p.result), p.label).toEqual(measured(reference.get(p.key)!));
    } finally {
      s.close();
    }
  });

  it('compress report shows the failed point', () => {
    const data = loadReport({ store: join(t.root, 'queued.sqlite') });
    expect(data.rows).toHaveLength(t.points);
    expect(data.failed.map((f) => `${f.model} · ${f.label}`)).toEqual(['tiny-sst2 · uneven']);
  });
});
