/**
 * Pearson correlation coefficient, as Hugging Face `evaluate`'s `pearsonr` (scipy `pearsonr(...)[0]`), computed
 * on mean-centred values in double precision. Constant input has no correlation: the result is NaN, as scipy's.
 *
 * @example pearson([1, 2, 3, 4], [1, 3, 2, 4]) // => {pearson: 0.8}
 */
import { checkSameLength, type Metric } from './metric.ts';

/** Whether every value equals the first. */
function isConstant(v: ArrayLike<number>): boolean {
  for (let i = 1; i < v.length; i++) if (v[i] !== v[0]) return false;
  return true;
}

/**
 * Pearson's r of two equally long arrays; NaN if either is constant, told by comparing the values themselves as scipy
 * does (`(x == x[0]).all()`): the mean of n equal values is not always that value in floating point (1500 × 0.1), and
 * the deviations from it would give a number near 0 instead of NaN.
 */
export function pearsonR(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  if (isConstant(x) || isConstant(y)) return NaN;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i]!;
    my += y[i]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return NaN;
  const r = sxy / Math.sqrt(sxx * syy);
  return Math.max(-1, Math.min(1, r));
}

export function pearson(predictions: ArrayLike<number>, references: ArrayLike<number>): { pearson: number } {
  checkSameLength('pearson', predictions, references);
  return { pearson: pearsonR(predictions, references) };
}

export const pearsonMetric: Metric = { name: 'pearson', higherIsBetter: true, inputs: 'scores', compute: pearson };
