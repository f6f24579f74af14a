/** Command-line flags of the benchmarks: `--name VALUE`, checked against the flags each declares (suites.ts). */
import { nearestFlag } from '../src/glue/registry.ts';
import { type FlagKind, suite } from './suites.ts';

/** The value after `flag` on the command line (`argv`, default this process's), or undefined. */
export function flagValue(flag: string, argv: readonly string[] = process.argv): string | undefined {
  const i = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** The value after `flag`, else `fallback`. */
export function arg(flag: string, fallback: string, argv: readonly string[] = process.argv): string {
  return flagValue(flag, argv) ?? fallback;
}

/**
 * `npm run bench -- NAME ... --flag VALUE ...`: the words before the first `--flag` choose benchmarks (by name
 * part); that flag and everything after it go to each chosen benchmark unchanged, so `-- train --kernel js` runs
 * the training benchmark with the JavaScript kernel rather than choosing by the words "--kernel" and "js".
 */
export function splitBenchArgs(argv: readonly string[]): { names: string[]; flags: string[] } {
  const first = argv.findIndex((a) => a.startsWith('--'));
  return first < 0 ? { names: [...argv], flags: [] } : { names: argv.slice(0, first), flags: argv.slice(first) };
}

/** `text` as a whole number ≥ `min`, else an error that names `flag`. */
export function parseWhole(flag: string, text: string, min: number): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isInteger(value) || value < min) {
    throw new Error(`${flag} ${JSON.stringify(text)}: expected a whole number ≥ ${min}`);
  }
  return value;
}

/** The comma-separated whole numbers after `flag` (else `fallback`), each ≥ `min`; a bad one ends the benchmark with one line and exit code 2. */
export function wholeListArg(flag: string, fallback: string, min = 1, argv: readonly string[] = process.argv): number[] {
  const text = arg(flag, fallback, argv);
  try {
    return text.split(',').map((part) => parseWhole(flag, part, min));
  } catch {
    console.error(`${flag} ${JSON.stringify(text)}: expected whole numbers ≥ ${min} separated by commas`);
    process.exit(2);
  }
}

/** The whole number after `flag` (else `fallback`); a bad value ends the benchmark with one line and exit code 2. */
export function wholeArg(flag: string, fallback: number, min = 1, argv: readonly string[] = process.argv): number {
  try {
    return parseWhole(flag, arg(flag, String(fallback), argv), min);
  } catch (e) {
    console.error((e as Error).message);
    process.exit(2);
  }
}

/** The value after `flag` (else `fallback`), one of `choices`; another ends the benchmark with one line and exit code 2. */
export function choiceArg<T extends string>(flag: string, fallback: T, choices: readonly T[], argv: readonly string[] = process.argv): T {
  const value = arg(flag, fallback, argv);
  if ((choices as readonly string[]).includes(value)) return value as T;
  console.error(`${flag} ${JSON.stringify(value)}: expected one of ${choices.join(', ')}`);
  process.exit(2);
}

/**
 * What is wrong with the flags `argv` gives against the `known` ones (`whose`: whose flags they are, for the
 * message), in one line, or undefined: a flag not among them (with the nearest one), `--flag=value`, a value flag
 * without its value, a flag given twice, a word that belongs to no flag.
 */
export function flagProblem(argv: readonly string[], known: Readonly<Record<string, FlagKind>>, whose: string): string | undefined {
  const names = Object.keys(known);
  const listed = names.length ? `the flags of ${whose}: ${names.join(', ')}` : `${whose} takes no flags`;
  const seen = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (!token.startsWith('--')) return `unexpected argument '${token}' (${listed})`;
    const [name, value] = token.includes('=') ? [token.slice(0, token.indexOf('=')), token.slice(token.indexOf('=') + 1)] : [token, undefined];
    const kind = known[name];
    if (kind === undefined) {
      // (nearestFlag compares names without their '--')
      const near = nearestFlag(
        name.slice(2),
        names.map((n) => n.slice(2)),
      );
      return `unknown flag ${name}${near ? ` (did you mean --${near}?)` : ''}; ${listed}`;
    }
    if (value !== undefined) return kind === 'value' ? `${token}: write ${name} ${value}` : `${token}: ${name} takes no value`;
    if (seen.has(name)) return `${name} given twice: give it once`;
    seen.add(name);
    if (kind === 'value') {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) return `${name}: a value is needed after it`;
      i++;
    }
  }
  return undefined;
}

/**
 * The flags of `argv` (with their values) that `wanted` names, in their order; `argv` has passed flagProblem against
 * `all`, which says which flags take a value.
 */
export function flagsOf(argv: readonly string[], all: Readonly<Record<string, FlagKind>>, wanted: Readonly<Record<string, FlagKind>>): string[] {
  const kept: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const take = all[argv[i]!] === 'value' ? 2 : 1;
    if (wanted[argv[i]!] !== undefined) kept.push(...argv.slice(i, i + take));
    i += take - 1;
  }
  return kept;
}

/**
 * Checks this benchmark's command line (`argv`, default this process's) against the flags suites.ts declares for
 * `name`: a problem ends it with one line and exit code 2 (see flagProblem).
 */
export function checkFlags(name: string, argv: readonly string[] = process.argv.slice(2)): void {
  const problem = flagProblem(argv, suite(name).flags, name);
  if (problem === undefined) return;
  console.error(problem);
  process.exit(2);
}
