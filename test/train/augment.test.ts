import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { loadTokenizer } from '../../src/eval/tokenizer.ts';
import { tokenizeTexts } from '../../src/train/data.ts';
import { loadModel } from '../../src/onnx/load.ts';
import { encodeModel } from '../../src/onnx/save.ts';
import { UserError } from '../../src/errors.ts';
import { openSession, Tensor } from '../../src/runtime/session.ts';
import {
  augmentCacheChunks,
  augmentCacheKey,
  augmentedSet,
  readAugmentCache,
  writeAugmentCache,
  augmentedTrainingSet,
  augmentExamples,
  EmbeddingNeighbours,
  trainingTexts,
  type AugmentOptions,
  type WordEmbeddings,
} from '../../src/train/augment.ts';
import { basicTokens, isWordToken, loadWordVocab, matchCase, normalizeWord, wordPieceIds, wordTokenMask, wordVocab } from '../../src/train/augment-words.ts';
import { loadTrainingSet, type TrainingSet } from '../../src/train/data.ts';
import { checkAugmentFits, withAugmented } from '../../src/train/augment-set.ts';
import { refusal } from '../helpers/refusal.ts';
import { SPECIALS, tokenizerJson, wordPieceModel } from '../helpers/tokenizer-json.ts';
import { clockAhead } from '../sweep/tiny-sweep.ts';
import { teacherWordEmbeddings } from '../../src/train/students/bilstm-config.ts';
import { FIXTURES, GLUE_DIR, TEACHERS, fixtureTokenizer, hasFixtures } from '../helpers/paths.ts';

