/**
 * A BERT tokenizer.json (BertNormalizer, BertPreTokenizer) written for transformers.js: @huggingface/tokenizers
 * lower-cases a capital sigma ending a word as ς and leaves Chinese characters past U+FFFF inside their word, where
 * evaluation reads them as tokenizers does, so the folder's tokenizer.json is written so that transformers.js reads
 * them alike (and tokenizers as before); likewise a Whitespace pre-tokenizer, whose words it read as ASCII ones, and a
 * BertPreTokenizer or WhitespaceSplit behind no normalizer cleaning the text, which it split on JS's \s; and an Nmt
 * normalizer, which it does not know (written as Replaces); a ByteLevel normalizer, which it does not know either, is
 * refused.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutoTokenizer, env } from '@huggingface/transformers';
import { afterAll, describe, expect, it } from 'vitest';
import { byteLevelNormalized, loadTokenizer, tokenizerFromJson, withNormalizingTransformersJsReads } from '../../src/eval/tokenizer.ts';
import { exportToTransformersJs } from '../../src/export/transformers-js.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { exportedIds as idsOfExport, tokenizerFolder, tokenizerJson, wordPieceModel } from '../helpers/tokenizer-json.ts';

registerAllPasses();
env.allowRemoteModels = false;
const root = mkdtempSync(join(tmpdir(), 'bc-tjs-normalizer-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A tiny BERT folder `name` holding `tokenizer`, exported for transformers.js: ids by transformers.js (of the export) and by eval (of the folder). */
const exportedIds = (name: string, tokenizer: object) => idsOfExport(tokenizerFolder(root, name, tokenizer));

const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'ab', 'cd', '𠮶', 'σ', 'ς', '##σ', '##ς', 'ο', '##δ', '##ο', '中'];
const TEXTS = ['ΟΔΟΣ Σ', 'ab𠮶cd', 'ΟΔΟΣ中ab𠮶𠮶cd', 'οδος'];

