import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { buildBert, randomBertWeights, bertParameters } from '../../src/bert/build.ts';
import { buildFromHuggingFaceFolder, loadHuggingFaceFolder, readHuggingFaceConfig, writeHuggingFaceFolder } from '../../src/bert/build-hf.ts';
import { configToHuggingFace } from '../../src/bert/config.ts';
import { type SafetensorsInput, encodeSafetensors, writeSafetensors } from '../../src/bert/safetensors.ts';
import { DataError, NotUtf8Error, SettingsError } from '../../src/errors.ts';
import { encodeModel, type Model } from '../../src/onnx/index.ts';
import { batchLogits, maxRowDiff, paddedBatch, tinyBertConfig } from '../helpers/models.ts';

const root = mkdtempSync(join(tmpdir(), 'bert-compress-hf-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => {
  const d = join(root, `m${n++}`);
  mkdirSync(d);
  return d;
};
const same = (a: Model, b: Model) => Buffer.from(encodeModel(a)).equals(Buffer.from(encodeModel(b)));
const config = tinyBertConfig({ numLabels: 3, id2label: ['neg', 'neu', 'pos'] });
const weights = randomBertWeights(config, { seed: 4 });
const dims = new Map(bertParameters(config).map((p) => [p.name, p.dims]));
const writeConfig = (dir: string, json: unknown = configToHuggingFace(config)) => writeFileSync(join(dir, 'config.json'), JSON.stringify(json));

describe('Hugging Face folders', () => {
  it('loads config.json + model.safetensors and builds the same model as the weights given directly', () => {
    const dir = freshDir();
    writeHuggingFaceFolder(dir, config, weights);
    const folder = loadHuggingFaceFolder(dir);
    expect(folder.config).toEqual(config);
    expect(folder.files).toEqual([join(dir, 'model.safetensors')]);
    expect(folder.weights.get('classifier.weight')).toEqual({ dtype: 'F32', dims: [3, 32], data: weights.get('classifier.weight') });
    expect(same(buildFromHuggingFaceFolder(dir), buildBert(config, { kind: 'random', seed: 4 }))).toBe(true);
  });

  it('reads sharded checkpoints through model.safetensors.index.json', () => {
    const dir = freshDir();
    writeConfig(dir);
    const names = [...weights.keys()];
    const shards = [names.slice(0, 10), names.slice(10)];
    const weightMap: Record<string, string> = {};
    shards.forEach((part, i) => {
      const file = `model-0000${i + 1}-of-00002.safetensors`;
      writeSafetensors(join(dir, file), new Map(part.map((k) => [k, { dims: dims.get(k)!, data: weights.get(k)! }])));
      for (const k of part) weightMap[k] = file;
    });
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    expect(same(buildFromHuggingFaceFolder(dir), buildBert(config, { kind: 'random', seed: 4 }))).toBe(true);
  });

  it('refuses a sharded checkpoint whose index names tensors no shard holds (a shard of another save), where their head was seeded as if the checkpoint had none', () => {
    const dir = freshDir();
    writeConfig(dir);
    const names = [...weights.keys()];
    const weightMap: Record<string, string> = {};
    const file = (i: number) => `model-0000${i}-of-00002.safetensors`;
    for (const k of names) weightMap[k] = k.startsWith('classifier.') || k.startsWith('bert.pooler.') ? file(2) : file(1);
    writeSafetensors(join(dir, file(1)), new Map(names.filter((k) => weightMap[k] === file(1)).map((k) => [k, { dims: dims.get(k)!, data: weights.get(k)! }])));
    // the second shard of a save without the head: none of the four tensors the index puts there
    writeSafetensors(join(dir, file(2)), new Map([['bert.embeddings.position_ids', { dims: [1, 2], data: [0, 1], dtype: 'I64' as const }]]));
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    const refusal = `${join(dir, 'model.safetensors.index.json')}: names 4 tensors that no shard holds: 'bert.pooler.dense.weight' in ${file(2)}, 'bert.pooler.dense.bias' in ${file(2)}, 'classifier.weight' in ${file(2)}, 'classifier.bias' in ${file(2)}: is a shard from another save of the model?`;
    expect(() => loadHuggingFaceFolder(dir)).toThrow(refusal);
    expect(() => buildFromHuggingFaceFolder(dir, { fillMissing: { seed: 0 } })).toThrow(refusal); // as the export seeds a missing head
    // a tensor in another shard than the index says is read where it is
    writeSafetensors(join(dir, file(2)), new Map(names.filter((k) => weightMap[k] === file(2)).map((k) => [k, { dims: dims.get(k)!, data: weights.get(k)! }])));
    weightMap['classifier.bias'] = file(1);
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    expect(same(buildFromHuggingFaceFolder(dir), buildBert(config, { kind: 'random', seed: 4 }))).toBe(true);
  });

  it('reads config.json and model.safetensors.index.json saved with a UTF-8 byte-order mark', () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'config.json'), `\ufeff${JSON.stringify(configToHuggingFace(config))}`);
    const names = [...weights.keys()];
    const weightMap: Record<string, string> = {};
    writeSafetensors(join(dir, 'model-00001-of-00001.safetensors'), new Map(names.map((k) => [k, { dims: dims.get(k)!, data: weights.get(k)! }])));
    for (const k of names) weightMap[k] = 'model-00001-of-00001.safetensors';
    writeFileSync(join(dir, 'model.safetensors.index.json'), `\ufeff${JSON.stringify({ metadata: {}, weight_map: weightMap })}`);
    expect(same(buildFromHuggingFaceFolder(dir), buildBert(config, { kind: 'random', seed: 4 }))).toBe(true);
  });

  it('reads a BertModel checkpoint (no bert. prefix, no classifier) with fillMissing; refuses it without', () => {
    const dir = freshDir();
    writeConfig(dir);
    const bare = new Map<string, { dims: readonly number[]; data: Float32Array; dtype: 'BF16' }>();
    for (const [k, v] of weights) if (!k.startsWith('classifier.')) bare.set(k.replace(/^bert\./, ''), { dims: dims.get(k)!, data: v, dtype: 'BF16' });
    writeSafetensors(join(dir, 'model.safetensors'), bare);
    expect(() => buildFromHuggingFaceFolder(dir)).toThrow(new DataError(`${dir}: parameters 'classifier.weight', 'classifier.bias' are missing`));
    const m = buildFromHuggingFaceFolder(dir, { fillMissing: { seed: 4 } });
    expect(m.graph.initializers.get('classifier.weight')!.dims).toEqual([3, 32]);
  });

  it('a tensor of the wrong shape is refused in one line naming the folder and the tensor', () => {
    const dir = freshDir();
    writeConfig(dir);
    const tensors = new Map([...weights].map(([k, v]) => [k, { dims: dims.get(k)!, data: v }]));
    tensors.set('bert.pooler.dense.weight', { dims: [32, 16], data: new Float32Array(512) });
    writeSafetensors(join(dir, 'model.safetensors'), tensors);
    expect(() => buildFromHuggingFaceFolder(dir)).toThrow(
      new DataError(`${dir}: 'bert.pooler.dense.weight' has shape [32, 16] but the config needs [32, 32] (config.json's hidden_size 32)`),
    );
  });

  it("a tensor of the wrong shape names config.json's keys of the sizes it misses, each with its value", () => {
    const cases: Array<[name: string, dims: number[], keys: string]> = [
      ['bert.embeddings.word_embeddings.weight', [140, 32], 'vocab_size 128'],
      ['bert.embeddings.position_embeddings.weight', [512, 32], 'max_position_embeddings 64'],
      ['bert.embeddings.token_type_embeddings.weight', [1, 32], 'type_vocab_size 2'],
      ['bert.encoder.layer.1.intermediate.dense.weight', [37, 32], 'intermediate_size 64'],
      ['bert.encoder.layer.0.output.dense.bias', [16], 'hidden_size 32'],
      // (both sizes missed, one key: said once)
      ['bert.encoder.layer.0.attention.self.query.weight', [16, 16], 'hidden_size 32'],
      ['bert.encoder.layer.0.output.dense.weight', [16, 37], 'hidden_size 32, intermediate_size 64'],
      // (whole heads fewer than num_attention_heads': pruned without pruned_heads, where hidden_size is right by
      // the tensor's other dimension, or may be by a bias's)
      ['bert.encoder.layer.0.attention.self.query.weight', [24, 32], 'num_attention_heads 4 less pruned_heads (24 is 3 heads of 8)'],
      ['bert.encoder.layer.1.attention.output.dense.weight', [32, 8], 'num_attention_heads 4 less pruned_heads (8 is 1 head of 8)'],
      ['bert.encoder.layer.0.attention.self.key.bias', [16], 'hidden_size 32, or num_attention_heads 4 less pruned_heads (16 is 2 heads of 8)'],
      ['bert.encoder.layer.0.attention.self.value.weight', [20, 32], 'hidden_size 32'],
    ];
    for (const [name, shape, keys] of cases) {
      const dir = freshDir();
      writeConfig(dir);
      const tensors = new Map([...weights].map(([k, v]) => [k, { dims: dims.get(k)!, data: v }]));
      tensors.set(name, { dims: shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
      writeSafetensors(join(dir, 'model.safetensors'), tensors);
      const needs = dims.get(name)!.join(', ');
      expect(() => buildFromHuggingFaceFolder(dir)).toThrow(
        new DataError(`${dir}: '${name}' has shape [${shape.join(', ')}] but the config needs [${needs}] (config.json's ${keys})`),
      );
    }
  });

  it("a classifier with another label count than config.json's is refused in config.json's terms", () => {
    const dir = freshDir();
    writeConfig(dir);
    const tensors = new Map([...weights].map(([k, v]) => [k, { dims: dims.get(k)!, data: v }]));
    tensors.set('classifier.weight', { dims: [1, 32], data: new Float32Array(32) });
    tensors.set('classifier.bias', { dims: [1], data: new Float32Array(1) });
    writeSafetensors(join(dir, 'model.safetensors'), tensors);
    expect(() => buildFromHuggingFaceFolder(dir)).toThrow(
      new DataError(
        `${dir}: the checkpoint's classifier 'classifier.weight' has 1 output but config.json gives 3 labels (the size of id2label, else num_labels, else 2); give config.json the classifier's 1 label (num_labels and id2label)`,
      ),
    );
  });

  it("a multiple-choice checkpoint's classifier (one score per choice) is refused naming its class: with config.json's default 2 labels not with advice to give config.json 1 label, with its 1 label not built as a regression head", () => {
    const refusal = `config.json's architectures names BertForMultipleChoice, a multiple-choice head (one score per choice), not a sequence classifier: its classifier 'classifier.weight' has 1 output`;
    for (const [numLabels, tail] of [
      [undefined, ", not config.json's 2 labels"],
      [1, ''],
    ] as const) {
      const dir = freshDir();
      const { id2label: _, label2id: __, ...unlabelled } = configToHuggingFace(config);
      writeConfig(dir, { ...unlabelled, num_labels: numLabels, architectures: ['BertForMultipleChoice'] });
      const tensors = new Map([...weights].map(([k, v]) => [k, { dims: dims.get(k)!, data: v }]));
      tensors.set('classifier.weight', { dims: [1, 32], data: new Float32Array(32) });
      tensors.set('classifier.bias', { dims: [1], data: new Float32Array(1) });
      writeSafetensors(join(dir, 'model.safetensors'), tensors);
      expect(() => buildFromHuggingFaceFolder(dir)).toThrow(new DataError(`${dir}: ${refusal}${tail}`));
    }
  });

  it("reads a config.json whose num_labels disagrees with id2label as transformers does (id2label's size), the classifier still checked", () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const dir = freshDir();
      writeHuggingFaceFolder(dir, config, weights);
      // id2label's 3 labels, the classifier's 3 outputs: builds as the agreeing folder does
      writeConfig(dir, { ...configToHuggingFace(config), num_labels: 2 });
      expect(same(buildFromHuggingFaceFolder(dir), buildBert(config, { kind: 'random', seed: 4 }))).toBe(true);
      expect(String(stderr.mock.calls[0]![0])).toContain('num_labels is 2 but id2label has 3 labels: reading 3, as transformers does');
      // num_labels agrees with the classifier but id2label does not: refused, in id2label's terms
      writeConfig(dir, { ...configToHuggingFace(config), id2label: { 0: 'neg', 1: 'pos' } });
      expect(() => buildFromHuggingFaceFolder(dir)).toThrow(
        `${dir}: the checkpoint's classifier 'classifier.weight' has 3 outputs but config.json gives 2 labels (the size of id2label, else num_labels, else 2)`,
      );
    } finally {
      stderr.mockRestore();
    }
  });

  it("reads config.json's pruned_heads as transformers does (the heads pruned before the pruned checkpoint is loaded), where a checkpoint saved after prune_heads was refused for its narrower attention weights", async () => {
    // layer 1 saved without heads 0 and 2 (head width 8): query/key/value lose those rows, the output dense those columns
    const kept = [8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31];
    const p = 'bert.encoder.layer.1.attention.';
    const strong = randomBertWeights(config, { seed: 4, std: 0.3 });
    const tensors = new Map<string, SafetensorsInput>();
    for (const [k, v] of strong) {
      if (/self\.(query|key|value)\.weight$/.test(k) && k.startsWith(p))
        tensors.set(k, { dims: [16, 32], data: Float32Array.from(kept.flatMap((r) => [...v.subarray(r * 32, r * 32 + 32)])) });
      else if (/self\.(query|key|value)\.bias$/.test(k) && k.startsWith(p)) tensors.set(k, { dims: [16], data: Float32Array.from(kept.map((r) => v[r]!)) });
      else if (k === `${p}output.dense.weight`)
        tensors.set(k, { dims: [32, 16], data: Float32Array.from({ length: 512 }, (_, i) => v[Math.floor(i / 16) * 32 + kept[i % 16]!]!) });
      else tensors.set(k, { dims: dims.get(k)!, data: v });
    }
    const dir = freshDir();
    writeConfig(dir, { ...configToHuggingFace(config), pruned_heads: { 1: [2, 0, 2] } });
    writeSafetensors(join(dir, 'model.safetensors'), tensors);
    expect(loadHuggingFaceFolder(dir).config).toMatchObject({ attentionHeadSize: 8, layers: [{ numHeads: 4 }, { numHeads: 2 }] });
    // the same model as the unpruned one whose pruned heads add nothing (their value rows zero)
    const silenced = new Map(strong);
    for (const k of [`${p}self.value.weight`, `${p}self.value.bias`]) {
      const v = Float32Array.from(strong.get(k)!);
      const width = v.length / 32;
      for (const r of [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]) v.fill(0, r * width, (r + 1) * width);
      silenced.set(k, v);
    }
    const batch = paddedBatch([7, 4, 1], config.vocabSize);
    const ours = (await batchLogits(buildFromHuggingFaceFolder(dir), batch)).rows;
    const reference = (await batchLogits(buildBert(config, { kind: 'given', tensors: silenced }), batch)).rows;
    expect(maxRowDiff(ours, reference)).toBeLessThan(1e-5);
    expect(maxRowDiff(reference, (await batchLogits(buildBert(config, { kind: 'given', tensors: strong }), batch)).rows)).toBeGreaterThan(1e-2);

    // a key that names no layer, a head past num_attention_heads: refused in one line, as transformers cannot build them
    writeConfig(dir, { ...configToHuggingFace(config), pruned_heads: { 2: [0] } });
    expect(() => loadHuggingFaceFolder(dir)).toThrow(
      new SettingsError(`${join(dir, 'config.json')}: pruned_heads key '2' is not a layer (0 to 1, or -2 to -1 from the last)`),
    );
    writeConfig(dir, { ...configToHuggingFace(config), pruned_heads: { '-3': [0] } });
    expect(() => loadHuggingFaceFolder(dir)).toThrow(`pruned_heads key '-3' is not a layer (0 to 1, or -2 to -1 from the last)`);
    // the keys read as transformers reads them (int(key) into a dict: a later key of one number wins over an earlier
    // one; a negative key indexes the layers from the last, as Python's list does, and prunes with the key of its index)
    writeConfig(dir, { ...configToHuggingFace(config), pruned_heads: { '-1': [2, 0] } });
    expect(loadHuggingFaceFolder(dir).config).toMatchObject({ layers: [{ numHeads: 4 }, { numHeads: 2 }] });
    writeConfig(dir, { ...configToHuggingFace(config), pruned_heads: { '-1': [0], 1: [1], '-2': [3] } });
    expect(loadHuggingFaceFolder(dir).config).toMatchObject({ layers: [{ numHeads: 3 }, { numHeads: 2 }] });
    writeConfig(dir, { ...configToHuggingFace(config), pruned_heads: { 1: [0, 1, 2], ' 01': [3], '0': [9], '+0': [1] } });
    expect(loadHuggingFaceFolder(dir).config).toMatchObject({ layers: [{ numHeads: 3 }, { numHeads: 3 }] });
    writeConfig(dir, { ...configToHuggingFace(config), pruned_heads: { 1: [4] } });
    expect(() => loadHuggingFaceFolder(dir)).toThrow(
      new SettingsError(`${join(dir, 'config.json')}: pruned_heads['1']: expected a head of the 4 (num_attention_heads), got number 4`),
    );
    // a negative head counts from the last, as torch indexes the head mask transformers prunes by (-2 is head 2);
    // one head named both ways is refused: transformers counts it twice and removes it once, and cannot load the checkpoint
    writeConfig(dir, { ...configToHuggingFace(config), pruned_heads: { 1: [-2, 0] } });
    expect(loadHuggingFaceFolder(dir).config).toMatchObject({ layers: [{ numHeads: 4 }, { numHeads: 2 }] });
    expect(maxRowDiff((await batchLogits(buildFromHuggingFaceFolder(dir), batch)).rows, ours)).toBe(0);
    writeConfig(dir, { ...configToHuggingFace(config), pruned_heads: { 1: [-4, 2, 0] } });
    expect(() => loadHuggingFaceFolder(dir)).toThrow(
      new SettingsError(`${join(dir, 'config.json')}: pruned_heads['1']: -4 and 0 are the same head of the 4, which transformers counts twice`),
    );
    writeConfig(dir, { ...configToHuggingFace(config), pruned_heads: { 1: [-5] } });
    expect(() => loadHuggingFaceFolder(dir)).toThrow(
      new SettingsError(`${join(dir, 'config.json')}: pruned_heads['1']: expected a head of the 4 (num_attention_heads), got number -5`),
    );
    // two keys of one layer prune it one after the other, as transformers' prune_heads does: the second list less the
    // heads the first listed (as written), indexed in the heads left, so 1: [3] then -1: [-1] prunes two heads (3, then
    // the last of the three left) where it was refused as one head named twice; a head past those left is refused
    writeConfig(dir, { ...configToHuggingFace(config), pruned_heads: { 1: [3], '-1': [-1] } });
    expect(loadHuggingFaceFolder(dir).config).toMatchObject({ layers: [{ numHeads: 4 }, { numHeads: 2 }] });
    writeConfig(dir, { ...configToHuggingFace(config), pruned_heads: { 1: [3], '-1': [3, -3, 1] } });
    expect(loadHuggingFaceFolder(dir).config).toMatchObject({ layers: [{ numHeads: 4 }, { numHeads: 1 }] });
    writeConfig(dir, { ...configToHuggingFace(config), pruned_heads: { 1: [0, 1, 2], '-1': [-2] } });
    expect(() => loadHuggingFaceFolder(dir)).toThrow(
      new SettingsError(
        `${join(dir, 'config.json')}: pruned_heads['-1']: head -2 is past the 1 head layer 1 has left after pruned_heads['1'] (transformers indexes it as head -2 of those)`,
      ),
    );
    writeConfig(dir, { ...configToHuggingFace(config), pruned_heads: { 1: [0], '-1': [3, -1] } });
    expect(() => loadHuggingFaceFolder(dir)).toThrow(
      new SettingsError(`${join(dir, 'config.json')}: pruned_heads['-1']: 3 and -1 are the same head of the 3, which transformers counts twice`),
    );
  });

  it("takes pruned_heads' keys in the file's order, as transformers' Python dict does, where JSON.parse puts '1' before '-1'", () => {
    // 2 layers of 4 heads: '-1' then '1' prunes head -4 (0) of layer 1, then its head 3 (index 2 of the 3 left);
    // '1' first would leave 3 heads where -4 is past them. The other order is the other way round.
    const dir = freshDir();
    const file = join(dir, 'config.json');
    const base = JSON.stringify(configToHuggingFace(config)).slice(0, -1);
    writeFileSync(file, `${base},"pruned_heads":{"-1":[-4],"1":[3]}}`);
    expect(readHuggingFaceConfig(file).layers?.map((l) => l.numHeads)).toEqual([4, 2]);
    // (a repeated key keeps its first place; a BOM, spaces, nested values and strings holding braces are read past)
    writeFileSync(file, `\ufeff{ "pruned_heads" : {"x": 1}, "note": "} {\\"", ${base.slice(1)}, "pruned_heads" : { "-1" : [ -4 ] , "1":[0], "1" : [ 3 ] } }`);
    expect(readHuggingFaceConfig(file).layers?.map((l) => l.numHeads)).toEqual([4, 2]);
    writeFileSync(file, `${base},"pruned_heads":{"-1":[3],"1":[-4]}}`);
    expect(() => readHuggingFaceConfig(file)).toThrow(
      new SettingsError(
        `${file}: pruned_heads['1']: head -4 is past the 3 heads layer 1 has left after pruned_heads['-1'] (transformers indexes it as head -4 of those)`,
      ),
    );
    // the folder's reader too (layer 1's attention weights saved with the 2 heads left)
    const tensors = new Map<string, SafetensorsInput>();
    const p = 'bert.encoder.layer.1.attention.';
    for (const [k, v] of weights) {
      const d = dims.get(k)!;
      if (k.startsWith(p) && /self\.(query|key|value)\.weight$/.test(k)) tensors.set(k, { dims: [16, 32], data: v.slice(0, 512) });
      else if (k.startsWith(p) && /self\.(query|key|value)\.bias$/.test(k)) tensors.set(k, { dims: [16], data: v.slice(0, 16) });
      else if (k === `${p}output.dense.weight`) tensors.set(k, { dims: [32, 16], data: v.slice(0, 512) });
      else tensors.set(k, { dims: d, data: v });
    }
    writeSafetensors(join(dir, 'model.safetensors'), tensors);
    writeFileSync(file, `${base},"pruned_heads":{"-1":[-4],"1":[3]}}`);
    expect(loadHuggingFaceFolder(dir).config.layers?.map((l) => l.numHeads)).toEqual([4, 2]);
  });

  it('a parameter stored as integers (a quantized checkpoint) is refused in one line; integer ids such as position_ids are not parameters and pass', () => {
    const dir = freshDir();
    writeConfig(dir);
    const tensors = new Map<string, SafetensorsInput>([...weights].map(([k, v]) => [k, { dims: dims.get(k)!, data: v }]));
    tensors.set('bert.embeddings.position_ids', { dims: [1, 64], data: Float32Array.from({ length: 64 }, (_, i) => i), dtype: 'I64' });
    writeSafetensors(join(dir, 'model.safetensors'), tensors);
    expect(() => buildFromHuggingFaceFolder(dir)).not.toThrow();
    const query = 'bert.encoder.layer.1.attention.self.query.weight';
    tensors.set(query, { dims: dims.get(query)!, data: Float32Array.from(weights.get(query)!, (x) => Math.round(x * 100)), dtype: 'I32' });
    writeSafetensors(join(dir, 'model.safetensors'), tensors);
    expect(() => buildFromHuggingFaceFolder(dir)).toThrow(
      new DataError(
        `${join(dir, 'model.safetensors')}: tensor '${query}' is stored as I32, not as floats (a quantized checkpoint, such as bitsandbytes' 8-bit?); bert-compress reads float weights (F64, F32, F16, BF16): save the model unquantized`,
      ),
    );
  });

  it("a quantized checkpoint, config.json's quantization_config given (GPTQ, AWQ, bitsandbytes, FP8), is refused in one line naming the key, where its float tensors were read as the weights", () => {
    const dir = freshDir();
    const tensors = new Map<string, SafetensorsInput>([...weights].map(([k, v]) => [k, { dims: dims.get(k)!, data: v }]));
    writeSafetensors(join(dir, 'model.safetensors'), tensors);
    const refusal = (what: string) =>
      new SettingsError(
        `${join(dir, 'config.json')}: quantization_config${what}: a quantized checkpoint, whose weights transformers reads through its quantizer (packed integers and their scales), where bert-compress reads float weights: give the float model it was quantized from, or save it dequantized (transformers' model.dequantize(), then save_pretrained)`,
      );
    for (const [q, what] of [
      [{ quant_method: 'gptq', bits: 4, group_size: 128 }, " (quant_method 'gptq')"],
      [{ quant_method: 'bitsandbytes', load_in_8bit: true }, " (quant_method 'bitsandbytes')"],
      [{ bits: 4 }, ''],
    ] as const) {
      writeConfig(dir, { ...configToHuggingFace(config), quantization_config: q });
      expect(() => loadHuggingFaceFolder(dir), JSON.stringify(q)).toThrow(refusal(what));
      expect(() => readHuggingFaceConfig(join(dir, 'config.json')), JSON.stringify(q)).toThrow(refusal(what));
    }
    // (null is none, as transformers reads it)
    writeConfig(dir, { ...configToHuggingFace(config), quantization_config: null });
    expect(same(buildFromHuggingFaceFolder(dir), buildBert(config, { kind: 'random', seed: 4 }))).toBe(true);
  });

  it('an 8-bit float tensor the model does not use (an FP8 scale, an unused head) is read past; a parameter stored so is refused in one line naming it', () => {
    // safetensors' writer writes no 8-bit floats: the file's tensors, then one more entry appended by hand
    const withRaw = (tensors: Map<string, SafetensorsInput>, extra: { name: string; dtype: string; dims: readonly number[]; bytes: number[] }) => {
      const [, json, ...data] = encodeSafetensors(tensors);
      const header = JSON.parse(new TextDecoder().decode(json));
      const end = data.reduce((a, c) => a + c.byteLength, 0);
      header[extra.name] = { dtype: extra.dtype, shape: extra.dims, data_offsets: [end, end + extra.bytes.length] };
      const text = new TextEncoder().encode(JSON.stringify(header));
      const len = new Uint8Array(8);
      new DataView(len.buffer).setBigUint64(0, BigInt(text.byteLength), true);
      return Buffer.concat([len, text, ...data, Uint8Array.from(extra.bytes)]);
    };
    const dir = freshDir();
    writeConfig(dir);
    const tensors = new Map<string, SafetensorsInput>([...weights].map(([k, v]) => [k, { dims: dims.get(k)!, data: v }]));
    for (const dtype of ['F8_E4M3', 'F8_E5M2', 'F8_E8M0']) {
      writeFileSync(
        join(dir, 'model.safetensors'),
        withRaw(tensors, { name: 'cls.predictions.transform.dense.weight_scale', dtype, dims: [2], bytes: [0x38, 0x40] }),
      );
      expect(same(buildFromHuggingFaceFolder(dir), buildBert(config, { kind: 'random', seed: 4 }))).toBe(true);
    }
    const query = 'bert.encoder.layer.1.attention.self.query.weight';
    const rest = new Map([...tensors].filter(([k]) => k !== query));
    writeFileSync(join(dir, 'model.safetensors'), withRaw(rest, { name: query, dtype: 'F8_E4M3', dims: dims.get(query)!, bytes: Array(32 * 32).fill(0x38) }));
    expect(() => buildFromHuggingFaceFolder(dir)).toThrow(
      new DataError(
        `${join(dir, 'model.safetensors')}: tensor '${query}' is stored as F8_E4M3, an 8-bit float (an FP8-quantized checkpoint, whose weights are read with their scales?); bert-compress reads float weights (F64, F32, F16, BF16): save the model unquantized`,
      ),
    );
  });

  it('a parameter holding NaN or infinite values is refused in one line naming it (an F16 overflow hinted at)', () => {
    const dir = freshDir();
    writeConfig(dir);
    const tensors = new Map<string, SafetensorsInput>([...weights].map(([k, v]) => [k, { dims: dims.get(k)!, data: v, dtype: 'F16' as const }]));
    const bias = 'bert.encoder.layer.0.output.dense.bias';
    const data = Float32Array.from(weights.get(bias)!);
    data[3] = 1e6; // past F16's largest value: stored as infinity
    data[5] = -1e6;
    tensors.set(bias, { dims: dims.get(bias)!, data, dtype: 'F16' });
    writeSafetensors(join(dir, 'model.safetensors'), tensors);
    expect(() => buildFromHuggingFaceFolder(dir)).toThrow(
      new DataError(
        `${join(dir, 'model.safetensors')}: tensor '${bias}' holds 2 NaN or infinite values (of 32): the checkpoint is broken (values past F16's range when it was saved?)`,
      ),
    );
    data[3] = Number.NaN;
    data[5] = 0;
    tensors.set('classifier.weight', { dims: dims.get('classifier.weight')!, data: weights.get('classifier.weight')! });
    tensors.set(bias, { dims: dims.get(bias)!, data });
    writeSafetensors(join(dir, 'model.safetensors'), tensors);
    expect(() => buildFromHuggingFaceFolder(dir)).toThrow(
      new DataError(`${join(dir, 'model.safetensors')}: tensor '${bias}' holds 1 NaN or infinite value (of 32): the checkpoint is broken`),
    );
  });

  it("an F64 value past float32's range is refused as such, not as an infinity the file does not hold", () => {
    const dir = freshDir();
    writeConfig(dir);
    const tensors = new Map<string, SafetensorsInput>([...weights].map(([k, v]) => [k, { dims: dims.get(k)!, data: v, dtype: 'F64' as const }]));
    writeSafetensors(join(dir, 'model.safetensors'), tensors);
    expect(() => buildFromHuggingFaceFolder(dir)).not.toThrow(); // (F64 within float32's range: read)
    const bias = 'bert.encoder.layer.0.output.dense.bias';
    const data = Float64Array.from(weights.get(bias)!);
    data[3] = 1e300;
    data[5] = -1e300;
    tensors.set(bias, { dims: dims.get(bias)!, data, dtype: 'F64' });
    writeSafetensors(join(dir, 'model.safetensors'), tensors);
    expect(() => buildFromHuggingFaceFolder(dir)).toThrow(
      new DataError(
        `${join(dir, 'model.safetensors')}: tensor '${bias}' holds 2 F64 values past float32's range (of 32; the first 1e+300, where float32 ends at ±3.4028235e+38): bert-compress builds float32 graphs, in which they would be infinite; save the weights in float32's range`,
      ),
    );
    // (an infinity the F64 file holds: broken, as in any other type)
    data[5] = Number.POSITIVE_INFINITY;
    writeSafetensors(join(dir, 'model.safetensors'), tensors);
    expect(() => buildFromHuggingFaceFolder(dir)).toThrow(
      new DataError(`${join(dir, 'model.safetensors')}: tensor '${bias}' holds 2 NaN or infinite values (of 32): the checkpoint is broken`),
    );
  });

  it('says what is wrong with a folder', () => {
    const dir = freshDir();
    expect(() => loadHuggingFaceFolder(join(root, 'absent'))).toThrow(`${join(root, 'absent')}: no such folder`);
    expect(() => loadHuggingFaceFolder(dir)).toThrow(new DataError(`${dir}: no config.json`));
    writeFileSync(join(dir, 'config.json'), '{"hidden_size": ');
    expect(() => loadHuggingFaceFolder(dir)).toThrow(`${join(dir, 'config.json')}: not valid JSON`);
    // (bytes that are not UTF-8, a label name saved in Latin-1: transformers' json.load fails on them, as a model
    // folder's config.json is refused; they were read as U+FFFD, the label exported as 'caf\ufffd')
    const latin1 = Buffer.from(JSON.stringify({ ...configToHuggingFace(config), id2label: { 0: 'caf\u00e9', 1: 'neu', 2: 'pos' } }), 'latin1');
    const offset = latin1.indexOf(0xe9);
    writeFileSync(join(dir, 'config.json'), latin1);
    for (const read of [() => loadHuggingFaceFolder(dir), () => readHuggingFaceConfig(join(dir, 'config.json'), 'hf:org/m (config.json)')])
      expect(read).toThrow(NotUtf8Error);
    expect(() => loadHuggingFaceFolder(dir)).toThrow(
      new NotUtf8Error(`${join(dir, 'config.json')}: not valid UTF-8 text (at byte offset ${offset}: e9 22 2c 22)`),
    );
    expect(() => readHuggingFaceConfig(join(dir, 'config.json'), 'hf:org/m (config.json)')).toThrow(
      new NotUtf8Error(`hf:org/m (config.json): not valid UTF-8 text (at byte offset ${offset}: e9 22 2c 22)`),
    );
    writeConfig(dir, { ...configToHuggingFace(config), num_attention_heads: 5 });
    expect(() => loadHuggingFaceFolder(dir)).toThrow(SettingsError);
    expect(() => loadHuggingFaceFolder(dir)).toThrow(`${join(dir, 'config.json')}: hidden_size (32) is not divisible by num_attention_heads (5)`);
    writeConfig(dir);
    expect(() => loadHuggingFaceFolder(dir)).toThrow(`${dir}: no model.safetensors (nor model.safetensors.index.json)`);
    // shards without their index: named, and the index said to be what is missing
    const shard = (i: number) => `model-0000${i}-of-00002.safetensors`;
    for (const i of [2, 1]) writeSafetensors(join(dir, shard(i)), new Map([['bert.pooler.dense.bias', { dims: [32], data: new Float32Array(32) }]]));
    expect(() => loadHuggingFaceFolder(dir)).toThrow(
      new DataError(
        `${dir}: has the shards ${shard(1)}, ${shard(2)} but not their index model.safetensors.index.json (nor model.safetensors): copy the index beside them`,
      ),
    );
    for (const i of [1, 2]) rmSync(join(dir, shard(i)));
    mkdirSync(join(dir, 'onnx'));
    writeFileSync(join(dir, 'onnx', 'model.onnx'), 'onnx');
    expect(() => loadHuggingFaceFolder(dir)).toThrow(
      new DataError(
        `${dir}: no model.safetensors (nor model.safetensors.index.json); it holds an ONNX model (${join('onnx', 'model.onnx')}): give the folder to compress, eval or inspect as it is`,
      ),
    );
    rmSync(join(dir, 'onnx'), { recursive: true });
    writeFileSync(join(dir, 'pytorch_model.bin'), 'pickle');
    expect(() => loadHuggingFaceFolder(dir)).toThrow(`${dir}: has pytorch_model.bin but no model.safetensors; bert-compress reads only safetensors`);
    writeFileSync(join(dir, 'model.safetensors'), new Uint8Array(3));
    expect(() => loadHuggingFaceFolder(dir)).toThrow(`${join(dir, 'model.safetensors')}: truncated safetensors file`);
    rmSync(join(dir, 'model.safetensors'));
    mkdirSync(join(dir, 'model.safetensors'));
    expect(() => loadHuggingFaceFolder(dir)).toThrow(new DataError(`${join(dir, 'model.safetensors')}: a folder, not a safetensors file`));
    rmSync(join(dir, 'model.safetensors'), { recursive: true });
    // a hub cache snapshot whose blob was removed: the link is named, not taken for a missing file
    symlinkSync(join(root, 'blobs', 'gone'), join(dir, 'model.safetensors'));
    expect(() => loadHuggingFaceFolder(dir)).toThrow(
      new DataError(
        `${join(dir, 'model.safetensors')}: a link to ${join(root, 'blobs', 'gone')}, which does not exist (a hub cache snapshot whose blobs were removed?)`,
      ),
    );
  });
});

