/**
 * DistilBERT, RoBERTa, XLM-R and ELECTRA (discriminator) Hugging Face folders: config.json + model.safetensors
 * written from known weights, built without Python and checked against an independent float64 forward pass
 * (test/helpers/reference-families.ts) on padded batches; base-model checkpoints with a seeded head; discovery, the
 * canonical rebuild and every compression pass on the built graphs; `compress export` on an ELECTRA folder.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildBert } from '../../src/bert/build.ts';
import { buildFromHuggingFaceFolder, checkPyTorchFormat, loadHuggingFaceFolder } from '../../src/bert/build-hf.ts';
import { bertParameters, randomBertWeights } from '../../src/bert/build-weights.ts';
import { canonicalBert, rebuildCanonical } from '../../src/bert/canonical.ts';
import { configFromHuggingFace, configToHuggingFace, type ExtendedBertConfig } from '../../src/bert/config.ts';
import { findBert } from '../../src/bert/discover.ts';
import { encodeSafetensors, type SafetensorsInput } from '../../src/bert/safetensors.ts';
import { DataError, SettingsError } from '../../src/errors.ts';
import { HEAD_SEED, checkpointSeeding, exportHuggingFaceFolder } from '../../src/export/from-huggingface.ts';
import { transformersJsConfig } from '../../src/export/transformers-js.ts';
import { appendLoss } from '../../src/gradients/losses.ts';
import { DataType, loadModel, type Model } from '../../src/onnx/index.ts';
import type { PassStep } from '../../src/pass/pass.ts';
import { runPipeline } from '../../src/pass/pipeline.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { Tensor } from '../../src/runtime/session.ts';
import { gradCheck, toFloat64 } from '../helpers/gradcheck.ts';
import { FAMILY_JSONS, familyBatch, familyLogits, writeFamilyFolder } from '../helpers/family-folders.ts';
import { maxRowDiff, perturbedWeights, tinyBertConfig, type TokenBatch } from '../helpers/models.ts';
import { referenceFamilyLogits } from '../helpers/reference-families.ts';
import { fixture, hasFixtures } from '../helpers/paths.ts';
import { refusal } from '../helpers/refusal.ts';
import { runModel } from '../helpers/run-model.ts';
import { runMain } from '../helpers/cli.ts';

registerAllPasses();

const root = mkdtempSync(join(tmpdir(), 'bert-compress-families-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The message of the one-line DataError `run` must throw. */
const dataRefusal = (run: () => unknown) => refusal(run, DataError);

function missing(name: string): never {
  throw new Error(`the reference reads '${name}', which the checkpoint does not have`);
}

/** A folder of the family with perturbed weights (seed), its config and weights, and the built model. */
function built(
  name: string,
  seed = 11,
): { json: (typeof FAMILY_JSONS)[string]; config: ExtendedBertConfig; weights: Map<string, Float32Array>; model: Model; dir: string } {
  const json = FAMILY_JSONS[name];
  const config = configFromHuggingFace(json);
  const weights = perturbedWeights(config, seed);
  const dir = writeFamilyFolder(root, json, weights, config);
  return { json, config, weights, model: buildFromHuggingFaceFolder(dir), dir };
}

/** Writes a checkpoint with the given keys renamed (`rename` returns undefined to leave a key out) and `extra` keys. */
function writeRenamed(
  json: object,
  config: ExtendedBertConfig,
  weights: Map<string, Float32Array>,
  rename: (key: string) => string | undefined,
  extra: Record<string, SafetensorsInput> = {},
): string {
  return writeFamilyFolder(root, json, weights, config, new Map(Object.entries(extra)), rename);
}

const vec = (n: number) => ({ dims: [n], data: new Float32Array(n).fill(0.5) });
const mat = (r: number, c: number) => ({ dims: [r, c], data: new Float32Array(r * c).fill(0.01) });

describe('Hugging Face folders of other families: logits', () => {
  for (const name of Object.keys(FAMILY_JSONS)) {
    it(`${name}: logits equal the reference forward pass within 1e-4 on a padded batch`, async () => {
      const json = FAMILY_JSONS[name];
      const config = configFromHuggingFace(json);
      const weights = perturbedWeights(config, 11);
      const extra = new Map<string, SafetensorsInput>();
      if (config.family === 'roberta') {
        // What RobertaForSequenceClassification checkpoints may also carry: unused, and harmless.
        const p = config.maxPositions;
        extra.set('roberta.embeddings.position_ids', { dims: [1, p], data: Float32Array.from({ length: p }, (_, i) => i), dtype: 'I64' });
        extra.set('roberta.pooler.dense.weight', mat(32, 32));
        extra.set('roberta.pooler.dense.bias', vec(32));
      }
      const model = buildFromHuggingFaceFolder(writeFamilyFolder(root, json, weights, config, extra));
      const batch = familyBatch(json);
      const got = await familyLogits(model, batch);
      expect([got.length, got[0].length]).toEqual([4, config.numLabels]);
      expect(
        maxRowDiff(
          got,
          referenceFamilyLogits(json, (k) => weights.get(k) ?? missing(k), batch),
        ),
      ).toBeLessThan(1e-4);
      expect(maxRowDiff([got[0]], [got[1]])).toBeGreaterThan(1e-3);
      const inputs = model.graph.inputs.map((v) => v.name);
      expect(inputs).toEqual(config.family === 'electra' ? ['input_ids', 'attention_mask', 'token_type_ids'] : ['input_ids', 'attention_mask']);
    });
  }

  it('RoBERTa positions come from the ids: a pad id inside the sequence, more padding, another pad_token_id', async () => {
    const { json, weights, model, config } = built('roberta', 12);
    const short = familyBatch(json, [5]);
    const long: TokenBatch = {
      inputIds: [[...short.inputIds[0], 1, 1, 1]],
      attentionMask: [[...short.attentionMask[0], 0, 0, 0]],
      tokenTypeIds: [[...short.tokenTypeIds[0], 0, 0, 0]],
    };
    const a = await familyLogits(model, short);
    expect(maxRowDiff(a, await familyLogits(model, long))).toBeLessThan(1e-5);
    // An attended pad id takes position pad_token_id and the tokens after it count on from the one before.
    const inner: TokenBatch = { ...short, inputIds: [short.inputIds[0].map((id, j) => (j === 2 ? 1 : id))] };
    const c = await familyLogits(model, inner);
    expect(
      maxRowDiff(
        c,
        referenceFamilyLogits(json, (k) => weights.get(k)!, inner),
      ),
    ).toBeLessThan(1e-4);
    expect(maxRowDiff(c, a)).toBeGreaterThan(1e-3);
    expect(
      maxRowDiff(
        a,
        referenceFamilyLogits(json, (k) => weights.get(k)!, long),
      ),
    ).toBeLessThan(1e-4);
    // pad_token_id 3 shifts every position by 2.
    const shifted = { ...json, pad_token_id: 3 };
    const other = buildFromHuggingFaceFolder(writeFamilyFolder(root, shifted, weights, { ...config, padTokenId: 3 }));
    const batch = familyBatch(shifted, [5]);
    const b = await familyLogits(other, batch);
    expect(
      maxRowDiff(
        b,
        referenceFamilyLogits(shifted, (k) => weights.get(k)!, batch),
      ),
    ).toBeLessThan(1e-4);
    expect(maxRowDiff(b, await familyLogits(model, batch))).toBeGreaterThan(1e-3);
  });

  it('ELECTRA: the head is classifier.dense → GELU → out_proj on token 0, whatever hidden_act is', async () => {
    const { model } = built('electra E=H');
    const names = model.graph.nodes.map((n) => n.name);
    expect(names).toContain('/classifier/activation/Erf');
    expect(names.some((n) => n.startsWith('/electra/pooler') || n.startsWith('/electra/embeddings_project'))).toBe(false);
    expect(model.graph.nodes.some((n) => n.opType === 'Relu')).toBe(true); // hidden_act relu in the FFN
    const narrow = built('electra E<H').model;
    expect(narrow.graph.initializers.get('electra.embeddings_project.weight')).toBeUndefined(); // transposed for MatMul
    expect(narrow.graph.initializers.get('electra.embeddings_project.bias')!.dims).toEqual([32]);
    expect(narrow.graph.initializers.get('electra.embeddings.LayerNorm.weight')!.dims).toEqual([16]);
    expect(narrow.graph.initializers.get('electra.embeddings.token_type_embeddings.weight')!.dims).toEqual([2, 16]);
  });
});

