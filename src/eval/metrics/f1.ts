/**
 * Binary F1 with class 1 as the positive class, as Hugging Face `evaluate`'s `f1` with its defaults (sklearn
 * `f1_score(average='binary', pos_label=1)`): 2·TP / (2·TP + FP + FN). When there are no positive predictions and
 * no positive references the score is 0, as sklearn's `zero_division` default gives.
 *
 * @example f1([1, 1, 0, 0], [1, 0, 1, 0]) // => {f1: 0.5}
 */
import { checkSameLength, type Metric } from './metric.ts';

export function f1(predictions: ArrayLike<number>, references: ArrayLike<number>): { f1: number } {
  checkSameLength('f1', predictions, references);
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < predictions.length; i++) {
    const p = predictions[i] === 1;
    const r = references[i] === 1;
    if (p && r) tp++;
    else if (p) fp++;
    else if (r) fn++;
  }
  const denominator = 2 * tp + fp + fn;
  return { f1: denominator === 0 ? 0 : (2 * tp) / denominator };
}

export const f1Metric: Metric = { name: 'f1', higherIsBetter: true, inputs: 'labels', compute: f1 };
