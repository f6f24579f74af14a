import { TOKENIZER_READINGS, tokenizerReadingVersion } from '../../src/eval/tokenizer-reading.ts';

/** The reading version whose change touches every sentence pair (tokenizers 0.23's pair truncation). */
export const PAIR_TRUNCATION_READING = 23;

/**
 * `dir`'s tokenizer reading version (tokenizerReadingVersion) as the other readings give it, version 23 left out: it
 * touches every pair, so a test of what another version marks on pairs reads this.
 */
export function readingVersionApartFromPairs(dir: string, pairs: boolean): number | undefined {
  const readings = TOKENIZER_READINGS as Array<(typeof TOKENIZER_READINGS)[number]>;
  const all = [...readings];
  readings.splice(0, readings.length, ...all.filter((r) => r.version !== PAIR_TRUNCATION_READING));
  try {
    return tokenizerReadingVersion(dir, pairs);
  } finally {
    readings.splice(0, readings.length, ...all);
  }
}
