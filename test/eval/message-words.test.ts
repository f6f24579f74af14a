/**
 * src/eval's refusals quote a value as every refused value is (quotedText, as a shell takes it; choiceRefusal for a
 * value outside its choices) and count by counted: a vocabulary's special token holding a quote stays one pair of
 * quotes a reader can paste, where a hand '${x}' showed '[it's]'; a split a library caller gives outside dev and test
 * is refused in the words of every choice, with its kind. No message of src/ quotes text with JSON.stringify ("x", as
 * some twenty of them did: a vocab.json's token, a merges.txt line, a tokenizer's unk_token, a piece, a shard).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError, SettingsError } from '../../src/errors.ts';
import { evalSettings } from '../../src/eval/evaluate.ts';
import { DEFAULT_BERT_SPECIAL_TOKENS, wordPieceTokenizerJson } from '../../src/eval/wordpiece-vocab.ts';
import { configLabelsProblem } from '../../src/eval/graph-checks.ts';
import { loadTokenizer } from '../../src/eval/tokenizer.ts';
import { refusal } from '../helpers/refusal.ts';

const SRC = resolve(import.meta.dirname, '..', '..', 'src');

/**
 * The JSON.stringify calls of src/ (per file, relative to src/) that write no message's text: data written or sent
 * (a file's JSON, a store's columns, a queue job's data, a safetensors header, --json output), a value compared or
 * hashed as a key, and the values shown as JSON by design (valueAndKind's 'string "x"' and valueText's lists and
 * objects in errors.ts, shownJson's tokenizer.json value as the file writes it, a pass setting's default in
 * `compress passes` and --help, a sweep point's label). Any other quotes a message's text, which quotedText does.
 */
const JSON_NOT_QUOTING: Record<string, number> = {
  'bench/lineage.ts': 3,
  'bert/build-hf.ts': 1,
  'bert/safetensors.ts': 1,
  'cli/commands/bench.ts': 1,
  'cli/commands/compress.ts': 1,
  'cli/commands/inspect.ts': 1,
  'cli/commands/passes.ts': 1,
  'cli/training.ts': 1,
  'errors.ts': 2,
  'eval/bpe-vocab.ts': 3,
  'eval/model-files.ts': 1,
  'eval/report.ts': 1,
  'eval/tokenizer-fields.ts': 1,
  'eval/tokenizer.ts': 1,
  'export/compress.ts': 2,
  // (jsonWholeFloats' keys of found values, no message)
  'files.ts': 1,
  'export/from-huggingface.ts': 1,
  'export/transformers-js.ts': 3,
  'onnx/identity.ts': 1,
  'pass/describe.ts': 3,
  'pass/pipeline.ts': 2,
  'queue/files.ts': 1,
  'queue/worker.ts': 1,
  'report/table.ts': 1,
  'report/teacher-size.ts': 2,
  'report/write.ts': 1,
  'sweep/contention.ts': 1,
  'sweep/expand.ts': 1,
  'sweep/key.ts': 1,
  'sweep/point.ts': 1,
  'sweep/run.ts': 1,
  'sweep/spec.ts': 3,
  'sweep/store.ts': 5,
  'train/augment.ts': 5,
  'train/checkpoint.ts': 1,
  'train/corpus.ts': 1,
  'train/data.ts': 1,
  'train/output-folder.ts': 1,
  'train/run.ts': 1,
  'train/teacher-cache.ts': 2,
  'train/teacher-features.ts': 2,
  'train/trainer.ts': 7,
};

/** The files of src/ whose JSON.stringify calls outnumber JSON_NOT_QUOTING's, as 'file: N (of which M write no message)'. */
function jsonQuotingFiles(): string[] {
  return readdirSync(SRC, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(SRC, join(e.parentPath, e.name)).split('\\').join('/'))
    .map((file) => [file, readFileSync(join(SRC, file), 'utf8').split('JSON.stringify(').length - 1] as const)
    .filter(([file, n]) => n > (JSON_NOT_QUOTING[file] ?? 0))
    .map(([file, n]) => `${file}: ${n} (of which ${JSON_NOT_QUOTING[file] ?? 0} write no message)`)
    .sort();
}

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

  it('no message of src/ quotes text with JSON.stringify ("x"), where quotedText is the one quoting', () => {
    expect(jsonQuotingFiles()).toEqual([]);
    // (a check that cannot pass vacuously: the files are read, and a count past the list is named)
    expect(JSON_NOT_QUOTING['sweep/store.ts']).toBe(5);
    expect(readFileSync(join(SRC, 'sweep/store.ts'), 'utf8').split('JSON.stringify(').length - 1).toBe(5);
  });

  it('a vocab.json\'s token and id and a merges.txt line or merge are quoted as a shell takes them, where they were JSON ("it\'s")', () => {
    const root = mkdtempSync(join(tmpdir(), 'bpe-quoting-'));
    try {
      const folder = (name: string, vocab: Record<string, unknown>, merges: string) => {
        const dir = join(root, name);
        mkdirSync(dir);
        writeFileSync(join(dir, 'vocab.json'), JSON.stringify(vocab));
        writeFileSync(join(dir, 'merges.txt'), merges);
        return dir;
      };
      const base = { '<s>': 0, '</s>': 1, '<pad>': 2, '<unk>': 3, a: 4, b: 5 };
      const id = folder('id', { ...base, "it's": '6' }, '#version: 0.2\n');
      expect(refusal(() => loadTokenizer(id), DataError)).toBe(`${join(id, 'vocab.json')}: token 'it'\\''s' has id '6', not a whole number ≥ 0`);
      const three = folder('three', base, "#version: 0.2\na b it's\n");
      expect(refusal(() => loadTokenizer(three), DataError)).toMatch(/^.*merges\.txt: line 2 \('a b it'\\''s'\) holds 3 tokens, where /);
      const lacks = folder('lacks', base, '#version: 0.2\na b\n');
      expect(refusal(() => loadTokenizer(lacks), DataError)).toBe(
        `${join(lacks, 'merges.txt')}: line 2's merge 'a b' makes 'ab', which ${join(lacks, 'vocab.json')} lacks: transformers fails to load the folder (tokenizers: 'Token \`ab\` out of vocabulary'); add it to the vocabulary or remove the merge`,
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("config.json's label count and the model's scores are counted by counted", () => {
    const config = { file: 'config.json', numLabels: 1, id2label: null } as Parameters<typeof configLabelsProblem>[0];
    expect(configLabelsProblem(config, 3, 'm.onnx')).toBe(
      'config.json: says 1 label (its num_labels, as transformers reads it without an id2label), but m.onnx gives 3 scores per example: fix config.json',
    );
  });
});
