/**
 * A folder whose tokenizer is only a SentencePiece model (XLM-R's sentencepiece.bpe.model, ALBERT's and CamemBERT's
 * spiece.model) is read as the tokenizer.json transformers' converter writes for it (convert_slow_tokenizer.py at
 * commit 00111b31: SpmConverter, AlbertConverter, XLMRobertaConverter, CamembertConverter). The models are written by
 * hand here (test/helpers/sentencepiece-model.ts), and the expected ids worked out from the Unigram rule: the split of
 * the pre-tokenized text (`▁` for each space, one prepended) whose pieces' scores sum highest (Viterbi), a character no
 * piece starts with as the unknown id. A model of another family stays refused, saying how to write a tokenizer.json.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError } from '../../src/errors.ts';
import { Tokenizer } from '@huggingface/tokenizers';
import { checkVocabularyRows, folderTokenizerJson, loadTokenizer, readConfig, sentencePieceFolderTokenizerJson } from '../../src/eval/tokenizer.ts';
import { readSentencePieceModel, sentencePieceTokenizerJson } from '../../src/eval/sentencepiece-vocab.ts';
import { charsmapMapsNothing } from '../../src/eval/precompiled-charsmap.ts';
import { compressFile } from '../../src/export/compress.ts';
import { compressToTransformersJs, transformersJsTokenizerConfig } from '../../src/export/transformers-js.ts';
import { saveModel } from '../../src/onnx/index.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { loadWordVocab } from '../../src/train/augment-words.ts';
import { tinyBert } from '../helpers/models.ts';
import { ALBERT_SPECIAL_PIECES, charsmapOf, identityCharsmap, sentencePieceModelBytes, type TestPiece } from '../helpers/sentencepiece-model.ts';

registerAllPasses();

/** The parts of a converted tokenizer.json the ALBERT test reads. */
interface ConvertedJson {
  normalizer: { normalizers: Array<{ type: string }> };
  model: { unk_id: number; vocab: Array<[string, number]> };
  post_processor: { pair: object[]; special_tokens: object };
  added_tokens: Array<{ id: number; content: string }>;
}
const root = mkdtempSync(join(tmpdir(), 'bc-spm-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A folder holding `model` (a SentencePiece model's name) with `bytes`, config.json and tokenizer_config.json as given. */
function sentencePieceFolder(name: string, model: string, bytes: Buffer, config: object, tokenizerConfig?: object): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, model), bytes);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  if (tokenizerConfig) writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig));
  return dir;
}

/** A folder of a tokenizer.json of a Precompiled normalizer of `charsmap` (its bytes) alone and a Unigram of `vocab` (<unk> first). */
function precompiledFolder(name: string, charsmap: Buffer, vocab: readonly string[]): string {
  const dir = join(root, name);
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'tokenizer.json'),
    JSON.stringify({
      version: '1.0',
      added_tokens: [],
      normalizer: { type: 'Precompiled', precompiled_charsmap: charsmap.toString('base64') },
      pre_tokenizer: null,
      post_processor: null,
      decoder: null,
      model: { type: 'Unigram', unk_id: 0, vocab: vocab.map((p, i) => [p, i === 0 ? 0 : -1]) },
    }),
  );
  return dir;
}

/**
 * The folder `dir` with a one-layer tiny BERT of 12 ids, written by --format transformers.js to `dir`-out: the export,
 * what was said, and its tokenizer as transformers.js' AutoTokenizer loads it.
 */
