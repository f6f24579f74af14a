/**
 * Where outputs go. Every command that writes checks its destinations before any work: an output file must be a
 * regular file or absent (never a device, pipe or folder), and its folder must accept a new file, which is tried by
 * creating and removing one (permission bits say nothing for root, and /sys or /proc refuse writes whatever they
 * say). Missing folders are created one level at a time (folders.ts' ensureFolder): `mkdirSync(…, { recursive: true })`
 * never returns for a path under /proc. A write that fails anyway is a one-line UserError (`fileSystemError`), not a
 * stack trace.
 */
import { closeSync, existsSync, mkdirSync, openSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { FS_REASONS, SettingsError, UserError } from './errors.ts';
import { ensureFolder, folderPartProblem, folderRefusal, kindOf, NO_NEW_ENTRIES } from './folders.ts';
import { TEMPORARY_SUFFIX_BYTES } from './files.ts';
import { dataPathFor } from './onnx/save.ts';
import { MODEL_SIDE_FILES } from './onnx/locate.ts';

export { ensureFolder, fileSystemError, removeCreatedFolders } from './folders.ts';

/**
 * Refuses `dir` when it, or the nearest part of its path that exists, is not a folder, or when a part of it is a link
 * to a missing folder (the messages `ensureFolder` would give); creates nothing. A SettingsError: the name given is
 * wrong, which a command line checks as its usage mistake (commandLineCheck), where a folder that takes no new files is
 * the machine's (checkOutputFolder). For checks made before other files are written (a sweep's store, a folder flag).
 */
export function checkFolderPath(dir: string, label = dir): void {
  checkPathLength(dir, label);
  for (let abs = resolve(dir); ; abs = dirname(abs)) {
    const kind = kindOf(abs);
    if (kind === 'folder') return;
    const problem = folderPartProblem(label, abs, kind);
    if (problem !== undefined) throw new SettingsError(problem);
    if (dirname(abs) === abs) return;
  }
}

/**
 * The name a command line gives a transformers.js folder (`-o DIR`), checked before anything is read: not a file (nor
 * a device), and a folder name checkFolderPath takes: not too long, nor under a file, nor a link to a missing folder
 * (the folder, written in a staging folder beside it, could not be moved onto it). A SettingsError, as
 * export/destination.ts' checkModelOutputName's for an .onnx output.
 */
export function checkFolderOutputName(output: string, label = `-o ${output}`): void {
  if (existsSync(output) && !statSync(output).isDirectory())
    throw new SettingsError(`${label}: ${output} is a file; with --format transformers.js, -o is the folder to write`);
  checkFolderPath(output, label);
}

/** Creates and removes a file in `dir`: the only test of writability that holds for root and read-only mounts. */
function probeWritable(dir: string, label: string): void {
  const probe = join(dir, `.bert-compress-probe-${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
  try {
    closeSync(openSync(probe, 'wx'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    // (the folder exists: ensureFolder made sure of it)
    const reason = code === 'ENOENT' && kindOf(dir) === 'folder' ? `the folder ${NO_NEW_ENTRIES}` : FS_REASONS[code];
    if (reason === undefined) throw e;
    throw new UserError(`${label}: cannot write files in ${dir}: ${reason}`, { cause: e });
  }
  rmSync(probe, { force: true });
}

/** Makes sure files can be written into `dir` (created when missing); a one-line UserError otherwise. */
export function checkOutputFolder(dir: string, label = dir): void {
  ensureFolder(dir, label);
  probeWritable(resolve(dir), label);
}

/**
 * Refuses `dir` as checkOutputFolder would, in its words, and leaves nothing made: a folder that exists is probed with a
 * file (removed); of one that is missing, the first folder ensureFolder would make is made and removed. For a dry run,
 * which refuses what the run would (a folder the user may not write) and creates nothing.
 */
export function checkOutputFolderUnmade(dir: string, label = dir): void {
  const abs = resolve(dir);
  let first = abs;
  while (kindOf(dirname(first)) === null && dirname(first) !== first) first = dirname(first);
  if (kindOf(first) === 'folder') return probeWritable(first, label);
  // (a part that is a file or a link to a missing folder: checkFolderPath's refusal)
  checkFolderPath(dir, label);
  try {
    mkdirSync(first);
  } catch (e) {
    throw folderRefusal(e, first, label);
  }
  rmdirSync(first);
}

/**
 * Makes sure `path` can be written as a file: absent or a regular file (a folder, device, pipe or socket is
 * refused), in a folder that accepts new files (created when missing).
 */
export function checkOutputFile(path: string, label = path): void {
  checkOutputFiles([path], label);
}

/** The longest file or folder name most file systems take (NAME_MAX), in bytes. */
const NAME_MAX = 255;
/** The longest path Linux takes (PATH_MAX, 4096 with its terminating NUL), in bytes. */
const PATH_BYTES_MAX = 4095;

/**
 * Refuses `path` when a name in it is longer than NAME_MAX bytes or its absolute path longer than PATH_MAX, which every
 * file call would refuse ('name too long'); a `'file'`, written through its temporary name (temporaryPathFor), must
 * leave room for that name's suffix. A SettingsError: the name given is wrong, which a command line checks as its
 * usage mistake (commandLineCheck), first of its checks of a path (each looks at the file system).
 */
export function checkPathLength(path: string, label: string, what: 'file' | 'folder' = 'folder'): void {
  const abs = resolve(path);
  const file = what === 'file';
  const room = (most: number) => (file ? `at most ${most - TEMPORARY_SUFFIX_BYTES}, as its temporary name adds ${TEMPORARY_SUFFIX_BYTES}` : `at most ${most}`);
  const parts = abs.split(sep);
  for (const [i, name] of parts.entries()) {
    const isFile = file && i === parts.length - 1;
    const bytes = Buffer.byteLength(name);
    // (named by its end: a model output's sidecar, …onnx.json, shares its start)
    if (bytes + (isFile ? TEMPORARY_SUFFIX_BYTES : 0) > NAME_MAX)
      throw new SettingsError(
        `${label}: the ${isFile ? 'file' : 'folder'} name …${name.slice(-24)} is too long (${bytes} bytes; ${isFile ? room(NAME_MAX) : `at most ${NAME_MAX}`})`,
      );
  }
  const bytes = Buffer.byteLength(abs);
  if (bytes + (file ? TEMPORARY_SUFFIX_BYTES : 0) > PATH_BYTES_MAX)
    throw new SettingsError(`${label}: the path is too long (${bytes} bytes as an absolute path; ${room(PATH_BYTES_MAX)})`);
}

/**
 * Refuses any of `paths` that is too long to be written atomically (checkPathLength: its temporary name would pass
 * NAME_MAX or PATH_MAX), exists and is not a regular file (a folder, device, pipe or socket), or lies under a file
 * (checkFolderPath); creates nothing. A SettingsError: the name given is wrong, which a command line checks as its
 * usage mistake (commandLineCheck). `advice` ends the refusal of a file that is not a regular one: where the names
 * are the command's own in a folder given (a submission's `<task>.tsv`), what to do instead of giving another name.
 */
export function checkOutputKinds(paths: readonly string[], label: string, advice = 'give a file name'): void {
  for (const path of paths) {
    checkPathLength(path, label, 'file');
    checkFolderPath(dirname(path), label);
    const kind = kindOf(path);
    if (kind === 'folder') throw new SettingsError(`${label}: ${path} is a folder; ${advice}`);
    if (kind === 'special') throw new SettingsError(`${label}: ${path} is not a regular file (a device, pipe or socket); ${advice}`);
  }
}

/**
 * `checkOutputFile` for several files (`advice` as checkOutputKinds'): each one's type is checked, then each distinct
 * folder once (one probe).
 */
export function checkOutputFiles(paths: readonly string[], label: string, advice?: string): void {
  checkOutputKinds(paths, label, advice);
  for (const dir of new Set(paths.map((p) => dirname(resolve(p))))) checkOutputFolder(dir, label);
}

/**
 * Refuses a model output (`-o OUT`) whose name does not end in .onnx (any case): `-o out` (a folder meant, or the
 * extension forgotten) would otherwise be written as a file named `out`, which nothing would read as a model; and a
 * folder, named like a model file (`-o runs/x.onnx`, a folder) or not.
 */
export function checkOnnxName(output: string, label = `-o ${output}`): void {
  const kind = kindOf(output);
  // (a device or pipe: checkOutputKinds names it as such)
  if ((/\.onnx$/i.test(output) && kind !== 'folder') || kind === 'special') return;
  const bare = output.replace(/[\\/]+$/, '');
  const folder = kind === 'folder';
  const example = folder || bare !== output ? `${bare}/model.onnx` : `${bare}.onnx`;
  throw new SettingsError(`${label}: ${folder ? `${output} is a folder; ` : ''}give a file name ending in .onnx (e.g. ${example})`);
}

/**
 * Refuses, in one line, a model output whose folder already holds `names`, another model's config.json or tokenizer
 * files (a folder describes one model: the output would be read with them). compress, export, train and distill say
 * it alike; each takes --force to write over them.
 */
export function refuseForeignSideFiles(outDir: string, names: readonly string[], label: string): void {
  if (names.length)
    throw new SettingsError(`${label}: ${outDir} already holds another model's ${names.join(', ')}; write into an empty folder or pass --force`);
}

/**
 * Refuses, in one line naming `label` (`-o OUT`), an output in the `onnx/` folder of a transformers.js folder (its
 * config.json and tokenizer in the folder above, none in onnx/): transformers.js reads that config.json for every
 * model of onnx/ (and from it, the default dtype), so the output's config.json and tokenizer, written beside it,
 * would go unread by transformers.js, and eval would read them for every model there, of another shape. `--format
 * transformers.js -o FOLDER` writes such a folder whole: its models under the names transformers.js loads, each
 * dtype named in its config.json.
 */
export function checkNotInTransformersJsFolder(output: string, label: string): void {
  const onnxDir = dirname(resolve(output));
  if (basename(onnxDir) !== 'onnx') return;
  const top = dirname(onnxDir);
  const sideFiles = (dir: string): boolean => MODEL_SIDE_FILES.some((f) => existsSync(join(dir, f)));
  if (!sideFiles(top) || sideFiles(onnxDir)) return;
  const folder = dirname(dirname(output));
  throw new SettingsError(
    `${label}: ${folder} is a transformers.js folder (config.json and the tokenizer above onnx/, naming its models' dtypes), which bert-compress writes whole: write the .onnx file elsewhere, or a new folder with compress --format transformers.js -o NEW_FOLDER`,
  );
}

/** The lineage sidecar of a model file: `OUT.json`. */
export function lineagePath(modelPath: string): string {
  return `${modelPath}.json`;
}

/**
 * A source model's path as a lineage record keeps it (an input, a teacher): absolute where it names a file or folder,
 * so the chain is followed from any folder, where a path as given was relative to the folder the run started in; a
 * spec naming no file (bert:…, every-other) as given.
 */
export function lineageSourcePath(path: string): string {
  return existsSync(path) ? resolve(path) : path;
}

/**
 * Where the source path of a lineage record in `sidecar` may be: as written (absolute in records written by this
 * version; an older record's, relative to the folder its run started in, found where that is this process's), then
 * relative to the sidecar's folder.
 */
export function lineageSourceCandidates(path: string, sidecar: string): string[] {
  return isAbsolute(path) ? [path] : [path, resolve(dirname(sidecar), path)];
}

/** The files written for a model output, each with what it is: the model, its lineage and its data file (past 2 GB). */
export function modelOutputFiles(output: string): Array<readonly [string, string]> {
  return [
    [output, 'the output'],
    [lineagePath(output), 'its lineage file'],
    [dataPathFor(output), 'its data file'],
  ];
}

/** How errors name a folder: by its flag when the user gave one (`--work-dir x`), else as `what` and its path. */
export function folderLabel(flag: string, given: string | undefined, what: string, path: string): string {
  return given !== undefined ? `${flag} ${given}` : `${what} ${path}`;
}
