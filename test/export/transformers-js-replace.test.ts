/**
 * `--format transformers.js -o DIR` writes over a folder it wrote before (each model file's lineage sidecar says
 * bert-compress wrote it there, with the sha256 it still has; nothing else in the folder), as an .onnx output is
 * written over its earlier self: the new folder replaces the old whole (no file of the old one left). A folder with
 * anything else (a file of the user's, a model file changed since) is refused as before, saying which, left as it was.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OUTPUT_LOCK, removeStaleStaging } from '../../src/export/destination.ts';
import { THIS_PROCESS, holderText } from '../../src/file-lock.ts';
import { compressToTransformersJs, exportToTransformersJs } from '../../src/export/transformers-js.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { writeHuggingFaceFolder } from '../../src/bert/build-hf.ts';
import { randomBertWeights } from '../../src/bert/build-weights.ts';
import { writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert, tinyBertConfig } from '../helpers/models.ts';
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
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))['transformers.js_config']).toEqual({ dtype: 'fp32' });
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

  it("compress export --format transformers.js (exportToTransformersJs) run again replaces the folder it wrote (its model file has its lineage), and refuses one with a file of the user's", async () => {
    const hf = join(dir, 'hf');
    writeHuggingFaceFolder(hf, tinyBertConfig(), randomBertWeights(tinyBertConfig(), { seed: 5 }));
    writeFileSync(join(hf, 'vocab.txt'), readFileSync(join(writeModelFolder(join(dir, 'hf-vocab'), tinyBert()), 'vocab.txt')));
    const out = join(dir, 'exported');
    for (let run = 1; run <= 2; run++) {
      const r = await exportToTransformersJs(hf, out);
      expect(r.files, `run ${run}`).toContain('onnx/model.onnx.json');
    }
    const lineage = JSON.parse(readFileSync(join(out, 'onnx', 'model.onnx.json'), 'utf8'));
    expect(lineage).toMatchObject({ input: { path: join(hf, 'model.safetensors') }, passes: [], output: { path: join(out, 'onnx', 'model.onnx') } });
    writeFileSync(join(out, 'notes.txt'), 'mine');
    await expect(exportToTransformersJs(hf, out)).rejects.toThrow(
      `-o ${out}: the folder ${out} is not empty and not a transformers.js folder compress wrote (notes.txt is none of its files); give a new or empty folder`,
    );
  }, 60_000);

  it('puts back the earlier folder a run killed between its two renames left aside in its staging folder', async () => {
    const src = writeModelFolder(join(dir, 'src-killed'), tinyBert({}, { std: 0.3 }));
    const input = join(src, 'model.onnx');
    const parent = join(dir, 'killed');
    mkdirSync(parent);
    const out = join(parent, 'web');
    await compressToTransformersJs({ input, output: out, steps: [{ pass: 'quantize', settings: { mode: 'int8' } }] });
    const before = listed(out).sort();
    // what commitFolder leaves when killed after moving the earlier folder aside, before renaming the new one in
    const pid = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
    const staging = join(parent, `.compress-${hostname().replace(/[^A-Za-z0-9.-]/g, '_')}-${pid}-kill01`);
    mkdirSync(join(staging, 'web'), { recursive: true });
    renameSync(out, join(staging, 'web.replaced'));
    // a live run holding the folder's output lock (it may be between its own renames): left for a later cleanup
    writeFileSync(join(parent, OUTPUT_LOCK), `${holderText(THIS_PROCESS)}\n`);
    expect(removeStaleStaging(parent)).toEqual([]);
    expect(existsSync(join(staging, 'web.replaced', 'config.json'))).toBe(true);
    writeFileSync(join(parent, OUTPUT_LOCK), `${pid}\n`); // (the killed run held the output lock)
    expect(removeStaleStaging(parent)).toEqual([staging.slice(parent.length + 1)]);
    expect(listed(out).sort()).toEqual(before);
    expect(readdirSync(parent).sort()).toEqual(['web']);

    // killed after the new folder came: the earlier one removed with the staging folder, the new one kept
    mkdirSync(join(staging, 'web.replaced'), { recursive: true });
    writeFileSync(join(staging, 'web.replaced', 'old.txt'), 'old');
    expect(removeStaleStaging(parent)).toHaveLength(1);
    expect(listed(out).sort()).toEqual(before);
    expect(readdirSync(parent)).toEqual(['web']);

    // the next write over the output after such a kill: the earlier folder back first, then replaced by the new one
    mkdirSync(join(staging, 'web'), { recursive: true });
    renameSync(out, join(staging, 'web.replaced'));
    const pruned = await compressToTransformersJs({ input, output: out, steps: [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }] });
    expect(listed(out).sort()).toEqual([...pruned.files].sort());
    expect(readdirSync(parent)).toEqual(['web']);
  }, 60_000);

  it("leaves a killed run's own staged folder for an output named X.replaced, never putting it at X", () => {
    const parent = join(dir, 'named-replaced');
    mkdirSync(parent);
    const pid = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
    const staging = join(parent, `.compress-${hostname().replace(/[^A-Za-z0-9.-]/g, '_')}-${pid}-kill02`);
    // `-o parent/web.replaced` killed while its folder was staged, before any rename: no earlier folder was set aside
    mkdirSync(join(staging, 'web.replaced', 'onnx'), { recursive: true });
    writeFileSync(join(staging, 'web.replaced', 'config.json'), '{}');
    expect(removeStaleStaging(parent)).toEqual([staging.slice(parent.length + 1)]);
    expect(readdirSync(parent)).toEqual([]);
  });
});
