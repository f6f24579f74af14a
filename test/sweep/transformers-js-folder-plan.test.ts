/**
 * A sweep's `models[].path` of a transformers.js folder: its points read the folder's float onnx/model.onnx (as
 * compress does), whichever dtype config.json names for eval, bench and transformers.js; the plan says so in a line
 * naming both files, where it read the float file without a word while `compress eval DIR` runs the dtype's file.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { saveModel } from '../../src/onnx/save.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { planSweep } from '../../src/sweep/plan.ts';
import { parseSweep } from '../../src/sweep/spec.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';

registerAllPasses();
const root = mkdtempSync(join(tmpdir(), 'tjs-folder-plan-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("a sweep's model that is a transformers.js folder", () => {
  it("reads onnx/model.onnx and says so, naming the file config.json's dtype picks", async () => {
    const web = join(root, 'models', 'web');
    writeModelFolder(web, tinyBert());
    mkdirSync(join(web, 'onnx'));
    renameSync(join(web, 'model.onnx'), join(web, 'onnx', 'model.onnx'));
    saveModel(tinyBert({ numLayers: 1 }), join(web, 'onnx', 'model_quantized.onnx'));
    writeFileSync(
      join(web, 'config.json'),
      JSON.stringify({ model_type: 'bert', num_labels: 2, id2label: { 0: 'negative', 1: 'positive' }, 'transformers.js_config': { dtype: 'q8' } }),
    );
    writeGlueTask(join(root, 'glue'), 'SST-2', 8, ['train', 'dev']);
    const spec = parseSweep(
      {
        name: 'w',
        models: [{ path: 'models/web', tasks: ['SST-2'] }],
        calibration: false,
        pipelines: [{ name: 'p', steps: [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }] }],
      },
      join(root, 'w.yaml'),
      'w.yaml',
    );
    const lines: string[] = [];
    const points = await planSweep(spec, { glueDir: join(root, 'glue'), workDir: join(root, 'work'), log: (l) => lines.push(l) });
    expect(points.map((p) => p.model.onnx)).toEqual(points.map(() => join(web, 'onnx', 'model.onnx')));
    expect(lines).toContain(
      `${web}: its points read ${join(web, 'onnx', 'model.onnx')} (dtype fp32, the folder's float model; config.json's transformers.js_config dtype q8 is onnx/model_quantized.onnx, which eval, bench and transformers.js run); give another file's path to sweep that one`,
    );
  });
});
