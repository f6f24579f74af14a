/** Where the GLUE data lives: `--glue-dir`, else the `GLUE_DIR` environment variable, else `../shared/glue`. */
import { resolve } from 'node:path';
import { environmentValue } from '../environment.ts';

/** The default GLUE folder: `$GLUE_DIR`, or `../shared/glue` relative to the working directory. */
export function defaultGlueDir(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string {
  return resolve(cwd, environmentValue(env, 'GLUE_DIR') ?? '../shared/glue');
}
