/**
 * runSweep as the package exports it: its refusals of its own options name the options a library caller gives
 * (`rerunContended: … give jobs: 1`, `store X: …`, `workDir X: …`), where they named the flags of `compress sweep`
 * (`--rerun-contended: … give --jobs 1`, `--store X`, `--work-dir X`), as evaluate's and compressFile's do
 * (src/flag-names.ts). A point's refusals are its sweep file's words already (./setting-names.ts). `compress sweep`
 * runs runSweep of ./run.ts.
 */
import { namingSettings } from '../flag-names.ts';
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

/** Runs a sweep into its store (see runSweep in ./run.ts), its refusals naming the options given. */
export function runSweep(opts: SweepOptions): Promise<SweepSummary> {
  return namingSettings(SWEEP_OPTION_NAMES, () => runSweepNamingFlags(opts));
}
