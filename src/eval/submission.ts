/**
 * GLUE server submission files: one `<task>.tsv` per task (CoLA.tsv, SST-2.tsv, …, MNLI-m.tsv, MNLI-mm.tsv, AX.tsv)
 * with the header `index\tprediction` and one row per test example in file order. Predictions are written in the
 * task's own label format, which is what the server expects: 0/1 for CoLA, SST-2, MRPC, QQP and WNLI, label names
 * for MNLI, QNLI, RTE and AX, and a score with three decimals for STS-B, clipped to the task's range [0, 5] (the
 * server takes no score outside it; the metrics are computed on the model's own scores).
 */
import { basename, join } from 'node:path';
import { checkOutputFiles } from '../destination.ts';
import { UserError } from '../errors.ts';
import { removeStaleTemporariesIn, writeFilesAtomic } from '../files.ts';
import type { TaskDefinition } from '../glue/tasks.ts';
import { countMissingPredictions } from './metrics/index.ts';

export interface TaskPredictions {
  readonly task: TaskDefinition;
  readonly ids: readonly string[];
  /** Class index into the task's labels, or the score of a regression task. */
  readonly predictions: ArrayLike<number>;
}

/** Where the submission file of `task` goes in `dir`: `<dir>/<task>.tsv`, the name the GLUE server takes. */
export function submissionFile(dir: string, task: TaskDefinition): string {
  return join(dir, `${task.name}.tsv`);
}

/**
 * Refuses, before any work, a submission folder where a task's file cannot be written, as every output's
 * (checkOutputFiles): `<dir>/<task>.tsv` a folder or not a regular file (a device, pipe or socket), `dir` under a
 * file, a folder that takes no new files (created when missing), a path too long. Found only when writing, after every
 * task was run, it lost the run.
 */
export function checkSubmissionFiles(dir: string, tasks: readonly TaskDefinition[]): void {
  checkOutputFiles(
    tasks.map((task) => submissionFile(dir, task)),
    `--submission ${dir}`,
    'remove it or give another folder',
  );
}

/** One prediction as the GLUE server expects it for this task. */
export function formatPrediction(task: TaskDefinition, prediction: number): string {
  switch (task.labelFormat) {
    case 'score': {
      const [lo, hi] = task.scoreRange ?? [-Infinity, Infinity];
      return Math.min(hi, Math.max(lo, prediction)).toFixed(3);
    }
    case 'index':
      return String(prediction);
    case 'name':
      return task.labels[prediction]!;
  }
}

/** The submission file's text for one task. */
export function submissionText(p: TaskPredictions): string {
  const lines = ['index\tprediction'];
  for (let i = 0; i < p.ids.length; i++) lines.push(`${p.ids[i]}\t${formatPrediction(p.task, p.predictions[i]!)}`);
  return lines.join('\n') + '\n';
}

/**
 * Writes `<dir>/<task>.tsv` for each task, atomically and as one (removing the temporaries of those files a killed
 * earlier run left); returns the paths written. A task with an example the model gave
 * non-finite scores for (a NaN prediction) is a UserError before any file is written: the server takes no 'NaN' row,
 * and any label put in its place would be made up.
 */
export function writeSubmission(dir: string, results: readonly TaskPredictions[]): string[] {
  for (const r of results) {
    const missing = countMissingPredictions(r.predictions);
    if (missing > 0) {
      const first = Array.prototype.findIndex.call(r.predictions, (p: number) => Number.isNaN(p));
      throw new UserError(
        `${r.task.name}: the model gave non-finite scores (NaN or Infinity) for ${missing} of ${r.predictions.length} test examples (the first: index ${r.ids[first]}); no submission written`,
      );
    }
  }
  // (as one: a file that cannot be written leaves the others as they were)
  const files = results.map((r) => [submissionFile(dir, r.task), submissionText(r)] as const);
  // what an earlier run killed while writing them left beside them (`SST-2.tsv.PID.RANDOM.tmp`), which a folder zipped
  // for the server would carry
  removeStaleTemporariesIn(
    dir,
    files.map(([file]) => basename(file)),
  );
  writeFilesAtomic(files);
  return files.map(([file]) => file);
}