describe('config.json of other families', () => {
  it('reads each family with its keys and defaults', () => {
    const distil = configFromHuggingFace(FAMILY_JSONS.distilbert);
    expect(distil).toMatchObject({ family: 'distilbert', numLayers: 2, hiddenSize: 32, numHeads: 4, intermediateSize: 64, layerNormEps: 1e-12, numLabels: 3 });
    expect(distil.id2label).toEqual(['neg', 'neu', 'pos']);
    expect(configFromHuggingFace({ model_type: 'distilbert', activation: 'relu' })).toMatchObject({ hiddenSize: 768, numLayers: 6, activation: 'relu' });
    expect(configFromHuggingFace(FAMILY_JSONS.roberta)).toMatchObject({
      family: 'roberta',
      padTokenId: 1,
      typeVocabSize: 1,
      layerNormEps: 1e-5,
      maxPositions: 66,
    });
    expect(configFromHuggingFace({ model_type: 'roberta' })).toMatchObject({ family: 'roberta', vocabSize: 50265, padTokenId: 1 });
    expect(configFromHuggingFace({ model_type: 'xlm-roberta' })).toMatchObject({ family: 'roberta', vocabSize: 30522, padTokenId: 1 });
    expect(configFromHuggingFace({ model_type: 'camembert', vocab_size: 32005 })).toMatchObject({ family: 'roberta', vocabSize: 32005, padTokenId: 1 });
    expect(configFromHuggingFace(FAMILY_JSONS['xlm-roberta'])).toMatchObject({
      family: 'roberta',
      activation: 'gelu_tanh',
      numLabels: 1,
      problemType: 'regression',
    });
    expect(configFromHuggingFace(FAMILY_JSONS['electra E<H'])).toMatchObject({ family: 'electra', embeddingSize: 16, hiddenSize: 32 });
    expect(configFromHuggingFace(FAMILY_JSONS['electra E=H']).embeddingSize).toBeUndefined();
    // ElectraConfig's defaults: electra-small (embedding 128, hidden 256, 4 heads, FFN 1024).
    expect(configFromHuggingFace({ model_type: 'electra' })).toMatchObject({ embeddingSize: 128, hiddenSize: 256, numHeads: 4, intermediateSize: 1024 });
  });

  it('refuses what it cannot build in one line, in config.json key names', () => {
    const cases: Array<[unknown, string]> = [
      [
        { model_type: 'gpt2' },
        'config.json: model_type: expected one of bert, distilbert, roberta, xlm-roberta, camembert, electra, albert (those supported), got string "gpt2"',
      ],
      [{ model_type: 'distilbert', dim: 30, n_heads: 4 }, 'config.json: dim (30) is not divisible by n_heads (4)'],
      [
        { model_type: 'distilbert', activation: 'mish' },
        'config.json: activation: expected one of gelu, gelu_python, gelu_new, gelu_pytorch_tanh, gelu_fast, gelu_accurate, relu, silu, swish, quick_gelu, tanh, got string "mish"',
      ],
      [{ model_type: 'roberta', pad_token_id: -1 }, 'config.json: pad_token_id: expected an integer from 0 to 2^53 − 1, got number -1'],
      [{ model_type: 'roberta', vocab_size: 10, pad_token_id: 10 }, 'config.json: pad_token_id (10) is not below vocab_size (10)'],
      [{ model_type: 'xlm-roberta', max_position_embeddings: 2 }, 'config.json: max_position_embeddings (2) leaves no position after pad_token_id + 1 (2)'],
      [{ model_type: 'electra', embedding_size: 0 }, 'config.json: embedding_size: expected an integer from 1 to 2^53 − 1, got number 0'],
      [
        { model_type: 'electra', position_embedding_type: 'relative_key' },
        'config.json: position_embedding_type: expected \'absolute\' (the one supported), got string "relative_key"',
      ],
      // (a pruned head past the heads, named by the family's own key)
      [{ model_type: 'distilbert', n_heads: 4, pruned_heads: { 0: [4] } }, "config.json: pruned_heads['0']: expected a head of the 4 (n_heads), got number 4"],
      [
        { model_type: 'roberta', num_attention_heads: 4, pruned_heads: { 0: [4] } },
        "config.json: pruned_heads['0']: expected a head of the 4 (num_attention_heads), got number 4",
      ],
    ];
    for (const [json, message] of cases) {
      expect(() => configFromHuggingFace(json)).toThrow(SettingsError);
      const m = refusal(() => configFromHuggingFace(json));
      expect(m.startsWith(message), m).toBe(true);
      expect(m).not.toContain('\n');
    }
  });
});

