/**
 * ALBERT Hugging Face checkpoints (config.json + model.safetensors written here from known weights) built into the
 * torch-style graph with the factorized embedding and the shared layers kept as such: logits against an independent
 * float64 forward pass (test/helpers/reference-albert.ts), base checkpoints with a seeded head, refusals, discovery
 * and inspect reading the model as already compressed, and the compression passes on it.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { albertConfigFromHuggingFace } from '../../src/bert/albert-config.ts';
import { buildBert, dropoutMasks } from '../../src/bert/build.ts';
import { canonicalBert, rebuildCanonical } from '../../src/bert/canonical.ts';
import { buildFromHuggingFaceFolder } from '../../src/bert/build-hf.ts';
import { bertParameters, randomBertWeights } from '../../src/bert/build-weights.ts';
import type { ExtendedBertConfig } from '../../src/bert/config.ts';
import { findBert } from '../../src/bert/discover.ts';
import { inspectModel } from '../../src/bert/inspect.ts';
import { formatInspect } from '../../src/cli/commands/inspect.ts';
import { DataError, SettingsError } from '../../src/errors.ts';
import { exportHuggingFaceFolder } from '../../src/export/from-huggingface.ts';
import { factorizeEmbeddingsPass } from '../../src/factorize/index.ts';
import type { Pass } from '../../src/pass/pass.ts';
import { dropLayersPass, pruneFfnPass, pruneHeadsPass } from '../../src/prune/index.ts';
import { quantizePass } from '../../src/quantize/index.ts';
import { optimizePass } from '../../src/optimize/index.ts';
import { shareLayersPass } from '../../src/share/index.ts';
import { encodeModel, type Model } from '../../src/onnx/index.ts';
import { appendLoss } from '../../src/gradients/losses.ts';
import { Tensor } from '../../src/runtime/session.ts';
import { gradCheck, toFloat64 } from '../helpers/gradcheck.ts';
import { batchLogits, maxRowDiff, paddedBatch, perturbedWeights, tinyBert } from '../helpers/models.ts';
import { writeFamilyFolder } from '../helpers/family-folders.ts';
import { INT8_SATURATES } from '../helpers/run-model.ts';
import { referenceAlbertLogits, type AlbertJson } from '../helpers/reference-albert.ts';
import { runMain } from '../helpers/cli.ts';

const root = mkdtempSync(join(tmpdir(), 'bert-compress-albert-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => {
  const d = join(root, `m${n++}`);
  mkdirSync(d);
  return d;
};

/** A tiny ALBERT config.json: E 16 < H 32, 4 layers in `groups` groups, 4 heads, gelu_new, 3 labels. */
const albertJson = (groups: number, extra: Record<string, unknown> = {}): AlbertJson & Record<string, unknown> => ({
  architectures: ['AlbertForSequenceClassification'],
  model_type: 'albert',
  vocab_size: 64,
  embedding_size: 16,
  hidden_size: 32,
  num_hidden_layers: 4,
  num_hidden_groups: groups,
  num_attention_heads: 4,
  intermediate_size: 48,
  inner_group_num: 1,
  hidden_act: 'gelu_new',
  max_position_embeddings: 32,
  type_vocab_size: 2,
  layer_norm_eps: 1e-12,
  pad_token_id: 0,
  id2label: { 0: 'a', 1: 'b', 2: 'c' },
  ...extra,
});

/** Writes config.json and model.safetensors (float32) with `weights` under their names (or `rename`d). */
const writeFolder = (json: object, config: ExtendedBertConfig, weights: Map<string, Float32Array>, rename?: (k: string) => string | undefined): string =>
  writeFamilyFolder(root, json, weights, config, undefined, rename);

const batch = paddedBatch([7, 3, 9, 1], 64, 11);
const same = (a: Model, b: Model) => Buffer.from(encodeModel(a)).equals(Buffer.from(encodeModel(b)));

