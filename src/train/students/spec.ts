/**
 * The grammar the from-scratch student specs share (`bert:layers=L,hidden=H,…`, `bilstm:hidden=H,…`): the kind in
 * lower case and a colon, as its callers recognise a spec (a --student starting exactly `bert:` or `bilstm:`; any other
 * text, `BERT:…` or `bilstm` alone, is a model path), then key=N settings separated by commas, each key at most once,
 * each N an integer from 1, read as every setting reads one (integerText: '1e3' is 1000). The keys' case and spaces around the settings, keys and values are free; an empty
 * setting (a stray comma) is refused. Errors are one line, worded alike for every kind: `student 'SPEC': …`.
 */
import { integerText, SettingsError, quotedText } from '../../errors.ts';

/**
 * The student forms other than a model path and every-other, as --help, the command line's refusal of a student of
 * none of the forms and a sweep file's name them.
 */
export const SIZED_STUDENT_FORMS = 'bert:layers=L,hidden=H,heads=A,intermediate=I or bilstm:hidden=H[,embedding=E][,mlp=M]';

/**
 * Whether a value that is neither a word of its flag or setting nor an existing file is written as a path (a folder in
 * it, a name ending in one of `extensions`, as a student's .onnx model, --intermediate's .json or .yaml file): a missing
 * file, said to be missing, where other text (`ever-other`, `tinybrt`) is a value outside the forms, refused listing them
 * (SIZED_STUDENT_FORMS, INTERMEDIATE_PRESETS), on the command line and in a sweep file alike.
 */
export function writtenAsPath(spec: string, extensions: readonly string[] = ['.onnx']): boolean {
  return /[\\/]/.test(spec) || extensions.some((e) => spec.toLowerCase().endsWith(e));
}

/**
 * How a message names student `spec` in library code, before its fault (`student 'bert:layers=x'`); a caller that names
 * the spec otherwise (a flag, a sweep file's setting) gives its own frame to checkStudentSpec.
 */
export function studentFrame(spec: string): string {
  return `student ${quotedText(spec)}`;
}

/**
 * The sizes `spec` sets, by key (of `keys`), for a spec of `kind` (`usage` shows its form in the refusal of another
 * kind). A spec with no settings (`bert:`) sets none.
 */
export function parseStudentSpec<K extends string>(spec: string, kind: string, keys: readonly K[], usage: string): Partial<Record<K, number>> {
  const where = studentFrame(spec);
  const text = spec.trim();
  const colon = text.indexOf(':');
  const given = (colon < 0 ? text : text.slice(0, colon)).trim();
  if (given.toLowerCase() !== kind) throw new SettingsError(`${where}: not a ${kind}:… student (expected ${usage})`);
  const out: Partial<Record<K, number>> = {};
  const body = colon < 0 ? '' : text.slice(colon + 1).trim();
  for (const part of body ? body.split(',') : []) {
    if (part.trim() === '') throw new SettingsError(`${where}: an empty setting (a stray comma): expected ${usage}`);
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    const key = keys.find((k) => k === name);
    if (key === undefined) throw new SettingsError(`${where}: unknown setting ${quotedText(part.trim())} (expected ${keys.map((k) => `${k}=N`).join(', ')})`);
    if (out[key] !== undefined) throw new SettingsError(`${where}: ${quotedText(key)} given twice`);
    const raw = eq < 0 ? '' : part.slice(eq + 1).trim();
    out[key] = integerText(`${where}: ${key}`, raw, 1);
  }
  return out;
}
