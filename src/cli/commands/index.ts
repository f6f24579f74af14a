/** Every CLI command, in the order `--help` lists them. Add a command by adding its module here. */
import type { CliCommand } from '../command.ts';

export const commands: CliCommand<any>[] = [];
