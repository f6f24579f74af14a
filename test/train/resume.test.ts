/**
 * Resuming `compress distill` as a user meets it: the CLI is spawned, stopped once its first checkpoint is on disk
 * (SIGKILL: no chance to save; SIGINT, SIGTERM: checkpoint and exit 130, 143), and rerun with the same command. The resumed
 * model's initializers must equal, bit for bit, those of a run that was never interrupted (one onnxruntime thread;
 * batches, dropout masks and the schedule are functions of the seed and the step).
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/onnx/load.ts';
import { runTraining } from '../../src/train/run.ts';
import { SettingsError } from '../../src/errors.ts';
import { TRAINING_VERSIONS, trainingVersion } from '../../src/train/versions.ts';
import { GLUE_DIR, TEACHERS, hasGlue } from '../helpers/paths.ts';

const BIN = resolve(__dirname, '../../bin/compress.mjs');
const TEACHER = join(TEACHERS, 'sst2-L2H256');
const haveShared = hasGlue && existsSync(join(TEACHER, 'model.onnx'));

const work = mkdtempSync(join(tmpdir(), 'bert-compress-resume-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** 800 examples × 2 epochs at batch 8 = 200 steps (100 an epoch; a few seconds), dropout on, a checkpoint every 20 steps. */
const args = (output: string) => [
  BIN,
  'distill',
  '--teacher',
  TEACHER,
  '--student',
  'bert:layers=1,hidden=32,heads=2,intermediate=64',
  '--task',
  'SST-2',
  '-o',
  output,
  '--max-examples',
  '800',
  '--max-length',
  '32',
  '--epochs',
  '2',
  '--batch-size',
  '8',
  '--lr',
  '1e-3',
  '--checkpoint-every',
  '20',
  '--threads',
  '1',
  '--glue-dir',
  GLUE_DIR,
  '--cache-dir',
  join(work, 'cache'),
];

