/**
 * Corpus files and vocab.txt are read line by line, a chunk at a time, never as one string: a corpus of several GB
 * went past V8's string length (ERR_STRING_TOO_LONG). Here any whole-file read of this test's big files fails as
 * V8 fails on a file past its limit, and the files are read in chunks smaller than a line, so that lines, CRLF ends,
 * a last line without '\n' and UTF-8 characters all span chunks.
 */
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

const work = mkdtempSync(join(tmpdir(), 'bert-compress-large-text-'));
/** Files above this many bytes in `work` stand for files past V8's string length. */
const LIMIT = 4096;

vi.mock('node:fs', async (original) => {
  const fs = await original<typeof import('node:fs')>();
  const readFileSync = ((...args: Parameters<typeof fs.readFileSync>) => {
    const path = args[0];
    if (typeof path === 'string' && path.startsWith(work) && fs.statSync(path).size > LIMIT) {
      throw Object.assign(new Error('Cannot create a string longer than 0x1fffffe8 characters'), { code: 'ERR_STRING_TOO_LONG' });
    }
    return (fs.readFileSync as (...a: unknown[]) => unknown)(...args);
  }) as typeof fs.readFileSync;
  return { ...fs, default: { ...fs, readFileSync }, readFileSync };
});

const { corpusSet, readCorpusChoice, readCorpusFile } = await import('../../src/train/corpus.ts');
const { NotUtf8Error } = await import('../../src/errors.ts');
const { loadTokenizer } = await import('../../src/eval/tokenizer.ts');
const { readVocabFile } = await import('../../src/eval/wordpiece-vocab.ts');
const { loadWordVocab } = await import('../../src/train/augment-words.ts');
const { readVocabulary } = await import('../../src/eval/tokenizer.ts');

afterAll(() => rmSync(work, { recursive: true, force: true }));

// a BOM, CRLF ends, a repeated token (keeps its first id), multi-byte tokens, no final '\n'
const tokens = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...Array.from({ length: 600 }, (_, i) => `wörd${i}日🙂`), 'the', 'the', 'last'];
const vocabDir = join(work, 'model');
mkdirSync(vocabDir, { recursive: true });
writeFileSync(
  join(vocabDir, 'vocab.txt'),
  `\ufeff${tokens
    .map((t, i) => (i % 2 ? `${t}\r\n` : `${t}\n`))
    .join('')
    .replace(/\r?\n$/, '')}`,
);

/** Sentences with 2-, 3- and 4-byte UTF-8 characters, some pairs, blank lines and CRLF ends; no final '\n'. */
function corpusText(lines: number): { text: string; expected: Array<{ textA: string; textB?: string }> } {
  const parts: string[] = [];
  const expected: Array<{ textA: string; textB?: string }> = [];
  for (let i = 0; i < lines; i++) {
    const a = `café ${i} 日本語 🙂 naïve`;
    if (i % 3 === 1) {
      parts.push(`${a}\tréponse ${i} €\r\n`);
      expected.push({ textA: a, textB: `réponse ${i} €` });
    } else {
      parts.push(i % 5 === 0 ? `${a}\n\r\n` : `${a}\n`);
      expected.push({ textA: a });
    }
  }
  parts.push('dernière ligne sans fin 🙂');
  expected.push({ textA: 'dernière ligne sans fin 🙂' });
  return { text: parts.join(''), expected };
}

describe('corpus files, read line by line', () => {
  it('reads a corpus bigger than a whole read allows, in chunks that split lines and characters, exactly', () => {
    const file = join(work, 'corpus.txt');
    const { text, expected } = corpusText(400);
    writeFileSync(file, text);
    expect(statSync(file).size).toBeGreaterThan(LIMIT);
    expect(readCorpusFile(file)).toEqual(expected);
    // chunks of 1 to 7 bytes: every multi-byte character and every CRLF is cut somewhere
    for (const chunkBytes of [1, 2, 3, 5, 7, 4096]) expect(readCorpusFile(file, chunkBytes), `chunks of ${chunkBytes}`).toEqual(expected);
  });

  it('refuses a file that is not UTF-8 text (a gzip given as --corpus) in one line naming the line, as GLUE files are refused', () => {
    const file = join(work, 'corpus.txt.gz');
    // (gzip's magic bytes, then a byte that starts no UTF-8 character, on the third line)
    writeFileSync(file, Buffer.concat([Buffer.from('first line\nsecond é line\n'), Buffer.from([0x1f, 0x8b, 0x08, 0xff, 0x0a]), Buffer.from('last\n')]));
    for (const chunkBytes of [1, 3, 4096]) {
      expect(() => readCorpusFile(file, chunkBytes), `chunks of ${chunkBytes}`).toThrow(new NotUtf8Error(`${file}:3: not valid UTF-8 text`));
    }
    expect(() => readCorpusChoice(file, 1, 1)).toThrow(new NotUtf8Error(`${file}:3: not valid UTF-8 text`));
  });
});

