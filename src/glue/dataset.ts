/**
 * Loading one split of one task into typed examples. Columns are found by header name (CoLA's headerless files
 * get their names from the task definition), so the reconstructed MNLI/QQP dev files, which have fewer columns
 * than the official ones, read the same way as the official files.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { choiceWords, counted, plural, DataError, quotedText, SettingsError } from '../errors.ts';
import { columnIndex, readTsv, type TsvTable } from './tsv.ts';
import { pythonFloat, pythonInt } from '../python-int.ts';
import { someNames } from '../some-names.ts';
import type { Split, SplitFile, TaskDefinition } from './tasks.ts';

/** One example: its id, its text (one sentence or a pair) and its label when the split has labels. */
export interface GlueExample {
  /** The id column's value, or the 0-based row position when the file has no id column. */
  readonly id: string;
  readonly textA: string;
  /** The second sentence of a pair task; null for single-sentence tasks. */
  readonly textB: string | null;
  /** Class index into the task's `labels`, the score of a regression task, or null when unlabelled. */
  readonly label: number | null;
}

export interface GlueDataset {
  readonly task: TaskDefinition;
  readonly split: Split;
  /** Absolute path of the file read. */
  readonly file: string;
  readonly examples: readonly GlueExample[];
  /** Whether every example has a label (false for test splits). */
  readonly labelled: boolean;
  /** The lines of the rows left out for an empty class label (examplesFromTable), in file order. */
  readonly skipped: readonly number[];
}

/** Resolves the file of a task's split under a GLUE folder; SettingsError if the task has no such split. */
export function splitFile(task: TaskDefinition, split: Split, glueDir: string): { spec: SplitFile; file: string } {
  const spec = task.splits[split];
  if (!spec) throw new SettingsError(`task ${task.name} has no ${split} split (it has: ${Object.keys(task.splits).join(', ')})`);
  const file = isAbsolute(spec.path) ? spec.path : resolve(glueDir, spec.path);
  return { spec, file };
}

/** The error for a task's split file that is not there: the file, the task and split, and where the GLUE folder is set. */
export function splitNotFound(task: TaskDefinition, split: Split, file: string): DataError {
  return new DataError(`${file}: file not found (GLUE ${task.name} ${split}; set --glue-dir or GLUE_DIR)`);
}

/** splitFile, or splitNotFound when the GLUE folder lacks it: a stat, before any work that reads the data (loadSplit). */
export function checkSplitFound(task: TaskDefinition, split: Split, glueDir: string): { spec: SplitFile; file: string } {
  const found = splitFile(task, split, glueDir);
  if (!existsSync(found.file)) throw splitNotFound(task, split, found.file);
  return found;
}

/**
 * Reads a task's split from the GLUE folder. A missing file (splitNotFound), malformed files and files without
 * examples are DataErrors naming the file (and line).
 */
export function loadSplit(task: TaskDefinition, split: Split, glueDir: string): GlueDataset {
  const { spec, file } = checkSplitFound(task, split, glueDir);
  const table = readTsv(file, spec.headerlessColumns ? { headerlessColumns: spec.headerlessColumns } : {});
  if (table.rows.length === 0) throw new DataError(`${file}: no examples${table.hasHeader ? ' (only a header line)' : ''}`);
  const { examples, skipped } = examplesFromTable(task, spec, table);
  if (examples.length === 0) throw new DataError(`${file}: no examples (every row's label is empty)`);
  return { task, split, file, examples, labelled: spec.labelled, skipped };
}

/**
 * Turns parsed rows into examples according to the task definition, leaving out a row whose class label is empty as
 * Hugging Face's GLUE loader does (`int(label) if label else None`, then 'Filter out corrupted rows': a None value drops
 * the row; its idx, the row's position, stays that of the file), with the lines of those left out (`skipped`). An empty
 * STS-B score stays refused, as the loader's float32('') raises.
 */
