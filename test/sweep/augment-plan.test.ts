/**
 * A distill step with augment whose teacher's tokenizer has no WordPiece vocabulary (a byte-level BPE one: XLM-R,
 * RoBERTa), or whose teacher's word embeddings are not one table (factorized), is refused by the sweep's plan,
 * before any point runs, in augmentation's words, where its point failed when its augmentation began (after the
 * steps before it). A WordPiece teacher of a plain table plans.
 */
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { tinyBert } from '../helpers/models.ts';
import { ALBERT_SPECIAL_PIECES, sentencePieceModelBytes } from '../helpers/sentencepiece-model.ts';
import { planRefusal } from './plan-refusal.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { loadTokenizer } from '../../src/eval/tokenizer.ts';
import { compressFile } from '../../src/export/compress.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { planSweep } from '../../src/sweep/plan.ts';
import { parseSweep } from '../../src/sweep/spec.ts';
import { loadWordVocab } from '../../src/train/augment-words.ts';
import { runTraining } from '../../src/train/run.ts';

vi.mock('../../src/eval/tokenizer.ts', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/eval/tokenizer.ts')>();
  return { ...actual, loadTokenizer: vi.fn(actual.loadTokenizer) };
});
vi.mock('../../src/train/augment-words.ts', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/train/augment-words.ts')>();
  return { ...actual, loadWordVocab: vi.fn(actual.loadWordVocab) };
});

let root: string;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'augment-plan-'));
  writeModelFolder(join(root, 'models', 'wordpiece'), tinyBert({}, { seed: 1 }));
  // (a WordPiece teacher whose word embeddings are factorized: no one table for the neighbours)
  registerAllPasses();
  const input = join(root, 'models', 'wordpiece', 'model.onnx');
  await compressFile({ input, output: join(root, 'models', 'factorized', 'model.onnx'), steps: [{ pass: 'factorize-embeddings', settings: { rank: 8 } }] });
  // (the tiny BERT's tokenizer as a byte-level BPE: vocab.json with merges.txt, or tokenizer.json of model.type BPE)
  const vocab = { '<s>': 0, '<pad>': 1, '</s>': 2, '<unk>': 3, a: 4, b: 5, ab: 6 };
  const slow = writeModelFolder(join(root, 'models', 'slow-bpe'), tinyBert({}, { seed: 2 }));
  unlinkSync(join(slow, 'vocab.txt'));
  writeFileSync(join(slow, 'vocab.json'), JSON.stringify(vocab));
  writeFileSync(join(slow, 'merges.txt'), '#version: 0.2\na b\n');
  // (a folder whose tokenizer.json is of model.type BPE over the given vocabulary, its vocab.txt removed)
  const bpeFolder = (name: string, seed: number, model: { vocab: Record<string, number>; merges: string[]; unk_token: string }) => {
    const folder = writeModelFolder(join(root, 'models', name), tinyBert({}, { seed }));
    unlinkSync(join(folder, 'vocab.txt'));
    const pre_tokenizer = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
    const json = { version: '1.0', added_tokens: [], normalizer: null, pre_tokenizer, post_processor: null, decoder: null, model: { type: 'BPE', ...model } };
    writeFileSync(join(folder, 'tokenizer.json'), JSON.stringify(json));
  };
  bpeFolder('fast-bpe', 3, { vocab, merges: ['a b'], unk_token: '<unk>' });
  // (the same over the WordPiece folder's own vocabulary: a teacher distillation takes for that student, whose
  // augmentation is what the plan refuses)
  const words = readFileSync(join(root, 'models', 'wordpiece', 'vocab.txt'), 'utf8')
    .split('\n')
    .filter((w) => w !== '');
  bpeFolder('fast-bpe-same', 5, { vocab: Object.fromEntries(words.map((w, i) => [w, i])), merges: [], unk_token: '[UNK]' });
  // (an ALBERT-style SentencePiece-only folder: spiece.model, config.json's model_type albert)
  const spm = writeModelFolder(join(root, 'models', 'sentencepiece'), tinyBert({}, { seed: 4 }));
  unlinkSync(join(spm, 'vocab.txt'));
  writeFileSync(join(spm, 'spiece.model'), sentencePieceModelBytes([...ALBERT_SPECIAL_PIECES, { piece: '▁a', score: -1 }], { unkId: 1 }));
  writeFileSync(join(spm, 'config.json'), JSON.stringify({ model_type: 'albert', num_labels: 2, max_length: 16 }));
  writeGlueTask(join(root, 'glue'), 'SST-2', 8, ['train', 'dev']);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const file = () => join(root, 'aug.yaml');
