/**
 * compressFile and compressToTransformersJs as the package exports them: their refusals name the options a library
 * caller gives (`output`, `steps[0].settings.ratio`, `context.calibration`: src/pass/option-names.ts), where they named
 * the flags of `compress` (`-o`, `(flag --prune-heads)`, `--calibrate`), as evaluate's and runTraining's do
 * (src/flag-names.ts). `compress` runs those of ./compress.ts and ./transformers-js.ts.
 */
import { namingSettings } from '../flag-names.ts';
import { COMPRESS_NAMES, pipelineNaming } from '../pass/option-names.ts';
import { compressFile as compressFileNamingFlags, type CompressOptions, type CompressResult } from './compress.ts';
import {
  compressToTransformersJs as compressToTransformersJsNamingFlags,
  type CompressedTransformersJsFolder,
  type TransformersJsCompressOptions,
} from './transformers-js.ts';

/** The steps a caller gave, where it gave options holding them (a JavaScript caller's null is refused by the call). */
const stepsOf = (opts: unknown): readonly never[] => ((opts as { steps?: unknown } | null)?.steps ?? []) as never[];

/** Compresses a model file (see compressFile in ./compress.ts), its refusals naming the options given. */
export function compressFile(opts: CompressOptions): Promise<CompressResult> {
  return namingSettings(pipelineNaming(stepsOf(opts), COMPRESS_NAMES), () => compressFileNamingFlags(opts));
}

/** Writes a transformers.js folder (see compressToTransformersJs in ./transformers-js.ts), its refusals naming the options given. */
export function compressToTransformersJs(opts: TransformersJsCompressOptions): Promise<CompressedTransformersJsFolder> {
  return namingSettings(pipelineNaming(stepsOf(opts), COMPRESS_NAMES), () => compressToTransformersJsNamingFlags(opts));
}
