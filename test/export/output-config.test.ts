/**
 * The config.json written beside an output describes the written model: after a structural pass its shape fields
 * are the output's (as transformers names them for the model type), what a config cannot say is listed in
 * `graph_only`, and a model trained on a task names that task and its labels. Expectations come from the test's own
 * settings (layers kept, neurons and heads removed), not from reading the output back the way the code does.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBert } from '../../src/bert/build.ts';
import { configFromHuggingFace, configToHuggingFace } from '../../src/bert/config.ts';
import { compressFile } from '../../src/export/compress.ts';
import { compressToTransformersJs, transformersJsTokenizerConfig } from '../../src/export/transformers-js.ts';
import { modelMaxLengthOf } from '../../src/eval/tokenizer.ts';
import { GRAPH_ONLY_KEY, headConfigFields, outputModelConfig, SHAPE_FIELDS } from '../../src/eval/output-config.ts';
import { getTask } from '../../src/glue/registry.ts';
import { loadModel, saveModel } from '../../src/onnx/index.ts';
import type { PassStep } from '../../src/pass/pass.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { runTraining } from '../../src/train/run.ts';
import { FAMILY_JSONS } from '../helpers/family-folders.ts';
import { factorizeWordEmbedding } from '../../src/factorize/embeddings.ts';
import { findBert } from '../../src/bert/discover.ts';
import { aHead } from '../../src/bert/classifier.ts';
import type { HeadKind } from '../../src/bert/structure.ts';
import { GLUE_DIR, hasGlue } from '../helpers/paths.ts';
import { WORDS } from '../helpers/model-folder.ts';
import { tinyBert, tinyBertConfig } from '../helpers/models.ts';

registerAllPasses();
const root = mkdtempSync(join(tmpdir(), 'bc-output-config-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (name: string): string => {
  const d = join(root, `${name}-${n++}`);
  mkdirSync(d, { recursive: true });
  return d;
};
const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;

/** The tiny BERT (2 layers × 4 heads × 32 hidden, FFN 64) as a model folder with the config.json transformers writes. */
function tinyFolder(extra: Record<string, unknown> = {}): { dir: string; input: string; config: Record<string, unknown> } {
  const dir = fresh('in');
  const input = join(dir, 'model.onnx');
  saveModel(tinyBert({}, { std: 0.2 }), input);
  const config = { ...configToHuggingFace(tinyBertConfig()), max_length: 16, finetuning_task: 'sst-2', ...extra };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  writeFileSync(join(dir, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...WORDS].join('\n') + '\n');
  return { dir, input, config };
}

const compress = (input: string, output: string, steps: PassStep[]) => compressFile({ input, output, steps });

