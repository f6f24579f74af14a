/**
 * Errors raised while a sweep point runs name the settings as the sweep file writes them (`distill.teacher`,
 * `eval.maxLength`), not the flags of the commands whose libraries raised them (`--teacher`, `--max-length`): the
 * libraries name flags, as the CLI shows them, and a point's stage renames them on the way out.
 */
import { isUserError } from '../errors.ts';

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

/**
 * A flag, or a command a message gives to run, in parentheses ('(compress train X --task SST-2 --new-head -o OUT)'),
 * its words as shellWord writes them: a path with parentheses or quotes is quoted ('…', $'…', an escaped quote
 * between), so its parentheses do not end the command. Each text reads one way only (a '$' before a quote opens
 * $'…'), so a message whose '(compress' is never closed is read in a time linear in its length, where a '$' read
 * alone or as $'…' made it exponential in the $'…' words it held.
 */
const FLAG_OR_COMMAND = /\(compress (?:\\.|\$'(?:[^'\\]|\\.)*'|'[^']*'|\$(?!')|[^()'\\$])*\)|(?<![\w-])--[a-z][a-z0-9-]*/g;

/**
 * `message` with each flag of `names` ('--teacher') replaced by its setting ('distill.teacher'); other text as it is,
 * and a command it gives to run (FLAG_OR_COMMAND), whose flags are the command's.
 */
export function renameFlags(message: string, names: Readonly<Record<string, string>>): string {
  return message.replace(FLAG_OR_COMMAND, (found) => (found.startsWith('(') ? found : (names[found] ?? found)));
}

/** Runs `stage`; a UserError it throws leaves with its flags renamed as `names` says (same class, same cause). */
export async function namingSettings<T>(names: Readonly<Record<string, string>>, stage: () => Promise<T>): Promise<T> {
  try {
    return await stage();
  } catch (e) {
    if (isUserError(e)) e.message = renameFlags(e.message, names);
    throw e;
  }
}
