/**
 * Errors raised while a sweep point runs name the settings as the sweep file writes them (`distill.teacher`,
 * `eval.maxLength`), not the flags of the commands whose libraries raised them (`--teacher`, `--max-length`): the
 * libraries name flags, as the CLI shows them, and a point's stage renames them on the way out (namingSettings,
 * renameFlags of src/flag-names.ts, with these tables).
 */

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

/** The sweep file's `bench` settings, by the flag of `compress bench` that the bench library names. */
export const BENCH_SETTING_NAMES: Readonly<Record<string, string>> = {
  '--batch': 'bench.batch',
  '--seq': 'bench.seq',
  '--repeats': 'bench.repeats',
  '--warmup': 'bench.warmup',
  '--threads': 'bench.threads',
  '--max-time': 'bench.maxTime',
};
