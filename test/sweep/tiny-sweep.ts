/**
 * A complete, tiny sweep setting built in a temporary folder: two seeded tiny BERTs laid out as Hugging Face
 * folders (an SST-2 classifier and an STS-B regressor, with config.json and a small vocab.txt), a GLUE-like data
 * folder with a few dozen SST-2 and STS-B rows, and a sweep file over them. Points take a fraction of a second.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { vi } from 'vitest';
import { saveModel } from '../../src/onnx/index.ts';
import type { SweepPoint } from '../../src/sweep/plan.ts';
import { SweepStore } from '../../src/sweep/store.ts';
import { tinyBert } from '../helpers/models.ts';

const WORDS = [
  'the',
  'a',
  'movie',
  'film',
  'is',
  'was',
  'good',
  'bad',
  'great',
  'awful',
  'fun',
  'dull',
  'story',
  'plot',
  'acting',
  'very',
  'not',
  'quite',
  'and',
  'but',
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
  'with',
  'guitar',
  'ball',
  'park',
  'street',
  'red',
  'blue',
  'big',
  'small',
  'child',
  'horse',
  'rides',
  'reads',
  'book',
  'sings',
  'song',
  '.',
  ',',
];

/** A deterministic pseudo-random sentence of 4–9 words. */
function sentence(i: number): string {
  let s = (i * 2654435761) >>> 0;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const n = 4 + Math.floor(next() * 6);
  return Array.from({ length: n }, () => WORDS[Math.floor(next() * WORDS.length)]!).join(' ');
}

function writeGlue(dir: string, rows: number): void {
  mkdirSync(join(dir, 'SST-2'), { recursive: true });
  mkdirSync(join(dir, 'STS-B'), { recursive: true });
  for (const [split, offset] of [
    ['train', 0],
    ['dev', 1000],
  ] as const) {
    const sst = ['sentence\tlabel', ...Array.from({ length: rows }, (_, i) => `${sentence(offset + i)}\t${i % 2}`)];
    writeFileSync(join(dir, 'SST-2', `${split}.tsv`), sst.join('\n') + '\n');
    const sts = [
      'index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore',
      ...Array.from(
        { length: rows },
        (_, i) =>
          `${i}\tmain-captions\tMSRvid\t2012test\t${i}\tnone\tnone\t${sentence(offset + 2 * i)}\t${sentence(offset + 2 * i + 1)}\t${(((i * 7) % 50) / 10).toFixed(3)}`,
      ),
    ];
    writeFileSync(join(dir, 'STS-B', `${split}.tsv`), sts.join('\n') + '\n');
  }
}

function writeModelFolder(dir: string, regression: boolean, seed: number): void {
  mkdirSync(dir, { recursive: true });
  saveModel(tinyBert({ numLabels: regression ? 1 : 2 }, { seed }), join(dir, 'model.onnx'));
  const config = regression
    ? { model_type: 'bert', num_labels: 1, id2label: { 0: 'LABEL_0' }, problem_type: 'regression', max_length: 16 }
    : { model_type: 'bert', num_labels: 2, id2label: { 0: 'negative', 1: 'positive' }, max_length: 16 };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  writeFileSync(join(dir, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...WORDS].join('\n') + '\n');
}

/** A tiny SST-2 classifier folder as models/tiny-sst2 is written (its config.json and vocab.txt), of weights `seed`; returns `dir`. */
export function writeTinySst2(dir: string, seed: number): string {
  writeModelFolder(dir, false, seed);
  return dir;
}

/**
 * The model folder `root`/models/`name`: `root`/models/tiny-sst2's model with a byte-level-looking BPE tokenizer
 * (vocab.json, merges.txt; no vocab.txt or tokenizer.json) and tokenizer_config.json `config` (XLMTokenizer's by
 * default, whose folder the code running now refuses); returns its path.
 */
export function writeXlmModel(root: string, name = 'tiny-xlm', config: object = { tokenizer_class: 'XLMTokenizer' }): string {
  const dir = join(root, 'models', name);
  cpSync(join(root, 'models', 'tiny-sst2'), dir, { recursive: true });
  for (const f of ['vocab.txt', 'tokenizer.json']) rmSync(join(dir, f), { force: true });
  writeFileSync(join(dir, 'vocab.json'), JSON.stringify({ '<s>': 0, '<pad>': 1, '</s>': 2, '<unk>': 3, a: 4, b: 5, ab: 6 }));
  writeFileSync(join(dir, 'merges.txt'), '#version: 0.2\na b\n');
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(config));
  return dir;
}

