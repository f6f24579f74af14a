/**
 * A point of `sweep --jobs 2` whose worker is killed after its trained (and quantized) model was written, while it
 * evaluates or benchmarks: the rerun goes on from that model, without training again.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TIMING_LOCK_ENV, acquireTimingLock } from '../../src/bench/timing-lock.ts';
import { runSweep } from '../../src/sweep/run.ts';
import { SweepStore } from '../../src/sweep/store.ts';
import { writeTinySweep, type TinySweep } from './tiny-sweep.ts';
import { childPids } from '../helpers/processes.ts';

const CLI = resolve('bin/compress.mjs');

let t: TinySweep;
const lockEnv = process.env[TIMING_LOCK_ENV];
beforeAll(() => {
  t = writeTinySweep({ rows: 40 });
  process.env[TIMING_LOCK_ENV] = join(t.root, 'timing.lock'); // this test's own lock (the CLI and its workers inherit it)
});
afterAll(() => {
  if (lockEnv === undefined) delete process.env[TIMING_LOCK_ENV];
  else process.env[TIMING_LOCK_ENV] = lockEnv;
  t?.cleanup();
});

describe('sweep --jobs 2, a worker killed after its point wrote its model', () => {
  it('the rerun reuses the trained model instead of training again', async () => {
    const file = join(t.root, 'kill.yaml');
    writeFileSync(
      file,
      `name: kill
glueDir: glue
models:
  - {path: models/tiny-sst2, tasks: [SST-2]}
pipelines:
  - baseline
  - name: t-q
    steps:
      - {pass: train, settings: {epochs: 2, batchSize: 8, evalEachEpoch: false}}
      - {pass: quantize, settings: {mode: int8}}
bench: {batch: [1], seq: [8], repeats: 2, warmup: 1, threads: 1}
eval: {threads: 1}
keepModels: true
`,
    );
    const store = join(t.root, 'kill.sqlite');
    const models = join(t.root, 'kill-models', 'tiny-sst2');
    // this test holds the timing lock (the sweep's own, TIMING_LOCK_ENV): each point's benchmark, after its stages
    // and its evaluation, waits for it, and the sweep is killed once the point t-q waits there
    const lock = await acquireTimingLock({ waitSeconds: 0 });
    expect(lock.record.exclusive).toBe(true);
    const sweep = spawn(process.execPath, [CLI, 'sweep', file, '--store', store, '--jobs', '2'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    const exited = new Promise<void>((r) => sweep.on('close', () => r()));
    try {
      await new Promise<void>((resolve, reject) => {
        sweep.stderr!.on('data', (d) => {
          stderr += d;
          if (/^tiny-sst2 · t-q: waiting for the timing lock/m.test(stderr)) resolve();
        });
        sweep.on('close', () => reject(new Error(`the sweep ended before t-q's benchmark waited for the timing lock:\n${stderr}`)));
      });
      for (const pid of childPids(sweep.pid!)) process.kill(pid, 'SIGKILL');
      await exited;
    } finally {
      lock.release();
    }
    // the point's last stage wrote model.onnx and its lineage
    const folder = existsSync(models) ? readdirSync(models).find((d) => d.startsWith('t-q')) : undefined;
    const dir = folder !== undefined ? join(models, folder) : undefined;
    expect(dir && existsSync(join(dir, 'model.onnx.json')), stderr).toBe(true);
    const s = SweepStore.open(store, { readonly: true });
    const stored = s.finished().map((p) => p.label);
    s.close();
    expect(stored, 'the point finished before its worker was killed').not.toContain('t-q');
    const model = join(dir!, 'model.onnx');
    const before = statSync(model);

    const logs: string[] = [];
    const rerun = await runSweep({ file, store, jobs: 2, onEvent: (e) => e.type === 'log' && logs.push(e.line) });
    expect(rerun.failed).toEqual([]);
    expect(logs).toContainEqual(`reusing the output of stages 1 to 2 of 2 (train, quantize) from an earlier run of t-q: ${model}`);
    expect(logs.filter((l) => /^resuming from step/.test(l))).toEqual([]);
    const after = statSync(model);
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]); // not written again
    const r = SweepStore.open(store, { readonly: true });
    const point = r.finished().find((p) => p.label === 't-q')!;
    r.close();
    expect(point.result).toMatchObject({ reused: 2, output: model });
    expect(point.result.passes.map((p) => p.pass)).toEqual(['train', 'quantize']);
    expect(point.result.seconds.train).toBe(0);
  });
});
