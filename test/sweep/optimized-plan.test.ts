/**
 * A step after optimize: the plan follows the model optimize leaves (the pass's own rewrite of the graph read without
 * weight values, its structure discovered again), as it follows drop-layers', and asks the next pass about it, so a
 * step the point would refuse is refused before any point runs, in the pass's own words, where --dry-run listed the
 * point and it failed when it ran: after optimize on a model stored quantized (int8, int4) a pass that rewrites float
 * weights or a second quantize; after optimize all on the float model a pass that cannot read its fused ops
 * (share-layers of fused and unfused layers, factorize-embeddings of a table inside EmbedLayerNormalization). Each
 * refusal is the one compressFile gives on the same steps. What the point runs still plans.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compressFile } from '../../src/export/compress.ts';
import { namingSettings } from '../../src/flag-names.ts';
import { refusingStep } from '../../src/pass/option-names.ts';
import { passStepNames } from '../../src/sweep/setting-names.ts';
import { planRefusal, writeQuantizedModels } from './plan-refusal.ts';

let root: string;
beforeAll(async () => {
  root = await writeQuantizedModels('optimized-plan-');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const step = (pass: string, settings: Record<string, unknown> = {}) => ({ pass, settings });
const optimize = step('optimize');
const optimizeAll = step('optimize', { rewrites: 'all' });

let outputs = 0;
/**
 * What compress refuses `steps` on models/`model` with (its message), in the sweep file's words as a point names it
 * (passStepNames), or undefined where it writes the model.
 */