async function exportToTransformersJs(dir: string) {
  saveModel(tinyBert({ vocabSize: 12, numLayers: 1 }), join(dir, 'model.onnx'));
  const out = `${dir}-out`;
  const { notes } = await compressToTransformersJs({ input: join(dir, 'model.onnx'), output: out, steps: [] });
  const { AutoTokenizer, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  return { out, notes, theirs: await AutoTokenizer.from_pretrained(out) };
}

/**
 * An XLM-R-style model (fairseq's order: <unk> 0, <s> 1, </s> 2): the converter's vocabulary is <s> <pad> </s> <unk>,
 * then pieces 3… (each id + 1), then <mask>: ▁ 4, ▁a 5, b 6, ▁ab 7, a 8, ▁b 9, <tag> 10 (user-defined), <mask> 11.
 */
const XLMR_PIECES: TestPiece[] = [
  { piece: '<unk>', score: 0, type: 2 },
  { piece: '<s>', score: 0, type: 3 },
  { piece: '</s>', score: 0, type: 3 },
  { piece: '▁', score: -2 },
  { piece: '▁a', score: -1 },
  { piece: 'b', score: -3 },
  { piece: '▁ab', score: -2.5 },
  { piece: 'a', score: -4 },
  { piece: '▁b', score: -1.5 },
  { piece: '<tag>', score: 0, type: 4 },
];

/**
 * An ALBERT-style model (its own ids): <pad> 0, <unk> 1, [CLS] 2, [SEP] 3, [MASK] 4, ▁ 5, ▁hello 6, ▁world 7, ▁1, 8
 * (a number and a comma: AlbertConverter lowers its score by 100), ▁1 9, ",", 10.
 */
const ALBERT_PIECES: TestPiece[] = [
  ...ALBERT_SPECIAL_PIECES,
  { piece: '▁', score: -2 },
  { piece: '▁hello', score: -1 },
  { piece: '▁world', score: -1.5 },
  { piece: '▁1,', score: -1 },
  { piece: '▁1', score: -3 },
  { piece: ',', score: -2 },
];

describe('an XLM-R SentencePiece-only folder', () => {
  const dir = sentencePieceFolder('xlmr', 'sentencepiece.bpe.model', sentencePieceModelBytes(XLMR_PIECES), { model_type: 'xlm-roberta' });
  const file = join(dir, 'sentencepiece.bpe.model');

  it('is the tokenizer.json XLMRobertaConverter writes, key by key', () => {
    const json = sentencePieceTokenizerJson(readSentencePieceModel(file), file, 'xlm-roberta', { doLowerCase: true, keepAccents: false });
    const metaspace = { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true };
    const added = (id: number, content: string, special: boolean) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special,
    });
    expect(json).toEqual({
      version: '1.0',
      truncation: null,
      padding: null,
      // SpmConverter.tokenizer: pieces of type 3 (special) and 4, by id, as AddedToken(normalized=False)
      added_tokens: [added(0, '<s>', true), added(2, '</s>', true), added(10, '<tag>', false)],
      // SpmConverter.normalizer without a precompiled charsmap: Strip(right) then Replace(' {2,}', '▁')
      normalizer: {
        type: 'Sequence',
        normalizers: [
          { type: 'Strip', strip_left: false, strip_right: true },
          { type: 'Replace', pattern: { Regex: ' {2,}' }, content: '▁' },
        ],
      },
      // SpmConverter.pre_tokenizer / decoder: add_prefix_space True, no `legacy` → prepend_scheme 'always'
      pre_tokenizer: metaspace,
      // XLMRobertaConverter.post_processor: "<s> $A </s>", "<s> $A </s> </s> $B </s>" (type ids 0)
      post_processor: {
        type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
        pair: [
          { SpecialToken: { id: '<s>', type_id: 0 } },
          { Sequence: { id: 'A', type_id: 0 } },
          { SpecialToken: { id: '</s>', type_id: 0 } },
          { SpecialToken: { id: '</s>', type_id: 0 } },
          { Sequence: { id: 'B', type_id: 0 } },
          { SpecialToken: { id: '</s>', type_id: 0 } },
        ],
        special_tokens: { '<s>': { id: '<s>', ids: [0], tokens: ['<s>'] }, '</s>': { id: '</s>', ids: [2], tokens: ['</s>'] } },
      },
      decoder: metaspace,
      // XLMRobertaConverter.vocab / unk_id
      model: {
        type: 'Unigram',
        unk_id: 3,
        vocab: [
          ['<s>', 0],
          ['<pad>', 0],
          ['</s>', 0],
          ['<unk>', 0],
          ['▁', -2],
          ['▁a', -1],
          ['b', -3],
          ['▁ab', -2.5],
          ['a', -4],
          ['▁b', -1.5],
          ['<tag>', 0],
          ['<mask>', 0],
        ],
        byte_fallback: false,
      },
    });
  });

  it("adds XLMRobertaTokenizer's special tokens a fast tokenizer adds on loading (the model's ids)", () => {
    const json = sentencePieceFolderTokenizerJson(dir, {}).json as { added_tokens: Array<{ id: number; content: string; special: boolean }> };
    expect(json.added_tokens.map((t) => [t.id, t.content, t.special])).toEqual([
      [0, '<s>', true],
      [1, '<pad>', true],
      [2, '</s>', true],
      [3, '<unk>', true],
      [10, '<tag>', false],
      [11, '<mask>', true],
    ]);
  });

  it('encodes by the Unigram rule with the <s> A </s></s> B </s> template', () => {
    const t = loadTokenizer(dir);
    expect(t.padId).toBe(1);
    expect(t.unk).toEqual({ token: '<unk>', id: 3 });
    // '▁ab': ▁ab (−2.5) beats ▁a b (−1 −3 = −4) and ▁ a b (−9)
    expect(t.encode('ab', null, 20)).toEqual({ ids: [0, 7, 2], typeIds: [0, 0, 0] });
    // '▁ab▁b': ▁ab ▁b; 'c' is no piece's start: the unknown id
    expect(t.encode('ab b', null, 20).ids).toEqual([0, 7, 9, 2]);
    expect(t.encode('abc', null, 20).ids).toEqual([0, 7, 3, 2]);
    // runs of spaces are one ▁, trailing ones stripped, a leading run is the prepended ▁
    expect(t.encode('  ab   b  ', null, 20).ids).toEqual([0, 7, 9, 2]);
    expect(t.encode('ab', 'b', 20)).toEqual({ ids: [0, 7, 2, 2, 9, 2], typeIds: [0, 0, 0, 0, 0, 0] });
    // the user-defined piece is split out whole; each section around it gets its ▁ (prepend_scheme 'always')
    expect(t.encode('a<tag>b', null, 20).ids).toEqual([0, 5, 10, 9, 2]);
  });

  it("carries the model's precompiled charsmap as a Precompiled normalizer first, which normalizes by its charsmap, as tokenizers does (where NFKC was applied)", () => {
    const charsmap = identityCharsmap();
    const withMap = sentencePieceFolder('xlmr-charsmap', 'sentencepiece.bpe.model', sentencePieceModelBytes(XLMR_PIECES, { charsmap }), {
      model_type: 'xlm-roberta',
    });
    const json = sentencePieceFolderTokenizerJson(withMap, {}).json as { normalizer: { normalizers: object[] } };
    expect(json.normalizer.normalizers).toEqual([
      { type: 'Precompiled', precompiled_charsmap: Buffer.from(charsmap).toString('base64') },
      { type: 'Strip', strip_left: false, strip_right: true },
      { type: 'Replace', pattern: { Regex: ' {2,}' }, content: '▁' },
    ]);
    // (tokenizers 0.23.2's node binding: a charsmap that maps nothing keeps 'ａｂ' and a tab, where NFKC and
    // @huggingface/tokenizers' rules gave ▁ab and a space)
    expect(loadTokenizer(withMap).encode('\uFF41\uFF42', null, 20).ids).toEqual([0, 4, 3, 2]);
    expect(loadTokenizer(withMap).encode('a\tb', null, 20).ids).toEqual([0, 5, 3, 6, 2]);
    // (one mapping the full-width letters: ▁ab, and ▁a ▁b)
    const fullWidth = sentencePieceFolder(
      'xlmr-charsmap-full-width',
      'sentencepiece.bpe.model',
      sentencePieceModelBytes(XLMR_PIECES, { charsmap: charsmapOf({ '\uFF41': 'a', '\uFF42': 'b' }) }),
      { model_type: 'xlm-roberta' },
    );
    expect(loadTokenizer(fullWidth).encode('\uFF41\uFF42', null, 20).ids).toEqual([0, 7, 2]);
    expect(loadTokenizer(fullWidth).encode('\uFF41 b', null, 20).ids).toEqual([0, 5, 9, 2]);
  });

  // (tokenizers 0.23.2's node binding, each: graphemes of fewer than 6 bytes looked up whole, the first key that starts
  // one taking it all ('e' + two acutes: é), longer ones character by character; a key's text may be empty)
  // (tokenizers 0.23.2's node binding: 'c' reads, 'a' and 'ﬁ' panic in spm_precompiled, index out of bounds)
  it("refuses a text whose walk of a Precompiled's trie passes the trie's end, in one line naming the file and the text; reads the others", () => {
    const full = Buffer.from(charsmapOf({ '\uFB01': 'fi', a: 'b' }));
    // (the root and its children's block alone: the blocks of the keys' next bytes cut off)
    const cut = Buffer.alloc(4 + 512 * 4);
    cut.writeUInt32LE(512 * 4, 0);
    full.copy(cut, 4, 4, 4 + 512 * 4);
    const dir = join(root, 'precompiled-cut');
    mkdirSync(dir);
    const file = join(dir, 'tokenizer.json');
    writeFileSync(
      file,
      JSON.stringify({
        version: '1.0',
        added_tokens: [],
        normalizer: { type: 'Precompiled', precompiled_charsmap: cut.toString('base64') },
        pre_tokenizer: null,
        post_processor: null,
        decoder: null,
        model: {
          type: 'Unigram',
          unk_id: 0,
          vocab: [
            ['<unk>', 0],
            ['a', -1],
            ['b', -1],
          ],
        },
      }),
    );
    const t = loadTokenizer(dir);
    expect(t.encode('c', null, 16).ids).toEqual([0]);
    expect(() => t.encode('x\uFB01', null, 16)).toThrow(
      `${file}: its Precompiled normalizer's precompiled_charsmap has a trie of 512 units, which ends before the unit '\uFB01' reads, and 'x\uFB01' holds '\uFB01': tokenizers fails on such a text (an index out of bounds in its trie)`,
    );
    expect(() => t.encode('ca', null, 16)).toThrow(/ends before the unit 'a' reads, and 'ca' holds 'a'/);
  });

  // (tokenizers 0.23.2's node binding: 'e' and 'ae' read as E and aE; 'e' + U+0301 panics in spm_precompiled, index
  // out of bounds, though its first key 'e' is found before the walk passes the trie's end)
  it("refuses a grapheme whose walk of a Precompiled's trie passes the trie's end after a key that starts it, as tokenizers walks on through every byte", () => {
    const full = Buffer.from(charsmapOf({ e: 'E', 'e\u0301': '\u00E9' }));
    // (the blocks of the root, 'e' and U+0301's first byte kept, of 1280 units, and the normalized texts: the walk of
    // U+0301's second byte passes the end)
    const cut = Buffer.concat([Buffer.alloc(4), full.subarray(4, 4 + 768 * 4), full.subarray(4 + 1280 * 4)]);
    cut.writeUInt32LE(768 * 4, 0);
    const dir = precompiledFolder('precompiled-cut-after-key', cut, ['<unk>', 'a', 'E']);
    const t = loadTokenizer(dir);
    expect(t.encode('e', null, 16).ids).toEqual([2]);
    expect(t.encode('ae', null, 16).ids).toEqual([1, 2]);
    expect(() => t.encode('ae\u0301', null, 16)).toThrow(
      `${join(dir, 'tokenizer.json')}: its Precompiled normalizer's precompiled_charsmap has a trie of 768 units, which ends before the unit 'e\u0301' reads, and 'ae\u0301' holds 'e\u0301': tokenizers fails on such a text (an index out of bounds in its trie)`,
    );
  });

  // (tokenizers 0.23.2's node binding: 'y' reads as z; 'axb' panics in spm_precompiled where x's text starts at byte 1
  // ('start byte index 1 is not a char boundary') or 9 ('out of bounds for string of length 5'), and reads as ab at 5)
  it("refuses a text holding a key whose text starts inside a character of a Precompiled's normalized texts or past their end, in one line naming the file and the text", () => {
    // (normalized texts 'é' and 'z', 5 bytes with their NULs; x's value at the start of its block, units[512], as
    // charsmapOf lays the trie out)
    const withValue = (value: number) => {
      const bytes = Buffer.from(charsmapOf({ x: '\u00E9', y: 'z' }));
      bytes.writeUInt32LE(value, 4 + 512 * 4);
      return bytes;
    };
    const file = (name: string) => join(root, name, 'tokenizer.json');
    const vocab = ['<unk>', 'a', 'b', 'z'];
    const inside = loadTokenizer(precompiledFolder('precompiled-value-inside', withValue(1), vocab));
    expect(inside.encode('y', null, 16).ids).toEqual([3]);
    expect(() => inside.encode('axb', null, 16)).toThrow(
      `${file('precompiled-value-inside')}: its Precompiled normalizer's precompiled_charsmap maps 'x' to byte 1 of its normalized texts, inside a character, and 'axb' holds 'x': tokenizers fails on such a text (a byte index inside a character in its normalized texts)`,
    );
    const past = loadTokenizer(precompiledFolder('precompiled-value-past', withValue(9), vocab));
    expect(() => past.encode('axb', null, 16)).toThrow(
      `${file('precompiled-value-past')}: its Precompiled normalizer's precompiled_charsmap maps 'x' to byte 9 of its normalized texts, past their 5 bytes, and 'axb' holds 'x': tokenizers fails on such a text (a byte index out of bounds in its normalized texts)`,
    );
    // (at their end: an empty text, as tokenizers reads it)
    expect(loadTokenizer(precompiledFolder('precompiled-value-end', withValue(5), vocab)).encode('axb', null, 16).ids).toEqual([1, 2]);
  });

  it("normalizes a tokenizer.json's Precompiled grapheme by grapheme, as tokenizers does", () => {
    const vocab = ['<unk>', 'fi', '\uFB01', 'a', '\t', ' ', '\u2460', '1', '\u00E9', 'e', '\u0301', 'x', 'y', '\u{1F44D}'];
    const charsmap = charsmapOf({ '\uFB01': 'fi', '\u2460': '1', 'e\u0301': '\u00E9', '\t': ' ', X: 'x', Xy: 'y', '\u{1F3FD}': '', '\r': 'x' });
    const dir = join(root, 'precompiled-graphemes');
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'tokenizer.json'),
      JSON.stringify({
        version: '1.0',
        added_tokens: [{ id: 0, content: '<unk>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
        normalizer: { type: 'Precompiled', precompiled_charsmap: Buffer.from(charsmap).toString('base64') },
        pre_tokenizer: null,
        post_processor: null,
        decoder: null,
        model: { type: 'Unigram', unk_id: 0, vocab: vocab.map((p) => [p, [...p].length > 1 ? -1 : -2]) },
      }),
    );
    const t = loadTokenizer(dir);
    const ids = (text: string) => t.encode(text, null, 64).ids;
    expect(ids('\uFB01a\t\u2460\uFF5E')).toEqual([1, 3, 5, 7, 0]);
    expect(ids('e\u0301ae\u0301\u0301X')).toEqual([8, 3, 8, 11]);
    expect(ids('Xya\u{1F44D}\u{1F3FD}')).toEqual([11, 12, 3, 13]);
    expect(ids('e\u0301\u0301\u0301')).toEqual([9, 10, 10, 10]);
    // (CR LF one grapheme, which the key CR starts: x alone, in an ASCII text and in another)
    expect(ids('a\r\na\rb')).toEqual([3, 11, 3, 11, 0]);
    expect(ids('a\u0301\r\na')).toEqual([3, 10, 11, 3]);
  });

  it("whose precompiled charsmap tokenizers cannot parse, or reads and then fails on, is refused in one line, where it was read (transformers' converter fails on it)", () => {
    const refused = (name: string, charsmap: number[]) => () =>
      loadTokenizer(sentencePieceFolder(name, 'sentencepiece.bpe.model', sentencePieceModelBytes(XLMR_PIECES, { charsmap }), { model_type: 'xlm-roberta' }));
    // (a trie size of 0xFA030201 bytes, where 0 follow it)
    expect(refused('charsmap-short', [1, 2, 3, 250])).toThrow(
      new DataError(
        `${join(root, 'charsmap-short', 'sentencepiece.bpe.model')}: its normalizer_spec's precompiled_charsmap: its trie's size is 4194501121 bytes, but 0 follow it (tokenizers refuses it: Cannot parse precompiled_charsmap)`,
      ),
    );
    expect(refused('charsmap-empty-trie', [0, 0, 0, 0, 0x61])).toThrow(
      "sentencepiece.bpe.model: its normalizer_spec's precompiled_charsmap: its trie holds no unit (tokenizers reads it, then fails on every text)",
    );
    expect(refused('charsmap-identity', identityCharsmap())).not.toThrow();
  });

  it('is read when the SentencePiece model itself is given, and its vocabulary checked against the model', () => {
    expect(loadTokenizer(file).encode('ab', null, 20).ids).toEqual([0, 7, 2]);
    expect(() => checkVocabularyRows(dir, 11, 'the folder', 'model.onnx')).toThrow('its vocabulary has token ids up to 11, but model.onnx has 11 rows');
    expect(() => checkVocabularyRows(dir, 12, 'the folder', 'model.onnx')).not.toThrow();
  });

  it("warns in one line, where --format transformers.js writes a Precompiled normalizer, that transformers.js applies NFKC whatever its charsmap says (as it does: 'ａｂ' as ▁ab, where eval keeps it under a charsmap that maps only 'ﬁ')", async () => {
    const dir = sentencePieceFolder(
      'tjs-charsmap',
      'sentencepiece.bpe.model',
      sentencePieceModelBytes(XLMR_PIECES, { charsmap: charsmapOf({ '\uFB01': 'fi' }) }),
      { model_type: 'xlm-roberta' },
    );
    const { notes, theirs } = await exportToTransformersJs(dir);
    expect(notes.filter((n) => n.includes('Precompiled'))).toEqual([
      `warning: ${dir}-out: its tokenizer's Precompiled normalizer normalizes by its charsmap in transformers and compress eval, where transformers.js applies NFKC (and its own rules for spaces and control characters) whatever the charsmap says: a text the two normalize otherwise (a tab, 'ﬁ' or '①' under a charsmap that maps none of them; a few characters under sentencepiece's nmt_nfkc, which NFKC mostly follows) can get other ids in transformers.js`,
    ]);
    expect([...theirs('\uFF41\uFF42').input_ids.data].map(Number)).toEqual([0, 7, 2]);
    expect(loadTokenizer(dir).encode('\uFF41\uFF42', null, 20).ids).toEqual([0, 4, 3, 2]);
    // (a folder without a charsmap: no such warning)
    const plain = sentencePieceFolder('tjs-no-charsmap', 'sentencepiece.bpe.model', sentencePieceModelBytes(XLMR_PIECES), { model_type: 'xlm-roberta' });
    expect((await exportToTransformersJs(plain)).notes.filter((n) => n.includes('Precompiled'))).toEqual([]);
  }, 30_000);

  // (transformers.js applied NFKC for it: 'ａｂ' as ▁ab, a tab as a space, where eval and tokenizers keep them)
  it('writes a Precompiled whose charsmap maps nothing as no normalizer for --format transformers.js, which then gives the ids eval gives, unwarned', async () => {
    const dir = sentencePieceFolder('tjs-identity', 'sentencepiece.bpe.model', sentencePieceModelBytes(XLMR_PIECES, { charsmap: identityCharsmap() }), {
      model_type: 'xlm-roberta',
    });
    const { out, notes, theirs } = await exportToTransformersJs(dir);
    expect(notes.filter((n) => n.includes('Precompiled'))).toEqual([]);
    expect(JSON.stringify(JSON.parse(readFileSync(join(out, 'tokenizer.json'), 'utf8')).normalizer)).not.toContain('Precompiled');
    for (const text of ['\uFF41\uFF42', 'a\tb', '\uFB01 ab', 'ab']) {
      expect([...theirs(text).input_ids.data].map(Number)).toEqual(loadTokenizer(dir).encode(text, null, 20).ids);
      expect(loadTokenizer(out).encode(text, null, 20).ids).toEqual(loadTokenizer(dir).encode(text, null, 20).ids);
    }
    expect(loadTokenizer(dir).encode('\uFF41\uFF42', null, 20).ids).toEqual([0, 4, 3, 2]);
    expect(charsmapMapsNothing(Buffer.from(identityCharsmap()).toString('base64'))).toBe(true);
    expect(charsmapMapsNothing(Buffer.from(charsmapOf({ '\uFB01': 'fi' })).toString('base64'))).toBe(false);
  }, 30_000);

  it('is written as tokenizer.json by --format transformers.js', async () => {
    const out = sentencePieceFolder('tjs', 'sentencepiece.bpe.model', sentencePieceModelBytes(XLMR_PIECES), { model_type: 'xlm-roberta' });
    saveModel(tinyBert({ vocabSize: 12, numLayers: 1 }), join(out, 'model.onnx'));
    await compressToTransformersJs({ input: join(out, 'model.onnx'), output: join(root, 'tjs-out'), steps: [] });
    const written = JSON.parse(readFileSync(join(root, 'tjs-out', 'tokenizer.json'), 'utf8'));
    expect(written.model.type).toBe('Unigram');
    expect(written.model.vocab).toHaveLength(12);
    expect(existsSync(join(root, 'tjs-out', 'tokenizer_config.json'))).toBe(true);
  });
});

