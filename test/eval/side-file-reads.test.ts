/**
 * A model folder's config.json or tokenizer file that cannot be read (here a folder by that name, which fails for
 * root too; permission denied takes the same path) is one line naming the file and why, before anything is written:
 * not a JSON complaint, not 'cannot write' about the file read, and not an output with half its side files.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataError } from '../../src/errors.ts';
import { loadTokenizer, readConfig, readVocabulary, vocabTokenizerJson } from '../../src/eval/tokenizer.ts';
import { parseModelConfig, readModelConfig } from '../../src/eval/model-files.ts';
import { compressFile } from '../../src/export/compress.ts';
import { checkOutputSideFiles } from '../../src/train/output-folder.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { writeTinyBert } from '../helpers/models.ts';

registerAllPasses();
const tiny = writeTinyBert({ numLayers: 1 }, { std: 0.2 });
const root = mkdtempSync(join(tmpdir(), 'side-file-reads-'));
afterAll(() => {
  tiny.cleanup();
  rmSync(root, { recursive: true, force: true });
});

/** A model folder whose `unreadable` file is a folder instead. */
function folderWith(name: string, unreadable: string): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  copyFileSync(tiny.path, join(dir, 'model.onnx'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ num_labels: 2 }));
  writeFileSync(join(dir, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'good', 'bad'].join('\n') + '\n');
  rmSync(join(dir, unreadable), { force: true });
  mkdirSync(join(dir, unreadable));
  return dir;
}

describe('side files that cannot be read', () => {
  it('tokenizer.json, vocab.txt and config.json: the file and why, as a DataError', () => {
    const json = folderWith('json', 'tokenizer.json');
    expect(() => loadTokenizer(json)).toThrow(new DataError(`${join(json, 'tokenizer.json')}: cannot read it: is a folder`));
    const vocab = folderWith('vocab', 'vocab.txt');
    expect(() => loadTokenizer(vocab)).toThrow(new DataError(`${join(vocab, 'vocab.txt')}: cannot read it: is a folder`));
    const config = folderWith('config', 'config.json');
    expect(() => readModelConfig(config)).toThrow(new DataError(`${join(config, 'config.json')}: cannot read it: is a folder`));
  });

  it('compress refuses before writing the output, not after it with half the side files', async () => {
    const dir = folderWith('compress', 'vocab.txt');
    const out = join(root, 'compress-out', 'model.onnx');
    await expect(compressFile({ input: join(dir, 'model.onnx'), output: out, steps: [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }] })).rejects.toThrow(
      `${join(dir, 'vocab.txt')}: cannot read it: is a folder`,
    );
    expect(existsSync(out)).toBe(false);
    expect(existsSync(join(root, 'compress-out', 'config.json'))).toBe(false);
  });

  it('train and distill refuse before training, whatever the output folder holds', () => {
    const dir = folderWith('train', 'vocab.txt');
    const out = join(root, 'train-out', 'model.onnx');
    expect(() => checkOutputSideFiles(out, dir, `${out}.train`, `-o ${out}`, true)).toThrow(
      new DataError(`${join(dir, 'vocab.txt')}: cannot read it: is a folder`),
    );
  });
});

describe('side files saved with a UTF-8 byte-order mark', () => {
  it('config.json, tokenizer_config.json and tokenizer.json are read as without it', () => {
    const dir = folderWith('bom', 'unused');
    const bom = '\ufeff';
    writeFileSync(join(dir, 'config.json'), `${bom}${JSON.stringify({ id2label: { 0: 'negative', 1: 'positive' } })}`);
    writeFileSync(join(dir, 'tokenizer_config.json'), `${bom}${JSON.stringify({ do_lower_case: false })}`);
    writeFileSync(join(dir, 'tokenizer.json'), `${bom}${JSON.stringify(vocabTokenizerJson(join(dir, 'vocab.txt'), readConfig(dir)))}`);
    expect([...(readModelConfig(dir).id2label ?? [])]).toEqual([
      [0, 'negative'],
      [1, 'positive'],
    ]);
    expect(readConfig(dir).do_lower_case).toBe(false);
    expect(loadTokenizer(dir).encode('good Bad', null, 8).ids).toEqual([2, 5, 1, 3]);
  });

  it('vocab.txt: the mark is no part of the first token ([PAD] keeps id 0)', () => {
    const dir = folderWith('bom-vocab', 'unused');
    const plain = readVocabulary(dir)!.vocab;
    writeFileSync(join(dir, 'vocab.txt'), `\ufeff${['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'good', 'bad'].join('\r\n')}\r\n`);
    expect(readVocabulary(dir)!.vocab).toEqual(plain);
    expect(plain.get('[PAD]')).toBe(0);
    expect(loadTokenizer(dir).padId).toBe(0);
    expect(loadTokenizer(dir).encode('good bad', null, 8).ids).toEqual([2, 5, 6, 3]);
  });
});

describe('tokenizer_config.json over tokenizer.json', () => {
  it("do_lower_case false keeps case though tokenizer.json's BertNormalizer lower-cases, as transformers loads it", () => {
    const dir = folderWith('cased-config', 'unused');
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(vocabTokenizerJson(join(dir, 'vocab.txt'), {})));
    expect(loadTokenizer(dir).encode('good Bad', null, 8).ids).toEqual([2, 5, 6, 3]);
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: false }));
    expect(loadTokenizer(dir).encode('good Bad', null, 8).ids).toEqual([2, 5, 1, 3]);
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: true }));
    expect(loadTokenizer(dir).encode('good Bad', null, 8).ids).toEqual([2, 5, 6, 3]);
  });
});

describe("config.json's max_length", () => {
  it("is not the generation default (20) of a config written with transformers' generation settings", () => {
    expect(parseModelConfig({ max_length: 20, min_length: 0, num_beams: 1, do_sample: false }, 'config.json').maxLength).toBeNull();
    expect(parseModelConfig({ max_length: 20 }, 'config.json').maxLength).toBe(20);
    // (num_labels and id2label disagreeing: id2label's size, as transformers reads it: test/eval/label-count.test.ts)
    const three = { 0: 'entailment', 1: 'neutral', 2: 'contradiction' };
    expect(parseModelConfig({ num_labels: 3, id2label: three }, 'config.json').numLabels).toBe(3);
    expect(parseModelConfig({ num_labels: 3 }, 'config.json').numLabels).toBe(3);
    expect(parseModelConfig({ id2label: three }, 'config.json').numLabels).toBe(3);
    expect(parseModelConfig({ max_length: 64, num_beams: 1 }, 'config.json').maxLength).toBe(64);
  });
});

describe('a tokenizer_config.json key named __proto__', () => {
  it('is a key like any other: it does not become what the merged config inherits (do_lower_case stays unset)', () => {
    const dir = folderWith('proto-key', 'unused');
    writeFileSync(join(dir, 'tokenizer_config.json'), '{"__proto__": {"do_lower_case": false, "model_max_length": 7}}');
    const config = readConfig(dir);
    expect(Object.getPrototypeOf(config)).toBe(Object.prototype);
    expect(config.do_lower_case).toBeUndefined();
    expect(config.model_max_length).toBeUndefined();
  });
});
