/**
 * A BERT tokenizer.json (BertNormalizer, BertPreTokenizer) written for transformers.js: @huggingface/tokenizers
 * lower-cases a capital sigma ending a word as ς and leaves Chinese characters past U+FFFF inside their word, where
 * evaluation reads them as tokenizers does, so the folder's tokenizer.json is written so that transformers.js reads
 * them alike (and tokenizers as before); likewise a Whitespace pre-tokenizer, whose words it read as ASCII ones, and a
 * BertPreTokenizer or WhitespaceSplit behind no normalizer cleaning the text, which it split on JS's \s.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutoTokenizer, env } from '@huggingface/transformers';
import { afterAll, describe, expect, it } from 'vitest';
import { writeHuggingFaceFolder } from '../../src/bert/build-hf.ts';
import { randomBertWeights } from '../../src/bert/build-weights.ts';
import { loadTokenizer, withNormalizingTransformersJsReads } from '../../src/eval/tokenizer.ts';
import { exportToTransformersJs } from '../../src/export/transformers-js.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { tinyBertConfig } from '../helpers/models.ts';

registerAllPasses();
env.allowRemoteModels = false;
const root = mkdtempSync(join(tmpdir(), 'bc-tjs-normalizer-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'ab', 'cd', '𠮶', 'σ', 'ς', '##σ', '##ς', 'ο', '##δ', '##ο', '中'];
const TEXTS = ['ΟΔΟΣ Σ', 'ab𠮶cd', 'ΟΔΟΣ中ab𠮶𠮶cd', 'οδος'];

describe('--format transformers.js of a BertNormalizer', () => {
  it("gives in transformers.js eval's ids for a capital sigma ending a word (σ, where toLowerCase gave ς) and a Chinese character past U+FFFF (a word of its own)", async () => {
    const config = tinyBertConfig();
    const hf = join(root, 'bert');
    writeHuggingFaceFolder(hf, config, randomBertWeights(config, { seed: 5 }));
    const tokenizer = {
      version: '1.0',
      added_tokens: VOCAB.slice(0, 5).map((content, id) => ({
        id,
        content,
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: true,
      })),
      normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
      pre_tokenizer: { type: 'BertPreTokenizer' },
      post_processor: { type: 'BertProcessing', sep: ['[SEP]', 3], cls: ['[CLS]', 2] },
      decoder: null,
      model: {
        type: 'WordPiece',
        unk_token: '[UNK]',
        continuing_subword_prefix: '##',
        max_input_chars_per_word: 100,
        vocab: Object.fromEntries(VOCAB.map((t, i) => [t, i])),
      },
    };
    writeFileSync(join(hf, 'tokenizer.json'), JSON.stringify(tokenizer));
    const out = join(root, 'bert-tjs');
    await exportToTransformersJs(hf, out);
    const theirs = await AutoTokenizer.from_pretrained(out);
    const ours = loadTokenizer(hf);
    for (const text of TEXTS) {
      const ids = Array.from(theirs(text).input_ids.data as BigInt64Array, Number);
      expect([text, ids]).toEqual([text, ours.encode(text, null, 64).ids]);
    }
    // (what eval gives, as tokenizers 0.23 does)
    expect(ours.encode(TEXTS[2]!, null, 64).ids).toEqual([2, 12, 13, 14, 10, 15, 5, 7, 7, 6, 3]);
  }, 30_000);
});

describe('withNormalizingTransformersJsReads', () => {
  it('puts a Replace of Σ before each lower-casing normalizer of a Sequence at any depth, keeps every other part as it is, and gives the object itself where nothing lower-cases', () => {
    const sigma = { type: 'Replace', pattern: { String: 'Σ' }, content: 'σ' };
    const bert = { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: false, strip_accents: null, lowercase: true };
    const json = {
      normalizer: { type: 'Sequence', normalizers: [{ type: 'NFD' }, { type: 'Sequence', normalizers: [null, { type: 'Lowercase' }] }, bert] },
      pre_tokenizer: { type: 'BertPreTokenizer' },
    };
    expect(withNormalizingTransformersJsReads(json)).toEqual({
      normalizer: {
        type: 'Sequence',
        normalizers: [
          { type: 'NFD' },
          { type: 'Sequence', normalizers: [null, { type: 'Sequence', normalizers: [sigma, { type: 'Lowercase' }] }] },
          { type: 'Sequence', normalizers: [sigma, bert] },
        ],
      },
      pre_tokenizer: { type: 'BertPreTokenizer' },
    });
    for (const normalizer of [null, { type: 'Sequence', normalizers: [{ type: 'NFKC' }, { ...bert, lowercase: false }] }]) {
      const unchanged = { normalizer, pre_tokenizer: { type: 'BertPreTokenizer' } };
      expect(withNormalizingTransformersJsReads(unchanged)).toBe(unchanged);
    }
  });
});

describe('--format transformers.js of a Whitespace and a Digits pre-tokenizer', () => {
  it("gives in transformers.js eval's ids for words and digits past ASCII ('café' one word, 'α+β' three pieces, 'x²³' three), where @huggingface/tokenizers matched JS's ASCII \\w", async () => {
    const config = tinyBertConfig();
    const hf = join(root, 'whitespace');
    writeHuggingFaceFolder(hf, config, randomBertWeights(config, { seed: 5 }));
    const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'café', 'caf', 'é', 'α', '+', 'β', 'α+β', 'x', '²', '³', 'x²³'];
    const tokenizer = {
      version: '1.0',
      added_tokens: vocab
        .slice(0, 5)
        .map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
      normalizer: null,
      pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Whitespace' }, { type: 'Digits', individual_digits: true }] },
      post_processor: { type: 'BertProcessing', sep: ['[SEP]', 3], cls: ['[CLS]', 2] },
      decoder: null,
      model: { type: 'WordLevel', unk_token: '[UNK]', vocab: Object.fromEntries(vocab.map((t, i) => [t, i])) },
    };
    writeFileSync(join(hf, 'tokenizer.json'), JSON.stringify(tokenizer));
    const out = join(root, 'whitespace-tjs');
    await exportToTransformersJs(hf, out);
    const theirs = await AutoTokenizer.from_pretrained(out);
    const ours = loadTokenizer(hf);
    for (const text of ['café α+β', 'e\u0301x café!', 'x²³ café']) {
      const ids = Array.from(theirs(text).input_ids.data as BigInt64Array, Number);
      expect([text, ids]).toEqual([text, ours.encode(text, null, 64).ids]);
    }
    // (what eval gives, as tokenizers 0.23 does)
    expect([ours.encode('café α+β', null, 64).ids, ours.encode('x²³', null, 64).ids]).toEqual([
      [2, 5, 8, 9, 10, 3],
      [2, 12, 13, 14, 3],
    ]);
  }, 30_000);
});

describe('--format transformers.js of a BertPreTokenizer or WhitespaceSplit behind no normalizer cleaning the text', () => {
  it("gives in transformers.js eval's ids for U+FEFF (no whitespace) and U+0085 (whitespace), where @huggingface/tokenizers split on JS's \\s", async () => {
    const config = tinyBertConfig();
    const hf = join(root, 'unicode-whitespace');
    writeHuggingFaceFolder(hf, config, randomBertWeights(config, { seed: 5 }));
    const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a', 'b', 'ab', '\uFEFF', 'a\uFEFFb', '!'];
    for (const pre of [{ type: 'BertPreTokenizer' }, { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }] }]) {
      const tokenizer = {
        version: '1.0',
        added_tokens: vocab
          .slice(0, 5)
          .map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
        normalizer: null,
        pre_tokenizer: pre,
        post_processor: { type: 'BertProcessing', sep: ['[SEP]', 3], cls: ['[CLS]', 2] },
        decoder: null,
        model: { type: 'WordLevel', unk_token: '[UNK]', vocab: Object.fromEntries(vocab.map((t, i) => [t, i])) },
      };
      writeFileSync(join(hf, 'tokenizer.json'), JSON.stringify(tokenizer));
      const out = join(root, `unicode-whitespace-tjs-${pre.type}`);
      await exportToTransformersJs(hf, out);
      const theirs = await AutoTokenizer.from_pretrained(out);
      const ours = loadTokenizer(hf);
      for (const text of ['a\uFEFFb a\u0085b', 'ab!\u0085a b']) {
        const ids = Array.from(theirs(text).input_ids.data as BigInt64Array, Number);
        expect([pre.type, text, ids]).toEqual([pre.type, text, ours.encode(text, null, 64).ids]);
      }
      // (what eval gives, as tokenizers splits on char::is_whitespace)
      expect(ours.encode('a\uFEFFb a\u0085b', null, 64).ids).toEqual([2, 9, 5, 6, 3]);
    }
  }, 30_000);
});

describe("--format transformers.js of a Split whose regex has Oniguruma's word escapes", () => {
  it("gives in transformers.js eval's ids for ² beside a word (no word character to Oniguruma's \\w and \\b, as tokenizers reads them), where @huggingface/tokenizers took it as one", async () => {
    const config = tinyBertConfig();
    const hf = join(root, 'word-class');
    writeHuggingFaceFolder(hf, config, randomBertWeights(config, { seed: 6 }));
    const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'x', '²', 'x²', 'y'];
    const tokenizer = {
      version: '1.0',
      added_tokens: vocab
        .slice(0, 5)
        .map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
      normalizer: null,
      pre_tokenizer: {
        type: 'Sequence',
        pretokenizers: [
          { type: 'Split', pattern: { Regex: '\\s+' }, behavior: 'Removed', invert: false },
          { type: 'Split', pattern: { Regex: '\\b' }, behavior: 'Isolated', invert: false },
        ],
      },
      post_processor: { type: 'BertProcessing', sep: ['[SEP]', 3], cls: ['[CLS]', 2] },
      decoder: null,
      model: { type: 'WordLevel', unk_token: '[UNK]', vocab: Object.fromEntries(vocab.map((t, i) => [t, i])) },
    };
    writeFileSync(join(hf, 'tokenizer.json'), JSON.stringify(tokenizer));
    const out = join(root, 'word-class-tjs');
    await exportToTransformersJs(hf, out);
    const theirs = await AutoTokenizer.from_pretrained(out);
    const ours = loadTokenizer(hf);
    const text = 'x² y';
    expect(Array.from(theirs(text).input_ids.data as BigInt64Array, Number)).toEqual(ours.encode(text, null, 64).ids);
    // (what eval gives, as tokenizers' Oniguruma finds a word boundary between x and ²)
    expect(ours.encode(text, null, 64).ids).toEqual([2, 5, 6, 8, 3]);
  }, 30_000);
});
