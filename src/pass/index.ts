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
import { PASS_CONTEXT_KINDS, pipelineNaming } from './option-names.ts';
import { checkOptionKinds, type OptionKinds } from '../library-args.ts';

export type { PipelineResult, SharedPrefix };

/**
 * Runs `steps` on `model` (see runPipeline in ./pipeline.ts, which `compress` runs through compressFile): its refusals
 * name the steps and context given (`prune-heads: ratio 2: expected a number in [0, 1) (steps[0].settings.ratio)`,
 * `needs calibration data (context.calibration)`), not the flags of `compress` (`(flag --prune-heads)`, `--calibrate`).
 */
export function runPipeline(model: Model, steps: readonly PassStep[], context: PassContext = {}, prefix?: SharedPrefix): Promise<PipelineResult> {
  return namingSettings(pipelineNaming(steps), async () => {
    checkOptionKinds('runPipeline', { context, prefix }, PIPELINE_ARGUMENT_KINDS);
    return runPipelineNamingFlags(model, steps, context, prefix);
  });
}

/**
 * runPipeline's `context` and `prefix` by their kinds (checkOptionKinds), before any work: a JavaScript caller's
 * context.seed 'x' or threads -1 were taken (no pass checks them), a misspelt option read as nothing, a context null
 * failed with a TypeError; a prefix without its length shared no step, silently.
 */
const PIPELINE_ARGUMENT_KINDS = {
  context: { options: PASS_CONTEXT_KINDS },
  prefix: {
    is: (v: unknown) => typeof v === 'object' && v !== null && Number.isSafeInteger((v as SharedPrefix).length) && (v as SharedPrefix).length >= 0,
    expected: 'a SharedPrefix ({length}: how many first steps the runs share, an integer 0 or greater)',
  },
} as const satisfies OptionKinds;

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
