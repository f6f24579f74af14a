/**
 * A tokenizer.json whose pre-tokenizer is (or holds) tokenizers' UnicodeScripts, which @huggingface/tokenizers does not
 * know: eval, training and sweeps read it as tokenizers does (src/eval/unicode-scripts.ts, by tokenizers' own table of
 * scripts, not JS's), and --format transformers.js refuses it in one line, writing nothing. The expected pieces are
 * tokenizers' (its own tests in pre_tokenizers/unicode_scripts, and the rest as tokenizers 0.23.2's binding gives them).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTokenizer, tokenizerFromJson } from '../../src/eval/tokenizer.ts';
import { fixedScript, rawScript, unicodeScriptsPieces } from '../../src/eval/unicode-scripts.ts';
import { exportToTransformersJs } from '../../src/export/transformers-js.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { SPECIALS, tokenizerFolder, tokenizerJson } from '../helpers/tokenizer-json.ts';

registerAllPasses();
const root = mkdtempSync(join(tmpdir(), 'bc-unicode-scripts-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const cp = (c: string) => c.codePointAt(0)!;

describe("tokenizers' scripts (get_script, fixed_script)", () => {
  it("are those of tokenizers' own tests", () => {
    // (scripts.rs test_unicode_script)
    for (const [c, script] of [
      ['京', 'Han'],
      ['太', 'Han'],
      ['い', 'Hiragana'],
      ['グ', 'Katakana'],
      ['ー', 'Common'],
      ['a', 'Latin'],
      ['A', 'Latin'],
      ['0', 'Common'],
      ['$', 'Common'],
      ['@', 'Common'],
      ['-', 'Common'],
      [' ', 'Common'],
      ['�', 'Common'],
    ])
      expect([c, rawScript(cp(c!))]).toEqual([c, script]);
    // (pre_tokenizer.rs test_unicode_script: Hiragana, Katakana and ー are Han, a space Any)
    for (const [c, script] of [
      ['京', 'Han'],
      ['太', 'Han'],
      ['い', 'Han'],
      ['グ', 'Han'],
      ['ー', 'Han'],
      ['a', 'Latin'],
      ['A', 'Latin'],
      ['0', 'Common'],
      ['$', 'Common'],
      ['@', 'Common'],
      ['-', 'Common'],
      [' ', 'Any'],
    ])
      expect([c, fixedScript(cp(c!))]).toEqual([c, script]);
  });

  it("are its table's, an older Unicode's than JS's: a character assigned since is Any (joins the piece before it), where JS gives it a script", () => {
    for (const c of ['\u9fd6', '\u{30000}', '\u{1f970}']) {
      expect(rawScript(cp(c))).toBe('Any');
      expect(/\p{Script=Han}|\p{Script=Common}/u.test(c)).toBe(true);
    }
    expect(rawScript(cp('\u{20000}'))).toBe('Han'); // (CJK Extension B, in Unicode 9.0)
    expect(rawScript(cp('\u0301'))).toBe('Inherited');
  });
});

describe('unicodeScriptsPieces', () => {
  it("splits as tokenizers' own tests do", () => {
    expect(unicodeScriptsPieces('どこで生れ。Yes')).toEqual(['どこで生れ', '。', 'Yes']);
    expect(unicodeScriptsPieces('Apples are りんご 林檎')).toEqual(['Apples are ', 'りんご 林檎']);
  });

  it('splits texts of several scripts as tokenizers does: spaces join the piece before them, those before the first other character are dropped', () => {
    for (const [text, pieces] of [
      ['Привет world 你好!', ['Привет ', 'world ', '你好', '!']],
      ['  a b', ['a b']],
      ['   ', []],
      ['', []],
      ['e\u0301', ['e', '\u0301']],
      ['ーカタ', ['ーカタ']],
      ['a\u{1f970}b', ['a\u{1f970}b']],
      ['漢\u9fd6a', ['漢\u9fd6', 'a']],
      ['x\u{30000}y', ['x\u{30000}y']],
      ['Ὀδυσσεύς и Ἀχιλλεύς', ['Ὀδυσσεύς ', 'и ', 'Ἀχιλλεύς']],
      ['مرحبا123abc', ['مرحبا', '123', 'abc']],
      ['ＡＢＣabc', ['ＡＢＣabc']],
      ['  漢字 かな カナ abc ', ['漢字 かな カナ ', 'abc ']],
      ['a\u00a0b', ['a', '\u00a0', 'b']],
      ['a\tb\nc', ['a', '\t', 'b', '\n', 'c']],
      ['a\u3000b', ['a', '\u3000', 'b']],
    ] as const)
      expect([text, unicodeScriptsPieces(text)]).toEqual([text, pieces]);
  });
});

describe('a tokenizer.json of a UnicodeScripts pre-tokenizer', () => {
  const pieces = ['Привет ', 'world ', '你好', '!', 'Hello', '▁', '世界', 'ok'];
  const ids = (...ps: string[]) => [2, ...ps.map((p) => pieces.indexOf(p) + SPECIALS.length), 3];
  const json = (pre: object) => tokenizerJson([...SPECIALS, ...pieces], { pre_tokenizer: pre });

  it('is read as tokenizers reads it, alone and within a Sequence (after a Metaspace that splits, after a WhitespaceSplit)', () => {
    expect(tokenizerFromJson(json({ type: 'UnicodeScripts' }), {}, 'tokenizer.json').encode('Привет world 你好!', null, 64).ids).toEqual(
      ids('Привет ', 'world ', '你好', '!'),
    );
    const metaspace = { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true };
    const afterMetaspace = tokenizerFromJson(json({ type: 'Sequence', pretokenizers: [metaspace, { type: 'UnicodeScripts' }] }), {}, 'tokenizer.json');
    expect(afterMetaspace.encode('Hello 世界 ok', null, 64).ids).toEqual(ids('▁', 'Hello', '▁', '世界', '▁', 'ok'));
    const afterWhitespace = tokenizerFromJson(
      json({ type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'UnicodeScripts' }] }),
      {},
      'tokenizer.json',
    );
    expect(afterWhitespace.encode('Hello世界 ok!', null, 64).ids).toEqual(ids('Hello', '世界', 'ok', '!'));
  });

  it('is read from a model folder; --format transformers.js refuses it in one line, writing nothing', async () => {
    const hf = tokenizerFolder(root, 'scripts', json({ type: 'UnicodeScripts' }));
    expect(loadTokenizer(hf).encode('world 你好', null, 64).ids).toEqual(ids('world ', '你好'));
    const out = join(root, 'scripts-tjs');
    await expect(exportToTransformersJs(hf, out)).rejects.toThrow(
      /^[^\n]*tokenizer\.json: its pre_tokenizer's UnicodeScripts, which @huggingface\/tokenizers \(transformers\.js\) fails to load, [^\n]*: not exported$/,
    );
    expect(existsSync(out)).toBe(false);
  });
});