describe('--format transformers.js of a BertNormalizer', () => {
  it("gives in transformers.js eval's ids for a cased BertNormalizer that a BERT class lower-cases (tokenizer_config.json naming no do_lower_case: accents stripped too), as transformers loads it", async () => {
    const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'good', 'Good', 'cafe', 'café'];
    // (tokenizerFolder's config.json says model_type bert, and the folder holds no tokenizer_config.json)
    const { theirs, ours } = await exportedIds(
      'bert-cased-file',
      tokenizerJson(vocab, {
        normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: false },
        pre_tokenizer: { type: 'BertPreTokenizer' },
        model: wordPieceModel(vocab),
      }),
    );
    expect(ours('Good café')).toEqual([2, 5, 7, 3]);
    expect(theirs('Good café')).toEqual(ours('Good café'));
  }, 30_000);

  it("is read again (by eval, as transformers reads it) as eval read its source, a cased BertNormalizer of a class that rebuilds none written as the model type's BertTokenizer: tokenizer_config.json says the file's do_lower_case, strip_accents and tokenize_chinese_chars", async () => {
    const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'good', 'Good', 'cafe', 'café'];
    const hf = tokenizerFolder(
      root,
      'bert-cased-japanese-class',
      tokenizerJson(vocab, {
        normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: false },
        pre_tokenizer: { type: 'BertPreTokenizer' },
        model: wordPieceModel(vocab),
      }),
    );
    // (config.json names a class of no family the project reads, which rebuilds no normalizer: the file's is read)
    const config = JSON.parse(readFileSync(join(hf, 'config.json'), 'utf8'));
    writeFileSync(join(hf, 'config.json'), JSON.stringify({ ...config, tokenizer_class: 'BertJapaneseTokenizer' }));
    const { out, theirs, ours } = await idsOfExport(hf);
    expect(ours('Good café')).toEqual([2, 6, 8, 3]);
    expect(theirs('Good café')).toEqual(ours('Good café'));
    expect([...loadTokenizer(out).encode('Good café', null, 16).ids]).toEqual(ours('Good café'));
    expect(JSON.parse(readFileSync(join(out, 'tokenizer_config.json'), 'utf8'))).toMatchObject({
      tokenizer_class: 'BertTokenizer',
      do_lower_case: false,
      strip_accents: null,
      tokenize_chinese_chars: true,
    });
  }, 30_000);

  it.each([
    ['PreTrainedTokenizerFast', [2, 6, 3, 8, 3]],
    ['FunnelTokenizer', [2, 5, 3, 7, 3]],
  ])(
    "gives in transformers.js eval's ids and token types of a pair for a tokenizer named %s, which transformers.js reads as its base class returning no types: the model type's class is written, the normalizer as eval read it",
    async (named, ids) => {
      const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'good', 'Good', 'cafe', 'café'];
      const hf = tokenizerFolder(
        root,
        `bert-named-${named}`,
        tokenizerJson(vocab, {
          normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: false },
          pre_tokenizer: { type: 'BertPreTokenizer' },
          model: wordPieceModel(vocab),
        }),
      );
      writeFileSync(join(hf, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: named }));
      const out = `${hf}-tjs`;
      await exportToTransformersJs(hf, out);
      const theirs = await AutoTokenizer.from_pretrained(out);
      const pair = theirs('Good', { text_pair: 'café' });
      const ours = loadTokenizer(hf).encode('Good', 'café', 16);
      expect(Array.from(pair.input_ids.data as BigInt64Array, Number)).toEqual([...ours.ids]);
      expect(Array.from((pair.token_type_ids?.data ?? []) as BigInt64Array, Number)).toEqual([0, 0, 0, 1, 1]);
      expect([[...ours.ids], [...ours.typeIds]]).toEqual([ids, [0, 0, 0, 1, 1]]);
      // (read again as its source: PreTrainedTokenizerFast's cased file normalizer, which BertTokenizer would rebuild, named in tokenizer_config.json)
      expect([...loadTokenizer(out).encode('Good', 'café', 16).ids]).toEqual([...ours.ids]);
    },
    30_000,
  );

  it("gives in transformers.js eval's ids for a capital sigma ending a word (σ, where toLowerCase gave ς) and a Chinese character past U+FFFF (a word of its own)", async () => {
    const { theirs, ours } = await exportedIds(
      'bert',
      tokenizerJson(VOCAB, {
        normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
        pre_tokenizer: { type: 'BertPreTokenizer' },
        model: wordPieceModel(VOCAB),
      }),
    );
    for (const text of TEXTS) expect([text, theirs(text)]).toEqual([text, ours(text)]);
    // (what eval gives, as tokenizers 0.23 does)
    expect(ours(TEXTS[2]!)).toEqual([2, 12, 13, 14, 10, 15, 5, 7, 7, 6, 3]);
  }, 30_000);

  it("gives in transformers.js eval's ids for a Chinese character past U+FFFF behind a WhitespaceSplit or Whitespace pre-tokenizer too (a word of its own, as the BertNormalizer's spaces make it for tokenizers)", async () => {
    for (const pre of [{ type: 'WhitespaceSplit' }, { type: 'Whitespace' }]) {
      const { theirs, ours } = await exportedIds(
        `bert-${pre.type}`,
        tokenizerJson(VOCAB, {
          normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
          pre_tokenizer: pre,
          model: wordPieceModel(VOCAB),
        }),
      );
      for (const text of ['ab𠮶cd', '𠮶𠮶', 'ab 𠮶']) expect([pre.type, text, theirs(text)]).toEqual([pre.type, text, ours(text)]);
      // (what eval gives, as tokenizers 0.23.2 does)
      expect([pre.type, ours('ab𠮶cd')]).toEqual([pre.type, [2, 5, 7, 6, 3]]);
    }
  }, 30_000);

  it("gives in transformers.js eval's ids for a Chinese character past U+FFFF behind a Sequence of pre-tokenizers holding a WhitespaceSplit, Whitespace or BertPreTokenizer too", async () => {
    const vocab = [...VOCAB, ','];
    for (const pre of [
      { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'Punctuation', behavior: 'Isolated' }] },
      { type: 'Sequence', pretokenizers: [{ type: 'BertPreTokenizer' }] },
      { type: 'Sequence', pretokenizers: [{ type: 'Digits', individual_digits: true }, { type: 'Whitespace' }] },
    ]) {
      const { theirs, ours } = await exportedIds(
        `bert-sequence-${pre.pretokenizers.map((p) => p.type).join('-')}`,
        tokenizerJson(vocab, {
          normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
          pre_tokenizer: pre,
          model: wordPieceModel(vocab),
        }),
      );
      for (const text of ['ab𠮶cd', '𠮶𠮶', 'ab,𠮶cd']) expect([pre, text, theirs(text)]).toEqual([pre, text, ours(text)]);
      // (what eval gives, as tokenizers 0.23.2 does)
      expect([pre, ours('ab,𠮶cd')]).toEqual([pre, [2, 5, 16, 7, 6, 3]]);
    }
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
    const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'café', 'caf', 'é', 'α', '+', 'β', 'α+β', 'x', '²', '³', 'x²³'];
    const { theirs, ours } = await exportedIds(
      'whitespace',
      tokenizerJson(vocab, { pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Whitespace' }, { type: 'Digits', individual_digits: true }] } }),
    );
    for (const text of ['café α+β', 'e\u0301x café!', 'x²³ café']) expect([text, theirs(text)]).toEqual([text, ours(text)]);
    // (what eval gives, as tokenizers 0.23 does)
    expect([ours('café α+β'), ours('x²³')]).toEqual([
      [2, 5, 8, 9, 10, 3],
      [2, 12, 13, 14, 3],
    ]);
  }, 30_000);
});

