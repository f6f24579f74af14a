/**
 * `(?i:…)` in a Split's or Replace's regex folds case as tokenizers' Oniguruma does (ſ with s, K with k), where
 * @huggingface/tokenizers (and so transformers.js) folded ASCII letters alone: a group of plain ASCII text (GPT-4's
 * `(?i:'s|'t|'re|'ve|'m|'ll|'d)`) is read exactly, in eval and in the folder exported; another group, which Oniguruma
 * folds past ASCII (é with É, ß with ss, a class's ranges), is refused in one line. The isolated `(?i)` and `(?-i)`
 * are read as Oniguruma reads them (a group to the end of the group they are in, none where they set what holds there
 * and what follows them holds no alternative), `(?-i:…)` too; other option groups
 * are refused in one line. Checked against the tokenizers 0.23.2 node binding: 'it'ſ' splits as it, 'ſ there.
 */
import { join } from 'node:path';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { env } from '@huggingface/transformers';
import { onigurumaCaseFolds } from '../../src/eval/tokenizer-case-fold.ts';
import { compressToTransformersJs, exportToTransformersJs } from '../../src/export/transformers-js.ts';
import { saveModel } from '../../src/onnx/index.ts';
import { tinyBert } from '../helpers/models.ts';
import { folderTokenizerJson, loadTokenizer } from '../../src/eval/tokenizer.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { exportedIds, SPECIALS, tokenizerFolder, tokenizerJson } from '../helpers/tokenizer-json.ts';

