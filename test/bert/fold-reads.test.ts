/**
 * Discovery's folding of a scalar from constants (GraphContext.foldScalar, asked of every LayerNorm's variance and
 * epsilon, every attention scale and activation constant) reads the data of one-element constants alone, and walks
 * back through the ops it folds alone: it walked back through any op (an Add, a Gather of the word embeddings) and
 * decoded whatever constant it reached, so a sweep plan's discovery of the three shared teachers decoded their
 * embedding tables again and again (44 s of a 57 s `compress sweep examples/distill-sst2.yaml --dry-run`).
 */
import { describe, expect, it } from 'vitest';
import { GraphContext } from '../../src/bert/discover/graph-context.ts';
import { cloneModel } from '../../src/onnx/index.ts';
import { float32Tensor } from '../../src/onnx/tensor.ts';
import { onnxNode, tinyBert } from '../helpers/models.ts';

describe('folding a scalar from constants', () => {
  it('reads no data of a constant of more than one element, and walks back through no op it does not fold', () => {
    const m = cloneModel(tinyBert({ numLayers: 1, hiddenSize: 8, numHeads: 2, intermediateSize: 16, vocabSize: 20, maxPositions: 8 }));
    const g = m.graph;
    let reads = 0;
    const big = float32Tensor(
      'fold_big',
      [4, 4],
      Array.from({ length: 16 }, () => 1),
    );
    const bytes = big.data;
    Object.defineProperty(big, 'data', {
      get: () => {
        reads++;
        return bytes;
      },
    });
    g.initializers.set('fold_big', big);
    g.initializers.set('fold_two', float32Tensor('fold_two', [], [2]));
    g.nodes.push(
      onnxNode('fold/Add', 'Add', ['fold_big', 'fold_two'], ['fold/sum']),
      onnxNode('fold/Sqrt', 'Sqrt', ['fold/sum'], ['fold/root']),
      onnxNode('fold/Mul', 'Mul', ['fold_big', 'fold_two'], ['fold/product']),
      onnxNode('fold/Square', 'Mul', ['fold_two', 'fold_two'], ['fold/four']),
    );
    const ctx = new GraphContext(m, 'm');
    expect(ctx.foldScalar('fold/sum')).toBeUndefined();
    expect(ctx.foldScalar('fold/root')).toBeUndefined();
    expect(ctx.foldScalar('fold/product')).toBeUndefined();
    expect(ctx.isConstantValue('fold/root')).toBe(false);
    expect(reads).toBe(0);
    // (what it folds, it folds as before)
    expect(ctx.foldScalar('fold/four')).toBe(4);
  });
});
