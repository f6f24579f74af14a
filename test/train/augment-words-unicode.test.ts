/**
 * Augmentation's own BERT word splitting (basicTokens, normalizeWord: the words it replaces and the WordPiece ids it
 * gives an MLM) reads characters' categories as eval's tokenizer reads them since 3cf1dfe8, by tokenizers' Unicode 8.0
 * tables: a punctuation mark (U+061D, Po since 14.0), a format character (U+0890, Cf since 14.0) or a nonspacing mark
 * (U+09FE, Mn since 11.0) assigned since splits or loses nothing, where Node's `\p{P}`, `\p{Cf}` and `\p{Mn}` split
 * the word at it or dropped it, giving other ids than eval's for the same text; and it decomposes accents by
 * tokenizers' Unicode 9.0 (normalizedAsTokenizers), as eval does, where Node's NFD split U+11938 (13.0) in two.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTokenizer } from '../../src/eval/tokenizer.ts';
import { basicTokens, normalizeWord, wordPieceIds, wordVocab } from '../../src/train/augment-words.ts';
import { SPECIALS, wordPieceModel } from '../helpers/tokenizer-json.ts';

const root = mkdtempSync(join(tmpdir(), 'augment-words-unicode-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// (a 5, b 6, ##b 7, ؝ 8, ##؝ 9, ##\u0890 10, ##\u09fe 11, ##\u{11938} 12)
const VOCAB = [...SPECIALS, 'a', 'b', '##b', '\u061d', '##\u061d', '##\u0890', '##\u09fe', '##\u{11938}'];

/** The ids eval gives `text` with an uncased BertNormalizer and BertPreTokenizer over VOCAB (no special tokens). */
function evalIds(text: string): number[] {
  const dir = mkdtempSync(join(root, 'tok-'));
  const normalizer = { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true };
  const json = {
    version: '1.0',
    added_tokens: [],
    normalizer,
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: null,
    decoder: null,
    model: wordPieceModel(VOCAB),
  };
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));
  return [...loadTokenizer(dir).encode(text, null, 64).ids];
}

/** The ids augmentation gives `text` (its basic tokens, normalized, in WordPiece pieces). */
function augmentIds(text: string): number[] {
  const vocab = wordVocab(VOCAB, { lowercase: true });
  return basicTokens(text).flatMap((t) => wordPieceIds(vocab, normalizeWord(text.slice(t.start, t.end), true), 1));
}

describe("augmentation's words read by the Unicode tables eval's tokenizer reads", () => {
  it.each([
    ['a punctuation mark assigned since Unicode 8.0 (U+061D)', 'a\u061db', [5, 9, 7]],
    ['a format character assigned since Unicode 8.0 (U+0890)', 'a\u0890b', [5, 10, 7]],
    ['a nonspacing mark assigned since Unicode 8.0 (U+09FE)', 'A\u09feb', [5, 11, 7]],
    ["a character assigned since Unicode 9.0 that Node's NFD decomposes (U+11938), kept whole", 'A\u{11938}b', [5, 12, 7]],
    ['older punctuation, format characters and accents', 'a,b a\u200bb \u00e1b', [5, 1, 6, 5, 7, 5, 7]],
  ])('%s: the same ids as eval', (_what, text, expected) => {
    expect(evalIds(text)).toEqual(expected);
    expect(augmentIds(text)).toEqual(expected);
  });
});