registerAllPasses();
env.allowRemoteModels = false;
const root = mkdtempSync(join(tmpdir(), 'bc-case-fold-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const GPT4 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)";
const PIECES = ['it', "'s", "'ſ", "'S", "'K", 'K', 'k', 'x', ' ', '\u212A', 'a'];

/** A tiny BERT folder whose tokenizer.json splits (Isolated) on `regex`, into a WordLevel model of PIECES. */
const folder = (name: string, regex: string, normalizer: unknown = null) =>
  tokenizerFolder(
    root,
    name,
    tokenizerJson([...SPECIALS, ...PIECES], { normalizer, pre_tokenizer: { type: 'Split', pattern: { Regex: regex }, behavior: 'Isolated', invert: false } }),
  );
const id = (piece: string) => SPECIALS.length + PIECES.indexOf(piece);

describe('(?i:…) in a tokenizer.json regex', () => {
  it('reads a group of plain ASCII text as Oniguruma folds it (ſ with s, K with k), in eval and in the folder exported', async () => {
    const hf = folder('gpt4', `${GPT4}|(?i:k)`);
    const { theirs, ours } = await exportedIds(hf);
    // (tokenizers: it, 'ſ; @huggingface/tokenizers gave the one piece it'ſ, [UNK])
    expect(ours("it'ſ")).toEqual([2, id('it'), id("'ſ"), 3]);
    expect(ours("it'S xK")).toEqual([2, id('it'), id("'S"), 1, id('K'), 3]);
    for (const text of ["it'ſ", "it'S xK", "x'K"]) expect([text, theirs(text)]).toEqual([text, ours(text)]);
  }, 30_000);

  it('folds the Kelvin sign U+212A with k, as Oniguruma does (written as an escape: NFC turns it into K)', async () => {
    const hf = folder('kelvin', '(?i)k');
    // (the tokenizers 0.23.2 binding: a, \u212A, ' ', k)
    const { theirs, ours } = await exportedIds(hf);
    expect(ours('a\u212A k')).toEqual([2, id('a'), id('\u212A'), id(' '), id('k'), 3]);
    expect(theirs('a\u212A k')).toEqual(ours('a\u212A k'));
  }, 30_000);

  it('reads the folder exported again as the folder it came from (the classes it writes, [sSſ] and [kK\u212A], as the letters they fold)', async () => {
    const hf = folder('gpt4-again', `${GPT4}|(?i:k)`);
    const { out, ours } = await exportedIds(hf);
    const again = loadTokenizer(out);
    for (const text of ["it'ſ", "it'S xK", "x'K", "it's k"]) expect([text, [...again.encode(text, null, 64).ids]]).toEqual([text, ours(text)]);
    const written = onigurumaCaseFolds(`${GPT4}|(?i:k)`);
    expect('regex' in written && onigurumaCaseFolds(written.regex)).toEqual(written);
  }, 30_000);

  it('reads the class [kKK] that folders exported by stop 52 and before hold for k (their Kelvin sign made a K by NFC) as k, as Oniguruma folds it', async () => {
    // (the tokenizers 0.23.2 binding reads (?i:[kKK]) as (?i:k): k, K and the Kelvin sign U+212A alike)
    const earlier = folder('kelvin-before', "(?i:'[sSſ]|x[kKK])");
    const now = folder('kelvin-now', "(?i:'s|xk)");
    expect([...loadTokenizer(earlier).encode("it'ſ xK", null, 64).ids]).toEqual([2, id('it'), id("'ſ"), id(' '), 1, 3]);
    for (const text of ["it'ſ xK", 'a x\u212A xk', "x'K"])
      expect([text, [...loadTokenizer(earlier).encode(text, null, 64).ids]]).toEqual([text, [...loadTokenizer(now).encode(text, null, 64).ids]]);
    expect(onigurumaCaseFolds('(?i:[kKK]a)')).toEqual({ regex: '(?i:[kK\u212A]a)' });
  });

  it.each([
    ['(?i:é)', "(?i:é) holds 'é', not ASCII"],
    ['x|(?i:[a-z]+)', '(?i:[a-z]+) holds a class, escape, group or quantifier'],
    // (the group quoted whole, to its own closing parenthesis, past the groups within it)
    ['x|(?i:a(b)c)', '(?i:a(b)c) holds a class, escape, group or quantifier'],
    ["(?i:'st|'d)", "(?i:'st|'d) holds 'st', which Oniguruma also matches as one character (ß, ﬁ, ﬆ, …)"],
  ])('refuses %s in one line', (regex, why) => {
    const hf = folder(`refused-${regex.length}`, regex);
    expect(() => loadTokenizer(hf)).toThrow(
      `${join(hf, 'tokenizer.json')}: not a tokenizer we can load: its pre_tokenizer's Split of ${JSON.stringify({ Regex: regex })}: ${why}: tokenizers' Oniguruma folds case there past ASCII letters (é with É, ſ with s, ß with ss), @huggingface/tokenizers (transformers.js) does not`,
    );
  });

  it('writes s and k as classes holding ſ and K, outside classes and escapes; a regex without such a group as it is', () => {
    expect(onigurumaCaseFolds(GPT4)).toEqual({ regex: "(?i:'[sSſ]|'t|'re|'ve|'m|'ll|'d)" });
    expect(onigurumaCaseFolds('[(?i:s)]\\(?i:k')).toEqual({ regex: '[(?i:s)]\\(?i:k' });
    expect(onigurumaCaseFolds('a(?i:K)b')).toEqual({ regex: 'a(?i:[kK\u212A])b' });
    // a ']' first in a class ('[]…]', '[^]…]') is a character of it, as Oniguruma reads it (the tokenizers binding splits
    // 'a]x' as a, ], x by '[^](?i:s)]': one class), so the group inside stays as written
    expect(onigurumaCaseFolds('[^](?i:s)]x')).toEqual({ regex: '[^](?i:s)]x' });
    expect(onigurumaCaseFolds('[](?i:k)](?i:s)')).toEqual({ regex: '[](?i:k)](?i:[sSſ])' });
  });
});

describe('option groups in a tokenizer.json regex', () => {
  const text = "xK x'ſ 'S x'S K k 'T";
  // (the pieces tokenizers 0.23.2 gives text with each regex, Isolated)
  const cases: Array<[string, string[]]> = [
    ["x(?i)k|'s", ['xK', ' ', "x'ſ", " 'S ", "x'S", " K k 'T"]],
    ["(?-i:x)'s|(?-i)K", ['x', 'K', " x'ſ 'S x'S ", 'K', " k 'T"]],
    ["(?i)'s|'t", ['xK x', "'ſ", ' ', "'S", ' x', "'S", ' K k ', "'T"]],
    // ((?i) within a case-insensitive group, where it changes nothing)
    ["(?i:x(?i)k)|'s", ['xK', " x'ſ 'S x'S K k 'T"]],
    ["(?i:'(?i)s)|K", ['x', 'K', ' x', "'ſ", ' ', "'S", ' x', "'S", ' ', 'K', " k 'T"]],
    // ((?-i) within a case-insensitive group, alone, twice or as a group: what follows it is matched as written)
    ['(?i)x(?-i)(?-i)K', ['xK', " x'ſ 'S x'S K k 'T"]],
    ["(?i:'(?-i)S)", ["xK x'ſ ", "'S", ' x', "'S", " K k 'T"]],
    ["(?i:x(?-i:'S)|'t)", ["xK x'ſ 'S ", "x'S", ' K k ', "'T"]],
    // (groups nested deeper, (?i) after (?-i) within one, and groups of alternatives within (?i:…))
    ["(?i:x(?-i)(?i)'s)", ['xK ', "x'ſ", " 'S ", "x'S", " K k 'T"]],
    ["(?i:k(?-i)(?i)'t)|(?i:x(?:'s|k))", ['xK', ' ', "x'ſ", " 'S ", "x'S", " K k 'T"]],
    ["(?i:x(?-i:'(?i:s)))", ['xK ', "x'ſ", " 'S ", "x'S", " K k 'T"]],
    ["(?i:(?:x'|')s)", ['xK ', "x'ſ", ' ', "'S", ' ', "x'S", " K k 'T"]],
  ];
  const pieces = [...new Set(cases.flatMap(([, p]) => p))];
  const ids = (ps: readonly string[]) => [2, ...ps.map((p) => SPECIALS.length + pieces.indexOf(p)), 3];
  const optionFolder = (name: string, regex: string) =>
    tokenizerFolder(
      root,
      name,
      tokenizerJson([...SPECIALS, ...pieces], { pre_tokenizer: { type: 'Split', pattern: { Regex: regex }, behavior: 'Isolated', invert: false } }),
    );

  it("reads (?i) and (?-i) to the end of the group they are in (x(?i)k|'s is x(?i:k|'s)), and (?-i:…), as Oniguruma does, in eval and in the folder exported", async () => {
    for (const [i, [regex, expected]] of cases.entries()) {
      const { theirs, ours } = await exportedIds(optionFolder(`options-${i}`, regex));
      expect([regex, ours(text)]).toEqual([regex, ids(expected)]);
      expect([regex, theirs(text)]).toEqual([regex, ids(expected)]);
    }
  }, 30_000);

  it('writes them as the groups Oniguruma reads them as', () => {
    expect(onigurumaCaseFolds("x(?i)k|'s")).toEqual({ regex: "x(?i:[kK\u212A]|'[sSſ])" });
    expect(onigurumaCaseFolds('(a(?i)s)b')).toEqual({ regex: '(a(?i:[sSſ]))b' });
    expect(onigurumaCaseFolds('(?-i:a)(?-i)b|c')).toEqual({ regex: '(?:a)(?:b|c)' });
    // (the last of i's settings holds)
    expect(onigurumaCaseFolds('(?ii)k')).toEqual({ regex: '(?i:[kK\u212A])' });
    expect(onigurumaCaseFolds('(?i-i)k|(?i-i:s)')).toEqual({ regex: '(?:k|(?:s))' });
    expect(onigurumaCaseFolds('[(?i)]s')).toEqual({ regex: '[(?i)]s' });
    // (one that sets what holds already is left out, but where it groups alternatives after it)
    expect(onigurumaCaseFolds('(?i:a(?i)k)|(?i)(?i)s')).toEqual({ regex: '(?i:a[kK\u212A])|(?i:[sSſ])' });
    expect(onigurumaCaseFolds('a(?-i)b')).toEqual({ regex: 'ab' });
    expect(onigurumaCaseFolds('(?-i:a)(?-i)b|c')).toEqual({ regex: '(?:a)(?:b|c)' });
    // (a case-sensitive group within a case-insensitive one: the text around it folded apart, each alternative's)
    expect(onigurumaCaseFolds('(?i)a(?-i)(?-i)b')).toEqual({ regex: '(?:(?i:a)(?:b))' });
    expect(onigurumaCaseFolds('(?i:a(?-i)b)')).toEqual({ regex: '(?:(?i:a)(?:b))' });
    expect(onigurumaCaseFolds("(?i:k(?-i:b|é)s|'s)+")).toEqual({ regex: "(?:(?i:[kK\u212A])(?:b|é)(?i:[sSſ])|(?i:'[sSſ]))+" });
    // (a multi-character fold never spans such a group, as in Oniguruma: s(?-i:)s matches no ß)
    expect(onigurumaCaseFolds('(?i:s(?-i:)s)')).toEqual({ regex: '(?:(?i:[sSſ])(?:)(?i:[sSſ]))' });
    // (groups at any depth, each run of text folded apart; a group of alternatives, which Oniguruma joins to no text
    // beside it: s(?:s|x) matches no ß; a plain group of none is its text)
    expect(onigurumaCaseFolds("(?i:k(?-i)(?i)'t)")).toEqual({ regex: "(?:(?i:[kKK])(?:(?:(?i:'t))))" });
    expect(onigurumaCaseFolds("(?i:'(?:s|t|re))")).toEqual({ regex: "(?:(?i:')(?:(?i:[sSſ])|(?i:t)|(?i:re)))" });
    expect(onigurumaCaseFolds('(?i:a(?i)b|c)')).toEqual({ regex: '(?:(?i:a)(?:(?i:b)|(?i:c)))' });
    expect(onigurumaCaseFolds('(?i:s(?:s|x))')).toEqual({ regex: '(?:(?i:[sSſ])(?:(?i:[sSſ])|(?i:x)))' });
    expect(onigurumaCaseFolds('(?i:a(?:b)c)')).toEqual({ regex: '(?i:abc)' });
  });

  it.each([
    [
      '(?m)a.b',
      '(?m) is an option group of Oniguruma that compress does not read (it reads (?i), (?-i), (?i:…) and (?-i:…) alone; @huggingface/tokenizers cannot compile it)',
    ],
    [
      '(?i-x:a)',
      '(?i-x: is an option group of Oniguruma that compress does not read (it reads (?i), (?-i), (?i:…) and (?-i:…) alone; @huggingface/tokenizers cannot compile it)',
    ],
    [
      '(?i)a(?-i)\\d',
      "(?i:a(?-i:\\d)) (as Oniguruma reads the regex's option groups) holds a class, escape, group or quantifier: tokenizers' Oniguruma folds case there past ASCII letters (é with É, ſ with s, ß with ss), @huggingface/tokenizers (transformers.js) does not",
    ],
    [
      '(?i:ss(?-i:a))',
      "(?i:ss(?-i:a)) holds 'ss', which Oniguruma also matches as one character (ß, ﬁ, ﬆ, …): tokenizers' Oniguruma folds case there past ASCII letters (é with É, ſ with s, ß with ss), @huggingface/tokenizers (transformers.js) does not",
    ],
    // (a plain group of no alternatives is its text, which Oniguruma joins to the text beside it: s(?:s) matches ß)
    [
      '(?i:s(?:s))',
      "(?i:s(?:s)) holds 'ss', which Oniguruma also matches as one character (ß, ﬁ, ﬆ, …): tokenizers' Oniguruma folds case there past ASCII letters (é with É, ſ with s, ß with ss), @huggingface/tokenizers (transformers.js) does not",
    ],
    [
      '(?i:x(?:a|(?-i:b\\d)))',
      "(?i:x(?:a|(?-i:b\\d))) holds a class, escape, group or quantifier: tokenizers' Oniguruma folds case there past ASCII letters (é with É, ſ with s, ß with ss), @huggingface/tokenizers (transformers.js) does not",
    ],
  ])('refuses %s in one line', (regex, why) => {
    const hf = optionFolder(`refused-options-${regex.length}`, regex);
    expect(() => loadTokenizer(hf)).toThrow(
      `${join(hf, 'tokenizer.json')}: not a tokenizer we can load: its pre_tokenizer's Split of ${JSON.stringify({ Regex: regex })}: ${why}`,
    );
  });
});

describe("option groups in a tokenizer.json decoder's Replace", () => {
  const decoderFolder = (name: string, regex: string) =>
    tokenizerFolder(root, name, {
      ...tokenizerJson([...SPECIALS, ...PIECES], { pre_tokenizer: { type: 'WhitespaceSplit' } }),
      decoder: { type: 'Sequence', decoders: [{ type: 'Replace', pattern: { Regex: regex }, content: 'k' }] },
    });

  it('are read as Oniguruma reads them ((?i) as a group, which @huggingface/tokenizers compiles), where the library refused the file', () => {
    const hf = decoderFolder('decoder-isolated', '(?i)x');
    expect(loadTokenizer(hf).encode('it x', null, 16).ids).toEqual([2, id('it'), id('x'), 3]);
    expect((folderTokenizerJson(hf)!.json.decoder as { decoders: Array<{ pattern: unknown }> }).decoders[0]!.pattern).toEqual({ Regex: '(?i:x)' });
    // (a case-sensitive group within a case-insensitive one, which the library cannot compile within it, apart from it)
    const sensitive = decoderFolder('decoder-sensitive', '(?i)x(?-i)k|s');
    expect(loadTokenizer(sensitive).encode('it x', null, 16).ids).toEqual([2, id('it'), id('x'), 3]);
    expect((folderTokenizerJson(sensitive)!.json.decoder as { decoders: Array<{ pattern: unknown }> }).decoders[0]!.pattern).toEqual({
      Regex: '(?:(?i:x)(?:k|s))',
    });
    // (groups nested deeper, (?i) after (?-i), and a quantified one: apart at any depth, where the library refused the
    // file ('Invalid group'); tokenizers reads it, the 0.23.2 binding's ids [CLS] it x [SEP])
    for (const [i, [regex, written]] of [
      ["(?i:k(?-i)(?i)'t)", "(?:(?i:k)(?:(?:(?i:'t))))"],
      ['(?i:x(?-i:a(?i:\\d+))+y)', '(?:(?i:x)(?:a(?:(?i:\\d+)))+(?i:y))'],
    ].entries()) {
      const nested = decoderFolder(`decoder-nested-${i}`, regex!);
      expect(loadTokenizer(nested).encode('it x', null, 16).ids).toEqual([2, id('it'), id('x'), 3]);
      expect((folderTokenizerJson(nested)!.json.decoder as { decoders: Array<{ pattern: unknown }> }).decoders[0]!.pattern).toEqual({ Regex: written });
    }
  });

  // (tokenizers reads them (the 0.23.2 binding: ids [CLS] it x [SEP]); evaluation never decodes, transformers.js cannot
  // compile them)
  it('of another option group ((?m), (?x:…)) are read by evaluation, which never decodes; --format transformers.js refuses the folder in one line, nothing written', async () => {
    for (const [name, regex] of [
      ['decoder-multiline', '(?m)x'],
      ['decoder-extended', '(?x: x )'],
    ]) {
      const hf = decoderFolder(name!, regex!);
      expect(loadTokenizer(hf).encode('it x', null, 16).ids).toEqual([2, id('it'), id('x'), 3]);
      expect(folderTokenizerJson(hf)!.json.decoder).toBeNull();
      const out = join(root, `${name}-tjs`);
      const option = regex!.slice(0, regex!.indexOf(regex!.includes(':') ? ':' : ')') + 1);
      await expect(exportToTransformersJs(hf, out)).rejects.toThrow(
        `--format transformers.js: ${join(hf, 'tokenizer.json')}: its decoder's Replace of ${JSON.stringify({ Regex: regex })}: ${option} is an option group of Oniguruma that compress does not read (it reads (?i), (?-i), (?i:…) and (?-i:…) alone; @huggingface/tokenizers cannot compile it), so transformers.js cannot load the tokenizer (compress eval reads it, as it never decodes): write the regex without that option group`,
      );
      expect(existsSync(out)).toBe(false);
    }
  }, 30_000);

  it('of another option group: compress … --format transformers.js refuses the folder before any pass runs (as one of no tokenizer, or of another vocabulary)', async () => {
    const hf = decoderFolder('decoder-compress', '(?m)x');
    const input = join(hf, 'model.onnx');
    saveModel(tinyBert(), input);
    const out = join(root, 'decoder-compress-tjs');
    // (a step that fails once it runs, on a model of 2 layers: the tokenizer's refusal comes first)
    const steps = [{ pass: 'drop-layers', settings: { layers: [7] } }];
    await expect(compressToTransformersJs({ input, output: out, steps })).rejects.toThrow(
      `--format transformers.js: ${join(hf, 'tokenizer.json')}: its decoder's Replace of {"Regex":"(?m)x"}: (?m) is an option group of Oniguruma that compress does not read`,
    );
    expect(existsSync(out)).toBe(false);
    // (a folder of no tokenizer alike)
    const bare = join(root, 'no-tokenizer');
    mkdirSync(bare);
    saveModel(tinyBert(), join(bare, 'model.onnx'));
    await expect(compressToTransformersJs({ input: join(bare, 'model.onnx'), output: out, steps })).rejects.toThrow(
      `${bare}: no tokenizer.json, vocab.txt, vocab.json with merges.txt or SentencePiece model; transformers.js needs the tokenizer (give its folder with --tokenizer)`,
    );
    expect(existsSync(out)).toBe(false);
    // (and a vocabulary past the model's word embedding: 138 ids for its 128 rows)
    writeFileSync(join(bare, 'vocab.txt'), [...SPECIALS, ...Array.from({ length: 133 }, (_, i) => `w${i}`)].join('\n'));
    await expect(compressToTransformersJs({ input: join(bare, 'model.onnx'), output: out, steps })).rejects.toThrow(
      `${bare}: its vocabulary has token ids up to 137, but ${join(bare, 'model.onnx')} has 128 rows in its word embedding: the tokenizer's vocabulary is not the model's`,
    );
    expect(existsSync(out)).toBe(false);
  }, 30_000);

  // (the text decoded is no id: eval reads such a decoder, and --format transformers.js says that transformers.js's
  // decode() folds ASCII letters alone there, where tokenizers' Oniguruma folds é with É, ſ with s)
  it('--format transformers.js warns in one line of a (?i:…) group transformers.js folds otherwise, of none it folds alike', async () => {
    const hf = decoderFolder('decoder-fold-accent', '(?i:é)|s');
    expect(loadTokenizer(hf).encode('it x', null, 16).ids).toEqual([2, id('it'), id('x'), 3]);
    const { notes } = await exportToTransformersJs(hf, `${hf}-tjs`);
    expect(notes).toEqual([
      `warning: ${hf}-tjs: its tokenizer's decoder Replace of '(?i:é)|s' folds case in (?i:…), where transformers.js folds ASCII letters alone and tokenizers' Oniguruma folds past them (é with É, ſ with s, ß with ss): ids are alike, but transformers.js's decode() may give other text than transformers' (write the group's cases out, as [éÉ])`,
    ]);
    expect((await exportToTransformersJs(decoderFolder('decoder-fold-s', '(?i:as)'), join(root, 'decoder-fold-s-tjs'))).notes).toHaveLength(1);
    expect((await exportToTransformersJs(decoderFolder('decoder-fold-ascii', '(?i:ab)|(?i)x'), join(root, 'decoder-fold-ascii-tjs'))).notes).toEqual([]);
    expect((await exportToTransformersJs(decoderFolder('decoder-fold-apart', '(?i)x(?-i)K'), join(root, 'decoder-fold-apart-tjs'))).notes).toEqual([]);
  }, 30_000);
});
