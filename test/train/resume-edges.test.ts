/**
 * Resuming `runTraining` at the edges of a run: killed after the final checkpoint but before the model is written
 * (simulated: the model write throws once, leaving the work folder as a kill there would), and stopped after the last
 * step of TinyBERT's intermediate phase (phase 1 of `--stage task`); and the students test/train/resume.test.ts's
 * BERT one leaves out, stopped mid-run: a Distilled BiLSTM's cell weights and BERT-PKD's learned projection come back
 * from the checkpoint, so the rerun writes what an uninterrupted run writes.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { loadModel } from '../../src/onnx/load.ts';
import { runTraining } from '../../src/train/run.ts';
import { GLUE_DIR, TEACHERS, hasGlue } from '../helpers/paths.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';

/** Set to make the next model write fail as a kill before it would (the checkpoints stay). */
const killBeforeWrite = vi.hoisted(() => ({ armed: false }));
vi.mock('../../src/onnx/save.ts', async (original) => {
  const { killableSave } = await import('../helpers/kill-before-write.ts');
  return killableSave(await original<typeof import('../../src/onnx/save.ts')>(), killBeforeWrite);
});

const TEACHER = join(TEACHERS, 'sst2-L2H256');
const haveShared = hasGlue && existsSync(join(TEACHER, 'model.onnx'));
const work = mkdtempSync(join(tmpdir(), 'bert-compress-resume-edges-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** 32 examples at batch 16: 2 steps an epoch. */
const job = (name: string, more: Partial<Parameters<typeof runTraining>[0]> = {}): Parameters<typeof runTraining>[0] => ({
  task: 'SST-2',
  teacher: TEACHER,
  student: 'bert:layers=1,hidden=32,heads=2,intermediate=64',
  output: join(work, name, 'model.onnx'),
  glueDir: GLUE_DIR,
  cacheDir: join(work, 'cache'),
  maxExamples: 32,
  maxLength: 32,
  settings: { epochs: 2, batchSize: 16, lr: 1e-3, threads: 1 },
  ...more,
});

const epochs = (r: Awaited<ReturnType<typeof runTraining>>) => r.lineage!.phases.map((p) => p.epochs.map(({ epoch, loss, score }) => ({ epoch, loss, score })));

function expectSameInitializers(actual: string, expected: string): void {
  const bytes = (path: string) => new Map([...loadModel(path).graph.initializers].map(([name, t]) => [name, Buffer.from(t.data)]));
  const a = bytes(actual);
  const b = bytes(expected);
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
  expect([...b].filter(([name, v]) => !a.get(name)!.equals(v)).map(([name]) => name)).toEqual([]);
}

describe.skipIf(!haveShared)('runTraining resumed at the edges of a run (needs ../shared/glue and ../shared/teachers/sst2-L2H256)', () => {
  it('killed after the final checkpoint, before the write: the rerun says every epoch was done and writes the same model', async () => {
    const reference = await runTraining(job('written-reference'));
    killBeforeWrite.armed = true;
    await expect(runTraining(job('killed-before-write'))).rejects.toThrow('killed before the model was written');
    expect(existsSync(join(work, 'killed-before-write', 'model.onnx.train'))).toBe(true);

    const logs: string[] = [];
    const resumed = await runTraining(job('killed-before-write', { log: (l) => logs.push(l) }));
    expect(logs.filter((l) => l.startsWith('resuming'))).toEqual(['resuming from step 4: all 2 epochs were done, nothing is left to train']);
    expect(epochs(resumed)).toEqual(epochs(reference));
    expect(resumed.lineage!.bestEpoch).toBe(reference.lineage!.bestEpoch);
    expectSameInitializers(join(work, 'killed-before-write', 'model.onnx'), join(work, 'written-reference', 'model.onnx'));
  });

  it("stopped after the last step of the task stage's intermediate phase: the rerun keeps phase 1's epochs as an uninterrupted run has them", async () => {
    // phase 1 (intermediate KD, no dev evaluation) 1 epoch of 2 steps, then phase 2 (prediction KD) 1 epoch
    const twoPhases = (name: string, more: Partial<Parameters<typeof runTraining>[0]> = {}) =>
      job(name, { settings: { epochs: 1, batchSize: 16, lr: 1e-3, threads: 1 }, distill: { intermediate: 'tinybert' }, ...more });
    const reference = await runTraining(twoPhases('phases-reference'));
    expect(reference.lineage!.phases.map((p) => [p.name, p.epochs.length])).toEqual([
      ['intermediate-layer distillation', 1],
      ['prediction-layer distillation', 1],
    ]);
    const controller = new AbortController();
    let phase = 0;
    const stopped = await runTraining(
      twoPhases('phases-stopped', {
        signal: controller.signal,
        log: (l) => (l.startsWith('phase ') ? phase++ : undefined),
        onStep: (s) => (phase === 1 && s.step === 2 ? controller.abort() : undefined), // phase 1's last step
      }),
    );
    expect(stopped.interrupted).toBe(true);

    const logs: string[] = [];
    const resumed = await runTraining(twoPhases('phases-stopped', { log: (l) => logs.push(l) }));
    expect(logs).toContain('resuming from step 2 (epoch 1)');
    expect(epochs(resumed)).toEqual(epochs(reference));
    const counts = (r: typeof resumed) => r.lineage!.phases.map((p) => ({ steps: p.steps, examplesSeen: p.examplesSeen, bestEpoch: p.bestEpoch }));
    expect(counts(resumed)).toEqual(counts(reference));
    expectSameInitializers(join(work, 'phases-stopped', 'model.onnx'), join(work, 'phases-reference', 'model.onnx'));
  });

  it.each([
    ['a Distilled BiLSTM student', 'bilstm', { student: 'bilstm:hidden=8,embedding=16,mlp=8' }],
    ["BERT-PKD (its patient terms' projection learned)", 'pkd', { distill: { intermediate: 'pkd-skip', layerMap: [[1, 1]] } }],
  ] as const)('%s stopped in epoch 2: the rerun writes the weights (and projections) of an uninterrupted run', async (_, name, more) => {
    const run = (out: string, extra: Partial<Parameters<typeof runTraining>[0]> = {}) =>
      job(`${name}-${out}`, { ...(more as Partial<Parameters<typeof runTraining>[0]>), ...extra });
    const reference = await runTraining(run('reference'));
    const controller = new AbortController();
    const stopped = await runTraining(run('stopped', { signal: controller.signal, onStep: (s) => (s.step === 3 ? controller.abort() : undefined) }));
    expect(stopped.interrupted).toBe(true);
    const logs: string[] = [];
    const resumed = await runTraining(run('stopped', { log: (l) => logs.push(l) }));
    expect(logs).toContain('resuming from step 3 (epoch 2)');
    expect(epochs(resumed)).toEqual(epochs(reference));
    expect(resumed.lineage!.bestEpoch).toBe(reference.lineage!.bestEpoch);
    expectSameInitializers(join(work, `${name}-stopped`, 'model.onnx'), join(work, `${name}-reference`, 'model.onnx'));
    const projections = (out: string) => join(work, `${name}-${out}`, 'model.onnx.projections.safetensors');
    expect(existsSync(projections('reference'))).toBe(name === 'pkd');
    if (name === 'pkd') expect(readFileSync(projections('stopped')).equals(readFileSync(projections('reference')))).toBe(true);
  });

  it('a rerun with other --intermediate-epochs is refused naming intermediateEpochs, not the --epochs it did not change', async () => {
    const general = (name: string, intermediateEpochs: number, more: Partial<Parameters<typeof runTraining>[0]> = {}) =>
      job(name, {
        settings: { epochs: 1, batchSize: 16, lr: 1e-3, threads: 1 },
        distill: { intermediate: 'tinybert', stage: 'general', intermediateEpochs },
        ...more,
      });
    const controller = new AbortController();
    const stopped = await runTraining(
      general('general-stopped', 2, { signal: controller.signal, onStep: (s) => (s.step === 3 ? controller.abort() : undefined) }),
    );
    expect(stopped.interrupted).toBe(true);
    await expect(runTraining(general('general-stopped', 3))).rejects.toThrow(/ of a run with intermediateEpochs 2 \(this run: 3\): rerun with the settings/);
    // (no intermediateEpochs given: the phase runs --epochs, and a change is named so)
    const plain = (name: string, epochs: number, more: Partial<Parameters<typeof runTraining>[0]> = {}) =>
      job(name, { settings: { epochs, batchSize: 16, lr: 1e-3, threads: 1 }, distill: { intermediate: 'tinybert', stage: 'general' }, ...more });
    const stop2 = new AbortController();
    expect(
      (await runTraining(plain('general-plain', 2, { signal: stop2.signal, onStep: (s) => (s.step === 3 ? stop2.abort() : undefined) }))).interrupted,
    ).toBe(true);
    await expect(runTraining(plain('general-plain', 3))).rejects.toThrow(/ of a run with epochs 2 \(this run: 3\): rerun with the settings/);
  });
});

describe('stopped while the teacher runs over the training set', () => {
  const dir = join(work, 'stopped-teacher');
  const teacher = writeModelFolder(join(dir, 'teacher'), tinyBert());
  const glueDir = join(dir, 'glue');
  writeGlueTask(glueDir, 'SST-2', 40, ['train', 'dev']);

  /** A distill run (its model in dir/`out`) whose signal is aborted before it starts: interrupted; the lines it logged. */
  async function stoppedAtOnce(out: string, cacheDir: string, distill?: { augment: number }): Promise<string[]> {
    const stop = new AbortController();
    stop.abort();
    const lines: string[] = [];
    const result = await runTraining({
      task: 'SST-2',
      teacher,
      student: 'every-other',
      glueDir,
      cacheDir,
      output: join(dir, out, 'model.onnx'),
      settings: { epochs: 1, batchSize: 4, threads: 1 },
      ...(distill ? { distill } : {}),
      signal: stop.signal,
      log: (line) => lines.push(line),
    });
    // (where it stopped, as data for the sweep's closing line: what its last log line says)
    expect(result).toEqual({ interrupted: true, stopped: { recomputes: distill?.augment ? 'the augmented examples' : "the teacher's outputs" } });
    return lines;
  }

  it('stops between its batches: interrupted, nothing cached, no checkpoint and no model, not after the whole pass and a first step', async () => {
    const cacheDir = join(dir, 'cache');
    const lines = await stoppedAtOnce('out', cacheDir);
    expect(lines.at(-1)).toBe("interrupted while the teacher's outputs were computed, before any training step: a rerun computes them again");
    expect(existsSync(cacheDir) ? readdirSync(cacheDir, { recursive: true }).filter((f) => String(f).endsWith('.bin')) : []).toEqual([]);
    expect(existsSync(join(dir, 'out', 'model.onnx.train'))).toBe(false);
    expect(existsSync(join(dir, 'out', 'model.onnx'))).toBe(false);
  });

  it('with --augment, stops between the blocks of its neighbour search: interrupted, no augmented examples cached, nor teacher outputs', async () => {
    const cacheDir = join(dir, 'cache-augment');
    const lines = await stoppedAtOnce('out-augment', cacheDir, { augment: 1 });
    expect(lines.at(-1)).toBe('interrupted while the augmented examples were computed, before any training step: a rerun computes them again');
    const cached = existsSync(cacheDir) ? readdirSync(cacheDir, { recursive: true }).map(String) : [];
    expect(cached.filter((f) => f.endsWith('.jsonl') || f.endsWith('.bin'))).toEqual([]);
    expect(existsSync(join(dir, 'out-augment', 'model.onnx.train'))).toBe(false);
    expect(existsSync(join(dir, 'out-augment', 'model.onnx'))).toBe(false);
  });
});
