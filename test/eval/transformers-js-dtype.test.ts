/**
 * `compress eval` and `compress bench` on a transformers.js folder run the model file transformers.js loads: the one
 * of the dtype config.json's `transformers.js_config` names (q8 → onnx/model_quantized.onnx), else fp32
 * (onnx/model.onnx); `--dtype` picks another, and the file run is named with its dtype.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AutoModelForSequenceClassification, env } from '@huggingface/transformers';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchModels } from '../../src/bench/index.ts';
import { evalCommand, type EvalArgs } from '../../src/cli/commands/eval.ts';
import { evaluate } from '../../src/eval/evaluate.ts';
import { locateRunModel } from '../../src/eval/model-files.ts';
import { saveModel } from '../../src/onnx/index.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';

env.allowRemoteModels = false;

const root = mkdtempSync(join(tmpdir(), 'bc-tjs-dtype-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

/** A transformers.js folder: config.json (with `transformersJs` as its transformers.js_config), vocab, and onnx/ files. */
function folder(transformersJs: unknown, files = ['model.onnx', 'model_quantized.onnx']): string {
  const dir = join(root, `f${n++}`);
  writeModelFolder(dir, tinyBert({}, { seed: 1 })); // config.json and vocab.txt (and a model.onnx, moved below)
  rmSync(join(dir, 'model.onnx'));
  mkdirSync(join(dir, 'onnx'));
  // different weights per file: the scores tell which one ran
  files.forEach((f, i) => saveModel(tinyBert({}, { seed: 10 + i, std: 0.3 }), join(dir, 'onnx', f)));
  const config = { model_type: 'bert', num_labels: 2, id2label: { 0: 'negative', 1: 'positive' }, max_length: 16 };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(transformersJs === undefined ? config : { ...config, 'transformers.js_config': transformersJs }));
  return dir;
}