describe("a SentencePiece-only folder whose config.json names the tokenizer's class", () => {
  it("is read as that class, as AutoTokenizer takes config.json's tokenizer_class before its model_type (Multilingual-MiniLM: a BERT with XLM-R's tokenizer), where it was refused", () => {
    const dir = sentencePieceFolder('minilm', 'sentencepiece.bpe.model', sentencePieceModelBytes(XLMR_PIECES), {
      model_type: 'bert',
      tokenizer_class: 'XLMRobertaTokenizer',
    });
    expect(loadTokenizer(dir).encode('ab', 'b', 20)).toEqual({ ids: [0, 7, 2, 2, 9, 2], typeIds: [0, 0, 0, 0, 0, 0] });
    // (tokenizer_config.json's class comes first)
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: 'T5Tokenizer' }));
    expect(() => loadTokenizer(dir)).toThrow(/a SentencePiece model of neither an ALBERT, XLM-R nor CamemBERT tokenizer/);
  });

  it("is written by --format transformers.js naming that class in tokenizer_config.json, as transformers.js loads it (eval's ids), where its model type's BertTokenizer was named", async () => {
    const dir = sentencePieceFolder('minilm-tjs', 'sentencepiece.bpe.model', sentencePieceModelBytes(XLMR_PIECES), {
      model_type: 'bert',
      tokenizer_class: 'XLMRobertaTokenizer',
    });
    const { out, theirs } = await exportToTransformersJs(dir);
    expect(JSON.parse(readFileSync(join(out, 'tokenizer_config.json'), 'utf8')).tokenizer_class).toBe('XLMRobertaTokenizer');
    expect(theirs.constructor.name).toBe('XLMRobertaTokenizer');
    const encoded = theirs('ab', { text_pair: 'b' });
    expect(Array.from(encoded.input_ids.data as BigInt64Array, Number)).toEqual(loadTokenizer(dir).encode('ab', 'b', 20).ids);
    // (XLMRobertaTokenizer's model_input_names: no token types, as in transformers; transformers.js feeds the model 0s)
    expect(encoded.token_type_ids).toBeUndefined();
  });

  it("with its tokenizer.json (as save_pretrained writes it) is written by --format transformers.js naming config.json's tokenizer_class too, as transformers' AutoTokenizer reads the folder, where its model type's BertTokenizer was named", async () => {
    const dir = sentencePieceFolder('minilm-json-tjs', 'sentencepiece.bpe.model', sentencePieceModelBytes(XLMR_PIECES), {
      model_type: 'bert',
      tokenizer_class: 'XLMRobertaTokenizer',
    });
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(folderTokenizerJson(dir)!.json));
    const { out, theirs } = await exportToTransformersJs(dir);
    expect(JSON.parse(readFileSync(join(out, 'tokenizer_config.json'), 'utf8')).tokenizer_class).toBe('XLMRobertaTokenizer');
    expect(theirs.constructor.name).toBe('XLMRobertaTokenizer');
    expect(Array.from(theirs('ab', { text_pair: 'b' }).input_ids.data as BigInt64Array, Number)).toEqual(loadTokenizer(dir).encode('ab', 'b', 20).ids);
  });

  it("names its model type's class where config.json's tokenizer_class is of no family the project reads (BertJapaneseTokenizer), which transformers.js reads as its base class, returning no token types, where that class was named", async () => {
    const dir = join(root, 'japanese-tjs');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'vocab.txt'), `${['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a', 'b'].join('\n')}\n`);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'bert', tokenizer_class: 'BertJapaneseTokenizer' }));
    const { out, theirs } = await exportToTransformersJs(dir);
    expect(JSON.parse(readFileSync(join(out, 'tokenizer_config.json'), 'utf8')).tokenizer_class).toBe('BertTokenizer');
    const encoded = theirs('a', { text_pair: 'b' });
    expect(encoded.token_type_ids && Array.from(encoded.token_type_ids.data as BigInt64Array, Number)).toEqual(loadTokenizer(dir).encode('a', 'b', 20).typeIds);
  });
});

