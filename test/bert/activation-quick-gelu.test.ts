/**
 * hidden_act 'quick_gelu' (transformers' QuickGELUActivation: x · sigmoid(1.702 · x)) end to end: a Hugging Face folder of each family
 * builds, its logits are the float64 reference's, discovery names the written graph's activation 'quick_gelu', the canonical
 * rebuild (train/distill students, the passes' rebuilds) keeps it and writes it back as 'quick_gelu', and the training graph's
 * gradient (Mul and Sigmoid node rules) matches finite differences.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildBert } from '../../src/bert/build.ts';
import { buildFromHuggingFaceFolder } from '../../src/bert/build-hf.ts';
import { canonicalBert } from '../../src/bert/canonical.ts';
import { configFromHuggingFace, configToHuggingFace } from '../../src/bert/config.ts';
import { findBert } from '../../src/bert/discover.ts';
import { appendLoss } from '../../src/gradients/losses.ts';
import { Tensor } from '../../src/runtime/session.ts';
import { scratchStudent, teacherShape } from '../../src/train/students/index.ts';
import { FAMILY_JSONS, familyBatch, familyLogits, writeFamilyFolder } from '../helpers/family-folders.ts';
import { lcg } from '../helpers/feeds.ts';
import { gradCheck, toFloat64 } from '../helpers/gradcheck.ts';
import { maxRowDiff, paddedBatch, perturbedWeights, referenceBertLogits, TINY_CONFIG, tinyBertConfig } from '../helpers/models.ts';
import { referenceFamilyLogits } from '../helpers/reference-families.ts';

const root = mkdtempSync(join(tmpdir(), 'bert-compress-act-quick-gelu-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("hidden_act 'quick_gelu'", () => {
  it('is read from config.json and written back as quick_gelu', () => {
    expect(configFromHuggingFace({ hidden_act: 'quick_gelu' }).activation).toBe('quick_gelu');
    expect(configFromHuggingFace({ model_type: 'distilbert', activation: 'quick_gelu' }).activation).toBe('quick_gelu');
    expect(configToHuggingFace(tinyBertConfig({ activation: 'quick_gelu' })).hidden_act).toBe('quick_gelu');
  });

  it('a BERT folder builds to the reference logits; discovery names quick_gelu; the canonical rebuild keeps it', async () => {
    const config = tinyBertConfig({ activation: 'quick_gelu' });
    const weights = perturbedWeights(config, 21);
    const dir = writeFamilyFolder(root, configToHuggingFace(config), weights, config);
    const model = buildFromHuggingFaceFolder(dir);
    expect(model.graph.nodes.some((n) => n.opType === 'Sigmoid')).toBe(true);
    expect(findBert(model).layers.map((l) => l.ffn.activation)).toEqual(['quick_gelu', 'quick_gelu']);
    const batch = paddedBatch([7, 3, 5], config.vocabSize);
    const got = await familyLogits(model, batch);
    expect(
      maxRowDiff(
        got,
        referenceBertLogits(config, (k) => weights.get(k)!, batch),
      ),
    ).toBeLessThan(1e-4);
    const canon = canonicalBert(model);
    expect(canon.config.activation).toBe('quick_gelu');
    expect(maxRowDiff(await familyLogits(buildBert(canon.config, { kind: 'given', tensors: canon.weights }), batch), got)).toBeLessThan(1e-5);
  });

  for (const name of ['distilbert', 'roberta', 'electra E<H']) {
    it(`a ${name} folder with quick_gelu builds to the reference logits`, async () => {
      const key = name === 'distilbert' ? 'activation' : 'hidden_act';
      const json = { ...FAMILY_JSONS[name], [key]: 'quick_gelu' };
      const config = configFromHuggingFace(json);
      expect(config.activation).toBe('quick_gelu');
      const weights = perturbedWeights(config, 23);
      const model = buildFromHuggingFaceFolder(writeFamilyFolder(root, json, weights, config));
      expect(findBert(model).layers[0].ffn.activation).toBe('quick_gelu');
      const batch = familyBatch(json);
      expect(
        maxRowDiff(
          await familyLogits(model, batch),
          referenceFamilyLogits(json, (k) => weights.get(k)!, batch),
        ),
      ).toBeLessThan(1e-4);
    });
  }

  it("a student from a quick_gelu teacher is quick_gelu, and its config.json names 'quick_gelu'", () => {
    const teacher = buildBert(tinyBertConfig({ activation: 'quick_gelu' }), { kind: 'random', seed: 3, std: 0.3 });
    const t = teacherShape(teacher);
    expect(t.activation).toBe('quick_gelu');
    const student = scratchStudent(t, 'bert:layers=1,hidden=32,heads=2,intermediate=64', 1, 2);
    expect(findBert(student.forward(false)).layers.map((l) => l.ffn.activation)).toEqual(['quick_gelu']);
    // (a teacher config.json of another family is rewritten in the student's keys: its activation from the graph)
    expect(student.configJson({ model_type: 'distilbert', activation: 'gelu' }).hidden_act).toBe('quick_gelu');
  });

  it('the training graph matches finite differences (Mul, Sigmoid, Mul gradients)', async () => {
    const config = { ...TINY_CONFIG, hiddenSize: 16, numHeads: 2, intermediateSize: 24, vocabSize: 40, maxPositions: 16, activation: 'quick_gelu' as const };
    const forward = buildBert(config, { kind: 'random', seed: 5, std: 0.3 });
    const withLoss = appendLoss(forward, 'logits', 2, [{ kind: 'hard-ce', weight: 1 }]);
    const r = lcg(3);
    const [batch, seq] = [3, 5];
    const feeds = {
      input_ids: new Tensor(
        'int64',
        BigInt64Array.from({ length: batch * seq }, () => BigInt(1 + Math.floor(r() * 39))),
        [batch, seq],
      ),
      attention_mask: new Tensor(
        'int64',
        BigInt64Array.from({ length: batch * seq }, (_, i) => (i % seq < seq - (Math.floor(i / seq) % 2) ? 1n : 0n)),
        [batch, seq],
      ),
      token_type_ids: new Tensor('int64', new BigInt64Array(batch * seq), [batch, seq]),
      'target.labels': new Tensor(
        'float64',
        Float64Array.from({ length: batch * 2 }, (_, i) => ((i >> 1) % 2 === i % 2 ? 1 : 0)),
        [batch, 2],
      ),
    };
    const res = await gradCheck(toFloat64(withLoss.model), { loss: withLoss.loss, feeds, samples: 4 });
    expect(res.worst).toBeLessThan(1e-3);
  });
});