describe('config.json beside a compressed model', () => {
  it("after each structural pass its shape fields are the output's; the rest is the input's", async () => {
    const { input, config } = tinyFolder();
    const cases: Array<[string, PassStep[], Record<string, unknown>]> = [
      ['keep-layers', [{ pass: 'drop-layers', settings: { keep: [0] } }], { num_hidden_layers: 1 }],
      ['prune-ffn', [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }], { intermediate_size: 32 }],
      // 2 of layer 0's 4 heads and 1 of layer 1's: transformers' form, the full count and the heads each layer lacks
      ['prune-heads', [{ pass: 'prune-heads', settings: { heads: '0:1,2;1:0' } }], { num_attention_heads: 4, pruned_heads: { 0: [2, 3], 1: [3] } }],
      ['factorize', [{ pass: 'factorize-embeddings', settings: { rank: 8 } }], { embedding_size: 8 }],
    ];
    for (const [name, steps, expected] of cases) {
      const out = join(fresh(name), 'model.onnx');
      const lineage = await compress(input, out, steps);
      const written = readJson(join(out, '..', 'config.json'));
      expect(written, name).toMatchObject(expected);
      // every other field is the input's
      for (const [k, v] of Object.entries(config)) if (!(k in expected)) expect(written[k], `${name}: ${k}`).toEqual(v);
      expect(lineage.config, name).toMatchObject({ path: join(out, '..', 'config.json'), written: true });
    }
  });

  it('what a config cannot say is listed in graph_only (and the lineage); a later output that says everything drops it', async () => {
    const { input } = tinyFolder();
    const dir = fresh('shared');
    const out = join(dir, 'model.onnx');
    const lineage = await compress(input, out, [{ pass: 'share-layers', settings: { share: 'all' } }]);
    const written = readJson(join(dir, 'config.json'));
    expect(written.num_hidden_layers).toBe(2);
    expect(written[GRAPH_ONLY_KEY]).toEqual([expect.stringMatching(/layers share weights/)]);
    expect(lineage.config?.graphOnly).toEqual(written[GRAPH_ONLY_KEY]);
    expect(written[GRAPH_ONLY_KEY]).toEqual([expect.stringMatching(/; a bert config cannot say so$/)]);
    expect(outputModelConfig({ model_type: 'electra' }, loadModel(out)).graphOnly).toEqual([expect.stringMatching(/; an electra config cannot say so$/)]);
    // (the article as the name is read: an initialism's letter said with a vowel)
    expect(outputModelConfig({ model_type: 'xlm-roberta' }, loadModel(out)).graphOnly).toEqual([
      expect.stringMatching(/; an xlm-roberta config cannot say so$/),
    ]);
    expect(outputModelConfig({ model_type: 'roberta' }, loadModel(out)).graphOnly).toEqual([expect.stringMatching(/; a roberta config cannot say so$/)]);
    // rewriting the same output with another pipeline is no conflict, and the config follows the new model
    await compress(input, out, [{ pass: 'drop-layers', settings: { keep: [1] } }]);
    const again = readJson(join(dir, 'config.json'));
    expect(again.num_hidden_layers).toBe(1);
    expect(again).not.toHaveProperty(GRAPH_ONLY_KEY);
  });

  it("an output in the input's own folder leaves the input's config.json as it is and says what it does not describe", async () => {
    const { dir, input } = tinyFolder();
    const before = readFileSync(join(dir, 'config.json'));
    const lineage = await compress(input, join(dir, 'small.onnx'), [{ pass: 'drop-layers', settings: { keep: [0] } }]);
    expect(readFileSync(join(dir, 'config.json')).equals(before)).toBe(true);
    expect(lineage.config).toEqual({ path: join(dir, 'config.json'), written: false, graphOnly: [], stale: ['num_hidden_layers: 2 → 1'] });
  });

  it("names a field the input's config.json lacks as every message shows a missing value (valueText: none), where it wrote (none)", async () => {
    const { dir, input } = tinyFolder({ intermediate_size: undefined });
    const lineage = await compress(input, join(dir, 'small.onnx'), [{ pass: 'drop-layers', settings: { keep: [0] } }]);
    expect(lineage.config?.stale).toEqual(expect.arrayContaining(['num_hidden_layers: 2 → 1', 'intermediate_size: none → 64']));
  });

  it('an output beside another model of its input, of another shape, keeps the config.json written for that model unless forced', async () => {
    const { input } = tinyFolder();
    const dir = fresh('siblings');
    await compress(input, join(dir, 'a.onnx'), [{ pass: 'drop-layers', settings: { keep: [0] } }]);
    const before = readFileSync(join(dir, 'config.json'));
    const b = await compress(input, join(dir, 'b.onnx'), [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }]);
    // a.onnx (1 layer, FFN 64) is still described by its config.json, not by b.onnx's shape
    expect(readFileSync(join(dir, 'config.json')).equals(before)).toBe(true);
    expect(b.config).toEqual({
      path: join(dir, 'config.json'),
      written: false,
      graphOnly: [],
      stale: ['num_hidden_layers: 1 → 2', 'intermediate_size: 64 → 32'],
      of: 'a.onnx',
    });
    // an output of the same shape as a.onnx's (nothing stale) and a.onnx rewritten: config.json written as before
    expect((await compress(input, join(dir, 'c.onnx'), [{ pass: 'drop-layers', settings: { keep: [1] } }])).config).toMatchObject({ written: true });
    expect((await compress(input, join(dir, 'a.onnx'), [{ pass: 'drop-layers', settings: { keep: [0] } }])).config).toMatchObject({ written: true });
    // force: b.onnx's config.json written over a.onnx's
    const forced = await compressFile({ input, output: join(dir, 'b.onnx'), steps: [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }], force: true });
    expect(forced.config).toMatchObject({ written: true });
    expect(readJson(join(dir, 'config.json'))).toMatchObject({ num_hidden_layers: 2, intermediate_size: 32 });
  });

  it("an output beside a model without lineage (a copy of its input folder) keeps that model's config.json unless forced", async () => {
    const { dir: from, input } = tinyFolder();
    // the input folder copied as it is (model.onnx and its config.json: no bert-compress lineage)
    const dir = fresh('copied');
    for (const f of ['model.onnx', 'config.json', 'vocab.txt']) writeFileSync(join(dir, f), readFileSync(join(from, f)));
    const before = readFileSync(join(dir, 'config.json'));
    const small = await compress(input, join(dir, 'small.onnx'), [{ pass: 'drop-layers', settings: { keep: [0] } }]);
    // model.onnx (2 layers) is still described by its config.json, not by small.onnx's shape
    expect(readFileSync(join(dir, 'config.json')).equals(before)).toBe(true);
    expect(small.config).toEqual({ path: join(dir, 'config.json'), written: false, graphOnly: [], stale: ['num_hidden_layers: 2 → 1'], of: 'model.onnx' });
    // an output of model.onnx's shape (nothing stale): written as before; force: written over
    expect((await compress(input, join(dir, 'int8.onnx'), [{ pass: 'quantize', settings: { mode: 'int8' } }])).config).toMatchObject({ written: true });
    const forced = await compressFile({ input, output: join(dir, 'small.onnx'), steps: [{ pass: 'drop-layers', settings: { keep: [0] } }], force: true });
    expect(forced.config).toMatchObject({ written: true });
    expect(readJson(join(dir, 'config.json'))).toMatchObject({ num_hidden_layers: 1 });
  });

  it("an output into a transformers.js folder (config.json above onnx/model.onnx) keeps that model's config.json unless forced", async () => {
    const { dir: from, input } = tinyFolder();
    const dir = fresh('transformers-js');
    mkdirSync(join(dir, 'onnx'));
    writeFileSync(join(dir, 'onnx', 'model.onnx'), readFileSync(join(from, 'model.onnx')));
    for (const f of ['config.json', 'vocab.txt']) writeFileSync(join(dir, f), readFileSync(join(from, f)));
    const before = readFileSync(join(dir, 'config.json'));
    const small = await compress(input, join(dir, 'small.onnx'), [{ pass: 'drop-layers', settings: { keep: [0] } }]);
    expect(readFileSync(join(dir, 'config.json')).equals(before)).toBe(true);
    expect(small.config).toEqual({ path: join(dir, 'config.json'), written: false, graphOnly: [], stale: ['num_hidden_layers: 2 → 1'], of: 'onnx/model.onnx' });
    const forced = await compressFile({ input, output: join(dir, 'small.onnx'), steps: [{ pass: 'drop-layers', settings: { keep: [0] } }], force: true });
    expect(forced.config).toMatchObject({ written: true });
  });

  it("a transformers.js folder: config.json has the output's shape", async () => {
    const { input } = tinyFolder();
    const out = join(fresh('tjs'), 'folder');
    const r = await compressToTransformersJs({
      input,
      output: out,
      steps: [
        { pass: 'drop-layers', settings: { keep: [1] } },
        { pass: 'prune-ffn', settings: { ratio: 0.25 } },
        { pass: 'quantize', settings: { mode: 'int8' } },
      ],
    });
    const written = readJson(join(out, 'config.json'));
    expect(written).toMatchObject({ num_hidden_layers: 1, intermediate_size: 48, num_attention_heads: 4, finetuning_task: 'sst-2' });
    expect(r.lineage.config).toEqual({ path: join(out, 'config.json'), written: true, graphOnly: [] });
  });

  it("from a transformers.js folder: no transformers.js_config key naming the source's files (its dtype, per device too, its external data); its other keys stay", async () => {
    // (transformers.js loads onnx/model<suffix>.onnx of the dtype a config names, and fetches the external data files it
    // names: src/models/session.js getSession; neither is beside a plain output)
    const { dir: from } = tinyFolder({
      'transformers.js_config': {
        dtype: 'q8',
        use_external_data_format: { 'model.onnx': true },
        free_dimension_overrides: { batch_size: 1 },
        device_config: { cpu: { dtype: 'q8' }, webgpu: { dtype: 'fp16', free_dimension_overrides: { batch_size: 2 } } },
      },
    });
    const folder = fresh('tjs-source');
    mkdirSync(join(folder, 'onnx'));
    for (const f of ['config.json', 'vocab.txt']) writeFileSync(join(folder, f), readFileSync(join(from, f)));
    writeFileSync(join(folder, 'onnx', 'model.onnx'), readFileSync(join(from, 'model.onnx')));
    const out = join(fresh('plain'), 'model.onnx');
    await compress(join(folder, 'onnx', 'model.onnx'), out, [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }]);
    expect(readJson(join(out, '..', 'config.json'))['transformers.js_config']).toEqual({
      free_dimension_overrides: { batch_size: 1 },
      device_config: { webgpu: { free_dimension_overrides: { batch_size: 2 } } },
    });
  });
});

