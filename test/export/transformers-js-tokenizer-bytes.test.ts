/**
 * --format transformers.js writes the tokenizer.json its checks read before the passes (its bytes then), not the file
 * as it is when the folder is written: a tokenizer.json edited while the passes ran (hours, for an ablation) is not
 * written unchecked beside the model.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { compressToTransformersJs } from '../../src/export/transformers-js.ts';
import { registerPass } from '../../src/pass/registry.ts';
import { declarePass } from '../../src/pass/settings.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { writeModelFolder, WORDS } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';
import { SPECIALS, tokenizerJson, wordPieceModel } from '../helpers/tokenizer-json.ts';

registerAllPasses();
const root = mkdtempSync(join(tmpdir(), 'bc-tjs-tokenizer-bytes-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const source = writeModelFolder(join(root, 'in'), tinyBert());
const vocab = [...SPECIALS, ...WORDS];
const tokenizer = tokenizerJson(vocab, {
  normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: false, strip_accents: false, lowercase: false },
  pre_tokenizer: { type: 'WhitespaceSplit' },
  model: wordPieceModel(vocab),
});
// (no lower-casing or Chinese characters, nor a BertPreTokenizer, which the export rewrites for transformers.js (the
// BertNormalizer's clean_text keeps the WhitespaceSplit as it is); compact JSON: a tokenizer.json
// written from its object would be indented, so the bytes tell a copy from a rewrite)
const original = JSON.stringify(tokenizer);
writeFileSync(join(source, 'tokenizer.json'), original);
// (the BertNormalizer's settings named as its class reads them: without them transformers' BertTokenizerFast rebuilds
// it of its defaults, lower-casing, and so does the export, which then writes the tokenizer.json it rebuilt)
writeFileSync(join(source, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: false, strip_accents: false, tokenize_chinese_chars: false }));
/** Another model's tokenizer: a word at id 500, past the tiny model's 128 rows, which the export refuses before the passes. */
const wide = [...vocab, ...Array.from({ length: 500 - vocab.length }, (_, i) => `w${i}`), 'late'];
const edited = JSON.stringify(tokenizerJson(wide, { pre_tokenizer: { type: 'BertPreTokenizer' }, model: wordPieceModel(wide) }));

/** A pass that rewrites the source folder's tokenizer.json while it runs, and leaves the model as it is. */
registerPass({
  ...declarePass({
    name: 'test-edit-tokenizer',
    description: 'edits the tokenizer.json of the source folder',
    version: 1,
    settings: z.strictObject({}),
    flags: { adds: [], modifiers: [] },
    options: () => ({}),
  }),
  async run(model) {
    writeFileSync(join(source, 'tokenizer.json'), edited);
    return { model, report: { pass: 'test-edit-tokenizer', settings: {}, summary: 'edited the tokenizer' } };
  },
});

describe('--format transformers.js and a tokenizer.json edited while the passes run', () => {
  it('copies the tokenizer.json it read, byte for byte, where transformers.js reads it unchanged', async () => {
    const out = join(root, 'plain');
    await compressToTransformersJs({ input: join(source, 'model.onnx'), output: out, steps: [] });
    expect(readFileSync(join(out, 'tokenizer.json'), 'utf8')).toBe(original);
  });

  it('writes the bytes its checks read before the passes, not the file edited since', async () => {
    const out = join(root, 'edited');
    writeFileSync(join(source, 'tokenizer.json'), original);
    await compressToTransformersJs({ input: join(source, 'model.onnx'), output: out, steps: [{ pass: 'test-edit-tokenizer', settings: {} }] });
    expect(readFileSync(join(source, 'tokenizer.json'), 'utf8')).toBe(edited);
    expect(readFileSync(join(out, 'tokenizer.json'), 'utf8')).toBe(original);
    // (the edited file, given before the passes, is refused: its ids pass the model's word embedding)
    await expect(compressToTransformersJs({ input: join(source, 'model.onnx'), output: join(root, 'refused'), steps: [] })).rejects.toThrow(
      /its vocabulary has token ids up to 500, but .* has 128 rows in its word embedding/,
    );
  });
});

/** A pass that rewrites the source folder's config.json (max_length 2, a tokenizer_class) and special_tokens_map.json while it runs. */
const sideSource = writeModelFolder(join(root, 'side-in'), tinyBert());
writeFileSync(join(sideSource, 'config.json'), JSON.stringify({ ...readJson(join(sideSource, 'config.json')), max_length: 16 }));
writeFileSync(join(sideSource, 'special_tokens_map.json'), JSON.stringify({ unk_token: '[UNK]', cls_token: '[CLS]', sep_token: '[SEP]' }));
const sideOriginals = ['config.json', 'special_tokens_map.json'].map((f) => readFileSync(join(sideSource, f), 'utf8'));
registerPass({
  ...declarePass({
    name: 'test-edit-side-files',
    description: 'edits the config.json and special_tokens_map.json of the source folder',
    version: 1,
    settings: z.strictObject({}),
    flags: { adds: [], modifiers: [] },
    options: () => ({}),
  }),
  async run(model) {
    writeFileSync(
      join(sideSource, 'config.json'),
      JSON.stringify({ ...readJson(join(sideSource, 'config.json')), max_length: 2, tokenizer_class: 'ElectraTokenizer' }),
    );
    writeFileSync(join(sideSource, 'special_tokens_map.json'), JSON.stringify({ unk_token: '[MASK]', cls_token: '[SEP]', sep_token: '[CLS]' }));
    return { model, report: { pass: 'test-edit-side-files', settings: {}, summary: 'edited the side files' } };
  },
});

function readJson(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
}

describe('--format transformers.js and a config.json or special_tokens_map.json edited while the passes run', () => {
  // (config.json's max_length 2 leaves no room for text, which the export refuses before the passes: written after
  // them, it became the folder's model_max_length unchecked; special_tokens_map.json was copied as it was then)
  it('writes the folder from the files as its checks read them before the passes, not as edited since', async () => {
    const out = join(root, 'side-edited');
    await compressToTransformersJs({ input: join(sideSource, 'model.onnx'), output: out, steps: [{ pass: 'test-edit-side-files', settings: {} }] });
    expect(readJson(join(sideSource, 'config.json')).max_length).toBe(2);
    expect(readJson(join(out, 'config.json')).max_length).toBe(16);
    expect(readJson(join(out, 'tokenizer_config.json'))).toMatchObject({ model_max_length: 16, tokenizer_class: 'BertTokenizer' });
    expect(readFileSync(join(out, 'special_tokens_map.json'), 'utf8')).toBe(sideOriginals[1]);
    // (the edited config.json, given before the passes, is refused)
    await expect(compressToTransformersJs({ input: join(sideSource, 'model.onnx'), output: join(root, 'side-refused'), steps: [] })).rejects.toThrow(
      /config\.json's max_length 2 leaves no room for text/,
    );
  });
});
