/**
 * loadTokenizer keeps the tokenizers of the last few folders it read while their side files' stamps hold (a sweep
 * reads its input model's folder for the plan, each point's evaluation, calibration and training): a folder whose
 * file was rewritten, or that gained a file, is read again, as is one changed within the last 2 s (no stamp) and one
 * pushed out by newer folders.
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { folderTokenizerJson, loadTokenizer, readVocabulary } from '../../src/eval/tokenizer.ts';
import { clockAhead } from '../sweep/tiny-sweep.ts';

const root = mkdtempSync(join(tmpdir(), 'bc-tokenizer-loaded-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => vi.useRealTimers());

const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

/** Writes `file` with `text`, its times `s` seconds after 10 s ago (so that each write's times differ). */
function write(file: string, text: string, s: number): void {
  writeFileSync(file, text);
  const at = new Date(Date.now() - 10_000 + s * 1000);
  utimesSync(file, at, at);
}

/** A folder of a vocab.txt of the special tokens then `words`. */
function vocabFolder(name: string, words: readonly string[]): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  write(join(dir, 'vocab.txt'), `${[...SPECIALS, ...words].join('\n')}\n`, 0);
  return dir;
}

const ids = (dir: string, text: string) => loadTokenizer(dir).encode(text, null, 8).ids;

describe('loadTokenizer of a folder read before', () => {
  it('gives the tokenizer it read while the side files hold, and reads a rewritten or added file again', () => {
    const dir = vocabFolder('rewritten', ['good', 'bad']);
    clockAhead();
    const first = loadTokenizer(dir);
    expect(loadTokenizer(dir)).toBe(first);
    expect(loadTokenizer(join(dir, 'vocab.txt'))).toBe(first);
    expect(first.encode('good', null, 8).ids).toEqual([2, 5, 3]);

    // the same size, other ids: read again
    write(join(dir, 'vocab.txt'), `${[...SPECIALS, 'bad', 'good'].join('\n')}\n`, 1);
    clockAhead();
    expect(ids(dir, 'good')).toEqual([2, 6, 3]);
    expect(loadTokenizer(dir)).toBe(loadTokenizer(dir));

    // a tokenizer_config.json added (cased): read again
    expect(ids(dir, 'Good')).toEqual([2, 6, 3]);
    write(join(dir, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: false }), 2);
    clockAhead();
    expect(ids(dir, 'Good')).toEqual([2, 1, 3]);
  });

  it('reads a folder changed within the last 2 s each time', () => {
    // (the clock held at the write, so that a slow machine cannot let 2 s pass before the loads)
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now());
    const dir = vocabFolder('just-written', ['good']);
    writeFileSync(join(dir, 'vocab.txt'), `${[...SPECIALS, 'good'].join('\n')}\n`);
    expect(loadTokenizer(dir)).not.toBe(loadTokenizer(dir));
  });

  it('keeps the last 4 folders read', () => {
    const dirs = ['a', 'b', 'c', 'd', 'e'].map((name) => vocabFolder(`kept-${name}`, ['good']));
    clockAhead();
    const read = dirs.map((dir) => loadTokenizer(dir));
    for (const i of [1, 2, 3, 4]) expect(loadTokenizer(dirs[i]!)).toBe(read[i]);
    expect(loadTokenizer(dirs[0]!)).not.toBe(read[0]);
  });

  it("keeps readVocabulary's vocabulary alike (a sweep's plan reads a distilled point's teacher and student for each point), read again once a file is rewritten", () => {
    const dir = vocabFolder('vocabulary', ['good', 'bad']);
    clockAhead();
    const first = readVocabulary(dir)!;
    expect(readVocabulary(dir)).toBe(first);
    expect(first.vocab.get('good')).toBe(5);
    write(join(dir, 'vocab.txt'), `${[...SPECIALS, 'bad', 'good'].join('\n')}\n`, 1);
    clockAhead();
    expect(readVocabulary(dir)!.vocab.get('good')).toBe(6);
  });

  it("reads a folder's tokenizer.json once for its tokenizer, its vocabulary and folderTokenizerJson's other askers (a sweep's plan asked four times), again once it is rewritten", () => {
    const dir = join(root, 'tokenizer-json');
    mkdirSync(dir, { recursive: true });
    const json = (words: readonly string[]) =>
      JSON.stringify({
        version: '1.0',
        normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
        pre_tokenizer: { type: 'BertPreTokenizer' },
        model: {
          type: 'WordPiece',
          unk_token: '[UNK]',
          continuing_subword_prefix: '##',
          max_input_chars_per_word: 100,
          vocab: Object.fromEntries([...SPECIALS, ...words].map((t, i) => [t, i])),
        },
      });
    write(join(dir, 'tokenizer.json'), json(['good', 'bad']), 0);
    clockAhead();
    const first = folderTokenizerJson(dir)!;
    expect(folderTokenizerJson(dir)).toBe(first);
    readVocabulary(dir);
    loadTokenizer(dir);
    expect(folderTokenizerJson(dir)).toBe(first);
    write(join(dir, 'tokenizer.json'), json(['bad', 'good']), 1);
    clockAhead();
    const again = folderTokenizerJson(dir)!;
    expect(again).not.toBe(first);
    expect((again.json.model as { vocab: Record<string, number> }).vocab.good).toBe(6);
  });
});
