/**
 * A tokenizer.json field tokenizers (Rust) refuses (absent with no serde default, of another type, a misspelt behavior)
 * is refused in one line naming it, where @huggingface/tokenizers read the file (a Split of behavior "Isolate" as
 * Isolated, a ByteLevel without add_prefix_space as false); fields tokenizers defaults are read as it reads them.
 * Checked against the tokenizers 0.23.2 node binding: 1,477 part variants, the same verdict but for a Sequence's part
 * of an unknown type (the library refuses it) and an enum's map form ({"Isolated": null}, which tokenizers never writes).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError } from '../../src/errors.ts';
import { folderTokenizerJson, loadTokenizer } from '../../src/eval/tokenizer.ts';
import { exportToTransformersJs } from '../../src/export/transformers-js.ts';
import { identityCharsmap } from '../helpers/sentencepiece-model.ts';
import { exportedIds, SPECIALS, TEMPLATE_OWN_IDS, tokenizerFolder, tokenizerJson } from '../helpers/tokenizer-json.ts';

const root = mkdtempSync(join(tmpdir(), 'bc-tok-fields-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const VOCAB = [...SPECIALS, 'a', 'b', ',', 'Ġa', 'Ġb'];
const SPLIT = { type: 'Split', pattern: { Regex: ',' }, behavior: 'Isolated', invert: false };
const BYTE_LEVEL = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };

let n = 0;
/** A folder of a tokenizer.json over VOCAB with `parts` in place of tokenizerJson's. */
function folder(parts: Record<string, unknown>): string {
  const dir = join(root, String(n++));
  mkdirSync(dir);
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({ ...tokenizerJson(VOCAB, { pre_tokenizer: { type: 'WhitespaceSplit' } }), ...parts }));
  return dir;
}

const CHARSMAP = identityCharsmap();
const charsmap = (bytes: readonly number[]): string => Buffer.from(bytes).toString('base64');
/** A charsmap of a trie of `units` units of label 0 (identityCharsmap's first ones), no normalized text. */
const trieOf = (units: number): number[] => {
  const bytes = Buffer.alloc(4 + 4 * units);
  bytes.writeUInt32LE(4 * units, 0);
  return [...bytes];
};
const CANNOT = '(tokenizers refuses it: Cannot parse precompiled_charsmap)';

const TEMPLATE = 'a list of {"Sequence": {"id": "A" or "B", "type_id": N}} or {"SpecialToken": {"id": "…", "type_id": N}}';
const without = (part: Record<string, unknown>, key: string) => Object.fromEntries(Object.entries(part).filter(([k]) => k !== key));

