/**
 * A sweep file's eval.exactInt8: its int8 points scored as CPUs with AVX-512 VNNI / AVX-VNNI score them, on any CPU
 * (compress eval --exact-int8). It changes the keys of the points whose scores it can change alone (a quantize step
 * storing full-range int8 products, an input model holding them), so that a store's float points stay; false is the
 * default. A sweep whose int8 points saturated says so in its closing lines (SweepSummary int8Saturated).
 */
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findBert } from '../../src/bert/discover.ts';
import { int8SaturatedLine } from '../../src/cli/commands/sweep.ts';
import { loadModel, saveModel } from '../../src/onnx/index.ts';
import { parseQuantizeSettings, quantizeModel } from '../../src/quantize/index.ts';
import { planSweepFile, runSweep } from '../../src/sweep/run.ts';
import { INT8_SATURATES } from '../helpers/run-model.ts';
import { writeTinySweep, type TinySweep } from './tiny-sweep.ts';

let t: TinySweep;
beforeAll(async () => {
  t = writeTinySweep({ rows: 16, pipelines: ['baseline'] });
  // models/tiny-int8: tiny-sst2 stored in int8 (its baseline point scores int8 products)
  const folder = join(t.root, 'models', 'tiny-int8');
  cpSync(join(t.root, 'models', 'tiny-sst2'), folder, { recursive: true });
  const model = loadModel(join(folder, 'model.onnx'));
  saveModel((await quantizeModel(model, findBert(model), parseQuantizeSettings({ mode: 'int8' }))).model, join(folder, 'model.onnx'));
});
afterAll(() => t?.cleanup());

/** A sweep file of both models' baselines, tiny-sst2's int8, 7-bit int8 and FFN points, with `evalLine`. */
function sweepFile(name: string, evalLine: string): string {
  const file = join(t.root, `${name}.yaml`);
  writeFileSync(
    file,
    `name: ${name}
glueDir: glue
models:
  - {path: models/tiny-sst2, tasks: [SST-2]}
  - {path: models/tiny-int8, tasks: [SST-2]}
calibration: false
pipelines:
  - baseline
  - {name: int8, models: [tiny-sst2], steps: [{pass: quantize, settings: {mode: int8}}]}
  - {name: int8-rr, models: [tiny-sst2], steps: [{pass: quantize, settings: {mode: int8, reduceRange: true}}]}
  - {name: ffn, models: [tiny-sst2], steps: [{pass: prune-ffn, settings: {ratio: 0.5}}]}
bench: {batch: [1], seq: [8], repeats: 1, warmup: 0, threads: 1}
${evalLine}
keepModels: false
`,
  );
  return file;
}

/** Each planned point's key, by 'model · label'. */
async function keys(name: string, evalLine: string): Promise<Record<string, string>> {
  const { points } = await planSweepFile({ file: sweepFile(name, evalLine), store: join(t.root, `${name}.sqlite`) });
  return Object.fromEntries(points.map((p) => [`${p.model.name} · ${p.label}`, p.key]));
}

describe('eval.exactInt8 in a sweep file', () => {
  it('changes the keys of the points whose scores it can change alone; false keys as none', async () => {
    const none = await keys('none', 'eval: {threads: 1}');
    expect(await keys('off', 'eval: {threads: 1, exactInt8: false}')).toEqual(none);
    const exact = await keys('exact', 'eval: {threads: 1, exactInt8: true}');
    const changed = Object.keys(none).filter((k) => exact[k] !== none[k]);
    expect(changed.sort()).toEqual(['tiny-int8 · baseline', 'tiny-sst2 · int8']);
  });

  it('is refused in one line naming it where it is not true or false', async () => {
    await expect(planSweepFile({ file: sweepFile('bad', 'eval: {exactInt8: yes}'), store: join(t.root, 'bad.sqlite') })).rejects.toThrow(
      /eval\.exactInt8: expected true or false, got string "yes"$/,
    );
  });

  it('scores the int8 points with it, and a run without it names the points whose products saturated (a CPU without VNNI)', async () => {
    const plain = await runSweep({ file: sweepFile('run-plain', 'eval: {threads: 1}'), store: join(t.root, 'run-plain.sqlite') });
    expect(plain.failed).toEqual([]);
    const names = (plain.int8Saturated ?? []).map((p) => `${p.model.name} · ${p.label}`).sort();
    expect(names).toEqual(INT8_SATURATES ? ['tiny-int8 · baseline', 'tiny-sst2 · int8'] : []);
    if (INT8_SATURATES)
      expect(int8SaturatedLine(plain.int8Saturated!)).toBe(
        "warning: 2 points (tiny-int8 · baseline, tiny-sst2 · int8) were scored on a CPU without AVX-512 VNNI / AVX-VNNI, whose int8 kernels add products in saturating 16-bit pairs: their scores can differ from a VNNI CPU's; eval: {exactInt8: true} in the sweep file scores int8 points as VNNI CPUs do, on any CPU (slower; those points get new keys)",
      );
    const exact = await runSweep({ file: sweepFile('run-exact', 'eval: {threads: 1, exactInt8: true}'), store: join(t.root, 'run-exact.sqlite') });
    expect(exact.failed).toEqual([]);
    expect(exact.int8Saturated ?? []).toEqual([]);
  }, 300_000);
});
