/**
 * buildBert at every opset it writes (11–17): what torch.onnx.export changes with the opset (Unsqueeze axes as an
 * attribute below 13, Reshape's allowzero from 14, one LayerNormalization node from 17, the IR version) and what must
 * not change: the model loads in onnxruntime and gives the opset-14 logits, discovery reads the config back, and the
 * prune-heads pass works on it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { BUILD_OPSETS, buildBert, type BuildOptions } from '../../src/bert/build.ts';
import type { BertConfig } from '../../src/bert/config.ts';
import { findBert } from '../../src/bert/discover.ts';
import { structureProblems } from '../../src/bert/discover/structure-check.ts';
import { SettingsError } from '../../src/errors.ts';
import { decodeModel, encodeModel, validateModel, type Model } from '../../src/onnx/index.ts';
import { applyHeadPruning } from '../../src/prune/heads.ts';
import { batchLogits, maxRowDiff, paddedBatch, perturbedWeights, referenceBertLogits, tinyBertConfig, type TokenBatch } from '../helpers/models.ts';

const SEED = 13;
/** 2 layers, hidden 32, 4 heads (FFN 64, vocab 128). */
const CONFIG: BertConfig = tinyBertConfig({ numLayers: 2, hiddenSize: 32, numHeads: 4, numLabels: 3 });
const BATCH: TokenBatch = paddedBatch([7, 16, 3], CONFIG.vocabSize, 5);

const WEIGHTS = perturbedWeights(CONFIG, SEED);

/** Logit rows of a model on the shared padded batch. */
const logits = async (model: Model, batch: TokenBatch = BATCH) => (await batchLogits(model, batch)).rows;

function build(opts: BuildOptions = {}): Model {
  return buildBert(CONFIG, { kind: 'given', tensors: WEIGHTS }, opts);
}

const count = (m: Model, op: string) => m.graph.nodes.filter((n) => n.opType === op).length;

describe('buildBert: opset option', () => {
  it('writes opset 14 by default, byte for byte the same as asking for 14', () => {
    const a = build();
    expect(a.opsetImports).toEqual([{ domain: '', version: 14 }]);
    expect(a.irVersion).toBe(7);
    expect(Buffer.from(encodeModel(a)).equals(Buffer.from(encodeModel(build({ opset: 14 }))))).toBe(true);
  });

  it('refuses opsets it does not write with a SettingsError', () => {
    for (const opset of [10, 9, 18, 19, 0, -14, 13.5, Number.NaN]) {
      expect(() => build({ opset }), `opset ${opset}`).toThrow(SettingsError);
    }
    expect(() => build({ opset: 10 })).toThrow(/build opset 10: expected one of 11, 12, 13, 14, 15, 16, 17/);
  });
});

