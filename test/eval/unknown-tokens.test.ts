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
import { loadTokenizer, unknownTokensNote } from '../../src/eval/tokenizer.ts';
import { tinyBert } from '../helpers/models.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';

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