const refusal = (model: string, steps: unknown[]) => planRefusal(root, 'aug', [model], 'kd', steps);
const distill = (settings: Record<string, unknown>) => ({ pass: 'distill', settings: { epochs: 1, batchSize: 4, maxExamples: 8, ...settings } });

describe("a sweep's plan refuses augmentation on a teacher whose tokenizer has no WordPiece vocabulary", () => {
  it("a teacher's tokenizer.json of model.type BPE: the point's model, or a named one teaching the model so far after a graph step", async () => {
    const bpe = `${join(root, 'models', 'fast-bpe', 'tokenizer.json')}: augmentation needs a WordPiece vocabulary (model.type is BPE)`;
    expect(await refusal('fast-bpe', [distill({ student: 'bert:layers=1', augment: 2 })])).toBe(
      `${file()}: pipeline 'kd' on model 'fast-bpe', step 1 (distill): ${bpe}`,
    );
    expect(await refusal('wordpiece', [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }, distill({ augment: 1, teacher: 'models/fast-bpe-same' })])).toBe(
      `${file()}: pipeline 'kd' on model 'wordpiece', step 2 (distill): ${join(root, 'models', 'fast-bpe-same', 'tokenizer.json')}: augmentation needs a WordPiece vocabulary (model.type is BPE)`,
    );
    // (a teacher of another vocabulary than the student's is refused for that first: no augmentation setting mends it)
    expect(await refusal('wordpiece', [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }, distill({ augment: 1, teacher: 'models/fast-bpe' })])).toMatch(
      /step 2 \(distill\): student vocabulary \(.*vocab\.txt\) differs from the teacher's \(.*fast-bpe\/tokenizer\.json\): 23 tokens against 7; distillation needs the same tokenizer$/,
    );
  });

  it("a teacher's vocab.json with merges.txt", async () => {
    expect(await refusal('slow-bpe', [distill({ student: 'bert:layers=1', augment: 2 })])).toBe(
      `${file()}: pipeline 'kd' on model 'slow-bpe', step 1 (distill): ${join(root, 'models', 'slow-bpe', 'vocab.json')}: augmentation needs a WordPiece vocabulary (vocab.json with merges.txt is a byte-level BPE one)`,
    );
  });

  it("a teacher's SentencePiece model (ALBERT, XLM-R), where its bytes were read as vocab.txt lines and the point failed", async () => {
    expect(await refusal('sentencepiece', [distill({ student: 'bert:layers=1', augment: 2 })])).toBe(
      `${file()}: pipeline 'kd' on model 'sentencepiece', step 1 (distill): ${join(root, 'models', 'sentencepiece', 'spiece.model')}: augmentation needs a WordPiece vocabulary (spiece.model is a SentencePiece one)`,
    );
  });

  it("a teacher whose word embeddings are factorized (the neighbours' table), named or the point's model", async () => {
    const factorized = "teacher word embeddings 'bert.embeddings.word_embeddings.weight_factor_a' are factorized: use an uncompressed teacher";
    expect(await refusal('wordpiece', [distill({ student: 'bert:layers=1', augment: 1, teacher: 'models/factorized' })])).toBe(
      `${file()}: pipeline 'kd' on model 'wordpiece', step 1 (distill): ${factorized}`,
    );
    expect(await refusal('factorized', [distill({ student: 'bert:layers=1', augment: 1 })])).toBe(
      `${file()}: pipeline 'kd' on model 'factorized', step 1 (distill): ${factorized}`,
    );
    expect(await refusal('factorized', [distill({ student: 'bert:layers=1' })])).toBeUndefined();
  });

  // (where the plan refused the teacher's word embeddings, and the point, counting its steps before its augmentation
  // begins, the epochs: the plan's line is the run's)
  it('a factorized teacher and epochs past 2^53 − 1 optimizer steps: the steps first, as training counts them before it augments', async () => {
    const epochs = Number.MAX_SAFE_INTEGER;
    const count = `16 training examples (8 of ${join(root, 'glue', 'SST-2', 'train.tsv')}, 1 augmented variant of each) in batches of 1 make ${16n * BigInt(epochs)} optimizer steps, past 2^53 − 1: give fewer epochs`;
    expect(await refusal('factorized', [distill({ student: 'bert:layers=1', augment: 1, epochs, batchSize: 1 })])).toBe(
      `${file()}: pipeline 'kd' on model 'factorized', step 1 (distill): distill.epochs ${epochs}: ${count}`,
    );
    const run = runTraining({
      task: 'SST-2',
      teacher: join(root, 'models', 'factorized', 'model.onnx'),
      student: 'bert:layers=1',
      glueDir: join(root, 'glue'),
      cacheDir: join(root, 'cache'),
      output: join(root, 'out', 'model.onnx'),
      settings: { epochs, batchSize: 1, threads: 1 },
      distill: { augment: 1 },
      maxExamples: 8,
    });
    await expect(run).rejects.toThrow(`--epochs ${epochs}: ${count}`);
  });

  it('plans a WordPiece teacher with augment, and a BPE one without', async () => {
    expect(await refusal('wordpiece', [distill({ student: 'bert:layers=1', augment: 2 })])).toBeUndefined();
    expect(await refusal('fast-bpe', [distill({ student: 'bert:layers=1' })])).toBeUndefined();
    expect(await refusal('fast-bpe', [distill({ student: 'bert:layers=1', augment: 0 })])).toBeUndefined();
  });
});

