/**
 * `--format transformers.js -o DIR` writes over a folder it wrote before (each model file's lineage sidecar says
 * bert-compress wrote it there, with the sha256 it still has; nothing else in the folder), as an .onnx output is
 * written over its earlier self: the new folder replaces the old whole (no file of the old one left). A folder with
 * anything else (a file of the user's, a model file changed since) is refused as before, saying which, left as it was.
 */
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compressToTransformersJs } from '../../src/export/transformers-js.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';
import { SettingsError } from '../../src/errors.ts';

registerAllPasses();
const dir = mkdtempSync(join(tmpdir(), 'bc-tjs-replace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const listed = (folder: string): string[] => [...readdirSync(folder).filter((f) => f !== 'onnx'), ...readdirSync(join(folder, 'onnx')).map((f) => `onnx/${f}`)];

describe('--format transformers.js over its own earlier folder', () => {
  it('replaces a folder it wrote, and refuses one holding anything else', async () => {
    const src = writeModelFolder(join(dir, 'src'), tinyBert({}, { std: 0.3 }));
    const input = join(src, 'model.onnx');
    const out = join(dir, 'web');
    const quantized = await compressToTransformersJs({ input, output: out, steps: [{ pass: 'quantize', settings: { mode: 'int8' } }] });
    expect(quantized.files).toContain('onnx/model_quantized.onnx');
    const pruned = await compressToTransformersJs({ input, output: out, steps: [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }] });
    // the new folder whole: the earlier quantized model and its dtype gone
    expect(listed(out).sort()).toEqual([...pruned.files].sort());
    expect(existsSync(join(out, 'onnx', 'model_quantized.onnx'))).toBe(false);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))['transformers.js_config']).toBeUndefined();
    expect(readdirSync(dir).filter((f) => f.startsWith('.compress-'))).toEqual([]);

    const steps = [{ pass: 'prune-ffn', settings: { ratio: 0.25 } }];
    const before = listed(out).sort();
    writeFileSync(join(out, 'notes.txt'), 'mine');
    const refused = compressToTransformersJs({ input, output: out, steps });
    await expect(refused).rejects.toThrow(SettingsError);
    await expect(refused).rejects.toThrow(
      `-o ${out}: the folder ${out} is not empty and not a transformers.js folder compress wrote (notes.txt is none of its files); give a new or empty folder`,
    );
    expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('mine');
    rmSync(join(out, 'notes.txt'));
    // a model file changed since it was written: not the file its lineage records
    appendFileSync(join(out, 'onnx', 'model.onnx'), Buffer.from([0]));
    await expect(compressToTransformersJs({ input, output: out, steps })).rejects.toThrow(
      /\(onnx\/model\.onnx changed since compress wrote it\); give a new or empty folder$/,
    );
    expect(listed(out).sort()).toEqual(before);
  }, 60_000);
});
