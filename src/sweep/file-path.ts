/**
 * How a sweep file's paths are read (models[].path, glueDir, a distill step's teacher and student): relative
 * to the file's folder, a leading `~` or `~user` the home folder's, as the shell reads an unquoted one (shellTildeWord),
 * where `path: ~/models/m.onnx` named a folder `~` beside the file ('/sweeps/~/models/m.onnx: no such file or folder').
 */
import { resolve } from 'node:path';
import { shellTildeWord } from '../environment.ts';

/** The path `given` in a sweep file whose folder is `base`, absolute (a ~ or ~user expanded as the shell's). */
export function sweepFilePath(base: string, given: string): string {
  return resolve(base, shellTildeWord(given, process.env));
}
