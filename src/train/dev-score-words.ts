/**
 * How a training run's summaries word the dev score of the epoch whose model was written, naming the task as each
 * epoch's log line does (`epoch 1: loss 0.6931, dev MRPC 80.00`): `train` / `distill`'s summary line (`best epoch: 1
 * (dev MRPC 80.00, the mean of acc and F1)`) and a sweep's training step line (`625 steps, best epoch 1 of 3, dev MRPC
 * 80.00, the mean of acc and F1`), one wording for both.
 */
import { METRIC_SHORT_NAMES, type MetricName } from '../eval/metrics/metric.ts';
import { times100 } from '../units.ts';
import type { EpochRecord } from './trainer.ts';

type ScoredEpoch = Pick<EpochRecord, 'metrics' | 'score'>;

/**
 * An epoch's defined dev score with its task and what it is where the task has several metrics (the task's GLUE
 * score, which picks the best epoch): 'dev SST-2 91.20'; 'dev MRPC 80.00, the mean of acc and F1' (MRPC, QQP),
 * 'dev STS-B 85.00, the mean of Pearson and Spearman'; 'dev 91.20' where no task is named.
 */
export function devScoreText(task: string | undefined, e: ScoredEpoch): string {
  const names = metricNames(e);
  const meaning = names.length > 1 ? `, the mean of ${names.map(shortName).join(' and ')}` : '';
  return `dev ${task === undefined ? '' : `${task} `}${times100(e.score, '-')}${meaning}`;
}

/**
 * Why the epoch kept has no defined dev score (every epoch's Pearson of constant STS-B predictions): 'no epoch has a
 * defined dev STS-B score (Pearson and Spearman undefined)', its undefined metrics named where it has them.
 */
export function undefinedScoreText(task: string | undefined, e: ScoredEpoch): string {
  const names = metricNames(e).filter((m) => Number.isNaN(e.metrics![m]));
  return `no epoch has a defined dev ${task === undefined ? '' : `${task} `}score${names.length > 0 ? ` (${names.map(shortName).join(' and ')} undefined)` : ''}`;
}

function metricNames(e: ScoredEpoch): MetricName[] {
  return Object.keys(e.metrics ?? {}) as MetricName[];
}

function shortName(m: MetricName): string {
  return METRIC_SHORT_NAMES[m] ?? m;
}