describe("a transformers.js folder's tokenizer_config.json", () => {
  const tokenizer = { model: { vocab: { '[PAD]': 0, '[UNK]': 1 } } };
  const written = (model_max_length: unknown, maxLength: number | null, maxPositions: number | null) =>
    transformersJsTokenizerConfig({ model_max_length } as never, tokenizer, maxLength, maxPositions, 'BertTokenizer').model_max_length;

  it('model_max_length is the length evaluation truncates to: a value evaluation ignores (text, null) is not copied', () => {
    for (const ignored of ['512', null, Number.NaN]) {
      // (evaluation reads none from it: the length is config.json's max_length, else the position table's, else none)
      expect(modelMaxLengthOf({ model_max_length: ignored } as never)).toBeNull();
      expect(written(ignored, 64, 512)).toBe(64);
      expect(written(ignored, null, 512)).toBe(512);
      expect(written(ignored, null, null)).toBeUndefined();
    }
    // (a fractional length is the whole ids evaluation takes; a huge one, transformers' 'no limit', gives way to the caps)
    expect(written(100.7, null, 512)).toBe(100);
    expect(written(1e30, null, 512)).toBe(512);
    expect(written(1e30, null, null)).toBe(1e30);
    expect(written(32, 64, 512)).toBe(32);
    // (0 and below are read, as transformers keeps them: the export then refuses them as leaving no room for text)
    expect(modelMaxLengthOf({ model_max_length: 0.5 } as never)).toBe(0);
    expect(written(0, 64, 512)).toBe(0);
    expect(written(-1, null, 512)).toBe(-1);
  });
});

