/**
 * The words of a library caller's pipeline for the flags the passes' refusals name (src/flag-names.ts): a pass's
 * settings are refused naming the `compress` flag that fills them (`prune-heads: ratio 2: expected a number in [0, 1)
 * (flag --prune-heads)`), which the CLI keeps; runPipeline, parseSteps, compressFile and compressToTransformersJs as the
 * package exports them name the step the caller gave (`(steps[0].settings.ratio)`), by the step that refused: the
 * pipeline tells which (stepRefusal), by the caller's own step object, so that a run of some of the steps (a
 * transformers.js folder's float model, without its quantize steps) names the caller's index.
 */
import type { UserError } from '../errors.ts';
import type { FlagNames } from '../flag-names.ts';
import { SEED_OPTION, type OptionKind } from '../library-args.ts';
import { THREADS_OPTION } from '../runtime/threads.ts';
import type { PassContext, PassStep } from './pass.ts';
import { flagNote, flagsFilling, type PassFlag } from './settings.ts';
import { getPass, passNames } from './registry.ts';

/** The step (the caller's object) whose check or run threw each error. */
const refusedBy = new WeakMap<object, PassStep>();

/** `e`, noted as thrown by `step` (the caller's step object; the first step that threw it keeps it). */
export function stepRefusal<E>(step: PassStep, e: E): E {
  if (typeof e === 'object' && e !== null && !refusedBy.has(e)) refusedBy.set(e, step);
  return e;
}

/** The step (the caller's object) whose check or run threw `e`, where a pipeline noted it (stepRefusal). */
export function refusingStep(e: unknown): PassStep | undefined {
  return typeof e === 'object' && e !== null ? refusedBy.get(e) : undefined;
}

/** The options of runPipeline's context the passes' refusals name by flag. */
const CONTEXT_NAMES: FlagNames = {
  '--calibrate TASK': 'context.calibration',
  '--calibrate': 'context.calibration',
  '--threads': 'context.threads',
  // (the calibration's length: loadCalibration's option, which made context.calibration)
  '--max-length': "loadCalibration's maxLength",
};

/**
 * The kinds of a pipeline's context (PassContext) as checkOptionKinds reads them: runPipeline's `context`, compressFile's
 * and compressToTransformersJs' `context`, which no pass checked (a seed 'x' or threads 'x' were taken).
 */
export const PASS_CONTEXT_KINDS = {
  calibration: 'checked',
  log: 'function',
  warn: 'function',
  seed: SEED_OPTION,
  threads: THREADS_OPTION,
  measuredAt: 'function',
} as const satisfies Record<keyof PassContext, OptionKind>;

/** compressFile's and compressToTransformersJs' options their refusals name by flag. */
const COMPRESS_NAMES: FlagNames = {
  '-o': 'output',
  '--force': 'force',
  '--external-data': 'externalData',
  '--tokenizer': 'tokenizerDir',
  '--format transformers.js': 'compressToTransformersJs',
  '--format onnx': 'compressFile',
};

/** 'a' or 'an' before a pass's name. */
const article = (name: string) => (/^[aeio]/.test(name) ? 'an' : 'a');

/** The flags of a pass: those that add it, and those that set one more of its settings. */
function passFlags(name: string): { adds: readonly PassFlag[]; modifiers: readonly PassFlag[] } {
  return getPass(name).flags;
}

/**
 * The setting flag `f` fills in a step given `settings`: its alternative where the step gives that and not the flag's
 * own setting; both ('ratio or heads') where it gives both or neither (a refusal of the two together).
 */
function filledSetting(f: PassFlag, settings: Record<string, unknown>): string {
  if (!f.alternative) return f.setting;
  const own = Object.hasOwn(settings, f.setting);
  const other = Object.hasOwn(settings, f.alternative.setting);
  return own === other ? `${f.setting} or ${f.alternative.setting}` : other ? f.alternative.setting : f.setting;
}

