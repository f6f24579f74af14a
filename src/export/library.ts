/**
 * compressFile, compressToTransformersJs, exportHuggingFaceFolder and exportToTransformersJs as the package exports
 * them: their options are checked by their kinds first, and their refusals name the options a library caller gives
 * (`output`, `steps[0].settings.ratio`, `context.calibration`: src/pass/option-names.ts; `force`, `tokenizerDir`),
 * where they named the flags of `compress` (`-o`, `(flag --prune-heads)`, `--calibrate`, `--force`), as evaluate's and
 * runTraining's do (src/flag-names.ts). `compress` runs those of ./compress.ts, ./from-huggingface.ts and ./transformers-js.ts.
 */
import { statSync } from 'node:fs';
import { namingSettings, type FlagNames } from '../flag-names.ts';
import { locateModel } from '../onnx/locate.ts';
import { checkOptionKinds, checkOptions, SEED_OPTION, type OptionKind, type OptionKinds } from '../library-args.ts';
import { LOCAL_MODEL } from '../hub/ref.ts';
import { exportHuggingFaceFolder as exportHuggingFaceFolderNamingFlags, type ExportOptions, type ExportResult } from './from-huggingface.ts';
import { COMPRESS_NAMES, PASS_CONTEXT_KINDS, pipelineNaming } from '../pass/option-names.ts';
import { compressFile as compressFileNamingFlags, type CompressOptions, type CompressResult } from './compress.ts';
import {
  compressToTransformersJs as compressToTransformersJsNamingFlags,
  exportToTransformersJs as exportToTransformersJsNamingFlags,
  type CompressedTransformersJsFolder,
  type TransformersJsCompressOptions,
  type TransformersJsExportOptions,
  type TransformersJsFolder,
} from './transformers-js.ts';

/** The steps a caller gave, where it gave options holding them (a JavaScript caller's null is refused by the call). */
const stepsOf = (opts: unknown): readonly never[] => ((opts as { steps?: unknown } | null)?.steps ?? []) as never[];

/** compressFile's options by their kinds (checkOptionKinds), before any work; input, output and steps read by compressFile. */
const COMPRESS_OPTION_KINDS = {
  input: LOCAL_MODEL,
  output: 'checked',
  steps: 'checked',
  context: { options: PASS_CONTEXT_KINDS },
  externalData: 'boolean',
  dataFile: 'string',
  externalDataThreshold: 'checked',
  copyModelFiles: 'boolean',
  force: 'boolean',
  shared: 'checked',
  modelDir: 'string',
  loaded: 'checked',
} as const satisfies Record<keyof CompressOptions, OptionKind>;

/** `opts` as an options object (its options `fields` in words), each option of its kind in `kinds`, as the other entry points check theirs. */
function checkKinds(fn: string, opts: unknown, kinds: OptionKinds, fields = '{input, output, steps, …}'): void {
  checkOptionKinds(fn, checkOptions(fn, opts, fields), kinds);
}

/** Whether `path` is a folder (false where stat refuses it: missing, '', a NUL in it). */
function isFolder(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
  } catch {
    return false;
  }
}

/**
 * `opts` with an `input` that is a model folder read as its .onnx file (locateModel: model.onnx, onnx/model.onnx, its
 * one .onnx file), as `compress MODEL`, evaluate's `model` and runTraining's `student` take a folder, where it was
 * refused as 'X: is a folder, not an ONNX file'; a file, or a path that is neither, as given.
 */
function inputFolderRead<T extends { input: string; loaded?: unknown }>(opts: T): T {
  // (an input of another kind, none, or one stat refuses: compressFile's own check refuses it)
  if (opts.loaded !== undefined || typeof opts.input !== 'string' || !isFolder(opts.input)) return opts;
  return { ...opts, input: locateModel(opts.input).onnx };
}

/** Compresses a model file or folder (see compressFile in ./compress.ts), its refusals naming the options given. */
export function compressFile(opts: CompressOptions): Promise<CompressResult> {
  return namingSettings(pipelineNaming(stepsOf(opts), COMPRESS_NAMES), async () => {
    checkKinds('compressFile', opts, COMPRESS_OPTION_KINDS);
    return compressFileNamingFlags(inputFolderRead(opts));
  });
}

/** Writes a transformers.js folder (see compressToTransformersJs in ./transformers-js.ts), its refusals naming the options given. */
export function compressToTransformersJs(opts: TransformersJsCompressOptions): Promise<CompressedTransformersJsFolder> {
  return namingSettings(pipelineNaming(stepsOf(opts), COMPRESS_NAMES), async () => {
    checkKinds('compressToTransformersJs', opts, { ...COMPRESS_OPTION_KINDS, tokenizerDir: 'checked' } satisfies Record<
      keyof TransformersJsCompressOptions,
      OptionKind
    >);
    return compressToTransformersJsNamingFlags(inputFolderRead(opts));
  });
}

/**
 * exportHuggingFaceFolder's options by their kinds, before any work: a JavaScript caller's seedMissing 'x' or 2.5
 * seeded the missing parameters with it, force 'no' wrote over another model's files, log 'x' failed with a TypeError
 * once the export was written, a misspelt option was read as nothing.
 */
const EXPORT_OPTION_KINDS = {
  seedMissing: SEED_OPTION,
  log: 'function',
  label: 'string',
  force: 'boolean',
} as const satisfies Record<keyof ExportOptions, OptionKind>;

/**
 * exportHuggingFaceFolder's arguments and options by the flags of `compress export` its refusals name (renameFlags),
 * where a library caller was told of -o and --force ('-o X: … write into an empty folder or pass --force').
 */
const EXPORT_NAMES: FlagNames = {
  '-o': 'output',
  '--force': 'force',
  '--seed-missing': 'seedMissing',
  '--format onnx': 'exportHuggingFaceFolder',
};

/** exportToTransformersJs' by the flags of `compress export --format transformers.js` (its tokenizer's --tokenizer). */
const TRANSFORMERS_JS_EXPORT_NAMES: FlagNames = { ...EXPORT_NAMES, '--tokenizer': 'tokenizerDir', '--format transformers.js': 'exportToTransformersJs' };

/**
 * Exports a Hugging Face checkpoint folder to ONNX (see exportHuggingFaceFolder in ./from-huggingface.ts, which
 * `compress export` runs), its options checked by their kinds first, its refusals naming the arguments and options given.
 */
export function exportHuggingFaceFolder(dir: string, output: string, opts: ExportOptions = {}): Promise<ExportResult> {
  return namingSettings(EXPORT_NAMES, async () => {
    checkKinds('exportHuggingFaceFolder', opts, EXPORT_OPTION_KINDS, '{seedMissing, log, label, force}');
    return exportHuggingFaceFolderNamingFlags(dir, output, opts);
  });
}

/**
 * Exports a Hugging Face checkpoint folder to a transformers.js folder (see exportToTransformersJs in
 * ./transformers-js.ts), its options checked by their kinds first, its refusals naming the arguments and options given.
 */
export function exportToTransformersJs(hfDir: string, output: string, opts: TransformersJsExportOptions = {}): Promise<TransformersJsFolder> {
  return namingSettings(TRANSFORMERS_JS_EXPORT_NAMES, async () => {
    checkKinds(
      'exportToTransformersJs',
      opts,
      { ...EXPORT_OPTION_KINDS, tokenizerDir: 'checked' } satisfies Record<keyof TransformersJsExportOptions, OptionKind>,
      '{seedMissing, log, label, force, tokenizerDir}',
    );
    return exportToTransformersJsNamingFlags(hfDir, output, opts);
  });
}
