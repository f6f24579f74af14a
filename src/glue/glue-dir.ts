/** Where the GLUE data lives: `--glue-dir`, else the `GLUE_DIR` environment variable, else `../shared/glue`. */
import { resolve } from 'node:path';
import { environmentPath } from '../environment.ts';

/**
 * The default GLUE folder: `$GLUE_DIR` (a `~`, `~user` or `$NAME` a shell did not expand, expanded: environmentPath), or
 * `../shared/glue` relative to the working directory.
 */
export function defaultGlueDir(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string {
  return resolve(cwd, environmentPath(env, 'GLUE_DIR') ?? '../shared/glue');
}
