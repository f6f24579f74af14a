/** The whole training graph of a tiny BERT against finite differences, in float64. */
import { describe, expect, it } from 'vitest';
import { buildBert } from '../../src/bert/build.ts';
import { TINY_CONFIG } from '../helpers/models.ts';
import { appendLoss } from '../../src/train/losses.ts';
import { Tensor } from '../../src/runtime/session.ts';
import { gradCheck, toFloat64 } from '../helpers/gradcheck.ts';
import { lcg } from '../helpers/feeds.ts';

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
      const config = { ...TINY_CONFIG, numLayers: 2, hiddenSize: 16, numHeads: 2, intermediateSize: 24, vocabSize: 40, maxPositions: 16, activation: 'gelu_tanh' as const };
      const forward = buildBert(config, { kind: 'random', seed: 5, std: 0.3 }, { opset });
      const withLoss = appendLoss(forward, 'logits', 2, [
        { kind: 'hard-ce', weight: 0.5 },
        { kind: 'soft-ce', weight: 0.5, temperature: 2 },
      ]);
      const r = await gradCheck(toFloat64(withLoss.model), { loss: withLoss.loss, feeds: feeds(3, 5, 40), samples: 4 });

      expect(r.worst).toBeLessThan(1e-3);
    });
  }
});
