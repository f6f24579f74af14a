/** Command-line flags of the benchmarks: `--name VALUE`. */

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
