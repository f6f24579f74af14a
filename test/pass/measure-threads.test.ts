/**
 * The passes that measure the model (gradient, ablation and confidence head importance, against the model's own
 * predictions too; quantize mixed's layer sensitivity; int8-static's activation ranges) and compress's check of its
 * input and output open their onnxruntime sessions at PassContext.threads (compress --threads, a sweep point's share
 * of the cores), where they opened them at one thread per physical core whatever the run's threads were (a sweep's
 * compress steps under --jobs, or a worker's --concurrency, then took every core). The gradient builder's probe runs at
 * 1 thread. Each pass's report in the lineage records the count it measured at (PassReport.threads), as a training
 * run's settings.threads, where it measured.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { compressFile } from '../../src/export/compress.ts';
import type { PassStep } from '../../src/pass/pass.ts';
import { registerAllPasses } from '../../src/passes.ts';
import { defaultThreads } from '../../src/runtime/threads.ts';
import { planSweep } from '../../src/sweep/plan.ts';
import { runPoint } from '../../src/sweep/point.ts';
import { parseSweep } from '../../src/sweep/spec.ts';
import { syntheticCalibration } from '../helpers/calibration.ts';
import { writeTinyBert } from '../helpers/models.ts';
import { otherThreads, sessionThreads } from '../helpers/session-threads.ts';
import { writeTinySweep } from '../sweep/tiny-sweep.ts';

registerAllPasses();
const tiny = writeTinyBert({ numLayers: 2 }, { std: 0.2 });
const sweep = writeTinySweep({ rows: 8 });
afterAll(() => {
  tiny.cleanup();
  sweep.cleanup();
});
afterEach(() => {
  vi.restoreAllMocks();
});

const THREADS = otherThreads();

describe('compressFile with context.threads N', () => {
  it.each([
    ['prune-heads gradient', { pass: 'prune-heads', settings: { ratio: 0.25, importance: 'gradient', steps: 1 } }],
    ['prune-heads ablation against the predictions', { pass: 'prune-heads', settings: { ratio: 0.25, importance: 'ablation', steps: 1 } }],
    ['prune-heads confidence', { pass: 'prune-heads', settings: { ratio: 0.25, importance: 'confidence', steps: 1 } }],
    ['quantize mixed', { pass: 'quantize', settings: { mode: 'mixed:0.5' } }],
    ['quantize int8-static', { pass: 'quantize', settings: { mode: 'int8-static' } }],
  ])('%s opens every session at N threads (the probe at 1)', async (name, step) => {
    const calibration = syntheticCalibration([4, 3], 64, { classes: 2 });
    const output = join(tiny.dir, name.replace(/ /g, '-'), 'model.onnx');
    const { counts } = await sessionThreads(() => compressFile({ input: tiny.path, output, steps: [step], context: { calibration, threads: THREADS } }));
    // (the input's and output's check, and the pass's own measuring)
    expect(counts.filter((c) => c === THREADS).length).toBeGreaterThan(2);
    expect(counts.filter((c) => c !== THREADS && c !== 1)).toEqual([]);
  });
});

describe("a sweep point's compress step", () => {
  it("opens its model check's, its passes' and its output check's sessions at the runner's threads", async () => {
    const doc = {
      models: [{ path: 'models/tiny-sst2', tasks: ['SST-2'] }],
      pipelines: [{ name: 'gradient', steps: [{ pass: 'prune-heads', settings: { ratio: 0.25, importance: 'gradient', steps: 1 } }] }],
      bench: { batch: [1], seq: [8], repeats: 1, warmup: 0, threads: 1 },
      calibration: { task: 'SST-2', examples: 4 },
    };
    const points = await planSweep(parseSweep(doc, sweep.sweepFile, 'threads.yaml'), { glueDir: sweep.glueDir, workDir: join(sweep.root, 'work') });
    const point = points.find((p) => p.label === 'gradient')!;
    const { counts } = await sessionThreads(() => runPoint(point, { threads: THREADS }));
    expect(counts.filter((c) => c === THREADS).length).toBeGreaterThan(3);
    // (its benchmarks at bench.threads 1, the gradient probe at 1)
    expect(counts.filter((c) => c !== THREADS && c !== 1)).toEqual([]);
  });
});

describe("compress's lineage (OUT.json)", () => {
  const calibration = () => syntheticCalibration([4, 3], 64, { classes: 2 });
  const threadsOf = async (name: string, steps: PassStep[], threads?: number) => {
    const output = join(tiny.dir, `lineage-${name}`, 'model.onnx');
    const lineage = await compressFile({
      input: tiny.path,
      output,
      steps,
      context: { calibration: calibration(), ...(threads !== undefined ? { threads } : {}) },
    });
    const written = JSON.parse(readFileSync(`${output}.json`, 'utf8')) as { passes: Array<{ report: { threads?: number } }> };
    expect(written.passes.map((p) => p.report.threads)).toEqual(lineage.passes.map((p) => p.report.threads));
    return lineage.passes.map((p) => p.report.threads ?? null);
  };
  const gradient = { pass: 'prune-heads', settings: { ratio: 0.25, importance: 'gradient', steps: 1 } };
  const magnitude = { pass: 'prune-heads', settings: { ratio: 0.25 } };

  it('records the threads a pass measured the model at in its report, the count that was where none or 0 is given', async () => {
    expect(await threadsOf('gradient', [gradient], THREADS)).toEqual([THREADS]);
    expect(await threadsOf('ablation', [{ pass: 'prune-heads', settings: { ratio: 0.25, importance: 'ablation', steps: 1 } }], THREADS)).toEqual([THREADS]);
    expect(await threadsOf('gradient-default', [gradient])).toEqual([defaultThreads()]);
    expect(await threadsOf('gradient-0', [gradient], 0)).toEqual([defaultThreads()]);
  });

  it('records none for a pass that measured nothing (magnitude, dynamic quantization), and each measuring step its own', async () => {
    expect(await threadsOf('magnitude-dynamic', [magnitude, { pass: 'quantize', settings: { mode: 'int8' } }], THREADS)).toEqual([null, null]);
    expect(await threadsOf('magnitude-static', [magnitude, { pass: 'quantize', settings: { mode: 'int8-static' } }], THREADS)).toEqual([null, THREADS]);
  });
});
