/**
 * `compress sweep SWEEP.yaml [--jobs N] [--store FILE]`: runs every point of a sweep file (models × pipelines:
 * compress, evaluate, bench) into a SQLite store, skipping points the store already has. Logic lives in src/sweep.
 */
import { basename, extname, join } from 'node:path';
import type { Argv } from 'yargs';
import { SettingsError } from '../../errors.ts';
import { createSweepProgress, runSweep } from '../../sweep/index.ts';
import { out, err, type CliCommand } from '../command.ts';

interface SweepArgs {
  file: string;
  jobs: number;
  store?: string;
  'glue-dir'?: string;
  'work-dir'?: string;
}

/** `runs/<sweep file name>.sqlite`. */
export function defaultStore(file: string): string {
  return join('runs', `${basename(file, extname(file))}.sqlite`);
}

export const sweepCommand: CliCommand<SweepArgs> = {
  command: 'sweep <file>',
  describe: 'Run a sweep file (models × pass pipelines: compress, evaluate on GLUE, bench) into a resumable SQLite store',
  builder: (y: Argv) =>
    y
      .positional('file', { type: 'string', demandOption: true, describe: 'sweep file (YAML): models, pipelines, tasks, calibration, bench shapes' })
      .option('jobs', { alias: 'j', type: 'number', default: 1, describe: 'points run at once, each in a worker process (they share the CPU: keep 1 for speed numbers you will quote)' })
      .option('store', { type: 'string', describe: 'SQLite results store (default runs/<file name>.sqlite)' })
      .option('glue-dir', { type: 'string', describe: "GLUE data folder (default: the file's glueDir, $GLUE_DIR, ../shared/glue)" })
      .option('work-dir', { type: 'string', describe: 'folder for compressed models (default <store>-models)' }) as unknown as Argv<SweepArgs>,
  run: async (args) => {
    if (!Number.isInteger(args.jobs) || args.jobs < 1) throw new SettingsError(`--jobs ${args.jobs}: expected a positive integer`);
    const store = args.store ?? defaultStore(args.file);
    const progress = createSweepProgress(process.stderr);
    let summary;
    try {
      summary = await runSweep({ file: args.file, store, jobs: args.jobs, glueDir: args['glue-dir'], workDir: args['work-dir'], onEvent: progress.listener });
    } finally {
      progress.stop();
    }
    const others = summary.byOthers > 0 ? `, ${summary.byOthers} finished by another sweep` : '';
    out(`${summary.total} points: ${summary.alreadyDone} already in the store, ${summary.ran} run now${others}, ${summary.failed.length} failed (${summary.seconds.toFixed(1)} s)`);
    if (summary.failed.length > 0) err(`failed (errors above; rerun to retry them): ${summary.failed.map((f) => `${f.point.model.name} · ${f.point.label}`).join(', ')}`);
    out(`store: ${summary.store} (next: compress report ${store})`);
    return summary.failed.length > 0 ? 1 : 0;
  },
};