describe("a sweep's plan of several augmenting points of one teacher", () => {
  it("reads the teacher's tokenizer and vocabulary once, where it read them again for every point", async () => {
    const teacher = join(root, 'models', 'wordpiece');
    const spec = parseSweep(
      {
        name: 'aug-many',
        models: [{ path: 'models/wordpiece', tasks: ['SST-2'] }],
        calibration: false,
        pipelines: [1, 2, 3, 4].map((augment) => ({ name: `kd${augment}`, steps: [distill({ student: 'bert:layers=1', augment })] })),
      },
      join(root, 'aug-many.yaml'),
      'aug-many.yaml',
    );
    vi.mocked(loadTokenizer).mockClear();
    vi.mocked(loadWordVocab).mockClear();
    const points = await planSweep(spec, { glueDir: join(root, 'glue'), workDir: join(root, 'work-many') });
    expect(points.filter((p) => p.steps.some((s) => s.pass === 'distill'))).toHaveLength(4);
    expect(vi.mocked(loadTokenizer).mock.calls.filter(([dir]) => dir === teacher)).toHaveLength(1);
    expect(vi.mocked(loadWordVocab).mock.calls).toHaveLength(1);
  });
});

describe("a sweep's plan of a distill step with augment and alpha 1", () => {
  it('warns before any point runs that its augmented examples add nothing to the loss, as the run warns, where only the point said so as it ran', async () => {
    const spec = parseSweep(
      {
        name: 'aug-alpha',
        models: [{ path: 'models/wordpiece', tasks: ['SST-2'] }],
        calibration: false,
        pipelines: [
          { name: 'labels', steps: [distill({ student: 'bert:layers=1', augment: 2, alpha: 1 })] },
          { name: 'teacher', steps: [distill({ student: 'bert:layers=1', augment: 2, alpha: 0.5 })] },
          { name: 'tinybert', steps: [distill({ student: 'bert:layers=1', augment: 2, alpha: 1, intermediate: 'tinybert' })] },
        ],
      },
      join(root, 'aug-alpha.yaml'),
      'aug-alpha.yaml',
    );
    const lines: string[] = [];
    await planSweep(spec, { glueDir: join(root, 'glue'), workDir: join(root, 'work-alpha'), log: (l) => lines.push(l) });
    expect(lines.filter((l) => l.startsWith('warning:'))).toEqual([
      "warning: pipeline 'labels', step 1 (distill): augment=2 with alpha=1: augmented examples have no gold label and alpha 1 gives the teacher no weight, so they add nothing to the loss but time (and dilute each batch's labelled rows); give alpha below 1 for the teacher's term to read them, or leave out augment",
    ]);
  });
});