describe('locateRunModel', () => {
  it("follows config.json's dtype as transformers.js does, and --dtype over it", () => {
    const q8 = folder({ dtype: 'q8' });
    expect(locateRunModel(q8)).toEqual({ onnx: join(q8, 'onnx', 'model_quantized.onnx'), dir: q8, transformersJs: { dtype: 'q8', from: 'config.json' } });
    expect(locateRunModel(q8, 'fp32')).toMatchObject({ onnx: join(q8, 'onnx', 'model.onnx'), transformersJs: { dtype: 'fp32', from: 'flag' } });
    // no dtype, 'auto' or an unknown name: fp32 (transformers.js's default on the CPU)
    for (const c of [undefined, { dtype: 'auto' }, { dtype: 'fp99' }]) {
      expect(locateRunModel(folder(c)), JSON.stringify(c)).toMatchObject({
        onnx: expect.stringMatching(/onnx\/model\.onnx$/),
        transformersJs: { from: 'default' },
      });
    }
    // per-file dtypes, and the CPU's device_config over the folder's dtype
    expect(locateRunModel(folder({ dtype: { model: 'q4' } }, ['model.onnx', 'model_q4.onnx'])).onnx).toMatch(/onnx\/model_q4\.onnx$/);
    expect(locateRunModel(folder({ dtype: 'fp32', device_config: { cpu: { dtype: 'q8' } } })).onnx).toMatch(/onnx\/model_quantized\.onnx$/);
  });

  it("--dtype auto picks the file transformers.js's dtype 'auto' loads on Node's cpu device: config.json's dtype, else fp32", async () => {
    // (transformers.js's selectDtype: 'auto' falls back to the config's dtype, device_config's first, else the device's
    // default, fp32 for cpu; it was refused as 'not a transformers.js dtype')
    const configs = [
      { dtype: 'q8' },
      undefined,
      { dtype: 'auto' },
      { dtype: 'fp32', device_config: { cpu: { dtype: 'q8' } } },
      { dtype: { model: 'q8' } },
      { dtype: { decoder: 'q8' } },
    ];
    for (const c of configs) {
      const dir = folder(c);
      const picked = locateRunModel(dir, 'auto');
      // what transformers.js itself loads with dtype 'auto'
      const model = await AutoModelForSequenceClassification.from_pretrained(dir, { dtype: 'auto' });
      const loaded = (model.sessions.model as unknown as { config: { dtype: string } }).config.dtype;
      await model.dispose();
      expect(picked.transformersJs?.dtype, JSON.stringify(c)).toBe(loaded);
      // and what none asked picks
      expect(picked, JSON.stringify(c)).toEqual(locateRunModel(dir));
    }
    expect(() => locateRunModel(folder({ dtype: 'q4' }), 'auto')).toThrow(
      /--dtype auto \(config\.json's transformers\.js_config dtype q4\) is onnx\/model_q4\.onnx, which the folder lacks \(it has onnx\/model\.onnx \(--dtype fp32\), onnx\/model_quantized\.onnx \(--dtype q8\)\); pick one with --dtype$/,
    );
    const plain = writeModelFolder(join(root, 'plain-auto'), tinyBert());
    expect(() => locateRunModel(plain, 'auto')).toThrow(/--dtype auto: picks a model file of a transformers\.js folder/);
  }, 30_000);

  it('refuses a dtype whose file the folder lacks, an unknown one, or one asked of a model that is no transformers.js folder', () => {
    const dir = folder({ dtype: 'q4' });
    expect(() => locateRunModel(dir)).toThrow(
      /config\.json's transformers\.js_config dtype q4 is onnx\/model_q4\.onnx, which the folder lacks \(it has onnx\/model\.onnx \(--dtype fp32\), onnx\/model_quantized\.onnx \(--dtype q8\)\); pick one with --dtype$/,
    );
    expect(() => locateRunModel(dir, 'int8')).toThrow(/--dtype int8 is onnx\/model_int8\.onnx, which the folder lacks/);
    expect(() => locateRunModel(dir, 'q7')).toThrow(/^--dtype 'q7': expected one of fp32, fp16, .*, auto \(the dtypes of transformers\.js\)$/);
    // in the words of every choice, the value as a shell takes it, where it showed it bare ('--dtype q 8: not a
    // transformers.js dtype (…)', a value that pastes as two words)
    expect(() => locateRunModel(dir, 'q 8')).toThrow(/^--dtype 'q 8': expected one of fp32, /);
    expect(() => locateRunModel(dir, "it's", '--baseline-dtype')).toThrow(/^--baseline-dtype 'it'\\''s': expected one of fp32, /);
    // names of Object.prototype are no dtypes either, from the flag or from config.json
    expect(() => locateRunModel(dir, 'constructor')).toThrow(/^--dtype 'constructor': expected one of /);
    expect(locateRunModel(folder({ dtype: 'toString' })).transformersJs).toEqual({ dtype: 'fp32', from: 'default' });
    const plain = writeModelFolder(join(root, 'plain'), tinyBert());
    expect(locateRunModel(plain)).toEqual({ onnx: join(plain, 'model.onnx'), dir: plain });
    expect(() => locateRunModel(plain, 'q8')).toThrow(/--dtype q8: picks a model file of a transformers\.js folder/);
  });
});

describe('eval and bench on a transformers.js folder', () => {
  let stderr: string[];
  beforeEach(() => {
    stderr = [];
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr.push(String(chunk));
      return true;
    });
  });
  afterEach(() => vi.restoreAllMocks());

  it('evaluate runs the file of the dtype config.json names, the CLI names it, and --dtype picks the float one', async () => {
    const dir = folder({ dtype: 'q8' });
    const glueDir = join(root, 'glue');
    writeGlueTask(glueDir, 'SST-2', 24);
    const opts = { model: dir, tasks: ['SST-2'], glueDir, threads: 1 };
    const q8 = await evaluate(opts);
    expect(q8.model).toBe(join(dir, 'onnx', 'model_quantized.onnx'));
    expect(q8.transformersJs).toEqual({ dtype: 'q8', from: 'config.json' });
    expect((await evaluate({ ...opts, dtype: 'auto' })).model).toBe(join(dir, 'onnx', 'model_quantized.onnx'));
    const fp32 = await evaluate({ ...opts, dtype: 'fp32' });
    expect(fp32.model).toBe(join(dir, 'onnx', 'model.onnx'));
    // the two files are different models: their predictions differ
    expect(Array.from(q8.tasks[0]!.predictions)).not.toEqual(Array.from(fp32.tasks[0]!.predictions));

    const args = {
      _: ['eval'],
      $0: 'compress',
      model: dir,
      tasks: ['SST-2'],
      'glue-dir': glueDir,
      split: 'dev',
      'include-wnli': true,
      json: false,
      threads: 1,
    };
    await evalCommand.run(args as unknown as Parameters<typeof evalCommand.run>[0] & EvalArgs);
    expect(stderr.join('')).toContain(`evaluated ${join(dir, 'onnx', 'model_quantized.onnx')} (dtype q8, config.json's transformers.js_config)\n`);
  });

  it("bench times the file of the config's dtype, and --dtype / --baseline-dtype pick others", async () => {
    const dir = folder({ dtype: 'q8' });
    const common = { batches: [1], seqs: [8], repeats: 1, warmup: 0, threads: 1, timingLock: { file: join(root, 'bench.lock') } };
    const r = await benchModels({ ...common, model: dir, baseline: dir, baselineDtype: 'fp32' });
    expect(r.model).toBe(join(dir, 'onnx', 'model_quantized.onnx'));
    expect(r.modelDtype).toEqual({ dtype: 'q8', from: 'config.json' });
    expect(r.baseline).toBe(join(dir, 'onnx', 'model.onnx'));
    expect(r.baselineDtype).toEqual({ dtype: 'fp32', from: 'flag' });
    const auto = await benchModels({ ...common, model: dir, dtype: 'auto', baseline: dir, baselineDtype: 'auto' });
    expect([auto.model, auto.baseline]).toEqual([join(dir, 'onnx', 'model_quantized.onnx'), join(dir, 'onnx', 'model_quantized.onnx')]);
    await expect(benchModels({ ...common, model: dir, baselineDtype: 'fp32' })).rejects.toThrow(/^baselineDtype: no baseline given/);
  });
});
