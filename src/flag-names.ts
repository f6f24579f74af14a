/**
 * Library code words its refusals for the command line, naming the flags (`--max-length 1000 is beyond the model's
 * position table`); a caller that is not the command line renames them on the way out, to what it was given: a sweep
 * point to its file's settings (`eval.maxLength`: src/sweep/setting-names.ts), the package's entry points to their
 * options (`maxLength`: evaluate, loadCalibration, benchModels as src/eval/index.ts and src/bench/index.ts export
 * them), where a library caller was told of a flag it cannot pass.
 */
import { isUserError } from './errors.ts';

/**
 * A flag (a long one, `--max-length`, or a letter, `-o`), or a command a message gives to run, in parentheses
 * ('(compress train X --task SST-2 --new-head -o OUT)'), its words as shellWord writes them: a path with parentheses or quotes is quoted ('…', $'…', an escaped quote
 * between), so its parentheses do not end the command. Each text reads one way only (a '$' before a quote opens
 * $'…'), so a message whose '(compress' is never closed is read in a time linear in its length, where a '$' read
 * alone or as $'…' made it exponential in the $'…' words it held.
 */
const FLAG_OR_COMMAND = /\(compress (?:\\.|\$'(?:[^'\\]|\\.)*'|'[^']*'|\$(?!')|[^()'\\$])*\)|(?<![\w-])--[a-z][a-z0-9-]*|(?<![\w-])-[a-z](?![\w-])/g;

/**
 * `message` with each flag of `names` ('--teacher', '-o') replaced by its setting ('distill.teacher'); other text as it is,
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
