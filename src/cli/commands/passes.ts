/**
 * `compress passes [--json]`: every compression pass with its version, its flags and its settings (type, default,
 * description), generated from the passes' declarations, so what it prints is what the flags and sweep files accept;
 * then (text only) the train and distill steps of sweep files, each with its version and settings.
 */
import type { Argv } from 'yargs';
import { describePass, formatPasses } from '../../pass/describe.ts';
import { PASS_DECLARATIONS } from '../../pass-declarations.ts';
import { out, type CliCommand } from '../command.ts';
import { trainingStepSettings } from '../../sweep/train-step.ts';
import { DEFAULT_TRAIN_SETTINGS } from '../../train/trainer.ts';
import { trainingVersionsText } from '../../train/versions.ts';

interface PassesArgs {
  json: boolean;
}

export const passesCommand: CliCommand<PassesArgs> = {
  command: 'passes',
  runsOnnxruntime: false,
  describe: 'List the compression passes: version, flags, and settings (type, default, description) for flags and sweep files',
  builder: (y: Argv) => y.option('json', { type: 'boolean', default: false, describe: 'print JSON' }) as unknown as Argv<PassesArgs>,
  run: async (args) => {
    const passes = PASS_DECLARATIONS.map(describePass);
    if (args.json) {
      out(JSON.stringify(passes, null, 2));
      return 0;
    }
    out(formatPasses(passes));
    // The training steps are not passes (they read GLUE data and a teacher): their settings are the flags of their
    // commands, whose --help gives meaning and default.
    out('');
    out('Training steps of sweep files ({pass: train|distill, settings: {...}}) and their versions by the student they train: each');
    out('setting is the value of the flag named beside it (compress train --help, compress distill --help: meaning and default).');
    for (const kind of ['train', 'distill'] as const) {
      const settings = trainingStepSettings(kind).map((s) => `${s.key}${s.flag ? ` (${s.flag})` : ''}`);
      out(`  ${kind} (versions: ${trainingVersionsText(kind)}): ${settings.join(', ')}`);
    }
    out(
      `  (evalEachEpoch: dev evaluation after each epoch, default ${DEFAULT_TRAIN_SETTINGS.evalEachEpoch}; student and teacher: paths or specs, relative to the sweep file)`,
    );
    return 0;
  },
};
