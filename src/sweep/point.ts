/**
 * Running one sweep point: compress the model with the point's pipeline (into its own folder; `compressFile` copies
 * config.json and the tokenizer files beside it, so it is a complete model folder), evaluate it on the point's GLUE
 * tasks, and benchmark it against the model's baseline. The baseline point evaluates and benchmarks the input model.
 */
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { benchModels, type BenchResult } from '../bench/index.ts';
import { loadCalibration } from '../eval/calibration.ts';
import { evaluate } from '../eval/evaluate.ts';
import { toReport, type EvalReport } from '../eval/report.ts';
import { compressFile } from '../export/compress.ts';
import { loadModel } from '../onnx/load.ts';
import { modelSize } from '../onnx/size.ts';
import { registerAllPasses } from '../passes.ts';
import type { SweepPoint } from './plan.ts';

/** What a finished point measured. */
export interface PointResult {
  /** Weight elements and bytes of all initializers (see onnx/size.ts). */
  params: number;
  bytes: number;
  /** Bytes of the .onnx file (and its external data) on disk. */
  fileBytes: number;
  eval: EvalReport;
  /** GLUE score over the point's tasks, as a fraction; null when none was scored. */
  glue: number | null;
  bench: BenchResult;
  /** Speed-up over the baseline (geometric mean over shapes); 1 for the baseline itself. */
  speedup: number;
  /** Median latency at the first bench shape, in ms. */
  latencyMs: number;
  /** One line per pass. */
  passes: Array<{ pass: string; summary: string }>;
  seconds: { compress: number; eval: number; bench: number; total: number };
  /** The compressed model's path (null for the baseline, or when the model was not kept). */
  output: string | null;
}

export interface RunPointOptions {
  /** onnxruntime threads for eval and bench when the sweep file does not set them (0: one per core). */
  threads: number;
  log?: (line: string) => void;
}

function diskBytes(onnx: string, dataFile?: string): number {
  return statSync(onnx).size + (dataFile && existsSync(dataFile) ? statSync(dataFile).size : 0);
}

const since = (t: number): number => (performance.now() - t) / 1000;

/** Runs one point: see the module comment. */
export async function runPoint(point: SweepPoint, opts: RunPointOptions): Promise<PointResult> {
  registerAllPasses();
  const t0 = performance.now();
  const log = opts.log ?? (() => {});
  let modelDir = point.model.dir;
  let modelFile = point.model.onnx;
  let size: { params: number; bytes: number };
  let dataFile: string | undefined;
  let passes: PointResult['passes'] = [];
  if (point.outputDir !== null) {
    mkdirSync(point.outputDir, { recursive: true });
    modelDir = point.outputDir;
    modelFile = join(point.outputDir, 'model.onnx');
    const calibration = point.calibration
      ? await loadCalibration({ model: point.model.dir, task: point.calibration.task, examples: point.calibration.examples, glueDir: point.glueDir, maxLength: point.eval.maxLength })
      : undefined;
    const lineage = await compressFile({ input: point.model.onnx, output: modelFile, steps: point.steps, context: { calibration, seed: point.seed, log } });
    size = lineage.after;
    dataFile = lineage.output.dataFile;
    passes = lineage.passes.map((p) => ({ pass: p.report.pass, summary: p.report.summary }));
  } else {
    size = modelSize(loadModel(modelFile));
  }
  const compressSeconds = since(t0);

  const t1 = performance.now();
  const threads = point.eval.threads ?? opts.threads;
  const evaluation = await evaluate({ model: modelDir, tasks: point.tasks, glueDir: point.glueDir, batchSize: point.eval.batchSize, maxLength: point.eval.maxLength, threads });
  const evalSeconds = since(t1);

  const t2 = performance.now();
  const bench = await benchModels({
    model: modelFile,
    baseline: point.outputDir !== null ? point.model.onnx : undefined,
    batches: point.bench.batch,
    seqs: point.bench.seq,
    repeats: point.bench.repeats,
    warmup: point.bench.warmup,
    threads: point.bench.threads || opts.threads,
  });
  const benchSeconds = since(t2);

  const fileBytes = diskBytes(modelFile, dataFile);
  const keep = point.outputDir !== null && point.keepModel;
  if (point.outputDir !== null && !point.keepModel) {
    rmSync(modelFile, { force: true });
    if (dataFile) rmSync(dataFile, { force: true });
  }
  return {
    params: size.params,
    bytes: size.bytes,
    fileBytes,
    eval: toReport(evaluation),
    glue: evaluation.glue.score,
    bench,
    speedup: bench.speedup ?? 1,
    latencyMs: bench.shapes[0]!.model.p50Ms,
    passes,
    seconds: { compress: compressSeconds, eval: evalSeconds, bench: benchSeconds, total: since(t0) },
    output: keep ? modelFile : null,
  };
}