describe('export of a float16 checkpoint', () => {
  it("config.json names the dtype the graph holds (float32), where it copied the checkpoint's torch_dtype float16; the transformers.js folder's too", async () => {
    const { exportHuggingFaceFolder } = await import('../../src/export/from-huggingface.ts');
    const { exportToTransformersJs } = await import('../../src/export/transformers-js.ts');
    const { loadModel } = await import('../../src/onnx/load.ts');
    const { readFileSync } = await import('node:fs');
    const { DataType } = await import('../../src/onnx/dtype.ts');
    const dir = freshDir();
    // (transformers ≥ 4.56 writes dtype, earlier torch_dtype)
    const json = { ...configToHuggingFace(config), torch_dtype: 'float16', dtype: 'float16' };
    writeConfig(dir, json);
    writeSafetensors(join(dir, 'model.safetensors'), new Map([...weights].map(([k, v]) => [k, { dims: dims.get(k)!, data: v, dtype: 'F16' as const }])));
    const special = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
    writeFileSync(join(dir, 'vocab.txt'), `${Array.from({ length: config.vocabSize }, (_, i) => special[i] ?? `w${i}`).join('\n')}\n`);
    const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const out = freshDir();
    const r = await exportHuggingFaceFolder(dir, join(out, 'model.onnx'));
    expect([...loadModel(join(out, 'model.onnx')).graph.initializers.values()].every((t) => t.dataType !== DataType.FLOAT16)).toBe(true);
    expect(r.wroteConfig).toBe(true);
    expect(readJson(join(out, 'config.json'))).toEqual({ ...json, torch_dtype: 'float32', dtype: 'float32' });
    const folder = join(freshDir(), 'js');
    await exportToTransformersJs(dir, folder);
    expect(readJson(join(folder, 'config.json'))).toMatchObject({ torch_dtype: 'float32', dtype: 'float32' });
    // into the checkpoint's own folder: its config.json stays, and a notice says so
    const lines: string[] = [];
    const before = readFileSync(join(dir, 'config.json'));
    expect((await exportHuggingFaceFolder(dir, join(dir, 'model.onnx'), { log: (l) => lines.push(l) })).wroteConfig).toBe(false);
    expect(readFileSync(join(dir, 'config.json')).equals(before)).toBe(true);
    expect(lines).toEqual([
      `warning: -o ${join(dir, 'model.onnx')}: config.json beside it is the checkpoint's and does not give the graph's dtype (torch_dtype float32, dtype float32); export to another folder for one that does`,
    ]);
    // a float32 checkpoint's config.json naming float32 is copied as it is
    const f32 = freshDir();
    writeHuggingFaceFolder(f32, config, weights);
    writeConfig(f32, { ...configToHuggingFace(config), torch_dtype: 'float32' });
    const copied = freshDir();
    const kept = await exportHuggingFaceFolder(f32, join(copied, 'model.onnx'));
    expect([kept.wroteConfig, kept.copied.includes('config.json')]).toEqual([false, true]);
  });
});

