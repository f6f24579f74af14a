/**
 * A tokenizer_config.json model_max_length (or config.json max_length) that leaves no room for text after the special
 * tokens: compress eval refuses that length where it takes it, and transformers.js, which truncates every text to it after adding them,
 * would classify each text as [CLS] alone; --format transformers.js refuses it in one line, writing nothing.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compressToTransformersJs, exportToTransformersJs } from '../../src/export/transformers-js.ts';
import { randomBertWeights } from '../../src/bert/build-weights.ts';
import { writeHuggingFaceFolder } from '../../src/bert/build-hf.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { defaultMaxLength } from '../../src/eval/evaluate.ts';
import { evalLength } from '../../src/eval/graph-checks.ts';
import { parseModelConfig } from '../../src/eval/model-files.ts';
import { loadTokenizer } from '../../src/eval/tokenizer.ts';
import { writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert, tinyBertConfig } from '../helpers/models.ts';
import { SPECIALS, templateSequence, templateSpecial, tokenizerFolder, tokenizerJson } from '../helpers/tokenizer-json.ts';

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

  // (no pass changes the files the length comes from: compress refuses it before the passes run, where it ran them all)
  it.each([
    ['tokenizer_config.json', { model_max_length: 1 }, {}, "tokenizer_config.json's model_max_length 1"],
    ['config.json', {}, { max_length: 2 }, "config.json's max_length 2"],
  ])('compress MODEL <passes> refuses one of %s before any pass runs', async (file, tokenizerConfig, config, whence) => {
    const dir = writeModelFolder(join(root, `early-${file.replace('.json', '')}`), tinyBert());
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig));
    const configFile = join(dir, 'config.json');
    writeFileSync(configFile, JSON.stringify({ ...JSON.parse(readFileSync(configFile, 'utf8')), ...config }));
    const input = join(dir, 'model.onnx');
    const out = `${dir}-out`;
    // (a step that fails once it runs, on a model of 2 layers: the length's refusal comes first)
    const steps = [{ pass: 'drop-layers', settings: { layers: [7] } }];
    const lines: string[] = [];
    await expect(compressToTransformersJs({ input, output: out, steps, context: { log: (l) => lines.push(l) } })).rejects.toThrow(
      `${input}: ${join(dir, whence)} leaves no room for text after 2 special tokens, where transformers.js truncates every text to it (compress eval ${'max_length' in config ? 'refuses it too' : 'cuts at 16 tokens instead'}): give it 3 or more`,
    );
    expect(lines).toEqual([]);
    expect(existsSync(out)).toBe(false);
  });

  it("counts one special token as one (a template adding [SEP] alone, as T5's adds </s>)", async () => {
    const sep = templateSpecial('[SEP]', 0);
    const tokenizer = {
      ...tokenizerJson([...SPECIALS, 'a', 'b'], { pre_tokenizer: { type: 'Whitespace' } }),
      post_processor: {
        type: 'TemplateProcessing',
        single: [templateSequence('A', 0), sep],
        pair: [templateSequence('A', 0), sep, templateSequence('B', 0), sep],
        special_tokens: { '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] } },
      },
    };
    const hf = tokenizerFolder(root, 'one-special', tokenizer);
    writeFileSync(join(hf, 'tokenizer_config.json'), JSON.stringify({ model_max_length: 1 }));
    await expect(exportToTransformersJs(hf, `${hf}-out`)).rejects.toThrow(
      `${hf}: ${join(hf, "tokenizer_config.json's model_max_length 1")} leaves no room for text after 1 special token, where transformers.js truncates every text to it (compress eval refuses it too): give it 2 or more`,
    );
  });

  it('writes a length that leaves room (3: one token of text)', async () => {
    const hf = folder('model-max-3', { model_max_length: 3 });
    const out = join(root, 'model-max-3-out');
    await exportToTransformersJs(hf, out);
    expect(JSON.parse(readFileSync(join(out, 'tokenizer_config.json'), 'utf8')).model_max_length).toBe(3);
  });

  // (the line of compress eval's refusal of the model (checkModelLengthRoom), where it said 'the model's position table
  // (2 tokens) leaves no room … (compress eval cuts at 16 tokens instead): give it 3 or more', of a table no one gives
  // rows to and that eval refuses, and compress ran every pass first)
  const tableLine = (model: string, n: number) =>
    `${model}: the model's position table covers ${n} token${n === 1 ? '' : 's'}, which leaves no room for text after the 2 special tokens of a single text: no --max-length mends that (a model needs 3 positions or more)`;

  it.each([1, 2])("a model whose position table has %i rows: eval's line, before any pass runs or anything is written", async (n) => {
    const dir = writeModelFolder(join(root, `rows-${n}`), tinyBert({ numLayers: 1, maxPositions: n }));
    const input = join(dir, 'model.onnx');
    const out = join(root, `rows-${n}-out`);
    const lines: string[] = [];
    const steps = [{ pass: 'quantize', settings: { mode: 'int8' } }];
    await expect(compressToTransformersJs({ input, output: out, steps, context: { log: (l) => lines.push(l) } })).rejects.toThrow(tableLine(input, n));
    expect(lines).toEqual([]);
    expect(existsSync(out)).toBe(false);
    const hf = join(root, `hf-rows-${n}`);
    const config = tinyBertConfig({ numLayers: 1, maxPositions: n });
    writeHuggingFaceFolder(hf, config, randomBertWeights(config, { seed: 5 }));
    writeFileSync(join(hf, 'tokenizer.json'), JSON.stringify(tokenizerJson([...SPECIALS, 'a', 'b'], { pre_tokenizer: { type: 'Whitespace' } })));
    await expect(exportToTransformersJs(hf, `${hf}-out`)).rejects.toThrow(tableLine(hf, n));
    expect(existsSync(`${hf}-out`)).toBe(false);
  });
});
