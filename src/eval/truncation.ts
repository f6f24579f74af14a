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

/** Truncates a single sequence or a pair to `budget` tokens in total, longest first. */
export function truncateLongestFirst<T>(a: readonly T[], b: readonly T[] | null, budget: number): [T[], T[] | null] {
  if (b === null) return [a.slice(0, Math.max(0, budget)), null];
  const [na, nb] = longestFirstLengths(a.length, b.length, Math.max(0, budget));
  return [a.slice(0, na), b.slice(0, nb)];
}
