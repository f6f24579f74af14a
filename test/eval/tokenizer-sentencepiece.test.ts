/**
 * A folder whose tokenizer is only a SentencePiece model (XLM-R's sentencepiece.bpe.model, ALBERT's spiece.model) is
 * refused, in one line that says how to get a tokenizer.json: no SentencePiece reader is used.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError } from '../../src/errors.ts';
import { loadTokenizer } from '../../src/eval/tokenizer.ts';
import { compressToTransformersJs } from '../../src/export/transformers-js.ts';
import { saveModel } from '../../src/onnx/index.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { tinyBert } from '../helpers/models.ts';

registerAllPasses();
const root = mkdtempSync(join(tmpdir(), 'bc-spm-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A folder holding only `model` (a SentencePiece model's name; its bytes do not matter) and config.json. */
function sentencePieceFolder(name: string, model: string): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, model), Buffer.from([0x0a, 0x05, 0x0a, 0x01, 0x61]));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'xlm-roberta' }));
  return dir;
}

const ADVICE =
  /is not read: write the folder's tokenizer\.json with transformers, python -c "import sys; from transformers import AutoTokenizer as T; T\.from_pretrained\(sys\.argv\[1\]\)\.save_pretrained\(sys\.argv\[1\]\)" .+, or give a folder with one with --tokenizer\)$/;

describe('a SentencePiece-only tokenizer folder', () => {
  it('is refused in one line naming the SentencePiece model and how to write a tokenizer.json', () => {
    for (const model of ['sentencepiece.bpe.model', 'spiece.model']) {
      const dir = sentencePieceFolder(model, model);
      expect(() => loadTokenizer(dir)).toThrow(DataError);
      expect(() => loadTokenizer(dir)).toThrow(
        new RegExp(`no tokenizer\\.json, vocab\\.txt or vocab\\.json with merges\\.txt \\(a SentencePiece model, ${model.replaceAll('.', '\\.')},`),
      );
      expect(() => loadTokenizer(dir)).toThrow(ADVICE);
    }
  });

  it("names the folder as one word of the command a shell runs, a quote and a space in its name too, where it was put inside the command's Python text", () => {
    const dir = sentencePieceFolder("John's models", 'spiece.model');
    let message = '';
    try {
      loadTokenizer(dir);
    } catch (e) {
      message = (e as Error).message;
    }
    const arg = /sys\.argv\[1\]\)" (.+), or give a folder/.exec(message)?.[1];
    expect(arg).toBeDefined();
    // (the shell reads the word back as the folder: printf prints its argument)
    expect(spawnSync('sh', ['-c', `printf %s ${arg}`], { encoding: 'utf8' }).stdout).toBe(dir);
  });

  it('is refused so when the SentencePiece model itself is given (not read as a tokenizer.json)', () => {
    const dir = sentencePieceFolder('file-given', 'sentencepiece.bpe.model');
    const file = join(dir, 'sentencepiece.bpe.model');
    expect(() => loadTokenizer(file)).toThrow(`${file}: not a tokenizer file we read (a SentencePiece model, sentencepiece.bpe.model,`);
    expect(() => loadTokenizer(file)).toThrow(ADVICE);
  });

  it('is refused so by --format transformers.js', async () => {
    const dir = sentencePieceFolder('tjs', 'sentencepiece.bpe.model');
    saveModel(tinyBert({ vocabSize: 11, numLayers: 1 }), join(dir, 'model.onnx'));
    const run = compressToTransformersJs({ input: join(dir, 'model.onnx'), output: join(root, 'tjs-out'), steps: [] });
    await expect(run).rejects.toThrow(ADVICE);
  });
});
