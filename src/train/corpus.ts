/**
 * Plain-text training data for general distillation (TinyBERT's first stage): a corpus file with one sentence, or a
 * tab-separated sentence pair, per line; by default every sentence of the GLUE train and dev files present,
 * deduplicated. Examples have no labels: only intermediate losses train on them.
 */
import { existsSync, statSync } from 'node:fs';
import { DataError, fsReason } from '../errors.ts';
import { READ_CHUNK_BYTES, readLines } from '../files.ts';
import { loadSplit, splitFile } from '../glue/dataset.ts';
import { resolveTasks } from '../glue/registry.ts';
import type { TaskDefinition } from '../glue/tasks.ts';
import type { TextTokenizer } from '../eval/tokenizer.ts';
import type { LabelMapping } from '../eval/labels.ts';
import { chooseRows, examplesDigest, tokenizeTexts, type TrainingSet } from './data.ts';

/** The random stream that chooses a corpus subset. */
const CORPUS_STREAM = 'corpus/subset';

/** One corpus line: a sentence, or a pair. */
export interface CorpusText {
  textA: string;
  textB?: string;
}

/**
 * Reads a corpus file: one sentence, or a tab-separated pair, per non-empty line (LF or CRLF). The file is read line
 * by line (`readLines`, `chunkBytes` at a time), never held as one string, so a corpus of several GB is read
 * whole.
 */
export function readCorpusFile(path: string, chunkBytes = READ_CHUNK_BYTES): CorpusText[] {
  const texts: CorpusText[] = [];
  eachCorpusText(path, chunkBytes, (t) => texts.push(t));
  return texts;
}

/**
 * The texts of a corpus file that `corpusSet` keeps with `maxExamples` and `seed` (all of them without
 * `maxExamples`), with their rows among the file's texts: the file is read twice, once to count its texts and once
 * to keep the chosen ones, so that a corpus of several GB trained on a subset holds only that subset. Give both to
 * `corpusSet` as `texts` and `rows`.
 */
export function readCorpusChoice(
  path: string,
  maxExamples: number | undefined,
  seed: number,
  chunkBytes = READ_CHUNK_BYTES,
): { texts: CorpusText[]; rows: Int32Array } {
  if (maxExamples === undefined) {
    const texts = readCorpusFile(path, chunkBytes);
    return { texts, rows: chooseRows(texts.length, undefined, seed, CORPUS_STREAM) };
  }
  let count = 0;
  eachCorpusText(path, chunkBytes, () => count++);
  const rows = chooseRows(count, maxExamples, seed, CORPUS_STREAM); // (ascending)
  const texts: CorpusText[] = [];
  let row = 0;
  eachCorpusText(path, chunkBytes, (t) => {
    if (texts.length < rows.length && rows[texts.length] === row) texts.push(t);
    row++;
  });
  if (texts.length !== rows.length) throw new DataError(`${path}: the corpus file changed while it was read (${count} texts, then ${row})`);
  return { texts, rows };
}

/**
 * Refuses a corpus path that names no file (none, or a folder) in one line (DataError), as reading it would: what the
 * CLI checks before any download, and each read of the file first.
 */
export function checkCorpusPath(path: string): void {
  if (!existsSync(path)) throw new DataError(`${path}: corpus file not found`);
  if (statSync(path).isDirectory()) throw new DataError(`${path}: a folder, not a corpus file (one sentence, or a tab-separated pair, per line)`);
}

/** Calls `each` with every text of a corpus file in order; one-line DataErrors for a missing, unreadable or empty file. */
function eachCorpusText(path: string, chunkBytes: number, each: (t: CorpusText) => void): void {
  checkCorpusPath(path);
  let any = false;
  // (strict: a compressed or binary file given as the corpus is refused, not trained on as replacement characters)
  const lines = readLines(path, chunkBytes, { strictUtf8: true }); // (opens the file at the first next())
  for (;;) {
    let next: IteratorResult<string>;
    try {
      next = lines.next();
    } catch (e) {
      if (e instanceof DataError) throw e;
      throw new DataError(`${path}: the corpus file cannot be read (${fsReason(e)})`, { cause: e });
    }
    if (next.done) break;
    const t = next.value.trim();
    if (!t) continue;
    const [a, b] = t.split('\t');
    any = true;
    each(b ? { textA: a, textB: b } : { textA: a });
  }
  if (!any) throw new DataError(`${path}: the corpus is empty`);
}

/** Every sentence of the GLUE train and dev files present in `glueDir`, deduplicated, in a stable order. */
export function glueSentences(glueDir: string): CorpusText[] {
  const seen = new Set<string>();
  const out: CorpusText[] = [];
  // (a file read once: MNLI-m and MNLI-mm train on the same MNLI/train.tsv, hundreds of MB)
  const read = new Set<string>();
  for (const split of ['train', 'dev'] as const) {
    for (const task of resolveTasks('all', split)) {
      const { file } = splitFile(task, split, glueDir);
      if (read.has(file) || !existsSync(file)) continue;
      read.add(file);
      for (const e of loadSplit(task, split, glueDir).examples) {
        for (const text of [e.textA, e.textB]) {
          if (text && !seen.has(text)) {
            seen.add(text);
            out.push({ textA: text });
          }
        }
      }
    }
  }
  if (!out.length) throw new DataError(`${glueDir}: no GLUE train or dev file to build a corpus from (give --corpus)`);
  return out;
}

/**
 * A training set of corpus texts (labels NaN), tokenized; the first `maxExamples` of a seeded permutation when
 * given. With `rows` (from `readCorpusChoice`), `texts` are already the chosen ones, `rows` their places in the
 * corpus. `task` (optional) only names the set: corpus examples carry no labels.
 */
export function corpusSet(o: {
  texts: readonly CorpusText[];
  rows?: Int32Array;
  tokenizer: TextTokenizer;
  maxLength: number;
  task?: TaskDefinition;
  numLabels: number;
  labelMapping: LabelMapping;
  maxExamples?: number;
  seed: number;
  file: string;
}): TrainingSet {
  const rows = o.rows ?? chooseRows(o.texts.length, o.maxExamples, o.seed, CORPUS_STREAM);
  const examples = tokenizeTexts(o.rows ? o.texts : Array.from(rows, (r) => o.texts[r]!), o.tokenizer, o.maxLength, () => Number.NaN);
  return {
    ...(o.task ? { task: o.task } : {}),
    split: 'train',
    file: o.file,
    regression: o.task?.regression ?? false,
    numLabels: o.numLabels,
    labelMapping: o.labelMapping,
    maxLength: o.maxLength,
    padId: o.tokenizer.padId,
    examples,
    sourceRows: rows,
    sha256: examplesDigest([JSON.stringify({ format: 'corpus-set/2', maxLength: o.maxLength })], examples),
  };
}
