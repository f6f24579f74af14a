/**
 * The metric registry and the `glue` metric set: each task computes the metrics its definition lists, which are
 * those Hugging Face `evaluate`'s `glue` metric picks for it (CoLA: matthews_correlation; STS-B: pearson and
 * spearmanr; MRPC and QQP: accuracy and f1; the others: accuracy).
 */
import type { TaskDefinition } from '../../glue/tasks.ts';
import { accuracyMetric } from './accuracy.ts';
import { f1Metric } from './f1.ts';
import { matthewsCorrelationMetric } from './matthews-correlation.ts';
import type { Metric, MetricName, MetricValues, UndefinedMetrics } from './metric.ts';
import { pearsonMetric } from './pearson.ts';
import { spearmanrMetric } from './spearmanr.ts';

export type { Metric, MetricName, MetricValues, UndefinedMetrics } from './metric.ts';
export { METRIC_SHORT_NAMES } from './metric.ts';
export { accuracy } from './accuracy.ts';
export { f1 } from './f1.ts';
export { matthewsCorrelation } from './matthews-correlation.ts';
export { pearson } from './pearson.ts';
export { spearmanr } from './spearmanr.ts';

export const METRICS: Readonly<Record<MetricName, Metric>> = {
  accuracy: accuracyMetric,
  f1: f1Metric,
  matthews_correlation: matthewsCorrelationMetric,
  pearson: pearsonMetric,
  spearmanr: spearmanrMetric,
};

/** How many of `predictions` are NaN (examples the model gave non-finite scores for: no prediction). */
export function countMissingPredictions(predictions: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < predictions.length; i++) if (Number.isNaN(predictions[i])) n++;
  return n;
}

/**
 * Computes a task's metrics (in its definition's order) from predictions and references. A NaN prediction (an example
 * the model gave non-finite scores for) is no prediction: then every metric is NaN, not a score that counts it as
 * one class or ranks it anywhere.
 */
export function computeTaskMetrics(task: TaskDefinition, predictions: ArrayLike<number>, references: ArrayLike<number>): MetricValues {
  const values: MetricValues = {};
  if (countMissingPredictions(predictions) > 0) {
    for (const name of task.metrics) Object.assign(values, { [name]: NaN });
    return values;
  }
  for (const name of task.metrics) Object.assign(values, METRICS[name].compute(predictions, references));
  return values;
}

const isConstant = (v: ArrayLike<number>): boolean => {
  for (let i = 1; i < v.length; i++) if (v[i] !== v[0]) return false;
  return true;
};

/**
 * Why each of `values` that is NaN has no value: the model gave non-finite scores for some examples ('non-finite model
 * scores for 3 of 872 examples'), a correlation (Pearson, Spearman) of one example has none ('1 example: a correlation
 * needs 2 or more', where scipy's pearsonr refuses), or one of constant predictions or references is undefined
 * ('constant predictions', 'constant references'), as scipy's is. Empty when all are numbers.
 */
export function undefinedMetrics(values: MetricValues, predictions: ArrayLike<number>, references: ArrayLike<number>): UndefinedMetrics {
  const out: UndefinedMetrics = {};
  const names = (Object.entries(values) as Array<[MetricName, number]>).filter(([, v]) => Number.isNaN(v)).map(([name]) => name);
  if (names.length === 0) return out;
  const missing = countMissingPredictions(predictions);
  if (missing > 0) {
    for (const name of names) out[name] = `non-finite model scores for ${missing} of ${predictions.length} examples`;
    return out;
  }
  const p = isConstant(predictions);
  const r = isConstant(references);
  const constant = p && r ? 'constant predictions and references' : p ? 'constant predictions' : r ? 'constant references' : 'not a number';
  // (one example is 'constant' too, which would blame the model for the data's size)
  const why = predictions.length === 1 ? '1 example: a correlation needs 2 or more' : constant;
  for (const name of names) out[name] = why;
  return out;
}
