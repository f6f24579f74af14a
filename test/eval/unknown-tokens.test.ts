/**
 * A tokenizer whose vocabulary spells little of the evaluated text (another model's vocab.txt beside the model, or a
 * do_lower_case that does not fit a cased vocabulary) turns most words into [UNK]: eval scored it without a word, a
 * near-chance score that read as the model's. It now warns, naming the task, the share and the tokenizer file; a
 * vocabulary that spells the text says nothing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { evaluate } from '../../src/eval/evaluate.ts';
import { toReport } from '../../src/eval/report.ts';
import { DataError } from '../../src/errors.ts';
import { loadTokenizer, unknownTokensNote } from '../../src/eval/tokenizer.ts';
import { tinyBert } from '../helpers/models.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { SPECIALS, tokenizerJson, wordPieceModel } from '../helpers/tokenizer-json.ts';

const root = mkdtempSync(join(tmpdir(), 'unknown-tokens-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const glueDir = join(root, 'glue');
writeGlueTask(glueDir, 'SST-2', 12, ['dev']);

/** The warnings but those about the data's row count (these files are not GLUE's). */
const about = (warnings: readonly string[] | undefined) => (warnings ?? []).filter((w) => !/examples where GLUE's has/.test(w));

describe('eval on text its vocabulary cannot spell', () => {
  it('warns with the share of [UNK] tokens and the tokenizer file, in the JSON report too', async () => {
    const dir = writeModelFolder(join(root, 'few'), tinyBert({}, { seed: 1 }));
    // a vocabulary of two of the words the rows use: most words become [UNK]
    writeFileSync(join(dir, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'the', '.'].join('\n') + '\n');
    const r = await evaluate({ model: dir, tasks: ['SST-2'], glueDir, threads: 1 });
    expect(about(r.warnings)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^SST-2 dev: \\d+% of the tokens are \\[UNK\\] \\(${join(dir, 'vocab.txt').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\): its vocabulary does not spell much of this text \\(another model's tokenizer files, or a do_lower_case that does not fit the vocabulary\\?\\), so the scores say little about the model$`,
        ),
      ),
    ]);
    expect(about(toReport(r).warnings)).toEqual(about(r.warnings));
  });

  it('says nothing when the vocabulary spells the text', async () => {
    const dir = writeModelFolder(join(root, 'all'), tinyBert({}, { seed: 1 }));
    const r = await evaluate({ model: dir, tasks: ['SST-2'], glueDir, threads: 1 });
    expect(about(r.warnings)).toEqual([]);
  });

  it('counts every token, [CLS] and [SEP] included, against a 20% threshold', () => {
    const tokenizer = { unk: { token: '[UNK]', id: 1 }, source: 'vocab.txt' };
    const encoding = (ids: number[]) => ({ ids, typeIds: ids.map(() => 0) });
    // 1 of 5 tokens: 20%, not above
    expect(unknownTokensNote([encoding([2, 1, 7, 8, 3])], tokenizer, 'SST-2 dev')).toBeUndefined();
    expect(unknownTokensNote([encoding([2, 1, 1, 8, 3])], tokenizer, 'SST-2 dev')).toMatch(/^SST-2 dev: 40% of the tokens are \[UNK\] \(vocab\.txt\)/);
    // a tokenizer without an unknown token (byte-level BPE) never warns
    expect(unknownTokensNote([encoding([1, 1, 1])], { source: 'tokenizer.json' }, 'SST-2 dev')).toBeUndefined();
    expect(loadTokenizer(writeModelFolder(join(root, 'unk'), tinyBert({}, { seed: 1 }))).unk).toEqual({ token: '[UNK]', id: 1 });
  });
});

