/**
 * tokenizers normalizes (its NFD, NFKD, NFC and NFKC normalizers, a BertNormalizer's NFD before stripping accents)
 * through the unicode-normalization-alignments crate, whose tables are Unicode 9.0's: a character assigned since
 * neither decomposes nor composes and is a starter (combining class 0), where Node's normalize reads its later
 * Unicode: NFKD made U+A7F2 MODIFIER LETTER CAPITAL C (14.0) a C, NFKC U+1FBF1 SEGMENTED DIGIT ONE (13.0) a 1, NFD
 * split U+11938 DIVES AKURU VOWEL SIGN O (13.0) into U+11935 U+11930 and NFC joined them, and NFD moved U+0316 (class
 * 220) before U+1AC1 (14.0, class 230 to Node). Each expected id is what tokenizers 0.23.2 (its Node binding, npm
 * `tokenizers`, no dependency of the repo) gives for the same tokenizer.json; older characters still normalize.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTokenizer } from '../../src/eval/tokenizer.ts';
import { UNICODE9_UNASSIGNED } from '../../src/eval/unicode-categories-table.ts';
import { normalizedAsTokenizers } from '../../src/eval/unicode-normalization.ts';
import { SPECIALS } from '../helpers/tokenizer-json.ts';

const root = mkdtempSync(join(tmpdir(), 'tokenizer-unicode-normalization-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Whole words (a WordLevel model), each what one normalization or the other gives. */
const WORDS = [
  'a\ua7f2', // 5: U+A7F2 kept (tokenizers)
  'aC', // 6: U+A7F2 as Node's NFKD gives it
  'e\u0301', // 7: é decomposed
  '\u{1fbf1}2', // 8: U+1FBF1 kept
  '12', // 9: as Node's NFKC gives it
  'fi', // 10: ﬁ as NFKC gives it
  '\u{11935}\u{11930}', // 11: kept apart (tokenizers' NFC), or U+11938 as Node's NFD gives it
  '\u{11938}', // 12: kept whole (tokenizers' NFD), or as Node's NFC joins U+11935 U+11930
  '\u00e9', // 13: e U+0301 composed
  'a\u1ac1\u0316', // 14: marks in their order (tokenizers)
  'a\u0316\u1ac1', // 15: as Node's NFD orders them
  'a\u0316\u0301', // 16: older marks ordered by class
  'E\ua7f2', // 17: É U+A7F2 after NFKD and StripAccents (tokenizers)
  'EC', // 18: the same by Node's NFKD
  'a\u{11938}', // 19: lower-cased, U+11938 kept (BertNormalizer)
  'a\u{11935}\u{11930}', // 20: by Node's NFD
];
const VOCAB = [...SPECIALS, ...WORDS];

let n = 0;
/** The ids (no post-processor) of each of `texts` from a WordLevel tokenizer.json of VOCAB split at whitespace, with this normalizer. */
function ids(normalizer: object, texts: readonly string[]): number[][] {
  const dir = join(root, String(n++));
  mkdirSync(dir);
  const model = { type: 'WordLevel', unk_token: '[UNK]', vocab: Object.fromEntries(VOCAB.map((t, i) => [t, i])) };
  const json = { version: '1.0', added_tokens: [], normalizer, pre_tokenizer: { type: 'WhitespaceSplit' }, post_processor: null, decoder: null, model };
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));
  const tokenizer = loadTokenizer(dir);
  return texts.map((text) => [...tokenizer.encode(text, null, 64).ids]);
}

describe("a tokenizer.json's Unicode normalization read by the Unicode 9.0 tables tokenizers reads", () => {
  it('NFKD keeps a character assigned since 9.0 (U+A7F2) and decomposes older ones', () => {
    expect(ids({ type: 'NFKD' }, ['a\ua7f2', '\u00e9'])).toEqual([[5], [7]]);
  });

  it('NFKC keeps a character assigned since 9.0 (U+1FBF1) and folds older ones (ﬁ)', () => {
    expect(ids({ type: 'NFKC' }, ['\u{1fbf1}2', '\ufb01'])).toEqual([[8], [10]]);
  });

  it('NFC composes no pair whose composite was assigned since 9.0 (U+11935 U+11930) and composes older ones', () => {
    expect(ids({ type: 'NFC' }, ['\u{11935}\u{11930}', 'e\u0301'])).toEqual([[11], [13]]);
  });

  it('NFD keeps a composite assigned since 9.0 (U+11938) whole and orders no mark across a mark assigned since (U+1AC1)', () => {
    expect(ids({ type: 'NFD' }, ['\u{11938}', 'a\u1ac1\u0316', 'a\u0301\u0316'])).toEqual([[12], [14], [16]]);
  });

  it("NFKD then StripAccents (ALBERT's normalizer) keep U+A7F2 and strip É's accent", () => {
    expect(ids({ type: 'Sequence', normalizers: [{ type: 'NFKD' }, { type: 'StripAccents' }] }, ['\u00c9\ua7f2'])).toEqual([[17]]);
  });

  it("a BertNormalizer stripping accents decomposes U+11938 as tokenizers' NFD does: not at all", () => {
    const bert = { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true };
    expect(ids(bert, ['A\u{11938}'])).toEqual([[19]]);
  });
});

describe('normalizedAsTokenizers', () => {
  it('normalizes a text without characters assigned since 9.0 as Node does, and around them each part as Node does', () => {
    expect(normalizedAsTokenizers('\u00c5\ufb01', 'NFKD')).toBe('A\u030afi');
    expect(normalizedAsTokenizers('\u00c5\ua7f2\ufb01\u{1fbf0}', 'NFKD')).toBe('A\u030a\ua7f2fi\u{1fbf0}');
    expect(normalizedAsTokenizers('A\u030a\u{11935}\u{11930}e\u0301', 'NFC')).toBe('\u00c5\u{11935}\u{11930}\u00e9');
  });

  it('takes U+0000–U+0377 (its fast way) for assigned in Unicode 9.0, and U+0378 for not', () => {
    const unassigned = new RegExp(`[${UNICODE9_UNASSIGNED}]`, 'u');
    expect(Array.from({ length: 0x378 }, (_, cp) => String.fromCodePoint(cp)).filter((c) => unassigned.test(c))).toEqual([]);
    expect(unassigned.test('\u0378')).toBe(true);
  });
});
