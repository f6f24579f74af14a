/**
 * The GLUE score, as the GLUE paper defines it: the unweighted mean over tasks, where a task with several metrics
 * (MRPC, QQP: accuracy and F1; STS-B: Pearson and Spearman) counts once as the mean of its metrics, and MNLI counts
 * once as the mean of MNLI-m and MNLI-mm. AX is not part of it. WNLI is included unless asked not to; the result
 * says whether it was.
 */
import type { TaskDefinition } from '../glue/tasks.ts';
import { SettingsError, valueAndKind } from '../errors.ts';
import { checkOptionKinds, checkOptions } from '../library-args.ts';
import { METRIC_SHORT_NAMES, type MetricName, type MetricValues, type UndefinedMetrics } from './metrics/metric.ts';

export interface ScoredTask {
  readonly task: TaskDefinition;
  readonly metrics: MetricValues;
  /** Why a metric of `metrics` is NaN (absent when none is). */
  readonly undefinedMetrics?: UndefinedMetrics;
}

export interface GlueScore {
  /**
   * The macro-average as a fraction, or null: when no scored task was evaluated (e.g. the test split), or when a task
   * that counts has an undefined metric (then `undefinedReason` says which and why).
   */
  readonly score: number | null;
  /**
   * Why the score is undefined: the tasks that count whose metric is undefined ('STS-B: Pearson and Spearman
   * undefined (constant predictions)'). Such a task is neither dropped from the mean nor counted as 0: either would
   * give a number that is not the GLUE score of the tasks asked for. Null when the score is a number or no task scored.
   */
  readonly undefinedReason: string | null;
  /** Whether WNLI counted in `score`. */
  readonly includesWnli: boolean;
  /** The score of each entry that counted (with a number) ('MNLI' for MNLI-m/-mm together), in evaluation order. */
  readonly entries: Readonly<Record<string, number>>;
  /** The tasks each entry counted (['MNLI-m', 'MNLI-mm'], or only the one evaluated). */
  readonly tasks: Readonly<Record<string, readonly string[]>>;
}

/**
 * A score as a share of its baseline's (`score / baseline`), or null when either is missing or not a number (NaN:
 * Pearson of constant predictions), or when the baseline is 0 or below (a Matthews correlation can be), of which no
 * share means anything: what the report's '% of original' and a sweep's progress lines show.
 */
export function shareOfBaseline(score: number | null | undefined, baseline: number | null | undefined): number | null {
  if (score == null || baseline == null || !Number.isFinite(score) || !Number.isFinite(baseline) || baseline <= 0) return null;
  return score / baseline;
}

/** How an entry is named: the group, or the one task of it that was evaluated ('MNLI-mm' alone is not MNLI). */
export function entryLabel(g: GlueScore, entry: string): string {
  const tasks = g.tasks[entry] ?? [entry];
  return tasks.length === 1 ? tasks[0]! : entry;
}

/** The mean of a task's metrics (in its definition), or null if it has none computed. */
export function taskScore(task: TaskDefinition, metrics: MetricValues): number | null {
  const values = task.metrics.map((m) => metrics[m]).filter((v): v is number => v !== undefined);
  return values.length === task.metrics.length && values.length > 0 ? mean(values) : null;
}

/**
 * 'STS-B: Pearson and Spearman undefined (constant predictions)': a task's undefined metrics and why, for the GLUE
 * score's reason and the tables; metrics without a recorded reason are named as undefined.
 */
export function describeUndefinedMetrics(taskName: string, metrics: MetricValues, reasons: UndefinedMetrics = {}): string | null {
  const names = (Object.keys(metrics) as MetricName[]).filter((m) => metrics[m] === null || Number.isNaN(metrics[m]));
  if (names.length === 0) return null;
  const why = [...new Set(names.map((m) => reasons[m] ?? 'not a number'))].join(', ');
  const list = names.map((m) => METRIC_SHORT_NAMES[m] ?? m);
  const joined = list.length === 1 ? list[0] : `${list.slice(0, -1).join(', ')} and ${list[list.length - 1]}`;
  return `${taskName}: ${joined} undefined (${why})`;
}

export function glueScore(results: readonly ScoredTask[], opts: { includeWnli: boolean }): GlueScore {
  // (a JavaScript caller's includeWnli 'no' counted WNLI, a misspelt includeWNLI was read as false)
  checkOptionKinds('glueScore', checkOptions('glueScore', opts, '{includeWnli}'), { includeWnli: 'boolean' });
  if (opts.includeWnli === undefined) throw new SettingsError('glueScore: includeWnli: missing; expected true or false');
  if (!Array.isArray(results))
    throw new SettingsError(`glueScore: results: expected a list of scored tasks (evaluate's or scoreTask's results), got ${valueAndKind(results)}`);
  const groups = new Map<string, number[]>();
  const tasks: Record<string, string[]> = {};
  const undefinedTasks: string[] = [];
  for (const { task, metrics, undefinedMetrics } of results) {
    if (task.scoreGroup === null) continue;
    if (task.scoreGroup === 'WNLI' && !opts.includeWnli) continue;
    const s = taskScore(task, metrics);
    if (s === null) continue;
    if (Number.isNaN(s)) {
      undefinedTasks.push(describeUndefinedMetrics(task.name, metrics, undefinedMetrics) ?? `${task.name}: undefined`);
      continue;
    }
    groups.set(task.scoreGroup, [...(groups.get(task.scoreGroup) ?? []), s]);
    tasks[task.scoreGroup] = [...(tasks[task.scoreGroup] ?? []), task.name];
  }
  const entries: Record<string, number> = {};
  for (const [g, scores] of groups) entries[g] = mean(scores);
  const values = Object.values(entries);
  if (undefinedTasks.length > 0) return { score: null, undefinedReason: undefinedTasks.join('; '), includesWnli: 'WNLI' in entries, entries, tasks };
  return { score: values.length > 0 ? mean(values) : null, undefinedReason: null, includesWnli: 'WNLI' in entries, entries, tasks };
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}
