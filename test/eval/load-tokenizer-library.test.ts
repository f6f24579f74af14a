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
});
