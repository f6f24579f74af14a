/**
 * runSweep as the package exports it: its refusals of its own options name the options a library caller gives
 * (`rerunContended: … give jobs: 1`, `store X: …`, `workDir X: …`), where they named the flags of `compress sweep`
 * (`--rerun-contended: … give --jobs 1`, `--store X`, `--work-dir X`), as evaluate's and compressFile's do
 * (src/flag-names.ts). A point's refusals are its sweep file's words already (./setting-names.ts). `compress sweep`
 * runs runSweep of ./run.ts.
 */
import { namingSettings } from '../flag-names.ts';
import { checkOptionKinds, checkOptions, type OptionKind } from '../library-args.ts';
import { runSweep as runSweepNamingFlags, type SweepOptions, type SweepSummary } from './run.ts';

/** runSweep's options by the flags of `compress sweep` its refusals name (renameFlags). */
export const SWEEP_OPTION_NAMES: Readonly<Record<string, string>> = {
  '--store': 'store',
  '--work-dir': 'workDir',
  '--cache-dir': 'cacheDir',
  '--jobs': 'jobs',
  // ('give --jobs 1': an option and its value)
  '--jobs 1': 'jobs: 1',
  '--rerun-contended': 'rerunContended',
  '--rerun-stale': 'rerunStale',
  '--glue-dir': 'glueDir',
  // ('set glueDir, --glue-dir or GLUE_DIR': the sweep file's key, then the option)
  'glueDir, --glue-dir': "glueDir (the sweep file's or runSweep's)",
};

/**
 * runSweep's options by their kinds (checkOptionKinds: a JavaScript caller's jobs: 'x' or 0 ran one at a time, 2.5
 * a pool of 2.5 workers, rerunStale: 'no' read as true, a misspelt option as nothing); file and store read by runSweep of
 * ./run.ts.
 */
const SWEEP_OPTION_KINDS = {
  file: 'checked',
  store: 'checked',
  jobs: { is: (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 1, expected: 'an integer from 1 (points run at once)' },
  glueDir: 'string',
  workDir: 'string',
  cacheDir: 'string',
  rerunStale: 'boolean',
  rerunContended: 'boolean',
  onEvent: 'function',
  planLog: 'function',
  queued: 'boolean',
  signal: 'signal',
} as const satisfies Record<keyof SweepOptions, OptionKind>;

/** Runs a sweep into its store (see runSweep in ./run.ts), its options checked by their kinds first, its refusals naming the options given. */
export function runSweep(opts: SweepOptions): Promise<SweepSummary> {
  return namingSettings(SWEEP_OPTION_NAMES, async () => {
    checkOptionKinds('runSweep', checkOptions('runSweep', opts, '{file, store, …}'), SWEEP_OPTION_KINDS);
    return runSweepNamingFlags(opts);
  });
}
