/**
 * `compress MODEL [passes] -o OUT` as a library call: load, run the pipeline, check that onnxruntime runs the
 * result, then write the model and its lineage sidecar (`OUT.json`) atomically.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, createReadStream } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { loadModel } from '../onnx/load.ts';
import { saveModel, writeFileAtomic, type SavedFiles } from '../onnx/save.ts';
import type { ModelSize } from '../onnx/size.ts';
import type { PassContext, PassReport, PassStep } from '../pass/pass.ts';
import { runPipeline } from '../pass/pipeline.ts';
import { toolVersion } from '../version.ts';
import { MODEL_SIDE_FILES, copyModelFiles } from '../eval/model-files.ts';
import { checkRuns, runSample, type RunCheck } from './check.ts';
import { sampleInputs } from '../bert/sample-inputs.ts';
import type { BertStructure } from '../bert/structure.ts';
import type { Model } from '../onnx/graph.ts';

/** The JSON sidecar written beside every output model. */
export interface Lineage {
  tool: { name: 'bert-compress'; version: string };
  createdAt: string;
  input: { path: string; sha256: string; lineage?: Lineage };
  passes: Array<{ step: PassStep; report: PassReport }>;
  before: ModelSize;
  after: ModelSize;
  check: RunCheck;
  output: { path: string; sha256: string; dataFile?: string };
}

export interface CompressOptions {
  input: string;
  output: string;
  steps: PassStep[];
  context?: PassContext;
  /** Store weights in `OUT.data` (default: only when over protobuf's 2 GB limit). */
  externalData?: boolean;
  /**
   * Copy the input folder's config.json and tokenizer files next to the output when the output folder has none,
   * so the output is a model folder `compress eval` can use as it is (default true).
   */
  copyModelFiles?: boolean;
}

/** Copies the model-folder side files from `fromDir` to `toDir` where `toDir` lacks them; returns the names copied. */
export function copyModelSideFiles(fromDir: string, toDir: string): string[] {
  return copyModelFiles(fromDir, toDir, MODEL_SIDE_FILES, { onlyMissing: true });
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export function lineagePath(modelPath: string): string {
  return `${modelPath}.json`;
}

/**
 * Saves `model` into a staging folder beside `output` under its final name, checks it there by path (onnxruntime
 * reads external data as it will at the final place), then renames the data file and the model into place. A
 * failed check leaves nothing at `output`.
 */
async function saveChecked(model: Model, output: string, externalData: boolean, check: (staged: string) => Promise<RunCheck>): Promise<{ saved: SavedFiles; check: RunCheck }> {
  mkdirSync(dirname(resolve(output)), { recursive: true });
  const stage = mkdtempSync(join(dirname(resolve(output)), '.compress-'));
  try {
    const staged = join(stage, basename(output));
    const saved = saveModel(model, staged, { externalData: externalData ? true : 'auto' });
    const result = await check(staged);
    let data: string | undefined;
    if (saved.data) {
      data = join(dirname(output), basename(saved.data));
      renameSync(saved.data, data);
    }
    renameSync(staged, output);
    return { saved: { ...saved, model: output, ...(data ? { data } : {}) }, check: result };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

export async function compressFile(opts: CompressOptions): Promise<Lineage> {
  const model = loadModel(opts.input);
  const result = await runPipeline(model, opts.steps, opts.context);
  const inputs = sampleInputs(model, result.inputStructure, { batch: 2, seq: 16 });
  const { saved, check } = await saveChecked(result.model, opts.output, !!opts.externalData, (staged) => checkRuns(opts.input, staged, inputs, opts.output));
  const parentPath = lineagePath(opts.input);
  const lineage: Lineage = {
    tool: { name: 'bert-compress', version: toolVersion() },
    createdAt: new Date().toISOString(),
    input: {
      path: opts.input,
      sha256: await sha256File(opts.input),
      ...(existsSync(parentPath) ? { lineage: JSON.parse(readFileSync(parentPath, 'utf8')) as Lineage } : {}),
    },
    passes: opts.steps.map((step, i) => ({ step, report: result.reports[i] })),
    before: result.before,
    after: result.after,
    check,
    output: { path: opts.output, sha256: await sha256File(opts.output), ...(saved.data ? { dataFile: saved.data } : {}) },
  };
  writeFileAtomic(lineagePath(opts.output), Buffer.from(JSON.stringify(lineage, null, 2) + '\n'));
  if (opts.copyModelFiles !== false) copyModelSideFiles(dirname(opts.input), dirname(opts.output));
  return lineage;
}

/** Saves a model that was not rewritten (an export) after checking onnxruntime runs it. */
export async function saveRunnable(model: Model, structure: BertStructure, output: string): Promise<SavedFiles> {
  const inputs = sampleInputs(model, structure, { batch: 2, seq: 16 });
  const { saved } = await saveChecked(model, output, false, async (staged) => {
    await runSample(staged, inputs, output);
    return { drift: [], batch: 2, seq: inputs[0].dims[1] };
  });
  return saved;
}
