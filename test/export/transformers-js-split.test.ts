/**
 * A tokenizer.json whose pre-tokenizer holds a Split that @huggingface/tokenizers reads otherwise than tokenizers
 * (MergedWithPrevious, MergedWithNext and Contiguous read as Isolated, invert as the matches alone, a String with
 * Removed keeping it), a ByteLevel that splits (its regex's \s JS's) or a CharDelimiterSplit (which it does not know),
 * written for transformers.js: the folder's tokenizer.json writes them so that transformers.js (and tokenizers) split
 * as eval does, or refuses in one line.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { env } from '@huggingface/transformers';
import { afterAll, describe, expect, it } from 'vitest';
import { Tokenizer } from '@huggingface/tokenizers';
import { loadTokenizer, tokenizerFromJson, withSplitsTransformersJsReads } from '../../src/eval/tokenizer.ts';
import { exportToTransformersJs } from '../../src/export/transformers-js.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { exportedIds, SPECIALS, tokenizerFolder, tokenizerJson } from '../helpers/tokenizer-json.ts';

registerAllPasses();
env.allowRemoteModels = false;
const root = mkdtempSync(join(tmpdir(), 'bc-tjs-split-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A tokenizer.json object that pre-tokenizes with `preTokenizer` into a WordLevel model of `pieces` (after SPECIALS). */
const splitJson = (preTokenizer: object, pieces: readonly string[]) => tokenizerJson([...SPECIALS, ...pieces], { pre_tokenizer: preTokenizer });

/** A Hugging Face folder of a tiny BERT whose tokenizer.json is splitJson's. */
const folder = (name: string, preTokenizer: object, pieces: readonly string[]) => tokenizerFolder(root, name, splitJson(preTokenizer, pieces));

/** The ids transformers.js gives each of `texts` from the folder `hf` exported, and eval's. */
async function bothIds(hf: string, texts: readonly string[]): Promise<{ theirs: number[][]; ours: number[][] }> {
  const { theirs, ours } = await exportedIds(hf);
  return { theirs: texts.map(theirs), ours: texts.map(ours) };
}