describe('tokenizer.json fields tokenizers refuses', () => {
  it.each([
    [
      { pre_tokenizer: { ...SPLIT, behavior: 'Isolate' } },
      'pre_tokenizer (Split): behavior: expected one of Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous, got "Isolate"',
    ],
    [
      { pre_tokenizer: { ...SPLIT, behavior: 'isolated' } },
      'pre_tokenizer (Split): behavior: expected one of Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous, got "isolated"',
    ],
    [{ pre_tokenizer: without(SPLIT, 'invert') }, 'pre_tokenizer (Split): no invert, which tokenizers requires (expected true or false)'],
    [{ pre_tokenizer: { ...SPLIT, pattern: ',' } }, 'pre_tokenizer (Split): pattern: expected {"String": "…"} or {"Regex": "…"}, got ","'],
    [
      { pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, without(BYTE_LEVEL, 'add_prefix_space')] } },
      'pre_tokenizer.pretokenizers[1] (ByteLevel): no add_prefix_space, which tokenizers requires (expected true or false)',
    ],
    [{ pre_tokenizer: without(BYTE_LEVEL, 'trim_offsets') }, 'pre_tokenizer (ByteLevel): no trim_offsets, which tokenizers requires (expected true or false)'],
    [{ pre_tokenizer: { ...BYTE_LEVEL, add_prefix_space: 'false' } }, 'pre_tokenizer (ByteLevel): add_prefix_space: expected true or false, got "false"'],
    [
      { pre_tokenizer: { type: 'Punctuation', behavior: 'contiguous' } },
      'pre_tokenizer (Punctuation): behavior: expected one of Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous, got "contiguous"',
    ],
    [{ pre_tokenizer: { type: 'Digits' } }, 'pre_tokenizer (Digits): no individual_digits, which tokenizers requires (expected true or false)'],
    [
      { pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'Always' } },
      'pre_tokenizer (Metaspace): prepend_scheme: expected one of first, never or always, got "Always"',
    ],
    [
      { normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null } },
      'normalizer (BertNormalizer): no lowercase, which tokenizers requires (expected true or false)',
    ],
    [{ normalizer: { type: 'Strip', strip_left: true } }, 'normalizer (Strip): no strip_right, which tokenizers requires (expected true or false)'],
    [
      { post_processor: { type: 'ByteLevel', trim_offsets: true } },
      'post_processor (ByteLevel): no add_prefix_space, which tokenizers requires (expected true or false)',
    ],
    // (where the project's post-processor reading failed on them: 'Cannot read properties of undefined (reading '0')')
    [
      { post_processor: { type: 'BertProcessing', cls: ['[CLS]', 2] } },
      'post_processor (BertProcessing): no sep, which tokenizers requires (expected a token and its id, ["…", N])',
    ],
    [
      { post_processor: { type: 'RobertaProcessing', sep: ['[SEP]', 3], cls: '[CLS]' } },
      'post_processor (RobertaProcessing): cls: expected a token and its id, ["…", N], got "[CLS]"',
    ],
    [
      { post_processor: { type: 'TemplateProcessing', single: [{ Sequence: { id: 'A', type_id: 0 } }], special_tokens: {} } },
      `post_processor (TemplateProcessing): no pair, which tokenizers requires (expected ${TEMPLATE})`,
    ],
    [
      { post_processor: { type: 'TemplateProcessing', single: [{ Sequence: { id: 'A', type_id: 0 } }], pair: [{ Sequence: { id: 'A', type_id: 0 } }] } },
      'post_processor (TemplateProcessing): no special_tokens, which tokenizers requires (expected an object of {"id": "…", "ids": [N, …], "tokens": ["…", …]})',
    ],
    [{ decoder: { type: 'ByteLevel' } }, 'decoder (ByteLevel): no add_prefix_space, which tokenizers requires (expected true or false)'],
    [{ decoder: { type: 'WordPiece', prefix: '##' } }, 'decoder (WordPiece): no cleanup, which tokenizers requires (expected true or false)'],
    [
      { post_processor: { type: 'TemplateProcessing', single: '$A', pair: '$A $B:1', special_tokens: {} } },
      `post_processor (TemplateProcessing): single: expected ${TEMPLATE}, got "$A"`,
    ],
    // (a piece or a special token tokenizers refuses: the project's post-processor reading failed on some with an internal
    // error, "Cannot use 'in' operator to search for 'SpecialToken' in null", and read the others)
    [
      { post_processor: { type: 'TemplateProcessing', single: [null], pair: [], special_tokens: {} } },
      `post_processor (TemplateProcessing): single: expected ${TEMPLATE}, got [null]`,
    ],
    [
      { post_processor: { type: 'TemplateProcessing', single: [{ Sequence: { id: 'C', type_id: 0 } }], pair: [], special_tokens: {} } },
      `post_processor (TemplateProcessing): single: expected ${TEMPLATE}, got [{"Sequence":{"id":"C","type_id":0}}]`,
    ],
    [
      { post_processor: { type: 'TemplateProcessing', single: [], pair: [{ SpecialToken: { id: '[CLS]', type_id: -1 } }], special_tokens: {} } },
      `post_processor (TemplateProcessing): pair: expected ${TEMPLATE}, got [{"SpecialToken":{"id":"[CLS]","type_id":-1}}]`,
    ],
    // (a Sequence of two post-processors that add special tokens: tokenizers gives [CLS] [CLS] a [SEP] [SEP] [SEP] b b [SEP] [SEP]
    // for a pair of a BertProcessing's, and fails on every text for two TemplateProcessings; checked against the tokenizers
    // 0.23.2 node binding, where eval read [CLS] [CLS] a [SEP] b b [SEP] [SEP])
    [
      {
        post_processor: {
          type: 'Sequence',
          processors: [
            { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
            { type: 'BertProcessing', sep: ['[SEP]', 3], cls: ['[CLS]', 2] },
            { type: 'Sequence', processors: [{ type: 'BertProcessing', sep: ['[SEP]', 3], cls: ['[CLS]', 2] }] },
          ],
        },
      },
      'post_processor.processors[2].processors[0] (BertProcessing): it adds special tokens after post_processor.processors[1] (BertProcessing) did, which tokenizers does to each piece the first gives (or fails on every text), and compress does not read: keep one post-processor that adds them',
    ],
    [
      { post_processor: { type: 'TemplateProcessing', single: [], pair: [], special_tokens: { '[CLS]': { id: '[CLS]', ids: [2] } } } },
      'post_processor (TemplateProcessing): special_tokens: expected an object of {"id": "…", "ids": [N, …], "tokens": ["…", …]}, got {"[CLS]":{"id":"[CLS]","ids":[2]}}',
    ],
    [
      { post_processor: { type: 'BertProcessing', sep: '[SEP]', cls: ['[CLS]', 2] } },
      'post_processor (BertProcessing): sep: expected a token and its id, ["…", N], got "[SEP]"',
    ],
    [
      { post_processor: { type: 'RobertaProcessing', cls: ['[CLS]', 2], trim_offsets: true, add_prefix_space: false } },
      'post_processor (RobertaProcessing): no sep, which tokenizers requires (expected a token and its id, ["…", N])',
    ],
    [
      { post_processor: { type: 'Sequence', processors: [BYTE_LEVEL, { type: 'BertProcessing', sep: ['[SEP]', -1], cls: ['[CLS]', 2] }] } },
      'post_processor.processors[1] (BertProcessing): sep: expected a token and its id, ["…", N], got ["[SEP]",-1]',
    ],
    [
      { model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', vocab: { '[UNK]': 0 } } },
      'model (WordPiece): no max_input_chars_per_word, which tokenizers requires (expected an integer from 0)',
    ],
    [{ model: { type: 'WordLevel', unk_token: null, vocab: { '[UNK]': 0 } } }, 'model (WordLevel): unk_token: expected a string, got null'],
    // (where the library failed: 'Cannot read properties of undefined')
    [{ model: { type: 'BPE', vocab: { a: 0 } } }, 'model (BPE): no merges, which tokenizers requires (expected a list)'],
    [{ model: { type: 'BPE', vocab: { a: 0 }, merges: [], fuse_unk: 'false' } }, 'model (BPE): fuse_unk: expected true, false or null, got "false"'],
    [{ model: { type: 'Unigram', vocab: [['a', 0]], unk_id: -1 } }, 'model (Unigram): unk_id: expected an integer from 0 or null, got -1'],
    // (an id past the vocabulary: tokenizers refuses the file, UnkIdNotInVocabulary; a model of no type so is read as none)
    [
      {
        model: {
          type: 'Unigram',
          vocab: [
            ['<unk>', 0],
            ['a', -1],
          ],
          unk_id: 2,
        },
      },
      'model (Unigram): unk_id: 2 is no index of its vocabulary of 2 pieces (tokenizers refuses it: UnkIdNotInVocabulary)',
    ],
    [{ model: { vocab: [['<unk>', 0]], unk_id: 5 } }, 'model: no type, and tokenizers reads its fields as none of BPE, WordPiece, WordLevel or Unigram'],
    // (an empty vocabulary, where the library said 'Array must not be empty'; checked against the tokenizers 0.23.2 binding)
    [
      { model: { type: 'Unigram', vocab: [], unk_id: 0 } },
      'model (Unigram): vocab: empty, where its unk_id 0 needs a piece (tokenizers refuses it: EmptyVocabulary)',
    ],
    [
      { model: { type: 'Unigram', vocab: [], unk_id: null } },
      "model (Unigram): vocab: empty, and no unk_id (tokenizers reads it, but fails on every text holding a character: 'Encountered an unknown token but `unk_id` is missing')",
    ],
    // (merges tokenizers refuses, BadMerges and MergeTokenOutOfVocabulary, where the library read them; checked against the
    // tokenizers 0.23.2 node binding)
    [
      { model: { type: 'BPE', vocab: { a: 0, b: 1 }, merges: [['a', 'b']] } },
      "model (BPE): merges[0]: 'a' and 'b' make 'ab', which its vocab lacks (tokenizers refuses the file)",
    ],
    [{ model: { type: 'BPE', vocab: { a: 0, ab: 1 }, merges: ['a b'] } }, "model (BPE): merges[0]: 'b' is not in its vocab (tokenizers refuses the file)"],
    [{ model: { type: 'BPE', vocab: { a: 0, b: 1, ab: 2 }, merges: ['a  b'] } }, 'model (BPE): merges[0]: expected two tokens split by one space, got "a  b"'],
    [
      { model: { type: 'BPE', vocab: { a: 0, b: 1, ab: 2 }, merges: [['a', 'b'], ['a']] } },
      'model (BPE): merges[1]: expected ["a", "b"] or "a b" as every merge is, got ["a"]',
    ],
    // (each merge read alone, but pairs and strings mixed: tokenizers' MergeType is a list of one or the other)
    [
      { model: { type: 'BPE', vocab: { a: 0, b: 1, ab: 2, c: 3, abc: 4 }, merges: [['a', 'b'], 'ab c'] } },
      'model (BPE): merges[1]: expected ["a", "b"] as merges[0] is (tokenizers reads a list of pairs or of strings, not both), got "ab c"',
    ],
    [
      { model: { type: 'BPE', vocab: { a: 0, b: 1, ab: 2, c: 3, abc: 4 }, merges: ['a b', ['ab', 'c']] } },
      'model (BPE): merges[1]: expected "a b" as merges[0] is (tokenizers reads a list of pairs or of strings, not both), got ["ab","c"]',
    ],
    [{ model: { type: 'Wordpiece', vocab: { a: 0 } } }, 'model: type: expected one of BPE, WordPiece, WordLevel or Unigram, got "Wordpiece"'],
    [{ model: { vocab: { a: 0 } } }, 'model: no type, and tokenizers reads its fields as none of BPE, WordPiece, WordLevel or Unigram'],
    [
      { truncation: { max_length: 8, stride: 0 } },
      'truncation: no strategy, which tokenizers requires (expected one of LongestFirst, OnlyFirst or OnlySecond)',
    ],
    [
      { truncation: { max_length: 8, strategy: 'longest_first', stride: 0 } },
      'truncation: strategy: expected one of LongestFirst, OnlyFirst or OnlySecond, got "longest_first"',
    ],
    [
      { padding: { direction: 'Right', pad_id: 0, pad_type_id: 0, pad_token: '[PAD]' } },
      'padding: no strategy, which tokenizers requires (expected "BatchLongest" or {"Fixed": N})',
    ],
    [
      { padding: { strategy: { Fixed: 8 }, direction: 'right', pad_id: 0, pad_type_id: 0, pad_token: '[PAD]' } },
      'padding: direction: expected one of Left or Right, got "right"',
    ],
    // (tokenizers reads a length of 0, then panics on every text)
    [{ pre_tokenizer: { type: 'FixedLength', length: 0 } }, 'pre_tokenizer (FixedLength): length: expected an integer from 1, got 0'],
    // (a part of no type, or of a type tokenizers does not name, that none of the types it reads by their fields reads;
    // where the library said 'Unknown Normalizer type: undefined')
    [
      { normalizer: { type: 'Lowercas' } },
      `normalizer: type "Lowercas" is none of tokenizers' normalizers, and tokenizers reads its fields as none of BertNormalizer, Strip, Sequence, Replace or Prepend`,
    ],
    [
      { normalizer: { type: 'Sequence', normalizers: [{ strip_left: true }] } },
      'normalizer.normalizers[0]: no type, and tokenizers reads its fields as none of BertNormalizer, Strip, Sequence, Replace or Prepend',
    ],
    [{ decoder: { cleanup: true } }, 'decoder: no type, and tokenizers reads its fields as none of BPEDecoder, WordPiece, CTC, Replace or Strip'],
    [
      { pre_tokenizer: {} },
      "pre_tokenizer: no type, which tokenizers requires (expected one of tokenizers' pre-tokenizers (BertPreTokenizer, ByteLevel, CharDelimiterSplit, Metaspace, Whitespace, Sequence, Split, Punctuation, WhitespaceSplit, Digits, UnicodeScripts or FixedLength))",
    ],
    // (tokenizers' tagged name of a CharDelimiterSplit, which then reads its type as its own name alone)
    [{ pre_tokenizer: { type: 'Delimiter', delimiter: ',' } }, 'pre_tokenizer (CharDelimiterSplit): type: expected "CharDelimiterSplit", got "Delimiter"'],
    [
      { post_processor: { type: 'Roberta', sep: ['[SEP]', 3] } },
      `post_processor: type "Roberta" is none of tokenizers' post-processors, and tokenizers reads its fields as none of RobertaProcessing, BertProcessing or TemplateProcessing`,
    ],
    // (a part that is no object: tokenizers reads a null normalizer, pre-tokenizer, post-processor or decoder as none, but
    // no null model or Sequence part; where the library said "Cannot read properties of null (reading 'type')" or
    // "Unknown Normalizer type: undefined")
    [{ model: null }, 'model: expected an object, got null'],
    [{ model: 'WordPiece' }, 'model: expected an object, got "WordPiece"'],
    [{ normalizer: 'Lowercase' }, 'normalizer: expected an object or null, got "Lowercase"'],
    [{ pre_tokenizer: [] }, 'pre_tokenizer: expected an object or null, got []'],
    [{ post_processor: 3 }, 'post_processor: expected an object or null, got 3'],
    [{ decoder: true }, 'decoder: expected an object or null, got true'],
    [{ normalizer: { type: 'Sequence', normalizers: [null] } }, 'normalizer.normalizers[0]: expected an object, got null'],
  ])('%j is refused in one line naming the field', (parts, why) => {
    const dir = folder(parts);
    const file = join(dir, 'tokenizer.json');
    const line = `${file}: not a tokenizer we can load: ${why}`;
    expect(() => loadTokenizer(dir)).toThrow(new DataError(line));
    // --format transformers.js and the vocabulary checks read the folder through this one reading
    expect(() => folderTokenizerJson(dir)).toThrow(line);
  });

  // (a Precompiled's charsmap tokenizers cannot parse, or reads and then fails on every text holding a character with an
  // index out of bounds that aborts, which the library read and ignored; checked against the tokenizers 0.23.2 node binding)
  it.each([
    ['no byte', '', `0 bytes, fewer than the 4 of its trie's size ${CANNOT}`],
    ['2 bytes', 'AQI=', `2 bytes, fewer than the 4 of its trie's size ${CANNOT}`],
    ['no base64', '!!!!', "not base64 as tokenizers decodes it ('!!!!') (tokenizers refuses it)"],
    ['a character past the padding', `${charsmap(CHARSMAP)}A`, `not base64 as tokenizers decodes it ('AAQAAAAAAAAAAAAAAAAA') (tokenizers refuses it)`],
    ['a trie cut short', charsmap(CHARSMAP.slice(0, -4)), `its trie's size is 1024 bytes, but 1020 follow it ${CANNOT}`],
    ['normalized text not UTF-8', charsmap([...CHARSMAP, 0xff]), `the normalized text after its trie is not UTF-8 ${CANNOT}`],
    ['a trie of no unit', charsmap(trieOf(0)), 'its trie holds no unit (tokenizers reads it, then fails on every text)'],
    [
      'a trie of 97 units',
      charsmap(trieOf(0x61)),
      `its trie of 97 units ends before the unit a character's first byte 0x61 ('a') reads (tokenizers reads it, then fails on every text holding such a character)`,
    ],
  ])('a Precompiled of %s is refused in one line, in a Sequence too', (_, map, why) => {
    for (const [normalizer, at] of [
      [{ type: 'Precompiled', precompiled_charsmap: map }, 'normalizer'],
      [
        {
          type: 'Sequence',
          normalizers: [
            { type: 'Strip', strip_left: true, strip_right: true },
            { type: 'Precompiled', precompiled_charsmap: map },
          ],
        },
        'normalizer.normalizers[1]',
      ],
    ] as const) {
      const dir = folder({ normalizer });
      const line = `${join(dir, 'tokenizer.json')}: not a tokenizer we can load: ${at} (Precompiled): precompiled_charsmap: ${why}`;
      expect(() => loadTokenizer(dir)).toThrow(new DataError(line));
      expect(() => folderTokenizerJson(dir)).toThrow(line);
    }
  });

  // (tokenizers reads a BPE's, WordPiece's or WordLevel's vocab as token → u32: any other id fails the file, where
  // @huggingface/tokenizers read it and gave the token the id as written)
  it.each([
    ['WordPiece', 4294967296],
    ['WordPiece', -1],
    ['WordLevel', 3.5],
    ['BPE', '6'],
    ['BPE', null],
  ])('a %s vocab id %j is refused in one line naming the token', (type, id) => {
    const vocab = { ...Object.fromEntries(VOCAB.map((t, i) => [t, i])), b: id };
    const fields = type === 'WordPiece' ? { continuing_subword_prefix: '##', max_input_chars_per_word: 100 } : type === 'BPE' ? { merges: [] } : {};
    const dir = folder({ model: { type, unk_token: '[UNK]', ...fields, vocab } });
    const line = `${join(dir, 'tokenizer.json')}: not a tokenizer we can load: model (${type}): vocab: token 'b': expected an integer from 0 to 2^32 − 1, got ${JSON.stringify(id)}`;
    expect(() => loadTokenizer(dir)).toThrow(new DataError(line));
    expect(() => folderTokenizerJson(dir)).toThrow(line);
  });

  // (JSON.parse reads 3.0 as 3, where tokenizers' serde reads a float, which an integer field refuses: 'invalid type:
  // floating point `3.0`, expected u32', and transformers fails to load the file)
  it.each([
    ['"id":0,', '"id":0.0,', 'an added token', {}, 'added_tokens[0]: id: expected an integer from 0 to 2^32 − 1, got 0.0'],
    ['"b":6', '"b":6e0', 'a vocab id', {}, "model (WordLevel): vocab: token 'b': expected an integer from 0 to 2^32 − 1, got 6e0"],
    ['["[SEP]",3]', '["[SEP]",3.0]', 'a BertProcessing', {}, 'post_processor (BertProcessing): sep[1]: expected an integer from 0 to 2^32 − 1, got 3.0'],
    [
      '"type_id":1}',
      '"type_id":1.0}',
      "a Sequence's TemplateProcessing",
      { post_processor: { type: 'Sequence', processors: [{ type: 'ByteLevel', add_prefix_space: false, trim_offsets: false }, TEMPLATE_OWN_IDS] } },
      'post_processor.processors[1] (TemplateProcessing): pair[3].Sequence.type_id: expected an integer from 0 to 2^32 − 1, got 1.0',
    ],
    [
      '"ids":[4,5]',
      '"ids":[4,5.00]',
      'a TemplateProcessing',
      { post_processor: TEMPLATE_OWN_IDS },
      "post_processor (TemplateProcessing): special_tokens['Y'].ids[1]: expected an integer from 0 to 2^32 − 1, got 5.00",
    ],
    [
      '"max_input_chars_per_word":100',
      '"max_input_chars_per_word":1E2',
      'a WordPiece',
      { model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: {} } },
      'model (WordPiece): max_input_chars_per_word: expected an integer from 0, got 1E2',
    ],
    [
      '"max_length":8',
      '"max_length":8.0',
      'a truncation',
      { truncation: { max_length: 8, strategy: 'LongestFirst', stride: 0 } },
      'truncation: max_length: expected an integer from 0, got 8.0',
    ],
    [
      '"Fixed":8',
      '"Fixed":8.0',
      'a padding',
      { padding: { strategy: { Fixed: 8 }, direction: 'Right', pad_to_multiple_of: null, pad_id: 0, pad_type_id: 0, pad_token: '[PAD]' } },
      'padding: strategy: Fixed: expected an integer from 0, got 8.0',
    ],
    [
      '"start":1',
      '"start":1.0',
      "a Sequence's Strip decoder",
      { decoder: { type: 'Sequence', decoders: [{ type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }] } },
      'decoder.decoders[1] (Strip): start: expected an integer from 0, got 1.0',
    ],
    [
      '"length":2',
      '"length":2.0',
      'a FixedLength',
      { pre_tokenizer: { type: 'FixedLength', length: 2 } },
      'pre_tokenizer (FixedLength): length: expected an integer from 1, got 2.0',
    ],
  ])('%s written as %s (%s) is refused in one line naming the field', (from, to, _, parts, why) => {
    const dir = folder(parts);
    const file = join(dir, 'tokenizer.json');
    const text = readFileSync(file, 'utf8');
    expect(text).toContain(from);
    writeFileSync(file, text.replace(from, to));
    const line = `${file}: not a tokenizer we can load: ${why}, a float to tokenizers, which reads integers alone (write ${Number(to.match(/[\d.eE]+(?=[,}\]]*$)/)![0])})`;
    expect(() => loadTokenizer(dir)).toThrow(new DataError(line));
    expect(() => folderTokenizerJson(dir)).toThrow(line);
  });

  it("reads the floats tokenizers reads (a BPE's dropout, a Unigram's scores) and a token's text that looks like one", () => {
    const encode = (parts: Record<string, unknown>, edit: (text: string) => string) => {
      const dir = folder(parts);
      const file = join(dir, 'tokenizer.json');
      const text = readFileSync(file, 'utf8');
      expect(edit(text)).not.toBe(text);
      writeFileSync(file, edit(text));
      return loadTokenizer(dir).encode('a b', null, 20).ids;
    };
    const bpe = { type: 'BPE', vocab: Object.fromEntries(VOCAB.map((t, i) => [t, i])), merges: [], dropout: 0 };
    expect(encode({ model: bpe }, (t) => t.replace('"dropout":0', '"dropout":0.0'))).toEqual([2, 5, 6, 3]);
    const unigram = { type: 'Unigram', unk_id: 1, vocab: VOCAB.map((t, i) => [t, -i]) };
    expect(encode({ model: unigram }, (t) => t.replace('["[PAD]",0]', '["[PAD]",0.0]').replace('["a",-5]', '["a",-5.0]'))).toEqual([2, 5, 6, 3]);
    // (an added token whose text is a float's: no number)
    expect(encode({}, (t) => t.replace('"content":"[MASK]"', '"content":"x: 1.0,"'))).toEqual([2, 5, 6, 3]);
  });

  it('reads a vocab id up to 2^32 − 1, as tokenizers does', () => {
    const vocab = { ...Object.fromEntries(VOCAB.map((t, i) => [t, i])), b: 4294967295 };
    expect(loadTokenizer(folder({ model: { type: 'WordLevel', unk_token: '[UNK]', vocab } })).encode('a b', null, 8).ids).toEqual([2, 5, 4294967295, 3]);
  });

  it('reads a precompiled_charsmap tokenizers reads: base64 with or without its padding, a trie size not a multiple of 4', () => {
    const odd = [...CHARSMAP, 0x61, 0x62];
    odd[0] = 1026;
    for (const map of [charsmap(CHARSMAP), charsmap(CHARSMAP).replace(/=+$/, ''), charsmap(odd)]) {
      const dir = folder({ normalizer: { type: 'Sequence', normalizers: [{ type: 'Precompiled', precompiled_charsmap: map }, { type: 'Lowercase' }] } });
      expect(loadTokenizer(dir).encode('a B', null, 8).ids).toEqual([2, 5, 6, 3]);
    }
  });

  it('reads a truncation and padding of the fields tokenizers requires, and a BPE without its optional fields', () => {
    const encode = (parts: Record<string, unknown>) => loadTokenizer(folder(parts)).encode('a b', null, 20).ids;
    const plain = encode({});
    expect(encode({ truncation: { max_length: 8, strategy: 'LongestFirst', stride: 0 } })).toEqual(plain);
    expect(
      encode({ padding: { strategy: { Fixed: 8 }, direction: 'Right', pad_to_multiple_of: null, pad_id: 0, pad_type_id: 0, pad_token: '[PAD]' } }),
    ).toEqual(plain);
    const bpe = { type: 'BPE', vocab: Object.fromEntries(VOCAB.map((t, i) => [t, i])), merges: [] };
    expect(encode({ model: bpe })).toEqual(encode({ model: { ...bpe, unk_token: null, fuse_unk: false, dropout: null } }));
    // (merges of tokens its vocab holds, as pairs or as strings past a "#version" line)
    const merged = { ...bpe, vocab: Object.fromEntries([...VOCAB, 'ab'].map((t, i) => [t, i])) };
    expect(encode({ model: { ...merged, merges: ['#version: 0.2', 'a b'] } })).toEqual(encode({ model: { ...merged, merges: [['a', 'b']] } }));
  });

  it("reads a model of no type as the first of tokenizers' types whose fields read (BPE, WordPiece, WordLevel, Unigram), as it does", () => {
    const encode = (model: Record<string, unknown>) => loadTokenizer(folder({ model })).encode('a ab', null, 20).ids;
    const vocab = Object.fromEntries([...VOCAB, '##b'].map((t, i) => [t, i]));
    const wordPiece = { unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab };
    expect(encode(wordPiece)).toEqual(encode({ ...wordPiece, type: 'WordPiece' }));
    expect(encode({ ...wordPiece, type: 'WordPiece' })).toEqual([2, 5, 5, 10, 3]);
    // without max_input_chars_per_word a WordPiece's fields do not read: tokenizers reads them as a WordLevel's
    const wordLevel = { unk_token: '[UNK]', continuing_subword_prefix: '##', vocab };
    expect(encode(wordLevel)).toEqual(encode({ ...wordLevel, type: 'WordLevel' }));
    expect(encode(wordLevel)).toEqual([2, 5, 1, 3]);
  });

  it('reads a model as its type, whatever other fields it holds (a WordLevel holding a continuing_subword_prefix)', () => {
    const encode = (model: Record<string, unknown>) => loadTokenizer(folder({ model })).encode('a ab', null, 20).ids;
    const vocab = Object.fromEntries([...VOCAB, '##b'].map((t, i) => [t, i]));
    // (where @huggingface/tokenizers, which knows no WordLevel, read one holding it as a WordPiece: 'ab' as a, ##b)
    expect(encode({ type: 'WordLevel', unk_token: '[UNK]', continuing_subword_prefix: '##', vocab })).toEqual([2, 5, 1, 3]);
    expect(encode({ type: 'WordLevel', unk_token: '[UNK]', vocab, max_input_chars_per_word: 100 })).toEqual([2, 5, 1, 3]);
  });

  it('reads the fields tokenizers defaults as it does (use_regex true, Punctuation Isolated, prepend_scheme always)', () => {
    const ids = (parts: Record<string, unknown>) => loadTokenizer(folder(parts)).encode('a,b a', null, 20).ids;
    expect(ids({ pre_tokenizer: without(BYTE_LEVEL, 'use_regex') })).toEqual(ids({ pre_tokenizer: BYTE_LEVEL }));
    expect(ids({ pre_tokenizer: { type: 'Punctuation' } })).toEqual([2, 5, 7, 1, 3]);
    expect(ids({ pre_tokenizer: { type: 'Punctuation', behavior: 'Isolated' } })).toEqual([2, 5, 7, 1, 3]);
    expect(ids({ pre_tokenizer: { ...SPLIT, behavior: 'Isolated' } })).toEqual([2, 5, 7, 1, 3]);
  });

  // (tokenizers' NormalizerWrapper and DecoderWrapper read a part of a type their tagged reading names as that type,
  // any other as the first of their untagged reading's types whose fields read, serde's derived tagged structs whatever
  // type is written: BertNormalizer, Strip, Sequence, Replace, Prepend; BPEDecoder, WordPiece, CTC, Replace, Strip;
  // checked against the tokenizers 0.23.2 node binding, where @huggingface/tokenizers refused them)
  it('reads a normalizer or decoder of no type, or of a type tokenizers does not name, as the first type whose fields read, as it does', () => {
    const ids = (parts: Record<string, unknown>) => loadTokenizer(folder(parts)).encode(' a  b,a ', null, 20).ids;
    const strip = { strip_left: true, strip_right: true };
    const prepend = { prepend: 'a' };
    const lowercase = { type: 'Lowercase' };
    const typed = ids({ normalizer: { type: 'Prepend', ...prepend } });
    expect(typed).toEqual([2, 5, 5, 1, 3]);
    expect(ids({ normalizer: prepend })).toEqual(typed);
    expect(ids({ normalizer: { type: 'Foo', ...prepend } })).toEqual(typed);
    expect(ids({ normalizer: { type: null, ...prepend } })).toEqual(typed);
    // ("BertNormalizer" is not a name of the tagged reading (that is "Bert"): its fields read as a Prepend's
    expect(ids({ normalizer: { type: 'BertNormalizer', ...prepend } })).toEqual(typed);
    expect(ids({ normalizer: { type: 'Sequence', normalizers: [lowercase, { type: 'Foo', ...prepend }] } })).toEqual(typed);
    expect(ids({ normalizer: { normalizers: [lowercase, prepend] } })).toEqual(typed);
    expect(ids({ normalizer: { type: 'Unknown', ...strip } })).toEqual(ids({ normalizer: { type: 'Strip', ...strip } }));
    const bert = { clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true };
    expect(ids({ normalizer: { type: 'Bert', ...bert } })).toEqual(ids({ normalizer: { type: 'BertNormalizer', ...bert } }));
    const plain = ids({});
    for (const decoder of [{ suffix: '</w>' }, { type: 'Foo', prefix: '##', cleanup: true }, { type: 'BPE', content: ' ', start: 1, stop: 0 }])
      expect(ids({ decoder })).toEqual(plain);
  });

  it('writes such a normalizer for transformers.js as its type, which reads it as eval does', async () => {
    for (const [name, normalizer] of [
      ['typeless-prepend', { type: 'Foo', prepend: 'a' }],
      ['typeless-sequence', { normalizers: [{ type: 'Lowercase' }, { prepend: 'a' }] }],
      ['bert-alias', { type: 'Bert', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true }],
    ] as const) {
      const { theirs, ours } = await exportedIds(tokenizerFolder(root, name, tokenizerJson(VOCAB, { normalizer, pre_tokenizer: { type: 'WhitespaceSplit' } })));
      for (const text of ['A b', ' ab a, ']) expect(theirs(text)).toEqual(ours(text));
    }
  });

  // (tokenizers' PostProcessorWrapper is an untagged enum: RobertaProcessing, BertProcessing, ByteLevel,
  // TemplateProcessing, Sequence, the first whose fields read, only ByteLevel's and Sequence's types checked)
  // (tokenizers reads such a file and panics on each text of the broken template, "no entry found for key" or an index
  // out of bounds, and encodes the other template's texts; checked against the tokenizers 0.23.2 node binding)
  it.each([
    [
      'pair',
      [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
      "post_processor (TemplateProcessing): pair: the special token '[CLS]' is not in special_tokens, so tokenizers fails on every sentence pair (single texts read)",
    ],
    [
      'single',
      [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
      "post_processor (TemplateProcessing): single: the special token '[CLS]' is not in special_tokens, so tokenizers fails on every single text (sentence pairs read)",
    ],
    [
      'single',
      [{ Sequence: { id: 'B', type_id: 0 } }],
      [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
      'post_processor (TemplateProcessing): single: a Sequence B, which a single text has none of, so tokenizers fails on every single text (sentence pairs read)',
    ],
  ])('a TemplateProcessing whose %s template tokenizers fails on reads the other texts and refuses those in one line', (broken, single, pair, why) => {
    const special_tokens = { '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] } };
    for (const [post_processor, at] of [
      [{ type: 'TemplateProcessing', single, pair, special_tokens }, 'post_processor'],
      [{ type: 'Sequence', processors: [BYTE_LEVEL, { type: 'TemplateProcessing', single, pair, special_tokens }] }, 'post_processor.processors[1]'],
    ] as const) {
      const dir = folder({ post_processor });
      const t = loadTokenizer(dir);
      const line = `${join(dir, 'tokenizer.json')}: ${why.replace('post_processor', at)}`;
      if (broken === 'pair') {
        expect(t.encode('a b', null, 20).ids).toEqual([5, 6, 3]);
        expect(() => t.encode('a', 'b', 20)).toThrow(new DataError(line));
      } else {
        expect(t.encode('a b', 'b', 20)).toEqual({ ids: [5, 6, 3, 6], typeIds: [0, 0, 0, 1] });
        expect(() => t.encode('a', null, 20)).toThrow(new DataError(line));
      }
    }
  });

  // (transformers.js gives such texts ids all the same, its missing special token read by its text)
  it('--format transformers.js warns in one line of a template tokenizers fails on, whose texts transformers.js encodes', async () => {
    const special_tokens = { '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] } };
    const cls = { SpecialToken: { id: '[CLS]', type_id: 0 } };
    const [a, b, sep] = [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }];
    for (const [name, single, pair, broken] of [
      [
        'broken-pair',
        [a, sep],
        [cls, a, b],
        "pair: the special token '[CLS]' is not in special_tokens, so tokenizers fails on every sentence pair (single texts read)",
      ],
      [
        'broken-single',
        [cls, a],
        [a, sep, b],
        "single: the special token '[CLS]' is not in special_tokens, so tokenizers fails on every single text (sentence pairs read)",
      ],
      ['whole', [a, sep], [a, sep, b], undefined],
    ] as const) {
      const hf = tokenizerFolder(root, name, {
        ...tokenizerJson(VOCAB, { pre_tokenizer: { type: 'WhitespaceSplit' } }),
        post_processor: { type: 'TemplateProcessing', single, pair, special_tokens },
      });
      const { notes } = await exportToTransformersJs(hf, `${hf}-tjs`);
      expect(notes).toEqual(
        broken === undefined
          ? []
          : [
              `warning: ${hf}-tjs: its tokenizer.json's post_processor (TemplateProcessing): ${broken}; transformers.js encodes those texts all the same, where transformers fails on them and compress eval refuses them: classify with it only the texts tokenizers reads (or mend the template)`,
            ],
      );
    }
  }, 30_000);

  it('reads a post-processor as the type whose fields tokenizers reads first, as it does', () => {
    const sep = ['[SEP]', 3];
    const cls = ['[CLS]', 2];
    const encode = (post_processor: unknown) => {
      const t = loadTokenizer(folder({ post_processor }));
      return [t.encode('a b', 'b', 20), t.encode('a', null, 20)];
    };
    const bert = encode({ type: 'BertProcessing', sep, cls });
    const roberta = encode({ type: 'RobertaProcessing', sep, cls, trim_offsets: true, add_prefix_space: false });
    expect(bert[0]).toEqual({ ids: [2, 5, 6, 3, 6, 3], typeIds: [0, 0, 0, 0, 1, 1] });
    expect(roberta[0]).toEqual({ ids: [2, 5, 6, 3, 3, 6, 3], typeIds: [0, 0, 0, 0, 0, 0, 0] });
    // a RobertaProcessing lacking trim_offsets or add_prefix_space (or of another type there) is a BertProcessing
    expect(encode({ type: 'RobertaProcessing', sep, cls })).toEqual(bert);
    expect(encode({ type: 'RobertaProcessing', sep, cls, trim_offsets: true })).toEqual(bert);
    expect(encode({ type: 'RobertaProcessing', sep, cls, trim_offsets: true, add_prefix_space: 'false' })).toEqual(bert);
    expect(encode({ type: 'Sequence', processors: [BYTE_LEVEL, { type: 'RobertaProcessing', sep, cls, trim_offsets: false }] })).toEqual(bert);
    // sep and cls make a BertProcessing whatever the type says, a Roberta's fields a RobertaProcessing
    expect(encode({ sep, cls })).toEqual(bert);
    expect(encode({ type: 'TemplateProcessing', sep, cls, single: [], pair: [], special_tokens: {} })).toEqual(bert);
    expect(encode({ type: 'BertProcessing', sep, cls, trim_offsets: false, add_prefix_space: false })).toEqual(roberta);
    expect(encode({ type: 'ByteLevel', sep, cls, trim_offsets: true, add_prefix_space: false })).toEqual(roberta);
  });
});
