/**
 * Discovery of graphs that onnxruntime's optimizer saved at level 'extended' (optimizedModelFilePath): there the
 * attention scores are one com.microsoft FusedMatMul, Q·Kᵀ times alpha = 1/sqrt(head size), where the export had
 * MatMul then Div; with transB 1 it transposes K itself. Every such graph was refused ("Softmax does not follow a Q·Kᵀ
 * MatMul"). The graphs here are the built model with that rewrite, at shapes other than the shared teachers'.
 */
import { describe, expect, it } from 'vitest';
import { rebuildCanonical } from '../../src/bert/canonical.ts';
import { findBert } from '../../src/bert/discover.ts';
import type { BertConfig } from '../../src/bert/config.ts';
import { cloneModel, removeDeadNodes, type Model } from '../../src/onnx/index.ts';
import { applyHeadPruning } from '../../src/prune/heads.ts';
import { batchLogits, maxRowDiff, paddedBatch, tinyBert } from '../helpers/models.ts';

/** The scalar a Constant node holds. */
function constantValue(m: Model, value: string): number {
  const c = m.graph.nodes.find((n) => n.opType === 'Constant' && n.outputs[0] === value);
  const t = c?.attributes.value;
  if (t?.type !== 'tensor') throw new Error(`${value} is not a Constant`);
  return new DataView(t.value.data.buffer, t.value.data.byteOffset).getFloat32(0, true);
}

/**
 * `model` with each Div(MatMul(Q, Kᵀ), c) of its attention replaced by FusedMatMul(Q, Kᵀ, alpha = 1/c), as
 * onnxruntime fuses them; with `transB`, K's Transpose gives [0, 2, 1, 3] and the FusedMatMul transposes it.
 */
function fuseScores(model: Model, transB: boolean): Model {
  const m = cloneModel(model);
  const producer = (v: string) => m.graph.nodes.find((n) => n.outputs.includes(v));
  let fused = 0;
  for (const div of m.graph.nodes.filter((n) => n.opType === 'Div' && /attention\/self\/Div$/.test(n.name))) {
    const mm = producer(div.inputs[0]!)!;
    expect(mm.opType).toBe('MatMul');
    mm.domain = 'com.microsoft';
    mm.opType = 'FusedMatMul';
    mm.attributes = {
      alpha: { type: 'float', value: 1 / constantValue(m, div.inputs[1]!) },
      transA: { type: 'int', value: 0 },
      transB: { type: 'int', value: transB ? 1 : 0 },
      transBatchA: { type: 'int', value: 0 },
      transBatchB: { type: 'int', value: 0 },
    };
    if (transB) producer(mm.inputs[1]!)!.attributes.perm = { type: 'ints', value: [0, 2, 1, 3] };
    mm.outputs = [div.outputs[0]!];
    div.outputs = [];
    fused++;
  }
  expect(fused).toBeGreaterThan(0);
  removeDeadNodes(m.graph);
  if (!m.opsetImports.some((o) => o.domain === 'com.microsoft')) m.opsetImports = [...m.opsetImports, { domain: 'com.microsoft', version: 1 }];
  return m;
}

const SHAPES: Array<[string, Partial<BertConfig>]> = [
  ['hidden 48 × 3 heads (size 16), FFN 50, 5 labels', { hiddenSize: 48, numHeads: 3, intermediateSize: 50, numLabels: 5 }],
  ['hidden 32 × 1 head, vocab 131, 1 token type', { numHeads: 1, vocabSize: 131, typeVocabSize: 1 }],
];

describe.each(SHAPES)('a FusedMatMul graph: %s', (_, shape) => {
  const plain = tinyBert(shape, { std: 0.2 });
  const config = { vocabSize: 128, typeVocabSize: 2, ...shape };
  const batch = paddedBatch([7, 12, 3], config.vocabSize!, 5, config.typeVocabSize);

  it.each([false, true])('transB %s: discovered as the plain graph, rebuilt to its logits, and pruned as it is', async (transB) => {
    const fused = fuseScores(plain, transB);
    expect(fused.graph.nodes.some((n) => n.opType === 'MatMul' && n.name.endsWith('attention/self/MatMul'))).toBe(false);
    const want = (await batchLogits(plain, batch)).rows;
    expect(maxRowDiff((await batchLogits(fused, batch)).rows, want)).toBeLessThan(1e-5);

    const s = findBert(fused);
    const p = findBert(plain);
    expect([s.numLayers, s.hiddenSize, s.numHeads, s.intermediateSize, s.vocabSize, s.head?.numLabels]).toEqual([
      p.numLayers,
      p.hiddenSize,
      p.numHeads,
      p.intermediateSize,
      p.vocabSize,
      p.head?.numLabels,
    ]);
    expect(s.layers.map((l) => [l.attention?.numHeads, l.attention?.headSize, l.attention?.scale])).toEqual(
      p.layers.map((l) => [l.attention?.numHeads, l.attention?.headSize, expect.closeTo(l.attention?.scale ?? Number.NaN, 5)]),
    );

    expect(maxRowDiff((await batchLogits(rebuildCanonical(fused), batch)).rows, want)).toBeLessThan(1e-5);

    const drop = { 0: [0], 1: p.numHeads > 1 ? [p.numHeads - 1] : [] };
    const prunedModel = applyHeadPruning(fused, s, drop);
    const heads = (m: Model) => findBert(m).layers.reduce((n, l) => n + (l.attention?.numHeads ?? 0), 0);
    expect(heads(prunedModel)).toBe(heads(plain) - drop[0].length - drop[1].length);
    const pruned = (await batchLogits(prunedModel, batch)).rows;
    expect(maxRowDiff(pruned, (await batchLogits(applyHeadPruning(plain, p, drop), batch)).rows)).toBeLessThan(1e-5);
  });
});
