/**
 * `--format transformers.js` of an ONNX model whose config.json's `model_type` is a string of no family a
 * transformers.js folder is written of (a typo "bertt", "BERT", another library's name): refused before any work in
 * one line naming the key and the types written, where the folder was written naming it and transformers.js' pipeline
 * failed on it ('Unsupported model type: bertt'). One of those types, or none (the graph's family's), is written as before.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SettingsError } from '../../src/errors.ts';
import { compressToTransformersJs } from '../../src/export/transformers-js.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';

registerAllPasses();
const work = mkdtempSync(join(tmpdir(), 'bc-tjs-model-type-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A tiny BERT model folder whose config.json says `modelType` (left out where undefined). */
function folder(name: string, modelType: unknown): string {
  const dir = writeModelFolder(join(work, name), tinyBert({ numLabels: 2 }));
  const config = { ...JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')), model_type: modelType };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

describe('--format transformers.js of a config.json whose model_type no transformers.js folder is written of', () => {
  it.each(['bertt', 'BERT', 'megatron-bert'])('model_type %j: refused in one line naming the key, nothing written', async (type) => {
    const dir = folder(`type-${type}`, type);
    const output = join(work, `out-${type}`);
    await expect(compressToTransformersJs({ input: join(dir, 'model.onnx'), output, steps: [] })).rejects.toThrow(
      new SettingsError(
        `--format transformers.js: ${join(dir, 'config.json')}: model_type: expected one of bert, distilbert, roberta, xlm-roberta, camembert, electra, albert (those a transformers.js folder is written of), got string "${type}": the folder's config.json would name it, and transformers.js loads no model of a type it does not know ('Unsupported model type: ${type}'); write the model's type`,
      ),
    );
    expect(existsSync(output)).toBe(false);
  });

  it('one of those types, or none (the graph family’s), is written as before', async () => {
    for (const [name, type, written] of [
      ['bert', 'bert', 'bert'],
      ['none', undefined, 'bert'],
    ] as const) {
      const output = join(work, `out-ok-${name}`);
      await compressToTransformersJs({ input: join(folder(`ok-${name}`, type), 'model.onnx'), output, steps: [] });
      expect(JSON.parse(readFileSync(join(output, 'config.json'), 'utf8')).model_type).toBe(written);
    }
  });
});