// (tokenizers 0.23.2's node binding fails on such a text: 'WordPiece error: Missing [UNK] token from the vocabulary',
// 'Unk token `[UNK]` not found in the vocabulary'; eval gave the piece id 0)
describe('a model whose unk_token its vocabulary lacks', () => {
  const vocab = ['[PAD]', '[CLS]', '[SEP]', 'a', 'b'];
  const bpe = { type: 'BPE', unk_token: '[UNK]', vocab: Object.fromEntries(vocab.map((t, i) => [t, i])), merges: [], dropout: null };
  it.each([
    ['WordLevel', undefined, "'WordLevel error: Missing [UNK] token from the vocabulary', whatever its unk_token"],
    ['WordPiece', wordPieceModel(vocab), "'WordPiece error: Missing [UNK] token from the vocabulary', whatever its unk_token"],
    ['BPE', bpe, "'Unk token `[UNK]` not found in the vocabulary'"],
  ] as const)('%s: reads a text it spells, and refuses one holding a piece it does not know in one line, as tokenizers fails on it', (type, model, says) => {
    const dir = mkdtempSync(join(root, `unk-missing-${type}-`));
    const json = tokenizerJson(vocab, { pre_tokenizer: { type: 'WhitespaceSplit' }, ...(model ? { model } : {}) });
    json.added_tokens = [];
    json.post_processor = { type: 'BertProcessing', sep: ['[SEP]', 2], cls: ['[CLS]', 1] };
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));
    const t = loadTokenizer(dir);
    expect(t.encode('a b', 'b', 16).ids).toEqual([1, 3, 4, 2, 4, 2]);
    expect(() => t.encode('a z', null, 16)).toThrow(
      new DataError(
        `${join(dir, 'tokenizer.json')}: its ${type} model's unk_token '[UNK]' is not in its vocabulary, and 'a z' holds a piece the vocabulary lacks: tokenizers fails on such a text (${says}); add '[UNK]' to the model's vocabulary`,
      ),
    );
    expect(() => t.encode('a', 'b z', 16)).toThrow(/'a \/ b z' holds a piece the vocabulary lacks/);
  });
  // (tokenizers 0.23.2's node binding, a WordLevel of unk_token <nope>: 'WordLevel error: Missing [UNK] token from the
  // vocabulary', its one wording, which the refusal quoted as 'Missing <nope> token from the vocabulary')
  it("quotes tokenizers' error as tokenizers words it, whatever the unk_token", () => {
    const dir = mkdtempSync(join(root, 'unk-missing-named-'));
    const json = tokenizerJson(vocab, {
      pre_tokenizer: { type: 'WhitespaceSplit' },
      model: { type: 'WordLevel', unk_token: '<nope>', vocab: Object.fromEntries(vocab.map((t, i) => [t, i])) },
    });
    json.added_tokens = [];
    json.post_processor = { type: 'BertProcessing', sep: ['[SEP]', 2], cls: ['[CLS]', 1] };
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));
    expect(() => loadTokenizer(dir).encode('a z', null, 16)).toThrow(
      `unk_token '<nope>' is not in its vocabulary, and 'a z' holds a piece the vocabulary lacks: tokenizers fails on such a text ('WordLevel error: Missing [UNK] token from the vocabulary', whatever its unk_token); add '<nope>' to the model's vocabulary`,
    );
  });
  // (tokenizers tokenizes a text's splits until they hold --max-length tokens, special tokens counted, and truncates
  // after: a piece it reached fails, though truncation drops it; one past that point is never tokenized)
  it.each([
    ['WordLevel', undefined],
    ['WordPiece', wordPieceModel(vocab)],
    ['BPE', bpe],
  ] as const)('%s: refuses a piece it does not know that truncation drops where tokenizers reaches it before truncating', (type, model) => {
    const dir = mkdtempSync(join(root, `unk-cut-${type}-`));
    const json = tokenizerJson(vocab, { pre_tokenizer: { type: 'WhitespaceSplit' }, ...(model ? { model } : {}) });
    json.added_tokens = [];
    json.post_processor = { type: 'BertProcessing', sep: ['[SEP]', 2], cls: ['[CLS]', 1] };
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));
    const t = loadTokenizer(dir);
    const refusal = /holds a piece the vocabulary lacks: tokenizers fails on such a text/;
    // 'a b' are 2 of the 4 tokens: z is tokenized, then cut (2 tokens fit after [CLS] and [SEP])
    expect(() => t.encode('a b z', null, 4)).toThrow(refusal);
    expect(() => t.encode('a', 'b a z', 6)).toThrow(refusal);
    // 'a b a' reach the 3: z is never tokenized
    expect(t.encode('a b a z', null, 3).ids).toEqual([1, 3, 2]);
    expect(t.encode('a b a b a z', 'b', 5).ids).toEqual([1, 3, 2, 4, 2]);
  });
  it('reads a model whose vocabulary holds it as before: the piece is its id', () => {
    const dir = mkdtempSync(join(root, 'unk-held-'));
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson([...SPECIALS, 'a'], { pre_tokenizer: { type: 'WhitespaceSplit' } })));
    expect(loadTokenizer(dir).encode('a z', null, 16).ids).toEqual([2, 5, 1, 3]);
  });
});
