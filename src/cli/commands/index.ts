/** Every CLI command, in the order `--help` lists them. Add a command by adding its module here. */
import type { CliCommand } from '../command.ts';
import { compressCommand } from './compress.ts';
import { inspectCommand } from './inspect.ts';
import { evalCommand } from './eval.ts';
import { dataCommand } from './data.ts';
import { benchCommand } from './bench.ts';
import { sweepCommand } from './sweep.ts';
import { workerCommand } from './worker.ts';
import { reportCommand } from './report.ts';
import { exportCommand } from './export.ts';
import { trainCommand } from './train.ts';
import { distillCommand } from './distill.ts';
import { passesCommand } from './passes.ts';

export const commands: CliCommand<any>[] = [
  inspectCommand,
  evalCommand,
  dataCommand,
  benchCommand,
  sweepCommand,
  workerCommand,
  reportCommand,
  exportCommand,
  trainCommand,
  distillCommand,
  passesCommand,
  compressCommand,
];
