/**
 * `compress DIR` of a transformers.js folder reads its float onnx/model.onnx, whichever dtype config.json names, and
 * says so (the file, and the one config.json's dtype picks for eval, bench and transformers.js), as inspect and eval
 * name the file they read; the lineage's input is that file.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { saveModel } from '../../src/onnx/save.ts';
import { tinyBert } from '../helpers/models.ts';
import { runMain } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'bert-compress-folder-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('compress of a transformers.js folder', () => {
  it("names the file it read (onnx/model.onnx) and the one config.json's dtype picks", async () => {
    const folder = join(dir, 'web');
    mkdirSync(join(folder, 'onnx'), { recursive: true });
    saveModel(tinyBert({ numLayers: 2 }), join(folder, 'onnx', 'model.onnx'));
    saveModel(tinyBert({ numLayers: 1 }), join(folder, 'onnx', 'model_quantized.onnx'));
    writeFileSync(join(folder, 'config.json'), JSON.stringify({ model_type: 'bert', 'transformers.js_config': { dtype: 'q8' } }));
    const out = join(dir, 'out.onnx');
    const run = await runMain([folder, '--prune-ffn', '0.5', '-o', out]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe(
      `read ${join(folder, 'onnx', 'model.onnx')} (dtype fp32, the folder's float model; config.json's transformers.js_config dtype q8 is onnx/model_quantized.onnx, which eval, bench and transformers.js run)`,
    );
    expect(JSON.parse(readFileSync(`${out}.json`, 'utf8')).input.path).toBe(join(folder, 'onnx', 'model.onnx'));
  });
});