describe('outputModelConfig', () => {
  /** Each family's config.json as transformers writes it, and ALBERT's with shared layers. */
  const families: Record<string, Record<string, unknown>> = {
    bert: { ...configToHuggingFace(tinyBertConfig()) },
    ...FAMILY_JSONS,
    albert: {
      model_type: 'albert',
      architectures: ['AlbertForSequenceClassification'],
      vocab_size: 64,
      embedding_size: 16,
      hidden_size: 32,
      num_hidden_layers: 4,
      num_hidden_groups: 2,
      num_attention_heads: 4,
      intermediate_size: 48,
      inner_group_num: 1,
      hidden_act: 'gelu_new',
      max_position_embeddings: 32,
      type_vocab_size: 2,
      layer_norm_eps: 1e-12,
      id2label: { 0: 'a', 1: 'b', 2: 'c' },
    },
  };

  it.each(Object.keys(families))('%s: the graph of a config reads back as that config (nothing to change, nothing graph-only)', (name) => {
    const json = families[name]!;
    const model = buildBert(configFromHuggingFace(json), { kind: 'random', seed: 1 });
    const { config, graphOnly } = outputModelConfig(json, model);
    expect(graphOnly).toEqual([]);
    for (const k of SHAPE_FIELDS) if (k in json) expect(config[k], k).toEqual(json[k]);
    expect(Object.keys(config).filter((k) => !(k in json))).toEqual([]); // no field of another model type
  });

  it("an ELECTRA's factorized word embedding is noted with the model type's article (an electra config)", () => {
    const json = families['electra E=H']!;
    const model = buildBert(configFromHuggingFace(json), { kind: 'random', seed: 1 });
    const factorized = factorizeWordEmbedding(model, findBert(model), 8).model;
    expect(outputModelConfig(json, factorized).graphOnly).toEqual([expect.stringMatching(/, which an electra config cannot say$/)]);
  });

  it('a config-less source gets model_type, architectures and the shape; a task gives finetuning_task and its labels in output order', () => {
    const model = tinyBert({ numLabels: 3 });
    const mnli = getTask('MNLI-m');
    const { config } = outputModelConfig({ max_length: 32 }, model, { fineTuned: { task: mnli, outputToLabel: [2, 0, 1] } });
    expect(config).toEqual({
      max_length: 32,
      model_type: 'bert',
      architectures: ['BertForSequenceClassification'],
      num_hidden_layers: 2,
      hidden_size: 32,
      vocab_size: 128,
      max_position_embeddings: 64,
      type_vocab_size: 2,
      intermediate_size: 64,
      num_attention_heads: 4,
      finetuning_task: 'mnli',
      problem_type: 'single_label_classification',
      num_labels: 3,
      id2label: { 0: mnli.labels[2], 1: mnli.labels[0], 2: mnli.labels[1] },
      label2id: { [mnli.labels[2]!]: 0, [mnli.labels[0]!]: 1, [mnli.labels[1]!]: 2 },
    });
  });

  it("a model_type named like a JavaScript built-in ('constructor') gets the graph's family's classifier, as any model_type the project does not read", () => {
    for (const modelType of ['constructor', 'toString', '__proto__', 'my-bert']) {
      const { config } = outputModelConfig({ model_type: modelType }, tinyBert());
      expect(config.architectures, modelType).toEqual(['BertForSequenceClassification']);
    }
  });

  it("a source's finetuning_task gives way to the task trained on; generic labels become the task's, named ones stay", () => {
    const model = tinyBert();
    const mrpc = getTask('MRPC');
    const source = { finetuning_task: 'sst-2', id2label: { 0: 'LABEL_0', 1: 'LABEL_1' }, problem_type: 'single_label_classification' };
    const { config } = outputModelConfig(source, model, { fineTuned: { task: mrpc, outputToLabel: [0, 1] } });
    expect(config).toMatchObject({ finetuning_task: 'mrpc', id2label: { 0: mrpc.labels[0], 1: mrpc.labels[1] }, num_labels: 2 });
    const named = { id2label: { 0: mrpc.labels[1]!.toUpperCase(), 1: mrpc.labels[0]!.toUpperCase() } };
    expect(outputModelConfig(named, model, { fineTuned: { task: mrpc, outputToLabel: [1, 0] } }).config.id2label).toEqual(named.id2label);
    // no task (general distillation): no finetuning_task
    expect(outputModelConfig(source, model, { fineTuned: null }).config).not.toHaveProperty('finetuning_task');
  });

  it("a regression head is written as transformers names a 1-label head (LABEL_0), whether the source's id2label is generic ('0', as a teacher's may be) or absent (a new head); a named score stays", () => {
    const model = tinyBert({ numLabels: 1 });
    const stsb = getTask('STS-B');
    const written = (source: Record<string, unknown>) => {
      const { config } = outputModelConfig(source, model, { fineTuned: { task: stsb, outputToLabel: [0] } });
      return { id2label: config.id2label, label2id: config.label2id, num_labels: config.num_labels, problem_type: config.problem_type };
    };
    const transformers = { id2label: { 0: 'LABEL_0' }, label2id: { LABEL_0: 0 }, num_labels: 1, problem_type: 'regression' };
    // /work/shared/teachers/stsb-L4H256's config.json: what distill copied to its students
    expect(written({ id2label: { 0: '0' }, label2id: { 0: 0 }, num_labels: 1, problem_type: 'regression' })).toEqual(transformers);
    expect(written({ id2label: { 0: 'label_0' }, label2id: { label_0: 0 } })).toEqual(transformers);
    expect(written({})).toEqual(transformers); // train --new-head drops the old head's labels
    expect(written({ id2label: { 0: 'similarity' } })).toEqual({ ...transformers, id2label: { 0: 'similarity' }, label2id: { similarity: 0 } });
  });
});

