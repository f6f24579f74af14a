/**
 * A yargs middleware for every command: a flag that takes one value and was given twice (`-o a -o b`, which yargs
 * turns into an array the command does not expect) and a number flag whose value is not a number (`--seed abc`,
 * which yargs turns into NaN) or is empty (`--epochs ''`, which yargs turns into 0) are refused with one line
 * before the command runs.
 */
import type { Argv } from 'yargs';
import { SettingsError } from '../errors.ts';

interface DeclaredOptions {
  array: string[];
  number: string[];
  alias: Record<string, string[]>;
  key: Record<string, unknown>;
}

/** '-o/--output' for a flag and its aliases. */
function flagName(key: string, aliases: readonly string[]): string {
  return [...aliases.filter((a) => a.length === 1), key].map((k) => (k.length === 1 ? `-${k}` : `--${k}`)).join('/');
}

/** The value as typed after `--key`, `--key=` or an alias, for the message (yargs keeps only NaN). */
function typedValue(argv: readonly string[], names: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    for (const n of names) {
      const flag = n.length === 1 ? `-${n}` : `--${n}`;
      if (argv[i] === flag) return argv[i + 1];
      if (argv[i]!.startsWith(`${flag}=`)) return argv[i]!.slice(flag.length + 1);
    }
  }
  return undefined;
}

/** Throws a SettingsError for a repeated single-value flag or a number flag that is not a number. */
export function checkSingleValues(args: Record<string, unknown>, options: DeclaredOptions, argv: readonly string[]): void {
  const aliasOf = new Set(Object.values(options.alias).flat());
  for (const key of Object.keys(options.key)) {
    if (aliasOf.has(key) || options.array.includes(key) || !(key in args)) continue;
    const value = args[key];
    const aliases = options.alias[key] ?? [];
    if (Array.isArray(value)) {
      throw new SettingsError(`${flagName(key, aliases)} given ${value.length} times (${value.map(String).join(', ')}): give it once`);
    }
    if (options.number.includes(key) && typeof value === 'number') {
      // yargs turns '' (and blanks) into 0: an empty value is not a number either
      const typed = typedValue(argv, [key, ...aliases]);
      if (Number.isNaN(value) || typed?.trim() === '') {
        throw new SettingsError(`${flagName(key, aliases)}${typed === undefined ? '' : ` '${typed}'`}: expected a number`);
      }
    }
  }
}

/** The middleware: registers `checkSingleValues` on a yargs instance. */
export function refuseRepeatedOrNaN(argv: readonly string[]) {
  return (args: Record<string, unknown>, y: Argv): void => checkSingleValues(args, (y as unknown as { getOptions(): DeclaredOptions }).getOptions(), argv);
}

/**
 * Throws a SettingsError for a path argument given as an empty string (`--out ""`): it would name the current
 * folder, be taken as absent, or (SQLite) open a temporary database. `names` as the user writes them: flags with
 * their dashes ('--out', '--glue-dir'), positionals bare ('store').
 */
export function refuseEmptyPaths(args: Record<string, unknown>, names: readonly string[]): void {
  for (const name of names) {
    const value = args[name.replace(/^--/, '')];
    if (typeof value === 'string' && value.trim() === '') throw new SettingsError(`${name} '${value}': an empty path; give a file or folder name`);
  }
}
