/**
 * `compress train MODEL --task T -o OUT`: fine-tunes MODEL on a GLUE task's train split (labels only), keeping the
 * epoch with the best dev score. Flags, checks, progress and the summary are shared with `distill`
 * (src/cli/training.ts); training is the library's `runTraining` (src/train).
 */
import type { Argv } from 'yargs';
import type { CliCommand } from '../command.ts';
import { localModel } from '../model-ref.ts';
import { checkedSettings, checkTaskDataBeforeDownload, checkTrainingArgs, runTrainingCommand, trainingFlags, type TrainingArgs } from '../training.ts';

interface TrainArgs extends TrainingArgs {
  model: string;
  'new-head': boolean;
}

export const trainCommand: CliCommand<TrainArgs> = {
  command: 'train <model>',
  describe: 'Fine-tune MODEL on a GLUE task (best dev epoch kept; Ctrl-C checkpoints, a rerun resumes)',
  builder: async (y: Argv) =>
    (
      await trainingFlags(
        y.positional('model', {
          type: 'string',
          demandOption: true,
          describe: '.onnx file or model folder (config.json, tokenizer), or hf:org/name[@revision]',
        }),
        "the model's folder",
      )
    ).option('new-head', {
      type: 'boolean',
      default: false,
      describe:
        "replace the model's classifier by a new one of --task's outputs, seeded from --seed (an MNLI checkpoint fine-tuned on RTE, a classifier on STS-B); config.json names the task's labels",
    }) as unknown as Argv<TrainArgs>,
  run: async (args) => {
    checkTrainingArgs(args, []); // the flags, before any download
    const settings = await checkedSettings(args);
    checkTaskDataBeforeDownload(args, [args.model]);
    const model = await localModel(args.model);
    checkTrainingArgs(args, [model]);
    return runTrainingCommand(args, settings, {
      student: model,
      maxExamples: args['max-examples'],
      maxLength: args['max-length'],
      glueDir: args['glue-dir'],
      tokenizer: args.tokenizer,
      ...(args['new-head'] ? { newHead: true } : {}),
    });
  },
};
