/**
 * `compress train DIR` / `compress distill --teacher DIR` of a transformers.js folder read its float onnx/model.onnx,
 * whichever dtype config.json names, and say so, naming the file config.json's dtype picks, as compress does; a
 * setting refused is refused before that line, nothing on stdout.
 */
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { saveModel } from '../../src/onnx/save.ts';
import { writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { tinyBert } from '../helpers/models.ts';
import { runMain } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'bert-compress-train-folder-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('compress train of a transformers.js folder', () => {
  it("names the file it read (onnx/model.onnx) and the one config.json's dtype picks", async () => {
    const web = join(dir, 'web');
    writeModelFolder(web, tinyBert({}, { std: 0.3 }));
    mkdirSync(join(web, 'onnx'));
    renameSync(join(web, 'model.onnx'), join(web, 'onnx', 'model.onnx'));
    saveModel(tinyBert({ numLayers: 1 }), join(web, 'onnx', 'model_fp16.onnx'));
    const config = JSON.parse(readFileSync(join(web, 'config.json'), 'utf8'));
    writeFileSync(join(web, 'config.json'), JSON.stringify({ ...config, 'transformers.js_config': { dtype: 'fp16' } }));
    const glue = join(dir, 'glue');
    writeGlueTask(glue, 'SST-2', 8, ['train', 'dev']);
    const out = join(dir, 'out', 'model.onnx');
    // (a setting refused, as the usage mistake it is: one line on stderr, nothing read, nothing on stdout)
    for (const bad of [['--alpha', '1.5'], ['--embedding-lr', 'fast'], ['--feature-cache-mb=-1']]) {
      const refused = await runMain(['distill', '--teacher', web, '--student', 'bert:layers=1', '--task', 'SST-2', '--glue-dir', glue, '-o', out, ...bad]);
      expect([refused.code, refused.stdout], refused.stderr).toEqual([2, '']);
    }
    const run = await runMain(['train', web, '--task', 'SST-2', '--glue-dir', glue, '--epochs', '1', '--batch-size', '4', '-o', out]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe(
      `read ${join(web, 'onnx', 'model.onnx')} (dtype fp32, the folder's float model; config.json's transformers.js_config dtype fp16 is onnx/model_fp16.onnx, which eval, bench and transformers.js run)`,
    );
  }, 60_000);
});
