/**
 * tokenizers reads characters' general categories of its crates' older tables, not of the running Unicode: the
 * unicode_categories crate's Unicode 8.0 for its BertNormalizer (clean_text drops Cc, Cf and Co; stripping accents
 * drops Mn) and its BertPreTokenizer and Punctuation pre-tokenizer (P), unicode-normalization-alignments' Unicode 9.0
 * marks for its StripAccents normalizer. A character assigned since (U+061D ARABIC END OF TEXT MARK, Po since 14.0;
 * U+0890 ARABIC POUND MARK ABOVE, Cf since 14.0; U+09FE BENGALI SANDHI MARK, Mn since 11.0; U+1AC0, Mn since 14.0) is
 * kept and splits no word there, where Node's `\p{…}` dropped or split it. Its regex crate's `\w` (the Whitespace
 * pre-tokenizer, single_word) reads Unicode 16.0: a letter assigned in 17.0 (U+088F, U+0C5C) is no word character.
 * Each expected id is what tokenizers 0.23 (its Node binding) gives for the same tokenizer.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTokenizer } from '../../src/eval/tokenizer.ts';
import { SPECIALS, wordPieceModel } from '../helpers/tokenizer-json.ts';

const root = mkdtempSync(join(tmpdir(), 'tokenizer-unicode-tables-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// (a 5, b 6, ##b 7, ؝ 8, ##؝ 9)
const VOCAB = [...SPECIALS, 'a', 'b', '##b', '\u061d', '##\u061d'];

let n = 0;
/** The ids (no special tokens: no post-processor) of each of `texts` from a WordPiece tokenizer.json of VOCAB with this normalizer and pre-tokenizer. */
function ids(normalizer: object | null, preTokenizer: object, texts: readonly string[]): number[][] {
  const dir = join(root, String(n++));
  mkdirSync(dir);
  const json = { version: '1.0', added_tokens: [], normalizer, pre_tokenizer: preTokenizer, post_processor: null, decoder: null, model: wordPieceModel(VOCAB) };
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));
  const tokenizer = loadTokenizer(dir);
  return texts.map((text) => [...tokenizer.encode(text, null, 64).ids]);
}

const bert = (settings: { clean_text: boolean; strip_accents: boolean }) => ({
  type: 'BertNormalizer',
  handle_chinese_chars: false,
  lowercase: false,
  ...settings,
});
const whitespace = { type: 'WhitespaceSplit' };

describe("a tokenizer.json's BERT rules read by the Unicode tables tokenizers reads", () => {
  it('splits no word at punctuation assigned after Unicode 8.0 (BertPreTokenizer, Punctuation); ASCII and older punctuation still split', () => {
    expect(ids(null, { type: 'BertPreTokenizer' }, ['a\u061db', 'a,b', 'a\u2e43b'])).toEqual([[5, 9, 7], [5, 1, 6], [1]]);
    expect(ids(null, { type: 'Punctuation', behavior: 'Isolated' }, ['a\u061db', 'a,b'])).toEqual([
      [5, 9, 7],
      [5, 1, 6],
    ]);
  });

  it("keeps a format character assigned after Unicode 8.0 where clean_text drops 8.0's (U+200B) and control characters that are White_Space (U+000B, U+0085)", () => {
    expect(ids(bert({ clean_text: true, strip_accents: false }), whitespace, ['a\u0890b', 'a\u200bb', 'a\u000bb', 'a\u0085b'])).toEqual([
      [1],
      [5, 7],
      [5, 7],
      [5, 7],
    ]);
  });

  it('keeps a nonspacing mark assigned after Unicode 8.0 where stripping accents drops the others (BertNormalizer)', () => {
    expect(ids(bert({ clean_text: false, strip_accents: true }), whitespace, ['a\u09feb', 'a\u0301b'])).toEqual([[1], [5, 7]]);
  });

  it("keeps a mark assigned after Unicode 9.0 where StripAccents drops 9.0's", () => {
    expect(ids({ type: 'StripAccents' }, whitespace, ['a\u1ac0b', 'a\u0300b', 'a\u0d00b'])).toEqual([[1], [5, 7], [1]]);
  });
});

describe("a tokenizer.json's regex-crate word characters read by Unicode 16.0, as tokenizers 0.23.2's regex crate reads them", () => {
  // (a 5, b 6, a\u088fb 7, \u088f 8, café 9, <w> 10: single_word)
  const WORDS = [...SPECIALS, 'a', 'b', 'a\u088fb', '\u088f', 'caf\u00e9', '<w>'];
  const wordIds = (preTokenizer: object, text: string): number[] => {
    const dir = join(root, String(n++));
    mkdirSync(dir);
    const model = { type: 'WordLevel', unk_token: '[UNK]', vocab: Object.fromEntries(WORDS.map((t, i) => [t, i])) };
    const added = [{ id: 10, content: '<w>', single_word: true, lstrip: false, rstrip: false, normalized: false, special: false }];
    const json = { version: '1.0', added_tokens: added, normalizer: null, pre_tokenizer: preTokenizer, post_processor: null, decoder: null, model };
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));
    return [...loadTokenizer(dir).encode(text, null, 64).ids];
  };

  it('splits a Whitespace pre-token at a letter assigned in Unicode 17.0 (U+088F), where Node 20.20 reads it as a word character; older letters stay in their word', () => {
    expect(wordIds({ type: 'Whitespace' }, 'a\u088fb caf\u00e9')).toEqual([5, 8, 6, 9]);
  });

  it('finds a single_word token beside a letter assigned in Unicode 17.0 (U+088F, U+0C5C), not beside an older one', () => {
    expect(wordIds({ type: 'WhitespaceSplit' }, '\u088f<w> \u0c5c<w> x<w>')).toEqual([8, 10, 1, 10, 1]);
  });
});
