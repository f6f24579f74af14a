/**
 * A BERT exported without a token_type_ids input by a transformers without the token_type_ids buffer
 * (`torch.zeros(input_shape)`: ConstantOfShape(Shape(input_ids)) of a zero) looks up token type 0 for every token:
 * discovery reads that lookup as the token type table, so the compression passes take the graph.
 */
import { describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import type { Model } from '../../src/onnx/index.ts';
import { runPipeline } from '../../src/pass/pipeline.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { batchLogits, maxRowDiff, paddedBatch, tinyBert } from '../helpers/models.ts';

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

  it('a ConstantOfShape of another value is not taken for token types', () => {
    expect(() => findBert(withoutTokenTypes(1n))).toThrow(/cannot tell what the indices of Gather '[^']+' are/);
  });
});
