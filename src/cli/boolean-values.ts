/**
 * A yargs middleware for every command: a boolean flag given a value (`--json=yes`, `--quantize-embeddings=0`) takes
 * it as written, yes/true/1 or no/false/0, instead of yargs' reading of anything but `true` as false; any other
 * value is refused with one line before the command runs.
 */
import type { Argv } from 'yargs';
import { SettingsError } from '../errors.ts';

const TRUE = new Set(['yes', 'true', '1']);
const FALSE = new Set(['no', 'false', '0']);

interface DeclaredBooleans {
  boolean: string[];
  alias: Record<string, string[]>;
}

/** 'yes' → true, 'no' → false (case-insensitive); a SettingsError naming `flag` for anything else. */
export function parseBooleanValue(flag: string, value: string): boolean {
  const v = value.trim().toLowerCase();
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  throw new SettingsError(`${flag}=${value}: expected yes, true or 1, or no, false or 0`);
}

const camel = (s: string) => s.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/**
 * Sets each boolean flag written `--flag=VALUE` (or `--no-flag=VALUE`, which negates it) in `argv` on `args` (with
 * its aliases and camel-case key), or throws a SettingsError for a value that is not a boolean.
 */
export function applyBooleanValues(args: Record<string, unknown>, options: DeclaredBooleans, argv: readonly string[]): void {
  for (const key of options.boolean) {
    const names = [key, ...(options.alias[key] ?? [])];
    for (const token of argv) {
      if (token === '--') break;
      const m = /^--(no-)?([^=]+)=(.*)$/s.exec(token);
      if (!m || !names.includes(m[2]!)) continue;
      const value = parseBooleanValue(`--${m[1] ?? ''}${m[2]}`, m[3]!) !== !!m[1];
      for (const n of names) {
        args[n] = value;
        args[camel(n)] = value;
      }
    }
  }
}

/** The middleware: registers `applyBooleanValues` on a yargs instance. */
export function strictBooleans(argv: readonly string[]) {
  return (args: Record<string, unknown>, y: Argv): void => applyBooleanValues(args, (y as unknown as { getOptions(): DeclaredBooleans }).getOptions(), argv);
}
