/**
 * Presenting results: the JSON report (`--json`, `--out`) with scores as fractions and metric keys as Hugging Face
 * `evaluate` names them, and the per-task table for the terminal, which shows scores ×100.
 */
import { counted } from '../errors.ts';
import { removeStaleTemporaries, writeFileAtomic } from '../files.ts';
import type { EvalResult } from './evaluate.ts';
import { entryLabel, taskScore } from './glue-score.ts';
import { METRIC_SHORT_NAMES, type MetricValues, type UndefinedMetrics } from './metrics/metric.ts';
import { times100 } from '../units.ts';

export interface TaskReport {
  metrics: MetricValues;
  /** Why a metric is null: 'constant predictions' (a correlation of constant values is undefined); absent when none is. */
  undefinedMetrics?: UndefinedMetrics;
  examples: number;
  seconds: number;
}

/** The JSON shape of an evaluation. NaN metrics (e.g. Pearson of constant predictions) become null. */
export interface EvalReport {
  model: string;
  split: string;
  maxLength: number;
  tasks: Record<string, TaskReport>;
  /**
   * GLUE macro-average as a fraction; null when no scored task ran (test split, AX only), or when a task that counts
   * has an undefined metric: then `glueScoreUndefined` says which and why.
   */
  glueScore: number | null;
  /** Why glueScore is undefined ('STS-B: Pearson and Spearman undefined (constant predictions)'); absent otherwise. */
  glueScoreUndefined?: string;
  glueScoreIncludesWnli: boolean;
  /** Tasks of `all` the model could not be scored on, with the reason (absent when none). */
  skipped?: Array<{ task: string; reason: string }>;
  /** Submission files written, if any. */
  submissionFiles?: string[];
  /**
   * For a model with full-range int8 products: whether they were added in saturating 16-bit pairs (an x86 CPU without
   * AVX-512 VNNI / AVX-VNNI, without exactInt8), its scores then those of such CPUs (EvalResult.int8Saturated).
   */
  int8Saturated?: boolean;
  /**
   * What the user should know about the data: a file that is not the official GLUE split, a tokenizer that spells
   * little of it ([UNK]), labels read in an assumed order (absent when none).
   */
  warnings?: string[];
}

export function toReport(result: EvalResult): EvalReport {
  const tasks: Record<string, TaskReport> = {};
  for (const t of result.tasks) {
    tasks[t.task.name] = {
      metrics: t.metrics,
      ...(t.undefinedMetrics ? { undefinedMetrics: { ...t.undefinedMetrics } } : {}),
      examples: t.examples,
      seconds: round(t.seconds, 3),
    };
  }
  const report: EvalReport = {
    model: result.model,
    split: result.split,
    maxLength: result.maxLength,
    tasks,
    glueScore: result.glue.score,
    glueScoreIncludesWnli: result.glue.includesWnli,
    ...(result.glue.undefinedReason !== null ? { glueScoreUndefined: result.glue.undefinedReason } : {}),
  };
  if (result.skipped.length > 0) report.skipped = result.skipped.map((t) => ({ ...t }));
  if (result.submissionFiles.length > 0) report.submissionFiles = [...result.submissionFiles];
  if (result.int8Saturated !== undefined) report.int8Saturated = result.int8Saturated;
  if (result.warnings?.length) report.warnings = [...result.warnings];
  return report;
}

/** The report as pretty JSON text (NaN is written as null, as JSON requires). */
export function reportJson(report: EvalReport): string {
  return JSON.stringify(report, null, 2) + '\n';
}

/** Writes the JSON report to a file atomically. */
export function writeReport(file: string, report: EvalReport): void {
  removeStaleTemporaries(file); // what an earlier run killed while writing it left beside it
  writeFileAtomic(file, reportJson(report));
}

/** The terminal table: one row per task with its metrics ×100, then the GLUE score line. */
export function formatTable(result: EvalResult): string[] {
  const header = ['task', 'examples', 'metrics (×100)', 'seconds', 'ex/s'];
  const rows = result.tasks.map((t) => {
    const metrics =
      t.task.metrics.length === 0 || Object.keys(t.metrics).length === 0
        ? '-'
        : t.task.metrics
            .map((m) => {
              const why = t.undefinedMetrics?.[m];
              return `${METRIC_SHORT_NAMES[m]} ${why !== undefined ? `undefined (${why})` : times100(t.metrics[m], 'n/a')}`;
            })
            .join(', ');
    return [t.task.name, String(t.examples), metrics, t.seconds.toFixed(1), t.seconds > 0 ? (t.examples / t.seconds).toFixed(0) : '-'];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 1 || i >= 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  const g = result.glue;
  if (g.score !== null) {
    const ranWnli = result.tasks.some((t) => t.task.scoreGroup === 'WNLI');
    const wnli = g.includesWnli ? 'WNLI included' : ranWnli ? 'WNLI excluded' : 'WNLI not evaluated';
    out.push(
      '',
      `GLUE score: ${times100(g.score, 'n/a')} over ${Object.keys(g.entries)
        .map((e) => entryLabel(g, e))
        .join(', ')} (${wnli})`,
    );
  } else if (g.undefinedReason !== null) {
    out.push('', `GLUE score: undefined: ${g.undefinedReason}`);
  } else {
    // (WNLI scored, but left out by --no-include-wnli, is the only task of the score: it is not 'no labelled results')
    const wnliLeftOut = result.tasks.some((t) => t.task.scoreGroup === 'WNLI' && taskScore(t.task, t.metrics) !== null);
    out.push('', wnliLeftOut ? 'GLUE score: - (WNLI excluded, no other task scored)' : `GLUE score: - (no labelled ${result.split} results)`);
  }
  if (result.skipped.length > 0) {
    out.push(`skipped ${counted(result.skipped.length, 'task')} of all that this model cannot be scored on:`);
    for (const t of result.skipped) out.push(`  ${t.task}: ${t.reason}`);
  }
  if (result.submissionFiles.length > 0) out.push(`submission files: ${result.submissionFiles.length} written`);
  return out;
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
