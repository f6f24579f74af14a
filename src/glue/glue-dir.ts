/** Where the GLUE data lives: `--glue-dir`, else the `GLUE_DIR` environment variable, else `../shared/glue`. */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { environmentPath, environmentValue } from '../environment.ts';
import { SettingsError } from '../errors.ts';

/**
 * The default GLUE folder: `$GLUE_DIR` (a `~`, `~user` or `$NAME` a shell did not expand, expanded: environmentPath), or
 * `../shared/glue` relative to the working directory.
 */
export function defaultGlueDir(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string {
  return resolve(cwd, environmentPath(env, 'GLUE_DIR') ?? '../shared/glue');
}

/**
 * The GLUE folder to read: `given` (`--glue-dir`, a library's glueDir, which `named` names as the caller wrote it,
 * e.g. "--glue-dir" or "poster.yaml: glueDir"), else defaultGlueDir. One that is a file is refused in one line naming
 * where it was given (`--glue-dir FILE`, `GLUE_DIR=FILE`), where each task's file was said not to be found under it
 * (`FILE/SST-2/dev.tsv: file not found`). One that is not there is left to the reads, which say which file they miss.
 * Returned as given (relative paths read against the working folder, as before).
 */
export function glueDirOf(given: string | undefined, named = '--glue-dir', env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string {
  const dir = given ?? defaultGlueDir(env, cwd);
  const full = resolve(cwd, dir);
  if (statSync(full, { throwIfNoEntry: false })?.isDirectory() === false) {
    const variable = environmentValue(env, 'GLUE_DIR');
    const written = given ?? variable;
    const source = given !== undefined ? `${named} ${given}` : variable !== undefined ? `GLUE_DIR=${variable}` : 'the default GLUE folder ../shared/glue';
    const shown = written === full ? '' : ` (${full})`;
    throw new SettingsError(`${source}${shown} is a file, not a folder: give the GLUE folder, which holds a folder per task (SST-2/dev.tsv, …)`);
  }
  return dir;
}
