/**
 * `compress passes [--json]`: every compression pass with its version, its flags and its settings (type, default,
 * description), generated from the passes' declarations, so what it prints is what the flags and sweep files accept.
 */
import type { Argv } from 'yargs';
import { describePass, formatPasses } from '../../pass/describe.ts';
import { PASS_DECLARATIONS } from '../../pass-declarations.ts';
import { out, type CliCommand } from '../command.ts';

interface PassesArgs {
  json: boolean;
}

export const passesCommand: CliCommand<PassesArgs> = {
  command: 'passes',
  describe: 'List the compression passes: version, flags, and settings (type, default, description) for flags and sweep files',
  builder: (y: Argv) => y.option('json', { type: 'boolean', default: false, describe: 'print JSON' }) as unknown as Argv<PassesArgs>,
  run: async (args) => {
    const passes = PASS_DECLARATIONS.map(describePass);
    out(args.json ? JSON.stringify(passes, null, 2) : formatPasses(passes));
    return 0;
  },
};
