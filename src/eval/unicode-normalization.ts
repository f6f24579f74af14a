/**
 * Unicode normalization (NFD, NFKD, NFC, NFKC) as tokenizers does it. Its NormalizedString normalizes through the
 * unicode-normalization-alignments crate (0.1.12, the only version; tokenizers' Cargo.toml asks for "0.1"), whose
 * tables are Unicode 9.0's (tables.rs UNICODE_VERSION), where String.prototype.normalize reads Node's ICU (Unicode 15
 * to 17): a character assigned since 9.0 is, to the crate, a starter of combining class 0 that neither decomposes nor
 * composes. Unicode's stability policy keeps every older character's decomposition and combining class, and keeps new
 * compositions of older characters out of NFC, so the two differ only at those newer characters, and a text reads as
 * the crate reads it when it is normalized by Node between them, each kept as it is: a starter that composes with
 * nothing blocks every reordering and composition across it, in the crate as in that split. Node 20's ICU 78
 * decomposes 192 such code points under NFKD (U+A7F2 MODIFIER LETTER CAPITAL C as C, U+1FBF0 SEGMENTED DIGIT ZERO as
 * 0, U+11938 DIVES AKURU VOWEL SIGN O as U+11935 U+11930) and reorders or composes sequences holding them; tokenizers
 * 0.23's Node binding keeps each (checked on every code point and on sequences of marks, outside the repo).
 */
import { UNICODE9_UNASSIGNED } from './unicode-categories-table.ts';

/** The forms a tokenizer.json normalizer names. */
export type NormalizationForm = 'NFC' | 'NFD' | 'NFKC' | 'NFKD';

/** A text of U+0000–U+0377 alone (all assigned in Unicode 9.0): most text, told apart faster than by AFTER_UNICODE9. */
const BEFORE_FIRST_UNASSIGNED = /^[\u0000-\u0377]*$/;

/** A code point unassigned in Unicode 9.0 (one the crate's tables know nothing of). */
const AFTER_UNICODE9 = new RegExp(`[${UNICODE9_UNASSIGNED}]`, 'u');

/** The same, captured: `split` gives the text between them at even indices and each of them at odd ones. */
const AFTER_UNICODE9_APART = new RegExp(`([${UNICODE9_UNASSIGNED}])`, 'u');

/** `text` in `form` as tokenizers' unicode-normalization-alignments (Unicode 9.0) gives it: each character assigned since 9.0 kept as it is. */
export function normalizedAsTokenizers(text: string, form: NormalizationForm): string {
  if (BEFORE_FIRST_UNASSIGNED.test(text) || !AFTER_UNICODE9.test(text)) return text.normalize(form);
  return text
    .split(AFTER_UNICODE9_APART)
    .map((part, i) => (i % 2 === 0 ? part.normalize(form) : part))
    .join('');
}
