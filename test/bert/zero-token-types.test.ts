/**
 * A BERT exported without a token_type_ids input by a transformers without the token_type_ids buffer
 * (`torch.zeros(input_shape)`: ConstantOfShape(Shape(input_ids)) of a zero) looks up token type 0 for every token:
 * discovery reads that lookup as the token type table, so the compression passes take the graph.
 */
import { describe, expect, it } from 'vitest';
import { buildBert, randomBertWeights } from '../../src/bert/build.ts';
import { canonicalBert } from '../../src/bert/canonical.ts';
import type { ExtendedBertConfig } from '../../src/bert/config.ts';
import { findBert } from '../../src/bert/discover.ts';
import type { Model } from '../../src/onnx/index.ts';
import { runPipeline } from '../../src/pass/pipeline.ts';
import { gradientScores } from '../../src/prune/head-gradient.ts';
import { syntheticCalibration } from '../helpers/calibration.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { batchLogits, maxRowDiff, paddedBatch, TINY_CONFIG, tinyBert } from '../helpers/models.ts';

registerAllPasses();

/** The tiny BERT with its token_type_ids input replaced by ConstantOfShape(Shape(input_ids)) of `value`. */
function withoutTokenTypes(value: bigint | undefined): Model {
  const m = tinyBert({}, { seed: 5, std: 0.3 });
  const g = m.graph;
  g.inputs = g.inputs.filter((v) => v.name !== 'token_type_ids');
  const attributes: Model['graph']['nodes'][number]['attributes'] =
    value === undefined
      ? {}
      : { value: { type: 'tensor', value: { name: 'v', dataType: 7, dims: [1], data: new Uint8Array(BigInt64Array.of(value).buffer) } } };
  g.nodes.unshift(
    { name: 'shape', opType: 'Shape', domain: '', inputs: ['input_ids'], outputs: ['input_shape'], attributes: {} },
    { name: 'zeros', opType: 'ConstantOfShape', domain: '', inputs: ['input_shape'], outputs: ['token_type_ids'], attributes },
  );
  return m;
}

describe('token types from ConstantOfShape of a zero', () => {
  it('discovery reads the token type table; prune-heads and --optimize run on the graph', async () => {
    const m = withoutTokenTypes(0n);
    const s = findBert(m);
    expect(s.embeddings.tokenType?.rows).toBe(2);
    expect(s.inputs.tokenTypeIds).toBeUndefined();
    const batch = paddedBatch([6, 3, 5], 128, 7, 1); // type 0 everywhere: the graph's own
    const base = (await batchLogits(m, batch)).rows;
    const optimized = await runPipeline(m, [{ pass: 'optimize', settings: { rewrites: 'default' } }]);
    expect(maxRowDiff((await batchLogits(optimized.model, batch)).rows, base)).toBeLessThan(1e-5);
    const pruned = await runPipeline(m, [{ pass: 'prune-heads', settings: { heads: { 0: [1] } } }]);
    expect(pruned.model.graph.inputs.map((v) => v.name)).toEqual(['input_ids', 'attention_mask']);
    expect(maxRowDiff((await batchLogits(pruned.model, batch)).rows, base)).toBeGreaterThan(1e-4);
  });

  it("gradient head importance feeds the graph's own type 0, not the calibration pairs' type 1 it never reads", async () => {
    const m = withoutTokenTypes(0n);
    const source = syntheticCalibration([3, 2], 128, { classes: 2 }); // (type 1 in each row's second half)
    const zeroed = { ...source, batches: source.batches.map((b) => ({ ...b, tokenTypeIds: new BigInt64Array(b.tokenTypeIds.length) })) };
    const same = tinyBert({}, { seed: 5, std: 0.3 }); // (the graph with its token_type_ids input, fed zeros)
    const got = await gradientScores(m, findBert(m), { calibration: source });
    const want = await gradientScores(same, findBert(same), { calibration: zeroed });
    expect(got.flat().map((x, i) => Math.abs(x - want.flat()[i]!) / Math.abs(want.flat()[i]!))).toSatisfy((d: number[]) => d.every((x) => x < 1e-5));
  });

  it.each([
    ['bert', {}],
    ['albert', { family: 'albert', embeddingSize: 16, layerGroups: [0, 0] }],
    ['electra', { family: 'electra', embeddingSize: 16 }],
  ])('the %s builder with zeroTokenTypes computes type 0 in the graph, which discovery and the rebuild read as such', async (_, extra) => {
    const config = { ...TINY_CONFIG, ...extra } as ExtendedBertConfig;
    const weights = randomBertWeights(config, { seed: 2, std: 0.3 });
    const zero = buildBert({ ...config, zeroTokenTypes: true }, { kind: 'given', tensors: weights });
    expect(zero.graph.inputs.map((v) => v.name)).toEqual(['input_ids', 'attention_mask']);
    const s = findBert(zero);
    expect([s.inputs.tokenTypeIds, s.embeddings.tokenType?.rows]).toEqual([undefined, 2]);
    expect(canonicalBert(zero).config.zeroTokenTypes).toBe(true);
    const batch = paddedBatch([6, 3, 5], 128, 7, 2);
    const zeroed = { ...batch, tokenTypeIds: batch.tokenTypeIds.map((r) => r.map(() => 0)) };
    const withInput = buildBert(config, { kind: 'given', tensors: weights });
    expect(canonicalBert(withInput).config.zeroTokenTypes).toBeUndefined();
    expect(maxRowDiff((await batchLogits(zero, batch)).rows, (await batchLogits(withInput, zeroed)).rows)).toBe(0);
  });

  it('a ConstantOfShape of another value is not taken for token types', () => {
    expect(() => findBert(withoutTokenTypes(1n))).toThrow(/cannot tell what the indices of Gather '[^']+' are/);
  });
});
