/**
 * Spearman rank correlation, as Hugging Face `evaluate`'s `spearmanr` (scipy `spearmanr(...)[0]`): Pearson's r of
 * the ranks, where tied values share the average of the ranks they span (scipy `rankdata(method='average')`).
 *
 * @example spearmanr([1, 2, 2, 3], [1, 2, 3, 4]) // => {spearmanr: 0.9486832980505138}
 */
import { checkSameLength, type Metric } from './metric.ts';
import { pearsonR } from './pearson.ts';

/** 1-based ranks with ties given their average rank. */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && values[order[j + 1]!] === values[order[i]!]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]!] = rank;
    i = j + 1;
  }
  return ranks;
}

export function spearmanr(predictions: ArrayLike<number>, references: ArrayLike<number>): { spearmanr: number } {
  checkSameLength('spearmanr', predictions, references);
  return { spearmanr: pearsonR(averageRanks(predictions), averageRanks(references)) };
}

export const spearmanrMetric: Metric = { name: 'spearmanr', higherIsBetter: true, inputs: 'scores', compute: spearmanr };
