/**
 * The passes as a library: every compression pass, the registry, and the pipeline that runs them in order. Importing
 * this entry point (or the package's root, which re-exports from it) registers the built-in passes, so `runPipeline`
 * and `compressFile` run them by name with no call to `registerAllPasses` first.
 */
import { registerAllPasses } from '../passes.ts';

export { ALL_PASSES, registerAllPasses } from '../passes.ts';
import { parseSteps as parseStepsNamingFlags, runPipeline as runPipelineNamingFlags, type PipelineResult, type SharedPrefix } from './pipeline.ts';
import type { ParsedStep, PassContext, PassStep } from './pass.ts';
import type { Model } from '../onnx/graph.ts';
import { namingSettings } from '../flag-names.ts';
import { pipelineNaming } from './option-names.ts';

export type { PipelineResult, SharedPrefix };

/**
 * Runs `steps` on `model` (see runPipeline in ./pipeline.ts, which `compress` runs through compressFile): its refusals
 * name the steps and context given (`prune-heads: ratio 2: expected a number in [0, 1) (steps[0].settings.ratio)`,
 * `needs calibration data (context.calibration)`), not the flags of `compress` (`(flag --prune-heads)`, `--calibrate`).
 */
export function runPipeline(model: Model, steps: readonly PassStep[], context: PassContext = {}, prefix?: SharedPrefix): Promise<PipelineResult> {
  return namingSettings(pipelineNaming(steps), () => runPipelineNamingFlags(model, steps, context, prefix));
}

/** Parses every step's settings (see parseSteps in ./pipeline.ts), its refusals naming the steps given, as runPipeline's. */
export function parseSteps(steps: readonly PassStep[]): Array<{ step: ParsedStep; options: unknown }> {
  return namingSettings(pipelineNaming(steps), () => parseStepsNamingFlags(steps));
}
export { registerPass, getPass, passNames } from './registry.ts';
export type {
  CalibrationBatch,
  CalibrationProvenance,
  CalibrationSource,
  ParsedStep,
  Pass,
  PassContext,
  PassReport,
  PassResult,
  PassShape,
  PassStep,
} from './pass.ts';
export { declarePass, settingError, type PassDeclaration, type PassFlag, type PassFlags, type PassSettings, type SettingsSchema } from './settings.ts';
export { describePass, formatPasses, type FlagDescription, type PassDescription, type SettingDescription } from './describe.ts';
export { PASS_DECLARATIONS } from '../pass-declarations.ts';

registerAllPasses();
