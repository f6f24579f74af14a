/**
 * Tokenizer files holding bytes that are not UTF-8: transformers fails to read each of them (Python's UnicodeDecodeError:
 * load_vocab, json.load, the slow tokenizers' vocab.json and merges.txt, SentencePiece pieces read as Python text; the
 * tokenizers crate's 'stream did not contain valid UTF-8' for tokenizer.json), where they were read with U+FFFD.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError, NotUtf8Error } from '../../src/errors.ts';
import { readSentencePieceModel } from '../../src/eval/sentencepiece-vocab.ts';
import { loadTokenizer, vocabTokenizerJson } from '../../src/eval/tokenizer.ts';
import { utf8Text } from '../../src/files.ts';
import { ALBERT_SPECIAL_PIECES, sentencePieceModelBytes } from '../helpers/sentencepiece-model.ts';
import { refusal } from '../helpers/refusal.ts';
import { readingVersionApartFromPairs } from '../helpers/tokenizer-readings.ts';

const root = mkdtempSync(join(tmpdir(), 'not-utf8-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'hello', 'caf\u00e9'];

/** `text`'s UTF-8 bytes (a Buffer's own) with the two bytes of its 'é' (c3 a9) made ff fe, which start no UTF-8 character. */
const spoiled = (text: string | Buffer): Buffer => {
  const bytes = Buffer.from(text);
  const at = bytes.indexOf(Buffer.from('\u00e9', 'utf8'));
  bytes[at] = 0xff;
  bytes[at + 1] = 0xfe;
  return bytes;
};

/** A folder of these files (a string written as UTF-8, a Buffer as it is). */
function folder(name: string, files: Record<string, string | Buffer>): string {
  const dir = join(root, name);
  mkdirSync(dir);
  for (const [file, content] of Object.entries(files)) writeFileSync(join(dir, file), content);
  return dir;
}

const vocabText = `${VOCAB.join('\n')}\n`;
const tokenizerJsonText = (): string => {
  const dir = folder('json-source', { 'vocab.txt': vocabText });
  return JSON.stringify(vocabTokenizerJson(join(dir, 'vocab.txt'), {}));
};