describe('headConfigFields', () => {
  it("writes label2id as transformers' PretrainedConfig makes it from the source's id2label (each key read by int(), a later key of an id winning), where a key JS's Number() could not read ('１') got a null id and a key given twice ('0', '00') two names of id 0", () => {
    const label2id = (id2label: Record<string, string>) =>
      headConfigFields({ model_type: 'bert', architectures: ['BertForSequenceClassification'], id2label }, 'bert', 'sequence-classification', null, 'm')
        .label2id;
    expect(label2id({ 0: 'neg', '１': 'pos' })).toEqual({ neg: 0, pos: 1 });
    expect(label2id({ 0: 'neg', '00': 'pos', 1: 'x' })).toEqual({ pos: 0, x: 1 });
    expect(label2id({ ' 0': 'neg', '+1': 'pos' })).toEqual({ neg: 0, pos: 1 });
    expect(() => label2id({ x: 'neg' })).toThrow(/^m: config\.json: id2label key 'x' is not a label id/);
  });

  it("names the model type's classifier for a sequence classifier (or a head discovery cannot name) whose source names no class, and never another head's as one", () => {
    const fields = (head: HeadKind) => headConfigFields({ model_type: 'bert' }, 'bert', head, 2, 'm');
    expect(fields('sequence-classification').architectures).toEqual(['BertForSequenceClassification']);
    expect(fields('unknown').architectures).toEqual(['BertForSequenceClassification']);
    for (const head of ['multiple-choice', 'pretraining', 'question-answering', 'token-classification'] as const)
      expect(() => fields(head)).toThrow(`headConfigFields: ${aHead(head)} and no architectures in m's config.json: no class names it`);
    // (a source naming the head's class keeps it)
    expect(headConfigFields({ model_type: 'bert', architectures: ['BertForMultipleChoice'] }, 'bert', 'multiple-choice', 1, 'm').architectures).toBeUndefined();
  });
});

