/**
 * The passes as a library: every compression pass, the registry, and the pipeline that runs them in order. Importing
 * this entry point (or the package's root, which re-exports from it) registers the built-in passes, so `runPipeline`
 * and `compressFile` run them by name with no call to `registerAllPasses` first.
 */
import { registerAllPasses } from '../passes.ts';

export { ALL_PASSES, registerAllPasses } from '../passes.ts';
export { runPipeline, parseSteps, type PipelineResult, type SharedPrefix } from './pipeline.ts';
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