export function examplesFromTable(task: TaskDefinition, spec: SplitFile, table: TsvTable): { examples: GlueExample[]; skipped: number[] } {
  const textA = columnIndex(table, task.textColumns[0]);
  const textB = task.textColumns[1] === undefined ? -1 : columnIndex(table, task.textColumns[1]);
  const label = spec.labelled ? columnIndex(table, task.labelColumn) : -1;
  const id = table.columns.indexOf(task.idColumn);
  const parseLabel = labelParser(task);
  const examples: GlueExample[] = [];
  const skipped: number[] = [];
  table.rows.forEach((row, position) => {
    if (label >= 0 && task.labelFormat !== 'score' && row.fields[label] === '') {
      skipped.push(row.line);
      return;
    }
    examples.push({
      id: id >= 0 ? row.fields[id]! : String(position),
      textA: row.fields[textA]!,
      textB: textB >= 0 ? row.fields[textB]! : null,
      label: label >= 0 ? parseLabel(row.fields[label]!, `${table.file}:${row.line}`) : null,
    });
  });
  return { examples, skipped };
}

/**
 * The note for a split read without its rows of an empty label (GlueDataset.skipped): how many, their first lines, and
 * that Hugging Face's GLUE loader leaves them out too; undefined where none was.
 */
export function skippedRowsNote(dataset: GlueDataset): string | undefined {
  const lines = dataset.skipped;
  if (lines.length === 0) return undefined;
  return `${dataset.task.name} ${dataset.split}: ${dataset.file}: ${counted(lines.length, 'row')} with an empty label left out (${plural(lines.length, 'line')} ${someNames(lines.map(String), 5)}), as Hugging Face's GLUE loader leaves them out`;
}

/** A function from a label field to a class index or score, throwing DataError (naming `where`) if malformed. */
function labelParser(task: TaskDefinition): (field: string, where: string) => number {
  switch (task.labelFormat) {
    case 'score':
      // (as Hugging Face's GLUE loader reads a score: numpy's float32() of it, which reads the text as Python's float()
      // does, '1_0', '٣.٥', 'inf' and 'nan' included; infinity and not-a-number are outside the task's scores)
      return (field, where) => {
        const v = pythonFloat(field);
        if (v === undefined) throw new DataError(`${where}: label ${quotedText(field)} is not a number`);
        const range = task.scoreRange;
        if (range && !(v >= range[0] && v <= range[1]))
          throw new DataError(`${where}: label ${field} is outside ${task.name}'s scores [${range[0]}, ${range[1]}]`);
        return v;
      };
    case 'index':
    case 'name':
      // (as Hugging Face's GLUE loader reads a class label: a label name as written, else Python's int() of it, an
      // index into the names (' 1', '+1', '01'), whichever way the file writes them)
      return (field, where) => {
        const named = task.labels.indexOf(field);
        const v = named >= 0 ? named : pythonInt(field);
        if (v === undefined || !(v >= 0 && v < task.labels.length)) {
          // (a field as the file writes it, quoted as a shell takes it; the choices in the one words of choices)
          const indices = task.labels.map((_, i) => i);
          const names = task.labels;
          const [first, other] = task.labelFormat === 'index' ? [indices, names] : [names, indices];
          throw new DataError(`${where}: label ${quotedText(field)} is not ${choiceWords(first, { note: `(or ${other.join(', ')})` })}`);
        }
        return v;
      };
  }
}

/**
 * Why `dataset` is not the official GLUE file of its split, from its example count: 'SST-2 dev: …/dev.tsv has 67349
 * examples where GLUE's has 872 (the train file?), so its scores do not compare with published GLUE dev scores';
 * undefined when the count is GLUE's, or the task states none for the split. For the test split the note says that the
 * GLUE server takes only complete submissions.
 */
export function officialRowsNote(dataset: GlueDataset): string | undefined {
  const { task, split, file } = dataset;
  const expected = task.officialRows?.[split];
  const found = dataset.examples.length;
  if (expected === undefined || found === expected) return undefined;
  const train = task.officialRows?.train;
  const guess = split !== 'train' && train !== undefined && found === train ? ' (the train file?)' : '';
  const consequence =
    split === 'test' ? ': the GLUE server takes no submission of a different length' : `, so its scores do not compare with published GLUE ${split} scores`;
  return `${task.name} ${split}: ${file} has ${counted(found, 'example')} where GLUE's has ${expected}${guess}${consequence}`;
}
