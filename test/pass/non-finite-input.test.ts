/**
 * A pass that refuses the model it is given for holding or computing NaN or Infinity (int8-static's activation ranges,
 * mixed precision's float loss, prune-heads' and prune-ffn's scores, factorize-embeddings' word embedding) refuses the
 * input's files at a pipeline's first step: a NonFiniteInputError, which a sweep stores as a refusal of the point's files
 * and fails again unrun (SweepStore.fail's refusedBy), where it was a plain ModelLoadError that every rerun ran again
 * to the same line. After an earlier step, the model refused is one that step made: the same line as a ModelLoadError,
 * which a sweep retries.
 */
import { describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import { ModelLoadError, NonFiniteInputError } from '../../src/errors.ts';
import { cloneModel, float32Tensor, readFloat32, type Model } from '../../src/onnx/index.ts';
import type { PassContext, PassStep } from '../../src/pass/pass.ts';
import { runPipeline } from '../../src/pass/pipeline.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { tinyBert } from '../helpers/models.ts';
import { overflowingModel, syntheticCalibration } from '../quantize/helpers.ts';

registerAllPasses();
const factorize: PassStep = { pass: 'factorize-embeddings', settings: { rank: 8 } };

/** The error runPipeline rejects with. */
async function rejection(model: Model, steps: PassStep[], context: PassContext = {}): Promise<Error> {
  return runPipeline(model, steps, context).then(
    () => {
      throw new Error('ran');
    },
    (e: Error) => e,
  );
}

/** `step` refused as the input's files at step 1, and after `before` (factorize-embeddings) as a model that step made, in the same line. */
async function expectInputThenMade(model: Model, step: PassStep, context: PassContext, line: RegExp, before = factorize): Promise<void> {
  const first = await rejection(model, [step], context);
  expect(first).toBeInstanceOf(NonFiniteInputError);
  expect(first.message).toMatch(line);
  const later = await rejection(model, [before, step], context);
  expect(later).toBeInstanceOf(ModelLoadError);
  expect(later).not.toBeInstanceOf(NonFiniteInputError);
  expect(later.message).toBe(first.message);
}

describe('a pass refusing a model that holds or computes NaN', () => {
  it('quantize int8-static and mixed precision on activations that overflow on the calibration batches', async () => {
    const model = tinyBert({}, { std: 0.1, seed: 3 });
    const overflowing = overflowingModel(model, findBert(model));
    const calibration = syntheticCalibration(128, 2);
    await expectInputThenMade(
      overflowing,
      { pass: 'quantize', settings: { mode: 'int8-static' } },
      { calibration },
      /^quantize int8-static: the float model computes .* on the 3 calibration batches: no activation range covers them/,
    );
    await expectInputThenMade(
      overflowing,
      { pass: 'quantize', settings: { mode: 'mixed:0.32', mixedBlockSize: 16 } },
      { calibration },
      /^quantize mixed:0\.32: the calibration loss of the float model is NaN/,
    );
  });

  it('prune-heads by magnitude on attention weights holding NaN', async () => {
    const model = cloneModel(tinyBert({ numLayers: 2 }, { std: 0.2 }));
    const q = findBert(model).layers[1]!.attention!.q!;
    const w = readFloat32(model.graph.initializers.get(q.weight)!).slice();
    w[q.layout === 'in_out' ? 2 * q.outFeatures + 9 : 9 * q.inFeatures + 2] = Number.NaN;
    model.graph.initializers.set(q.weight, float32Tensor(q.weight, model.graph.initializers.get(q.weight)!.dims, w));
    await expectInputThenMade(model, { pass: 'prune-heads', settings: { ratio: 0.25 } }, {}, /^prune-heads: magnitude importance of layer 1 head 1 is NaN/);
  });

  it('prune-ffn on FFN weights holding NaN', async () => {
    const model = cloneModel(tinyBert({ numLayers: 2 }, { std: 0.2 }));
    const ffn = findBert(model).layers[0]!.ffn.in.weight;
    const w = readFloat32(model.graph.initializers.get(ffn)!).slice();
    w[3] = Number.NaN;
    model.graph.initializers.set(ffn, float32Tensor(ffn, model.graph.initializers.get(ffn)!.dims, w));
    await expectInputThenMade(model, { pass: 'prune-ffn', settings: { ratio: 0.5 } }, {}, /^prune-ffn: neuron \d+ of layer 0 scores NaN/);
  });

  it('factorize-embeddings on a word embedding holding NaN', async () => {
    const model = cloneModel(tinyBert({ numLayers: 2 }, { std: 0.2 }));
    const word = findBert(model).embeddings.word.weight;
    const w = readFloat32(model.graph.initializers.get(word)!).slice();
    w[40] = Number.NaN;
    model.graph.initializers.set(word, float32Tensor(word, model.graph.initializers.get(word)!.dims, w));
    await expectInputThenMade(model, factorize, {}, /^factorize-embeddings: row 1 \(token id 1\) of the word embedding/, {
      pass: 'prune-ffn',
      settings: { ratio: 0.5 },
    });
  });
});
