/**
 * What a distributed sweep costs per worker: one sweep of N points (a shared teacher on SST-2 dev: the baseline and
 * N − 1 FFN prunings, each point single-threaded) queued on Redis and run by 1, 2 and 3 local `compress worker`
 * processes in turn, in one run; the time from queueing to the last result stored, throughput and its ratio to one
 * worker. Workers are started (and connected) before the clock starts, so their start-up is not counted.
 *
 *   node bin/run-ts.mjs bench/queue.ts [--points 12] [--workers 1,2,3] [--model ../shared/teachers/sst2-L2H256] [--redis URL]
 *
 * Without --redis it starts a redis-server of its own (127.0.0.1, a free port, no persistence). It does not take the
 * machine-wide timing lock (the points' bench phases do, one at a time), so other load on the machine slows it:
 * the load average is printed before and after.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Queue } from 'bullmq';
import { describeMachine, machineInfo } from '../src/bench/index.ts';
import { locateModel } from '../src/onnx/locate.ts';
import { defaultGlueDir } from '../src/glue/glue-dir.ts';
import { QUEUE_NAME, parseQueueUrl } from '../src/queue/connection.ts';
import { runQueuedSweep } from '../src/queue/coordinator.ts';
import { SweepStore } from '../src/sweep/store.ts';
import { ownRedis } from '../test/queue/redis.ts';
import { arg, checkFlags, wholeArg, wholeListArg } from './args.ts';

checkFlags('queue');
const N = wholeArg('--points', 12);
const WORKERS = wholeListArg('--workers', '1,2,3');
const MODEL = resolve(arg('--model', '../shared/teachers/sst2-L2H256'));
const GLUE = defaultGlueDir();
const CLI = resolve('bin/compress.mjs');

/** Starts a worker and resolves once it is connected and waiting for points. */
function startWorker(url: string, cacheDir: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CLI, 'worker', '--queue', url, '--threads', '1', '--cache-dir', cacheDir], { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((res, reject) => {
    let text = '';
    child.stderr!.on('data', (d) => {
      text += d;
      if (/point at once/.test(text)) res(child);
    });
    child.on('exit', (code) => reject(new Error(`worker exited (${code}): ${text}`)));
  });
}

function sweepFile(dir: string): string {
  const ratios = Array.from({ length: N - 1 }, (_, i) => Number(((i + 1) / N).toFixed(3)));
  const file = join(dir, 'queue-bench.yaml');
  writeFileSync(
    file,
    `name: queue-bench
glueDir: ${GLUE}
models:
  - {path: ${MODEL}, tasks: [SST-2]}
calibration: false
pipelines:
  - baseline
  - name: ffn-{ratio}
    grid:
      - {pass: prune-ffn, settings: {ratio: [${ratios.join(', ')}]}}
bench: {batch: [1], seq: [64], repeats: 5, warmup: 1, threads: 1}
eval: {threads: 1}
keepModels: false
`,
  );
  return file;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-queue-'));
  const given = process.argv.includes('--redis') ? arg('--redis', '') : undefined;
  const base = given?.replace(/\/\d*$/, '');
  const redis = base ? { url: (db: number) => `${base}/${db}`, close: async () => {} } : await ownRedis();
  try {
    locateModel(MODEL);
    const file = sweepFile(dir);
    console.log(describeMachine(machineInfo(1)));
    console.log(
      `${availableParallelism()} cores; load average before: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(', ')}`,
    );
    console.log(`sweep: ${MODEL.split('/').pop()} on SST-2 dev (872 examples), ${N} points (baseline + ${N - 1} FFN prunings), each point single-threaded\n`);
    console.log(
      `| workers | points | seconds | points / min | seconds per point per worker | throughput vs ${WORKERS[0]} worker${WORKERS[0] === 1 ? '' : 's'} | points' own seconds (sum) | of which waiting for the timing lock |`,
    );
    console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
    let one: number | undefined;
    for (const [i, k] of WORKERS.entries()) {
      // A database of its own per run: results in Redis are shared by point key, and would be collected at once.
      const url = redis.url(i + 1);
      const queue = new Queue(QUEUE_NAME, { connection: parseQueueUrl(url).connection });
      await queue.obliterate({ force: true });
      await queue.close();
      const workers = await Promise.all(Array.from({ length: k }, (_, w) => startWorker(url, join(dir, `cache-${k}-${w}`))));
      const t0 = performance.now();
      const storeFile = join(dir, `workers-${k}.sqlite`);
      const summary = await runQueuedSweep({ file, store: storeFile, queue: url });
      const seconds = (performance.now() - t0) / 1000;
      for (const w of workers) w.kill('SIGTERM');
      await Promise.all(workers.map((w) => new Promise((r) => (w.exitCode !== null ? r(null) : w.on('exit', r)))));
      if (summary.failed.length > 0 || summary.ran !== N)
        throw new Error(`${k} workers: ${summary.ran} of ${N} points, failed: ${summary.failed.map((f) => f.error).join('; ')}`);
      const perMinute = (60 * N) / seconds;
      one ??= perMinute;
      const store = SweepStore.open(storeFile, { readonly: true });
      const results = store.finished().map((p) => p.result);
      store.close();
      const own = results.reduce((a, r) => a + r.seconds.total, 0);
      const waited = results.reduce((a, r) => a + (r.bench.timing?.waitedSeconds ?? 0), 0);
      console.log(
        `| ${k} | ${N} | ${seconds.toFixed(1)} | ${perMinute.toFixed(1)} | ${((k * seconds) / N).toFixed(2)} | ×${(perMinute / one).toFixed(2)} | ${own.toFixed(1)} | ${waited.toFixed(1)} |`,
      );
    }
    console.log(
      `\nload average after: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(', ')}`,
    );
  } finally {
    await redis.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
