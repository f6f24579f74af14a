/**
 * A benchmark of a sweep run by several workers (--jobs N) is recorded as contended when another worker ran a stage
 * of a point meanwhile (a training step, above all): the timing lock alone kept out other benchmarks only. With the
 * machine's stage board, so is one during which another runner on the machine (another sweep, a queue worker) did.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadReport, toMarkdown } from '../../src/report/index.ts';
import { StageTracker, contendedBy, markContended } from '../../src/sweep/contention.ts';
import type { PointResult } from '../../src/sweep/point.ts';
import { runSweep } from '../../src/sweep/run.ts';
import { SweepStore } from '../../src/sweep/store.ts';
import { TIMING_LOCK_ENV } from '../../src/bench/timing-lock.ts';
import { processStartTime } from '../../src/processes.ts';
import { fakePoint } from '../report/points.ts';
import { saveModel } from '../../src/onnx/index.ts';
import { tinyBert } from '../helpers/models.ts';
import { writeTinySweep, type TinySweep } from './tiny-sweep.ts';

describe('StageTracker', () => {
  it('records what other workers ran during a benchmark: before it started, or starting while it ran', () => {
    const s = new StageTracker();
    s.set(0, 'train', 'a · kd');
    s.set(1, 'eval', 'b · ffn');
    s.set(1, 'bench', 'b · ffn');
    s.set(2, 'compress', 'c · heads');
    s.set(2, 'eval', 'c · heads');
    s.set(1, null, 'b · ffn');
    s.set(2, 'bench', 'c · heads'); // after 1's benchmark ended: not its company
    expect(s.takeCompany(1)).toEqual(['a · kd (train)', 'c · heads (compress)', 'c · heads (eval)']);
    expect(s.takeCompany(1)).toEqual([]); // taken once
    expect(s.takeCompany(2)).toEqual(['a · kd (train)']);
  });

  it('records two benchmarks that overlapped as contended, both: the first too (the second set up beside its timing)', () => {
    const s = new StageTracker();
    s.set(1, 'bench', 'b · ffn');
    s.set(2, 'bench', 'c · heads');
    s.set(2, null, 'c · heads');
    s.set(1, null, 'b · ffn');
    expect(s.takeCompany(1)).toEqual(['c · heads (bench)']);
    expect(s.takeCompany(2)).toEqual(['b · ffn (bench)']);
  });

  it('leaves a benchmark that ran alone alone', () => {
    const s = new StageTracker();
    s.set(0, 'train', 'a · kd');
    s.set(0, 'eval', 'a · kd');
    s.set(0, null, 'a · kd');
    s.set(1, 'eval', 'b · ffn');
    s.set(1, 'bench', 'b · ffn');
    s.set(1, null, 'b · ffn');
    s.set(0, 'compress', 'a · next'); // after the benchmark
    expect(s.takeCompany(1)).toEqual([]);
  });

  it('tells what a contended benchmark shared the machine with, by kind', () => {
    const alone = fakePoint({ model: 'm', label: 'ffn', bytes: 1e6, glue: 0.5, timingExclusive: true }).result;
    expect(contendedBy(alone)).toEqual([]);
    expect(contendedBy(markContended(alone, ['m · kd (train)', 'n · (odd) (eval, pid 7)', 'm · kd (eval)']))).toEqual(['train', 'eval']);
    const busy = fakePoint({ model: 'm', label: 'ffn', bytes: 1e6, glue: 0.5, timingExclusive: false }).result; // the timing lock: 'busy'
    expect(contendedBy(busy)).toEqual(['another benchmark']);
    expect(contendedBy(markContended(busy, ['m · x (bench, pid 3)', 'm · y (compress)']))).toEqual(['another benchmark', 'compress', 'bench']);
    const noLock: PointResult = { ...alone, bench: { ...alone.bench, timing: { exclusive: false, waitedSeconds: 0, reason: 'cannot create /x/lock: EROFS' } } };
    expect(contendedBy(noLock)).toEqual(['no timing lock']);
  });

  it('marks a result contended, keeping what the timing lock recorded', () => {
    const alone = fakePoint({ model: 'm', label: 'ffn', bytes: 1e6, glue: 0.5, timingExclusive: true }).result;
    expect(markContended(alone, [])).toBe(alone);
    const shared = markContended(alone, ['m · kd (train)']);
    expect(shared.bench.timing).toEqual({
      ...alone.bench.timing,
      exclusive: false,
      alongside: ['m · kd (train)'],
    });
    expect(alone.bench.timing!.exclusive).toBe(true); // not changed in place
    const busy: PointResult = { ...alone, bench: { ...alone.bench, timing: { exclusive: false, waitedSeconds: 600, heldBy: 7, reason: 'busy' } } };
    expect(markContended(busy, ['m · kd (eval)']).bench.timing).toEqual({
      exclusive: false,
      waitedSeconds: 600,
      heldBy: 7,
      reason: 'busy',
      alongside: ['m · kd (eval)'],
    });
  });

  it('records what overlapped by kind, whatever the points are named', () => {
    const alone = fakePoint({ model: 'm', label: 'ffn', bytes: 1e6, glue: 0.5, timingExclusive: true }).result;
    // user-chosen names holding the reason's separator and a stage in parentheses
    const odd = markContended(alone, ['m · a; b (eval) c (compress)', 'm · x; busy (train, pid 4)']);
    expect(contendedBy(odd)).toEqual(['compress', 'train']);
    expect(contendedBy(markContended(odd, ['m · y (bench)']))).toEqual(['compress', 'train', 'bench']);
    // a result stored before `alongside` was recorded is still read from its reason
    const old: PointResult = {
      ...alone,
      bench: { ...alone.bench, timing: { exclusive: false, waitedSeconds: 0, reason: 'busy; other points on this machine were running m · kd (eval)' } },
    };
    expect(contendedBy(old)).toEqual(['another benchmark', 'eval']);
  });

  it('records what overlapped by kind for a benchmark contended by the timing lock alone, whatever its file is named', () => {
    const alone = fakePoint({ model: 'm', label: 'ffn', bytes: 1e6, glue: 0.5, timingExclusive: true }).result;
    // a lock file the user named holding the reason's separator and a stage in parentheses
    const reason = 'cannot create /x; other points on this machine were running y (eval)/lock: EROFS';
    const noLock = markContended({ ...alone, bench: { ...alone.bench, timing: { exclusive: false, waitedSeconds: 0, reason } } }, []);
    expect(noLock.bench.timing).toEqual({ exclusive: false, waitedSeconds: 0, reason, alongside: [] });
    expect(contendedBy(noLock)).toEqual(['no timing lock']);
    const busy = fakePoint({ model: 'm', label: 'ffn', bytes: 1e6, glue: 0.5, timingExclusive: false }).result;
    expect(contendedBy(markContended(busy, []))).toEqual(['another benchmark']);
    expect(contendedBy(markContended(markContended(busy, []), ['m · kd (train)']))).toEqual(['another benchmark', 'train']);
  });
});

describe('StageTracker with the stage board: other runners on the machine', () => {
  let board: string;
  beforeAll(() => {
    board = join(mkdtempSync(join(tmpdir(), 'stage-board-')), 'stages');
  });
  afterAll(() => rmSync(join(board, '..'), { recursive: true, force: true }));

  it('records the stages another runner ran during a benchmark: running when it started, or starting while it ran', () => {
    // two runners (two queue workers, a sweep beside a worker): trackers that share only the board
    const a = new StageTracker({ board });
    const b = new StageTracker({ board });
    a.set(0, 'train', 'a · kd');
    b.set(0, 'eval', 'b · ffn');
    b.set(0, 'bench', 'b · ffn');
    a.set(1, 'compress', 'c · heads');
    a.set(1, 'eval', 'c · heads');
    a.set(1, null, 'c · heads');
    b.set(0, null, 'b · ffn');
    a.set(1, 'compress', 'd · heads'); // after b's benchmark ended: not its company
    const me = process.pid;
    expect(b.takeCompany(0)).toEqual([`a · kd (train, pid ${me})`, `c · heads (compress, pid ${me})`, `c · heads (eval, pid ${me})`]);
    expect(b.takeCompany(0)).toEqual([]);
    // and the other way: a's benchmark while b compresses
    b.set(0, 'compress', 'e · ffn');
    a.set(0, 'bench', 'a · kd');
    a.set(0, null, 'a · kd');
    expect(a.takeCompany(0)).toEqual(['d · heads (compress)', `e · ffn (compress, pid ${me})`]);
    a.set(1, null, 'd · heads');
    b.set(0, null, 'e · ffn');
    expect(readdirSync(board)).toEqual([]); // idle runners leave nothing on the board
  });

  it("ignores and removes the files of a runner whose process is gone (killed), and never creates a taken benchmark's file", () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    writeFileSync(join(board, `${dead}-0-0.stage`), JSON.stringify({ stage: 'train', point: 'x · kd' }));
    writeFileSync(join(board, `${dead}-0-1.bench`), '');
    const a = new StageTracker({ board });
    a.set(0, 'bench', 'a · ffn');
    a.set(0, null, 'a · ffn');
    expect(a.takeCompany(0)).toEqual([]);
    a.set(0, 'eval', 'a · next');
    a.set(0, null, 'a · next');
    expect(readdirSync(board)).toEqual([]);
  });

  it("records two runners' benchmarks that overlapped as contended, both", () => {
    const a = new StageTracker({ board });
    const b = new StageTracker({ board });
    a.set(0, 'bench', 'a · ffn');
    b.set(0, 'bench', 'b · heads');
    b.set(0, null, 'b · heads');
    a.set(0, null, 'a · ffn');
    const me = process.pid;
    expect(a.takeCompany(0)).toEqual([`b · heads (bench, pid ${me})`]);
    expect(b.takeCompany(0)).toEqual([`a · ffn (bench, pid ${me})`]);
    expect(readdirSync(board)).toEqual([]);
  });

  it.runIf(processStartTime(process.pid) !== undefined)(
    'tells a runner from a later process given its pid by its start time: a file of the earlier one is ignored and removed',
    () => {
      const pid = process.ppid; // alive all along, but not the runner that wrote the file
      const start = processStartTime(pid)!;
      const reused = `${pid}@${BigInt(start) + 1n}-0-0.stage`;
      const live = `${pid}@${start}-0-0.stage`;
      writeFileSync(join(board, reused), JSON.stringify({ stage: 'train', point: 'x · kd' }));
      writeFileSync(join(board, live), JSON.stringify({ stage: 'eval', point: 'y · ffn' }));
      const a = new StageTracker({ board });
      a.set(0, 'bench', 'a · ffn');
      a.set(0, null, 'a · ffn');
      expect(a.takeCompany(0)).toEqual([`y · ffn (eval, pid ${pid})`]);
      expect(readdirSync(board)).toEqual([live]);
      rmSync(join(board, live));
    },
  );

  it('removes what a gone runner left half-written (.tmp, .taken), and leaves those of a running one', () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    const running = `${process.ppid}-0-0`;
    const left = [`${dead}-0-0.stage.k3x9.tmp`, `${dead}-0-1.bench.taken`, `${dead}-0-2.stage`];
    const kept = [`${running}.stage.k3x9.tmp`, `${running}.bench.taken`];
    for (const name of [...left, ...kept]) writeFileSync(join(board, name), '');
    const a = new StageTracker({ board });
    a.set(0, 'bench', 'a · ffn');
    a.set(0, null, 'a · ffn');
    expect(a.takeCompany(0)).toEqual([]); // a leftover is no stage
    expect(readdirSync(board).sort()).toEqual(kept.sort());
    for (const name of kept) rmSync(join(board, name));
  });

  it("makes the board folder, not its missing parents (TMPDIR, the timing lock's folder): without one, follows its own workers", () => {
    const missing = join(board, '..', 'no-such-tmpdir');
    const s = new StageTracker({ board: join(missing, 'timing.lock.stages') });
    s.set(0, 'train', 'a · kd');
    s.set(1, 'bench', 'b · ffn');
    s.set(1, null, 'b · ffn');
    expect(s.takeCompany(1)).toEqual(['a · kd (train)']);
    expect(existsSync(missing)).toBe(false);
  });

  // (spawned, with a time limit: Node's recursive mkdir under /proc spins for ever, deaf to signals)
  it.skipIf(!existsSync('/proc/self'))('with TMPDIR=/proc (a folder that takes no new entries), compress bench runs and says it timed without the lock', () => {
    const model = join(board, '..', 'bench-model.onnx');
    saveModel(tinyBert({ numLayers: 1 }), model);
    const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: '/proc', TSX_DISABLE_CACHE: '1' };
    delete env[TIMING_LOCK_ENV];
    const args = [join(import.meta.dirname, '../../bin/compress.mjs'), 'bench', model, '--batch', '1', '--seq', '8', '--repeats', '1', '--warmup', '0'];
    const r = spawnSync(process.execPath, args, { env, encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/timed without the machine-wide timing lock \(cannot create \/proc\/bert-compress-timing\.lock/);
  });

  it('without a usable board folder, follows its own workers as before', () => {
    const file = join(board, '..', 'a-file');
    writeFileSync(file, '');
    const s = new StageTracker({ board: join(file, 'stages') });
    s.set(0, 'train', 'a · kd');
    s.set(1, 'bench', 'b · ffn');
    s.set(1, null, 'b · ffn');
    expect(s.takeCompany(1)).toEqual(['a · kd (train)']);
    expect(existsSync(join(file, 'stages'))).toBe(false);
  });
});

describe('sweep --jobs 2 with a training step', () => {
  let t: TinySweep;
  const lockEnv = process.env[TIMING_LOCK_ENV];
  beforeAll(() => {
    t = writeTinySweep({ rows: 8 });
    process.env[TIMING_LOCK_ENV] = join(t.root, 'timing.lock'); // this test's own lock: no other benchmark takes it
  });
  afterAll(() => {
    if (lockEnv === undefined) delete process.env[TIMING_LOCK_ENV];
    else process.env[TIMING_LOCK_ENV] = lockEnv;
    t?.cleanup();
  });

  it('records a point benchmarked while the other worker trained as contended, and the report marks it', async () => {
    const file = join(t.root, 'busy.yaml');
    writeFileSync(
      file,
      `name: busy
glueDir: glue
models:
  - {path: models/tiny-sst2, tasks: [SST-2]}
  - {path: models/tiny-stsb, tasks: [STS-B]}
pipelines:
  - baseline
  - {name: long-train, models: [tiny-sst2], steps: [{pass: train, settings: {epochs: 5000, batchSize: 4, evalEachEpoch: false, checkpointEvery: 0}}]}
  - {name: ffn, models: [tiny-stsb], steps: [{pass: prune-ffn, settings: {ratio: 0.5}}]}
bench: {batch: [1], seq: [8], repeats: 2, warmup: 1, threads: 1}
eval: {threads: 1}
keepModels: false
`,
    );
    const store = join(t.root, 'busy.sqlite');
    const controller = new AbortController();
    // the two baselines first, one per worker; then one worker trains while the other runs ffn from start to end,
    // after which the sweep is stopped (the training, still running, stops with a checkpoint)
    const summary = await runSweep({
      file,
      store,
      jobs: 2,
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'finished' && e.point.label === 'ffn') controller.abort();
      },
    });
    expect(summary).toMatchObject({ ran: 3, failed: [], interrupted: true }); // the training was still running
    const s = SweepStore.open(store, { readonly: true });
    const ffn = s.finished().find((p) => p.label === 'ffn')!;
    s.close();
    expect(ffn.result.bench.timing).toMatchObject({
      exclusive: false,
      alongside: expect.arrayContaining([expect.stringContaining('tiny-sst2 · long-train (train')]),
    });

    const md = toMarkdown(loadReport({ store }));
    expect(md).toMatch(/^\| tiny-stsb \| ffn \|[^\n]*×\d+\.\d\d† \|/m);
    expect(md).toContain('† Timed without the machine to itself');
    expect(md).toMatch(/a test suite; overlapped: [a-z, ]*\btrain\b[a-z, ]*\): the speed-up/);
  });
});