describe('a checkpoint whose config.json is not UTF-8 text', () => {
  it("is refused naming the byte offset (load and export, nothing written), as transformers' json.load fails on it and a model folder's config.json is refused, where an id2label name in Latin-1 was read as U+FFFD", async () => {
    const { exportHuggingFaceFolder } = await import('../../src/export/from-huggingface.ts');
    const dir = freshDir();
    writeHuggingFaceFolder(dir, config, weights);
    const latin1 = Buffer.from(JSON.stringify({ ...configToHuggingFace(config), id2label: { 0: 'caf\u00e9', 1: 'neu', 2: 'pos' } }), 'latin1');
    writeFileSync(join(dir, 'config.json'), latin1);
    const refusal = new NotUtf8Error(`${join(dir, 'config.json')}: not valid UTF-8 text (at byte offset ${latin1.indexOf(0xe9)}: e9 22 2c 22)`);
    expect(() => loadHuggingFaceFolder(dir)).toThrow(NotUtf8Error);
    expect(() => loadHuggingFaceFolder(dir)).toThrow(refusal);
    const out = join(freshDir(), 'out');
    const lines: string[] = [];
    await expect(exportHuggingFaceFolder(dir, join(out, 'model.onnx'), { log: (l) => lines.push(l) })).rejects.toThrow(refusal);
    expect([existsSync(out), lines]).toEqual([false, []]);
  });
});