describe('tokenizer files holding bytes that are not UTF-8', () => {
  it('are refused in one line naming the file and where (the line of vocab.txt, the byte offset of a JSON or BPE file, the piece of a SentencePiece model), where the bytes were read as U+FFFD', () => {
    const json = tokenizerJsonText();
    const cases: Array<[string, Record<string, string | Buffer>, string, string]> = [
      ['vocab', { 'vocab.txt': spoiled(vocabText) }, 'vocab.txt', `${join(root, 'vocab', 'vocab.txt')}:7: not valid UTF-8 text`],
      [
        'json',
        { 'tokenizer.json': spoiled(json) },
        'tokenizer.json',
        `not valid UTF-8 text (at byte offset ${Buffer.from(json).indexOf(Buffer.from('\u00e9'))}: ff fe`,
      ],
      [
        'config',
        { 'vocab.txt': vocabText, 'tokenizer_config.json': spoiled('{"do_lower_case": true, "name": "caf\u00e9"}') },
        'tokenizer_config.json',
        'not valid UTF-8 text (at byte offset 36: ff fe 22 7d)',
      ],
      [
        'bpe',
        { 'vocab.json': spoiled(JSON.stringify({ '<s>': 0, '<pad>': 1, '</s>': 2, '<unk>': 3, 'caf\u00e9': 4 })), 'merges.txt': '#version: 0.2\n' },
        'vocab.json',
        'not valid UTF-8 text (at byte offset',
      ],
      [
        'merges',
        { 'vocab.json': JSON.stringify({ '<s>': 0, '<pad>': 1, '</s>': 2, '<unk>': 3, c: 4 }), 'merges.txt': spoiled('#version: 0.2\nc \u00e9\n') },
        'merges.txt',
        'at byte offset 16: ff fe 0a',
      ],
      [
        'spiece',
        {
          'spiece.model': spoiled(
            sentencePieceModelBytes([...ALBERT_SPECIAL_PIECES, { piece: '\u2581caf\u00e9', score: -1 }, { piece: '\u2581hello', score: -2 }]),
          ),
          'config.json': JSON.stringify({ model_type: 'albert' }),
        },
        'spiece.model',
        'its piece 5 (bytes e2 96 81 63 61 66 ff fe) is not valid UTF-8 text, which transformers fails to read',
      ],
    ];
    for (const [name, files, file, words] of cases) {
      const dir = folder(name, files);
      const message = refusal(() => loadTokenizer(dir), DataError);
      expect(message, name).toContain(join(dir, file));
      expect(message, name).toContain(words);
      expect(() => loadTokenizer(dir), name).toThrow(NotUtf8Error);
    }
  });

  it("keep a SentencePiece model's UTF-8 pieces as they are: a piece holding U+FFFD itself (ef bf bd) or a BOM is read, and beside it a piece not UTF-8 is refused by its id", () => {
    const pieces = [...ALBERT_SPECIAL_PIECES, { piece: '\u2581\ufffd', score: -1 }, { piece: '\ufeff\u2581caf\u00e9', score: -2 }];
    const valid = folder('spiece-fffd', { 'spiece.model': sentencePieceModelBytes(pieces) });
    expect(readSentencePieceModel(join(valid, 'spiece.model')).pieces.map((p) => p.piece)).toEqual(pieces.map((p) => p.piece));
    const mixed = folder('spiece-fffd-bad', { 'spiece.model': spoiled(sentencePieceModelBytes(pieces)) });
    expect(refusal(() => readSentencePieceModel(join(mixed, 'spiece.model')), NotUtf8Error)).toContain('its piece 6 (bytes ef bb bf e2 96 81 63 61 66 ff fe)');
  });

  it('are at reading version 37 (refused, where they were read), single texts and pairs; the same files in UTF-8 keep version 1', () => {
    const bad = folder('reading-bad', { 'vocab.txt': spoiled(vocabText) });
    const good = folder('reading-good', { 'vocab.txt': vocabText });
    const badConfig = folder('reading-bad-config', { 'vocab.txt': vocabText, 'tokenizer_config.json': spoiled('{"x": "caf\u00e9"}') });
    expect([bad, badConfig, good].map((dir) => [readingVersionApartFromPairs(dir, false), readingVersionApartFromPairs(dir, true)])).toEqual([
      [37, 37],
      [37, 37],
      [1, 1],
    ]);
    expect(loadTokenizer(good).encode('Hello hello', null, 8).ids).toEqual([2, 5, 5, 3]);
  });

  it("a vocab.txt not UTF-8 beside a config.json that is not JSON: vocab.txt is read first and refused, at reading version 37, where bb48529f looked the folder's class up in config.json first (its refusal, and no traits)", () => {
    const dir = folder('vocab-first', { 'vocab.txt': spoiled(vocabText), 'config.json': '{"model_type": ' });
    expect(refusal(() => loadTokenizer(dir), NotUtf8Error)).toBe(`${join(dir, 'vocab.txt')}:7: not valid UTF-8 text`);
    expect([readingVersionApartFromPairs(dir, false), readingVersionApartFromPairs(dir, true)]).toEqual([37, 37]);
  });
});

describe('utf8Text', () => {
  it('names the offset of the first byte that starts no well-formed UTF-8 character (a lone continuation, an overlong form, a surrogate, a character cut short at the end)', () => {
    const offsetOf = (bytes: number[]) => refusal(() => utf8Text(Buffer.from(bytes), 'f'), NotUtf8Error);
    expect(offsetOf([0x61, 0x80])).toBe('f: not valid UTF-8 text (at byte offset 1: 80)');
    expect(offsetOf([0x61, 0xc3, 0xa9, 0xc0, 0xaf])).toBe('f: not valid UTF-8 text (at byte offset 3: c0 af)');
    expect(offsetOf([0xe2, 0x82, 0xac, 0xed, 0xa0, 0x80])).toBe('f: not valid UTF-8 text (at byte offset 3: ed a0 80)');
    expect(offsetOf([0x61, 0x62, 0xf0, 0x9f, 0x99])).toBe('f: not valid UTF-8 text (at byte offset 2: f0 9f 99)');
    expect(utf8Text(Buffer.from('caf\u00e9 \u{1f642}'), 'f')).toBe('caf\u00e9 \u{1f642}');
  });
});
