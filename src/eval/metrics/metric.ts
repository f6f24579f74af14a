/**
 * What every metric module shares. A metric is a pure function of predictions and references that returns a named
 * result, `{accuracy: 0.91}`, with the key Hugging Face `evaluate` uses; values are fractions, not percentages.
 */
import type { MetricName } from '../../glue/tasks.ts';

export type { MetricName };

/** Named metric values, e.g. `{pearson: 0.87, spearmanr: 0.86}`. */
export type MetricValues = Partial<Record<MetricName, number>>;

/** Why a metric has no value (NaN), by metric name: 'constant predictions' (see undefinedMetrics). */
export type UndefinedMetrics = Partial<Record<MetricName, string>>;

/** How tables name the metrics ('acc', 'F1', 'MCC', 'Pearson', 'Spearman'). */
export const METRIC_SHORT_NAMES: Readonly<Record<MetricName, string>> = {
  accuracy: 'acc',
  f1: 'F1',
  matthews_correlation: 'MCC',
  pearson: 'Pearson',
  spearmanr: 'Spearman',
};

/** A metric over class indices (classification) or real scores (regression). */
export interface Metric {
  readonly name: MetricName;
  readonly higherIsBetter: boolean;
  /** Whether the inputs are class indices (`labels`) or real numbers (`scores`). */
  readonly inputs: 'labels' | 'scores';
  readonly compute: (predictions: ArrayLike<number>, references: ArrayLike<number>) => MetricValues;
}

/** Throws a RangeError unless both arrays have the same, non-zero length. */
export function checkSameLength(name: string, predictions: ArrayLike<number>, references: ArrayLike<number>): void {
  if (predictions.length !== references.length) {
    throw new RangeError(`${name}: 'predictions' has ${predictions.length} values but 'references' has ${references.length}`);
  }
  if (predictions.length === 0) throw new RangeError(`${name}: 'predictions' is empty`);
}
