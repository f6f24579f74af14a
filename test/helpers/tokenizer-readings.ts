import { TOKENIZER_READINGS, tokenizerReadingVersion } from '../../src/eval/tokenizer-reading.ts';

/** The reading version whose change touches every sentence pair (tokenizers 0.23's pair truncation). */
export const PAIR_TRUNCATION_READING = 23;

/** The reading version whose change touches every tokenizer with a Precompiled normalizer (its charsmap read). */
export const PRECOMPILED_READING = 27;

/**
 * `dir`'s tokenizer reading version (tokenizerReadingVersion) as the readings but `leftOut` give it: a test of what
 * another version marks reads this where one of them touches every tokenizer of a kind.
 */
export function readingVersionApart(dir: string, pairs: boolean, leftOut: readonly number[]): number | undefined {
  const readings = TOKENIZER_READINGS as Array<(typeof TOKENIZER_READINGS)[number]>;
  const all = [...readings];
  readings.splice(0, readings.length, ...all.filter((r) => !leftOut.includes(r.version)));
  try {
    return tokenizerReadingVersion(dir, pairs);
  } finally {
    readings.splice(0, readings.length, ...all);
  }
}

/**
 * `dir`'s tokenizer reading version as the other readings give it, version 23 left out (and `also`): it touches every
 * pair, so a test of what another version marks on pairs reads this.
 */
export function readingVersionApartFromPairs(dir: string, pairs: boolean, also: readonly number[] = []): number | undefined {
  return readingVersionApart(dir, pairs, [PAIR_TRUNCATION_READING, ...also]);
}