describe('export of a checkpoint with layers past num_hidden_layers', () => {
  it("warns once, naming the layers it leaves unread (transformers' 'weights … not used'), and exports config.json's layers", async () => {
    const { exportHuggingFaceFolder } = await import('../../src/export/from-huggingface.ts');
    const dir = freshDir();
    writeHuggingFaceFolder(dir, config, weights); // (its config.json, of every layer, replaced below)
    writeConfig(dir, { ...configToHuggingFace(config), num_hidden_layers: config.numLayers - 1 });
    const last = config.numLayers - 1;
    const pastTensors = [...weights.keys()].filter((k) => k.startsWith(`bert.encoder.layer.${last}.`)).length;
    const lines: string[] = [];
    const r = await exportHuggingFaceFolder(dir, join(freshDir(), 'model.onnx'), { log: (l) => lines.push(l) });
    expect(r.numLayers).toBe(last);
    expect(lines).toEqual([
      `warning: ${dir}: the checkpoint's encoder layer ${last} (${pastTensors} tensors) is past config.json's num_hidden_layers ${last}: not used`,
    ]);
    // every layer read: no warning
    writeConfig(dir);
    lines.length = 0;
    await exportHuggingFaceFolder(dir, join(freshDir(), 'model.onnx'), { log: (l) => lines.push(l) });
    expect(lines).toEqual([]);
  });
});
