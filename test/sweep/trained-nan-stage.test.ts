/**
 * A sweep point's stage of passes after a training stage refuses the model that stage made when it computes NaN or
 * Infinity: a refusal of a model the point made (a ModelLoadError, which a sweep retries: madeModelRefusal), not of
 * the point's files (a NonFiniteInputError, which a sweep stores as a refusal of its files and fails again unrun until
 * they change, though they never held the NaN). The trained model holding NaN is modelled by a train step whose
 * output has one FFN weight set to NaN after training wrote it (training itself refuses a NaN loss or parameter).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import { ModelLoadError, NonFiniteInputError } from '../../src/errors.ts';
import { float32Tensor, loadModel, readFloat32, saveModel } from '../../src/onnx/index.ts';
import { planSweep, type SweepPoint } from '../../src/sweep/plan.ts';
import { runPoint } from '../../src/sweep/point.ts';
import { parseSweep } from '../../src/sweep/spec.ts';
import { writeTinySweep, type TinySweep } from './tiny-sweep.ts';

vi.mock('../../src/train/run.ts', async (importOriginal) => {
  const orig = await importOriginal<typeof import('../../src/train/run.ts')>();
  return {
    ...orig,
    runTraining: async (...args: Parameters<typeof orig.runTraining>) => {
      const result = await orig.runTraining(...args);
      // (the trained model: one weight of its first FFN set to NaN, in place)
      const output = args[0].output;
      const model = loadModel(output);
      const name = findBert(model).layers[0]!.ffn.in.weight;
      const w = readFloat32(model.graph.initializers.get(name)!).slice();
      w[3] = Number.NaN;
      model.graph.initializers.set(name, float32Tensor(name, model.graph.initializers.get(name)!.dims, w));
      saveModel(model, output);
      return result;
    },
  };
});

let t: TinySweep;
let points: SweepPoint[];
beforeAll(async () => {
  t = writeTinySweep({ rows: 8 });
  const doc = {
    models: [{ path: 'models/tiny-sst2', tasks: ['SST-2'] }],
    pipelines: [
      {
        name: 't-ffn',
        steps: [
          { pass: 'train', settings: { epochs: 1, batchSize: 8, evalEachEpoch: false } },
          { pass: 'prune-ffn', settings: { ratio: 0.5 } },
        ],
      },
      // (int8 reads no weight's value that it would refuse: compress's check of its input refuses it)
      {
        name: 't-q',
        steps: [
          { pass: 'train', settings: { epochs: 1, batchSize: 8, evalEachEpoch: false } },
          { pass: 'quantize', settings: { mode: 'int8' } },
        ],
      },
    ],
    bench: { batch: [1], seq: [8], repeats: 1, warmup: 0, threads: 1 },
    eval: { threads: 1 },
    calibration: false,
  };
  points = await planSweep(parseSweep(doc, t.sweepFile, 'nan.yaml'), { glueDir: t.glueDir, workDir: join(t.root, 'work') });
});
afterAll(() => t?.cleanup());

describe("a point's passes after its training stage, on a trained model computing NaN", () => {
  it.each([
    ['t-ffn', /^prune-ffn: neuron \d+ of layer 0 scores NaN/],
    ['t-q', /NaN/],
  ])(
    '%s: refuse it as a model the point made (retried), not as the point’s files',
    async (label, line) => {
      const point = points.find((p) => p.label === label)!;
      const error = await runPoint(point, { threads: 1 }).then(
        () => {
          throw new Error('ran');
        },
        (e: Error) => e,
      );
      expect(error).toBeInstanceOf(ModelLoadError);
      expect(error).not.toBeInstanceOf(NonFiniteInputError);
      // (prune-ffn, the stage's first pass, refuses it; int8's stage, compress's check of its input: each, in compress's
      // words, a refusal of its input at a pipeline's first step)
      expect(error.message).toMatch(line);
    },
    120_000,
  );
});
