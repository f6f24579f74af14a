/**
 * Whole training graphs against finite differences, in float64: a tiny BERT (opsets 14 and 17), a BERT whose
 * layers share weights and whose embedding is factorized (the gradient of a shared weight is the sum over its
 * uses), a BERT with uneven heads and a layer without attention, and the Distilled BiLSTM.
 */
import { describe, expect, it } from 'vitest';
import { buildBert } from '../../src/bert/build.ts';
import { TINY_CONFIG } from '../helpers/models.ts';
import { appendLoss } from '../../src/gradients/losses.ts';
import { Tensor } from '../../src/runtime/session.ts';
import { gradCheck, toFloat64 } from '../helpers/gradcheck.ts';
import { lcg } from '../helpers/feeds.ts';
import { bilstmTrainingGraph, randomBilstmWeights, resolveBilstmConfig } from '../../src/train/students/bilstm.ts';
import type { ExtendedBertConfig } from '../../src/bert/config.ts';

function feeds(batch: number, seq: number, vocab: number) {
  const r = lcg(3);
  const ids = BigInt64Array.from({ length: batch * seq }, () => BigInt(1 + Math.floor(r() * (vocab - 1))));
  const mask = BigInt64Array.from({ length: batch * seq }, (_, i) => (i % seq < seq - (Math.floor(i / seq) % 2) ? 1n : 0n));
  const types = BigInt64Array.from({ length: batch * seq }, (_, i) => (i % seq >= seq / 2 ? 1n : 0n));
  const onehot = Float64Array.from({ length: batch * 2 }, (_, i) => ((i >> 1) % 2 === i % 2 ? 1 : 0));
  const teacher = Float64Array.from({ length: batch * 2 }, () => r() * 4 - 2);
  return {
    input_ids: new Tensor('int64', ids, [batch, seq]),
    attention_mask: new Tensor('int64', mask, [batch, seq]),
    token_type_ids: new Tensor('int64', types, [batch, seq]),
    'target.labels': new Tensor('float64', onehot, [batch, 2]),
    'target.teacher_logits': new Tensor('float64', teacher, [batch, 2]),
  };
}

describe('training graph of a tiny BERT', () => {
  for (const opset of [14, 17]) {
    it(`matches finite differences at opset ${opset} (hard + soft CE)`, async () => {
      const config = {
        ...TINY_CONFIG,
        numLayers: 2,
        hiddenSize: 16,
        numHeads: 2,
        intermediateSize: 24,
        vocabSize: 40,
        maxPositions: 16,
        activation: 'gelu_tanh' as const,
      };
      const forward = buildBert(config, { kind: 'random', seed: 5, std: 0.3 }, { opset });
      const withLoss = appendLoss(forward, 'logits', 2, [
        { kind: 'hard-ce', weight: 0.5 },
        { kind: 'soft-ce', weight: 0.5, temperature: 2 },
      ]);
      const r = await gradCheck(toFloat64(withLoss.model), { loss: withLoss.loss, feeds: feeds(3, 5, 40), samples: 4 });

      expect(r.worst).toBeLessThan(1e-3);
    });
  }

  const lossTerms = [
    { kind: 'hard-ce' as const, weight: 0.5 },
    { kind: 'soft-ce' as const, weight: 0.5, temperature: 2 },
  ];
  const small = { ...TINY_CONFIG, hiddenSize: 16, numHeads: 2, intermediateSize: 24, vocabSize: 40, maxPositions: 16, activation: 'gelu_tanh' as const };

  it('matches finite differences for shared layers and a factorized embedding', async () => {
    const config: ExtendedBertConfig = { ...small, numLayers: 3, layerGroups: [0, 0, 1], embeddingSize: 8 };
    const forward = buildBert(config, { kind: 'random', seed: 9, std: 0.3 }, { opset: 17 });
    // the three layers read two sets of weights
    expect([...forward.graph.initializers.keys()].filter((k) => k.includes('layer.2.')).length).toBe(0);
    const withLoss = appendLoss(forward, 'logits', 2, lossTerms);
    const r = await gradCheck(toFloat64(withLoss.model), { loss: withLoss.loss, feeds: feeds(3, 5, 40), samples: 4 });
    expect(r.worst).toBeLessThan(1e-3);
  });

  it('matches finite differences for uneven heads and a layer without attention', async () => {
    const config: ExtendedBertConfig = {
      ...small,
      numHeads: 2,
      numLayers: 2,
      attentionHeadSize: 8,
      layers: [
        { numHeads: 1, intermediateSize: 24 },
        { numHeads: 0, intermediateSize: 10 },
      ],
    };
    const forward = buildBert(config, { kind: 'random', seed: 11, std: 0.3 }, { opset: 17 });
    const withLoss = appendLoss(forward, 'logits', 2, lossTerms);
    const r = await gradCheck(toFloat64(withLoss.model), { loss: withLoss.loss, feeds: feeds(3, 5, 40), samples: 4 });
    expect(r.worst).toBeLessThan(1e-3);
  });

  it('matches finite differences for the BiLSTM (logit MSE)', async () => {
    const config = resolveBilstmConfig({ hiddenSize: 4, embeddingSize: 5, mlpSize: 6 }, { vocabSize: 40, numLabels: 2, maxLength: 5 });
    const forward = bilstmTrainingGraph(config, randomBilstmWeights(config, 3, { embeddingStd: 0.5 }));
    const withLoss = appendLoss(forward, 'logits', 2, [
      { kind: 'hard-ce', weight: 0.5 },
      { kind: 'logit-mse', weight: 0.5 },
    ]);
    const f = feeds(3, 5, 40);
    const { token_type_ids: _t, ...rest } = f;
    const r = await gradCheck(toFloat64(withLoss.model), { loss: withLoss.loss, feeds: rest, samples: 4 });
    expect(r.worst).toBeLessThan(1e-3);
  });
});
