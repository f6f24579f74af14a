/**
 * Accuracy: the fraction of predictions equal to their reference, as Hugging Face `evaluate`'s `accuracy`
 * (sklearn `accuracy_score`).
 *
 * @example accuracy([0, 1, 1, 0], [0, 1, 0, 0]) // => {accuracy: 0.75}
 */
import { checkSameLength, type Metric } from './metric.ts';

export function accuracy(predictions: ArrayLike<number>, references: ArrayLike<number>): { accuracy: number } {
  checkSameLength('accuracy', predictions, references);
  let correct = 0;
  for (let i = 0; i < predictions.length; i++) if (predictions[i] === references[i]) correct++;
  return { accuracy: correct / predictions.length };
}

export const accuracyMetric: Metric = { name: 'accuracy', higherIsBetter: true, inputs: 'labels', compute: accuracy };