describe("a SentencePiece-only folder of a model type whose tokenizer is ALBERT's or XLM-R's", () => {
  it("is read as transformers' tokenizer mapping reads it (yoso and nystromformer: AlbertTokenizer; xlm-roberta-xl and xmod: XLMRobertaTokenizer), where only albert, xlm-roberta and camembert were", () => {
    for (const modelType of ['yoso', 'nystromformer']) {
      const dir = sentencePieceFolder(`type-${modelType}`, 'spiece.model', sentencePieceModelBytes(ALBERT_PIECES, { unkId: 1 }), { model_type: modelType });
      expect(loadTokenizer(dir).encode('hello', 'world', 20)).toEqual({ ids: [2, 6, 3, 7, 3], typeIds: [0, 0, 0, 1, 1] });
    }
    for (const modelType of ['xlm-roberta-xl', 'xmod']) {
      const dir = sentencePieceFolder(`type-${modelType}`, 'sentencepiece.bpe.model', sentencePieceModelBytes(XLMR_PIECES), { model_type: modelType });
      expect(loadTokenizer(dir).encode('ab', 'b', 20).ids).toEqual([0, 7, 2, 2, 9, 2]);
    }
    // (a name that is no model type, an Object property's too, stays refused)
    for (const modelType of ['bert', 'constructor', 'toString']) {
      const dir = sentencePieceFolder(`type-${modelType}`, 'sentencepiece.bpe.model', sentencePieceModelBytes(XLMR_PIECES), { model_type: modelType });
      expect(() => loadTokenizer(dir)).toThrow(/a SentencePiece model of neither an ALBERT, XLM-R nor CamemBERT tokenizer/);
    }
  });
});

describe('a SentencePiece model trained with byte_fallback', () => {
  it('is read without it, as SpmConverter converts it for these families (handle_byte_fallback False): a character no piece spells is the unknown id, the byte pieces plain pieces', () => {
    const bytePieces = Array.from({ length: 256 }, (_, b): TestPiece => ({ piece: `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`, score: 0, type: 6 }));
    const dir = sentencePieceFolder(
      'byte-fallback',
      'sentencepiece.bpe.model',
      sentencePieceModelBytes([...XLMR_PIECES, ...bytePieces], { byteFallback: true }),
      {
        model_type: 'xlm-roberta',
      },
    );
    const json = sentencePieceFolderTokenizerJson(dir, {}).json as { model: { byte_fallback: boolean; vocab: [string, number][] } };
    expect(json.model.byte_fallback).toBe(false);
    expect(json.model.vocab[11]).toEqual(['<0x00>', 0]);
    // 'é' (0xC3 0xA9 in UTF-8) is the unknown id 3, not <0xC3> <0xA9>
    expect(loadTokenizer(dir).encode('abé', null, 20).ids).toEqual([0, 7, 3, 2]);
  });
});

describe('a SentencePiece model whose normalizer_spec turns off the dummy prefix and the whitespace clean-up', () => {
  it("reads as SpmConverter converts it, which ignores both (its Metaspace prepends ▁ always; Strip and Replace(' {2,}') collapse spaces)", () => {
    const dir = sentencePieceFolder(
      'no-dummy-prefix',
      'sentencepiece.bpe.model',
      sentencePieceModelBytes(XLMR_PIECES, { addDummyPrefix: false, removeExtraWhitespaces: false }),
      { model_type: 'xlm-roberta' },
    );
    // (SentencePiece itself would give 'ab' no ▁ and keep each space)
    expect(loadTokenizer(dir).encode('ab', null, 20).ids).toEqual([0, 7, 2]);
    expect(loadTokenizer(dir).encode('  ab   b  ', null, 20).ids).toEqual([0, 7, 9, 2]);
  });
});

