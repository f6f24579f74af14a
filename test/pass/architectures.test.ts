/**
 * A measuring pass (prune-heads importance ablation, quantize mixed: a loss on the class scores) on a model whose
 * config.json's architectures names another head (BertForMultipleChoice, whose graph looks like a one-label
 * classifier): refused before any pass runs, as eval, train and the export refuse the model, by the line the
 * calibration read from config.json; a pass that measures no loss runs, and a stale class beside a graph that shows a
 * sequence classifier by itself does not stop it.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCalibration } from '../../src/eval/calibration.ts';
import { compressFile } from '../../src/export/compress.ts';
import { SettingsError } from '../../src/errors.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { findBert } from '../../src/bert/index.ts';
import { loadModel } from '../../src/onnx/index.ts';
import { headScores } from '../../src/prune/index.ts';
import { parseQuantizeSettings, quantizeModel } from '../../src/quantize/index.ts';
import { writeGlueTask, writeHeadFolder } from '../helpers/model-folder.ts';

registerAllPasses();
const work = mkdtempSync(join(tmpdir(), 'bc-pass-architectures-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const glueDir = join(work, 'glue');
writeGlueTask(glueDir, 'STS-B', 8, ['train', 'dev']);

/** A one-label model folder (its scores output declared `scores`) whose config.json names `architectures`. */
function folder(name: string, architectures: string[], scores: Array<string | number>): string {
  return writeHeadFolder(join(work, name), architectures, scores);
}

/** compressFile of `dir`'s model.onnx through `steps`, calibrated on STS-B's train split (read from `dir`, as the CLI reads it). */
async function compress(dir: string, name: string, steps: Array<{ pass: string; settings: Record<string, unknown> }>) {
  const calibration = await loadCalibration({ model: dir, task: 'STS-B', examples: 8, glueDir });
  const output = join(work, `${name}-out`, 'model.onnx');
  return { output, run: compressFile({ input: join(dir, 'model.onnx'), output, steps, context: { calibration } }) };
}

describe('a measuring pass on a model whose config.json names another head', () => {
  const choice = folder('choice', ['BertForMultipleChoice'], ['batch', 'num_choices']);
  const line = `${join(choice, 'config.json')}: architectures names BertForMultipleChoice, a multiple-choice head (one score per choice), not a sequence classifier`;

  it('prune-heads importance ablation: refused in one line naming the class, nothing written', async () => {
    const { output, run } = await compress(choice, 'ablation', [{ pass: 'prune-heads', settings: { ratio: 0.5, importance: 'ablation' } }]);
    await expect(run).rejects.toThrow(SettingsError);
    await expect(run).rejects.toThrow(
      new RegExp(`^prune-heads: .* measures a loss on a sequence classifier's class scores, but ${line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}; `),
    );
    expect(existsSync(output)).toBe(false);
  });

  it('quantize mixed: refused in one line naming the class', async () => {
    const { run } = await compress(choice, 'mixed', [{ pass: 'quantize', settings: { mode: 'mixed:0.5' } }]);
    await expect(run).rejects.toThrow(`, but ${line}; `);
  });

  it('a pass that measures no loss runs; a stale class beside a graph that shows a sequence classifier does not stop ablation', async () => {
    const magnitude = await compress(choice, 'magnitude', [{ pass: 'prune-heads', settings: { ratio: 0.5, importance: 'magnitude' } }]);
    await magnitude.run;
    expect(existsSync(magnitude.output)).toBe(true);
    const stale = folder('stale', ['BertForMaskedLM'], ['batch', 1]);
    const ablation = await compress(stale, 'stale', [{ pass: 'prune-heads', settings: { ratio: 0.5, importance: 'ablation' } }]);
    await ablation.run;
    expect(existsSync(ablation.output)).toBe(true);
  });
});

describe('the library entry points, outside runPipeline, given the calibration read from the folder', () => {
  const choice = folder('library-choice', ['BertForMultipleChoice'], ['batch', 'num_choices']);
  const line = `${join(choice, 'config.json')}: architectures names BertForMultipleChoice, a multiple-choice head (one score per choice), not a sequence classifier`;
  const read = async () => {
    const model = loadModel(join(choice, 'model.onnx'));
    return { model, s: findBert(model), calibration: await loadCalibration({ model: choice, task: 'STS-B', examples: 8, glueDir }) };
  };

  it('quantizeModel mixed refuses it in one line naming the class', async () => {
    const { model, s, calibration } = await read();
    const run = quantizeModel(model, s, parseQuantizeSettings({ mode: 'mixed:0.5' }), { calibration });
    await expect(run).rejects.toThrow(SettingsError);
    await expect(run).rejects.toThrow(/^quantize: mode 'mixed:0.5' measures a loss /);
    await expect(run).rejects.toThrow(`, but ${line}; `);
  });

  it.each(['ablation', 'gradient'] as const)('headScores %s refuses it in one line naming the class', async (importance) => {
    const { model, s, calibration } = await read();
    const run = headScores(importance, model, s, { calibration });
    await expect(run).rejects.toThrow(SettingsError);
    await expect(run).rejects.toThrow(new RegExp(`^prune-heads: .*, but ${line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}; [^\\n]*$`));
  });
});
