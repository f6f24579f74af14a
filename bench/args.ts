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
