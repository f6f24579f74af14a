import { describe, expect, it } from 'vitest';
import { tokenizerFromJson } from '../../src/eval/tokenizer.ts';
import { cappedLength, longestFirstLengths, truncateLongestFirst } from '../../src/eval/truncation.ts';
import { SPECIALS, tokenizerJson } from '../helpers/tokenizer-json.ts';

describe('longest-first truncation (tokenizers TruncationStrategy::LongestFirst)', () => {
  it('keeps pairs that fit', () => {
    expect(longestFirstLengths(3, 4, 10)).toEqual([3, 4]);
  });
  it('cuts only the longer sequence when the shorter fits in half', () => {
    expect(longestFirstLengths(3, 20, 10)).toEqual([3, 7]);
    expect(longestFirstLengths(20, 3, 10)).toEqual([7, 3]);
  });
  it('halves the budget when both are long, the longer taking the odd token', () => {
    expect(longestFirstLengths(30, 20, 11)).toEqual([6, 5]);
    expect(longestFirstLengths(20, 30, 11)).toEqual([5, 6]);
    expect(longestFirstLengths(8, 8, 10)).toEqual([5, 5]);
  });
  it('truncates from the end', () => {
    expect(truncateLongestFirst(['a', 'b', 'c'], null, 2)).toEqual([['a', 'b'], null]);
    expect(truncateLongestFirst([1, 2, 3, 4], [5, 6], 4)).toEqual([
      [1, 2],
      [5, 6],
    ]);
  });
});

// (tokenizers 0.23's early exit, pre_tokenizer.rs tokenize_with_limit: a text is tokenized split by split only until
// it holds max_length tokens, and longest-first compares those counts; the ids below are the Rust binding's, 0.23.2)
describe('a sentence pair past max_length, as tokenizers 0.23 counts its texts', () => {
  const vocab = [...SPECIALS, 'a', '##a', 'b'];
  const model = (type: 'WordLevel' | 'WordPiece') => ({
    type,
    unk_token: '[UNK]',
    vocab: Object.fromEntries(vocab.map((t, i) => [t, i])),
    ...(type === 'WordPiece' ? { continuing_subword_prefix: '##', max_input_chars_per_word: 100 } : {}),
  });
  const tokenizer = (type: 'WordLevel' | 'WordPiece') =>
    tokenizerFromJson(tokenizerJson(vocab, { pre_tokenizer: { type: 'WhitespaceSplit' }, model: model(type) }), {}, 'tokenizer.json');
  const words = (word: string, n: number) => Array(n).fill(word).join(' ');

  it('cappedLength: the end of the first split the model tokenized at or past max_length, else the whole length', () => {
    expect(cappedLength([5, 10, 11], 11, 6)).toBe(10);
    expect(cappedLength([1, 2, 3, 4, 5, 6, 7], 7, 6)).toBe(6);
    expect(cappedLength([5], 5, 6)).toBe(5);
    expect(cappedLength([], 3, 2)).toBe(3);
  });

  it('gives the odd token to the text whose counted split ends later, not to the longer text', () => {
    // 12 words and 11, each counted to 6 (max_length): a tie, which gives the second text the odd token
    expect(tokenizer('WordLevel').encode(words('a', 12), words('b', 11), 6).ids).toEqual([2, 5, 3, 7, 7, 3]);
    // 11 tokens ('a ##a ##a ##a ##a' twice, then b) counted to 10, against 12 counted to 6: the shorter takes it
    const wordPiece = tokenizer('WordPiece');
    expect(wordPiece.encode('aaaaa aaaaa b', words('b', 12), 6).ids).toEqual([2, 5, 6, 3, 7, 3]);
    // (an even budget halves alike either way; a text below max_length is counted whole)
    expect(wordPiece.encode('aaaaa aaaaa b', words('b', 12), 7).ids).toEqual([2, 5, 6, 3, 7, 7, 3]);
    expect(wordPiece.encode('aaaaa', words('b', 12), 6).ids).toEqual([2, 5, 3, 7, 7, 3]);
  });
});
