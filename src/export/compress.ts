/**
 * `compress MODEL [passes] -o OUT` as a library call: load, run the pipeline, check that onnxruntime runs the
 * result, then write the model and its lineage sidecar (`OUT.json`) atomically.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, createReadStream } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { loadModel } from '../onnx/load.ts';
import { saveModel, writeFileAtomic } from '../onnx/save.ts';
import type { ModelSize } from '../onnx/size.ts';
import type { PassContext, PassReport, PassStep } from '../pass/pass.ts';
import { runPipeline } from '../pass/pipeline.ts';
import { checkRuns, type RunCheck } from './check.ts';

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

/** The files of a Hugging Face model folder that describe labels and tokenization. */
export const MODEL_SIDE_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt'];

/** Copies the model-folder side files from `fromDir` to `toDir` where `toDir` lacks them; returns the names copied. */
export function copyModelSideFiles(fromDir: string, toDir: string): string[] {
  if (resolve(fromDir) === resolve(toDir)) return [];
  const copied: string[] = [];
  for (const f of MODEL_SIDE_FILES) {
    if (existsSync(join(fromDir, f)) && !existsSync(join(toDir, f))) {
      copyFileSync(join(fromDir, f), join(toDir, f));
      copied.push(f);
    }
  }
  return copied;
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export function lineagePath(modelPath: string): string {
  return `${modelPath}.json`;
}

const VERSION = (() => {
  try {
    return JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version as string;
  } catch {
    return 'unknown';
  }
})();

export async function compressFile(opts: CompressOptions): Promise<Lineage> {
  const model = loadModel(opts.input);
  const result = await runPipeline(model, opts.steps, opts.context);
  const check = await checkRuns(model, result.model, result.inputStructure, opts.output);
  const saved = saveModel(result.model, opts.output, { externalData: opts.externalData ? true : 'auto' });
  const parentPath = lineagePath(opts.input);
  const lineage: Lineage = {
    tool: { name: 'bert-compress', version: VERSION },
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
