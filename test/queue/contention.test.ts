/**
 * Queue workers (`compress worker`, through the CLI on a real Redis) and what a local sweep's workers get:
 *
 * - a point benchmarked while another point on the machine trained is stored as contended (timing.exclusive false,
 *   naming the training): another point of the same worker (--concurrency 2), of another worker process, or a
 *   local `sweep --jobs 1` beside a worker;
 * - a point re-delivered by BullMQ after its worker was killed, to a worker with the same work folder, goes on from
 *   the stages the killed run finished (its trained model is reused, not trained again), and the worker says so.
 */
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TIMING_LOCK_ENV, acquireTimingLock } from '../../src/bench/timing-lock.ts';
import { sha256File } from '../../src/files.ts';
import { QUEUE_NAME, parseQueueUrl } from '../../src/queue/connection.ts';
import { pointFiles } from '../../src/queue/files.ts';
import { jobOptions } from '../../src/queue/job.ts';
import { planSweep, type SweepPoint } from '../../src/sweep/plan.ts';
import type { PointResult } from '../../src/sweep/point.ts';
import { runSweep } from '../../src/sweep/run.ts';
import { parseSweepFile } from '../../src/sweep/spec.ts';
import { SweepStore } from '../../src/sweep/store.ts';
import { writeTinySweep, type TinySweep } from '../sweep/tiny-sweep.ts';
import { compress, type CliProcess } from './cli-process.ts';
import { anyRedis, redisSkipReason, type TestRedis } from './redis.ts';
import { childPids } from '../helpers/processes.ts';

/** This file's database on a shared Redis. */
const DB = 3;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A training point that runs for minutes (stopped by killing its worker), and a pruning point that runs in seconds. */
const BUSY = `name: busy
glueDir: glue
models:
  - {path: models/tiny-sst2, tasks: [SST-2]}
  - {path: models/tiny-stsb, tasks: [STS-B]}
pipelines:
  - {name: long-train, models: [tiny-sst2], steps: [{pass: train, settings: {epochs: 5000, batchSize: 4, checkpointEvery: 0}}]}
  - {name: ffn, models: [tiny-stsb], steps: [{pass: prune-ffn, settings: {ratio: 0.5}}]}
bench: {batch: [1], seq: [8], repeats: 2, warmup: 1, threads: 1}
eval: {threads: 1}
keepModels: false
`;

