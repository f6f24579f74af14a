/** `compress inspect` of a transformers.js folder reads the model file eval and bench run (config.json's dtype, or --dtype). */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { saveModel } from '../../src/onnx/save.ts';
import { tinyBert } from '../helpers/models.ts';
import { runMain } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'bert-compress-inspect-dtype-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const inspect = (...extra: string[]) => runMain(['inspect', dir, ...extra]);

describe('compress inspect of a transformers.js folder', () => {
  it("reads config.json's transformers.js_config dtype, or --dtype, as eval and bench do", async () => {
    mkdirSync(join(dir, 'onnx'));
    saveModel(tinyBert({ numLayers: 2 }), join(dir, 'onnx', 'model.onnx'));
    saveModel(tinyBert({ numLayers: 1 }), join(dir, 'onnx', 'model_quantized.onnx'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'bert', 'transformers.js_config': { dtype: 'q8' } }));
    const byConfig = await inspect('--json');
    expect(byConfig.code, byConfig.stderr).toBe(0);
    expect(JSON.parse(byConfig.stdout)).toMatchObject({ model: join(dir, 'onnx', 'model_quantized.onnx'), numLayers: 1 });
    const text = await inspect();
    expect(text.stdout.split('\n')[0]).toBe(`inspected ${join(dir, 'onnx', 'model_quantized.onnx')} (dtype q8, config.json's transformers.js_config)`);
    const fp32 = await inspect('--dtype', 'fp32', '--json');
    expect(JSON.parse(fp32.stdout)).toMatchObject({ model: join(dir, 'onnx', 'model.onnx'), numLayers: 2 });
    const missing = await inspect('--dtype', 'q4');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^compress: .*--dtype q4 is onnx\/model_q4\.onnx, which the folder lacks/);
  });

  // a dtype no transformers.js file has, or asked of a model that is no transformers.js folder: the command line's
  // mistake (exit 2); a model not there is refused as without --dtype (exit 1)
  it.each([
    [['inspect', '.', '--dtype', 'q9'], 2, /^compress: --dtype 'q9': expected one of fp32, fp16, .*, auto \(the dtypes of transformers\.js\)$/],
    [['eval', '.', '--task', 'SST-2', '--dtype', 'q9'], 2, /^compress: --dtype 'q9': expected one of fp32, /],
    [['bench', '.', '--dtype', 'q9'], 2, /^compress: --dtype 'q9': expected one of fp32, /],
    [['bench', '.', '--baseline', '.', '--baseline-dtype', 'q9'], 2, /^compress: --baseline-dtype 'q9': expected one of fp32, /],
    [['bench', 'MODEL', '--baseline-dtype', 'q8'], 2, /^compress: --baseline-dtype: no --baseline given$/],
    [
      ['inspect', 'MODEL', '--dtype', 'q8'],
      2,
      /^compress: --dtype q8: picks a model file of a transformers\.js folder \(onnx\/model\*\.onnx\); \S+model\.onnx is not one$/,
    ],
    [['eval', 'MODEL', '--task', 'SST-2', '--dtype', 'fp32'], 2, /^compress: --dtype fp32: picks a model file of a transformers\.js folder/],
    [['inspect', 'GONE', '--dtype', 'q8'], 1, /^compress: \S+gone\.onnx: no such file or folder$/],
  ])('%j exits %i', async (args, code, message) => {
    const plain = join(dir, 'plain');
    mkdirSync(plain, { recursive: true });
    saveModel(tinyBert({ numLayers: 1 }), join(plain, 'model.onnx'));
    const named = { MODEL: join(plain, 'model.onnx'), GONE: join(dir, 'gone.onnx'), '.': dir } as Record<string, string>;
    const r = await runMain(args.map((a) => named[a] ?? a));
    expect(r.stderr.trim()).toMatch(message);
    expect([r.code, r.stdout]).toEqual([code, '']);
  });
});
