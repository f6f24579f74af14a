/** Where the GLUE data lives: `--glue-dir`, else the `GLUE_DIR` environment variable, else `../shared/glue`. */
import { resolve } from 'node:path';

/** The default GLUE folder: `$GLUE_DIR`, or `../shared/glue` relative to the working directory. */
export function defaultGlueDir(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string {
  const fromEnv = env.GLUE_DIR;
  return fromEnv && fromEnv.trim() !== '' ? resolve(cwd, fromEnv) : resolve(cwd, '../shared/glue');
}