describe('a corpus subset (--max-examples), read in two passes', () => {
  it('holds only the chosen texts, and gives the training set the whole corpus gives', () => {
    const file = join(work, 'corpus-subset.txt');
    const { text, expected } = corpusText(300);
    writeFileSync(file, text);
    const chosen = readCorpusChoice(file, 40, 7, 5);
    expect(chosen.texts).toHaveLength(40);
    expect(chosen.texts).toEqual(Array.from(chosen.rows, (r) => expected[r]));
    expect(new Set(chosen.rows).size).toBe(40);
    // without --max-examples: every text, in order
    const all = readCorpusChoice(file, undefined, 7, 5);
    expect(all.texts).toEqual(expected);
    expect([...all.rows]).toEqual(expected.map((_, i) => i));
    // the same examples, rows and digest as choosing among the whole corpus held in memory
    const tokenizer = loadTokenizer(vocabDir);
    const common = { tokenizer, maxLength: 16, numLabels: 2, labelMapping: { outputToLabel: [0, 1], from: 'canonical' as const }, seed: 7, file };
    const whole = corpusSet({ ...common, texts: expected, maxExamples: 40 });
    const two = corpusSet({ ...common, ...chosen, maxExamples: 40 });
    expect([...two.sourceRows]).toEqual([...whole.sourceRows]);
    expect(two.examples).toEqual(whole.examples);
    expect(two.sha256).toBe(whole.sha256);
  });
});

describe('vocab.txt, read line by line', () => {
  // a BOM, CRLF ends, a repeated token (the id of its last line, as transformers' load_vocab), multi-byte tokens, no final '\n'
  const tokens = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...Array.from({ length: 600 }, (_, i) => `wörd${i}日🙂`), 'the', 'the', 'last'];
  const text = `\ufeff${tokens
    .map((t, i) => (i % 2 ? `${t}\r\n` : `${t}\n`))
    .join('')
    .replace(/\r?\n$/, '')}`;
  const dir = join(work, 'model');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'vocab.txt');
  writeFileSync(file, text);
  const ids = (map: ReadonlyMap<string, number>) => [...map];
  const expected = tokens.map((t) => [t, tokens.lastIndexOf(t)] as const).filter(([t], i) => tokens.indexOf(t) === i);

  it('reads a vocab.txt bigger than a whole read allows, in chunks that split lines and characters, exactly', () => {
    expect(statSync(file).size).toBeGreaterThan(LIMIT);
    for (const chunkBytes of [1, 2, 3, 5, 4096]) expect(ids(readVocabFile(file, chunkBytes)), `chunks of ${chunkBytes}`).toEqual(expected);
    expect(readVocabFile(file).get('the')).toBe(606);
    expect(readVocabFile(file).get('last')).toBe(607);
  });

  it('is read line by line by the tokenizer and by word augmentation', () => {
    expect(ids(readVocabulary(dir)!.vocab)).toEqual(expected);
    const words = loadWordVocab(dir);
    expect(words.tokens.length).toBe(608);
    expect(words.tokens[0]).toBe('[PAD]');
    expect(words.ids.get('wörd599日🙂')).toBe(604);
  });

  it('refuses an unreadable or empty vocab.txt in one line', () => {
    expect(() => readVocabFile(join(work, 'none.txt'))).toThrow(/none\.txt: cannot read it: /);
    const empty = join(work, 'empty-vocab.txt');
    writeFileSync(empty, '');
    expect(() => readVocabFile(empty)).toThrow(/empty-vocab\.txt: empty vocabulary/);
  });
});
