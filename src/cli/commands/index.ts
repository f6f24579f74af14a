/** Every CLI command, in the order `--help` lists them. Add a command by adding its module here. */
import type { CliCommand } from '../command.ts';
import { compressCommand } from './compress.ts';
import { inspectCommand } from './inspect.ts';

export const commands: CliCommand<any>[] = [inspectCommand, compressCommand];
