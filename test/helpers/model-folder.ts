/**
 * Folders that evaluation reads, written in a test's temporary folder: a model folder (model.onnx, config.json and
 * a word-level vocab.txt over `WORDS`; or the shared toy pretraining checkpoint) and a GLUE task's TSV files with a few
 * rows of those words.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { saveModel, type Model } from '../../src/onnx/index.ts';
import { tinyBert } from './models.ts';
import { fixture } from './paths.ts';

/** Every word the generated rows use; the vocabulary has them after BERT's five special tokens. */
export const WORDS: readonly string[] = [
  'the',
  'a',
  'man',
  'woman',
  'dog',
  'cat',
  'runs',
  'sits',
  'plays',
  'eats',
  'on',
  'in',
  'park',
  'good',
  'bad',
  'big',
  'ball',
  '.',
];

/**
 * Writes `model` as a model folder `dir` for a 2-class task (SST-2 labels) or a regression (STS-B), or with no
 * config.json (`config: false`: an export as torch.onnx.export writes it, with a vocabulary); returns `dir`.
 */
export function writeModelFolder(dir: string, model: Model, opts: { regression?: boolean; maxLength?: number; config?: false } = {}): string {
  mkdirSync(dir, { recursive: true });
  saveModel(model, join(dir, 'model.onnx'));
  const labels = opts.regression ? { num_labels: 1, problem_type: 'regression' } : { num_labels: 2, id2label: { 0: 'negative', 1: 'positive' } };
  if (opts.config !== false) writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'bert', ...labels, max_length: opts.maxLength ?? 16 }));
  writeFileSync(join(dir, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...WORDS].join('\n') + '\n');
  return dir;
}

/**
 * Writes a one-label tiny BERT as a model folder `dir` whose scores output is declared `scores` ([batch, 1], or a
 * multiple-choice head's [batch, choices]) and whose config.json names `architectures` (a regression's problem_type
 * unless `problemType` is false): the folder the tests of a config naming another head than a sequence classifier
 * read; returns `dir`.
 */
export function writeHeadFolder(dir: string, architectures: string[], scores: Array<string | number>, opts: { problemType?: boolean } = {}): string {
  const model = tinyBert({ numLabels: 1 }, { seed: 2 });
  model.graph.outputs[0] = { ...model.graph.outputs[0]!, shape: scores };
  writeModelFolder(dir, model, { regression: true });
  const problem = opts.problemType === false ? {} : { problem_type: 'regression' };
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'bert', architectures, num_labels: 1, ...problem, max_length: 16 }));
  return dir;
}

/** The shared toy pretraining checkpoint (MLM and NSP heads, 99 ids; present only with ../shared/fixtures/onnx). */
export const PRETRAINING_CHECKPOINT = fixture('bert-toy-pretraining-torch11-op12.onnx');

/**
 * Writes PRETRAINING_CHECKPOINT as a model folder `dir`, with its tokenizer's vocabulary of 99 ids (the five
 * specials, then words w0…w93) and no config.json; returns `dir`.
 */
export function writePretrainingFolder(dir: string): string {
  mkdirSync(dir, { recursive: true });
  copyFileSync(PRETRAINING_CHECKPOINT, join(dir, 'model.onnx'));
  writeFileSync(join(dir, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...Array.from({ length: 94 }, (_, i) => `w${i}`)].join('\n') + '\n');
  return dir;
}

/** A sentence of 3 to 7 of `WORDS`, fixed by `i`. */
export function sentence(i: number): string {
  return Array.from({ length: 3 + (i % 5) }, (_, j) => WORDS[(i * 7 + j * 5) % WORDS.length]).join(' ');
}

/** Writes `rows` rows of SST-2 (sentence, label) or STS-B (sentence pair, score) into `glueDir` for each split. */
export function writeGlueTask(glueDir: string, task: 'SST-2' | 'STS-B', rows: number, splits: readonly string[] = ['dev']): void {
  mkdirSync(join(glueDir, task), { recursive: true });
  const lines =
    task === 'SST-2'
      ? ['sentence\tlabel', ...Array.from({ length: rows }, (_, i) => `${sentence(i)}\t${i % 2}`)]
      : [
          'index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore',
          ...Array.from(
            { length: rows },
            (_, i) =>
              `${i}\tmain-captions\tMSRvid\t2012test\t${i}\tnone\tnone\t${sentence(2 * i)}\t${sentence(2 * i + 1)}\t${(((i * 7) % 50) / 10).toFixed(3)}`,
          ),
        ];
  for (const split of splits) writeFileSync(join(glueDir, task, `${split}.tsv`), lines.join('\n') + '\n');
}
