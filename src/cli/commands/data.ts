/**
 * `compress data download --tasks NAMES|all [--dir DIR] [--base-url URL] [--force]`: fetches the official GLUE
 * files (resumable, sha256-checked) through the library's `downloadGlue`.
 */
import { resolve } from 'node:path';
import { environmentPath, environmentValue } from '../../environment.ts';
import type { Argv } from 'yargs';
import { choiceRefusal, counted, UsageError } from '../../errors.ts';
import { BASE_URL_ENV, downloadGlue, downloadTaskNames, selectSources } from '../../glue/download/download.ts';
import { checkHttpUrl } from '../../ranged-download.ts';
import { NO_TASK_GIVEN } from '../../glue/registry.ts';
import { checkFolderFlags, commandLineCheck, out, err, type CliCommand } from '../command.ts';

export interface DataArgs {
  action: 'download';
  tasks?: string[];
  dir?: string;
  'base-url'?: string;
  force?: boolean;
}

/** The folder downloads go to where neither --dir nor GLUE_DIR names one, in the working folder. */
const DEFAULT_DOWNLOAD_FOLDER = 'glue_data';

/** Where downloads go by default: $GLUE_DIR (expanded as defaultGlueDir reads it), else ./glue_data (the official script's default). */
export function defaultDownloadDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(environmentPath(env, 'GLUE_DIR') ?? DEFAULT_DOWNLOAD_FOLDER);
}

export const dataCommand: CliCommand<DataArgs> = {
  command: 'data <action>',
  runsOnnxruntime: false,
  describe: 'Manage GLUE data: `data download --tasks all` fetches the official files',
  builder: (y: Argv) =>
    y
      .positional('action', { type: 'string', choices: ['download'], demandOption: true, describe: 'download: fetch GLUE task data' })
      .option('tasks', {
        alias: 'task',
        type: 'string',
        array: true,
        describe: `tasks to fetch (${downloadTaskNames().join(', ')}) or 'all'`,
      })
      .option('dir', { type: 'string', describe: 'GLUE folder to fill (default $GLUE_DIR, else ./glue_data)' })
      .option('base-url', { type: 'string', describe: `fetch every file from URL/<name> instead of the official URLs (or set ${BASE_URL_ENV})` })
      .option('force', { type: 'boolean', default: false, describe: 'download tasks that are already present again' }) as unknown as Argv<DataArgs>,
  run: async (args) => {
    // (yargs refuses it first, in the same words: choiceLine; a caller of run alike)
    if (args.action !== 'download') throw new UsageError(choiceRefusal('action', args.action, ['download']));
    if (!args.tasks || args.tasks.length === 0) throw new UsageError(NO_TASK_GIVEN);
    // (the task names and --base-url's form are the command line's: their refusals usage mistakes; checkHttpUrl's a
    // UsageError itself)
    commandLineCheck(() => selectSources(args.tasks!));
    if (args['base-url'] !== undefined) checkHttpUrl(args['base-url'], '--base-url');
    checkFolderFlags({ '--dir': args.dir });
    const dir = args.dir ? resolve(args.dir) : defaultDownloadDir();
    // (the folder named as it was given: the flag, GLUE_DIR, or the default, where a refusal said --dir, not typed)
    const variable = environmentValue(process.env, 'GLUE_DIR');
    const dirLabel =
      args.dir !== undefined
        ? `--dir ${args.dir}`
        : variable !== undefined
          ? `GLUE_DIR=${variable}`
          : `the default download folder ${DEFAULT_DOWNLOAD_FOLDER} (no --dir or GLUE_DIR given)`;
    const done = await downloadGlue({ tasks: args.tasks, dir, dirLabel, baseUrl: args['base-url'], force: args.force, log: (line) => err(line) });
    const installed = done.filter((d) => d.status === 'installed').length;
    out(`GLUE data in ${dir}: ${counted(installed, 'task')} installed, ${done.length - installed} already present`);
    return 0;
  },
};