describe.skipIf(!hasGlue || !existsSync(join(GLUE_DIR, 'MRPC', 'train.tsv')))('a trained model (needs ../shared/glue)', () => {
  it("names the task it was trained on, from a source fine-tuned on another, and a config-less source's model gets a whole config", async () => {
    const settings = { epochs: 1, batchSize: 8, threads: 1, lr: 1e-12, dropout: 0 };
    const { dir } = tinyFolder({ id2label: { 0: 'LABEL_0', 1: 'LABEL_1' }, label2id: { LABEL_0: 0, LABEL_1: 1 } });
    const out = join(fresh('trained'), 'model.onnx');
    const common = { task: 'MRPC', glueDir: GLUE_DIR, maxExamples: 8, maxLength: 16, settings, cacheDir: join(root, 'cache') };
    await runTraining({ ...common, student: dir, output: out });
    const mrpc = getTask('MRPC');
    expect(readJson(join(out, '..', 'config.json'))).toMatchObject({
      finetuning_task: 'mrpc',
      id2label: { 0: mrpc.labels[0], 1: mrpc.labels[1] },
      num_hidden_layers: 2,
      max_length: 16,
    });

    const bare = fresh('bare');
    saveModel(tinyBert({}, { std: 0.2 }), join(bare, 'model.onnx'));
    const out2 = join(fresh('trained-bare'), 'model.onnx');
    await runTraining({ ...common, student: join(bare, 'model.onnx'), tokenizer: dir, output: out2 });
    expect(readJson(join(out2, '..', 'config.json'))).toMatchObject({
      model_type: 'bert',
      architectures: ['BertForSequenceClassification'],
      finetuning_task: 'mrpc',
      num_labels: 2,
      id2label: { 0: mrpc.labels[0], 1: mrpc.labels[1] },
      num_hidden_layers: 2,
      hidden_size: 32,
      num_attention_heads: 4,
      intermediate_size: 64,
    });
  }, 120_000);
});
