/**
 * `compress distill --teacher T --student S --task TASK -o OUT`: trains a student on a GLUE task from the teacher's
 * outputs (cached) and the labels. The student is a model path, `every-other` (the teacher's even layers),
 * `bert:layers=L,hidden=H,heads=A,intermediate=I` (from scratch) or `bilstm:hidden=H[,embedding=E]`. Flags,
 * checks, progress and the summary are shared with `train` (src/cli/training.ts).
 */
import type { Argv } from 'yargs';
import { SettingsError } from '../../errors.ts';
import type { CliCommand } from '../command.ts';
import { checkStudentSpec, checkTrainingArgs, distillFlags, runTrainingCommand, type DistillArgs } from '../training.ts';

export const distillCommand: CliCommand<DistillArgs> = {
  command: 'distill',
  describe: 'Distil a teacher into a student on a GLUE task (soft cross-entropy or logit MSE plus the labels)',
  builder: async (y: Argv) => (await distillFlags(y)) as unknown as Argv<DistillArgs>,
  run: async (args) => {
    if (!args.teacher) throw new SettingsError('missing --teacher: the model to distil from');
    if (!args.student) throw new SettingsError('missing --student: a model path, every-other, bert:… or bilstm:… (see --help)');
    checkTrainingArgs(args, [args.teacher, args.student]);
    checkStudentSpec(args.student);
    return runTrainingCommand(args, {
      teacher: args.teacher,
      student: args.student,
      distill: { alpha: args.alpha, temperature: args.temperature, logitLoss: args['logit-loss'] as 'ce' | 'mse' },
      maxExamples: args['max-examples'],
      maxLength: args['max-length'],
      glueDir: args['glue-dir'],
      cacheDir: args['cache-dir'],
    });
  },
};