/** How a caller's words name a pipeline's settings and its context (pipelineOptionNames). */
export interface PipelineWords {
  /** The caller's other options, by the flags a refusal names (compressFile's `-o`: 'output'). */
  more?: FlagNames;
  /** The settings of step `index` (default `steps[index].settings`; a sweep's: `step 2's settings`). */
  settingsOf?: (index: number) => string;
  /** The context's options, by flag (default runPipeline's: `--calibrate`: 'context.calibration'). */
  context?: FlagNames;
}

/**
 * The names of the flags a refusal of a pipeline of `steps` gives (PipelineWords: the caller's words), where
 * `refused` (one of `steps`) threw it: its pass's flags and their frames (`flag --prune-heads`) as its settings
 * (`steps[0].settings.ratio`); the flags that set another step's settings as that step's (the first of that pass);
 * a flag that adds a pass, said of another step or of none, as a step of that pass (`--optimize`: 'an optimize step',
 * `--quantize int8`: "a quantize step of mode 'int8'"), a setting of a pass no step runs as such a step's; and the
 * context's (`--calibrate`: 'context.calibration'), with `more` (the caller's other options).
 */
export function pipelineOptionNames(steps: readonly PassStep[], refused: PassStep | undefined, o: PipelineWords = {}): Record<string, string> {
  const settingsOf = o.settingsOf ?? ((i: number) => `steps[${i}].settings`);
  const names: Record<string, string> = { ...(o.context ?? CONTEXT_NAMES), ...o.more };
  const known = new Set(passNames());
  for (const name of known) {
    const { adds, modifiers } = passFlags(name);
    for (const f of adds) names[`--${f.flag}`] = `${article(name)} ${name} step`;
    for (const f of modifiers) names[`--${f.flag}`] = `${article(name)} ${name} step's settings.${f.setting}`;
  }
  // (the words the passes' advice gives with a flag that adds a pass)
  if (known.has('quantize')) {
    names['--quantize int8'] = "a quantize step of mode 'int8'";
    names['--quantize writes'] = 'quantize step writes';
  }
  if (known.has('optimize')) names['--optimize all'] = "an optimize step of rewrites 'all'";
  const given = (s: PassStep) => (typeof s.settings === 'object' && s.settings !== null ? s.settings : {});
  for (let i = steps.length - 1; i >= 0; i--) {
    const step = steps[i]!;
    if (step === refused || typeof step?.pass !== 'string' || !known.has(step.pass)) continue;
    for (const f of passFlags(step.pass).modifiers) names[`--${f.flag}`] = `${settingsOf(i)}.${filledSetting(f, given(step))}`;
  }
  const index = refused === undefined ? -1 : steps.indexOf(refused);
  if (index >= 0 && known.has(refused!.pass)) {
    const flags = passFlags(refused!.pass);
    const at = settingsOf(index);
    for (const f of [...flags.adds, ...flags.modifiers]) {
      const setting = `${at}.${filledSetting(f, given(refused!))}`;
      names[`--${f.flag}`] = setting;
      // (its frame, `(flag --prune-heads)`, and its words with a value: `--quantize int8` is its own mode)
      names[flagNote(flags, f.setting)] = setting;
      for (const k of Object.keys(names)) if (k.startsWith(`--${f.flag} `)) delete names[k];
    }
    // (a setting no flag fills, of a pass the caller registered: its frame names the setting, `no command-line flag
    // for factor`)
    for (const key of Object.keys(getPass(refused!.pass).settings.shape))
      if (flagsFilling(flags, key).length === 0) names[flagNote(flags, key)] = `${at}.${key}`;
  }
  return names;
}

/**
 * The names of a library caller's pipeline (pipelineOptionNames) for a refusal `e`, by the step that threw it
 * (refusingStep), with `more`.
 */
export function pipelineNaming(steps: readonly PassStep[], more: FlagNames = {}): (e: UserError) => FlagNames {
  return (e) => pipelineOptionNames(Array.isArray(steps) ? steps : [], refusingStep(e), { more });
}

export { COMPRESS_NAMES };