describe.each([...BUILD_OPSETS])('buildBert at opset %i', (opset) => {
  let model: Model;
  let reference: number[][];
  beforeAll(async () => {
    // Through bytes and back, as a saved model would be read.
    model = decodeModel(encodeModel(build({ opset })));
    reference = await logits(build({ opset: 14 }));
  });

  it('imports that opset with torch’s IR version and passes validateModel', () => {
    expect(model.opsetImports).toEqual([{ domain: '', version: opset }]);
    expect(model.irVersion).toBe(opset === 11 ? 6 : opset <= 14 ? 7 : 8);
    expect(validateModel(model)).toEqual([]);
  });

  it('writes the ops and attributes of that opset', () => {
    const L = CONFIG.numLayers;
    const norms = 2 * L + 1;
    const unsqueezes = model.graph.nodes.filter((n) => n.opType === 'Unsqueeze');
    expect(unsqueezes.length).toBe(3 + 4 * 2 * L); // position ids, 2 for the mask, 2 per head split / merge
    for (const n of unsqueezes) {
      if (opset < 13) {
        expect(n.inputs.length, n.name).toBe(1);
        expect(n.attributes.axes?.type, n.name).toBe('ints');
      } else {
        expect(n.inputs.length, n.name).toBe(2);
        expect(n.attributes.axes, n.name).toBeUndefined();
      }
    }
    for (const n of model.graph.nodes.filter((x) => x.opType === 'Reshape')) {
      expect(n.attributes.allowzero, n.name).toEqual(opset >= 14 ? { type: 'int', value: 0 } : undefined);
    }
    for (const n of model.graph.nodes.filter((x) => x.opType === 'Softmax')) {
      expect(n.attributes.axis, n.name).toEqual({ type: 'int', value: opset < 13 ? 3 : -1 });
    }
    if (opset >= 17) {
      expect(count(model, 'LayerNormalization')).toBe(norms);
      expect(count(model, 'ReduceMean')).toBe(0);
      expect(count(model, 'Sqrt')).toBe(0);
      const ln = model.graph.nodes.find((n) => n.name === '/bert/embeddings/LayerNorm/LayerNormalization')!;
      expect(ln.inputs.slice(1)).toEqual(['bert.embeddings.LayerNorm.weight', 'bert.embeddings.LayerNorm.bias']);
      expect(ln.attributes.axis).toEqual({ type: 'int', value: -1 });
      expect(ln.attributes.epsilon).toEqual({ type: 'float', value: Math.fround(CONFIG.layerNormEps) }); // float32 through bytes
    } else {
      expect(count(model, 'LayerNormalization')).toBe(0);
      expect(count(model, 'ReduceMean')).toBe(2 * norms);
      for (const n of model.graph.nodes.filter((x) => x.opType === 'ReduceMean')) {
        expect(n.inputs.length).toBe(1);
        expect(n.attributes.axes).toEqual({ type: 'ints', value: [-1] });
      }
    }
    expect(count(model, 'Range')).toBe(1);
    expect(count(model, 'Softmax')).toBe(L);
    expect(count(model, 'MatMul')).toBe(8 * L);
    expect(new Set(model.graph.nodes.map((n) => n.name)).size).toBe(model.graph.nodes.length);
  });

  it('loads in onnxruntime and gives the opset-14 logits on a padded batch, within 1e-5', async () => {
    const got = await logits(model);
    expect(maxRowDiff(got, reference)).toBeLessThan(1e-5);
    // the check means something: O(1) logits that match the plain TypeScript BERT and differ between rows
    const want = referenceBertLogits(CONFIG, (n) => WEIGHTS.get(n)!, BATCH);
    expect(maxRowDiff(got, want)).toBeLessThan(1e-4);
    expect(Math.max(...want.flat().map(Math.abs))).toBeGreaterThan(0.1);
    expect(maxRowDiff([want[0]], [want[1]])).toBeGreaterThan(1e-2);
  });

  it('is discovered with the config’s numbers', () => {
    const s = findBert(model);
    expect({
      layers: s.numLayers,
      heads: s.numHeads,
      hidden: s.hiddenSize,
      ffn: s.intermediateSize,
      vocab: s.vocabSize,
      headSize: s.headSize,
      positions: s.maxPositions,
      types: s.typeVocabSize,
      labels: s.head?.numLabels,
    }).toEqual({
      layers: CONFIG.numLayers,
      heads: CONFIG.numHeads,
      hidden: CONFIG.hiddenSize,
      ffn: CONFIG.intermediateSize,
      vocab: CONFIG.vocabSize,
      headSize: CONFIG.hiddenSize / CONFIG.numHeads,
      positions: CONFIG.maxPositions,
      types: CONFIG.typeVocabSize,
      labels: CONFIG.numLabels,
    });
    expect(s.opset).toBe(opset);
    expect(s.inputs).toEqual({ inputIds: 'input_ids', attentionMask: 'attention_mask', tokenTypeIds: 'token_type_ids' });
    const kind = opset >= 17 ? 'op' : 'pattern';
    const norms = [s.embeddings.norm, ...s.layers.flatMap((l) => [l.attentionNorm, l.outputNorm])];
    expect(norms.map((n) => n.kind)).toEqual(norms.map(() => kind));
    for (const n of norms) expect(n.epsilon).toBe(Math.fround(CONFIG.layerNormEps));
    for (const l of s.layers) {
      const consts = l.attention!.headShapeConstants;
      expect(consts.filter((x) => x.meaning === 'num-heads').map((x) => x.value)).toEqual([4, 4, 4]);
      expect(consts.filter((x) => x.meaning === 'all-head-size').map((x) => x.value)).toEqual([CONFIG.hiddenSize]);
    }
    expect(structureProblems(model, s)).toEqual([]);
  });

  it('prunes head 1 of layer 0: the result runs, rediscovers with 3 heads there, and matches the pruned opset-14 model', async () => {
    const drop = { 0: [1] };
    const pruned = applyHeadPruning(model, findBert(model), drop);
    expect(validateModel(pruned)).toEqual([]);
    expect(pruned.opsetImports).toEqual([{ domain: '', version: opset }]);
    const after = findBert(decodeModel(encodeModel(pruned)));
    expect(after.layers.map((l) => l.attention?.numHeads)).toEqual([3, 4]);
    expect(after.layers[0].attention!.q!.outFeatures).toBe(24);
    expect(after.layers[0].attention!.output.inFeatures).toBe(24);
    expect(structureProblems(pruned, after)).toEqual([]);
    const got = await logits(pruned);
    for (const r of got) for (const v of r) expect(Number.isFinite(v)).toBe(true);
    const base = build({ opset: 14 });
    const want = await logits(applyHeadPruning(base, findBert(base), drop));
    expect(maxRowDiff(got, want)).toBeLessThan(1e-5);
    expect(maxRowDiff(got, reference)).toBeGreaterThan(1e-4); // the head really went
  });
});
