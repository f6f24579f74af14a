/**
 * Running one point: a model given as one .onnx file of several in a folder is evaluated and benchmarked as that
 * file, the baseline included (not as its folder, which names no one model).
 */
import { copyFileSync, mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, saveModel } from '../../src/onnx/index.ts';
import { planSweep } from '../../src/sweep/plan.ts';
import { runPoint } from '../../src/sweep/point.ts';
import { parseSweep } from '../../src/sweep/spec.ts';
import { writeTinySweep, type TinySweep } from './tiny-sweep.ts';

let t: TinySweep;
beforeAll(() => {
  t = writeTinySweep({ rows: 8 });
});
afterAll(() => t?.cleanup());

describe('runPoint', () => {
  it('evaluates a model given as one of several .onnx files in a folder, baseline included', async () => {
    const several = join(t.root, 'models', 'several');
    mkdirSync(several);
    for (const f of readdirSync(join(t.root, 'models', 'tiny-sst2'))) copyFileSync(join(t.root, 'models', 'tiny-sst2', f), join(several, f));
    renameSync(join(several, 'model.onnx'), join(several, 'x.onnx'));
    copyFileSync(join(several, 'x.onnx'), join(several, 'y.onnx'));
    const doc = {
      models: [{ path: 'models/several/x.onnx', tasks: ['SST-2'] }],
      pipelines: ['baseline', { name: 'ffn-50', steps: [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }] }],
      bench: { batch: [1], seq: [8], repeats: 1, warmup: 0, threads: 1 },
      calibration: false,
    };
    const points = await planSweep(parseSweep(doc, t.sweepFile, 'several.yaml'), { glueDir: t.glueDir, workDir: join(t.root, 'work') });
    expect(points.map((p) => p.label)).toEqual(['baseline', 'ffn-50']);
    for (const point of points) {
      const result = await runPoint(point, { threads: 1 });
      expect(result.eval.model).toBe(point.steps.length === 0 ? join(several, 'x.onnx') : join(point.outputDir!, 'model.onnx'));
    }
  });

  it('compresses a model laid out as DIR/onnx/model.onnx (Optimum, transformers.js) with the config.json and tokenizer of DIR, calibration included', async () => {
    const layout = join(t.root, 'models', 'onnx-layout');
    mkdirSync(join(layout, 'onnx'), { recursive: true });
    for (const f of readdirSync(join(t.root, 'models', 'tiny-sst2')))
      copyFileSync(join(t.root, 'models', 'tiny-sst2', f), f === 'model.onnx' ? join(layout, 'onnx', f) : join(layout, f));
    const doc = {
      models: [{ path: 'models/onnx-layout', tasks: ['SST-2'] }],
      pipelines: [
        'baseline',
        { name: 'fp16', steps: [{ pass: 'quantize', settings: { mode: 'float16' } }] },
        { name: 'ablation', steps: [{ pass: 'prune-heads', settings: { ratio: 0.5, importance: 'ablation' } }] },
      ],
      bench: { batch: [1], seq: [8], repeats: 1, warmup: 0, threads: 1 },
      calibration: { task: 'SST-2', examples: 4 },
    };
    const points = await planSweep(parseSweep(doc, t.sweepFile, 'onnx-layout.yaml'), { glueDir: t.glueDir, workDir: join(t.root, 'work-onnx-layout') });
    expect(points.map((p) => p.label)).toEqual(['baseline', 'fp16', 'ablation']);
    for (const point of points) {
      const result = await runPoint(point, { threads: 1 });
      expect(Object.keys(result.eval.tasks)).toEqual(['SST-2']);
      if (point.steps.length) expect(readdirSync(point.outputDir!)).toEqual(expect.arrayContaining(['config.json', 'vocab.txt']));
    }
  });

  it("a pass refusing the calibration's labels names the sweep file's calibration.task, where it named compress's --calibrate", async () => {
    const doc = {
      models: [{ path: 'models/tiny-sst2', tasks: ['SST-2'] }],
      pipelines: [{ name: 'gradient', steps: [{ pass: 'prune-heads', settings: { ratio: 0.5, importance: 'gradient' } }] }],
      bench: { batch: [1], seq: [8], repeats: 1, warmup: 0, threads: 1 },
      calibration: { task: 'SST-2', examples: 4 },
    };
    const points = await planSweep(parseSweep(doc, t.sweepFile, 'labels.yaml'), { glueDir: t.glueDir, workDir: join(t.root, 'work-labels') });
    const point = points.find((p) => p.label === 'gradient')!;
    // (an SST-2 classifier measured against STS-B's regression labels: the point as a queued plan of older code, or
    // one whose labels only its run reads, gives it to a worker)
    const stsb = { ...point, calibration: { ...point.calibration!, task: 'STS-B' } };
    await expect(runPoint(stsb, { threads: 1 })).rejects.toThrow(
      "prune-heads: gradient importance against the labels needs calibration.task STS-B's labels: STS-B is scored by regression and the model gives 2 scores",
    );
  });

  it("counts a baseline model's external data in its file bytes (the .onnx alone holds no weights)", async () => {
    const external = join(t.root, 'models', 'external');
    mkdirSync(external);
    for (const f of readdirSync(join(t.root, 'models', 'tiny-sst2')))
      if (f !== 'model.onnx') copyFileSync(join(t.root, 'models', 'tiny-sst2', f), join(external, f));
    const onnx = join(external, 'model.onnx');
    saveModel(loadModel(join(t.root, 'models', 'tiny-sst2', 'model.onnx')), onnx, { externalData: true });
    const doc = {
      models: [{ path: 'models/external', tasks: ['SST-2'] }],
      pipelines: ['baseline'],
      bench: { batch: [1], seq: [8], repeats: 1, warmup: 0, threads: 1 },
      calibration: false,
    };
    const [point] = await planSweep(parseSweep(doc, t.sweepFile, 'external.yaml'), { glueDir: t.glueDir, workDir: join(t.root, 'work-external') });
    const data = readdirSync(external).filter((f) => f.startsWith('model.onnx') && f !== 'model.onnx');
    expect(data).toHaveLength(1);
    const want = statSync(onnx).size + statSync(join(external, data[0]!)).size;
    expect((await runPoint(point!, { threads: 1 })).fileBytes).toBe(want);
  });

  it("times the baseline as its variants are timed beside it (onnxruntime threads not spin-waiting), so the report's p50s compare", async () => {
    const doc = {
      models: [{ path: 'models/tiny-sst2', tasks: ['SST-2'] }],
      pipelines: ['baseline', { name: 'ffn-50', steps: [{ pass: 'prune-ffn', settings: { ratio: 0.5 } }] }],
      bench: { batch: [1], seq: [8], repeats: 1, warmup: 0, threads: 2 },
      calibration: false,
    };
    const points = await planSweep(parseSweep(doc, t.sweepFile, 'spin.yaml'), { glueDir: t.glueDir, workDir: join(t.root, 'work-spin') });
    const spinning = [];
    for (const point of points) spinning.push((await runPoint(point, { threads: 1 })).bench.spinning);
    expect(spinning).toEqual([false, false]);
  });

  it("benchmarks within the sweep's bench.maxTime, as compress bench --max-time does", async () => {
    const doc = {
      models: [{ path: 'models/tiny-sst2', tasks: ['SST-2'] }],
      pipelines: ['baseline'],
      bench: { batch: [1], seq: [8], repeats: 2, warmup: 0, threads: 1, maxTime: 30 },
      calibration: false,
    };
    const [point] = await planSweep(parseSweep(doc, t.sweepFile, 'budget.yaml'), { glueDir: t.glueDir, workDir: join(t.root, 'work-budget') });
    expect((await runPoint(point!, { threads: 1 })).bench.maxSeconds).toBe(30);
  });
});
