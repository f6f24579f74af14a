/**
 * Matthews correlation coefficient, as Hugging Face `evaluate`'s `matthews_correlation` (sklearn
 * `matthews_corrcoef`), in its multiclass form (which equals the binary formula for two classes):
 *
 *   MCC = (c·s − Σ_k p_k·t_k) / sqrt((s² − Σ_k p_k²)(s² − Σ_k t_k²))
 *
 * with s examples, c correct, p_k predictions of class k and t_k references of class k. A zero denominator (all
 * predictions, or all references, one class) gives 0, as in sklearn.
 *
 * @example matthewsCorrelation([1, 1, 0, 0], [1, 0, 0, 0]) // => {matthews_correlation: 0.5773502691896258}
 */
import { checkSameLength, type Metric } from './metric.ts';

export function matthewsCorrelation(predictions: ArrayLike<number>, references: ArrayLike<number>): { matthews_correlation: number } {
  checkSameLength('matthews_correlation', predictions, references);
  const predicted = new Map<number, number>();
  const actual = new Map<number, number>();
  let correct = 0;
  for (let i = 0; i < predictions.length; i++) {
    const p = predictions[i]!;
    const r = references[i]!;
    predicted.set(p, (predicted.get(p) ?? 0) + 1);
    actual.set(r, (actual.get(r) ?? 0) + 1);
    if (p === r) correct++;
  }
  const s = predictions.length;
  let pt = 0;
  let pp = 0;
  let tt = 0;
  for (const [k, p] of predicted) {
    pt += p * (actual.get(k) ?? 0);
    pp += p * p;
  }
  for (const t of actual.values()) tt += t * t;
  const denominator = Math.sqrt((s * s - pp) * (s * s - tt));
  return { matthews_correlation: denominator === 0 ? 0 : (correct * s - pt) / denominator };
}

export const matthewsCorrelationMetric: Metric = {
  name: 'matthews_correlation',
  higherIsBetter: true,
  inputs: 'labels',
  compute: matthewsCorrelation,
};