describe('--format transformers.js of a BertPreTokenizer or WhitespaceSplit behind no normalizer cleaning the text', () => {
  it("gives in transformers.js eval's ids for U+FEFF (no whitespace) and U+0085 (whitespace), where @huggingface/tokenizers split on JS's \\s", async () => {
    const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a', 'b', 'ab', '\uFEFF', 'a\uFEFFb', '!'];
    for (const pre of [{ type: 'BertPreTokenizer' }, { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }] }]) {
      const { theirs, ours } = await exportedIds(`unicode-whitespace-${pre.type}`, tokenizerJson(vocab, { pre_tokenizer: pre }));
      for (const text of ['a\uFEFFb a\u0085b', 'ab!\u0085a b']) expect([pre.type, text, theirs(text)]).toEqual([pre.type, text, ours(text)]);
      // (what eval gives, as tokenizers splits on char::is_whitespace)
      expect(ours('a\uFEFFb a\u0085b')).toEqual([2, 9, 5, 6, 3]);
    }
  }, 30_000);
});

describe("--format transformers.js of a Split whose regex has Oniguruma's word escapes", () => {
  it("gives in transformers.js eval's ids for ² beside a word (a word character to Oniguruma's \\w and \\b outside a class, as tokenizers reads them)", async () => {
    const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'x', '²', 'x²', 'y'];
    const { theirs, ours } = await exportedIds(
      'word-class',
      tokenizerJson(vocab, {
        pre_tokenizer: {
          type: 'Sequence',
          pretokenizers: [
            { type: 'Split', pattern: { Regex: '\\s+' }, behavior: 'Removed', invert: false },
            { type: 'Split', pattern: { Regex: '\\b' }, behavior: 'Isolated', invert: false },
          ],
        },
      }),
    );
    const text = 'x² y';
    expect(theirs(text)).toEqual(ours(text));
    // (what eval gives, as tokenizers' Oniguruma finds no word boundary between x and ²)
    expect(ours(text)).toEqual([2, 7, 8, 3]);
  }, 30_000);
});

describe('--format transformers.js of a Strip normalizer', () => {
  it("gives in transformers.js eval's ids for a text starting or ending in U+FEFF or U+0085 (Strip as Replaces of White_Space at either end, as tokenizers strips), where @huggingface/tokenizers trimmed JS's whitespace", async () => {
    const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a', 'b', '\ufeffa', 'b\ufeff'];
    const { theirs, ours } = await exportedIds(
      'strip',
      tokenizerJson(vocab, {
        normalizer: { type: 'Strip', strip_left: true, strip_right: true },
        pre_tokenizer: { type: 'Split', pattern: { Regex: ' ' }, behavior: 'Removed', invert: false },
      }),
    );
    for (const text of ['\ufeffa b\ufeff', '\u0085a b\u0085', ' a b ']) expect([text, theirs(text)]).toEqual([text, ours(text)]);
    // (what eval gives, as tokenizers keeps U+FEFF)
    expect(ours('\ufeffa b\ufeff')).toEqual([2, 7, 8, 3]);
  }, 30_000);
});

