/** Added tokens: a fine-tune's new tokens are single ids, as transformers gives them. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTokenizer } from '../../src/eval/tokenizer.ts';
import { wordPieceTokenizerJson } from '../../src/eval/wordpiece-vocab.ts';

const root = mkdtempSync(join(tmpdir(), 'bc-added-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A folder holding `files` (name → text, or an object written as JSON). */
function folder(name: string, files: Record<string, string | object>): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, body] of Object.entries(files)) writeFileSync(join(dir, file), typeof body === 'string' ? body : JSON.stringify(body));
  return dir;
}

const WORDPIECE = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'hello', 'new', '##tok'].join('\n') + '\n';

describe('tokenizer.json with an added token matched on the normalized text', () => {
  it('gives its id, not the unknown token, where the normalizer changes it (lower-casing)', () => {
    const vocab = new Map(
      WORDPIECE.trim()
        .split('\n')
        .map((t, i): [string, number] => [t, i]),
    );
    const json = wordPieceTokenizerJson(vocab, 'vocab.txt', { doLowerCase: true }) as { added_tokens: object[] };
    json.added_tokens.push({ id: 8, content: 'NewTok', single_word: false, lstrip: false, rstrip: false, normalized: true, special: false });
    const t = loadTokenizer(folder('fast-normalized', { 'tokenizer.json': json }));
    expect(t.encode('hello NewTok', null, 16).ids).toEqual([2, 5, 8, 3]);
  });
});
