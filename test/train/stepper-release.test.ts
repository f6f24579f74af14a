/**
 * A training run releases its training session (onnxruntime's, over the optimizer's memory) on every way out, not
 * only where it refuses by name: a step whose loss is no longer finite, a progress callback that throws, a run that
 * ends. Counted here over every session runtime/model-session.ts opens (the training graph's and the dev
 * evaluation's).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { runTraining, type TrainRunOptions } from '../../src/train/run.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';

const sessions = vi.hoisted(() => ({ opened: 0, released: 0, releaseFails: false }));
vi.mock('../../src/runtime/model-session.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/runtime/model-session.ts')>();
  return {
    ...original,
    openModelSession: async (...args: Parameters<typeof original.openModelSession>) => {
      const session = await original.openModelSession(...args);
      sessions.opened++;
      const release = session.release.bind(session);
      session.release = async () => {
        sessions.released++;
        await release();
        if (sessions.releaseFails) throw new Error('the release failed');
      };
      return session;
    },
  };
});

const work = mkdtempSync(join(tmpdir(), 'bert-compress-stepper-release-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const student = writeModelFolder(join(work, 'student'), tinyBert());
const glueDir = join(work, 'glue');
writeGlueTask(glueDir, 'SST-2', 16, ['train', 'dev']);

let n = 0;
function run(more: Partial<TrainRunOptions>) {
  return runTraining({
    task: 'SST-2',
    student,
    glueDir,
    output: join(work, `out-${n++}`, 'model.onnx'),
    settings: { epochs: 2, batchSize: 4, threads: 1, lr: 1e-3, evalEachEpoch: false },
    ...more,
  });
}

beforeEach(() => {
  sessions.opened = 0;
  sessions.released = 0;
  sessions.releaseFails = false;
});

describe("a training run's sessions", () => {
  it('are released when a step diverges (its loss no longer finite)', async () => {
    await expect(run({ settings: { epochs: 2, batchSize: 4, threads: 1, lr: 1e30, maxGradNorm: 0, evalEachEpoch: false } })).rejects.toThrow(
      /^training diverged at step \d+ \(loss (NaN|-?Infinity)\): lower --lr$/,
    );
    expect(sessions.opened).toBeGreaterThan(0);
    expect(sessions.released).toBe(sessions.opened);
  });

  it('are released when a progress callback throws', async () => {
    await expect(
      run({
        onStep: (s) => {
          if (s.step === 2) throw new Error('the caller gave up');
        },
      }),
    ).rejects.toThrow('the caller gave up');
    expect(sessions.opened).toBeGreaterThan(0);
    expect(sessions.released).toBe(sessions.opened);
  });

  it('are released when the optimizer is refused after the training session opened', async () => {
    // (a student whose weight matrices are all zero: --embedding-lr scaled has nothing to scale against, refused by
    // createStepper once the training graph's session is open)
    const zero = writeModelFolder(join(work, 'zero-student'), tinyBert({}, { std: 0 }));
    await expect(
      run({ student: zero, settings: { epochs: 1, batchSize: 4, threads: 1, lr: 1e-3, embeddingLr: 'scaled', evalEachEpoch: false } }),
    ).rejects.toThrow(/^--embedding-lr scaled: the student has no non-zero weight matrix to scale against; give a number$/);
    expect(sessions.opened).toBeGreaterThan(0);
    expect(sessions.released).toBe(sessions.opened);
  });

  it('are released when a progress callback throws, whose error a release that fails too does not hide', async () => {
    await expect(
      run({
        onStep: (s) => {
          if (s.step !== 2) return;
          sessions.releaseFails = true; // (the sessions released from here on, the training graph's)
          throw new Error('the caller gave up');
        },
      }),
    ).rejects.toThrow('the caller gave up');
    expect(sessions.opened).toBeGreaterThan(0);
    expect(sessions.released).toBe(sessions.opened);
  });

  it('are released once each by a run that ends', async () => {
    const r = await run({ settings: { epochs: 1, batchSize: 4, threads: 1, lr: 1e-3 } });
    expect(r.interrupted).toBe(false);
    expect(sessions.opened).toBeGreaterThan(1); // (the training graph's and the dev evaluation's)
    expect(sessions.released).toBe(sessions.opened);
  });
});