describe('an Nmt normalizer, which @huggingface/tokenizers does not know', () => {
  it("normalizes as tokenizers' (control characters dropped, tab, newlines, U+200B, ▁, U+FEFF, U+FFFD … spaces), in eval and in transformers.js from the folder exported (written as two Replaces)", async () => {
    const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'ab', 'a', 'b', 'é', 'd'];
    const texts = ['a\u0001b', 'a\u000bb\u007f', 'a\tb', 'a\u200bb\u2581é', 'a\ufeffb\ufffdd', 'a\u00adb', 'a\u0085b'];
    // (what tokenizers 0.23.2 gives: U+00AD and U+0085 kept, neither dropped nor a space, so the piece is unknown)
    const expected = [[5], [5], [6, 7], [6, 7, 8], [6, 7, 9], [1], [1]];
    for (const [name, normalizer] of [
      ['nmt', { type: 'Nmt' }],
      ['nmt-in-sequence', { type: 'Sequence', normalizers: [{ type: 'Nmt' }, { type: 'NFC' }] }],
    ] as const) {
      const { out, theirs, ours } = await exportedIds(
        name,
        tokenizerJson(vocab, { normalizer, pre_tokenizer: { type: 'Split', pattern: { Regex: ' ' }, behavior: 'Removed', invert: false } }),
      );
      expect([name, texts.map(ours)]).toEqual([name, expected.map((ids) => [2, ...ids, 3])]);
      expect([name, texts.map(theirs)]).toEqual([name, expected.map((ids) => [2, ...ids, 3])]);
      expect(readFileSync(join(out, 'tokenizer.json'), 'utf8')).not.toContain('"Nmt"');
    }
  }, 30_000);
});

describe('a ByteLevel normalizer, which @huggingface/tokenizers does not know', () => {
  it("normalizes as tokenizers' (each UTF-8 byte as a character of GPT-2's byte-level alphabet) in eval; --format transformers.js refuses it in one line, writing nothing", async () => {
    // (tokenizers' own test, normalizers/byte_level.rs test_byte_level_normalize)
    expect(byteLevelNormalized('Hello 我今天能为你做什么')).toBe('HelloĠæĪĳä»Ĭå¤©èĥ½ä¸ºä½łåģļä»Ģä¹Ī');
    const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'Hello', 'Ġ', 'æĪĳ', 'HelloĠæĪĳ', 'Ã©'];
    const split = { type: 'Split', pattern: { String: 'Ġ' }, behavior: 'Isolated', invert: false };
    const whole = tokenizerFromJson(tokenizerJson(vocab, { normalizer: { type: 'ByteLevel' }, pre_tokenizer: null }), {}, 'tokenizer.json');
    expect(whole.encode('Hello 我', null, 16).ids).toEqual([2, 8, 3]);
    const inSequence = tokenizerFromJson(
      tokenizerJson(vocab, { normalizer: { type: 'Sequence', normalizers: [{ type: 'NFC' }, { type: 'ByteLevel' }] }, pre_tokenizer: split }),
      {},
      'tokenizer.json',
    );
    expect(inSequence.encode('Hello 我 e\u0301', null, 16).ids).toEqual([2, 5, 6, 7, 6, 9, 3]);
    const hf = tokenizerFolder(root, 'byte-level-normalizer', tokenizerJson(vocab, { normalizer: { type: 'ByteLevel' }, pre_tokenizer: split }));
    await expect(exportToTransformersJs(hf, `${hf}-tjs`)).rejects.toThrow(
      /^[^\n]*tokenizer\.json: its normalizer's ByteLevel, which @huggingface\/tokenizers \(transformers\.js\) fails to load, [^\n]*: not exported$/,
    );
    expect(existsSync(`${hf}-tjs`)).toBe(false);
  });
});

