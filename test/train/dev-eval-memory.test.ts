/**
 * A trainer's dev evaluation hands onnxruntime the student's parameters where they are (in-memory external data),
 * where it serialized the whole student each epoch: a copy of the weights on top of the run's own (its peak).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { totalInitializerBytes } from '../../src/onnx/save.ts';
import { runTraining } from '../../src/train/run.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';

/** What each session of the run was opened on: the model's bytes and the bytes of the files given in memory. */
const opened = vi.hoisted(() => [] as Array<{ model: number; files: Uint8Array[] }>);
/** Whether the first step has run: the sessions opened since are the dev evaluations'. */
const stepped = vi.hoisted(() => ({ yes: false }));
vi.mock('../../src/runtime/session.ts', async (importOriginal) => {
  const session = await importOriginal<typeof import('../../src/runtime/session.ts')>();
  return {
    ...session,
    openSession: (...args: Parameters<typeof session.openSession>) => {
      const [model] = args;
      if (typeof model !== 'string' && stepped.yes) opened.push({ model: model.byteLength, files: [] });
      return session.openSession(...args);
    },
    openSessionWith: (...args: Parameters<typeof session.openSessionWith>) => {
      const [model, , files] = args;
      if (typeof model !== 'string' && stepped.yes) opened.push({ model: model.byteLength, files: (files ?? []).map((f) => f.data) });
      return session.openSessionWith(...args);
    },
  };
});

const work = mkdtempSync(join(tmpdir(), 'bert-compress-dev-eval-memory-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("a trainer's dev evaluation", () => {
  it('opens the student without serializing its weights', async () => {
    const glueDir = join(work, 'glue');
    writeGlueTask(glueDir, 'SST-2', 8, ['train', 'dev']);
    // (a wide FFN: the weights outweigh the graphs' own bytes, the training graph's too)
    const model = tinyBert({ intermediateSize: 1024 }, { seed: 3 });
    const weights = totalInitializerBytes(model);
    const student = writeModelFolder(join(work, 'student'), model);
    opened.length = 0;
    stepped.yes = false;
    const result = await runTraining({
      task: 'SST-2',
      student,
      glueDir,
      output: join(work, 'out', 'model.onnx'),
      settings: { epochs: 2, batchSize: 4, threads: 1, dropout: 0 },
      onStep: () => {
        stepped.yes = true;
      },
    });
    const epochs = result.lineage!.epochs;
    expect(epochs.map((e) => typeof e.score)).toEqual(['number', 'number']);
    // the two evaluations, after the steps: neither was handed the weights serialized, but the parameters themselves
    expect(opened).toHaveLength(2);
    for (const o of opened) {
      expect(o.model, 'bytes of the model handed to onnxruntime').toBeLessThan(weights / 4);
      expect(o.files.reduce((n, f) => n + f.byteLength, 0)).toBeGreaterThan(weights * 0.9);
      expect(new Set(o.files.map((f) => f.buffer)).size, "views of the optimizer's one memory, not copies").toBe(1);
    }
  });
});