describe('--format transformers.js of a Split pre-tokenizer', () => {
  const texts = ['c-d--e', '-c-', 'e--d-c', 'cde'];
  // (every piece of the texts: a pre-token none of them is would be [UNK], which @huggingface/tokenizers' WordLevel lacks)
  const pieces = [...new Set(texts.flatMap((t) => [...t].flatMap((_, i) => [...t].map((__, j) => t.slice(i, j + 1)).filter((p) => p !== ''))))];

  it("gives in @huggingface/tokenizers (transformers.js's) eval's ids (tokenizers') for each behavior, inverted or not, of a String and a Regex with a group, and so in the folder exported", async () => {
    for (const pattern of [{ String: '-' }, { Regex: '(-)' }])
      for (const behavior of ['Removed', 'Isolated', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous'])
        for (const invert of [false, true]) {
          const name = `${Object.keys(pattern)[0]} ${behavior} ${invert}`;
          const json = splitJson({ type: 'Split', pattern, behavior, invert }, pieces);
          const library = new Tokenizer(withSplitsTransformersJsReads(json), {});
          const ours = tokenizerFromJson(json, {}, 'tokenizer.json');
          expect([name, texts.map((t) => library.encode(t).ids)]).toEqual([name, texts.map((t) => ours.encode(t, null, 64).ids)]);
        }
    const { theirs, ours } = await bothIds(
      folder('merged-with-next', { type: 'Split', pattern: { String: '-' }, behavior: 'MergedWithNext', invert: false }, pieces),
      texts,
    );
    expect(theirs).toEqual(ours);
    // (what eval gives, as tokenizers 0.23 does: MergedWithNext joins each '-' to the text after it)
    const ids = (p: string) => pieces.indexOf(p) + SPECIALS.length;
    expect(ours[0]).toEqual([2, ids('c'), ids('-d'), ids('-'), ids('-e'), 3]);
  });

  it('is refused in one line where the pattern may match empty text (no regex splits it as Oniguruma skips its empty matches)', async () => {
    const hf = folder('empty-match', { type: 'Split', pattern: { Regex: '\\b' }, behavior: 'MergedWithNext', invert: false }, pieces);
    await expect(exportToTransformersJs(hf, `${hf}-tjs`)).rejects.toThrow(
      /^[^\n]*tokenizer\.json: its pre_tokenizer's Split of \{"Regex":"\\\\b"\}, MergedWithNext, may match empty text, so transformers\.js cannot be written to split as tokenizers does: not exported$/,
    );
  });
});

describe('--format transformers.js of a ByteLevel pre-tokenizer', () => {
  // (byte-level pieces: Ġ a space, ï»¿ U+FEFF, Âħ U+0085)
  const pieces = ['a', 'b', 'Ġ', 'Ġa', 'Ġb', 'Ġï»¿', 'ï»¿b', '?ï»¿', '?', 'Âħ', 'ĠÂħ', 'Âħb', 'ĠĠ'];
  const texts = ['a \ufeffb', 'a?\ufeff', 'a \u0085b', '\ufeffb a', 'a  b', ' a'];

  it("gives in transformers.js eval's ids (tokenizers'), with add_prefix_space or without, written as a Split on its regex and a ByteLevel without one", async () => {
    for (const prefix of [false, true]) {
      const hf = folder(`byte-level-${prefix}`, { type: 'ByteLevel', add_prefix_space: prefix, trim_offsets: true, use_regex: true }, pieces);
      const { theirs, ours } = await bothIds(hf, texts);
      expect([prefix, theirs]).toEqual([prefix, ours]);
      const written = JSON.parse(readFileSync(join(`${hf}-tjs`, 'tokenizer.json'), 'utf8')).pre_tokenizer.pretokenizers;
      expect(written.map((p: { type: string }) => p.type)).toEqual([...(prefix ? ['Metaspace'] : []), 'Split', 'ByteLevel']);
    }
    // (what eval gives, as tokenizers 0.23 does: ' \uFEFF' one piece, U+0085 apart from the space and the letter)
    const ids = (p: string) => pieces.indexOf(p) + SPECIALS.length;
    const ours = loadTokenizer(join(root, 'byte-level-false'));
    expect(ours.encode(texts[0]!, null, 64).ids).toEqual([2, ids('a'), ids('Ġï»¿'), ids('b'), 3]);
    expect(ours.encode(texts[2]!, null, 64).ids).toEqual([2, ids('a'), ids('Ġ'), ids('Âħ'), ids('b'), 3]);
  }, 30_000);

  it("prepends a space as tokenizer_config.json's add_prefix_space says, false where it says nothing, where transformers loads a ByteLevel pre-tokenizer (not one within a Sequence) as RobertaTokenizer, in eval and in the folder exported; the file's for another class", async () => {
    const byteLevel = (prefix: boolean) => ({ type: 'ByteLevel', add_prefix_space: prefix, trim_offsets: true, use_regex: true });
    const roberta = (config: object = {}) => ({ tokenizer_class: 'RobertaTokenizerFast', ...config });
    const ids = (p: string) => pieces.indexOf(p) + SPECIALS.length;
    const [spaced, unspaced] = [
      [2, ids('Ġa'), 3],
      [2, ids('a'), 3],
    ];
    const cases: Array<[string, object, Record<string, unknown> | undefined, number[]]> = [
      ['file-true-config-none', byteLevel(true), roberta(), unspaced],
      ['file-true-config-false', byteLevel(true), roberta({ add_prefix_space: false }), unspaced],
      ['file-false-config-true', byteLevel(false), roberta({ add_prefix_space: true }), spaced],
      ['file-true-config-true', byteLevel(true), roberta({ add_prefix_space: true }), spaced],
      ['file-true-config-null', byteLevel(true), roberta({ add_prefix_space: null }), spaced],
      ['sequence-true-config-none', { type: 'Sequence', pretokenizers: [byteLevel(true)] }, roberta(), spaced],
      ['bert-class-file-true', byteLevel(true), undefined, spaced],
    ];
    for (const [name, pre, config, expected] of cases) {
      const hf = folder(name, pre, pieces);
      if (config) writeFileSync(join(hf, 'tokenizer_config.json'), JSON.stringify(config));
      const { theirs, ours } = await exportedIds(hf);
      expect([name, ours('a')]).toEqual([name, expected]);
      expect([name, theirs('a'), theirs(' a')]).toEqual([name, expected, ours(' a')]);
    }
  }, 30_000);
});

describe('--format transformers.js of a FixedLength pre-tokenizer', () => {
  it('cuts characters (5 where its length is absent) as tokenizers does, in eval and in transformers.js from the folder exported, where @huggingface/tokenizers cut UTF-16 units (and gave one empty piece without a length)', async () => {
    const pieces = ['a😀b😀c', '😀d', 'abc', 'de', 'a', '😀', 'b'];
    const ids = (...ps: string[]) => [2, ...ps.map((p) => pieces.indexOf(p) + SPECIALS.length), 3];
    for (const [name, pre, text, expected] of [
      ['fixed-default', { type: 'FixedLength' }, 'a😀b😀c😀d', ids('a😀b😀c', '😀d')],
      ['fixed-3', { type: 'FixedLength', length: 3 }, 'abcde', ids('abc', 'de')],
      ['fixed-1', { type: 'FixedLength', length: 1 }, 'a😀b', ids('a', '😀', 'b')],
    ] as const) {
      const { theirs, ours } = await exportedIds(folder(name, pre, pieces));
      expect([name, ours(text)]).toEqual([name, expected]);
      expect([name, theirs(text)]).toEqual([name, expected]);
    }
  }, 30_000);
});

describe('a CharDelimiterSplit pre-tokenizer, which @huggingface/tokenizers does not know', () => {
  it('splits on its delimiter, Removed, as tokenizers does, in eval and in transformers.js from the folder exported (written as a Split)', async () => {
    const pieces = ['a', 'b', 'c', 'a b', '😀'];
    const ids = (...ps: string[]) => [2, ...ps.map((p) => pieces.indexOf(p) + SPECIALS.length), 3];
    for (const [name, delimiter, text, expected] of [
      ['delimiter-comma', ',', 'a,b,,c', ids('a', 'b', 'c')],
      ['delimiter-dot', '.', '.a b.', ids('a b')],
      ['delimiter-emoji', '😀', 'a😀😀b', ids('a', 'b')],
      ['delimiter-bracket', ']', ']]c]', ids('c')],
    ] as const) {
      const { out, theirs, ours } = await exportedIds(folder(name, { type: 'CharDelimiterSplit', delimiter }, pieces));
      expect([name, ours(text)]).toEqual([name, expected]);
      expect([name, theirs(text)]).toEqual([name, expected]);
      expect(JSON.parse(readFileSync(join(out, 'tokenizer.json'), 'utf8')).pre_tokenizer.type).toBe('Split');
    }
    const inSequence = tokenizerFromJson(
      splitJson({ type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'CharDelimiterSplit', delimiter: '😀' }] }, pieces),
      {},
      'tokenizer.json',
    );
    expect(inSequence.encode('a😀b c', null, 64).ids).toEqual(ids('a', 'b', 'c'));
  }, 30_000);
});
