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
  if (!existsSync(path)) throw new DataError(`${path}: corpus file not found`);
  if (statSync(path).isDirectory()) throw new DataError(`${path}: a folder, not a corpus file (one sentence, or a tab-separated pair, per line)`);
  const texts: CorpusText[] = [];
  try {
    for (const line of readLines(path, chunkBytes)) {
      const t = line.trim();
      if (!t) continue;
      const [a, b] = t.split('\t');
      texts.push(b ? { textA: a, textB: b } : { textA: a });
    }
  } catch (e) {
    throw new DataError(`${path}: the corpus file cannot be read (${fsReason(e)})`, { cause: e });
  }
  if (!texts.length) throw new DataError(`${path}: the corpus is empty`);
  return texts;
}

/** Every sentence of the GLUE train and dev files present in `glueDir`, deduplicated, in a stable order. */
export function glueSentences(glueDir: string): CorpusText[] {
  const seen = new Set<string>();
  const out: CorpusText[] = [];
  for (const split of ['train', 'dev'] as const) {
    for (const task of resolveTasks('all', split)) {
      if (!existsSync(splitFile(task, split, glueDir).file)) continue;
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
 * given. `task` (optional) only names the set: corpus examples carry no labels.
 */
export function corpusSet(o: {
  texts: readonly CorpusText[];
  tokenizer: TextTokenizer;
  maxLength: number;
  task?: TaskDefinition;
  numLabels: number;
  labelMapping: LabelMapping;
  maxExamples?: number;
  seed: number;
  file: string;
}): TrainingSet {
  const rows = chooseRows(o.texts.length, o.maxExamples, o.seed, 'corpus/subset');
  const examples = tokenizeTexts(
    Array.from(rows, (r) => o.texts[r]!),
    o.tokenizer,
    o.maxLength,
    () => Number.NaN,
  );
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
