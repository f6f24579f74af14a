/**
 * A text given to the library's encode holding a lone surrogate (half of a UTF-16 pair: a text cut inside an emoji) is
 * read with U+FFFD in its place, as the tokenizers Node binding hands it to Rust (and as TextEncoder, Buffer and a GLUE
 * file's bytes that are no UTF-8 give it), where the library read the half as a character of its own: a vocabulary's
 * U+FFFD piece was never found (a byte-fallback model gave the bytes EF BF BD, a word holding it was one unknown token).
 * The ids below are those the Rust tokenizers 0.23.2 Node binding gives for the same tokenizer.json and text.
 */
import { describe, expect, it } from 'vitest';
import { tokenizerFromJson } from '../../src/eval/tokenizer.ts';

const tokenizer = (model: object, preTokenizer: object) =>
  tokenizerFromJson(
    { version: '1.0', added_tokens: [], normalizer: null, pre_tokenizer: preTokenizer, post_processor: null, decoder: null, model },
    {},
    'tokenizer.json',
  );

const metaspace = { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true };
const unigramVocab: Array<[string, number]> = [
  ['<unk>', 0],
  ['▁', -2],
  ['a', -3],
  ['b', -3],
  ['▁a', -1],
  ['\uFFFD', -4],
  ...Array.from({ length: 256 }, (_, b): [string, number] => [`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`, -10]),
];

const tokenizers = {
  'a Unigram of byte_fallback': tokenizer({ type: 'Unigram', unk_id: 0, vocab: unigramVocab, byte_fallback: true }, metaspace),
  'a WordLevel': tokenizer({ type: 'WordLevel', vocab: { '[UNK]': 0, a: 1, b: 2, ab: 3, '\uFFFD': 4 }, unk_token: '[UNK]' }, { type: 'Whitespace' }),
  'a WordPiece': tokenizer(
    {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: { '[UNK]': 0, a: 1, b: 2, '##b': 3, '\uFFFD': 4, '##\uFFFD': 5 },
    },
    { type: 'BertPreTokenizer' },
  ),
};

const ids = (name: keyof typeof tokenizers, a: string, b: string | null = null) => tokenizers[name].encode(a, b, 64).ids;

describe('a lone surrogate given to encode', () => {
  it.each([
    ['a Unigram of byte_fallback', 'a\uD800b', [4, 5, 3]],
    ['a Unigram of byte_fallback', '\uDC00\uD800', [1, 5, 5]],
    ['a WordLevel', 'x \uDC00 y', [0, 4, 0]],
    ['a WordPiece', 'a\uD800b', [1, 5, 3]],
    ['a WordPiece', 'ab\uDBFF', [1, 3, 5]],
  ] as const)('is read as U+FFFD by %s, as tokenizers gives it (%j)', (name, text, expected) => {
    expect(ids(name, text)).toEqual(expected);
    expect(ids(name, text)).toEqual(ids(name, text.replace(/[\uD800-\uDFFF]/g, '\uFFFD')));
  });

  it("is read so in a pair's second text, and a whole surrogate pair is one character still", () => {
    expect(ids('a WordPiece', 'a', 'b\uDC00')).toEqual(ids('a WordPiece', 'a', 'b\uFFFD'));
    expect(ids('a WordPiece', 'a', 'b\uDC00')).toEqual([1, 2, 5]);
    // (an emoji whole: the byte pieces of its four UTF-8 bytes, not two U+FFFD)
    expect(ids('a Unigram of byte_fallback', '\uD83D\uDE00')).toEqual([1, ...[0xf0, 0x9f, 0x98, 0x80].map((b) => 6 + b)]);
  });
});