const tmp = mkdtempSync(join(tmpdir(), 'bert-compress-augment-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * A hand-made vocabulary and 3-d embedding table. Specials, a ## piece and punctuation sit right next to 'good'
 * (the [MASK] row equals it) so that a search that failed to exclude them would return them.
 */
const TOKENS = [
  '[PAD]',
  '[UNK]',
  '[CLS]',
  '[SEP]',
  '[MASK]',
  '[unused0]',
  '##s',
  '.',
  ',',
  '!',
  'good',
  'great',
  'fine',
  'nice',
  'bad',
  'awful',
  'poor',
  'movie',
  'film',
  'the',
  'a',
  'is',
  'was',
  'plot',
  'café',
];
const ROWS: Record<string, [number, number, number]> = {
  '[PAD]': [0, 0, 0],
  '[UNK]': [1, 0.9, 0.1],
  '[CLS]': [1, 1, 0.01],
  '[SEP]': [1, 1, 0.02],
  '[MASK]': [1, 1, 0],
  '[unused0]': [1, 1, 0.03],
  '##s': [1, 1, 0.04],
  '.': [1, 1, 0.05],
  ',': [1, 0.95, 0],
  '!': [1, 0.98, 0.02],
  good: [1, 1, 0],
  great: [1, 0.9, 0.05],
  fine: [1, 0.7, 0.1],
  nice: [0.9, 1, 0.3],
  bad: [-1, -1, 0],
  awful: [-1, -0.8, 0.1],
  poor: [-0.9, -1, 0.4],
  movie: [0, 0.2, 1],
  film: [0.1, 0.25, 1],
  the: [0.3, -0.5, 0.2],
  a: [0.35, -0.45, 0.25],
  is: [-0.4, 0.3, -0.6],
  was: [-0.45, 0.35, -0.5],
  plot: [0.05, 0.1, 0.9],
  café: [0, 0, -1],
};
const EMB: WordEmbeddings = { vocabSize: TOKENS.length, width: 3, data: Float32Array.from(TOKENS.flatMap((t) => ROWS[t]!)) };
const VOCAB = wordVocab(TOKENS);

/** Brute-force top-k by cosine (float64) among whole-word tokens other than `id`. */
function bruteNeighbours(id: number, k: number): number[] {
  const row = (i: number) => ROWS[TOKENS[i]!]!;
  const cos = (a: number[], b: number[]) => {
    const d = a[0]! * b[0]! + a[1]! * b[1]! + a[2]! * b[2]!;
    return d / (Math.hypot(...a) * Math.hypot(...b));
  };
  return TOKENS.map((_, i) => i)
    .filter((i) => i !== id && isWordToken(TOKENS[i]!, true))
    .sort((x, y) => cos(row(id), row(y)) - cos(row(id), row(x)) || x - y)
    .slice(0, k);
}

const baseOptions = (over: Partial<AugmentOptions> = {}): AugmentOptions => ({
  examples: [{ textA: 'The movie is good, the plot was bad!' }, { textA: 'A fine film.', textB: 'the goodness of cafés' }],
  tokenizer: VOCAB,
  embeddings: EMB,
  n: 5,
  k: 3,
  seed: 7,
  threads: 1,
  ...over,
});

describe('words', () => {
  it('splits as BERT basic tokenization, with offsets into the original text', () => {
    const text = "It's  GOOD—très bon, 東京!";
    const words = basicTokens(text).map((t) => text.slice(t.start, t.end));
    expect(words).toEqual(['It', "'", 's', 'GOOD', '—', 'très', 'bon', ',', '東', '京', '!']);
    expect(normalizeWord('Très', true)).toBe('tres');
    expect(normalizeWord('Très', false)).toBe('Très');
  });

  it("splits and normalizes words as tokenizers' BertNormalizer and BertPreTokenizer do (U+FEFF and U+0085 dropped inside a word, CJK extension E from U+2B920, a final capital sigma lower-cased to σ), where U+FEFF split a word, U+2B820–U+2B91F were words of their own and 'ΟΔΟΣ' gave 'οδος'", () => {
    // (tokenizers 0.23's pre-tokens of this text, lower-cased: ab﻿cd, x, a𫠠b, a, 𫤠, b, ΟΔΟΣ as οδοσ, y\u{E000}z as yz)
    const text = 'ab\ufeffcd \u0085x a\u{2B820}b a\u{2B920}b ΟΔΟΣ y\u{E000}z';
    const words = basicTokens(text).map((t) => text.slice(t.start, t.end));
    expect(words).toEqual(['ab\ufeffcd', 'x', 'a\u{2B820}b', 'a', '\u{2B920}', 'b', 'ΟΔΟΣ', 'y\u{E000}z']);
    expect(words.map((w) => normalizeWord(w, true))).toEqual(['abcd', 'x', 'a\u{2B820}b', 'a', '\u{2B920}', 'b', 'οδοσ', 'yz']);
  });

  it('knows which tokens are whole words', () => {
    expect(TOKENS.filter((t) => isWordToken(t, true))).toEqual(TOKENS.slice(10, 24));
    expect(isWordToken('café', false)).toBe(true);
    expect(isWordToken('Good', true)).toBe(false);
    expect(isWordToken('42', true)).toBe(true);
  });

  it('splits unknown words into WordPiece pieces, greedy longest match first', () => {
    const v = wordVocab(['[UNK]', 'good', 'go', '##od', '##ness', '##s']);
    expect(wordPieceIds(v, 'good', 0)).toEqual([1]);
    expect(wordPieceIds(v, 'goodness', 0)).toEqual([1, 4]);
    expect(wordPieceIds(v, 'goods', 0)).toEqual([1, 5]);
    expect(wordPieceIds(v, 'gox', 0)).toEqual([0]);
  });

  it('puts a replacement in the case of the word it replaces', () => {
    expect(matchCase('Good', 'great')).toBe('Great');
    expect(matchCase('GOOD', 'great')).toBe('GREAT');
    expect(matchCase('good', 'great')).toBe('great');
  });
});

describe('EmbeddingNeighbours', () => {
  it('returns the true top-k by cosine, never the word itself, specials, ## pieces or punctuation', async () => {
    const index = new EmbeddingNeighbours(EMB, { k: 4, candidates: wordTokenMask(VOCAB), threads: 1 });
    const ids = TOKENS.map((_, i) => i).filter((i) => isWordToken(TOKENS[i]!, true));
    const got = await index.neighbours(ids);
    for (const id of ids) expect([...got.get(id)!], TOKENS[id]).toEqual(bruteNeighbours(id, 4));
    expect([...got.get(VOCAB.ids.get('good')!)!].map((i) => TOKENS[i])).toEqual(['great', 'fine', 'nice', 'film']);
    expect(index.computed).toBe(ids.length);
    // Cached per id: asking again computes nothing.
    await index.neighbours(ids.slice(0, 3));
    expect(index.computed).toBe(ids.length);
  });

  it('returns fewer than k when there are fewer candidates', async () => {
    const candidates = new Uint8Array(TOKENS.length);
    for (const w of ['good', 'great', 'bad']) candidates[VOCAB.ids.get(w)!] = 1;
    const index = new EmbeddingNeighbours(EMB, { k: 5, candidates, threads: 1 });
    const id = VOCAB.ids.get('good')!;
    expect([...(await index.neighbours([id])).get(id)!].map((i) => TOKENS[i])).toEqual(['great', 'bad']);
  });
});

describe('augmentExamples', () => {
  it('gives n variants per source, in order, deterministic for a seed', async () => {
    const a = await augmentExamples(baseOptions());
    const b = await augmentExamples(baseOptions());
    expect(a).toEqual(b);
    expect(a.map((e) => e.source)).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
    expect(a.slice(0, 5).every((e) => e.textB === undefined)).toBe(true);
    expect(a.slice(5).every((e) => typeof e.textB === 'string')).toBe(true);
    const other = await augmentExamples(baseOptions({ seed: 8 }));
    expect(other).not.toEqual(a);
    // An example's variants do not depend on the other examples.
    const alone = await augmentExamples(baseOptions({ examples: [baseOptions().examples[0]!] }));
    expect(alone).toEqual(a.slice(0, 5));
  });

  it('p = 0 leaves every sentence as it is', async () => {
    const out = await augmentExamples(baseOptions({ p: 0 }));
    const src = baseOptions().examples;
    for (const e of out) {
      expect(e.textA).toBe(src[e.source]!.textA);
      expect(e.textB).toBe(src[e.source]!.textB ?? undefined);
    }
  });

  it('replaces only single-piece words, by their neighbours; keeps punctuation, spacing and multi-piece words', async () => {
    const opts = baseOptions({ p: 1, n: 20 });
    const out = await augmentExamples(opts);
    let replaced = 0;
    for (const e of out) {
      const src = opts.examples[e.source]!;
      for (const [before, after] of [
        [src.textA, e.textA],
        [src.textB ?? null, e.textB ?? null],
      ] as const) {
        if (before === null) continue;
        const tb = basicTokens(before);
        const ta = basicTokens(after!);
        expect(ta.length).toBe(tb.length);
        tb.forEach((t, i) => {
          const w0 = before.slice(t.start, t.end);
          const w1 = after!.slice(ta[i]!.start, ta[i]!.end);
          const id0 = VOCAB.ids.get(normalizeWord(w0, true));
          if (t.punct || id0 === undefined) {
            // Punctuation and words that are not one piece ('goodness', 'cafés') stay.
            expect(w1).toBe(w0);
            return;
          }
          // p = 1: every single-piece word is replaced by a whole-word neighbour, in its case.
          const w1n = normalizeWord(w1, true);
          expect(isWordToken(w1n, true)).toBe(true);
          expect(bruteNeighbours(id0, 3).map((i) => TOKENS[i])).toContain(w1n);
          expect(w1).toBe(matchCase(w0, w1n));
          replaced++;
        });
        // Everything between the words is unchanged.
        expect(after!.replace(/[\p{L}\p{N}]+/gu, '')).toBe(before.replace(/[\p{L}\p{N}]+/gu, ''));
      }
    }
    expect(replaced).toBeGreaterThan(100);
  });

  it('replaces about a fraction p of the words', async () => {
    const examples = Array.from({ length: 50 }, () => ({ textA: 'the good movie is a fine film' }));
    const out = await augmentExamples(baseOptions({ examples, n: 8, p: 0.4 }));
    let changed = 0;
    for (const e of out) e.textA.split(' ').forEach((w, i) => (changed += w !== examples[0]!.textA.split(' ')[i] ? 1 : 0));
    const rate = changed / (out.length * 7);
    expect(rate).toBeGreaterThan(0.33);
    expect(rate).toBeLessThan(0.47);
  });

  it('never replaces keepWords', async () => {
    const out = await augmentExamples(baseOptions({ p: 1, keepWords: ['The', 'is'] }));
    for (const e of out.filter((x) => x.source === 0)) expect(e.textA).toMatch(/^The \w+ is \w+, the \w+ \w+ \w+!$/);
  });

  it('rejects bad settings', async () => {
    await expect(augmentExamples(baseOptions({ p: 1.5 }))).rejects.toThrow(/p must be/);
    await expect(augmentExamples(baseOptions({ k: 0 }))).rejects.toThrow(/^augmentation: k: expected an integer from 1 to 2\^53 − 1, got number 0$/);
    await expect(augmentExamples(baseOptions({ embeddings: { vocabSize: 3, width: 3, data: new Float32Array(9) } }))).rejects.toThrow(/only 3 rows/);
  });
});

describe('augmentedSet', () => {
  it('computes once, then reads the cache without recomputing; keys on every input', async () => {
    const cacheDir = join(tmp, 'cache');
    const logs: string[] = [];
    const first = await augmentedSet({ ...baseOptions(), cacheDir, log: (l) => logs.push(l) });
    expect(first.cached).toBe(false);
    expect(logs.join('\n')).toMatch(/nearest neighbours of \d+ words/);
    logs.length = 0;
    // A copy of the table (same bytes): same key, read from the cache; no neighbour search runs.
    const again = await augmentedSet({ ...baseOptions({ embeddings: { ...EMB, data: EMB.data.slice() } }), cacheDir, log: (l) => logs.push(l) });
    expect(again.cached).toBe(true);
    expect(again.examples).toEqual(first.examples);
    expect(logs.join('\n')).toMatch(/from cache/);
    expect(logs.join('\n')).not.toMatch(/nearest neighbours/);

    const changed = EMB.data.slice();
    changed[40]! += 0.5;
    const keys = new Set(
      [
        baseOptions(),
        baseOptions({ n: 4 }),
        baseOptions({ p: 0.3 }),
        baseOptions({ k: 2 }),
        baseOptions({ seed: 1 }),
        baseOptions({ embeddings: { ...EMB, data: changed } }),
        baseOptions({ examples: [{ textA: 'the good movie' }] }),
        baseOptions({ keepWords: ['the'] }),
      ].map(augmentCacheKey),
    );
    expect(keys.size).toBe(8);
  });

  it('recomputes a truncated or foreign cache file', async () => {
    const cacheDir = join(tmp, 'cache2');
    const first = await augmentedSet({ ...baseOptions(), cacheDir });
    const good = readFileSync(first.file, 'utf8');
    for (const bad of [good.split('\n').slice(0, 4).join('\n'), 'not json\n', good.replace(first.key, 'x'.repeat(64))]) {
      writeFileSync(first.file, bad);
      const logs: string[] = [];
      const again = await augmentedSet({ ...baseOptions(), cacheDir, log: (l) => logs.push(l) });
      expect(again.cached).toBe(false);
      expect(logs.join('\n')).toMatch(/recomputing/);
      expect(again.examples).toEqual(first.examples);
      expect(readFileSync(first.file, 'utf8')).toBe(good);
    }
  });
});

describe('the augmentation cache file, past what one string holds (V8: ~512M characters, MNLI with --augment 10)', () => {
  const examples = [
    { source: 0, textA: 'The café was good!' },
    { source: 0, textA: 'The café was fine 🙂' },
    { source: 1, textA: 'A nice film.', textB: 'the goodness of naïve cafés' },
    { source: 1, textA: 'A great movie.', textB: 'π ≈ 3.14' },
  ];
  const key = 'k'.repeat(64);
  /** The file as it has always been written: the header line, then one example per line. */
  const format = `${[JSON.stringify({ format: 'augmented-examples/2', key, count: 4 }), ...examples.map((e) => JSON.stringify(e))].join('\n')}\n`;

  it('is written in pieces of whole lines, never as one string, in the same format', () => {
    const pieces = [...augmentCacheChunks(key, examples, 40)].map((p) => Buffer.from(p).toString('utf8'));
    expect(pieces.length).toBe(5);
    for (const p of pieces) expect(p.endsWith('\n')).toBe(true);
    expect(pieces.join('')).toBe(format);
    expect([...augmentCacheChunks(key, examples)].length).toBe(1); // (1M characters a piece by default)
  });

  it('is read back line by line, whatever the chunk size; augmentedSet takes a file written so as its cache', async () => {
    const file = join(tmp, 'pieces', 'augmented.jsonl');
    writeAugmentCache(file, key, examples, 40);
    expect(readFileSync(file, 'utf8')).toBe(format);
    for (const chunkBytes of [1, 3, 7, 1 << 20]) expect(readAugmentCache(file, key, 4, chunkBytes)).toEqual(examples);
    writeFileSync(file, `${format}${JSON.stringify(examples[0])}\n`);
    expect(readAugmentCache(file, key, 4, 5)).toBe('holds 5 examples, expected 4');
    writeFileSync(file, format.slice(0, -20));
    expect(readAugmentCache(file, key, 4, 5)).toBe('line 5 is not JSON');

    const cacheDir = join(tmp, 'cache-pieces');
    const first = await augmentedSet({ ...baseOptions(), cacheDir });
    writeAugmentCache(first.file, first.key, first.examples, 16);
    const again = await augmentedSet({ ...baseOptions(), cacheDir });
    expect(again.cached).toBe(true);
    expect(again.examples).toEqual(first.examples);
  });
});

describe.skipIf(!hasFixtures)('augmented variants as training examples (needs ../shared/fixtures/onnx)', () => {
  it('are tokenized with the student tokenizer (tokenizeTexts), label NaN', () => {
    const tok = fixtureTokenizer('distilbert-base-uncased');
    const ex = tokenizeTexts([{ textA: 'a fine film' }, { textA: 'good', textB: 'bad plot' }], loadTokenizer(tok), 16, () => Number.NaN);
    expect(Array.from(ex[0]!.ids)).toEqual([101, 1037, 2986, 2143, 102]);
    // (the shared folder's class, DistilBertTokenizer, returns no token types: type 0 for every token, as the model computes)
    expect(Array.from(ex[1]!.typeIds)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(ex.every((e) => Number.isNaN(e.label))).toBe(true);
  });
});

/** The shared 2-layer SST-2 teacher, whose embeddings were trained from a normal(0, 0.02) start. */
const TEACHER = join(TEACHERS, 'sst2-L2H256');
const hasTeacher = existsSync(join(TEACHER, 'model.onnx')) && existsSync(join(GLUE_DIR, 'SST-2', 'dev.tsv'));

describe.skipIf(!hasTeacher)('on the SST-2 teacher (needs ../shared/teachers/sst2-L2H256 and ../shared/glue)', () => {
  const embeddings = hasTeacher ? teacherWordEmbeddings(loadModel(join(TEACHER, 'model.onnx'))) : undefined!;

  it('finds 15 whole-word neighbours of "good" (printed)', async () => {
    const vocab = loadWordVocab(TEACHER);
    expect(vocab.tokens.length).toBe(30522);
    expect(vocab.lowercase).toBe(true);
    const index = new EmbeddingNeighbours(embeddings, { k: 15, candidates: wordTokenMask(vocab), threads: 1 });
    const lines: string[] = [];
    for (const w of ['good', 'bad', 'movie']) {
      const id = vocab.ids.get(w)!;
      const words = [...(await index.neighbours([id])).get(id)!].map((i) => vocab.tokens[i]!);
      expect(words).toHaveLength(15);
      expect(words.every((t) => isWordToken(t, true) && t !== w)).toBe(true);
      lines.push(`${w}: ${words.join(' ')}`);
    }
    console.log(`nearest neighbours in ${TEACHER}:\n${lines.join('\n')}`);
  });

  it('augments a training set into a labelled-by-teacher set', async () => {
    const base = loadTrainingSet({ task: 'SST-2', split: 'dev', glueDir: GLUE_DIR, tokenizer: TEACHER, modelConfig: TEACHER, maxExamples: 40, seed: 3 });
    const texts = trainingTexts(base);
    expect(texts).toHaveLength(40);
    const aug = await augmentedSet({ examples: texts, tokenizer: TEACHER, embeddings, n: 2, seed: 0, cacheDir: join(tmp, 'sst2'), threads: 1 });
    expect(aug.examples).toHaveLength(80);
    const set = augmentedTrainingSet(base, aug.examples, TEACHER);
    expect(set.examples).toHaveLength(120);
    expect(set.examples.slice(0, 40)).toEqual(base.examples);
    expect(set.examples.slice(40).every((e) => Number.isNaN(e.label))).toBe(true);
    expect(Array.from(set.sourceRows.slice(40, 44))).toEqual([base.sourceRows[0], base.sourceRows[0], base.sourceRows[1], base.sourceRows[1]]);
    expect(set.sha256).not.toBe(base.sha256);
    expect(augmentedTrainingSet(base, aug.examples, TEACHER).sha256).toBe(set.sha256);
    console.log(
      aug.examples
        .slice(0, 4)
        .map((e) => `${texts[e.source]!.textA}\n  → ${e.textA}`)
        .join('\n'),
    );
  });
});

const MLM = join(FIXTURES, 'bert-toy-pretraining-torch11-op12.onnx');

describe.skipIf(!existsSync(MLM))('MLM candidates (toy pretraining graph, 99-token vocabulary) (needs ../shared/fixtures/onnx)', () => {
  // [PAD] [UNK] [CLS] [SEP] [MASK], a ## piece, punctuation, then words w7…w98.
  const tokens = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', '##s', '.', ...Array.from({ length: 92 }, (_, i) => `w${i + 7}`)];
  const vocab = wordVocab(tokens);
  const text = 'w10 w20 w7s w30.';

  /** Reference: the MLM's top-k whole-word ids at `pos` of `pieces`, fed as TinyBERT feeds it. */
  async function reference(pieces: number[], pos: number, k: number): Promise<string[]> {
    const masked = pieces.slice();
    masked[pos] = 4;
    const ids = [2, ...masked, 3, ...pieces, 3];
    const types = ids.map((_, i) => (i < pieces.length + 2 ? 0 : 1));
    const s = await openSession(MLM, { threads: 1 });
    const big = (a: number[]) => new Tensor('int64', BigInt64Array.from(a, BigInt), [1, a.length]);
    const out = await s.run({ input_ids: big(ids), token_type_ids: big(types), input_mask: big(ids.map(() => 1)) });
    await s.release();
    const scores = out.prediction_scores!.data as Float32Array;
    const row = scores.subarray((1 + pos) * 99, (2 + pos) * 99);
    return Array.from({ length: 99 }, (_, i) => i)
      .filter((i) => isWordToken(tokens[i]!, true) && i !== pieces[pos])
      .sort((a, b) => row[b]! - row[a]! || a - b)
      .slice(0, k)
      .map((i) => tokens[i]!);
  }

  it('replaces single-piece words by the MLM top-k for the masked word; multi-piece words and punctuation stay', async () => {
    const out = await augmentExamples({ examples: [{ textA: text }], tokenizer: vocab, n: 30, p: 1, k: 3, seed: 1, mlm: { model: MLM }, threads: 1 });
    const pieces = [vocab.ids.get('w10')!, vocab.ids.get('w20')!, vocab.ids.get('w7')!, vocab.ids.get('##s')!, vocab.ids.get('w30')!, vocab.ids.get('.')!];
    const allowed = [await reference(pieces, 0, 3), await reference(pieces, 1, 3), await reference(pieces, 4, 3)];
    const seen = allowed.map(() => new Set<string>());
    for (const e of out) {
      const m = /^(\w+) (\w+) w7s (\w+)\.$/.exec(e.textA);
      expect(m, e.textA).not.toBeNull();
      [m![1]!, m![2]!, m![3]!].forEach((w, j) => {
        expect(allowed[j]).toContain(w);
        seen[j]!.add(w);
      });
    }
    // 30 draws from 3 candidates: each candidate shows up.
    expect(seen.map((s) => s.size)).toEqual([3, 3, 3]);
  });

  it('reads an MLM that calls local functions (as dynamo exports do) and is fed by its graph, as it reads the model inlined', async () => {
    // an input no name tells the role of (its mask, renamed), so that the graph is read; the first GELU's Erf a call of
    // a local function, which discovery reads only once the functions are inlined
    const mlm = loadModel(MLM);
    const rename = (v: string) => (v === 'input_mask' ? 'm_in' : v);
    for (const v of mlm.graph.inputs) v.name = rename(v.name);
    for (const n of mlm.graph.nodes) n.inputs = n.inputs.map(rename);
    const plain = encodeModel(mlm);
    const erf = mlm.graph.nodes.find((n) => n.opType === 'Erf')!;
    Object.assign(erf, { opType: 'ErfOf', domain: 'pkg.test' });
    mlm.opsetImports.push({ domain: 'pkg.test', version: 1 });
    const opset = mlm.opsetImports.find((o) => o.domain === '')!.version;
    mlm.unmodelled = {
      ...mlm.unmodelled,
      functions: [
        {
          name: 'ErfOf',
          domain: 'pkg.test',
          input: ['x'],
          output: ['y'],
          opsetImport: [{ domain: '', version: opset }],
          node: [{ opType: 'Erf', input: ['x'], output: ['y'] }],
        },
      ],
    };
    const run = (model: Uint8Array) =>
      augmentExamples({ examples: [{ textA: text }], tokenizer: vocab, n: 6, p: 1, k: 3, seed: 1, mlm: { model }, threads: 1 });
    expect(await run(encodeModel(mlm))).toEqual(await run(plain));
  });

  it("refuses in one line, with onnxruntime's detail, an MLM onnxruntime cannot run on the masked sentences", async () => {
    const mlm = loadModel(MLM);
    for (const v of mlm.graph.inputs) if (v.name === 'input_mask') v.shape = [1, 4]; // the batches pass the input checks, and onnxruntime refuses them
    const e = await augmentExamples({
      examples: [{ textA: text }],
      tokenizer: vocab,
      n: 2,
      p: 1,
      k: 3,
      seed: 1,
      mlm: { model: encodeModel(mlm) },
      threads: 1,
    }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(UserError);
    expect((e as Error).message).toMatch(
      /^MLM augmentation: onnxruntime cannot run the model on a batch of \[3, 15\] tokens: Got invalid dimensions for input: input_mask for the following indices; index: 0 Got: 3 Expected: 1; index: 1 Got: 15 Expected: 4$/,
    );
  });
});

describe('an --augment that cannot fit in memory', () => {
  const set = {
    examples: Array.from({ length: 10 }, () => ({ ids: new Int32Array(20), typeIds: new Int32Array(20), label: 0 })),
  } as unknown as TrainingSet;

  it('is refused in one line with its lower-bound size', () => {
    // 10 examples × 4 variants × (300 + 20 tokens × 8) bytes = 18,400 bytes
    expect(() => checkAugmentFits(set, 4, 18_400)).not.toThrow();
    expect(refusal(() => checkAugmentFits(set, 4, 18_399))).toBe(
      '--augment 4: 40 variants of 10 examples would take at least 0.000018 GB of memory, more than the 0.000018 GB this process may use; give a smaller --augment or --max-examples',
    );
  });

  it('is refused by withAugmented before any variant is made (an --augment of 10⁹ ran out of memory after minutes)', async () => {
    const logs: string[] = [];
    const o = {
      teacher: undefined as never,
      tokenizer: undefined as never,
      n: 1e9,
      seed: 1,
      cacheDir: join(tmpdir(), 'bc-augment-none'),
      log: (l: string) => logs.push(l),
    };
    await expect(withAugmented(set, o)).rejects.toThrow(/^--augment 1000000000: 10,000,000,000 variants of 10 examples would take at least 4,600 GB of memory/);
    expect(logs).toEqual([]);
    expect(existsSync(o.cacheDir)).toBe(false);
  });
});

describe("augmentation's lower-casing of a folder's tokenizer.json", () => {
  it("is the BertNormalizer's as eval reads it: a cased tokenizer.json of a BERT class whose tokenizer_config.json names no do_lower_case lower-cases (the class's default, as transformers loads it); do_lower_case false, or no class known, keeps case", () => {
    const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'good', 'Good'];
    const folder = (name: string, files: Record<string, object>) => {
      const dir = join(tmp, name);
      mkdirSync(dir);
      const json = {
        version: '1.0',
        added_tokens: [],
        normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: false },
        pre_tokenizer: { type: 'BertPreTokenizer' },
        post_processor: null,
        decoder: null,
        model: wordPieceModel(vocab),
      };
      for (const [file, content] of Object.entries({ 'tokenizer.json': json, ...files })) writeFileSync(join(dir, file), JSON.stringify(content));
      // (what eval reads: 'Good' lower-cased to good 5, or kept as Good 6)
      return { lowercase: loadWordVocab(dir).lowercase, evalIds: [...loadTokenizer(dir).encode('Good', null, 8).ids] };
    };
    expect(folder('bert-class', { 'config.json': { model_type: 'bert' } })).toEqual({ lowercase: true, evalIds: [5] });
    expect(folder('config-cased', { 'config.json': { model_type: 'bert' }, 'tokenizer_config.json': { do_lower_case: false } })).toEqual({
      lowercase: false,
      evalIds: [6],
    });
    expect(folder('no-class', {})).toEqual({ lowercase: false, evalIds: [6] });
  });
});

// (loadWordVocab parsed the folder's tokenizer.json itself, once more beside the reading eval and training share)
describe("loadWordVocab and a folder's tokenizer.json", () => {
  it('parses it once for the tokenizer and the augmentation words, reading its lower-casing as eval does', () => {
    const dir = join(tmp, 'one-parse');
    mkdirSync(dir);
    const vocab = [...SPECIALS, 'Good', 'bad'];
    const json = tokenizerJson(vocab, {
      model: wordPieceModel(vocab),
      normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: false },
      pre_tokenizer: { type: 'BertPreTokenizer' },
    });
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));
    clockAhead();
    const parse = vi.spyOn(JSON, 'parse');
    try {
      const ids = loadTokenizer(dir).encode('Good bad', null, 8).ids;
      const words = loadWordVocab(dir);
      expect(parse.mock.calls.filter(([text]) => typeof text === 'string' && text.includes('"WordPiece"'))).toHaveLength(1);
      expect(words.lowercase).toBe(false);
      expect(words.source).toBe(join(dir, 'tokenizer.json'));
      expect(wordPieceIds(words, 'Good', 1)).toEqual([ids[1]]);
    } finally {
      parse.mockRestore();
      vi.useRealTimers();
    }
  });
});