describe('ALBERT config.json', () => {
  it('reads E, the layer groups as AlbertTransformer picks them, and gelu_new', () => {
    const c = albertConfigFromHuggingFace(albertJson(2), 'config.json');
    expect(c).toMatchObject({ family: 'albert', embeddingSize: 16, hiddenSize: 32, numLayers: 4, layerGroups: [0, 0, 1, 1], activation: 'gelu_tanh' });
    expect(c.id2label).toEqual(['a', 'b', 'c']);
    expect(albertConfigFromHuggingFace(albertJson(1), 'x').layerGroups).toEqual([0, 0, 0, 0]);
    expect(albertConfigFromHuggingFace({ ...albertJson(3), num_hidden_layers: 12 }, 'x').layerGroups).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
    // AlbertConfig's defaults: albert-xxlarge shapes, gelu_new.
    expect(albertConfigFromHuggingFace({ model_type: 'albert' }, 'x')).toMatchObject({ embeddingSize: 128, hiddenSize: 4096, numHeads: 64, vocabSize: 30000 });
  });

  it('refuses inner_group_num ≠ 1, more groups than layers and bad sizes in one line naming the key', () => {
    expect(() => albertConfigFromHuggingFace(albertJson(1, { inner_group_num: 2 }), 'c.json')).toThrow(
      new SettingsError('c.json: inner_group_num is 2: only ALBERT with one layer per group (inner_group_num 1, as every released checkpoint) is supported'),
    );
    expect(() => albertConfigFromHuggingFace(albertJson(5), 'c.json')).toThrow(
      new SettingsError('c.json: num_hidden_groups (5) is more than num_hidden_layers (4)'),
    );
    expect(() => albertConfigFromHuggingFace(albertJson(1, { embedding_size: 0 }), 'c.json')).toThrow(
      /^c\.json: embedding_size: expected an integer from 1 to 2\^53 − 1, got number 0$/,
    );
    expect(() => albertConfigFromHuggingFace(albertJson(1, { hidden_size: 30 }), 'c.json')).toThrow(
      /^c\.json: hidden_size \(30\) is not divisible by num_attention_heads/,
    );
    const dir = writeFolder(albertJson(1, { inner_group_num: 2 }), albertConfigFromHuggingFace(albertJson(1), 'x'), new Map());
    expect(() => buildFromHuggingFaceFolder(dir)).toThrow(/config\.json: inner_group_num is 2/);
  });
});

