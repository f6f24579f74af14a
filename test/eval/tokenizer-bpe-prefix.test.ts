/**
 * A BPE model with a continuing_subword_prefix (tokenizers/src/models/bpe/model.rs, merge_word): each character after
 * a word's first looked up with the prefix, a merge (a, ##b) making ab. @huggingface/tokenizers (and so transformers.js)
 * ignores the prefix; eval reads it as tokenizers does (ids checked against the tokenizers 0.23.2 node binding), the
 * reading version marks such tokenizers, and --format transformers.js says in one line that transformers.js differs.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutoTokenizer } from '@huggingface/transformers';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTokenizer } from '../../src/eval/tokenizer.ts';
import { TOKENIZER_READINGS, tokenizerReadingVersion } from '../../src/eval/tokenizer-reading.ts';
import { exportToTransformersJs } from '../../src/export/transformers-js.ts';
import { SPECIALS, tokenizerFolder, tokenizerJson } from '../helpers/tokenizer-json.ts';

const root = mkdtempSync(join(tmpdir(), 'bc-bpe-prefix-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const TOKENS = [...SPECIALS, 'a', 'b', 'c', '##a', '##b', '##c', 'ab', '##ab', 'abc', '##bc', 'bc', 'c##a'];
const VOCAB = Object.fromEntries(TOKENS.map((t, i) => [t, i]));

/** A BPE model of VOCAB with these merges, continuing_subword_prefix ## and `extra`. */
function bpe(merges: string[][], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'BPE',
    dropout: null,
    unk_token: '[UNK]',
    continuing_subword_prefix: '##',
    end_of_word_suffix: null,
    fuse_unk: false,
    byte_fallback: false,
    vocab: VOCAB,
    merges,
    ...extra,
  };
}

let n = 0;
/** A folder of a tokenizer.json of `model` behind a WhitespaceSplit. */
function folder(model: Record<string, unknown>): string {
  const dir = join(root, String(n++));
  mkdirSync(dir);
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson(TOKENS, { pre_tokenizer: { type: 'WhitespaceSplit' }, model })));
  return dir;
}

const TEXTS = ['abc ab ba cab', 'aab abab bca', 'abcabc c a b'];

describe('BPE with a continuing_subword_prefix', () => {
  it.each([
    // (each text's ids as the tokenizers node binding gives them)
    [
      [
        ['a', '##b'],
        ['ab', '##c'],
      ],
      {},
      [
        [2, 13, 11, 6, 8, 7, 8, 9, 3],
        [2, 5, 8, 9, 11, 8, 9, 6, 10, 8, 3],
        [2, 13, 8, 9, 10, 7, 5, 6, 3],
      ],
    ],
    [
      [
        ['b', '##c'],
        ['a', '##b'],
      ],
      {},
      [
        [2, 11, 10, 11, 6, 8, 7, 8, 9, 3],
        [2, 5, 8, 9, 11, 8, 9, 15, 8, 3],
        [2, 11, 10, 8, 9, 10, 7, 5, 6, 3],
      ],
    ],
    [
      [
        ['a', '##b'],
        ['##b', '##c'],
        ['a', '##bc'],
      ],
      { end_of_word_suffix: '</w>' },
      [
        [2, 11, 1, 5, 1, 6, 1, 7, 8, 1, 3],
        [2, 5, 8, 1, 11, 8, 1, 6, 10, 1, 3],
        [2, 11, 10, 8, 9, 1, 1, 1, 1, 3],
      ],
    ],
  ])('reads merges %j (%j) as tokenizers does', (merges, extra, expected) => {
    const t = loadTokenizer(folder(bpe(merges, extra)));
    expect(TEXTS.map((text) => t.encode(text, null, 64).ids)).toEqual(expected);
  });

  it('reads unknown characters, byte pieces and merges listed twice as tokenizers does (merges by ids)', () => {
    // (ids as the tokenizers 0.23.2 node binding gives them: a byte piece and the unknown token join merges; bytes of
    // the prefixed text ('##é' as <0x23> <0x23> <0xC3> <0xA9>); a fused unknown run pending over byte pieces written
    // after them; a merge listed twice of its last rank; a character dropped where the model names no unknown token)
    const vocab = Object.fromEntries([...TOKENS, '<0x23>', '<0xC3>', '<0xA9>', '<0xC3>xA9>', '[UNK]b'].map((t, i) => [t, i]));
    const ids = (model: Record<string, unknown>, texts: string[]) => {
      const t = loadTokenizer(folder(model));
      return texts.map((text) => t.encode(text, null, 64).ids);
    };
    const unkMerges = [
      ['<0xC3>', '<0xA9>'],
      ['a', '##b'],
      ['[UNK]', '##b'],
    ];
    expect(ids(bpe(unkMerges, { vocab, fuse_unk: true, byte_fallback: true }), ['é', 'aé', 'xé', 'axyéb', 'xyb'])).toEqual([
      [2, 20, 3],
      [2, 5, 17, 17, 20, 3],
      [2, 17, 17, 20, 1, 3],
      [2, 5, 17, 17, 20, 21, 3],
      [2, 21, 3],
    ]);
    expect(ids(bpe(unkMerges, { vocab }), ['axyb', 'xb'])).toEqual([
      [2, 5, 1, 21, 3],
      [2, 21, 3],
    ]);
    const bc = ['##b', '##c'];
    const ab = ['a', '##b'];
    expect(ids(bpe([bc, ab, bc]), ['abc'])).toEqual([[2, 11, 10, 3]]);
    expect(ids(bpe([ab, bc, ab]), ['abc'])).toEqual([[2, 5, 14, 3]]);
    expect(ids(bpe([ab], { unk_token: null }), ['axb', 'x'])).toEqual([
      [2, 11, 3],
      [2, 3],
    ]);
  });

  it('marks such a tokenizer with its reading version (its points computed with the prefix ignored are stale)', () => {
    const version = TOKENIZER_READINGS.find((r) => r.changed({ subwordPrefixBpe: true } as never, false))!.version;
    expect(tokenizerReadingVersion(folder(bpe([['a', '##b']])), false)).toBe(version);
    expect(tokenizerReadingVersion(folder(bpe([['a', 'b']], { continuing_subword_prefix: null })), false)).toBeLessThan(version);
  });

  it('says in one line, at --format transformers.js, that transformers.js ignores the prefix', async () => {
    const hf = tokenizerFolder(root, 'tjs', tokenizerJson(TOKENS, { pre_tokenizer: { type: 'WhitespaceSplit' }, model: bpe([['a', '##b']]) }));
    const out = `${hf}-tjs`;
    const { notes } = await exportToTransformersJs(hf, out);
    const theirs = await AutoTokenizer.from_pretrained(out);
    const ids = Array.from(theirs('ab').input_ids.data as BigInt64Array, Number);
    // (what the warning says: transformers.js looks 'b' up without the prefix, and makes no 'ab' of a, ##b)
    expect(ids).not.toEqual(loadTokenizer(hf).encode('ab', null, 64).ids);
    expect(notes.filter((line) => line.includes('continuing_subword_prefix'))).toEqual([
      `warning: ${out}: its tokenizer's BPE model marks the pieces after a word's first with a continuing_subword_prefix, which transformers.js ignores where transformers and compress eval read it: transformers.js splits such words into other ids (classify with compress eval, or give a tokenizer without the prefix)`,
    ]);
  });
});