describe('added tokens of normalized true under an Nmt or a ByteLevel normalizer, which @huggingface/tokenizers does not know', () => {
  it("are found in a text by their content as the normalizer gives it (' é' under a ByteLevel as ĠÃ©), as tokenizers finds them", () => {
    const added = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: true, special: false });
    const texts = ['a é b', 'x é', 'a b\u200bx', 'ab\u200bx'];
    for (const [normalizer, expected] of [
      // (what tokenizers 0.23.2 gives)
      [
        { type: 'ByteLevel' },
        [
          [1, 5, 0],
          [4, 5],
          [0, 6],
          [1, 6],
        ],
      ],
      [
        { type: 'Nmt' },
        [
          [1, 5, 3],
          [4, 5],
          [1, 6],
          [1, 6],
        ],
      ],
      [
        { type: 'Sequence', normalizers: [{ type: 'NFC' }, { type: 'Nmt' }] },
        [
          [1, 5, 3],
          [4, 5],
          [1, 6],
          [1, 6],
        ],
      ],
    ] as const) {
      const json = {
        version: '1.0',
        truncation: null,
        padding: null,
        added_tokens: [added(5, ' é'), added(6, 'b\u200bx')],
        normalizer,
        pre_tokenizer: { type: 'WhitespaceSplit' },
        post_processor: null,
        decoder: null,
        model: { type: 'WordLevel', vocab: { '[UNK]': 0, a: 1, Ġa: 2, b: 3, x: 4 }, unk_token: '[UNK]' },
      };
      const t = tokenizerFromJson(json, {}, 'tokenizer.json');
      expect([normalizer, texts.map((text) => t.encode(text, null, 16).ids)]).toEqual([normalizer, expected]);
    }
  });
});

describe('added tokens of normalized true under a normalizer @huggingface/tokenizers normalizes otherwise (a Lowercase, a BertNormalizer)', () => {
  it("are found in a text by their content as tokenizers' normalizer gives it ('ΟΣ' as 'οσ', where the library's toLowerCase gives 'ος'), and a model piece of the library's text is the model's", () => {
    const texts = ['a ΟΣ b', 'a ος b', 'a οσ b', 'ΟΣ'];
    // (what tokenizers 0.23.2 gives, for each normalizer)
    const expected = [[1, 5, 3], [1, 2, 3], [1, 5, 3], [5]];
    for (const normalizer of [
      { type: 'Lowercase' },
      { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
      { type: 'Sequence', normalizers: [{ type: 'NFC' }, { type: 'Lowercase' }] },
    ]) {
      const json = {
        version: '1.0',
        truncation: null,
        padding: null,
        added_tokens: [{ id: 5, content: 'ΟΣ', single_word: false, lstrip: false, rstrip: false, normalized: true, special: false }],
        normalizer,
        pre_tokenizer: { type: 'WhitespaceSplit' },
        post_processor: null,
        decoder: null,
        model: { type: 'WordLevel', vocab: { '[UNK]': 0, a: 1, ος: 2, b: 3, οσ: 4 }, unk_token: '[UNK]' },
      };
      const t = tokenizerFromJson(json, {}, 'tokenizer.json');
      expect([normalizer, texts.map((text) => t.encode(text, null, 16).ids)]).toEqual([normalizer, expected]);
    }
  });
});

describe('--format transformers.js of a tokenizer whose added token of normalized true a Lowercase or BertNormalizer lower-cases otherwise than @huggingface/tokenizers', () => {
  it("gives in transformers.js eval's ids ('ΟΣ' found as 'οσ', a model piece 'ος' the model's), since the Σ Replace written before the lower-casing normalizer normalizes the token's content too; nothing is warned", async () => {
    const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a', 'ος', 'b', 'οσ'];
    const texts = ['a ΟΣ b', 'a ος b', 'a οσ b', 'ΟΣΟΣ'];
    for (const normalizer of [
      { type: 'Lowercase' },
      { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    ]) {
      const json = tokenizerJson(vocab, { normalizer, pre_tokenizer: { type: 'BertPreTokenizer' } });
      (json.added_tokens as object[]).push({ id: 9, content: 'ΟΣ', single_word: false, lstrip: false, rstrip: false, normalized: true, special: false });
      const hf = tokenizerFolder(root, `added-sigma-${normalizer.type}`, json);
      const { theirs, ours } = await idsOfExport(hf);
      // (what eval gives, as tokenizers 0.23.2 does: the token by 'οσ', the model's 'ος')
      expect([normalizer.type, texts.map(ours)]).toEqual([
        normalizer.type,
        [
          [2, 5, 9, 7, 3],
          [2, 5, 6, 7, 3],
          [2, 5, 9, 7, 3],
          [2, 9, 9, 3],
        ],
      ]);
      expect([normalizer.type, texts.map(theirs)]).toEqual([normalizer.type, texts.map(ours)]);
      const { notes } = await exportToTransformersJs(hf, `${hf}-again`);
      expect(notes).toEqual([]);
    }
  }, 30_000);
});
