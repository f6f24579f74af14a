/**
 * hidden_act 'silu' / 'swish' (transformers' ACT2FN: x · sigmoid(x)), 'quick_gelu' (QuickGELUActivation:
 * x · sigmoid(1.702 · x)) and 'tanh' (nn.Tanh, not the tanh GELU) end to end: a Hugging Face folder of each family
 * builds, its logits are the float64 reference's, discovery names the written graph's activation, the canonical rebuild
 * (train/distill students, the passes' rebuilds) keeps it and writes it back by its transformers name, and the training
 * graph's gradient (the Sigmoid, Mul and Tanh node rules) matches finite differences.
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

/** Each activation: the config.json names read as it, the name a BERT folder is written with, and the op its FFN holds. */
const CASES = [
  { act: 'silu', names: ['silu', 'swish'], folderName: 'swish', op: 'Sigmoid', ops: undefined },
  { act: 'quick_gelu', names: ['quick_gelu'], folderName: 'quick_gelu', op: 'Sigmoid', ops: undefined },
  // (two layers and the pooler)
  { act: 'tanh', names: ['tanh'], folderName: 'tanh', op: 'Tanh', ops: 3 },
] as const;

const root = mkdtempSync(join(tmpdir(), 'bert-compress-activations-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.each(CASES)("hidden_act '$act'", ({ act, names, folderName, op, ops }) => {
  it(`is read from config.json (${names.join(', ')}) and written back as ${act}`, () => {
    for (const name of names) {
      expect(configFromHuggingFace({ hidden_act: name }).activation).toBe(act);
      expect(configFromHuggingFace({ model_type: 'distilbert', activation: name }).activation).toBe(act);
    }
    expect(configToHuggingFace(tinyBertConfig({ activation: act })).hidden_act).toBe(act);
  });

  it('a BERT folder builds to the reference logits; discovery names it; the canonical rebuild keeps it', async () => {
    const config = tinyBertConfig({ activation: act });
    const weights = perturbedWeights(config, 21);
    const dir = writeFamilyFolder(root, { ...configToHuggingFace(config), hidden_act: folderName }, weights, config);
    const model = buildFromHuggingFaceFolder(dir);
    const written = model.graph.nodes.filter((n) => n.opType === op).length;
    if (ops === undefined) expect(written).toBeGreaterThan(0);
    else expect(written).toBe(ops);
    expect(findBert(model).layers.map((l) => l.ffn.activation)).toEqual([act, act]);
    const batch = paddedBatch([7, 3, 5], config.vocabSize);
    const got = await familyLogits(model, batch);
    expect(
      maxRowDiff(
        got,
        referenceBertLogits(config, (k) => weights.get(k)!, batch),
      ),
    ).toBeLessThan(1e-4);
    const canon = canonicalBert(model);
    expect(canon.config.activation).toBe(act);
    expect(maxRowDiff(await familyLogits(buildBert(canon.config, { kind: 'given', tensors: canon.weights }), batch), got)).toBeLessThan(1e-5);
  });

  for (const name of ['distilbert', 'roberta', 'electra E<H']) {
    it(`a ${name} folder with it builds to the reference logits`, async () => {
      const key = name === 'distilbert' ? 'activation' : 'hidden_act';
      const json = { ...FAMILY_JSONS[name], [key]: act };
      const config = configFromHuggingFace(json);
      expect(config.activation).toBe(act);
      const weights = perturbedWeights(config, 23);
      const model = buildFromHuggingFaceFolder(writeFamilyFolder(root, json, weights, config));
      expect(findBert(model).layers[0].ffn.activation).toBe(act);
      const batch = familyBatch(json);
      expect(
        maxRowDiff(
          await familyLogits(model, batch),
          referenceFamilyLogits(json, (k) => weights.get(k)!, batch),
        ),
      ).toBeLessThan(1e-4);
    });
  }

  it('a student from such a teacher has it, and its config.json names it', () => {
    const teacher = buildBert(tinyBertConfig({ activation: act }), { kind: 'random', seed: 3, std: 0.3 });
    const t = teacherShape(teacher);
    expect(t.activation).toBe(act);
    const student = scratchStudent(t, 'bert:layers=1,hidden=32,heads=2,intermediate=64', 1, 2);
    expect(findBert(student.forward(false)).layers.map((l) => l.ffn.activation)).toEqual([act]);
    // (a teacher config.json of another family is rewritten in the student's keys: its activation from the graph)
    expect(student.configJson({ model_type: 'distilbert', activation: 'gelu' }).hidden_act).toBe(act);
  });

  it('the training graph matches finite differences (its node rules)', async () => {
    const config = { ...TINY_CONFIG, hiddenSize: 16, numHeads: 2, intermediateSize: 24, vocabSize: 40, maxPositions: 16, activation: act };
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
