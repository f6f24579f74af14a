/**
 * --format transformers.js of a BERT-style tokenizer.json without a normalizer, written under a class whose fast tokenizer
 * in transformers 4.x rebuilds a BertNormalizer (BertTokenizer: the model type's class, written where the source names
 * none or PreTrainedTokenizerFast): that class's `__init__` reads `json.loads(self.backend_tokenizer.normalizer.__getstate__())`
 * and fails on a file with none ('the JSON object must be str, bytes or bytearray, not NoneType'), so Python users could
 * not load the folder. It is written with a BertNormalizer that changes no text, and tokenizer_config.json settings
 * equal to it (so the class keeps it), giving eval's ids in transformers.js and in eval reading the folder again.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutoTokenizer, env } from '@huggingface/transformers';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTokenizer } from '../../src/eval/tokenizer.ts';
import { exportToTransformersJs } from '../../src/export/transformers-js.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { tokenizerFolder, tokenizerJson, wordPieceModel } from '../helpers/tokenizer-json.ts';

registerAllPasses();
env.allowRemoteModels = false;
const root = mkdtempSync(join(tmpdir(), 'bc-tjs-no-normalizer-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'good', 'Good', 'cafe', 'café', '中', 'ab', '##中'];
/** Texts a BertNormalizer of any setting would change: case, an accent, a Chinese character inside a word, a control character. */
const TEXTS = ['Good café', 'good cafe', 'ab中', 'Good\u0007 cafe'];

/** The BERT-style classes whose fast tokenizer (4.x) reads the file's normalizer state on loading (tokenization_bert_fast.py and its copies). */
const REBUILDING = /^(Bert|DistilBert|Electra|MobileBert|SqueezeBert|Funnel|LayoutLM|ConvBert|DPR\w+Encoder|DPRReader|Realm|Lxmert|RetriBert)Tokenizer(Fast)?$/;

describe('--format transformers.js of a tokenizer.json without a normalizer', () => {
  it.each([
    ['naming PreTrainedTokenizerFast', { tokenizer_class: 'PreTrainedTokenizerFast' }],
    ['naming no class (config.json model_type bert)', undefined],
    ['naming BertTokenizerFast', { tokenizer_class: 'BertTokenizerFast' }],
  ])(
    '%s writes a normalizer the BERT class written loads (one changing no text: eval, transformers.js and eval of the folder give the same ids)',
    async (name, config) => {
      const hf = tokenizerFolder(
        root,
        name.replace(/\W+/g, '-'),
        tokenizerJson(VOCAB, { normalizer: null, pre_tokenizer: { type: 'BertPreTokenizer' }, model: wordPieceModel(VOCAB) }),
      );
      if (config) writeFileSync(join(hf, 'tokenizer_config.json'), JSON.stringify(config));
      const out = `${hf}-tjs`;
      await exportToTransformersJs(hf, out);
      const writtenConfig = JSON.parse(readFileSync(join(out, 'tokenizer_config.json'), 'utf8'));
      const written = JSON.parse(readFileSync(join(out, 'tokenizer.json'), 'utf8'));
      // (the class written rebuilds a BertNormalizer in transformers 4.x, which reads the file's normalizer: there must be one)
      expect(writtenConfig.tokenizer_class).toMatch(REBUILDING);
      expect(written.normalizer).not.toBeNull();
      // (tokenizer_config.json's settings equal to the file's BertNormalizer, so that the class keeps it as it is)
      expect(written.normalizer).toMatchObject({
        type: 'BertNormalizer',
        lowercase: writtenConfig.do_lower_case,
        strip_accents: writtenConfig.strip_accents,
        handle_chinese_chars: writtenConfig.tokenize_chinese_chars,
      });
      const theirs = await AutoTokenizer.from_pretrained(out);
      const ours = loadTokenizer(hf);
      const again = loadTokenizer(out);
      for (const text of TEXTS) {
        const ids = [...ours.encode(text, null, 64).ids];
        expect([text, Array.from(theirs(text).input_ids.data as BigInt64Array, Number)]).toEqual([text, ids]);
        expect([text, [...again.encode(text, null, 64).ids]]).toEqual([text, ids]);
      }
      // (no normalizer: case and accents kept, a Chinese character inside a word a piece of it)
      expect([...ours.encode('Good café', null, 64).ids]).toEqual([2, 6, 8, 3]);
      expect([...ours.encode('ab中', null, 64).ids]).toEqual([2, 10, 11, 3]);
    },
    30_000,
  );

  it('keeps a source normalizer that is no BertNormalizer as it is (a Sequence: the class reads no setting of it)', async () => {
    const normalizer = { type: 'Sequence', normalizers: [{ type: 'NFC' }] };
    const hf = tokenizerFolder(
      root,
      'sequence',
      tokenizerJson(VOCAB, { normalizer, pre_tokenizer: { type: 'BertPreTokenizer' }, model: wordPieceModel(VOCAB) }),
    );
    writeFileSync(join(hf, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: 'PreTrainedTokenizerFast' }));
    const out = `${hf}-tjs`;
    await exportToTransformersJs(hf, out);
    expect(JSON.parse(readFileSync(join(out, 'tokenizer.json'), 'utf8')).normalizer).toEqual(normalizer);
    expect(JSON.parse(readFileSync(join(out, 'tokenizer_config.json'), 'utf8'))).not.toHaveProperty('do_lower_case');
  }, 30_000);
});
