/**
 * src/eval's refusals quote a value as every refused value is (quotedText, as a shell takes it; choiceRefusal for a
 * value outside its choices) and count by counted: a vocabulary's special token holding a quote stays one pair of
 * quotes a reader can paste, where a hand '${x}' showed '[it's]'; a split a library caller gives outside dev and test
 * is refused in the words of every choice, with its kind.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError, SettingsError } from '../../src/errors.ts';
import { evalSettings } from '../../src/eval/evaluate.ts';
import { DEFAULT_BERT_SPECIAL_TOKENS, wordPieceTokenizerJson } from '../../src/eval/wordpiece-vocab.ts';
import { configLabelsProblem } from '../../src/eval/graph-checks.ts';
import { loadTokenizer } from '../../src/eval/tokenizer.ts';
import { refusal } from '../helpers/refusal.ts';

describe("src/eval's words", () => {
  it.each([
    ["[it's]", "'[it'\\''s]'"],
    ['[a\nb]', "$'[a\\nb]'"],
  ])('a special token %j the vocabulary lacks is quoted as a shell takes it', (cls, shown) => {
    const vocab = new Map(['[PAD]', '[UNK]', '[SEP]', '[MASK]', 'a'].map((t, i) => [t, i]));
    expect(() => wordPieceTokenizerJson(vocab, 'vocab.txt', { doLowerCase: true, specialTokens: { ...DEFAULT_BERT_SPECIAL_TOKENS, cls } })).toThrow(
      new DataError(
        `vocab.txt: the vocabulary has no ${shown} token, which starts every input: transformers would add it as a new token after the vocabulary, whose row the model's word embedding never trained (or lacks): give the model's own vocab.txt, or name its tokens in tokenizer_config.json (cls_token, sep_token)`,
      ),
    );
  });

  it('a vocab.txt without [CLS] or [SEP] is refused saying why (transformers adds it after the vocabulary: a row the model never trained) and what to give, where it named the token alone', () => {
    const vocab = new Map(['[PAD]', '[UNK]', '[CLS]', '[MASK]', 'a'].map((t, i) => [t, i]));
    expect(() => wordPieceTokenizerJson(vocab, 'vocab.txt', { doLowerCase: true })).toThrow(
      new DataError(
        `vocab.txt: the vocabulary has no '[SEP]' token, which ends every text: transformers would add it as a new token after the vocabulary, whose row the model's word embedding never trained (or lacks): give the model's own vocab.txt, or name its tokens in tokenizer_config.json (cls_token, sep_token)`,
      ),
    );
  });

  it("a byte-level BPE vocab.json without the template's <s> or </s> (or the tokens tokenizer_config.json names) is refused in vocab.txt's words: quoted, why, and what to give, where it said 'no <s> token (the template's cls token)'", () => {
    const root = mkdtempSync(join(tmpdir(), 'bpe-words-'));
    try {
      const folder = (name: string, vocab: Record<string, number>, config?: object) => {
        const dir = join(root, name);
        mkdirSync(dir);
        writeFileSync(join(dir, 'vocab.json'), JSON.stringify(vocab));
        writeFileSync(join(dir, 'merges.txt'), '#version: 0.2\n');
        if (config) writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(config));
        return dir;
      };
      const why =
        "transformers would add it as a new token after the vocabulary, whose row the model's word embedding never trained (or lacks): give the model's own vocab.json, or name its tokens in tokenizer_config.json (cls_token, sep_token)";
      const noCls = folder('no-cls', { '<pad>': 0, '</s>': 1, '<unk>': 2, a: 3 });
      expect(refusal(() => loadTokenizer(noCls), DataError)).toBe(
        `${join(noCls, 'vocab.json')}: the vocabulary has no '<s>' token, which starts every input: ${why}`,
      );
      const noSep = folder('no-sep', { "<it's>": 0, '<pad>': 1, a: 2 }, { cls_token: "<it's>" });
      expect(refusal(() => loadTokenizer(noSep), DataError)).toBe(
        `${join(noSep, 'vocab.json')}: the vocabulary has no '</s>' token, which ends every text: ${why}`,
      );
      const named = folder('named', { "<it's>": 0, '</s>': 1, a: 2 }, { cls_token: "<it's>", sep_token: '[x y]' });
      expect(refusal(() => loadTokenizer(named), DataError)).toBe(
        `${join(named, 'vocab.json')}: the vocabulary has no '[x y]' token, which ends every text: ${why}`,
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('a split outside dev and test, as a library caller gives it, is refused as every choice is (choiceRefusal)', () => {
    expect(() => evalSettings({ split: 'train' as 'dev', tasks: ['SST-2'] })).toThrow(
      new SettingsError('split: expected one of dev, test, got string "train"'),
    );
  });

  it("config.json's label count and the model's scores are counted by counted", () => {
    const config = { file: 'config.json', numLabels: 1, id2label: null } as Parameters<typeof configLabelsProblem>[0];
    expect(configLabelsProblem(config, 3, 'm.onnx')).toBe(
      'config.json: says 1 label (its num_labels, as transformers reads it without an id2label), but m.onnx gives 3 scores per example: fix config.json',
    );
  });
});
