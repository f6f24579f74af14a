/**
 * Passes compose in any order, in one pipeline or across commands: every pass's output is discovered again and
 * runs in onnxruntime. Quantization is last by nature (it stores integer weights): a float pass after it must be
 * refused clearly, not produce garbage.
 */
import { describe, expect, it, afterAll } from 'vitest';
import { join } from 'node:path';
import { loadModel } from '../../src/onnx/index.ts';
import { findBert } from '../../src/bert/discover.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { runPipeline } from '../../src/pass/pipeline.ts';
import { compressFile } from '../../src/export/compress.ts';
import type { PassStep } from '../../src/pass/pass.ts';
import type { BertStructure } from '../../src/bert/structure.ts';
import { UserError } from '../../src/errors.ts';
import { tinyBert, writeTinyBert } from '../helpers/models.ts';
import { sampleFeeds, outputsOf } from '../helpers/run-model.ts';

registerAllPasses();

const FLOAT_STEPS: Record<string, PassStep> = {
  heads: { pass: 'prune-heads', settings: { ratio: 0.25 } },
  ffn: { pass: 'prune-ffn', settings: { ratio: 0.25 } },
  layers: { pass: 'drop-layers', settings: { layers: '1' } },
  factorize: { pass: 'factorize-embeddings', settings: { rank: 16 } },
  share: { pass: 'share-layers', settings: { share: 'all' } },
};
const INT8: PassStep = { pass: 'quantize', settings: { mode: 'int8' } };

/** What each float step leaves in the model (3 layers × 4 heads, FFN 64 before), checked on the pipeline's output. */
const EFFECTS: Record<string, (s: BertStructure) => boolean> = {
  heads: (s) => s.layers.reduce((n, l) => n + (l.attention?.numHeads ?? 0), 0) < 4 * s.numLayers,
  ffn: (s) => s.layers.some((l) => l.ffn.intermediateSize < 64),
  layers: (s) => s.numLayers === 2,
  factorize: (s) => s.embeddings.word.projection?.inFeatures === 16,
  share: (s) => new Set(s.layers.map((l) => l.ffn.in.weight)).size < s.numLayers,
};

const input = () => tinyBert({ numLayers: 3 }, { std: 0.2 });

async function expectRuns(steps: PassStep[]) {
  const res = await runPipeline(input(), steps);
  const s = findBert(res.model);
  expect(s.hiddenSize).toBe(32);
  const out = await outputsOf(res.model, sampleFeeds(res.model, s));
  expect(Object.values(out)[0].every(Number.isFinite)).toBe(true);
  return { ...res, structure: s };
}

describe('passes compose', () => {
  it("the input model shows none of the steps' effects", () => {
    const s = findBert(input());
    for (const [name, effect] of Object.entries(EFFECTS)) expect(effect(s), name).toBe(false);
  });

  const names = Object.keys(FLOAT_STEPS);
  for (const a of names) {
    for (const b of names) {
      if (a === b) continue;
      // share after pruning heads or FFN differently per layer cannot share: that refusal is tested in test/share
      if (b === 'share' && (a === 'heads' || a === 'ffn')) continue;
      it(`${a} then ${b}`, async () => {
        const res = await expectRuns([FLOAT_STEPS[a], FLOAT_STEPS[b]]);
        expect(EFFECTS[b](res.structure), `${b} after ${a}`).toBe(true);
        expect(res.after.params).toBeLessThan(res.before.params);
      });
    }
  }

  it('every float pass, then int8 quantization', async () => {
    const res = await expectRuns([FLOAT_STEPS.factorize, FLOAT_STEPS.share, FLOAT_STEPS.heads, FLOAT_STEPS.ffn, INT8]);
    expect(res.after.bytes).toBeLessThan(res.before.bytes * 0.3);
  });

  it('a float pass after quantization is refused clearly', async () => {
    const model = tinyBert({ numLayers: 2 }, { std: 0.2 });
    await expect(runPipeline(model, [INT8, FLOAT_STEPS.heads])).rejects.toBeInstanceOf(UserError);
  });

  describe('across commands', () => {
    const tiny = writeTinyBert({ numLayers: 2 }, { std: 0.2 });
    afterAll(() => tiny.cleanup());
    it('prune in one command, quantize the result in the next; lineage chains', async () => {
      const a = join(tiny.dir, 'a.onnx');
      const b = join(tiny.dir, 'b.onnx');
      await compressFile({ input: tiny.path, output: a, steps: [FLOAT_STEPS.heads] });
      const lineage = await compressFile({ input: a, output: b, steps: [INT8] });
      expect(lineage.input.lineage?.passes[0].step.pass).toBe('prune-heads');
      expect(findBert(loadModel(b)).layers.map((l) => l.attention?.numHeads)).toEqual(findBert(loadModel(a)).layers.map((l) => l.attention?.numHeads));
    });
  });
});
