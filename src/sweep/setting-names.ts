/**
 * Errors raised while a sweep point runs name the settings as the sweep file writes them (`distill.teacher`,
 * `eval.maxLength`), not the flags of the commands whose libraries raised them (`--teacher`, `--max-length`): the
 * libraries name flags, as the CLI shows them, and a point's stage renames them on the way out (namingSettings,
 * renameFlags of src/flag-names.ts, with these tables).
 */
import type { PassStep } from '../pass/pass.ts';
import { pipelineOptionNames } from '../pass/option-names.ts';

/** The sweep file's `eval` settings, by the flag of `compress eval` that the evaluation library names. */
export const EVAL_SETTING_NAMES: Readonly<Record<string, string>> = {
  '--max-length': 'eval.maxLength',
  '--batch-size': 'eval.batchSize',
  '--threads': 'eval.threads',
};

/**
 * The sweep file's calibration settings, by the flag of `compress` that the calibration library names, and the eval
 * length, at which a point's passes read their calibration examples.
 */
export const CALIBRATION_SETTING_NAMES: Readonly<Record<string, string>> = {
  '--max-length': 'eval.maxLength',
  '--calibrate': 'calibration.task',
  '--calibration-examples': 'calibration.examples',
};

/**
 * The names of the flags a refusal of the graph steps of a point's pipeline `steps` gives, where `refused` (one of
 * `steps`, a pass step) threw it, in the sweep file's words: its settings and its frame (`(flag --share-layers)`) as
 * `step 2's settings.share`, counted from 1 as a plan's lines name the steps, another step's likewise, a pass said in
 * advice as a step of it ('an optimize step'), and the calibration and eval settings (`--calibrate`: calibration.task):
 * the same words in the plan's refusal and the point's.
 */
export function passStepNames(steps: readonly PassStep[], refused: PassStep | undefined): Record<string, string> {
  return pipelineOptionNames(steps, refused, {
    context: { ...CALIBRATION_SETTING_NAMES, '--calibrate TASK': CALIBRATION_SETTING_NAMES['--calibrate']! },
    settingsOf: (i) => `step ${i + 1}'s settings`,
  });
}

/** The sweep file's `bench` settings, by the flag of `compress bench` that the bench library names. */
export const BENCH_SETTING_NAMES: Readonly<Record<string, string>> = {
  '--batch': 'bench.batch',
  '--seq': 'bench.seq',
  '--repeats': 'bench.repeats',
  '--warmup': 'bench.warmup',
  '--threads': 'bench.threads',
  '--max-time': 'bench.maxTime',
};