async function runToEnd(output: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, args(output), { timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

const CHECKPOINT = /^checkpoint-(\d+)\.safetensors$/;
/** The steps of the checkpoint files in a work folder. */
const checkpoints = (dir: string) =>
  existsSync(dir)
    ? readdirSync(dir)
        .map((f) => CHECKPOINT.exec(f))
        .filter((m) => m !== null)
        .map((m) => Number(m[1]))
    : [];

/** Starts the run, sends `signal` once a checkpoint of step ≥ `minStep` is in OUT.train/, and waits for the process to end. */
async function interruptAfterCheckpoint(
  output: string,
  signal: NodeJS.Signals,
  minStep: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; sent: boolean }> {
  const child = spawn(process.execPath, args(output), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.on('exit', (code, sig) => done({ code, signal: sig })));
  let running = true;
  void exited.then(() => (running = false));
  let sent = false;
  while (running) {
    if (checkpoints(`${output}.train`).some((step) => step >= minStep)) {
      sent = child.kill(signal);
      break;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return { ...(await exited), stderr, sent };
}

/** Every initializer of the model, name → raw bytes (hex would be slow; compared with Buffer.equals). */
function initializers(path: string): Map<string, Buffer> {
  return new Map([...loadModel(path).graph.initializers].map(([name, t]) => [name, Buffer.from(t.data)]));
}

function expectSameInitializers(actual: string, expected: string): void {
  const a = initializers(actual);
  const b = initializers(expected);
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
  const differing = [...b].filter(([name, bytes]) => !a.get(name)!.equals(bytes)).map(([name]) => name);
  expect(differing).toEqual([]);
}

describe.skipIf(!haveShared)('compress distill resumes after a kill (needs ../shared/glue and ../shared/teachers/sst2-L2H256)', () => {
  const reference = join(work, 'reference', 'model.onnx');

  beforeAll(async () => {
    const r = await runToEnd(reference);
    expect(r.code, r.stderr).toBe(0);
  });

  it('SIGKILL after the first checkpoint (epoch 1), then the same command: the same weights as an uninterrupted run', async () => {
    const output = join(work, 'killed', 'model.onnx');
    const killed = await interruptAfterCheckpoint(output, 'SIGKILL', 1);
    expect(killed.sent, 'the run ended before its first checkpoint could be interrupted').toBe(true);
    expect(killed.signal).toBe('SIGKILL');
    expect(existsSync(output)).toBe(false);
    expect(checkpoints(`${output}.train`).length).toBeGreaterThan(0);

    const rerun = await runToEnd(output);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toMatch(/resuming from step [1-9]\d*/);
    expect(existsSync(`${output}.train`)).toBe(false);
    expectSameInitializers(output, reference);
  });

  it('SIGINT in epoch 2 checkpoints and exits 130 with how to resume; the rerun (best epoch kept on disk) gives the same weights', async () => {
    const output = join(work, 'interrupted', 'model.onnx');
    const stopped = await interruptAfterCheckpoint(output, 'SIGINT', 120);
    expect(stopped.sent, 'the run ended before its first checkpoint could be interrupted').toBe(true);
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.stderr).toMatch(/interrupted at step \d+; rerun the same command to resume/);
    expect(existsSync(output)).toBe(false);
    expect(checkpoints(`${output}.train`).length).toBeGreaterThan(0);

    const rerun = await runToEnd(output);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toMatch(/resuming from step 1[2-9]\d/);
    expect(rerun.stdout).toMatch(/best epoch: [12]/);
    expect(existsSync(`${output}.train`)).toBe(false);
    expectSameInitializers(output, reference);
  });

  it('SIGTERM (timeout, docker stop) stops as Ctrl-C does: after its step, with a checkpoint to resume from, exit 143', async () => {
    const output = join(work, 'terminated', 'model.onnx');
    const stopped = await interruptAfterCheckpoint(output, 'SIGTERM', 1);
    expect(stopped.sent, 'the run ended before its first checkpoint could be interrupted').toBe(true);
    expect(stopped.code, stopped.stderr).toBe(143);
    expect(stopped.stderr).toMatch(/interrupted at step (\d+); rerun the same command to resume/);
    expect(stopped.stderr).toContain('(SIGTERM again to quit at once)');
    const step = Number(/interrupted at step (\d+)/.exec(stopped.stderr)![1]);
    expect(checkpoints(`${output}.train`)).toContain(step);
    expect(existsSync(output)).toBe(false);
  });
});

describe.skipIf(!haveShared)('runTraining stopped after the last step of an epoch (needs ../shared/glue and ../shared/teachers/sst2-L2H256)', () => {
  /** 32 examples at batch 8: 4 steps an epoch, 2 epochs, a dev evaluation after each. */
  const job = (name: string): Parameters<typeof runTraining>[0] => ({
    task: 'SST-2',
    teacher: TEACHER,
    student: 'bert:layers=1,hidden=32,heads=2,intermediate=64',
    output: join(work, name, 'model.onnx'),
    glueDir: GLUE_DIR,
    cacheDir: join(work, 'cache'),
    maxExamples: 32,
    maxLength: 32,
    settings: { epochs: 2, batchSize: 8, lr: 1e-3, threads: 1 },
  });

  /** The uninterrupted run, trained once for the tests below. */
  let referenceRun: ReturnType<typeof runTraining> | undefined;
  const uninterrupted = () => (referenceRun ??= runTraining(job('epoch-end-reference')));

  /** The rerun of the run `name` stopped at step 4 resumes there and ends as the uninterrupted run: epochs, best epoch, weights. */
  async function expectResumedAsUninterrupted(name: string): Promise<void> {
    const reference = await uninterrupted();
    const logs: string[] = [];
    const resumed = await runTraining({ ...job(name), log: (l) => logs.push(l) });
    expect(logs).toContain('resuming from step 4 (epoch 1)');
    const epochs = (r: typeof resumed) => r.lineage!.epochs.map(({ epoch, loss, score }) => ({ epoch, loss, score }));
    expect(epochs(resumed)).toEqual(epochs(reference));
    expect(resumed.lineage!.bestEpoch).toBe(reference.lineage!.bestEpoch);
    expectSameInitializers(join(work, name, 'model.onnx'), join(work, 'epoch-end-reference', 'model.onnx'));
  }

  it('the rerun still ends that epoch (its dev score, its record, the best epoch): the same epochs and weights as an uninterrupted run', async () => {
    await uninterrupted();
    const controller = new AbortController();
    const stopped = await runTraining({
      ...job('epoch-end'),
      signal: controller.signal,
      onStep: (s) => {
        if (s.step === 4) controller.abort(); // epoch 1's last step
      },
    });
    expect(stopped.interrupted).toBe(true);
    await expectResumedAsUninterrupted('epoch-end');
  });

  it("stopped during an epoch's dev evaluation: it stops between two dev batches, keeps the epoch's steps, and the rerun ends the epoch as an uninterrupted run", async () => {
    await uninterrupted();
    const controller = new AbortController();
    const logs: string[] = [];
    const stopped = await runTraining({
      ...job('during-eval'),
      signal: controller.signal,
      log: (l) => logs.push(l),
      onStep: (s) => {
        // (after epoch 1's last step, once its dev evaluation (872 examples, 14 batches) has begun)
        if (s.step === 4) setImmediate(() => controller.abort());
      },
    });
    expect(stopped.interrupted).toBe(true);
    expect(logs).toContain("stopped during epoch 1's dev evaluation: a rerun evaluates it again");
    expect(logs.filter((l) => l.startsWith('epoch 1:'))).toEqual([]); // (no score of a partial evaluation)
    expect(logs.at(-1)).toMatch(/^interrupted at step 4; /); // (no step of epoch 2 ran)
    expect(checkpoints(join(work, 'during-eval', 'model.onnx.train'))).toContain(4);
    await expectResumedAsUninterrupted('during-eval');
  });
});

describe.skipIf(!haveShared)('runTraining on the checkpoints of another run (needs ../shared/glue and ../shared/teachers)', () => {
  const job = (teacher: string, lr: number): Parameters<typeof runTraining>[0] => ({
    task: 'SST-2',
    teacher: join(TEACHERS, teacher),
    student: 'bert:layers=1,hidden=32,heads=2,intermediate=64',
    output: join(work, 'other-run', 'model.onnx'),
    glueDir: GLUE_DIR,
    cacheDir: join(work, 'cache'),
    maxExamples: 32,
    maxLength: 32,
    settings: { epochs: 1, batchSize: 8, lr, threads: 1, evalEachEpoch: false },
  });
  const workDir = join(work, 'other-run', 'model.onnx.train');

  it('refuses to resume them with another teacher or other settings, in one line saying what differs, and keeps them', async () => {
    const controller = new AbortController();
    const stopped = await runTraining({
      ...job('sst2-L2H256', 1e-3),
      signal: controller.signal,
      onStep: (s) => (s.step === 2 ? controller.abort() : undefined),
    });
    expect(stopped.interrupted).toBe(true);
    expect(checkpoints(workDir)).toEqual([2]);

    const anotherTeacher = runTraining(job('sst2-L4H256', 1e-3));
    await expect(anotherTeacher).rejects.toThrow(SettingsError);
    await expect(anotherTeacher).rejects.toThrow(
      `${workDir} holds the checkpoints (step 2) of a run with another teacher: rerun with the settings it was started with to resume it, or remove ${workDir} to start over`,
    );
    await expect(runTraining(job('sst2-L2H256', 2e-3))).rejects.toThrow(/of a run with lr 0\.001 \(this run: 0\.002\): rerun/);
    expect(checkpoints(workDir)).toEqual([2]);

    const logs: string[] = [];
    const resumed = await runTraining({ ...job('sst2-L2H256', 1e-3), log: (l) => logs.push(l) });
    expect(logs).toContain('resuming from step 2 (epoch 1)');
    expect(resumed.lineage!.steps).toBe(4);
  });

  it('refuses to resume the checkpoints another version of the step wrote, saying so, and keeps them, which the version that wrote them resumes', async () => {
    const other = { ...job('sst2-L2H256', 1e-3), output: join(work, 'other-version', 'model.onnx') };
    const dir = join(work, 'other-version', 'model.onnx.train');
    const controller = new AbortController();
    await runTraining({ ...other, signal: controller.signal, onStep: (s) => (s.step === 2 ? controller.abort() : undefined) });
    expect(checkpoints(dir)).toEqual([2]);
    const versions = TRAINING_VERSIONS as Record<'train' | 'distill', Record<'bert' | 'bilstm', number>>;
    const kinds = versions.distill;
    const released = trainingVersion('distill');
    versions.distill = { bert: released + 1, bilstm: released + 1 };
    try {
      await expect(runTraining(other)).rejects.toThrow(
        `${dir} holds the checkpoints (step 2) of a run with version ${released} of the training step (this run: version ${released + 1}), which this bert-compress does not resume: remove ${dir} to start over`,
      );
    } finally {
      versions.distill = kinds;
    }
    expect(checkpoints(dir)).toEqual([2]);
    const logs: string[] = [];
    const resumed = await runTraining({ ...other, log: (l) => logs.push(l) });
    expect(logs).toContain('resuming from step 2 (epoch 1)');
    expect(resumed.lineage).toMatchObject({ steps: 4, version: released });
  });

  it("a sweep's step (otherJob 'start-over') starts over instead, and says so", async () => {
    const controller = new AbortController();
    await runTraining({ ...job('sst2-L2H256', 1e-3), signal: controller.signal, onStep: (s) => (s.step === 2 ? controller.abort() : undefined) });
    const logs: string[] = [];
    const r = await runTraining({ ...job('sst2-L4H256', 1e-3), otherJob: 'start-over', log: (l) => logs.push(l) });
    expect(logs).toContain(`${workDir}: not resuming the checkpoints (step 2) of a run with another teacher: starting over`);
    expect(r.lineage!.steps).toBe(4);
  });
});
