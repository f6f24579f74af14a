/**
 * How a CLI command is declared: a yargs command module whose handler returns an exit code. Commands only parse
 * flags into typed options, call library functions and print; they hold no compression or evaluation logic.
 */
import type { Argv, ArgumentsCamelCase } from 'yargs';

export interface GlobalFlags {
  verbose?: boolean;
}

export interface CliCommand<A = object> {
  /** yargs command string, e.g. 'inspect <model>'. */
  command: string | readonly string[];
  describe: string;
  /** Declares the flags; may be async (yargs awaits it), e.g. to read defaults from a lazily loaded library. */
  builder: (y: Argv<GlobalFlags>) => Argv<A> | Promise<Argv<A>>;
  /** Runs the command; resolves to the process exit code. */
  run: (args: ArgumentsCamelCase<A & GlobalFlags>) => Promise<number>;
}

/** Exit code of a command stopped by Ctrl-C (128 + SIGINT), as shells report it. */
export const INTERRUPTED_EXIT_CODE = 130;

/** Writes a line to stdout. */
export function out(line = ''): void {
  process.stdout.write(line + '\n');
}

/** Writes a line to stderr. */
export function err(line: string): void {
  process.stderr.write(line + '\n');
}
