/**
 * An encoder-only model (what `distill --stage general` writes from a teacher without a classifier: BertModel's
 * `last_hidden_state` and `pooler_output`, no classifier) through the passes: the settings that measure a loss on the
 * class scores (head importance ablation and gradient, quantize mixed) are refused in one line before any pass runs,
 * instead of reading the hidden states as logits; everything that reads weights only, or the attention probabilities,
 * or activation ranges, keeps working on it.
 */
import { describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import { removeDeadNodes } from '../../src/onnx/analysis.ts';
import { cloneModel } from '../../src/onnx/graph.ts';
import { SettingsError } from '../../src/errors.ts';
import { runPipeline } from '../../src/pass/pipeline.ts';
import { getPass } from '../../src/pass/registry.ts';
import type { PassStep } from '../../src/pass/pass.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { encoderOnly } from '../../src/train/students/classifier.ts';
import { syntheticCalibration } from '../helpers/calibration.ts';
import { tinyBert } from '../helpers/models.ts';

registerAllPasses();

const classifier = tinyBert({ numLayers: 2 }, { std: 0.1, seed: 4 });
const bare = encoderOnly(classifier);
const calibration = syntheticCalibration([8, 8], 128, { classes: 2 });
const context = { calibration };

const ENCODER_ONLY = 'the model is encoder-only (outputs last_hidden_state, pooler_output; no classifier)';

/** The message runPipeline rejects with (it must be a one-line SettingsError). */
async function refusal(steps: PassStep[]): Promise<string> {
  try {
    await runPipeline(bare, steps, context);
  } catch (e) {
    expect(e).toBeInstanceOf(SettingsError);
    return (e as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('passes on an encoder-only model', () => {
  it.each([
    ['ablation', "importance 'ablation'"],
    ['gradient', "importance 'gradient'"],
  ])('prune-heads importance %s is refused before any pass runs, naming the way out', async (importance, what) => {
    const logged: string[] = [];
    const steps = [
      { pass: 'prune-ffn', settings: { ratio: 0.5 } },
      { pass: 'prune-heads', settings: { ratio: 0.5, importance } },
    ];
    await expect(runPipeline(bare, steps, { ...context, log: (l) => logged.push(l) })).rejects.toThrow(SettingsError);
    expect(logged).toEqual([]); // not even prune-ffn ran
    expect(await refusal(steps)).toBe(
      `prune-heads: ${ENCODER_ONLY}: ${what} needs a classifier (it measures a loss on the class scores); give it one with compress distill --stage task, or use importance 'magnitude' (--importance magnitude) or 'confidence'`,
    );
  });

  it('quantize mixed is refused the same way', async () => {
    expect(await refusal([{ pass: 'quantize', settings: { mode: 'mixed:0.5' } }])).toBe(
      `quantize: ${ENCODER_ONLY}: mode 'mixed:0.5' needs a classifier (it measures a loss on the class scores); give it one with compress distill --stage task, or quantize every layer alike (int8, int8-static, int4-block:B)`,
    );
  });

  it('an encoder without a pooler, which compress distill --stage task cannot give a classifier, is told why, not to run it', async () => {
    const hidden = cloneModel(bare);
    hidden.graph.outputs = [hidden.graph.outputs[0]!];
    removeDeadNodes(hidden.graph);
    await expect(runPipeline(hidden, [{ pass: 'quantize', settings: { mode: 'mixed:0.5' } }], context)).rejects.toThrow(
      new SettingsError(
        "quantize: the model is encoder-only (outputs last_hidden_state; no classifier): mode 'mixed:0.5' needs a classifier (it measures a loss on the class scores); it has no pooler (dense + tanh on the first token) to put one on, so compress distill --stage task cannot give it one: give a sequence classifier, or quantize every layer alike (int8, int8-static, int4-block:B)",
      ),
    );
  });

  it('an encoder with its pooler stored quantized, which training cannot read, is told to give the float model its classifier', async () => {
    const quantized = (await runPipeline(bare, [{ pass: 'quantize', settings: { mode: 'int8' } }], context)).model;
    await expect(runPipeline(quantized, [{ pass: 'prune-heads', settings: { ratio: 0.5, importance: 'ablation' } }], context)).rejects.toThrow(
      new SettingsError(
        `prune-heads: ${ENCODER_ONLY}: importance 'ablation' needs a classifier (it measures a loss on the class scores); the word embedding is stored quantized (gather-scale), which training cannot read, so compress distill --stage task cannot give it one: give one to the float model it was quantized from first (compress distill --stage task), then quantize the result, or use importance 'magnitude' (--importance magnitude) or 'confidence'`,
      ),
    );
  });

  it('the passes refuse it when run directly too (not only through a pipeline)', async () => {
    const s = findBert(bare);
    for (const [name, raw] of [
      ['prune-heads', { ratio: 0.5, importance: 'ablation' }],
      ['prune-heads', { ratio: 0.5, importance: 'ablation', target: 'labels' }],
      ['prune-heads', { ratio: 0.5, importance: 'gradient' }],
      ['quantize', { mode: 'mixed:0.5' }],
    ] as const) {
      const pass = getPass(name);
      await expect(pass.run(bare, s, pass.parse({ ...raw }), context)).rejects.toThrow(`${ENCODER_ONLY}: `);
    }
  });

  it('the same settings still run on the classifier it came from', async () => {
    const res = await runPipeline(classifier, [{ pass: 'prune-heads', settings: { ratio: 0.25, importance: 'ablation', steps: 1 } }], context);
    expect(res.reports[0]!.summary).toMatch(/removed 2 of 8 heads/);
  });

  it.each<[string, PassStep[]]>([
    ['prune-heads magnitude', [{ pass: 'prune-heads', settings: { ratio: 0.5 } }]],
    ['prune-heads confidence (attention probabilities only)', [{ pass: 'prune-heads', settings: { ratio: 0.25, importance: 'confidence', steps: 1 } }]],
    ['prune-heads listed', [{ pass: 'prune-heads', settings: { heads: '0:1' } }]],
    ['prune-ffn', [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }]],
    ['drop-layers (not the last)', [{ pass: 'drop-layers', settings: { layers: '0' } }]],
    ['quantize int8', [{ pass: 'quantize', settings: { mode: 'int8' } }]],
    ['quantize int8-static (activation ranges only)', [{ pass: 'quantize', settings: { mode: 'int8-static' } }]],
    ['quantize int4-block', [{ pass: 'quantize', settings: { mode: 'int4-block:16' } }]],
    ['factorize-embeddings', [{ pass: 'factorize-embeddings', settings: { rank: 8 } }]],
    ['factorize-embeddings weighted by tokens', [{ pass: 'factorize-embeddings', settings: { rank: 8, weighting: 'tokens' } }]],
    ['share-layers', [{ pass: 'share-layers', settings: { share: 'all' } }]],
  ])('%s keeps working, and the result is still encoder-only', async (_, steps) => {
    const res = await runPipeline(bare, steps, context);
    expect(res.structure.head).toBeUndefined();
    expect(res.model.graph.outputs.map((o) => o.name)).toEqual(['last_hidden_state', 'pooler_output']);
  });
});
