/** Discovery of the graphs bert-compress builds (src/bert/build.ts): it must read back the config's numbers. */
import { describe, expect, it } from 'vitest';
import { buildBert } from '../../src/bert/build.ts';
import { type BertConfig, bertConfig, countParameters } from '../../src/bert/config.ts';
import { findBert } from '../../src/bert/discover.ts';
import { structureProblems } from '../../src/bert/discover/structure-check.ts';
import { summarize } from '../../src/bert/summary.ts';
import { decodeModel, encodeModel } from '../../src/onnx/index.ts';

const CONFIGS: Array<Partial<BertConfig>> = [
  { numLayers: 2, hiddenSize: 32, numHeads: 4, intermediateSize: 64, vocabSize: 128, maxPositions: 64, typeVocabSize: 2, numLabels: 2 },
  { numLayers: 3, hiddenSize: 24, numHeads: 3, intermediateSize: 40, vocabSize: 77, maxPositions: 20, typeVocabSize: 3, numLabels: 1, activation: 'gelu_tanh' },
  { numLayers: 1, hiddenSize: 16, numHeads: 1, intermediateSize: 8, vocabSize: 30, maxPositions: 12, typeVocabSize: 1, numLabels: 5, activation: 'relu' },
  { numLayers: 4, hiddenSize: 16, numHeads: 16, intermediateSize: 32, vocabSize: 40, maxPositions: 8, typeVocabSize: 2, numLabels: 3, layerNormEps: 1e-5 },
];

describe('findBert on built BertForSequenceClassification graphs', () => {
  for (const overrides of CONFIGS) {
    const c = bertConfig(overrides);
    it(`${c.numLayers} × ${c.numHeads} × ${c.hiddenSize} (FFN ${c.intermediateSize}, ${c.activation}, ${c.numLabels} labels)`, () => {
      // Through bytes and back, as a saved model would be read.
      const model = decodeModel(encodeModel(buildBert(c, { kind: 'random', seed: 7 })));
      const s = findBert(model);
      expect({
        layers: s.numLayers,
        heads: s.numHeads,
        headSize: s.headSize,
        hidden: s.hiddenSize,
        ffn: s.intermediateSize,
        vocab: s.vocabSize,
        positions: s.maxPositions,
        types: s.typeVocabSize,
        labels: s.head?.numLabels,
      }).toEqual({
        layers: c.numLayers,
        heads: c.numHeads,
        headSize: c.hiddenSize / c.numHeads,
        hidden: c.hiddenSize,
        ffn: c.intermediateSize,
        vocab: c.vocabSize,
        positions: c.maxPositions,
        types: c.typeVocabSize,
        labels: c.numLabels,
      });
      expect([s.family, s.exporter, s.opset]).toEqual(['bert', 'bert-compress', 14]);
      expect(s.head?.kind).toBe('sequence-classification');
      expect(s.pooler?.activation).toBe('tanh');
      expect(s.inputs).toEqual({ inputIds: 'input_ids', attentionMask: 'attention_mask', tokenTypeIds: 'token_type_ids' });
      for (const l of s.layers) {
        expect(l.ffn.activation).toBe(c.activation);
        expect(l.attentionNorm.epsilon).toBe(Math.fround(c.layerNormEps));
        expect(l.attention!.scale).toBeCloseTo(Math.sqrt(c.hiddenSize / c.numHeads), 5);
        const consts = l.attention!.headShapeConstants;
        expect(consts.filter((x) => x.meaning === 'num-heads').map((x) => x.value)).toEqual([c.numHeads, c.numHeads, c.numHeads]);
        expect(consts.filter((x) => x.meaning === 'all-head-size').map((x) => x.value)).toEqual([c.hiddenSize]);
      }
      expect(structureProblems(model, s)).toEqual([]);
      expect(summarize(model, s).params).toBe(countParameters(c));
    });
  }
});
