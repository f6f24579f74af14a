/**
 * A model of one token type (type_vocab_size 1) under a BERT tokenizer, written for transformers.js: transformers.js
 * feeds a sentence pair's second text as type 1, which the model's token-type table has no row for, so the folder's
 * result (and `compress` / `export --format transformers.js`) warns in one line; single texts classify.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutoModelForSequenceClassification, AutoTokenizer, env } from '@huggingface/transformers';
import { writeHuggingFaceFolder } from '../../src/bert/build-hf.ts';
import { randomBertWeights } from '../../src/bert/build-weights.ts';
import { loadTokenizer } from '../../src/eval/tokenizer.ts';
import { compressToTransformersJs, exportToTransformersJs } from '../../src/export/transformers-js.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { WORDS, sentence, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert, tinyBertConfig } from '../helpers/models.ts';
import { tokenizerJson } from '../helpers/tokenizer-json.ts';

registerAllPasses();
env.allowRemoteModels = false;
const root = mkdtempSync(join(tmpdir(), 'bc-tjs-one-type-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const NOTE =
  /^warning: \S+: its model has 1 token type \(type_vocab_size 1\) but its tokenizer gives a sentence pair's second text type 1: transformers\.js fails on a pair/;

describe('--format transformers.js of a model of one token type', () => {
  it('a Hugging Face folder: warns that a pair fails in transformers.js (as it does), and single texts classify', async () => {
    const config = tinyBertConfig({ typeVocabSize: 1 });
    const hf = join(root, 'hf');
    writeHuggingFaceFolder(hf, config, randomBertWeights(config, { seed: 5, std: 0.5 }));
    writeFileSync(join(hf, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...WORDS].join('\n') + '\n');
    const out = join(root, 'hf-tjs');
    const res = await exportToTransformersJs(hf, out);
    expect(res.notes.filter((n) => NOTE.test(n))).toHaveLength(1);
    // what the note says: transformers.js gives the pair's second text type 1 and the model fails on it
    const tokenizer = await AutoTokenizer.from_pretrained(out);
    const model = await AutoModelForSequenceClassification.from_pretrained(out, { dtype: 'fp32' });
    try {
      expect((await model(tokenizer(sentence(1)))).logits.dims).toEqual([1, 2]);
      await expect(model(tokenizer(sentence(2), { text_pair: sentence(3) }))).rejects.toThrow(/Gather|indices|out of bounds|idx/i);
    } finally {
      await model.dispose();
    }
  }, 30_000);

  it('compress of an ONNX model: the same warning; a model of two token types gets none', async () => {
    const one = writeModelFolder(join(root, 'one'), tinyBert({ typeVocabSize: 1 }));
    const res = await compressToTransformersJs({ input: join(one, 'model.onnx'), output: join(root, 'one-tjs'), steps: [] });
    expect(res.notes.filter((n) => NOTE.test(n))).toHaveLength(1);
    const two = writeModelFolder(join(root, 'two'), tinyBert());
    const plain = await compressToTransformersJs({ input: join(two, 'model.onnx'), output: join(root, 'two-tjs'), steps: [] });
    expect(plain.notes).toEqual([]);
  });

  it("a tokenizer whose model_input_names lack token_type_ids (a BERT class): the tokenizer.json written gives a pair's tokens type 0, as eval feeds them, where transformers.js gave the template's (the second text type 1)", async () => {
    const config = tinyBertConfig();
    const hf = join(root, 'no-types');
    writeHuggingFaceFolder(hf, config, randomBertWeights(config, { seed: 5, std: 0.5 }));
    writeFileSync(join(hf, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...WORDS].join('\n') + '\n');
    writeFileSync(join(hf, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: 'BertTokenizer', model_input_names: ['input_ids', 'attention_mask'] }));
    const out = join(root, 'no-types-tjs');
    await exportToTransformersJs(hf, out);
    const tokenizer = await AutoTokenizer.from_pretrained(out);
    const encoded = tokenizer(sentence(2), { text_pair: sentence(3) });
    expect(encoded.input_ids.dims[1]).toBeGreaterThan(4);
    expect([...(encoded.token_type_ids?.data ?? [])].every((t) => Number(t) === 0)).toBe(true);
  }, 30_000);

  it.each(['RetriBertTokenizerFast', 'DPRReaderTokenizer'])(
    "a tokenizer named %s (model_input_names without token_type_ids in transformers 4.x): transformers.js gives a pair eval's ids and no type but 0, as eval feeds them, where it gave the template's (the second text type 1)",
    async (named) => {
      const config = tinyBertConfig();
      const hf = join(root, `typeless-${named}`);
      writeHuggingFaceFolder(hf, config, randomBertWeights(config, { seed: 5, std: 0.5 }));
      writeFileSync(join(hf, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...WORDS].join('\n') + '\n');
      writeFileSync(join(hf, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: named }));
      const out = join(root, `typeless-${named}-tjs`);
      await exportToTransformersJs(hf, out);
      const tokenizer = await AutoTokenizer.from_pretrained(out);
      const encoded = tokenizer(sentence(2), { text_pair: sentence(3) });
      const ours = loadTokenizer(hf).encode(sentence(2), sentence(3), 64);
      expect([...encoded.input_ids.data].map(Number)).toEqual(ours.ids);
      expect(ours.typeIds.every((t) => t === 0)).toBe(true);
      expect([...(encoded.token_type_ids?.data ?? [])].every((t) => Number(t) === 0)).toBe(true);
    },
    30_000,
  );

  it("a folder of vocab.txt alone named FunnelTokenizer (a model of three token types): transformers.js gives a single text and a pair eval's ids and types, [CLS] type 2 as FunnelConverter writes it", async () => {
    const config = tinyBertConfig({ typeVocabSize: 3 });
    const hf = join(root, 'funnel-vocab');
    writeHuggingFaceFolder(hf, config, randomBertWeights(config, { seed: 5, std: 0.5 }));
    writeFileSync(join(hf, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...WORDS].join('\n') + '\n');
    writeFileSync(join(hf, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: 'FunnelTokenizer' }));
    const out = join(root, 'funnel-vocab-tjs');
    await exportToTransformersJs(hf, out);
    const tokenizer = await AutoTokenizer.from_pretrained(out);
    for (const pair of [null, sentence(3)]) {
      const encoded = tokenizer(sentence(2), pair === null ? {} : { text_pair: pair });
      const ours = loadTokenizer(hf).encode(sentence(2), pair, 64);
      expect(ours.typeIds[0]).toBe(2);
      expect([[...encoded.input_ids.data].map(Number), [...encoded.token_type_ids!.data].map(Number)]).toEqual([ours.ids, ours.typeIds]);
    }
  }, 30_000);

  it("a folder named FunnelTokenizer on a model of two token types: refused before anything is written in eval's line ([CLS] type 2 fails every text in transformers.js), where it was written with a warning that a pair failed", async () => {
    const config = tinyBertConfig({ typeVocabSize: 2 });
    const hf = join(root, 'funnel-two-types');
    writeHuggingFaceFolder(hf, config, randomBertWeights(config, { seed: 5, std: 0.5 }));
    writeFileSync(join(hf, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...WORDS].join('\n') + '\n');
    writeFileSync(join(hf, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: 'FunnelTokenizer' }));
    const line = `${join(hf, 'vocab.txt')} gives token type 2, but ${hf} has 2 token types: the tokenizer's template is not the model's`;
    const out = join(root, 'funnel-two-types-tjs');
    await expect(exportToTransformersJs(hf, out)).rejects.toMatchObject({ message: line });
    expect(existsSync(out)).toBe(false);
    const onnx = writeModelFolder(join(root, 'two-types-onnx'), tinyBert());
    writeFileSync(join(onnx, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: 'FunnelTokenizer' }));
    await expect(compressToTransformersJs({ input: join(onnx, 'model.onnx'), output: join(root, 'two-types-onnx-tjs'), steps: [] })).rejects.toThrow(
      /gives token type 2, but \S+model\.onnx has 2 token types: the tokenizer's template is not the model's$/,
    );
    expect(existsSync(join(root, 'two-types-onnx-tjs'))).toBe(false);
  });

  it("a tokenizer.json whose BertProcessing sits in a Sequence within a Sequence (tokenizers applies it alike), its class returning no token types: the file written gives a pair's tokens type 0, as at one level, where the nested one kept type 1", async () => {
    const config = tinyBertConfig();
    const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...WORDS];
    const written = { sep: ['[SEP]', 3], cls: ['[CLS]', 2] };
    const types: number[][] = [];
    for (const [name, post] of [
      ['one-level', { type: 'Sequence', processors: [{ type: 'BertProcessing', ...written }] }],
      ['nested', { type: 'Sequence', processors: [{ type: 'Sequence', processors: [{ type: 'BertProcessing', ...written }] }] }],
    ] as const) {
      const hf = join(root, `seq-${name}`);
      writeHuggingFaceFolder(hf, config, randomBertWeights(config, { seed: 5, std: 0.5 }));
      writeFileSync(
        join(hf, 'tokenizer.json'),
        JSON.stringify({ ...tokenizerJson(vocab, { pre_tokenizer: { type: 'WhitespaceSplit' } }), post_processor: post }),
      );
      writeFileSync(
        join(hf, 'tokenizer_config.json'),
        JSON.stringify({ tokenizer_class: 'BertTokenizer', model_input_names: ['input_ids', 'attention_mask'] }),
      );
      const out = join(root, `seq-${name}-tjs`);
      await exportToTransformersJs(hf, out);
      const tokenizer = await AutoTokenizer.from_pretrained(out);
      const encoded = tokenizer(sentence(2), { text_pair: sentence(3) });
      // (the ids eval reads: [CLS] A [SEP] B [SEP], as the tokenizers node binding gives them)
      expect([...encoded.input_ids.data].map(Number)).toEqual(loadTokenizer(hf).encode(sentence(2), sentence(3), 64).ids);
      types.push([...(encoded.token_type_ids?.data ?? [])].map(Number));
    }
    expect(types[1]).toEqual(types[0]);
    expect(types[1]!.every((t) => t === 0)).toBe(true);
  }, 30_000);
});
