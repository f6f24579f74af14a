/**
 * `compress MODEL [passes] -o OUT` as a library call: load, check where the output goes (destination.ts), run the
 * pipeline, check that onnxruntime runs the result, then write the model and its lineage sidecar (`OUT.json`)
 * atomically, holding the output folder's lock (withOutputLock) while they and config.json are put in place.
 */
import { inlineLocalFunctions } from '../onnx/inline.ts';
import { existsSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { loadModel } from '../onnx/load.ts';
import { locateModel } from '../onnx/locate.ts';
import { ownDataFile, saveModel, type SaveOptions, type SavedFiles } from '../onnx/save.ts';
import { removeStaleTemporariesIn, sha256File, writeFileAtomic } from '../files.ts';
import type { ModelSize } from '../onnx/size.ts';
import type { CalibrationProvenance, PassContext, PassReport, PassStep } from '../pass/pass.ts';
import { checkModelSteps, parseSteps, runModelPipeline, type SharedPrefix } from '../pass/pipeline.ts';
import { toolVersion } from '../version.ts';
import { MODEL_SIDE_FILES, copyModelFiles, readJsonObject, readModelFiles } from '../eval/model-files.ts';
import { outputModelConfig } from '../eval/output-config.ts';
import { compareRuns, requireFiniteInput, requireFiniteOutput, runSample, type RunCheck } from './check.ts';
import {
  checkNotInTransformersJsFolder,
  checkOutputPaths,
  checkSideFiles,
  inputFiles,
  lineagePath,
  OUTPUT_LOCK,
  openStaging,
  realPathOf,
  removeSideFiles,
  type Staging,
} from './destination.ts';
import { fileSystemError, lineageSourcePath } from '../destination.ts';
import { withFileLock } from '../file-lock.ts';
import { namingUserPaths, valueText } from '../errors.ts';
import { removingFoldersMadeOnFailure } from '../folders.ts';
import { sampleInputs } from '../bert/sample-inputs.ts';
import { discovered } from '../bert/model-inputs.ts';
import type { IdInput } from '../runtime/feeds.ts';
import type { BertStructure } from '../bert/structure.ts';
import type { Model } from '../onnx/graph.ts';
import { checkOptions, checkStringOption } from '../library-args.ts';

/** The shape of the sample batch onnxruntime runs every output on before it is written (check.ts). */
export const CHECK_SAMPLE = { batch: 2, seq: 16 } as const;

/** The JSON sidecar written beside every output model. */
export interface Lineage {
  tool: { name: 'bert-compress'; version: string };
  createdAt: string;
  input: { path: string; sha256: string; lineage?: Lineage };
  passes: Array<{ step: PassStep; report: PassReport }>;
  /** The train examples the passes measured the model on (`--calibrate`), when they did. */
  calibration?: CalibrationProvenance;
  before: ModelSize;
  after: ModelSize;
  check: RunCheck;
  output: { path: string; sha256: string; dataFile?: string };
  /** The config.json beside the output, when there is one (see ConfigRecord). */
  config?: ConfigRecord;
}

/**
 * The config.json beside an output: written for it from the input's (its shape fields read from the graph,
 * src/eval/output-config.ts), with what it cannot say (`graphOnly`); or, when the output is written into the input's
 * own folder, the input's, whose fields that do not describe the output are listed in `stale`; or, when another
 * model in the output's folder had it written for itself (`of`), that model's, kept unless `force`.
 */
export interface ConfigRecord {
  path: string;
  /** true: written for this output; false: the input's own or `of`'s (the output shares their folder). */
  written: boolean;
  graphOnly: string[];
  /** The kept file's fields that do not describe the output (`name: its value → output's`), when not written. */
  stale?: string[];
  /** The model file beside the output that the kept config.json was written for (by compress, train or distill). */
  of?: string;
}

export interface CompressOptions {
  input: string;
  output: string;
  steps: PassStep[];
  context?: PassContext;
  /** Store weights in `OUT.data` (default: only when over protobuf's 2 GB limit). */
  externalData?: boolean;
  /** The external data file's name beside OUT when the weights go external (default `OUT.data`). */
  dataFile?: string;
  /** Initializer bytes past which the weights go external without externalData (default EXTERNAL_DATA_AUTO_THRESHOLD). */
  externalDataThreshold?: number;
  /**
   * Write the input folder's config.json next to the output with the output's shape (planOutputConfig), and copy its
   * tokenizer files there when the output folder has none, so the output is a model folder `compress eval` (and
   * transformers) can use as it is (default true).
   */
  copyModelFiles?: boolean;
  /**
   * Write over another model's config.json and tokenizer files in the output's folder (refused otherwise, before any
   * work: see checkSideFiles): they are removed once the output is written, and the input's written in their place.
   */
  force?: boolean;
  /** What this run shares with another compressFile of the same input (see SharedInput). */
  shared?: SharedInput;
  /**
   * The folder of the input's config.json and tokenizer (default: the .onnx file's folder, or for a file in an
   * `onnx/` folder without them, the folder above it when that has them, as locateModel reads a transformers.js or
   * Optimum folder).
   */
  modelDir?: string;
  /** The input already loaded (loadInput(input)), so it is not read again (the passes never change it). */
  loaded?: LoadedModel;
}

/**
 * What compressFile runs of one input share (compressToTransformersJs' float and quantized models), filled by the
 * first: the result of the steps before the first quantize (`prefix`, see SharedPrefix), and the input's side of the
 * check (`input`: the sample inputs, the input model's outputs on them, and its lineage record), where each run opened
 * the input in onnxruntime and hashed it again.
 */
export interface SharedInput {
  prefix?: SharedPrefix;
  input?: InputCheck;
}

/** The input's side of compressFile's check: the sample inputs, its outputs on them, and its lineage record. */
export interface InputCheck {
  inputs: IdInput[];
  outputs: Record<string, Float32Array>;
  record: Lineage['input'];
}

/** A loaded input model and the external data files it read. */
export interface LoadedModel {
  model: Model;
  externalFiles: readonly string[];
}

/** Loads an input model, noting its external data files (which an output may not overwrite). */
export function loadInput(path: string): LoadedModel {
  const externalFiles: string[] = [];
  // (its local functions inlined, as the passes read it: see inlineLocalFunctions)
  const model = inlineLocalFunctions(loadModel(path, { onExternalFile: (f) => externalFiles.push(f) }));
  return { model, externalFiles };
}

/** What compressFile wrote: the lineage (also in `OUT.json`) and the side files it copied beside OUT. */
export type CompressResult = Lineage & { copiedFiles: string[] };

/** Copies the model-folder side files from `fromDir` to `toDir` where `toDir` lacks them; returns the names copied. */
export function copyModelSideFiles(fromDir: string, toDir: string): string[] {
  return copyModelFiles(fromDir, toDir, MODEL_SIDE_FILES, { onlyMissing: true });
}

/**
 * The config.json an output in `outDir` gets from the input folder `modelDir` (undefined when the input has none):
 * the input's config with its shape fields read from `model`, written unless `outDir` is `modelDir` (the input's
 * own file stays; its fields that do not describe the output are listed).
 */
export function planOutputConfig(
  modelDir: string,
  outDir: string,
  model: Model,
  opts: { output?: string; force?: boolean } = {},
): { record: ConfigRecord; json?: Record<string, unknown> } | undefined {
  const file = join(modelDir, 'config.json');
  if (!existsSync(file)) return undefined;
  const source = readJsonObject(file);
  const { config, graphOnly } = outputModelConfig(source, model);
  const differences = (kept: Record<string, unknown>) =>
    [...new Set([...Object.keys(config), ...Object.keys(kept)])]
      .filter((k) => !isDeepStrictEqual(config[k], kept[k]))
      .map((k) => `${k}: ${valueText(kept[k])} → ${valueText(config[k])}`);
  if (realPathOf(modelDir) !== realPathOf(outDir)) {
    const target = join(outDir, 'config.json');
    // another model in the folder (an earlier output of the same input, of another shape) that config.json describes
    const of = !opts.force && opts.output && existsSync(target) ? configOwner(outDir, basename(opts.output)) : undefined;
    const stale = of ? differences(readJsonObject(target)) : [];
    if (of && stale.length) return { record: { path: target, written: false, graphOnly, stale, of } };
    return { record: { path: target, written: true, graphOnly }, json: config };
  }
  const stale = differences(source);
  return { record: { path: file, written: false, graphOnly, ...(stale.length ? { stale } : {}) } };
}

/**
 * The model file in `dir`, other than `own` (a file name), that the folder's config.json was last written for, by the
 * lineage sidecars (`X.onnx.json`) of the models still there: compress's `config.written`, train's and distill's
 * `sideFiles.config`; undefined when that is `own` (an earlier run of the same output). Where no sidecar says so, a
 * model there without one (a model folder's own model.onnx, copied or exported there: its config.json is that
 * model's), else a model of its `onnx/` (a transformers.js or Optimum folder, whose config.json lies above onnx/), or
 * undefined when there is none.
 */
function configOwner(dir: string, own: string): string | undefined {
  let latest: { model: string; at: string } | undefined;
  const names = readdirSync(dir);
  for (const name of names) {
    if (!name.endsWith('.onnx.json')) continue;
    const model = name.slice(0, -'.json'.length);
    if (!existsSync(join(dir, model))) continue;
    let lineage: { createdAt?: unknown; config?: { written?: unknown }; sideFiles?: { config?: unknown } };
    try {
      lineage = JSON.parse(readFileSync(join(dir, name), 'utf8'));
    } catch {
      continue;
    }
    const wrote = lineage?.config?.written === true || lineage?.sideFiles?.config === 'config.json';
    if (!wrote || typeof lineage.createdAt !== 'string') continue;
    if (!latest || lineage.createdAt > latest.at) latest = { model, at: lineage.createdAt };
  }
  if (latest) return latest.model !== own ? latest.model : undefined;
  const beside = names.filter((n) => n.endsWith('.onnx') && n !== own && !names.includes(`${n}.json`)).sort()[0];
  if (beside !== undefined) return beside;
  // (a transformers.js or Optimum folder: config.json describes the models of its onnx/, which has none of its own)
  const sub = join(dir, 'onnx');
  if (!names.includes('onnx') || MODEL_SIDE_FILES.some((f) => existsSync(join(sub, f)))) return undefined;
  let held: string[];
  try {
    held = readdirSync(sub).filter((n) => n.endsWith('.onnx'));
  } catch {
    return undefined; // (not a folder)
  }
  return held.length ? `onnx/${held.sort()[0]}` : undefined;
}

/** The lineage's record of an input model: its path (lineageSourcePath), its sha256 and its own lineage when it has a sidecar. */
export async function inputRecord(path: string): Promise<Lineage['input']> {
  const parent = lineagePath(path);
  return {
    path: lineageSourcePath(path),
    sha256: await sha256File(path),
    ...(existsSync(parent) ? { lineage: JSON.parse(readFileSync(parent, 'utf8')) as Lineage } : {}),
  };
}

/** Saves `model` into the staging folder under the output's name (its external data file beside it there). */
function stage(model: Model, output: string, staging: Staging, externalData: boolean, opts: Pick<SaveOptions, 'dataFile' | 'autoThreshold'> = {}): SavedFiles {
  return saveModel(model, staging.path(basename(output)), { externalData: externalData ? true : 'auto', ...opts });
}

/** Where the staged files go: the output and its data file. */
function finalFiles(staged: SavedFiles, output: string): SavedFiles {
  return { ...staged, model: output, ...(staged.data ? { data: join(dirname(output), basename(staged.data)) } : {}) };
}

/**
 * Renames the staged data file, the model and (when staged) its lineage into place, the model after its data, so
 * the output never refers to missing data, and after removing the lineage of the model it replaces. Checked by
 * onnxruntime before: a failed check leaves nothing at the output.
 */
function commit(staged: SavedFiles, output: string): SavedFiles {
  const final = finalFiles(staged, output);
  const replaced = ownDataFile(output); // the data file of the model this one replaces
  try {
    if (staged.data && final.data) renameSync(staged.data, final.data);
    // the replaced model's lineage first: killed between the renames, the new model stands without one, never beside
    // a lineage that describes the old
    rmSync(lineagePath(output), { force: true });
    renameSync(staged.model, output);
    if (replaced && replaced !== final.data) rmSync(replaced, { force: true });
    if (existsSync(lineagePath(staged.model))) renameSync(lineagePath(staged.model), lineagePath(output));
  } catch (e) {
    throw fileSystemError(e, output, `-o ${output}`) ?? e;
  }
  return final;
}

export { OUTPUT_LOCK };

/**
 * compressFile's and compressToTransformersJs's options, checked for JavaScript callers: a SettingsError naming `fn`
 * and the option that is missing or not a path.
 */
export function checkCompressOptions(fn: string, opts: CompressOptions, output = 'the .onnx file to write'): void {
  checkOptions(fn, opts, '{input, output, steps, …}');
  checkStringOption(fn, 'input', opts.input, 'the .onnx file to compress');
  checkStringOption(fn, 'output', opts.output, output);
}

/**
 * Runs `fn` (the renames and writes that put an output's files in place) holding the output folder's lock
 * (file-lock.ts), so that two runs writing the same output, or into one folder, put their model, lineage and
 * config.json in place one after the other: the folder ends with one run's files, never a mix. Work before it
 * (passes, the onnxruntime check) runs side by side.
 */
export function withOutputLock<T>(output: string, log: ((line: string) => void) | undefined, fn: () => T): Promise<T> {
  const folder = dirname(resolve(output));
  return withFileLock(
    join(folder, OUTPUT_LOCK),
    (owner) => log?.(`-o ${output}: waiting for process ${owner}, which is writing its output into ${folder}`),
    async () => fn(),
  );
}

export async function compressFile(opts: CompressOptions): Promise<CompressResult> {
  checkCompressOptions('compressFile', opts);
  parseSteps(opts.steps); // an unknown pass or a bad setting refuses before any folder is made
  const { model, externalFiles } = opts.loaded ?? loadInput(opts.input);
  checkModelSteps(model, opts.steps); // (a recurrent model: the passes and settings it cannot take)
  // (a pass refusing at run time: the output's folder, made by checkOutputPaths, removed again while empty)
  return removingFoldersMadeOnFailure([dirname(opts.output)], () => compressInto(opts, model, externalFiles));
}

/** compressFile's work once its options and input are read: the output checked, the pipeline run and committed. */
async function compressInto(opts: CompressOptions, model: Model, externalFiles: readonly string[]): Promise<CompressResult> {
  checkOutputPaths(opts.output, inputFiles(opts.input, externalFiles));
  const modelDir = opts.modelDir ?? locateModel(opts.input).dir;
  const label = `-o ${opts.output}`;
  if (opts.copyModelFiles !== false) checkNotInTransformersJsFolder(opts.output, label);
  const foreign = opts.copyModelFiles !== false ? checkSideFiles(resolve(modelDir), dirname(resolve(opts.output)), label, opts.force) : [];
  if (opts.copyModelFiles !== false) readModelFiles(modelDir, MODEL_SIDE_FILES); // copied at the end: one it cannot read refuses the run now
  const staging = openStaging(opts.output);
  try {
    const result = await runModelPipeline(model, opts.steps, opts.context, opts.shared?.prefix);
    const original = await inputCheck(opts, model, result.inputStructure);
    const staged = stage(result.model, opts.output, staging, !!opts.externalData, {
      ...(opts.dataFile ? { dataFile: opts.dataFile } : {}),
      ...(opts.externalDataThreshold !== undefined ? { autoThreshold: opts.externalDataThreshold } : {}),
    });
    const outputs = await runSample(staged.model, original.inputs, opts.output, opts.context?.threads);
    requireFiniteOutput(outputs, original.inputs, label);
    const check = compareRuns(original.outputs, outputs, original.inputs);
    const final = finalFiles(staged, opts.output);
    const config =
      opts.copyModelFiles !== false ? planOutputConfig(modelDir, dirname(opts.output), result.model, { output: opts.output, force: opts.force }) : undefined;
    const lineage: Lineage = {
      tool: { name: 'bert-compress', version: toolVersion() },
      createdAt: new Date().toISOString(),
      input: original.record,
      passes: result.steps.map((step, i) => ({ step, report: result.reports[i]! })),
      ...(opts.context?.calibration?.provenance ? { calibration: opts.context.calibration.provenance } : {}),
      before: result.before,
      after: result.after,
      check,
      output: { path: opts.output, sha256: await sha256File(staged.model), ...(final.data ? { dataFile: final.data } : {}) },
      ...(config ? { config: config.record } : {}),
    };
    writeFileAtomic(lineagePath(staged.model), JSON.stringify(lineage, null, 2) + '\n');
    const copiedFiles = await withOutputLock(opts.output, opts.context?.log, () => {
      commit(staged, opts.output);
      removeSideFiles(dirname(opts.output), foreign, label);
      if (config?.json) writeFileAtomic(config.record.path, JSON.stringify(config.json, null, 2) + '\n');
      const copied = opts.copyModelFiles !== false ? copyModelSideFiles(modelDir, dirname(opts.output)) : [];
      // what a run killed while writing config.json or a tokenizer file left beside them (the model's own is written in
      // the staging folder, which openStaging's removeStaleStaging clears)
      removeStaleTemporariesIn(dirname(opts.output), MODEL_SIDE_FILES);
      return copied;
    });
    return { ...lineage, copiedFiles };
  } catch (e) {
    throw namingUserPaths(e, stagedPaths(staging, opts.output));
  } finally {
    staging.remove();
  }
}

/** The input's side of the check (InputCheck): made here, or the one another run of the input made (opts.shared), once. */
async function inputCheck(opts: CompressOptions, model: Model, structure: BertStructure | undefined): Promise<InputCheck> {
  if (opts.shared?.input) return opts.shared.input;
  const made = await checkInput(opts.input, model, structure, opts.context?.threads);
  if (opts.shared) opts.shared.input = made;
  return made;
}

/**
 * The input's side of compressFile's check for the model file `input` (`model`, loaded: loadInput), of `structure`
 * (default: discovery's, none for a graph it does not read: a Distilled BiLSTM's): its outputs on the check's sample
 * inputs and its lineage record. Refuses in one line a model computing NaN or Infinity there (requireFiniteInput).
 * A caller that checks the input before compressFile runs (a sweep point, before its first stage) hands the result
 * to it as `shared.input`. The sample runs at `threads` (PassContext.threads).
 */
export async function checkInput(input: string, model: Model, structure: BertStructure | undefined = discovered(model), threads?: number): Promise<InputCheck> {
  return { ...(await checkInputRuns(input, model, structure, threads)), record: await inputRecord(input) };
}

/**
 * checkInput without the lineage record (the file's sha256, read whole): what a caller that writes no lineage of the
 * input needs (a sweep point that trains or only evaluates it first).
 */
export async function checkInputRuns(
  input: string,
  model: Model,
  structure: BertStructure | undefined = discovered(model),
  threads?: number,
): Promise<Omit<InputCheck, 'record'>> {
  const inputs = sampleInputs(model, structure, CHECK_SAMPLE);
  const outputs = await runSample(input, inputs, input, threads);
  requireFiniteInput(outputs, inputs, input);
  return { inputs, outputs };
}

/** The staged output (and its data file, named from it) → the output the user gave: what an error names instead. */
export function stagedPaths(staging: Staging, output: string): Array<[string, string]> {
  return [
    [staging.path(basename(output)), output],
    [staging.dir, dirname(output)],
  ];
}

/**
 * Saves a model that was not rewritten (an export) after checking onnxruntime runs it; `sources` are the files it
 * was built from, which the output may not overwrite.
 */
export async function saveRunnable(
  model: Model,
  structure: BertStructure,
  output: string,
  sources: readonly string[] = [],
  save: Pick<SaveOptions, 'dataFile' | 'autoThreshold'> = {},
): Promise<SavedFiles> {
  return removingFoldersMadeOnFailure([dirname(output)], async () => {
    checkOutputPaths(output, sources.map(realPathOf));
    const staging = openStaging(output);
    try {
      const staged = stage(model, output, staging, false, save);
      await runSample(staged.model, sampleInputs(model, structure, CHECK_SAMPLE), output);
      return await withOutputLock(output, undefined, () => commit(staged, output));
    } catch (e) {
      throw namingUserPaths(e, stagedPaths(staging, output));
    } finally {
      staging.remove();
    }
  });
}