async function compressRefusal(model: string, steps: Array<{ pass: string; settings: Record<string, unknown> }>): Promise<string | undefined> {
  try {
    await namingSettings(
      (e) => passStepNames(steps, refusingStep(e)),
      () => compressFile({ input: join(root, 'models', model, 'model.onnx'), output: join(root, 'out', String(outputs++), 'model.onnx'), steps }),
    );
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Checks that the plan refuses `steps` on `model` at step `index` (from 1) in the words compress refuses them with. */
async function refusedAsCompress(model: string, steps: Array<{ pass: string; settings: Record<string, unknown> }>, index: number): Promise<string> {
  const words = await compressRefusal(model, steps);
  expect(words).toBeDefined();
  expect(await planRefusal(root, 'q', [model], 'p', steps)).toBe(
    `${join(root, 'q.yaml')}: pipeline 'p' on model '${model}', step ${index} (${steps[index - 1]!.pass}): ${words}`,
  );
  return words!;
}

describe('a step after optimize on a model stored quantized', () => {
  it('is asked of the model optimize leaves, and refused in the words compress refuses it with', async () => {
    expect(await refusedAsCompress('int8', [optimize, step('prune-ffn', { ratio: 0.5 })], 2)).toBe(
      "prune-ffn: layer 0's feed-forward weights are quantized (dynamic-int8, 8-bit) and cannot be sliced; prune FFN neurons before quantizing",
    );
    // (the attention optimize fused into a QAttention, as the point finds it)
    expect(await refusedAsCompress('int8', [optimizeAll, step('prune-heads', { ratio: 0.25 })], 2)).toBe(
      "prune-heads: layer 0's attention weights are quantized (qattention, 8-bit) and cannot be sliced; prune heads before quantizing",
    );
    await refusedAsCompress('int4', [optimize, step('factorize-embeddings', { rank: 8 })], 2);
    await refusedAsCompress('int8', [optimize, step('share-layers')], 2);
    expect(await refusedAsCompress('int8', [optimize, step('quantize', { mode: 'int4-block:16' })], 2)).toMatch(
      /^quantize int4-block:16: every weight is already quantized/,
    );
  });

  it('is followed through drop-layers and optimize in either order', async () => {
    const ffn = step('prune-ffn', { ratio: 0.5 });
    await refusedAsCompress('int8', [optimize, step('drop-layers', { layers: '0' }), ffn], 3);
    await refusedAsCompress('int8', [step('drop-layers', { layers: '0' }), optimize, ffn], 3);
  });
});

describe('a step after optimize all on the float model', () => {
  it("is refused where it cannot read optimize's fused ops, as compress refuses it", async () => {
    expect(await refusedAsCompress('tiny', [optimizeAll, step('share-layers')], 2)).toMatch(
      /^share-layers: layers 0 and 1 cannot share weights: layer 0's attention is fused/,
    );
    expect(await refusedAsCompress('tiny', [optimizeAll, step('factorize-embeddings', { rank: 8 })], 2)).toMatch(
      /^factorize-embeddings: the word embedding is read by the fused EmbedLayerNormalization node/,
    );
  });

  it('plans what compress runs after optimize', async () => {
    for (const [model, steps] of [
      ['tiny', [optimizeAll, step('prune-heads', { heads: '0:0' })]],
      ['tiny', [optimizeAll, step('prune-ffn', { ratio: 0.5 })]],
      ['tiny', [optimize, step('factorize-embeddings', { rank: 8 })]],
      ['tiny', [optimizeAll, step('quantize', { mode: 'int8' })]],
      ['fp16', [optimize, step('prune-ffn', { ratio: 0.5 })]],
      ['int8', [step('drop-layers', { layers: '0' }), optimizeAll]],
    ] as const) {
      const written = steps.map((s) => ({ pass: s.pass, settings: { ...s.settings } }));
      expect(await compressRefusal(model, written)).toBeUndefined();
      expect(await planRefusal(root, 'q', [model], 'p', written)).toBeUndefined();
    }
  });
});

describe('factorize-embeddings after a step the plan does not follow and optimize', () => {
  const ffn = step('prune-ffn', { ratio: 0.5 });
  const factorize = step('factorize-embeddings', { rank: 8 });

  it("is refused where optimize's embed-layernorm fused the word embedding, as compress refuses it", async () => {
    for (const steps of [
      [ffn, optimizeAll, factorize],
      [optimizeAll, ffn, factorize],
      [ffn, step('optimize', { rewrites: 'embed-layernorm' }), step('prune-heads', { heads: '0:0' }), factorize],
      [step('prune-heads', { ratio: 0.25 }), optimizeAll, ffn, optimize, factorize],
    ]) {
      expect(await refusedAsCompress('tiny', steps, steps.length)).toMatch(
        /^factorize-embeddings: the word embedding is read by the fused EmbedLayerNormalization node '/,
      );
    }
  });

  it('is refused where an earlier factorize-embeddings factorized the word embedding, which optimize leaves so', async () => {
    for (const steps of [
      [step('factorize-embeddings', { rank: 16 }), optimizeAll, factorize],
      [step('factorize-embeddings', { rank: 16 }), optimize, ffn, factorize],
    ]) {
      expect(await refusedAsCompress('tiny', steps, steps.length)).toMatch(/^factorize-embeddings: the word embedding is already factorized \(/);
    }
  });

  it('checks its rank against the word embedding optimize leaves unfused, as the point does', async () => {
    for (const [rewrites, rank] of [
      ['default', 32],
      ['attention,gelu', 31],
    ] as const) {
      const steps = [ffn, step('optimize', { rewrites }), step('factorize-embeddings', { rank })];
      expect(await refusedAsCompress('tiny', steps, 3)).toMatch(
        new RegExp(`^factorize-embeddings: rank ${rank} (is at or above hidden 32|would make the embedding larger)`),
      );
    }
  });

  it('plans it after a train step on a model optimized before, which training rebuilds with its word embedding unfused', async () => {
    await compressFile({ input: join(root, 'models', 'tiny', 'model.onnx'), output: join(root, 'models', 'fused', 'model.onnx'), steps: [optimizeAll] });
    const train = step('train', { epochs: 1, maxExamples: 4, batchSize: 4 });
    expect(await planRefusal(root, 'q', ['fused'], 'p', [train, factorize])).toBeUndefined();
    expect(await planRefusal(root, 'q', ['fused'], 'p', [train, ffn, factorize])).toBeUndefined();
    expect(await planRefusal(root, 'q', ['fused'], 'p', [factorize])).toMatch(
      /step 1 \(factorize-embeddings\): factorize-embeddings: the word embedding is read by the fused/,
    );
  });

  it('plans it where optimize leaves the word embedding unfused', async () => {
    for (const steps of [
      [ffn, optimize, factorize],
      [ffn, step('optimize', { rewrites: 'attention,gelu' }), factorize],
    ]) {
      expect(await compressRefusal('tiny', steps)).toBeUndefined();
      expect(await planRefusal(root, 'q', ['tiny'], 'p', steps)).toBeUndefined();
    }
  });
});

describe('share-layers after a step the plan does not follow and optimize', () => {
  const ffn = step('prune-ffn', { ratio: 0.5 });

  it("is refused where optimize leaves a group's layers fused and not, as compress refuses it", async () => {
    for (const steps of [
      [ffn, optimizeAll, step('share-layers')],
      [step('factorize-embeddings', { rank: 8 }), ffn, step('optimize', { rewrites: 'attention,first-token' }), step('share-layers', { from: 'layer:1' })],
    ]) {
      expect(await refusedAsCompress('tiny', steps, steps.length)).toMatch(/^share-layers: layers 0 and 1 cannot share weights: layer 0's attention is fused/);
    }
  });

  it('plans it where optimize fuses every layer of a group alike', async () => {
    for (const steps of [
      [ffn, step('optimize', { rewrites: 'attention' }), step('share-layers')],
      [ffn, optimizeAll, step('share-layers', { share: 'groups:2' })],
    ]) {
      expect(await compressRefusal('tiny', steps)).toBeUndefined();
      expect(await planRefusal(root, 'q', ['tiny'], 'p', steps)).toBeUndefined();
    }
  });
});
