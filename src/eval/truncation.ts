/**
 * Longest-first truncation of a sentence pair to a token budget, as Hugging Face `tokenizers` does it
 * (`tokenizers/src/utils/truncation.rs`, `TruncationStrategy::LongestFirst`): if the pair is too long, the shorter
 * sequence (length n1) is kept whole and the longer one gets max(n1, budget − n1) tokens; if that still does not
 * fit, each gets half the budget and the longer one takes the odd token. Tokens are removed from the end (right
 * truncation).
 */

/** The lengths the two sequences keep under `budget` tokens (special tokens already subtracted). */
export function longestFirstLengths(lengthA: number, lengthB: number, budget: number): [number, number] {
  if (lengthA + lengthB <= budget) return [lengthA, lengthB];
  const swap = lengthA > lengthB;
  let n1 = swap ? lengthB : lengthA;
  let n2 = swap ? lengthA : lengthB;
  n2 = n1 > budget ? n1 : Math.max(n1, budget - n1);
  if (n1 + n2 > budget) {
    n1 = Math.floor(budget / 2);
    n2 = n1 + (budget % 2);
  }
  return swap ? [n2, n1] : [n1, n2];
}

/**
 * Truncates a single sequence or a pair to `budget` tokens in total, longest first. `counted`: the pair's lengths as
 * tokenizers counts them when it compares them (a text's tokens up to its early exit: cappedLength), where they are
 * not the sequences' own.
 */
export function truncateLongestFirst<T>(a: readonly T[], b: readonly T[] | null, budget: number, counted?: readonly [number, number]): [T[], T[] | null] {
  if (b === null) return [a.slice(0, Math.max(0, budget)), null];
  const [na, nb] = longestFirstLengths(counted?.[0] ?? a.length, counted?.[1] ?? b.length, Math.max(0, budget));
  return [a.slice(0, na), b.slice(0, nb)];
}

/**
 * A text's length as tokenizers 0.23 counts it where it truncates at `maxLength` (the whole length, special tokens
 * included): its splits (pre-tokens and added tokens, whose ends in the text's `length` tokens are `splitEnds`, in
 * order) are tokenized only until they hold `maxLength` tokens (pre_tokenizer.rs tokenize_with_limit, checked after each
 * split the model tokenizes), so a text past it counts the tokens up to the end of that split, and longest-first
 * truncation compares those counts: of two texts both past it, the one whose split ends later takes the odd token, not
 * the longer one. `modelSplitEnds`: the ends of the splits the model tokenized, the only ones after which it stops.
 */
export function cappedLength(modelSplitEnds: readonly number[], length: number, maxLength: number): number {
  return modelSplitEnds.find((end) => end >= maxLength) ?? length;
}
