/**
 * A model whose head is not a sequence classifier (pretraining MLM + NSP, question answering) through the settings
 * that measure a loss on the class scores: prune-heads ablation / gradient and quantize mixed are refused in one line
 * by the same rule (requireClassifier), before any pass of the pipeline runs. Before, quantize mixed took its layer
 * sensitivity over every token's MLM or span scores as if they were one example's classes.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import { SettingsError } from '../../src/errors.ts';
import { loadModel } from '../../src/onnx/load.ts';
import { runPipeline } from '../../src/pass/pipeline.ts';
import { getPass } from '../../src/pass/registry.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { syntheticCalibration } from '../helpers/calibration.ts';
import { FIXTURES, hasFixtures } from '../helpers/paths.ts';

registerAllPasses();

const calibration = syntheticCalibration([3, 2], 20, { classes: 2 });

describe.skipIf(!hasFixtures)('loss-based settings need a sequence classifier (needs ../shared/fixtures/onnx)', () => {
  it.each([
    ['bert-toy-pretraining-torch11-op12.onnx', 'a pretraining head (MLM + NSP), outputs prediction_scores, seq_relationship_score'],
    ['bert-large-qa-squad-tiny-keras2onnx-op11.onnx', 'a question-answering head (span start and end scores per token), outputs output_1, output_2'],
  ])('%s: quantize mixed is refused in one line, directly and before a pipeline runs any pass', async (file, what) => {
    const model = loadModel(join(FIXTURES, file));
    const message = `quantize: mode 'mixed:0.5' measures a loss on a sequence classifier's class scores, but the model has ${what}; quantize every layer alike (int8, int8-static, int4-block:B)`;
    const quantize = getPass('quantize');
    await expect(quantize.run(model, findBert(model), quantize.parse({ mode: 'mixed:0.5' }), { calibration })).rejects.toThrow(message);
    const logged: string[] = [];
    const steps = [
      { pass: 'prune-ffn', settings: { ratio: 0.5 } },
      { pass: 'quantize', settings: { mode: 'mixed:0.5' } },
    ];
    const run = runPipeline(model, steps, { calibration, log: (l) => logged.push(l) });
    await expect(run).rejects.toThrow(SettingsError);
    await expect(run).rejects.toThrow(message);
    expect(logged).toEqual([]); // not even prune-ffn ran
    await expect(runPipeline(model, [{ pass: 'prune-heads', settings: { ratio: 0.5, importance: 'ablation' } }], { calibration })).rejects.toThrow(
      `prune-heads: importance 'ablation' measures a loss on a sequence classifier's class scores, but the model has ${what}; `,
    );
  });
});
