/**
 * A tokenizer_config.json model_max_length (or config.json max_length) that leaves no room for text after the special
 * tokens: compress eval refuses that length where it takes it, and transformers.js, which truncates every text to it after adding them,
 * would classify each text as [CLS] alone; --format transformers.js refuses it in one line, writing nothing.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportToTransformersJs } from '../../src/export/transformers-js.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { defaultMaxLength } from '../../src/eval/evaluate.ts';
import { evalLength } from '../../src/eval/graph-checks.ts';
import { parseModelConfig } from '../../src/eval/model-files.ts';
import { loadTokenizer } from '../../src/eval/tokenizer.ts';
import { SPECIALS, tokenizerFolder, tokenizerJson } from '../helpers/tokenizer-json.ts';

registerAllPasses();
const root = mkdtempSync(join(tmpdir(), 'bc-tjs-max-length-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A tiny BERT folder (BERT's post-processor: [CLS] and [SEP]) with this tokenizer_config.json, its config.json with `config` added. */
function folder(name: string, tokenizerConfig: object, config: object = {}): string {
  const hf = tokenizerFolder(root, name, tokenizerJson([...SPECIALS, 'a', 'b'], { pre_tokenizer: { type: 'Whitespace' } }));
  writeFileSync(join(hf, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig));
  const file = join(hf, 'config.json');
  writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), ...config }));
  return hf;
}

describe('--format transformers.js of a length that leaves no room for text', () => {
  it.each([
    ['model-max-1', { model_max_length: 1 }, {}, "tokenizer_config.json's model_max_length 1"],
    ['model-max-2', { model_max_length: 2.5 }, {}, "tokenizer_config.json's model_max_length 2"],
    // (0 or below, which transformers keeps and run_glue cuts at, where they were ignored: the default length written)
    ['model-max-0', { model_max_length: 0 }, {}, "tokenizer_config.json's model_max_length 0"],
    ['model-max-neg', { model_max_length: -1 }, {}, "tokenizer_config.json's model_max_length -1"],
    ['config-max-2', {}, { max_length: 2 }, "config.json's max_length 2"],
  ])('(%s) is refused in one line naming where it comes from, and nothing is written', async (name, tokenizerConfig, config, whence) => {
    const hf = folder(name, tokenizerConfig, config);
    const out = join(root, `${name}-out`);
    await expect(exportToTransformersJs(hf, out)).rejects.toThrow(
      `${hf}: ${join(hf, whence)} leaves no room for text after 2 special tokens, where transformers.js truncates every text to it (compress eval refuses it too): give it 3 or more`,
    );
    expect(existsSync(out)).toBe(false);
  });

  // (config.json's max_length is the length compress eval takes, which the tokenizer's model_max_length does not cap:
  // eval reads the folder, where the line said it refuses it too)
  it("says compress eval's own length where config.json's max_length leaves room that model_max_length does not", async () => {
    const hf = folder('model-max-1-config-16', { model_max_length: 1 }, { max_length: 16 });
    const out = join(root, 'model-max-1-config-16-out');
    await expect(exportToTransformersJs(hf, out)).rejects.toThrow(
      `${hf}: ${join(hf, "tokenizer_config.json's model_max_length 1")} leaves no room for text after 2 special tokens, where transformers.js truncates every text to it (compress eval cuts at 16 tokens instead): give it 3 or more`,
    );
    expect(existsSync(out)).toBe(false);
    // (as eval takes it: config.json's max_length before the tokenizer's)
    const config = parseModelConfig(JSON.parse(readFileSync(join(hf, 'config.json'), 'utf8')), join(hf, 'config.json'));
    expect(evalLength(undefined, config, null, defaultMaxLength(loadTokenizer(hf).modelMaxLength))).toBe(16);
  });

  it('writes a length that leaves room (3: one token of text)', async () => {
    const hf = folder('model-max-3', { model_max_length: 3 });
    const out = join(root, 'model-max-3-out');
    await exportToTransformersJs(hf, out);
    expect(JSON.parse(readFileSync(join(out, 'tokenizer_config.json'), 'utf8')).model_max_length).toBe(3);
  });
});