/**
 * Writes the sweep file `dir`/`name`.yaml: the sweep `name` on the GLUE data of `dir`/glue, `body` (its models,
 * calibration and pipelines: YAML lines), one quick benchmark shape on one thread, no models kept, then `extra`
 * (more top-level lines); returns its path.
 */
export function writeQuickSweep(dir: string, name: string, body: string, extra = ''): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `name: ${name}\nglueDir: glue\n${body}bench: {batch: [1], seq: [8], repeats: 1, warmup: 0, threads: 1}\neval: {threads: 1}\nkeepModels: false\n${extra}`,
  );
  return file;
}

/**
 * Sets this test file's clock (Date alone, standing still) 10 s ahead of the real one, until vi.useRealTimers(): a
 * plan stamps no file changed within the last 2 s (files.ts fileStamps), so the files the test wrote just now are seen
 * from 10 s later, and stamped. A file a test writes or touches later changes at the real time, which a slow run
 * (a loaded machine) takes past that clock: call it again before a plan that must stamp such a file.
 */
export function clockAhead(): void {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(vi.getRealSystemTime() + 10_000);
}

export interface TinySweep {
  root: string;
  glueDir: string;
  sweepFile: string;
  /** Points the sweep file expands to. */
  points: number;
  cleanup(): void;
}

/** The tiny sweep's pipelines, by name, each as its lines of the sweep file and the points it expands to per model. */
const PIPELINES = {
  baseline: { yaml: '  - baseline\n', points: 1 },
  heads: {
    yaml: '  - name: heads-{ratio}\n    grid:\n      - {pass: prune-heads, settings: {ratio: [0.25, 0.5], importance: magnitude}}\n',
    points: 2,
  },
  ffn: { yaml: '  - name: ffn-{ratio}\n    grid:\n      - {pass: prune-ffn, settings: {ratio: [0.25, 0.5]}}\n', points: 2 },
  'drop-1': { yaml: "  - name: drop-1\n    steps:\n      - {pass: drop-layers, settings: {layers: '1'}}\n", points: 1 },
  'factorized-8': { yaml: '  - name: factorized-8\n    steps:\n      - {pass: factorize-embeddings, settings: {rank: 8}}\n', points: 1 },
  shared: { yaml: '  - name: shared\n    steps:\n      - {pass: share-layers, settings: {share: all, from: mean}}\n', points: 1 },
} as const;

export type TinyPipeline = keyof typeof PIPELINES;

/**
 * Writes the models, data and a sweep file with 2 models × 8 pipelines = 16 points (baseline, prune-heads grid of
 * 2, prune-ffn grid of 2, drop-layers, factorize-embeddings, share-layers), or 2 models × `pipelines` only (fewer
 * points, for a test that needs a sweep but not each kind of point: ['baseline', 'drop-1'] gives 4).
 */
export function writeTinySweep(opts: { rows?: number; extra?: string; pipelines?: readonly TinyPipeline[] } = {}): TinySweep {
  const root = mkdtempSync(join(tmpdir(), 'tiny-sweep-'));
  const glueDir = join(root, 'glue');
  writeGlue(glueDir, opts.rows ?? 40);
  writeModelFolder(join(root, 'models', 'tiny-sst2'), false, 1);
  writeModelFolder(join(root, 'models', 'tiny-stsb'), true, 2);
  const pipelines = (opts.pipelines ?? (Object.keys(PIPELINES) as TinyPipeline[])).map((name) => PIPELINES[name]);
  const sweepFile = join(root, 'tiny.yaml');
  writeFileSync(
    sweepFile,
    `name: tiny
glueDir: glue
models:
  - {path: models/tiny-sst2, tasks: [SST-2]}
  - {path: models/tiny-stsb, tasks: [STS-B]}
calibration: {examples: 8}
pipelines:
${pipelines.map((p) => p.yaml).join('')}bench: {batch: [1], seq: [8], repeats: 2, warmup: 1, threads: 1}
eval: {threads: 1}
keepModels: false
${opts.extra ?? ''}`,
  );
  const points = 2 * pipelines.reduce((n, p) => n + p.points, 0);
  return { root, glueDir, sweepFile, points, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** The plans of a store's finished points, by label. */
export function storedPlans(store: string): SweepPoint[] {
  const s = SweepStore.open(store, { readonly: true });
  try {
    const byKey = s.finishedPlans();
    return s
      .finished()
      .map((f) => byKey.get(f.key) as SweepPoint)
      .sort((a, b) => a.label.localeCompare(b.label));
  } finally {
    s.close();
  }
}