describe.skipIf(redisSkipReason !== null)(`queue workers on one machine${redisSkipReason ? ` (skipped: ${redisSkipReason})` : ''}`, () => {
  let t: TinySweep;
  let redis: TestRedis;
  let url: string;
  let queue: Queue;
  const lockEnv = process.env[TIMING_LOCK_ENV];
  const processes: CliProcess[] = [];
  // (the default lock of 30 s: a worker slow to renew a 2-s lock on a loaded machine lost its training point to
  // another worker, which then trained it instead of the point the test gave it; the killed worker's test sets 2 s)
  const worker = (...args: string[]) => {
    const p = compress(['worker', '--queue', url, ...args]);
    processes.push(p);
    return p;
  };
  /** Kills a worker and its point processes at once, as a crash would. */
  const crash = async (w: CliProcess) => {
    for (const pid of childPids(w.child.pid!)) process.kill(pid, 'SIGKILL');
    w.child.kill('SIGKILL');
    await w.exited;
  };
  const points = async (text: string, name: string): Promise<SweepPoint[]> => {
    const file = join(t.root, `${name}.yaml`);
    writeFileSync(file, text);
    return planSweep(parseSweepFile(file), { glueDir: t.glueDir, workDir: join(t.root, 'coordinator') });
  };
  const add = async (p: SweepPoint) => queue.add(p.label, { point: p, files: await pointFiles(p, sha256File) }, jobOptions(p.key, 200));
  /** The point's result in Redis (a worker says 'done' just before BullMQ stores it). */
  const result = async (p: SweepPoint): Promise<PointResult> => {
    for (let i = 0; i < 500; i++) {
      if ((await queue.getJobState(p.key)) === 'completed') return (await queue.getJob(p.key))!.returnvalue as PointResult;
      await sleep(20);
    }
    throw new Error(`${p.label}: not completed in Redis`);
  };
  const done = (p: SweepPoint) => new RegExp(`done  ${p.key.slice(0, 12)} `);
  let longTrain: SweepPoint;
  let ffn: SweepPoint;

  beforeAll(async () => {
    t = writeTinySweep({ rows: 8 });
    process.env[TIMING_LOCK_ENV] = join(t.root, 'timing.lock'); // this file's own lock and stage board (the workers inherit it)
    redis = await anyRedis();
    url = redis.url(DB);
    queue = new Queue(QUEUE_NAME, { connection: parseQueueUrl(url).connection });
    await queue.obliterate({ force: true });
    const busy = await points(BUSY, 'busy');
    longTrain = busy.find((p) => p.label === 'long-train')!;
    ffn = busy.find((p) => p.label === 'ffn')!;
  }, 120_000);

  // each test starts on an empty queue, with none of the workers of the test before (even one that failed)
  afterEach(async () => {
    for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) await crash(p);
    await queue?.obliterate({ force: true }).catch(() => {});
  });

  afterAll(async () => {
    await queue?.close();
    await redis?.close();
    if (lockEnv === undefined) delete process.env[TIMING_LOCK_ENV];
    else process.env[TIMING_LOCK_ENV] = lockEnv;
    t?.cleanup();
  });

  it('--concurrency 2: a point benchmarked while the same worker trained another is stored as contended', async () => {
    const w = worker('--concurrency', '2', '--verbose', '--cache-dir', join(t.root, 'worker-c2'));
    await add(longTrain);
    await w.waitFor(/epoch 1: loss/, { ms: 120_000 }); // training, for minutes
    await add(ffn);
    await w.waitFor(done(ffn), { ms: 120_000 });
    expect((await result(ffn)).bench.timing).toMatchObject({ exclusive: false, alongside: expect.arrayContaining(['tiny-sst2 · long-train (train)']) });
  }, 240_000);

  it("two workers, and a sweep beside a worker: a point benchmarked while another process's point trained is stored as contended", async () => {
    const w1 = worker('--verbose', '--cache-dir', join(t.root, 'worker-1'));
    const pid = Number((await w1.waitFor(/worker \S+:(\d+):[0-9a-f]+ on /))[1]);
    await add(longTrain);
    await w1.waitFor(/epoch 1: loss/, { ms: 120_000 });

    const w2 = worker('--cache-dir', join(t.root, 'worker-2'));
    await add(ffn);
    await w2.waitFor(done(ffn), { ms: 120_000 });
    const reason = `tiny-sst2 · long-train (train, pid ${pid})`; // as the other process's stage board entry names it
    expect((await result(ffn)).bench.timing).toMatchObject({ exclusive: false, alongside: expect.arrayContaining([reason]) });
    await crash(w2);

    // a local sweep (--jobs 1, in this process) on the same machine while w1 still trains
    const file = join(t.root, 'beside.yaml');
    writeFileSync(file, BUSY.replace('name: busy', 'name: beside').replace(/^ {2}- \{name: long-train.*\n/m, ''));
    const store = join(t.root, 'beside.sqlite');
    expect((await runSweep({ file, store, jobs: 1 })).failed).toEqual([]);
    const s = SweepStore.open(store, { readonly: true });
    const local = s.finished().find((p) => p.label === 'ffn')!;
    s.close();
    expect(local.result.bench.timing).toMatchObject({ exclusive: false, alongside: expect.arrayContaining([reason]) });
    expect(w1.output()).not.toContain(`done  ${longTrain.key.slice(0, 12)}`); // (it trained all along)
  }, 300_000);

  it('a point re-delivered after its worker was killed goes on from the model the killed run wrote, on a worker with the same folder', async () => {
    const [point] = (
      await points(
        `name: kill
glueDir: glue
models:
  - {path: models/tiny-sst2, tasks: [SST-2]}
pipelines:
  - name: t-q
    steps:
      - {pass: train, settings: {epochs: 2, batchSize: 4, evalEachEpoch: false}}
      - {pass: quantize, settings: {mode: int8}}
bench: {batch: [1], seq: [8], repeats: 2, warmup: 1, threads: 1}
eval: {threads: 1}
keepModels: true
`,
        'kill',
      )
    ).filter((p) => p.label === 't-q');
    const cacheDir = join(t.root, 'worker-kill');
    // where a worker with this cache folder writes the point (queue/files.ts: <cache>/models/<sweep>/<point>)
    const dir = join(cacheDir, 'models', basename(dirname(point!.outputDir!)), basename(point!.outputDir!));
    const model = join(dir, 'model.onnx');
    // this test holds the timing lock (the workers' own, TIMING_LOCK_ENV): the point's benchmark, after its stages
    // and its evaluation, waits for it, and its worker is killed there
    const lock = await acquireTimingLock({ waitSeconds: 0 });
    expect(lock.record.exclusive).toBe(true);
    const w1 = worker('--lock-seconds', '2', '--cache-dir', cacheDir);
    try {
      await add(point!);
      await w1.waitFor(/waiting for the timing lock/, { ms: 120_000 });
      // the last stage's record is written once its model and files are: the point then evaluates and benchmarks
      expect(existsSync(join(dir, '.sweep-stage.json')), w1.output()).toBe(true);
      await crash(w1);
    } finally {
      lock.release();
    }
    expect(w1.output(), 'the point finished before its worker was killed').not.toMatch(done(point!));
    const before = statSync(model);

    const w2 = worker('--lock-seconds', '2', '--cache-dir', cacheDir); // (no --verbose: the reuse is said anyway)
    await w2.waitFor(done(point!), { ms: 120_000 });
    expect(w2.output()).toContain(`reusing the output of stages 1 to 2 of 2 (train, quantize) from an earlier run of t-q: ${model}`);
    const r = await result(point!);
    expect(r).toMatchObject({ reused: 2, output: model });
    expect(r.seconds.train).toBe(0);
    expect(r.passes.map((p) => p.pass)).toEqual(['train', 'quantize']);
    const after = statSync(model);
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]); // not written again
    expect((await queue.getJob(point!.key))!.stalledCounter).toBeGreaterThanOrEqual(1); // BullMQ's re-delivery
  }, 240_000);
});
