/**
 * Writes fixtures/: the small graphs the project tests its graph rewriting on when ../shared is not there, built by
 * the project's own builder (src/bert/build.ts) from seeded weights, so a clone runs real prune / quantize /
 * factorize / share / export tests on its own. Deterministic: the same code writes the same bytes (a test
 * regenerates them and compares); about 300 KB in all, checked in.
 *
 * - `tiny-bert/`: BertForSequenceClassification as torch's exporter writes it at opset 14 (2 layers × 4 heads × 32,
 *   FFN 64, 128-token vocabulary), with config.json and tokenizer files (a WordPiece vocab.txt of letters, word
 *   pieces and a few words, tokenizer_config.json), a model folder `compress` and `eval` take as it is;
 * - `tiny-bert-renamed/`: the same architecture at opset 11 (Unsqueeze axes as attributes, no `allowzero`) with the
 *   inputs TensorFlow exports use (`input_word_ids`, `input_mask`, `segment_ids`) and other dimension names;
 * - `tiny-distilbert/`: DistilBertForSequenceClassification at opset 17 (LayerNormalization nodes; no token types,
 *   no pooler, pre_classifier + ReLU head).
 *
 *   npm run fixtures                                        # rewrite fixtures/
 *   node bin/run-ts.mjs scripts/make-fixtures.ts --out DIR  # write them elsewhere
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBert, type BuildOptions } from '../src/bert/build.ts';
import { configToHuggingFace, type ExtendedBertConfig } from '../src/bert/config.ts';
import { encodeModel, renameValue } from '../src/onnx/index.ts';
import { TINY_CONFIG } from '../test/helpers/models.ts';

export const FIXTURES_DIR = resolve(fileURLToPath(new URL('../fixtures', import.meta.url)));

/** One fixture model folder. */
export interface FixtureSpec {
  /** Folder name under fixtures/. */
  name: string;
  config: ExtendedBertConfig;
  /** Seed of the weights. */
  seed: number;
  build: BuildOptions;
  /** Graph inputs renamed after the build (builder name → fixture name). */
  inputNames?: Readonly<Record<string, string>>;
  /** Write config.json and the tokenizer files beside model.onnx. */
  modelFolder?: boolean;
}

/** The tests' tiny config (2 layers × 4 heads × 32 hidden, vocab 128), with label names. */
const TINY: ExtendedBertConfig = { ...TINY_CONFIG, id2label: ['negative', 'positive'] };

export const FIXTURE_SPECS: readonly FixtureSpec[] = [
  { name: 'tiny-bert', config: TINY, seed: 11, build: { opset: 14 }, modelFolder: true },
  {
    name: 'tiny-bert-renamed',
    config: TINY,
    seed: 12,
    build: { opset: 11, batchDim: 'batch', sequenceDim: 'seq' },
    inputNames: { input_ids: 'input_word_ids', attention_mask: 'input_mask', token_type_ids: 'segment_ids' },
  },
  { name: 'tiny-distilbert', config: { ...TINY, family: 'distilbert', activation: 'gelu' }, seed: 13, build: { opset: 17 } },
];

/** The WordPiece vocabulary of the tiny models: specials, letters, digits, punctuation, `##` pieces, then words. */
export function tinyVocabulary(size: number): string[] {
  const letters = 'abcdefghijklmnopqrstuvwxyz'.split('');
  const tokens = [
    '[PAD]',
    '[UNK]',
    '[CLS]',
    '[SEP]',
    '[MASK]',
    ...letters,
    ...'0123456789'.split(''),
    ...".,!?'-".split(''),
    ...letters.map((l) => `##${l}`),
    'the',
    'an',
    'is',
    'it',
    'and',
    'but',
    'not',
    'of',
    'to',
    'movie',
    'film',
    'story',
    'good',
    'bad',
    'great',
    'dull',
    'fun',
    'very',
    'too',
    'long',
    'short',
    'best',
    'worst',
    'love',
    'hate',
    'funny',
    'boring',
    'plot',
    'acting',
    'this',
    'that',
    'was',
    'with',
    'for',
    'in',
    'on',
    'all',
    'so',
    'no',
    'one',
    'most',
    'ever',
    'just',
    'like',
    'well',
    'made',
    'cast',
    'end',
    'charm',
    'mess',
    'warm',
    'cold',
    'smart',
    'slow',
    'sweet',
    'sad',
    'script',
    'music',
    'scene',
  ];
  if (new Set(tokens).size !== tokens.length) throw new Error('the tiny vocabulary repeats a token');
  if (tokens.length < size) throw new Error(`the tiny vocabulary has ${tokens.length} tokens, fewer than ${size}`);
  return tokens.slice(0, size);
}

const text = (s: string) => new TextEncoder().encode(s);
const json = (o: unknown) => text(JSON.stringify(o, null, 2) + '\n');

/** The files of one fixture folder, by name, as bytes. */
export function fixtureFiles(spec: FixtureSpec): Map<string, Uint8Array> {
  const model = buildBert(spec.config, { kind: 'random', seed: spec.seed, std: 0.2 }, spec.build);
  for (const [from, to] of Object.entries(spec.inputNames ?? {})) renameValue(model.graph, from, to);
  model.producerName = 'bert-compress fixtures';
  model.docString = `scripts/make-fixtures.ts: ${spec.name}`;
  const files = new Map<string, Uint8Array>([['model.onnx', encodeModel(model)]]);
  if (spec.modelFolder) {
    files.set('config.json', json(configToHuggingFace(spec.config)));
    files.set('vocab.txt', text(tinyVocabulary(spec.config.vocabSize).join('\n') + '\n'));
    files.set('tokenizer_config.json', json({ do_lower_case: true, model_max_length: spec.config.maxPositions }));
  }
  return files;
}

/** Writes every fixture folder under `dir`; returns the paths written. */
export function writeFixtures(dir: string): string[] {
  const written: string[] = [];
  for (const spec of FIXTURE_SPECS) {
    const folder = join(dir, spec.name);
    mkdirSync(folder, { recursive: true });
    for (const [name, bytes] of fixtureFiles(spec)) {
      writeFileSync(join(folder, name), bytes);
      written.push(join(folder, name));
    }
  }
  return written;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--out');
  const dir = at >= 0 && process.argv[at + 1] ? resolve(process.argv[at + 1]) : FIXTURES_DIR;
  for (const p of writeFixtures(dir)) console.log(p);
}