describe('a compressed model of a SentencePiece-only folder', () => {
  it("carries the SentencePiece model beside it, so that its folder tokenizes as the input's", async () => {
    const dir = sentencePieceFolder('carried', 'sentencepiece.bpe.model', sentencePieceModelBytes(XLMR_PIECES), {}, { tokenizer_class: 'XLMRobertaTokenizer' });
    saveModel(tinyBert({ vocabSize: 12, numLayers: 1 }), join(dir, 'model.onnx'));
    const output = join(root, 'carried-out', 'model.onnx');
    await compressFile({ input: join(dir, 'model.onnx'), output, steps: [{ pass: 'quantize', settings: { mode: 'float16' } }] });
    expect(readFileSync(join(root, 'carried-out', 'sentencepiece.bpe.model'))).toEqual(readFileSync(join(dir, 'sentencepiece.bpe.model')));
    expect(loadTokenizer(join(root, 'carried-out')).encode('ab', 'b', 20).ids).toEqual([0, 7, 2, 2, 9, 2]);
  });
});

describe('an ALBERT SentencePiece-only folder', () => {
  const bytes = sentencePieceModelBytes(ALBERT_PIECES, { unkId: 1 });

  it('is the normalizer, vocabulary and template AlbertConverter writes', () => {
    const dir = sentencePieceFolder('albert-json', 'spiece.model', bytes, { model_type: 'albert' });
    const file = join(dir, 'spiece.model');
    const json = sentencePieceTokenizerJson(readSentencePieceModel(file), file, 'albert', {
      doLowerCase: true,
      keepAccents: false,
    }) as unknown as ConvertedJson;
    expect(json.normalizer).toEqual({
      type: 'Sequence',
      normalizers: [
        { type: 'Replace', pattern: { String: '``' }, content: '"' },
        { type: 'Replace', pattern: { String: "''" }, content: '"' },
        { type: 'NFKD' },
        { type: 'StripAccents' },
        { type: 'Lowercase' },
        { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' },
      ],
    });
    // vocab: the model's order and scores, '▁1,' lowered by 100 (check_number_comma); unk_id: trainer_spec.unk_id
    expect(json.model.unk_id).toBe(1);
    expect(json.model.vocab[8]).toEqual(['▁1,', -101]);
    expect(json.model.vocab[10]).toEqual([',', -2]);
    expect(json.post_processor.pair).toEqual([
      { SpecialToken: { id: '[CLS]', type_id: 0 } },
      { Sequence: { id: 'A', type_id: 0 } },
      { SpecialToken: { id: '[SEP]', type_id: 0 } },
      { Sequence: { id: 'B', type_id: 1 } },
      { SpecialToken: { id: '[SEP]', type_id: 1 } },
    ]);
    expect(json.post_processor.special_tokens).toEqual({
      '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] },
      '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] },
    });
    expect(json.added_tokens.map((t) => [t.id, t.content])).toEqual([
      [0, '<pad>'],
      [2, '[CLS]'],
      [3, '[SEP]'],
      [4, '[MASK]'],
    ]);
    const kept = sentencePieceTokenizerJson(readSentencePieceModel(file), file, 'albert', {
      doLowerCase: false,
      keepAccents: true,
    }) as unknown as ConvertedJson;
    expect(kept.normalizer.normalizers.map((n) => n.type)).toEqual(['Replace', 'Replace', 'Replace']);
  });

  it('lower-cases, strips accents and gives [CLS] A [SEP] B [SEP] with token types 0 and 1', () => {
    const dir = sentencePieceFolder('albert', 'spiece.model', bytes, { model_type: 'albert' });
    const t = loadTokenizer(dir);
    expect(t.padId).toBe(0);
    expect(t.unk).toEqual({ token: '<unk>', id: 1 });
    expect(t.encode('Héllo  World', null, 20)).toEqual({ ids: [2, 6, 7, 3], typeIds: [0, 0, 0, 0] });
    expect(t.encode('hello', 'world', 20)).toEqual({ ids: [2, 6, 3, 7, 3], typeIds: [0, 0, 0, 1, 1] });
    // '▁1,': ▁1 , (−3 −2 = −5) beats ▁1, (−1 −100)
    expect(t.encode('1,', null, 20).ids).toEqual([2, 9, 10, 3]);
  });

  it("lowers by 100 a piece ending in a comma after any character Python's str.isdigit takes (check_number_comma), superscripts and circled digits too, where only \\p{Nd} counted", () => {
    // (isdigit: '²' '①' '⑴' '⒈' '❶' '₃' '٣' True; '½' 'Ⅻ' 'a' False)
    const pieces = ['²,', '①,', '⑴,', '⒈,', '❶,', '₃,', '٣,', '½,', 'Ⅻ,', 'a,'].map((piece): TestPiece => ({ piece, score: -1 }));
    const dir = sentencePieceFolder('albert-digits', 'spiece.model', sentencePieceModelBytes([...ALBERT_PIECES, ...pieces], { unkId: 1 }), {
      model_type: 'albert',
    });
    const file = join(dir, 'spiece.model');
    const json = sentencePieceTokenizerJson(readSentencePieceModel(file), file, 'albert', { doLowerCase: true, keepAccents: true }) as unknown as ConvertedJson;
    expect(json.model.vocab.slice(ALBERT_PIECES.length)).toEqual([
      ['²,', -101],
      ['①,', -101],
      ['⑴,', -101],
      ['⒈,', -101],
      ['❶,', -101],
      ['₃,', -101],
      ['٣,', -101],
      ['½,', -1],
      ['Ⅻ,', -1],
      ['a,', -1],
    ]);
  });

  it("strips the space before the mask token, as AlbertTokenizer's AddedToken(mask, lstrip=True) makes it, unless the config's mask token says otherwise", () => {
    const dir = sentencePieceFolder('albert-mask', 'spiece.model', bytes, { model_type: 'albert' });
    // 'hello ' then [MASK]: ▁hello [MASK] ▁world, where without lstrip the space is ▁hello ▁ (5)
    expect(loadTokenizer(dir).encode('hello [MASK] world', null, 20).ids).toEqual([2, 6, 4, 7, 3]);
    const kept = sentencePieceFolder('albert-mask-kept', 'spiece.model', bytes, { model_type: 'albert' }, { mask_token: { content: '[MASK]', lstrip: false } });
    expect(loadTokenizer(kept).encode('hello [MASK] world', null, 20).ids).toEqual([2, 6, 5, 4, 7, 3]);
  });

  it("ignores tokenizer_config.json's remove_space true (a slow tokenizer's option: AlbertConverter writes no Strip), so that spaces at either end and runs of them read as tokenizers reads them, where the text was trimmed and its whitespace collapsed", () => {
    const dir = sentencePieceFolder('albert-remove-space', 'spiece.model', bytes, { model_type: 'albert' }, { remove_space: true });
    const t = loadTokenizer(dir);
    // Replace(' {2,}', ' '), then Metaspace: ▁ for each space, one prepended unless the text starts with one, split
    // before each ▁: 'hello ' is ▁hello ▁ (6 5); ' hello' is ▁hello (6)
    expect(t.encode('hello ', null, 20).ids).toEqual([2, 6, 5, 3]);
    expect(t.encode(' hello', null, 20).ids).toEqual([2, 6, 3]);
    expect(t.encode('  hello   world  ', null, 20).ids).toEqual([2, 6, 7, 5, 3]);
    // (a tab stays a tab without a precompiled charsmap: ▁hello, then '\tworld' no piece starts as one unknown id)
    expect(t.encode('hello\tworld', null, 20).ids).toEqual([2, 6, 1, 3]);
  });

  it('is written by --format transformers.js without remove_space, so that transformers.js reads a text ending in a space as evaluation does, where it trimmed it', () => {
    const dir = sentencePieceFolder('albert-remove-space-tjs', 'spiece.model', bytes, { model_type: 'albert' }, { remove_space: true });
    const { json } = folderTokenizerJson(dir)!;
    const written = transformersJsTokenizerConfig(readConfig(dir), json, null, null, 'AlbertTokenizer');
    expect(written).not.toHaveProperty('remove_space');
    expect(new Tokenizer(json, written).encode('hello ').ids).toEqual(loadTokenizer(dir).encode('hello ', null, 20).ids);
  });

  it("keeps case as tokenizer_config.json's do_lower_case false says, the family named by its tokenizer_class", () => {
    const dir = sentencePieceFolder('albert-cased', 'spiece.model', bytes, {}, { tokenizer_class: 'AlbertTokenizer', do_lower_case: false });
    // 'Hello' is no piece: ▁, then its characters no piece starts with as one unknown id (tokenizers' Unigram fuses
    // unknowns: unigram/model.rs, fuse_unk true)
    expect(loadTokenizer(dir).encode('Hello world', null, 20).ids).toEqual([2, 5, 1, 7, 3]);
  });

  it("reads a do_lower_case or keep_accents other than true or false by Python's truthiness, as transformers' AlbertConverter does (`if do_lower_case`, `if not keep_accents`): a null, 0, '' or [] do_lower_case keeps case and a \"false\" or 1 keep_accents keeps accents, where they lower-cased and stripped accents", () => {
    const ids = (name: string, settings: object, text: string) =>
      loadTokenizer(sentencePieceFolder(name, 'spiece.model', bytes, {}, { tokenizer_class: 'AlbertTokenizer', ...settings })).encode(text, null, 20).ids;
    // ('Hello' lower-cased is ▁hello (6), cased no piece: ▁ (5) and one unknown (1); 'héllo' with its accent stripped ▁hello)
    const [lowered, cased] = [
      ids('albert-lower-true', { do_lower_case: true }, 'Hello world'),
      ids('albert-lower-false', { do_lower_case: false }, 'Hello world'),
    ];
    const [stripped, kept] = [
      ids('albert-accents-false', { keep_accents: false }, 'héllo world'),
      ids('albert-accents-true', { keep_accents: true }, 'héllo world'),
    ];
    expect([lowered, cased, stripped, kept]).toEqual([
      [2, 6, 7, 3],
      [2, 5, 1, 7, 3],
      [2, 6, 7, 3],
      [2, 5, 1, 7, 3],
    ]);
    const cases: Array<[string, object, readonly number[]]> = [
      ...[null, 0, '', []].map((v): [string, object, readonly number[]] => ['Hello world', { do_lower_case: v }, cased]),
      ...['false', 1, [0]].map((v): [string, object, readonly number[]] => ['Hello world', { do_lower_case: v }, lowered]),
      ...['false', 1, 'yes'].map((v): [string, object, readonly number[]] => ['héllo world', { keep_accents: v }, kept]),
      ...[null, 0, ''].map((v): [string, object, readonly number[]] => ['héllo world', { keep_accents: v }, stripped]),
    ];
    for (const [i, [text, settings, expected]] of cases.entries())
      expect([settings, ids(`albert-truthiness-${i}`, settings, text)]).toEqual([settings, expected]);
  });
});

describe('a folder holding both SentencePiece models', () => {
  const albert = sentencePieceModelBytes(ALBERT_PIECES, { unkId: 1 });
  const xlmr = sentencePieceModelBytes(XLMR_PIECES);

  it("reads its family's own file (AlbertTokenizer's spiece.model, XLMRobertaTokenizer's sentencepiece.bpe.model), where sentencepiece.bpe.model was read for any", () => {
    const a = sentencePieceFolder('both-albert', 'spiece.model', albert, { model_type: 'albert' });
    writeFileSync(join(a, 'sentencepiece.bpe.model'), xlmr);
    expect(loadTokenizer(a).encode('hello', 'world', 20).ids).toEqual([2, 6, 3, 7, 3]);
    expect(loadTokenizer(join(a, 'sentencepiece.bpe.model')).source).toBe(join(a, 'spiece.model'));
    const x = sentencePieceFolder('both-xlmr', 'spiece.model', albert, {}, { tokenizer_class: 'XLMRobertaTokenizerFast' });
    writeFileSync(join(x, 'sentencepiece.bpe.model'), xlmr);
    expect(loadTokenizer(x).encode('ab', 'b', 20).ids).toEqual([0, 7, 2, 2, 9, 2]);
  });

  it("is refused in one line when it lacks its family's file, as the slow tokenizer transformers converts fails", () => {
    const a = sentencePieceFolder('albert-bpe-name', 'sentencepiece.bpe.model', albert, { model_type: 'albert' });
    expect(() => loadTokenizer(a)).toThrow(DataError);
    expect(() => loadTokenizer(a)).toThrow(
      `${join(a, 'sentencepiece.bpe.model')}: an ALBERT tokenizer reads spiece.model, which the folder lacks: not read (give a folder with its spiece.model or tokenizer.json with --tokenizer)`,
    );
    const c = sentencePieceFolder('camembert-spiece-name', 'spiece.model', xlmr, { model_type: 'camembert' });
    expect(() => loadTokenizer(c)).toThrow(/: a CamemBERT tokenizer reads sentencepiece\.bpe\.model, which the folder lacks: not read/);
  });
});

describe('a CamemBERT SentencePiece-only folder', () => {
  // CamembertConverter.vocab: <s>NOTUSED <pad> </s>NOTUSED <unk> <unk>NOTUSED, pieces 1… (each id + 4), <mask>
  const pieces: TestPiece[] = [
    { piece: '<unk>', score: 0, type: 2 },
    { piece: '<s>', score: 0, type: 3 },
    { piece: '</s>', score: 0, type: 3 },
    { piece: '▁a', score: -1 },
    { piece: '▁b', score: -1 },
  ];

  it('gives <s> 5 and </s> 6 (fairseq offset 4), <unk> 3 and <mask> last', () => {
    const dir = sentencePieceFolder('camembert', 'sentencepiece.bpe.model', sentencePieceModelBytes(pieces), { model_type: 'camembert' });
    const t = loadTokenizer(dir);
    expect(t.encode('a', 'b', 20).ids).toEqual([5, 7, 6, 6, 8, 6]);
    expect(t.encode('c', null, 20).ids).toEqual([5, 3, 6]);
    const json = sentencePieceFolderTokenizerJson(dir, {}).json as { model: { vocab: [string, number][] } };
    expect(json.model.vocab.slice(0, 5)).toEqual([
      ['<s>NOTUSED', 0],
      ['<pad>', 0],
      ['</s>NOTUSED', 0],
      ['<unk>', 0],
      ['<unk>NOTUSED', -100],
    ]);
    expect(json.model.vocab.at(-1)).toEqual(['<mask>', 0]);
    expect(json.model.vocab).toHaveLength(10);
  });
});

const ADVICE =
  /not read \(write the folder's tokenizer\.json with transformers, python -c "import sys; from transformers import AutoTokenizer as T; T\.from_pretrained\(sys\.argv\[1\]\)\.save_pretrained\(sys\.argv\[1\]\)" .+, or give a folder with one with --tokenizer\)$/;

describe('a SentencePiece model not read', () => {
  it('of another family is refused in one line saying how to write a tokenizer.json', () => {
    for (const model of ['sentencepiece.bpe.model', 'spiece.model']) {
      const dir = sentencePieceFolder(`t5-${model}`, model, sentencePieceModelBytes(XLMR_PIECES), { model_type: 't5' });
      expect(() => loadTokenizer(dir)).toThrow(DataError);
      expect(() => loadTokenizer(dir)).toThrow(`${join(dir, model)}: a SentencePiece model of neither an ALBERT, XLM-R nor CamemBERT tokenizer`);
      expect(() => loadTokenizer(dir)).toThrow(ADVICE);
      expect(() => loadTokenizer(join(dir, model))).toThrow(ADVICE);
    }
    const named = sentencePieceFolder(
      't5-class',
      'spiece.model',
      sentencePieceModelBytes(XLMR_PIECES),
      { model_type: 'albert' },
      { tokenizer_class: 'T5Tokenizer' },
    );
    expect(() => loadTokenizer(named)).toThrow(ADVICE);
  });

  it("names the folder as one word of the command a shell runs, a quote and a space in its name too, where it was put inside the command's Python text", () => {
    const dir = sentencePieceFolder("John's models", 'spiece.model', sentencePieceModelBytes(XLMR_PIECES), {});
    let message = '';
    try {
      loadTokenizer(dir);
    } catch (e) {
      message = (e as Error).message;
    }
    const arg = /sys\.argv\[1\]\)" (.+), or give a folder/.exec(message)?.[1];
    expect(arg).toBeDefined();
    // (the shell reads the word back as the folder: printf prints its argument)
    expect(spawnSync('sh', ['-c', `printf %s ${arg}`], { encoding: 'utf8' }).stdout).toBe(dir);
  });

  it('that SentencePiece refuses to load (as transformers loads it before converting) is refused in one line, where it was read', () => {
    const refused = (name: string, pieces: TestPiece[]) => {
      const dir = sentencePieceFolder(name, 'sentencepiece.bpe.model', sentencePieceModelBytes(pieces), { model_type: 'xlm-roberta' });
      return () => loadTokenizer(dir);
    };
    const prefix = 'sentencepiece.bpe.model: a SentencePiece model that SentencePiece refuses to load';
    expect(refused('spm-empty', [...XLMR_PIECES, { piece: '', score: -1 }])).toThrow(`${prefix} (its piece 10 is empty): not read`);
    expect(refused('spm-twice', [...XLMR_PIECES, { piece: '▁a', score: -9 }])).toThrow(
      `${prefix} (its piece '▁a' is listed twice, the second time as id 10): not read`,
    );
    expect(refused('spm-twice-user', [...XLMR_PIECES, { piece: '<tag>', score: 0, type: 4 }])).toThrow(`${prefix} (its piece '<tag>' is listed twice`);
    expect(refused('spm-two-unk', [...XLMR_PIECES, { piece: '<unk2>', score: 0, type: 2 }])).toThrow(
      `${prefix} (it has two unknown pieces, ids 0 and 10): not read`,
    );
    expect(refused('spm-no-unk', XLMR_PIECES.slice(1))).toThrow(`${prefix} (it has no unknown piece (of type UNKNOWN)): not read`);
    expect(refused('spm-no-unk', XLMR_PIECES.slice(1))).toThrow(DataError);
    // byte pieces (type 6): only with trainer_spec.byte_fallback, all 256 of <0x00>…<0xFF>
    const bytePieces = Array.from({ length: 256 }, (_, b): TestPiece => ({ piece: `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`, score: 0, type: 6 }));
    const withBytes = (name: string, pieces: TestPiece[], byteFallback: boolean) => {
      const dir = sentencePieceFolder(name, 'sentencepiece.bpe.model', sentencePieceModelBytes(pieces, { byteFallback }), { model_type: 'xlm-roberta' });
      return () => loadTokenizer(dir);
    };
    expect(withBytes('spm-bytes-off', [...XLMR_PIECES, ...bytePieces], false)).toThrow(
      `${prefix} (its byte piece '<0x00>' though its trainer_spec.byte_fallback is false): not read`,
    );
    expect(withBytes('spm-bytes-255', [...XLMR_PIECES, ...bytePieces.slice(1)], true)).toThrow(
      `${prefix} (its trainer_spec.byte_fallback is true, but it has 255 of the 256 byte pieces): not read`,
    );
    expect(withBytes('spm-bytes-odd', [...XLMR_PIECES, ...bytePieces, { piece: '<0xab>', score: 0, type: 6 }], true)).toThrow(
      `${prefix} (its byte piece '<0xab>' is not one of <0x00>…<0xFF>): not read`,
    );
    // (a control piece may spell a normal one: SentencePiece keeps them apart)
    expect(refused('spm-control-normal', [...XLMR_PIECES, { piece: '<s>', score: -5 }])).not.toThrow();
  });

  it("cut short at a piece's end (no trainer_spec or normalizer_spec) is refused in one line, where it was read as a model of fewer pieces", () => {
    const whole = sentencePieceModelBytes(XLMR_PIECES, { charsmap: identityCharsmap() });
    // (the normalizer_spec, last: 1a, its length, then its charsmap's field; the trainer_spec before it: 12 05 18 01
    // c0 02 00; an empty normalizer_spec 1a 00)
    const normalizerSpec = 2 + whole.length - sentencePieceModelBytes(XLMR_PIECES).length;
    const specs = normalizerSpec + 7;
    const cut = (name: string, bytes: Buffer) => () =>
      loadTokenizer(sentencePieceFolder(name, 'sentencepiece.bpe.model', bytes, { model_type: 'xlm-roberta' }));
    const message = (missing: string) =>
      `sentencepiece.bpe.model: a SentencePiece model without its ${missing}, which every trained model holds: cut short? (download it again)`;
    expect(cut('cut-normalizer', whole.subarray(0, whole.length - normalizerSpec))).toThrow(message('normalizer_spec'));
    expect(cut('cut-specs', whole.subarray(0, whole.length - specs))).toThrow(message('trainer_spec and normalizer_spec'));
    const fewer = sentencePieceModelBytes(XLMR_PIECES.slice(0, 6));
    expect(cut('cut-pieces', whole.subarray(0, fewer.length - 7 - 2))).toThrow(DataError);
    expect(cut('whole', whole)).not.toThrow();
  });

  it('trained as BPE, or not a SentencePiece model at all, is refused in one line', () => {
    const bpe = sentencePieceFolder('bpe', 'sentencepiece.bpe.model', sentencePieceModelBytes(XLMR_PIECES, { modelType: 2 }), { model_type: 'xlm-roberta' });
    expect(() => loadTokenizer(bpe)).toThrow(/a SentencePiece model trained as BPE, not Unigram: not read/);
    // (transformers converts a BPE-trained model: the refusal says how to write its tokenizer.json; not one of words)
    expect(() => loadTokenizer(bpe)).toThrow(ADVICE);
    const words = sentencePieceFolder('words', 'sentencepiece.bpe.model', sentencePieceModelBytes(XLMR_PIECES, { modelType: 3 }), {
      model_type: 'xlm-roberta',
    });
    expect(() => loadTokenizer(words)).toThrow(
      `${join(words, 'sentencepiece.bpe.model')}: a SentencePiece model trained as words, not Unigram: not read (nor by transformers, whose converter takes Unigram and BPE models)`,
    );
    const junk = sentencePieceFolder('junk', 'spiece.model', Buffer.from('not a model\n'), { model_type: 'albert' });
    expect(() => loadTokenizer(junk)).toThrow(DataError);
    expect(() => loadTokenizer(junk)).toThrow(`${join(junk, 'spiece.model')}: not a SentencePiece model`);
  });
});

describe('a Metaspace pre-tokenizer that splits (split true or absent, as tokenizers reads it)', () => {
  // (XLM-R's order: <s> 0, <pad> 1, </s> 2, <unk> 3, then these pieces from 4, then <mask>)
  const head: TestPiece[] = XLMR_PIECES.slice(0, 3);
  // ▁a 4, b 5, a 6: no lone ▁, so a ▁ before a character no piece starts with is unknown
  const noLone = sentencePieceFolder(
    'no-lone',
    'sentencepiece.bpe.model',
    sentencePieceModelBytes([...head, { piece: '▁a', score: -1 }, { piece: 'b', score: -3 }, { piece: 'a', score: -4 }]),
    { model_type: 'xlm-roberta' },
  );
  // ▁ 4, ▁a 5, b 6, ▁ab 7, a 8, ▁b 9, a▁b 10: a piece with ▁ inside it, of the best score
  const inside = sentencePieceFolder('inside', 'sentencepiece.bpe.model', sentencePieceModelBytes([...XLMR_PIECES.slice(0, 9), { piece: 'a▁b', score: 0 }]), {
    model_type: 'xlm-roberta',
  });

  it("splits the text before each ▁ and runs the model on each piece alone, as tokenizers does (Metaspace, MergedWithNext), where @huggingface/tokenizers' one pre-token let a piece span two words and fused their unknowns", () => {
    // ▁ü▁ü: two words each all unknown, fused within a word only (unigram/model.rs encode, fuse_unk), not one <unk>
    expect(loadTokenizer(noLone).encode('ü ü', null, 20).ids).toEqual([0, 3, 3, 2]);
    expect(loadTokenizer(noLone).encode('üü a', null, 20).ids).toEqual([0, 3, 4, 2]);
    // ▁a▁b: ▁a ▁b (-2.5) word by word, not ▁ a▁b (-2) across them
    expect(loadTokenizer(inside).encode('a b', null, 20).ids).toEqual([0, 5, 9, 2]);
  });

  /** A folder of the tokenizer.json `from` reads as, its pre-tokenizer in a Sequence within a Sequence, beside a BERT config naming XLM-R's tokenizer. */
  const nested = (name: string, from: string) => {
    const json = sentencePieceFolderTokenizerJson(from, {}).json as Record<string, unknown>;
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    const pre = { type: 'Sequence', pretokenizers: [{ type: 'Sequence', pretokenizers: [json.pre_tokenizer] }] };
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({ ...json, pre_tokenizer: pre }));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'bert', tokenizer_class: 'XLMRobertaTokenizer' }));
    return dir;
  };

  // (tokenizers 0.23.2's node binding gives these ids, as for the Metaspace alone)
  it('splits where it sits in a Sequence within a Sequence, as tokenizers does at any depth, where the text was one pre-token', () => {
    expect(loadTokenizer(nested('no-lone-nested', noLone)).encode('ü ü', null, 20).ids).toEqual([0, 3, 3, 2]);
    expect(loadTokenizer(nested('inside-nested', inside)).encode('a b', null, 20).ids).toEqual([0, 5, 9, 2]);
  });

  it("is one pre-token where the tokenizer.json's Metaspace says split: false; the older form (add_prefix_space, no split) splits", () => {
    const json = sentencePieceFolderTokenizerJson(inside, {}).json as Record<string, unknown>;
    const written = (name: string, preTokenizer: object) => {
      const dir = join(root, name);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({ ...json, pre_tokenizer: preTokenizer }));
      return dir;
    };
    const whole = written('split-false', { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: false });
    expect(loadTokenizer(whole).encode('a b', null, 20).ids).toEqual([0, 4, 10, 2]);
    const older = written('split-absent', { type: 'Sequence', pretokenizers: [{ type: 'Metaspace', replacement: '▁', add_prefix_space: true }] });
    expect(loadTokenizer(older).encode('a b', null, 20).ids).toEqual([0, 5, 9, 2]);
  });

  // (tokenizers 0.23.2's node binding refuses each, a Sequence within a Sequence too: 'add_prefix_space does not match
  // declared prepend_scheme')
  it('is refused in one line where it says add_prefix_space false with a prepend_scheme other than never, as tokenizers refuses to load it (in a Sequence at any depth), where the text got a ▁ before it the file says not to give; with prepend_scheme never it is read', () => {
    const json = sentencePieceFolderTokenizerJson(inside, {}).json as Record<string, unknown>;
    /** A folder of `metaspace` as the `where` of `json`, in a Sequence within `depth` Sequences. */
    const written = (name: string, metaspace: object, where: 'pre_tokenizer' | 'decoder' = 'pre_tokenizer', depth = 1) => {
      const dir = join(root, name);
      mkdirSync(dir, { recursive: true });
      const list = where === 'decoder' ? 'decoders' : 'pretokenizers';
      let part: object = metaspace;
      for (let i = 0; i < depth; i++) part = { type: 'Sequence', [list]: [part] };
      writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({ ...json, [where]: part }));
      return dir;
    };
    const legacy = { type: 'Metaspace', replacement: '▁', add_prefix_space: false };
    for (const [dir, shown] of [
      [written('no-prefix-default', legacy), "'always' (the default)"],
      [written('no-prefix-first', { ...legacy, prepend_scheme: 'first' }), "'first'"],
      [written('no-prefix-decoder', legacy, 'decoder'), "'always' (the default)"],
      [written('no-prefix-nested', legacy, 'pre_tokenizer', 2), "'always' (the default)"],
      [written('no-prefix-decoder-nested', { ...legacy, prepend_scheme: 'first' }, 'decoder', 3), "'first'"],
    ] as const) {
      expect(() => loadTokenizer(dir)).toThrow(DataError);
      expect(() => loadTokenizer(dir)).toThrow(
        new RegExp(
          `tokenizer\\.json: not a tokenizer we can load: its (pre_tokenizer|decoder)'s Metaspace says add_prefix_space false with prepend_scheme ${shown.replace(/[()]/g, '\\$&')}, which tokenizers refuses .*"prepend_scheme": "never" for no ▁ before the text$`,
        ),
      );
    }
    // ('a b' with no ▁ before it: a ▁b, as tokenizers reads prepend_scheme never)
    expect(loadTokenizer(written('no-prefix-never', { ...legacy, prepend_scheme: 'never' })).encode('a b', null, 20).ids).toEqual([0, 8, 9, 2]);
  });

  /** `pieces` as an XLM-R-style folder with a one-layer model, written by --format transformers.js: the folder and what was said. */
  const exported = async (name: string, pieces: TestPiece[]) => {
    const dir = sentencePieceFolder(name, 'sentencepiece.bpe.model', sentencePieceModelBytes(pieces), {
      model_type: 'bert',
      tokenizer_class: 'XLMRobertaTokenizer',
    });
    const { out, notes, theirs } = await exportToTransformersJs(dir);
    return { dir, out, notes, ids: (text: string) => Array.from(theirs(text).input_ids.data as BigInt64Array, Number) };
  };

  it('is written by --format transformers.js as a Metaspace that does not split and a Split before each ▁, which transformers.js honours, so that it reads a text as evaluation does, where it let a piece span two words', async () => {
    const { dir, out, notes, ids } = await exported('inside-tjs', [...XLMR_PIECES.slice(0, 9), { piece: 'a▁b', score: 0 }]);
    const written = JSON.parse(readFileSync(join(out, 'tokenizer.json'), 'utf8')) as {
      pre_tokenizer: { type: string; pretokenizers: Array<{ type: string; split?: boolean }> };
    };
    expect(written.pre_tokenizer.pretokenizers.map((p) => [p.type, p.split])).toEqual([
      ['Metaspace', false],
      ['Split', undefined],
    ]);
    for (const text of ['a b', ' a  b ', 'ab a b\tb']) {
      expect(ids(text)).toEqual(loadTokenizer(dir).encode(text, null, 20).ids);
      expect(loadTokenizer(out).encode(text, null, 20).ids).toEqual(loadTokenizer(dir).encode(text, null, 20).ids);
    }
    expect(ids('a b')).toEqual([0, 5, 9, 2]);
    // (a lone ▁ piece starts every word: transformers.js has no run of unknown pieces across words to fuse)
    expect(notes).toEqual([]);
  });

  it('is written by --format transformers.js so in a Sequence within a Sequence too, with no word of fused unknowns where a lone ▁ piece starts every word', async () => {
    const dir = nested('inside-nested-tjs', inside);
    const { out, notes, theirs } = await exportToTransformersJs(dir);
    const written = JSON.parse(readFileSync(join(out, 'tokenizer.json'), 'utf8')) as { pre_tokenizer: { pretokenizers: Array<{ pretokenizers: object[] }> } };
    expect(written.pre_tokenizer.pretokenizers[0]!.pretokenizers.map((p) => [(p as { type: string }).type, (p as { split?: boolean }).split])).toEqual([
      ['Metaspace', false],
      ['Split', undefined],
    ]);
    for (const text of ['a b', ' a  b ', 'ab a b\tb']) {
      const ids = Array.from(theirs(text).input_ids.data as BigInt64Array, Number);
      expect(ids).toEqual(loadTokenizer(dir).encode(text, null, 20).ids);
    }
    expect(notes).toEqual([]);
  });

  it('says in one line, at --format transformers.js, that transformers.js fuses unknown pieces across words where the vocabulary has no lone ▁ piece', async () => {
    const { dir, out, notes, ids } = await exported('no-lone-tjs', [
      ...XLMR_PIECES.slice(0, 3),
      { piece: '▁a', score: -1 },
      { piece: 'b', score: -3 },
      { piece: 'a', score: -4 },
    ]);
    expect(loadTokenizer(dir).encode('ü ü', null, 20).ids).toEqual([0, 3, 3, 2]);
    expect(ids('ü ü')).toEqual([0, 3, 2]); // (what the warning says)
    expect(notes).toEqual([
      expect.stringMatching(
        new RegExp(
          `^warning: ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: its tokenizer's model fuses a run of unknown pieces into one unknown token, which transformers.js does across words`,
        ),
      ),
    ]);
    expect(notes[0]).not.toContain('\n');
  });
});

describe('TinyBERT augmentation on a SentencePiece-only folder (ALBERT, XLM-R)', () => {
  it.each([
    ['albert-augment', 'spiece.model', ALBERT_PIECES, 'albert'],
    ['xlmr-augment', 'sentencepiece.bpe.model', XLMR_PIECES, 'xlm-roberta'],
  ] as const)('%s: refused naming the SentencePiece model, where its bytes were read as vocab.txt lines', (name, model, pieces, modelType) => {
    const dir = sentencePieceFolder(name, model, sentencePieceModelBytes(pieces, { unkId: modelType === 'albert' ? 1 : 0 }), { model_type: modelType });
    const refusal = `${join(dir, model)}: augmentation needs a WordPiece vocabulary (${model} is a SentencePiece one)`;
    expect(() => loadWordVocab(loadTokenizer(dir).source)).toThrow(refusal);
    expect(() => loadWordVocab(dir)).toThrow(refusal);
  });
});