describe('base-model checkpoints and other heads', () => {
  it('ElectraForPreTraining (discriminator_predictions.*) builds with a seeded classifier; refused without', async () => {
    const { json, config, weights } = built('electra E<H');
    const dir = writeRenamed(json, config, weights, (k) => (k.startsWith('classifier.') ? undefined : k), {
      'discriminator_predictions.dense.weight': mat(32, 32),
      'discriminator_predictions.dense.bias': vec(32),
      'discriminator_predictions.dense_prediction.weight': mat(1, 32),
      'discriminator_predictions.dense_prediction.bias': vec(1),
    });
    expect(() => buildFromHuggingFaceFolder(dir)).toThrow(
      new DataError(
        `${dir}: parameters 'classifier.dense.weight', 'classifier.dense.bias', 'classifier.out_proj.weight', 'classifier.out_proj.bias' are missing`,
      ),
    );
    const model = buildFromHuggingFaceFolder(dir, { fillMissing: { seed: 5 } });
    // The encoder is the checkpoint's and the head the seeded one: the reference with those weights agrees.
    const seeded = randomBertWeights(config, { seed: 5 });
    const all = (k: string) => (k.startsWith('classifier.') ? seeded.get(k)! : weights.get(k)!);
    const batch = familyBatch(json);
    expect(maxRowDiff(await familyLogits(model, batch), referenceFamilyLogits(json, all, batch))).toBeLessThan(1e-4);
  });

  const bases: Array<[string, string, (k: string) => string | undefined, Record<string, SafetensorsInput>]> = [
    ['ElectraModel', 'electra E<H', (k) => (k.startsWith('classifier.') ? undefined : k.replace(/^electra\./, '')), {}],
    ['DistilBertModel', 'distilbert', (k) => (/^(pre_)?classifier\./.test(k) ? undefined : k.replace(/^distilbert\./, '')), {}],
    [
      'RobertaForMaskedLM',
      'roberta',
      (k) => (k.startsWith('classifier.') ? undefined : k),
      { 'lm_head.dense.weight': mat(32, 32), 'lm_head.dense.bias': vec(32), 'lm_head.bias': vec(128) },
    ],
    [
      // safetensors.torch.save_model keeps one name of tied tensors, the first in sorted order: the decoder's
      'RobertaForMaskedLM with its word table saved as the tied lm_head.decoder.weight',
      'roberta',
      (k) => (k.startsWith('classifier.') ? undefined : k === 'roberta.embeddings.word_embeddings.weight' ? 'lm_head.decoder.weight' : k),
      { 'lm_head.dense.weight': mat(32, 32), 'lm_head.dense.bias': vec(32), 'lm_head.bias': vec(128) },
    ],
    ['RobertaModel (XLM-R)', 'xlm-roberta', (k) => (k.startsWith('classifier.') ? undefined : k.replace(/^roberta\./, '')), { 'pooler.dense.bias': vec(32) }],
  ];
  for (const [what, family, rename, extra] of bases) {
    it(`${what}: the bare keys are mapped to the family's names; only the head is seeded`, () => {
      const { json, config, weights, model } = built(family);
      const dir = writeRenamed(json, config, weights, rename, extra);
      const head = family === 'distilbert' ? ['pre_classifier', 'classifier'] : ['classifier.dense', 'classifier.out_proj'];
      const seededNames = head.flatMap((h) => [`${h}.weight`, `${h}.bias`]);
      expect(dataRefusal(() => buildFromHuggingFaceFolder(dir))).toBe(`${dir}: parameters ${seededNames.map((n) => `'${n}'`).join(', ')} are missing`);
      const rebuilt = buildFromHuggingFaceFolder(dir, { fillMissing: { seed: 5 } });
      for (const [k, t] of model.graph.initializers) {
        if (seededNames.includes(k)) continue;
        expect(Buffer.from(rebuilt.graph.initializers.get(k)!.data).equals(Buffer.from(t.data)), k).toBe(true);
      }
    });
  }

  it("a decoder without the word table is not taken for it when config.json's tie_word_embeddings is false (untied, both are saved)", () => {
    const { json, config, weights } = built('roberta');
    const rename = (k: string) => (k === 'roberta.embeddings.word_embeddings.weight' ? 'lm_head.decoder.weight' : k);
    const untied = writeRenamed({ ...json, tie_word_embeddings: false }, config, weights, rename);
    expect(dataRefusal(() => loadHuggingFaceFolder(untied))).toBe(
      `${untied}: the checkpoint has no word table (roberta.embeddings.word_embeddings.weight), only the masked-LM decoder 'lm_head.decoder.weight', which config.json's tie_word_embeddings false says is not the word table: is a tensor missing?`,
    );
    // tied (true, or left out: transformers' default), the decoder is the word table
    const tied = writeRenamed({ ...json, tie_word_embeddings: true }, config, weights, rename);
    expect(loadHuggingFaceFolder(tied).weights.get('roberta.embeddings.word_embeddings.weight')?.data).toEqual(
      weights.get('roberta.embeddings.word_embeddings.weight'),
    );
  });

  it('export: a base checkpoint gets its head seeded (seed 0) with a notice, as hf: references do; --seed-missing picks the seed', async () => {
    const { json, config, weights } = built('electra E<H');
    const dir = writeRenamed(json, { ...config }, weights, (k) => (k.startsWith('classifier.') ? undefined : k.replace(/^electra\./, '')));
    const lines: string[] = [];
    const out = join(mkdtempSync(join(root, 'export-base-')), 'model.onnx');
    const r = await exportHuggingFaceFolder(dir, out, { log: (l) => lines.push(l), label: 'base' });
    const seeded = ['classifier.dense.weight', 'classifier.dense.bias', 'classifier.out_proj.weight', 'classifier.out_proj.bias'];
    expect(r.seeded).toEqual(seeded);
    expect(lines).toEqual([
      `warning: base: the checkpoint has no classification head: ${seeded.join(', ')} newly initialized (seed ${HEAD_SEED}); train or distil it before trusting its predictions`,
    ]);
    const same = buildFromHuggingFaceFolder(dir, { fillMissing: { seed: HEAD_SEED } });
    const written = loadModel(out);
    for (const k of seeded)
      expect(Buffer.from(written.graph.initializers.get(k)!.data).equals(Buffer.from(same.graph.initializers.get(k)!.data)), k).toBe(true);
    expect(checkpointSeeding(dir, { seedMissing: 7, label: 'base' })).toEqual({
      fillMissing: { seed: 7 },
      seeded,
      notice: `warning: base: the checkpoint has no classification head: ${seeded.join(', ')} newly initialized (seed 7); train or distil it before trusting its predictions`,
    });
    // a checkpoint missing encoder weights is not a base model: nothing seeded, the build names the first one
    const strict = writeRenamed(json, config, weights, (k) => (k === 'electra.encoder.layer.1.output.dense.weight' ? undefined : k));
    expect(checkpointSeeding(strict)).toEqual({ seeded: [] });
    await expect(exportHuggingFaceFolder(strict, join(mkdtempSync(join(root, 'export-strict-')), 'model.onnx'))).rejects.toThrow(/is missing$/);
  });

  it("export: a BertModel checkpoint's seeded classifier is named in the config.json written beside it (class and labels, as the transformers.js folder names them); a checkpoint with its head gets its own", async () => {
    const config = tinyBertConfig();
    const { id2label: _i, label2id: _l, num_labels: _n, ...base } = configToHuggingFace(config) as Record<string, unknown>;
    const json = { ...base, architectures: ['BertModel'] };
    const dir = writeRenamed(json, config, perturbedWeights(config, 4), (k) => (k.startsWith('classifier.') ? undefined : k.replace(/^bert\./, '')));
    const folder = mkdtempSync(join(root, 'export-bertmodel-'));
    const r = await exportHuggingFaceFolder(dir, join(folder, 'model.onnx'), { label: 'base' });
    expect(r.seeded).toEqual(['classifier.weight', 'classifier.bias']);
    const named = {
      ...json,
      architectures: ['BertForSequenceClassification'],
      id2label: { 0: 'LABEL_0', 1: 'LABEL_1' },
      label2id: { LABEL_0: 0, LABEL_1: 1 },
    };
    const written = () => JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8'));
    expect(written()).toEqual(named);
    expect(r.wroteConfig).toBe(true);
    expect(r.copied).not.toContain('config.json');
    // (the transformers.js folder names them the same way)
    const { architectures, id2label, label2id } = transformersJsConfig(
      json,
      'config.json',
      loadModel(join(folder, 'model.onnx')),
      'bert',
      'fp32',
      'base',
      'sequence-classification',
    );
    expect({ architectures, id2label, label2id }).toEqual({ architectures: named.architectures, id2label: named.id2label, label2id: named.label2id });
    // exported again into the same folder, or over the checkpoint's own config.json copied there (an earlier export)
    await exportHuggingFaceFolder(dir, join(folder, 'model.onnx'));
    expect(written()).toEqual(named);
    writeFileSync(join(folder, 'config.json'), readFileSync(join(dir, 'config.json')));
    expect((await exportHuggingFaceFolder(dir, join(folder, 'model.onnx'))).wroteConfig).toBe(true);
    expect(written()).toEqual(named);
    // into the checkpoint's own folder: its config.json stays, and a notice says it does not name the classifier
    const before = readFileSync(join(dir, 'config.json'));
    const lines: string[] = [];
    expect((await exportHuggingFaceFolder(dir, join(dir, 'model.onnx'), { label: 'base', log: (l) => lines.push(l) })).wroteConfig).toBe(false);
    expect(readFileSync(join(dir, 'config.json')).equals(before)).toBe(true);
    expect(lines[1]).toBe(
      `warning: -o ${join(dir, 'model.onnx')}: config.json beside it is the checkpoint's and does not name the seeded classifier (architectures, id2label, label2id); export to another folder for one that does`,
    );
    // a checkpoint with its classifier: its config.json copied as it is
    const whole = writeRenamed(configToHuggingFace(config), config, perturbedWeights(config, 4), (k) => k);
    const other = mkdtempSync(join(root, 'export-whole-'));
    const kept = await exportHuggingFaceFolder(whole, join(other, 'model.onnx'));
    expect([kept.wroteConfig, kept.copied.includes('config.json')]).toEqual([false, true]);
    expect(readFileSync(join(other, 'config.json')).equals(readFileSync(join(whole, 'config.json')))).toBe(true);
  });

  it('export: a base checkpoint beside another .safetensors (an adapter, a broken file) still gets its head seeded from model.safetensors alone', async () => {
    const { json, config, weights } = built('electra E<H');
    const dir = writeRenamed(json, config, weights, (k) => (k.startsWith('classifier.') ? undefined : k.replace(/^electra\./, '')));
    const seeded = ['classifier.dense.weight', 'classifier.dense.bias', 'classifier.out_proj.weight', 'classifier.out_proj.bias'];
    // an adapter holding a head the build never reads must not hide that model.safetensors has none
    writeFileSync(
      join(dir, 'adapter_model.safetensors'),
      Buffer.concat(encodeSafetensors({ 'classifier.out_proj.weight': mat(2, 32), 'classifier.out_proj.bias': vec(2) })),
    );
    expect(checkpointSeeding(dir).seeded).toEqual(seeded);
    const out = join(mkdtempSync(join(root, 'export-adapter-')), 'model.onnx');
    expect((await exportHuggingFaceFolder(dir, out)).seeded).toEqual(seeded);
    writeFileSync(join(dir, 'adapter_model.safetensors'), 'not safetensors');
    expect(checkpointSeeding(dir).seeded).toEqual(seeded);
  });

  it("export: tensor names under a wrapper module's prefix ('model.bert.…') are refused naming the prefix, not the model_type; a family's own prefix is still taken for another family", async () => {
    const { json, config, weights } = built('roberta');
    const out = join(mkdtempSync(join(root, 'export-wrapped-')), 'model.onnx');
    const wrapped = writeRenamed(json, config, weights, (k) => `model.${k}`);
    for (const seedMissing of [undefined, 3])
      await expect(exportHuggingFaceFolder(wrapped, out, { seedMissing, label: 'x' })).rejects.toThrow(
        new DataError(
          "x: every tensor name of the checkpoint starts with 'model.' before the model's own (model.roberta.embeddings.word_embeddings.weight, …): saved from a wrapper module? save the inner model with save_pretrained, or rename its tensors without the prefix",
        ),
      );
    // a wrapped base model (RobertaModel: bare keys) too
    const wrappedBase = writeRenamed(json, config, weights, (k) => (k.startsWith('classifier.') ? undefined : `module.${k.replace(/^roberta\./, '')}`));
    await expect(exportHuggingFaceFolder(wrappedBase, out, { label: 'x' })).rejects.toThrow(
      /^x: every tensor name of the checkpoint starts with 'module\.' before the model's own \(module\.embeddings\./,
    );
    // two wrappers' prefixes (DDP around torch.compile: 'module._orig_mod.'; a Lightning module under DDP: 'module.model.'),
    // and a wrapper's attribute named as the family (a Lightning module's self.roberta: 'roberta.roberta.…')
    for (const prefix of ['module._orig_mod.', 'module.model.', 'roberta.']) {
      const twice = writeRenamed(json, config, weights, (k) => `${prefix}${k}`);
      await expect(exportHuggingFaceFolder(twice, out, { label: 'x' })).rejects.toThrow(
        new DataError(
          `x: every tensor name of the checkpoint starts with '${prefix}' before the model's own (${prefix}roberta.embeddings.word_embeddings.weight, …): saved from a wrapper module? save the inner model with save_pretrained, or rename its tensors without the prefix`,
        ),
      );
    }
    expect(existsSync(out)).toBe(false);
    // RobertaModel's keys (all 'roberta.…') under model_type bert: another family's, not a wrapper's
    const { model_type: _, ...untyped } = json;
    const base = writeRenamed({ ...untyped, model_type: 'bert' }, config, weights, (k) => (k.startsWith('classifier.') ? undefined : k));
    await expect(exportHuggingFaceFolder(base, out, { label: 'x' })).rejects.toThrow(/is model_type right\?$/);
  });

  it("export: another family's tensors under config.json's model_type are refused in one line, --seed-missing or not; a seeded encoder parameter is named", async () => {
    const { json, config, weights } = built('roberta');
    const { model_type: _, ...untyped } = json;
    const asBert = writeRenamed({ ...untyped, model_type: 'bert' }, config, weights, (k) => k);
    const out = join(mkdtempSync(join(root, 'export-foreign-')), 'model.onnx');
    const refused = `x: the checkpoint's tensors (roberta.…, classifier.…) have none of the embeddings and encoder parameters of config.json's model_type 'bert' (bert.embeddings.word_embeddings.weight, …): is model_type right?`;
    for (const seedMissing of [undefined, 3])
      await expect(exportHuggingFaceFolder(asBert, out, { seedMissing, label: 'x' })).rejects.toThrow(new DataError(refused));
    expect(existsSync(out)).toBe(false);
    const noType = writeRenamed(untyped, config, weights, (k) => k);
    await expect(exportHuggingFaceFolder(noType, out, { seedMissing: 3, label: 'x' })).rejects.toThrow(
      new DataError(refused.replace("model_type 'bert'", "model_type 'bert' (config.json names none)")),
    );
    const lacking = writeRenamed(json, config, weights, (k) => (k === 'roberta.encoder.layer.1.output.dense.weight' ? undefined : k));
    const lines: string[] = [];
    await exportHuggingFaceFolder(lacking, out, { seedMissing: 3, label: 'x', log: (l) => lines.push(l) });
    expect(lines).toEqual([
      'warning: x: the checkpoint lacks 1 parameter: roberta.encoder.layer.1.output.dense.weight newly initialized (seed 3); train or distil it before trusting its predictions',
    ]);
  });

  it('export: a classifier without the pooler before it (BertForTokenClassification) gets the pooler seeded, and the notice says that is what it lacks', async () => {
    const config = tinyBertConfig({ numLabels: 3 });
    const weights = perturbedWeights(config, 2);
    const dir = writeRenamed(configToHuggingFace(config), config, weights, (k) => (k.startsWith('bert.pooler.') ? undefined : k));
    const lines: string[] = [];
    const r = await exportHuggingFaceFolder(dir, join(mkdtempSync(join(root, 'export-pooler-')), 'model.onnx'), { label: 'ner', log: (l) => lines.push(l) });
    expect(r.seeded).toEqual(['bert.pooler.dense.weight', 'bert.pooler.dense.bias']);
    expect(lines).toEqual([
      'warning: ner: the checkpoint has no bert.pooler.dense before its classifier: bert.pooler.dense.weight, bert.pooler.dense.bias newly initialized (seed 0); train or distil it before trusting its predictions',
    ]);
  });

  it('export: safetensors saved by TensorFlow (format tf) are refused naming the format, not as another model_type', async () => {
    const { json } = built('roberta');
    const dir = mkdtempSync(join(root, 'tf-'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify(json));
    const kernel = 'tf_roberta_for_sequence_classification/roberta/embeddings/word_embeddings/weight:0';
    writeFileSync(join(dir, 'model.safetensors'), Buffer.concat(encodeSafetensors({ [kernel]: mat(128, 32) }, { format: 'tf' })));
    const out = join(mkdtempSync(join(root, 'export-tf-')), 'model.onnx');
    const refused = `${join(dir, 'model.safetensors')}: saved by TensorFlow (__metadata__ format 'tf'); bert-compress reads PyTorch safetensors (format 'pt'): load it in transformers' PyTorch class and save_pretrained it again`;
    await expect(exportHuggingFaceFolder(dir, out, { seedMissing: 1 })).rejects.toThrow(new DataError(refused));
    expect(existsSync(out)).toBe(false);
  });

  it("a safetensors format named like a JavaScript built-in is no other framework's", () => {
    for (const format of ['pt', 'constructor', 'toString', '__proto__']) expect(() => checkPyTorchFormat('m.safetensors', { format })).not.toThrow();
    expect(() => checkPyTorchFormat('m.safetensors', { format: 'flax' })).toThrow(/saved by Flax/);
  });

  it('export into the checkpoint folder twice: the second replaces the first model.onnx (not an input of the export)', async () => {
    const { json, config, weights } = built('roberta');
    const dir = writeRenamed(json, config, weights, (k) => k);
    const out = join(dir, 'model.onnx');
    await exportHuggingFaceFolder(dir, out);
    const first = readFileSync(out);
    const r = await exportHuggingFaceFolder(dir, out);
    expect(r.saved.model).toBe(out);
    expect(readFileSync(out).equals(first)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['config.json', 'model.onnx', 'model.safetensors']);
  });

  it("export: a DistilBERT checkpoint's layers past config.json's n_layers are warned of by that key (DistilBertConfig's, not num_hidden_layers)", async () => {
    const { json, config, weights } = built('distilbert');
    const dir = writeRenamed({ ...json, n_layers: 1 }, config, weights, (k) => k);
    const lines: string[] = [];
    await exportHuggingFaceFolder(dir, join(mkdtempSync(join(root, 'export-past-')), 'model.onnx'), { label: 'x', log: (l) => lines.push(l) });
    expect(lines).toEqual(["warning: x: the checkpoint's encoder layer 1 (16 tensors) is past config.json's n_layers 1: not used"]);
  });

  it('a missing encoder parameter is a one-line error naming it', () => {
    const { json, config, weights } = built('electra E<H');
    const dir = writeRenamed(json, config, weights, (k) => (k === 'electra.embeddings_project.bias' ? undefined : k));
    expect(() => buildFromHuggingFaceFolder(dir, { fillMissing: { seed: 1 } })).not.toThrow(); // fillMissing seeds anything
    const strict = writeRenamed(json, config, weights, (k) => (k === 'electra.encoder.layer.1.output.dense.weight' ? undefined : k));
    expect(dataRefusal(() => buildFromHuggingFaceFolder(strict))).toBe(`${strict}: parameter 'electra.encoder.layer.1.output.dense.weight' is missing`);
  });

  it("a misshapen tensor names DistilBERT's own config.json keys of the sizes it misses (dim, hidden_dim)", () => {
    const { json, config, weights } = built('distilbert');
    const lin1 = 'distilbert.transformer.layer.0.ffn.lin1.weight';
    const dir = writeRenamed(json, config, weights, (k) => (k === lin1 ? undefined : k), { [lin1]: mat(48, 16) });
    expect(dataRefusal(() => buildFromHuggingFaceFolder(dir))).toBe(
      `${dir}: '${lin1}' has shape [48, 16] but the config needs [64, 32] (config.json's hidden_dim 64, dim 32)`,
    );
    const q = 'distilbert.transformer.layer.1.attention.q_lin.weight';
    const pruned = writeRenamed(json, config, weights, (k) => (k === q ? undefined : k), { [q]: mat(24, 32) });
    expect(dataRefusal(() => buildFromHuggingFaceFolder(pruned))).toBe(
      `${pruned}: '${q}' has shape [24, 32] but the config needs [32, 32] (config.json's n_heads 4 less pruned_heads (24 is 3 heads of 8))`,
    );
  });

  it("a checkpoint lacking its last encoder layers names config.json's layer count in the family's own key (DistilBERT's n_layers)", () => {
    for (const [name, key] of [
      ['distilbert', 'n_layers'],
      ['roberta', 'num_hidden_layers'],
    ] as const) {
      const { json, config, weights } = built(name);
      const dir = writeRenamed(json, config, weights, (k) => (/\.layer\.1\./.test(k) ? undefined : k));
      expect(dataRefusal(() => buildFromHuggingFaceFolder(dir))).toMatch(
        new RegExp(`^${dir}: parameters .* \\(12 more\\) are missing: the checkpoint has encoder layer 0 only, where config\\.json's ${key} is 2$`),
      );
      // (a layer partly missing is no layer count's)
      const part = writeRenamed(json, config, weights, (k) => (/\.layer\.1\..*(query|q_lin)\./.test(k) ? undefined : k));
      expect(dataRefusal(() => buildFromHuggingFaceFolder(part))).toMatch(/ are missing$/);
    }
  });

  it('a misshapen embeddings tensor of an ELECTRA whose embedding_size is its hidden_size names embedding_size, the key ElectraEmbeddings is sized by', () => {
    const { json, config, weights } = built('electra E=H');
    const cases: Array<[name: string, dims: number[], needs: string, keys: string]> = [
      ['electra.embeddings.word_embeddings.weight', [128, 16], '128, 32', 'embedding_size 32'],
      ['electra.embeddings.position_embeddings.weight', [64, 16], '64, 32', 'embedding_size 32'],
      ['electra.embeddings.token_type_embeddings.weight', [2, 16], '2, 32', 'embedding_size 32'],
      ['electra.embeddings.LayerNorm.weight', [16], '32', 'embedding_size 32'],
      // (the encoder's are hidden_size's)
      ['electra.encoder.layer.0.output.dense.bias', [16], '32', 'hidden_size 32'],
    ];
    for (const [name, dims, needs, keys] of cases) {
      const given = dims.length === 1 ? vec(dims[0]!) : mat(dims[0]!, dims[1]!);
      const dir = writeRenamed(json, config, weights, (k) => (k === name ? undefined : k), { [name]: given });
      expect(dataRefusal(() => buildFromHuggingFaceFolder(dir))).toBe(
        `${dir}: '${name}' has shape [${dims.join(', ')}] but the config needs [${needs}] (config.json's ${keys})`,
      );
    }
  });

  it('pytorch_model.bin alone is refused naming safetensors', () => {
    const dir = mkdtempSync(join(root, 'pickle-'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify(FAMILY_JSONS['electra E<H']));
    writeFileSync(join(dir, 'pytorch_model.bin'), 'pickle');
    expect(dataRefusal(() => loadHuggingFaceFolder(dir))).toMatch(/has pytorch_model\.bin but no model\.safetensors; bert-compress reads only safetensors/);
    const sharded = mkdtempSync(join(root, 'pickle-'));
    writeFileSync(join(sharded, 'config.json'), JSON.stringify(FAMILY_JSONS['electra E<H']));
    writeFileSync(join(sharded, 'pytorch_model.bin.index.json'), '{"weight_map": {}}');
    writeFileSync(join(sharded, 'pytorch_model-00001-of-00001.bin'), 'pickle');
    expect(dataRefusal(() => loadHuggingFaceFolder(sharded))).toMatch(
      /has pytorch_model\.bin\.index\.json, pytorch_model-00001-of-00001\.bin but no model\.safetensors; bert-compress reads only safetensors/,
    );
    // (the shards alone, saved without their index: named, where the folder was said to hold no weights)
    rmSync(join(sharded, 'pytorch_model.bin.index.json'));
    expect(dataRefusal(() => loadHuggingFaceFolder(sharded))).toMatch(
      /has pytorch_model-00001-of-00001\.bin but no model\.safetensors; bert-compress reads only safetensors/,
    );
  });

  describe("DistilBERT's sinusoidal_pos_embds", () => {
    const POSITION = 'distilbert.embeddings.position_embeddings.weight';
    /** transformers' create_sinusoidal_embeddings, written out: sin in even columns, cos in odd, of pos / 10000^(2⌊j/2⌋/dim). */
    const sinusoids = (rows: number, dim: number) =>
      Float32Array.from({ length: rows * dim }, (_, i) => {
        const [pos, j] = [Math.floor(i / dim), i % dim];
        const angle = pos / 10000 ** ((2 * Math.floor(j / 2)) / dim);
        return j % 2 ? Math.cos(angle) : Math.sin(angle);
      });
    const json = { ...FAMILY_JSONS.distilbert, sinusoidal_pos_embds: true };
    const config = configFromHuggingFace(json);
    const weights = perturbedWeights(config, 11);
    const table = sinusoids(config.maxPositions, config.hiddenSize);

    it('a checkpoint without the position table gets the sinusoids transformers fills it with, not a refusal or seeded values', async () => {
      expect([...table.subarray(0, 4)]).toEqual([0, 1, 0, 1]); // (position 0: sin 0, cos 0)
      expect(table[config.hiddenSize]).toBe(Math.fround(Math.sin(1)));
      const dir = writeRenamed(json, config, weights, (k) => (k === POSITION ? undefined : k));
      const model = buildFromHuggingFaceFolder(dir);
      expect(Buffer.from(model.graph.initializers.get(POSITION)!.data).equals(Buffer.from(table.buffer))).toBe(true);
      const batch = familyBatch(json);
      const all = (k: string) => (k === POSITION ? table : weights.get(k)!);
      expect(maxRowDiff(await familyLogits(model, batch), referenceFamilyLogits(json, all, batch))).toBeLessThan(1e-4);
      // (false, or left out: the table is learned, and a checkpoint without it lacks a parameter)
      const learned = writeRenamed({ ...json, sinusoidal_pos_embds: false }, config, weights, (k) => (k === POSITION ? undefined : k));
      expect(dataRefusal(() => buildFromHuggingFaceFolder(learned))).toBe(`${learned}: parameter '${POSITION}' is missing`);
    });

    it('a table the checkpoint holds is read as saved, as transformers loads it', () => {
      const dir = writeRenamed(json, config, weights, (k) => k);
      expect(loadHuggingFaceFolder(dir).weights.get(POSITION)!.data).toEqual(weights.get(POSITION));
    });

    it('export of a DistilBertModel without positions: only the head is seeded (notice and --seed-missing alike); the positions are the sinusoids', async () => {
      const bare = writeRenamed(json, config, weights, (k) => (/^(pre_)?classifier\./.test(k) || k === POSITION ? undefined : k.replace(/^distilbert\./, '')));
      const head = ['pre_classifier.weight', 'pre_classifier.bias', 'classifier.weight', 'classifier.bias'];
      for (const seedMissing of [undefined, 7]) {
        const lines: string[] = [];
        const out = join(mkdtempSync(join(root, 'export-sinusoids-')), 'model.onnx');
        const r = await exportHuggingFaceFolder(bare, out, { seedMissing, label: 'd', log: (l) => lines.push(l) });
        expect(r.seeded).toEqual(head);
        expect(lines).toEqual([
          `warning: d: the checkpoint has no classification head: ${head.join(', ')} newly initialized (seed ${seedMissing ?? HEAD_SEED}); train or distil it before trusting its predictions`,
        ]);
        expect(Buffer.from(loadModel(out).graph.initializers.get(POSITION)!.data).equals(Buffer.from(table.buffer))).toBe(true);
      }
    });

    it('a value other than true or false is refused in one line (Python reads "false" as true)', () => {
      expect(() => configFromHuggingFace({ ...json, sinusoidal_pos_embds: 'false' })).toThrow(
        new SettingsError('config.json: sinusoidal_pos_embds: expected true or false, got string "false"'),
      );
      expect(configFromHuggingFace({ ...json, sinusoidal_pos_embds: null })).toEqual(config);
    });
  });
});

describe('discovery and the canonical rebuild of the built graphs', () => {
  it('ELECTRA: family, the embeddings projection as the mapping, the GELU head without a pooler', () => {
    for (const [name, mapped] of [
      ['electra E<H', true],
      ['electra E=H', false],
    ] as const) {
      const { model, config } = built(name);
      const s = findBert(model);
      expect([s.family, s.hiddenSize, s.numLayers, s.numHeads, s.intermediateSize, s.vocabSize]).toEqual(['electra', 32, 2, 4, 64, 128]);
      expect(s.pooler).toBeUndefined();
      expect(s.head?.kind).toBe('sequence-classification');
      expect(s.head?.linears.map((l) => [l.inFeatures, l.outFeatures])).toEqual([
        [32, 32],
        [32, config.numLabels],
      ]);
      expect(s.inputs).toEqual({ inputIds: 'input_ids', tokenTypeIds: 'token_type_ids', attentionMask: 'attention_mask' });
      if (mapped)
        expect([s.embeddings.mapping?.inFeatures, s.embeddings.mapping?.outFeatures, s.embeddings.mapping?.bias]).toEqual([
          16,
          32,
          'electra.embeddings_project.bias',
        ]);
      else expect(s.embeddings.mapping).toBeUndefined();
    }
    expect(findBert(built('distilbert').model).family).toBe('distilbert');
    expect(findBert(built('xlm-roberta').model).family).toBe('roberta');
  });

  for (const name of Object.keys(FAMILY_JSONS)) {
    it(`${name}: the canonical rebuild (what training differentiates) has the same logits`, async () => {
      const { json, model } = built(name);
      const batch = familyBatch(json);
      const rebuilt = rebuildCanonical(model);
      expect(maxRowDiff(await familyLogits(rebuilt, batch), await familyLogits(model, batch))).toBeLessThan(1e-5);
    });
  }
});

/**
 * The float64 graph with each Erf computed in float32 (onnxruntime's CPU Erf has only a float kernel): Cast to
 * float, Erf, Cast back to double. ELECTRA's head always has the erf GELU.
 */
function erfInFloat32(model: Model): Model {
  const cast = (name: string, input: string, output: string, to: number) => ({
    name,
    opType: 'Cast',
    domain: '',
    inputs: [input],
    outputs: [output],
    attributes: { to: { type: 'int' as const, value: to } },
  });
  const nodes = model.graph.nodes.flatMap((n) => {
    if (n.opType !== 'Erf') return [n];
    const [x, y] = [`${n.name}/x32`, `${n.name}/y32`];
    return [
      cast(`${n.name}/to32`, n.inputs[0], x, DataType.FLOAT),
      { ...n, inputs: [x], outputs: [y] },
      cast(`${n.name}/to64`, y, n.outputs[0], DataType.DOUBLE),
    ];
  });
  return { ...model, graph: { ...model.graph, nodes } };
}

describe('training graphs of the families', () => {
  for (const name of ['electra E<H', 'distilbert', 'roberta']) {
    it(`${name}: the gradient graph matches finite differences (opset 17, float64)`, async () => {
      const { id2label: _, ...read } = configFromHuggingFace(FAMILY_JSONS[name]);
      const config: ExtendedBertConfig = { ...read, numLabels: 2, vocabSize: 40, hiddenSize: 16, numHeads: 2, intermediateSize: 24, activation: 'gelu_tanh' };
      if (config.embeddingSize) config.embeddingSize = 8;
      const forward = buildBert(config, { kind: 'random', seed: 9, std: 0.3 }, { opset: 17 });
      const withLoss = appendLoss(forward, 'logits', 2, [{ kind: 'hard-ce', weight: 1 }]);
      const batch = familyBatch(FAMILY_JSONS[name], [5, 3, 4], 3);
      const ids = (rows: number[][]) =>
        new Tensor(
          'int64',
          BigInt64Array.from(rows.flat(), (v) => BigInt(v % 40)),
          [3, 5],
        );
      const feeds: Record<string, Tensor> = {
        input_ids: ids(batch.inputIds),
        attention_mask: ids(batch.attentionMask),
        'target.labels': new Tensor('float64', Float64Array.from([1, 0, 0, 1, 1, 0]), [3, 2]),
      };
      if (config.family === 'electra') feeds.token_type_ids = ids(batch.tokenTypeIds);
      // ELECTRA's head GELU is an Erf, float32 only: its rounding (about 6e-8 of the loss) calls for eps 1e-2, whose
      // truncation error (eps² times the third derivative) is a few 1e-3 relative, as on the other families at that eps.
      const electra = config.family === 'electra';
      const model = electra ? erfInFloat32(toFloat64(withLoss.model)) : toFloat64(withLoss.model);
      const r = await gradCheck(model, { loss: withLoss.loss, feeds, samples: 3, ...(electra ? { eps: 1e-2, atol: 1e-4 } : {}) });
      if (electra) expect(r.perParameter['electra.embeddings_project.bias']).toBeDefined();
      expect(r.worst).toBeLessThan(electra ? 1e-2 : 1e-3);
    }, 60_000);
  }
});

/** The passes on each family: each either runs (output runs in onnxruntime) or refuses in one line. */
const PASSES: Array<{ step: PassStep; identity?: number; refused?: Record<string, RegExp> }> = [
  { step: { pass: 'prune-heads', settings: { ratio: 0.5 } } },
  { step: { pass: 'prune-heads', settings: { ratio: 0 } }, identity: 1e-6 },
  { step: { pass: 'prune-ffn', settings: { ratio: 0.5 } } },
  { step: { pass: 'prune-ffn', settings: { ratio: 0 } }, identity: 1e-6 },
  { step: { pass: 'drop-layers', settings: { layers: '1' } } },
  { step: { pass: 'quantize', settings: { mode: 'int8' } }, identity: 5e-2 },
  {
    step: { pass: 'factorize-embeddings', settings: { rank: 8 } },
    // ELECTRA's embedding_size has no wider table to factorize instead: the message does not send the user looking for one
    refused: {
      'electra E<H':
        /^factorize-embeddings: the embeddings are already factorized \(16-wide tables and LayerNorm mapped to the hidden width 32 by a Linear, as in ALBERT and ELECTRA\); [^\n]*no wider form to start from$/,
    },
  },
  { step: { pass: 'share-layers', settings: { share: 'all' } } },
  { step: { pass: 'optimize', settings: { rewrites: 'all' } }, identity: 1e-4 },
];

describe('compression passes on the built graphs', () => {
  for (const name of Object.keys(FAMILY_JSONS)) {
    it(`${name}: every pass runs (or refuses in one line); identity-like settings keep the logits`, async () => {
      const json = FAMILY_JSONS[name];
      const config = configFromHuggingFace(json);
      // transformers' initialization scale, so that int8 rounding stays small against the logits.
      const model = buildFromHuggingFaceFolder(writeFamilyFolder(root, json, randomBertWeights(config, { seed: 2 }), config));
      const batch = familyBatch(json);
      const base = await familyLogits(model, batch);
      for (const { step, identity, refused } of PASSES) {
        const what = `${step.pass} ${JSON.stringify(step.settings)}`;
        const expectRefusal = refused?.[name];
        if (expectRefusal) {
          const m = await runPipeline(model, [step]).then(
            () => 'ran',
            (e: Error) => e.message,
          );
          expect(m, what).toMatch(expectRefusal);
          expect(m, what).not.toContain('\n');
          continue;
        }
        const res = await runPipeline(model, [step]);
        expect(res.structure.family, what).toBe(config.family);
        const got = await familyLogits(res.model, batch);
        expect([got.length, got[0].length], what).toEqual([4, config.numLabels]);
        expect(got.flat().every(Number.isFinite), what).toBe(true);
        if (identity !== undefined) expect(maxRowDiff(got, base), what).toBeLessThan(identity);
      }
    }, 60_000);
  }
});

/** A config.json of the family for a canonical config (the keys transformers writes). */
function hfJson(c: ExtendedBertConfig, modelType: string): Record<string, unknown> {
  const labels = { num_labels: c.numLabels };
  const act = c.activation === 'gelu_tanh' ? 'gelu_new' : c.activation;
  if (c.family === 'distilbert') {
    return {
      model_type: modelType,
      dim: c.hiddenSize,
      n_layers: c.numLayers,
      n_heads: c.numHeads,
      hidden_dim: c.intermediateSize,
      activation: act,
      vocab_size: c.vocabSize,
      max_position_embeddings: c.maxPositions,
      ...labels,
    };
  }
  return {
    model_type: modelType,
    hidden_size: c.hiddenSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    intermediate_size: c.intermediateSize,
    hidden_act: act,
    vocab_size: c.vocabSize,
    max_position_embeddings: c.maxPositions,
    type_vocab_size: c.typeVocabSize,
    layer_norm_eps: c.layerNormEps,
    pad_token_id: c.padTokenId,
    ...labels,
  };
}

describe.skipIf(!hasFixtures)('real exporter graphs as checkpoints (needs ../shared/fixtures/onnx)', () => {
  for (const [file, modelType, vocab] of [
    ['distilbert-seqcls-tiny-torch110-op11.onnx', 'distilbert', 30522],
    ['xlmroberta-crossencoder-tiny-torch27-op14.onnx', 'xlm-roberta', 100],
  ] as const) {
    it(`${file}: its state-dict names are the builder's; its weights as a safetensors folder give its logits`, async () => {
      const source = loadModel(fixture(file));
      const canon = canonicalBert(source);
      // torch keeps the names of parameters it uses as they are: transformers' state-dict names.
      const kept = [...source.graph.initializers.keys()].filter((k) => /\.(weight|bias)$/.test(k));
      const names = new Set(bertParameters(canon.config).map((p) => p.name));
      expect(kept.length).toBeGreaterThan(5);
      expect(kept.filter((k) => !names.has(k))).toEqual([]);
      const json = hfJson(canon.config, modelType);
      expect(configFromHuggingFace(json)).toEqual(canon.config);
      const dir = writeFamilyFolder(root, json, canon.weights, canon.config);
      const built = buildFromHuggingFaceFolder(dir);
      const [want] = Object.values(await runModel(source, { vocab, batch: 3, seq: 9 }));
      const [got] = Object.values(await runModel(built, { vocab, batch: 3, seq: 9 }));
      expect(got.length).toBe(want.length);
      expect(maxRowDiff([Array.from(got)], [Array.from(want)])).toBeLessThan(1e-4);
    });
  }
});

describe('compress export on an ELECTRA folder', () => {
  it('writes a discoverable model whose logits equal the reference', async () => {
    const { json, weights, dir } = built('electra E<H', 13);
    writeFileSync(join(dir, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'hello'].join('\n'));
    const out = join(root, 'electra-onnx', 'model.onnx');
    const r = await runMain(['export', dir, '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/2 layers, hidden 32/);
    expect(existsSync(join(root, 'electra-onnx', 'vocab.txt'))).toBe(true);
    expect(findBert(loadModel(out)).family).toBe('electra');
    const batch = familyBatch(json);
    expect(
      maxRowDiff(
        await familyLogits(out, batch),
        referenceFamilyLogits(json, (k) => weights.get(k)!, batch),
      ),
    ).toBeLessThan(1e-4);
  });

  it('an unsupported model_type is refused in one line', async () => {
    const dir = mkdtempSync(join(root, 'gpt2-'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'gpt2' }));
    const r = await runMain(['export', dir, '-o', join(dir, 'x.onnx')]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      /model_type: expected one of bert, distilbert, roberta, xlm-roberta, camembert, electra, albert \(those supported\), got string "gpt2"/,
    );
  });
});