describe('ALBERT checkpoints', () => {
  for (const groups of [1, 2]) {
    it(`G = ${groups}: logits equal the reference forward pass, one set of initializers per group`, async () => {
      const json = albertJson(groups);
      const config = albertConfigFromHuggingFace(json, 'config.json');
      const weights = perturbedWeights(config, 20 + groups);
      const dir = writeFolder(json, config, weights);
      const model = buildFromHuggingFaceFolder(dir);
      const ref = referenceAlbertLogits(
        json,
        (k) =>
          weights.get(k) ??
          (() => {
            throw new Error(`no ${k}`);
          })(),
        batch,
      );
      const got = await batchLogits(model, batch);
      expect(got.dims).toEqual([4, 3]);
      expect(maxRowDiff(got.rows, ref)).toBeLessThan(1e-4);
      // The shared layers read one set of initializers per group (what share-layers writes).
      const names = [...model.graph.initializers.keys()];
      expect(names.filter((k) => k.endsWith('attention.query.bias'))).toEqual(
        Array.from({ length: groups }, (_, g) => `albert.encoder.albert_layer_groups.${g}.albert_layers.0.attention.query.bias`),
      );
      expect(names.filter((k) => k.startsWith('onnx::MatMul_'))).toHaveLength(1 + 6 * groups);
      expect(names).toContain('albert.encoder.embedding_hidden_mapping_in.bias');
      const queries = model.graph.nodes.filter(
        (x) => (x.opType === 'MatMul' && x.name.endsWith('/attention/query/MatMul')) || /\/attention\/query\/MatMul_\d$/.test(x.name),
      );
      expect(queries.map((q) => q.name)).toEqual(
        groups === 1
          ? ['', '_1', '_2', '_3'].map((s) => `/albert/encoder/albert_layer_groups.0/albert_layers.0/attention/query/MatMul${s}`)
          : [0, 0, 1, 1].map((g, i) => `/albert/encoder/albert_layer_groups.${g}/albert_layers.0/attention/query/MatMul${i % 2 ? '_1' : ''}`),
      );
    });
  }

  it('an AlbertModel checkpoint (no albert. prefix, no classifier) builds with a seeded head; refused without', () => {
    const json = albertJson(2);
    const config = albertConfigFromHuggingFace(json, 'config.json');
    const weights = randomBertWeights(config, { seed: 5 });
    const dir = writeFolder(json, config, weights, (k) => (k.startsWith('classifier.') ? undefined : k.replace(/^albert\./, '')));
    expect(() => buildFromHuggingFaceFolder(dir)).toThrow(new DataError(`${dir}: parameters 'classifier.weight', 'classifier.bias' are missing`));
    expect(same(buildFromHuggingFaceFolder(dir, { fillMissing: { seed: 5 } }), buildBert(config, { kind: 'random', seed: 5 }))).toBe(true);
  });

  it('an AlbertForMaskedLM checkpoint (predictions.*, no pooler) builds with pooler and classifier seeded', () => {
    const json = albertJson(1);
    const config = albertConfigFromHuggingFace(json, 'config.json');
    const weights = randomBertWeights(config, { seed: 6 });
    weights.set('predictions.bias', new Float32Array(64));
    const dir = writeFolder(json, config, weights, (k) => (k.startsWith('classifier.') || k.startsWith('albert.pooler.') ? undefined : k));
    expect(() => buildFromHuggingFaceFolder(dir)).toThrow(
      new DataError(`${dir}: parameters 'albert.pooler.weight', 'albert.pooler.bias', 'classifier.weight', 'classifier.bias' are missing`),
    );
    expect(same(buildFromHuggingFaceFolder(dir, { fillMissing: { seed: 6 } }), buildBert(config, { kind: 'random', seed: 6 }))).toBe(true);
  });

  it('a missing encoder parameter is a one-line error', () => {
    const json = albertJson(2);
    const config = albertConfigFromHuggingFace(json, 'config.json');
    const dir = writeFolder(json, config, randomBertWeights(config, { seed: 1 }), (k) => (k.includes('groups.1.albert_layers.0.ffn.') ? undefined : k));
    expect(() => buildFromHuggingFaceFolder(dir, { fillMissing: { seed: 1 } })).not.toThrow(); // transformers would seed it too
    expect(() => buildFromHuggingFaceFolder(dir)).toThrow(
      new DataError(
        `${dir}: parameters 'albert.encoder.albert_layer_groups.1.albert_layers.0.ffn.weight', 'albert.encoder.albert_layer_groups.1.albert_layers.0.ffn.bias' are missing`,
      ),
    );
  });

  it("a checkpoint lacking its last layer groups names config.json's num_hidden_groups", () => {
    const json = albertJson(2);
    const config = albertConfigFromHuggingFace(json, 'config.json');
    const dir = writeFolder(json, config, randomBertWeights(config, { seed: 1 }), (k) => (k.includes('groups.1.') ? undefined : k));
    expect(() => buildFromHuggingFaceFolder(dir)).toThrow(/ are missing: the checkpoint has layer group 0 only, where config\.json's num_hidden_groups is 2$/);
  });
});

describe('ALBERT as a compressed model', () => {
  const json = albertJson(2);
  const config = albertConfigFromHuggingFace(json, 'config.json');
  const weights = perturbedWeights(config, 31);
  const model = buildBert(config, { kind: 'given', tensors: weights });

  it('discovery reads the E-wide embeddings with their mapping, the shared layers and the pooler', () => {
    const s = findBert(model);
    expect(s.family).toBe('albert');
    expect(s.hiddenSize).toBe(32);
    expect(s.numLayers).toBe(4);
    expect(s.embeddings.mapping).toMatchObject({
      weight: expect.stringMatching(/^onnx::MatMul_/),
      bias: 'albert.encoder.embedding_hidden_mapping_in.bias',
      inFeatures: 16,
      outFeatures: 32,
    });
    expect(s.embeddings.norm.scale).toBe('albert.embeddings.LayerNorm.weight');
    expect(s.layers.map((l) => l.ffn.in.bias)).toEqual([0, 0, 1, 1].map((g) => `albert.encoder.albert_layer_groups.${g}.albert_layers.0.ffn.bias`));
    expect(s.pooler?.dense.bias).toBe('albert.pooler.bias');
    expect(s.head).toMatchObject({ kind: 'sequence-classification', numLabels: 3 });
  });

  it('inspect shows the factorized embedding and the shared layers', () => {
    const r = inspectModel(model, 'albert');
    expect(r.family).toBe('albert');
    expect(r.embeddingSize).toBe(16);
    expect(r.layerGroups).toEqual([0, 0, 1, 1]);
    // Shared layers count once: layers 1 and 3 hold no parameters of their own.
    expect(r.layers.map((l) => l.params > 0)).toEqual([true, false, true, false]);
    const total = bertParameters(config).reduce((a, p) => a + p.dims.reduce((x, y) => x * y, 1), 0);
    expect(r.params).toBe(total);
    const text = formatInspect(r);
    expect(text).toContain('factorized embedding: width 16, projected to 32');
    expect(text).toContain('shared layers: 4 layers read 2 weight groups [0, 0, 1, 1]');
    expect(formatInspect(inspectModel(tinyBert(), 'bert'))).not.toMatch(/factorized|shared layers/);
  });

  it('the canonical rebuild (what training differentiates) is the same graph, shared and factorized', () => {
    const c = canonicalBert(model);
    expect(c.config).toMatchObject({ family: 'albert', embeddingSize: 16, layerGroups: [0, 0, 1, 1] });
    expect(same(rebuildCanonical(model), model)).toBe(true);
    // With dropout sites: ALBERT's (embeddings, attention probabilities and output per layer, classifier input).
    const sites = dropoutMasks(rebuildCanonical(model, { dropout: true })).map((m) => m.site);
    expect(sites).toHaveLength(1 + 2 * 4 + 1);
    expect(sites[0]).toBe('embeddings');
  });

  it('compress export writes the model, which runs and computes the reference logits', async () => {
    const dir = writeFolder(json, config, weights);
    const out = join(freshDir(), 'model.onnx');
    const r = await exportHuggingFaceFolder(dir, out);
    expect(r).toMatchObject({ numLayers: 4, hiddenSize: 32 });
    const ref = referenceAlbertLogits(json, (k) => weights.get(k)!, batch);
    expect(maxRowDiff((await batchLogits(out, batch)).rows, ref)).toBeLessThan(1e-4);
  });

  it("export warns of the checkpoint's layer groups past config.json's num_hidden_groups (left unread, as transformers leaves them), as of a BERT's layers past num_hidden_layers", async () => {
    const dir = writeFolder(albertJson(1), config, weights); // (the weights of 2 groups)
    const lines: string[] = [];
    const r = await exportHuggingFaceFolder(dir, join(freshDir(), 'model.onnx'), { log: (l) => lines.push(l) });
    expect(r.numLayers).toBe(4);
    expect(lines).toEqual([`warning: ${dir}: the checkpoint's encoder layer group 1 (16 tensors) is past config.json's num_hidden_groups 1: not used`]);
  });

  it("export warns of a layer group's inner layers past config.json's inner_group_num (left unread, as transformers leaves them), in the groups' words", async () => {
    // (the second group's weights saved as the first group's second inner layer)
    const inner = (k: string) => k.replace('albert_layer_groups.1.albert_layers.0.', 'albert_layer_groups.0.albert_layers.1.');
    const dir = writeFolder(albertJson(1), config, weights, inner);
    const lines: string[] = [];
    const r = await exportHuggingFaceFolder(dir, join(freshDir(), 'model.onnx'), { log: (l) => lines.push(l) });
    expect(r.numLayers).toBe(4);
    expect(lines).toEqual([
      `warning: ${dir}: the checkpoint's encoder inner layer 1 of layer group 0 (16 tensors) is past config.json's inner_group_num 1: not used`,
    ]);
    // past groups and past inner layers: a line each; an inner layer of a past group is counted with its group
    const both = (k: string) => k.replace('albert_layer_groups.1.albert_layers.0.', 'albert_layer_groups.1.albert_layers.1.');
    const dir2 = writeFolder(
      albertJson(1),
      config,
      new Map([
        ...weights,
        ...[...weights].filter(([k]) => k.includes('groups.0.')).map(([k, v]) => [k.replace('albert_layers.0.', 'albert_layers.2.'), v] as const),
      ]),
      both,
    );
    const lines2: string[] = [];
    await exportHuggingFaceFolder(dir2, join(freshDir(), 'model.onnx'), { log: (l) => lines2.push(l) });
    expect(lines2).toEqual([
      `warning: ${dir2}: the checkpoint's encoder layer group 1 (16 tensors) is past config.json's num_hidden_groups 1: not used`,
      `warning: ${dir2}: the checkpoint's encoder inner layer 2 of layer group 0 (16 tensors) is past config.json's inner_group_num 1: not used`,
    ]);
  });
});

describe('compress export and inspect (CLI)', () => {
  it('exports an ALBERT folder; inspect --json reports family albert, E and the layer groups', async () => {
    const json = albertJson(2);
    const config = albertConfigFromHuggingFace(json, 'config.json');
    const dir = writeFolder(json, config, perturbedWeights(config, 51));
    const out = join(freshDir(), 'onnx', 'model.onnx');
    const r = await runMain(['export', dir, '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/4 layers, hidden 32/);
    const i = await runMain(['inspect', out, '--json']);
    expect(i.code, i.stderr).toBe(0);
    expect(JSON.parse(i.stdout)).toMatchObject({ family: 'albert', embeddingSize: 16, layerGroups: [0, 0, 1, 1], numLayers: 4, hiddenSize: 32 });
  });
});

describe('compression passes on a built ALBERT model', () => {
  const json = albertJson(2);
  const config = albertConfigFromHuggingFace(json, 'config.json');
  const model = buildBert(config, { kind: 'given', tensors: perturbedWeights(config, 41) });
  const s = findBert(model);

  /** Runs a pass; returns its model re-discovered, and the logits on the padded batch. */
  async function run<O>(pass: Pass<O>, settings: Record<string, unknown>) {
    const r = await pass.run(model, s, pass.parse(settings), {});
    const after = findBert(r.model);
    return { model: r.model, s: after, rows: (await batchLogits(r.model, batch)).rows };
  }

  it('prune-heads and prune-ffn shrink each shared group once and keep it shared', async () => {
    const heads = await run(pruneHeadsPass, { ratio: 0.5, importance: 'magnitude' });
    expect(heads.s.family).toBe('albert');
    // Half the heads go, chosen across the model: each group loses the same heads in both its layers.
    const kept = heads.s.layers.map((l) => l.attention!.numHeads);
    expect(kept[0] + kept[2]).toBe(4);
    expect([kept[1], kept[3]]).toEqual([kept[0], kept[2]]);
    expect(inspectModel(heads.model, 'x').layerGroups).toEqual([0, 0, 1, 1]);
    expect(heads.s.embeddings.mapping?.inFeatures).toBe(16);
    const ffn = await run(pruneFfnPass, { ratio: 0.25 });
    expect(ffn.s.layers.map((l) => l.ffn.intermediateSize)).toEqual([36, 36, 36, 36]);
    expect(inspectModel(ffn.model, 'x').layerGroups).toEqual([0, 0, 1, 1]);
    for (const r of [heads, ffn]) expect(r.rows.flat().every(Number.isFinite)).toBe(true);
  });

  it('prune-heads listing heads of one layer of a shared group is refused without advising to prune before sharing', async () => {
    // (an ALBERT checkpoint's layers share from the start: no step before can prune them apart)
    await expect(run(pruneHeadsPass, { heads: '0:0' })).rejects.toThrow(
      new SettingsError(
        'prune-heads: layers 0, 1 share their weights: list the same heads for each of them (layer 0: [0], layer 1: []), as shared layers are pruned alike; only layers that a share-layers step shares (not those of an ALBERT, shared as read) can be pruned apart, before that step',
      ),
    );
  });

  it('drop-layers removes layers and keeps the rest shared as they were', async () => {
    const r = await run(dropLayersPass, { layers: '1,2' });
    expect(r.s.numLayers).toBe(2);
    expect(inspectModel(r.model, 'x').layerGroups).toEqual([0, 1]);
    expect(r.s.embeddings.mapping).toBeDefined();
    expect(r.rows.flat().every(Number.isFinite)).toBe(true);
  });

  it('quantize int8 keeps the logits close', async () => {
    // where int8 products saturate (no VNNI), with 7-bit weights: onnxruntime's x64quantprecision fails on this
    // model's shared int8 weights (test/helpers/run-model.ts)
    const r = await run(quantizePass, { mode: 'int8', ...(INT8_SATURATES ? { reduceRange: true } : {}) });
    expect(r.s.layers[0].ffn.in.quantization).toBeDefined();
    const ref = (await batchLogits(model, batch)).rows;
    // (7-bit weights: twice the 8-bit step, 0.38 of 2.3 measured on an AVX2-only CPU; saturated 8-bit products: 1.25)
    expect(maxRowDiff(r.rows, ref)).toBeLessThan((INT8_SATURATES ? 0.2 : 0.1) * Math.max(...ref.flat().map(Math.abs)));
  });

  it('optimize all (fused attention, GELU, first token, skip LayerNorm) keeps the logits', async () => {
    const r = await run(optimizePass, { rewrites: 'all' });
    expect(r.model.graph.nodes.some((x) => x.opType === 'Attention')).toBe(true);
    expect(maxRowDiff(r.rows, (await batchLogits(model, batch)).rows)).toBeLessThan(1e-4);
  });

  it('share-layers all shares the two groups; factorize-embeddings refuses in one line', async () => {
    const r = await run(shareLayersPass, { share: 'all' });
    expect(inspectModel(r.model, 'x').layerGroups).toEqual([0, 0, 0, 0]);
    expect(r.rows.flat().every(Number.isFinite)).toBe(true);
    await expect(factorizeEmbeddingsPass.run(model, s, factorizeEmbeddingsPass.parse({ rank: 8 }), {})).rejects.toThrow(
      new SettingsError(
        "factorize-embeddings: the embeddings are already factorized (16-wide tables and LayerNorm mapped to the hidden width 32 by a Linear, as in ALBERT and ELECTRA); factorize-embeddings narrows a word embedding as wide as the hidden size, and this model's has no wider form to start from",
      ),
    );
  });
});

describe('training an ALBERT model', () => {
  it('its training graph (gradients summed over the shared layers) matches finite differences', async () => {
    const json = albertJson(2, {
      vocab_size: 40,
      hidden_size: 16,
      embedding_size: 8,
      num_attention_heads: 2,
      intermediate_size: 24,
      num_labels: 2,
      id2label: undefined,
    });
    const config = albertConfigFromHuggingFace(json, 'config.json');
    const forward = buildBert(config, { kind: 'random', seed: 9, std: 0.3 }, { opset: 17 });
    const withLoss = appendLoss(forward, 'logits', 2, [
      { kind: 'hard-ce', weight: 0.5 },
      { kind: 'soft-ce', weight: 0.5, temperature: 2 },
    ]);
    const b = paddedBatch([5, 3, 4], 40, 3);
    const t = (rows: number[][]) => new Tensor('int64', BigInt64Array.from(rows.flat(), BigInt), [3, 5]);
    const feeds = {
      input_ids: t(b.inputIds),
      attention_mask: t(b.attentionMask),
      token_type_ids: t(b.tokenTypeIds),
      'target.labels': new Tensor('float64', Float64Array.from([1, 0, 0, 1, 1, 0]), [3, 2]),
      'target.teacher_logits': new Tensor('float64', Float64Array.from([0.5, -1, 1.5, 0.2, -0.3, 0.8]), [3, 2]),
    };
    const r = await gradCheck(toFloat64(withLoss.model), { loss: withLoss.loss, feeds, samples: 4 });
    expect(r.worst).toBeLessThan(1e-3);
  });
});
