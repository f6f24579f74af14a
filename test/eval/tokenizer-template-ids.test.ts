/**
 * A TemplateProcessing's special token is the ids its special_tokens entry lists (tokenizers/src/processors/template.rs,
 * apply_template: several where it lists several, each of the piece's type, the entry found by its key), where
 * @huggingface/tokenizers (and so transformers.js) gives the piece's text, which eval then looked up as a token (an
 * entry X of ids [1, 2, 1] was one [UNK]); a BertProcessing's cls and sep likewise (processors/bert.rs). Ids checked against the tokenizers 0.23.2 node binding; the reading version
 * marks such tokenizers (--format transformers.js writes them as texts transformers.js gives those ids:
 * test/export/transformers-js-special-ids.test.ts).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTokenizer } from '../../src/eval/tokenizer.ts';
import { TOKENIZER_READINGS, tokenizerReadingVersion } from '../../src/eval/tokenizer-reading.ts';
import {
  SPECIALS,
  TEMPLATE_OWN_IDS as OWN_IDS,
  templateOf as template,
  templateSequence as sequence,
  templateSpecial as special,
  tokenizerJson,
} from '../helpers/tokenizer-json.ts';
import { readingVersionApartFromPairs } from '../helpers/tokenizer-readings.ts';

const root = mkdtempSync(join(tmpdir(), 'bc-template-ids-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const TOKENS = [...SPECIALS, 'a', 'b'];
// (every special token its text's one id: as read before)
const TEXT_IDS = template({
  X: { id: 'X', ids: [1], tokens: ['X'] },
  '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] },
  '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] },
  Y: { id: 'Y', ids: [1], tokens: ['Y'] },
});

let n = 0;
/** A folder of a tokenizer.json over TOKENS behind a WhitespaceSplit whose post-processor is `post`. */
function folder(post: unknown): string {
  const dir = join(root, String(n++));
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'tokenizer.json'),
    JSON.stringify({ ...tokenizerJson(TOKENS, { pre_tokenizer: { type: 'WhitespaceSplit' } }), post_processor: post }),
  );
  return dir;
}

describe("TemplateProcessing's special tokens", () => {
  it('are the ids their special_tokens entries list, as tokenizers gives them (single and pair, alone or in a Sequence)', () => {
    for (const post of [
      OWN_IDS,
      { type: 'Sequence', processors: [{ type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true }, OWN_IDS] },
    ]) {
      const t = loadTokenizer(folder(post));
      // (the tokenizers node binding: [1,2,1,5,6,3] types all 0; [6,5,3,6,5,4,5] types [0,0,0,1,1,1,1])
      expect(t.encode('a b', null, 64)).toEqual({ ids: [1, 2, 1, 5, 6, 3], typeIds: [0, 0, 0, 0, 0, 0] });
      expect(t.encode('a', 'b a', 64)).toEqual({ ids: [6, 5, 3, 6, 5, 4, 5], typeIds: [0, 0, 0, 1, 1, 1, 1] });
      // (truncation leaves room for each id of the special tokens: 4 of a single text's 8)
      expect(t.encode('a b a b a', null, 8).ids).toEqual([1, 2, 1, 5, 6, 5, 6, 3]);
    }
  });

  it("gives a BertProcessing's cls and sep the ids it holds, as tokenizers does (processors/bert.rs: cls.1, sep.1)", () => {
    const t = loadTokenizer(folder({ type: 'BertProcessing', sep: ['[SEP]', 4], cls: ['[CLS]', 6] }));
    expect(t.encode('a b', null, 64)).toEqual({ ids: [6, 5, 6, 4], typeIds: [0, 0, 0, 0] });
    expect(t.encode('a', 'b a', 64)).toEqual({ ids: [6, 5, 4, 6, 5, 4], typeIds: [0, 0, 0, 1, 1, 1] });
    const version = TOKENIZER_READINGS.find((r) => r.changed({ specialIds: { single: true, pair: true } } as never, false))!.version;
    expect(tokenizerReadingVersion(folder({ type: 'BertProcessing', sep: ['[SEP]', 4], cls: ['[CLS]', 6] }), false)).toBe(version);
    expect(readingVersionApartFromPairs(folder({ type: 'BertProcessing', sep: ['[SEP]', 3], cls: ['[CLS]', 2] }), true)).toBeLessThan(version);
  });

  it('reads a single template of no Sequence A, or of two, as tokenizers does: each text tokenized once, then the template applied (ids as the tokenizers 0.23.2 binding gives them)', () => {
    const post = (single: unknown[]) => ({
      type: 'TemplateProcessing',
      single,
      pair: [special('[CLS]', 0), sequence('A', 0), special('[SEP]', 0), sequence('B', 1)],
      special_tokens: { '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] } },
    });
    // ([CLS] 2, [SEP] 3, a 5, b 6; the single template was applied to each text before the template, so A twice gave it
    // four times and no A emptied a pair's texts too: [CLS] [SEP])
    const twice = loadTokenizer(folder(post([special('[CLS]', 0), sequence('A', 0), sequence('A', 0)])));
    expect(twice.encode('a b', null, 16).ids).toEqual([2, 5, 6, 5, 6]);
    expect(twice.encode('a', 'b b', 16).ids).toEqual([2, 5, 3, 6, 6]);
    const none = loadTokenizer(folder(post([special('[CLS]', 0)])));
    expect(none.encode('a b', null, 16).ids).toEqual([2]);
    expect(none.encode('a', 'b b', 16).ids).toEqual([2, 5, 3, 6, 6]);
    // (their points, computed with the texts emptied or repeated, are stale; one Sequence A reads as before)
    // (a single template of no A gives a single text's ids as before: only its pair points are)
    const version = TOKENIZER_READINGS.find((r) =>
      r.changed({ singleTemplateA: { single: true, pair: true }, specialIds: { single: false, pair: false } } as never, false),
    )!.version;
    const once = folder(post([special('[CLS]', 0), sequence('A', 0), special('[SEP]', 0)]));
    expect(Math.max(readingVersionApartFromPairs(once, false)!, readingVersionApartFromPairs(once, true)!)).toBeLessThan(version);
    expect([readingVersionApartFromPairs(dirname(twice.source), false), readingVersionApartFromPairs(dirname(twice.source), true)]).toEqual([version, version]);
    expect(tokenizerReadingVersion(dirname(none.source), false)).toBeLessThan(version);
    expect(readingVersionApartFromPairs(dirname(none.source), true)).toBe(version);
  });

  it('marks a tokenizer of such entries with its reading version (its points computed with the texts read are stale)', () => {
    const version = TOKENIZER_READINGS.find((r) => r.changed({ specialIds: { single: true, pair: false } } as never, false))!.version;
    expect(tokenizerReadingVersion(folder(OWN_IDS), false)).toBe(version);
    expect(readingVersionApartFromPairs(folder(TEXT_IDS), true)).toBeLessThan(version);
    // (a difference in the pair template alone marks points read on pairs only)
    const pairOnly = template({
      X: { id: 'X', ids: [1], tokens: ['X'] },
      '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] },
      '[CLS]': { id: '[CLS]', ids: [6], tokens: ['[CLS]'] },
      Y: { id: 'Y', ids: [1], tokens: ['Y'] },
    });
    expect(tokenizerReadingVersion(folder(pairOnly), false)).toBeLessThan(version);
    expect(readingVersionApartFromPairs(folder(pairOnly), true)).toBe(version);
  });
});
