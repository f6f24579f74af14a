/**
 * loadTokenizer as bert-compress/eval exports it says to give it the tokenizer folder (src/eval/index.ts), while the
 * CLI's tokenizer reading keeps its flag's words (loadTokenizer of src/eval/tokenizer.ts: `with --tokenizer`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTokenizer as loadTokenizerNamingFlags } from '../../src/eval/tokenizer.ts';
import { loadTokenizer } from '../../src/eval/index.ts';
import { UserError } from '../../src/errors.ts';
import { asyncRefusal } from '../helpers/refusal.ts';

const dir = mkdtempSync(join(tmpdir(), 'bc-load-tokenizer-library-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The one-line UserError `run` ends in (helpers/refusal's asyncRefusal; a synchronous throw counts too). */
const refusal = (run: () => unknown): Promise<string> => asyncRefusal(Promise.resolve().then(run), UserError);

describe('loadTokenizer of bert-compress/eval', () => {
  it('says to give it the tokenizer folder, where the CLI says --tokenizer', async () => {
    const empty = mkdtempSync(join(dir, 'empty-'));
    const what = `${empty}: no tokenizer.json, vocab.txt, vocab.json with merges.txt or SentencePiece model`;
    expect(await refusal(() => loadTokenizer(empty))).toBe(`${what} (give loadTokenizer the tokenizer folder)`);
    expect(await refusal(() => loadTokenizerNamingFlags(empty))).toBe(`${what} (give the tokenizer folder with --tokenizer)`);
  });
  it('refuses a path that is no non-empty string, and an hf: reference, naming loadTokenizer', async () => {
    const expected = 'expected a tokenizer folder (or a model folder, or one of its tokenizer files)';
    // (a TypeError: 'The "path" argument must be of type string'; '' as a folder of no name, ': no tokenizer.json, …')
    expect(await refusal(() => loadTokenizer(5 as never))).toBe(`loadTokenizer: path: ${expected}, got number 5`);
    expect(await refusal(() => loadTokenizer(''))).toBe(`loadTokenizer: path: ${expected}, got string ""`);
    expect(await refusal(() => loadTokenizer(undefined as never))).toBe(`loadTokenizer: path: missing; ${expected}`);
    // ('hf:org/x: no tokenizer.json, …': the advice evaluate's tokenizer option gives)
    expect(await refusal(() => loadTokenizer('hf:org/x'))).toMatch(
      /^loadTokenizer: path hf:org\/x: a Hugging Face hub reference, which the library does not download .* resolveModelRef\('hf:org\/x'\)/,
    );
  });
});
