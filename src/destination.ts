/**
 * Where outputs go. Every command that writes checks its destinations before any work: an output file must be a
 * regular file or absent (never a device, pipe or folder), and its folder must accept a new file, which is tried by
 * creating and removing one (permission bits say nothing for root, and /sys or /proc refuse writes whatever they
 * say). Missing folders are created one level at a time: `mkdirSync(…, { recursive: true })` never returns for a
 * path under /proc. A write that fails anyway is a one-line UserError (`fileSystemError`), not a stack trace.
 */
import { onInterrupt } from './interrupt.ts';
import { closeSync, mkdirSync, openSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { FS_REASONS, SettingsError, UserError } from './errors.ts';
import { TEMPORARY_SUFFIX_BYTES } from './files.ts';
import { dataPathFor } from './onnx/save.ts';

/**
 * Why a folder that exists refuses a new entry with ENOENT: a virtual file system (/proc, /sys' kin) whose
 * entries the kernel makes; "no such file or folder" would name the wrong thing.
 */
const NO_NEW_ENTRIES = 'takes no new files (a read-only or special file system, such as /proc)';

/** The file type of whatever is at `path` (following links), or null when nothing is there. */
function kindOf(path: string): 'file' | 'folder' | 'special' | null {
  try {
    const s = statSync(path);
    return s.isFile() ? 'file' : s.isDirectory() ? 'folder' : 'special';
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null; // ENOTDIR: a parent is a file, which ensureFolder names
    throw fileSystemError(e, path) ?? e;
  }
}

/**
 * A one-line UserError for a failed fs call (`label: cannot <syscall> PATH: reason`), or undefined when `e` is not
 * an fs error we can explain.
 */
export function fileSystemError(e: unknown, path?: string, label?: string): UserError | undefined {
  const err = e as NodeJS.ErrnoException;
  if (!err || typeof err !== 'object' || typeof err.code !== 'string' || !(err.code in FS_REASONS) || typeof err.syscall !== 'string') return undefined;
  const where = err.path ?? path;
  const verb = err.syscall.startsWith('mkdir')
    ? 'create folder'
    : err.syscall.startsWith('rename')
      ? 'move into'
      : err.syscall.startsWith('open') || err.syscall.startsWith('write')
        ? 'write'
        : err.syscall;
  return new UserError(`${label ? `${label}: ` : ''}cannot ${verb}${where ? ` ${where}` : ''}: ${FS_REASONS[err.code]}`, { cause: e });
}

/** The folders ensureFolder created in this process, parents first: a command that fails removes them (below). */
const createdFolders: string[] = [];
/** Unregisters removeCreatedFolders from the interrupt clean-ups (set while folders are recorded). */
let stopWatchingInterrupts: (() => void) | undefined;

/**
 * Removes the folders ensureFolder created in this process that are still empty, deepest first, and forgets them
 * all: a command refused after checking its destinations leaves no empty folders behind. A folder something was
 * written into is kept.
 */
export function removeCreatedFolders(): void {
  stopWatchingInterrupts?.();
  stopWatchingInterrupts = undefined;
  for (const dir of createdFolders.reverse()) {
    try {
      rmdirSync(dir);
    } catch {
      // not empty (or already gone): keep it
    }
  }
  createdFolders.length = 0;
}

/**
 * Creates `dir` and its missing parents one level at a time (see the module comment), remembering what it created
 * (see removeCreatedFolders); a UserError naming `label` when a part of the path is a file or cannot be created.
 */
export function ensureFolder(dir: string, label = dir): void {
  const abs = resolve(dir);
  const kind = kindOf(abs);
  if (kind === 'folder') return;
  if (kind !== null) throw notAFolder(label, abs, kind);
  const parent = dirname(abs);
  if (parent !== abs) ensureFolder(parent, label);
  try {
    mkdirSync(abs);
    createdFolders.push(abs);
    // a command stopped by Ctrl-C removes them too, once its other clean-ups (a staging folder inside) have run
    stopWatchingInterrupts ??= onInterrupt(removeCreatedFolders);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' && kindOf(abs) === 'folder') return;
    if (code === 'ENOENT' && parent !== abs && kindOf(parent) === 'folder') {
      throw new UserError(`${label}: cannot create folder ${abs}: ${parent} ${NO_NEW_ENTRIES}`, { cause: e });
    }
    throw fileSystemError(e, abs, label) ?? e;
  }
}

function notAFolder(label: string, abs: string, kind: 'file' | 'special'): UserError {
  return new UserError(`${label}: ${abs} is ${kind === 'file' ? 'a file' : 'a device, pipe or socket'}, not a folder`);
}

/**
 * Refuses `dir` when it, or the nearest part of its path that exists, is not a folder (the message `ensureFolder`
 * would give); creates nothing. For checks made before other files are written (a sweep's store).
 */
export function checkFolderPath(dir: string, label = dir): void {
  for (let abs = resolve(dir); ; abs = dirname(abs)) {
    const kind = kindOf(abs);
    if (kind === 'folder') return;
    if (kind !== null) throw notAFolder(label, abs, kind);
    if (dirname(abs) === abs) return;
  }
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
 * Makes sure `path` can be written as a file: absent or a regular file (a folder, device, pipe or socket is
 * refused), in a folder that accepts new files (created when missing).
 */
export function checkOutputFile(path: string, label = path): void {
  checkOutputFiles([path], label);
}

/** The longest file name most file systems take (NAME_MAX), in bytes. */
const NAME_MAX = 255;

/**
 * Refuses any of `paths` that exists and is not a regular file (a folder, device, pipe or socket), or whose name is
 * too long to be written atomically (its temporary name would pass NAME_MAX); creates nothing.
 */
export function checkOutputKinds(paths: readonly string[], label: string): void {
  for (const path of paths) {
    const name = basename(path);
    const bytes = Buffer.byteLength(name);
    if (bytes + TEMPORARY_SUFFIX_BYTES > NAME_MAX) {
      // named by its end: the output's sidecar (…onnx.json) shares its start
      throw new UserError(
        `${label}: the file name …${name.slice(-24)} is too long (${bytes} bytes; at most ${NAME_MAX - TEMPORARY_SUFFIX_BYTES}, as its temporary name adds ${TEMPORARY_SUFFIX_BYTES})`,
      );
    }
    const kind = kindOf(path);
    if (kind === 'folder') throw new UserError(`${label}: ${path} is a folder; give a file name`);
    if (kind === 'special') throw new UserError(`${label}: ${path} is not a regular file (a device, pipe or socket); give a file name`);
  }
}

/** `checkOutputFile` for several files: each one's type is checked, then each distinct folder once (one probe). */
export function checkOutputFiles(paths: readonly string[], label: string): void {
  checkOutputKinds(paths, label);
  for (const dir of new Set(paths.map((p) => dirname(resolve(p))))) checkOutputFolder(dir, label);
}

/**
 * Refuses a model output (`-o OUT`) whose name does not end in .onnx (any case): `-o out` (a folder meant, or the
 * extension forgotten) would otherwise be written as a file named `out`, which nothing would read as a model.
 */
export function checkOnnxName(output: string, label = `-o ${output}`): void {
  const kind = kindOf(output);
  // (a device or pipe: checkOutputKinds names it as such)
  if (/\.onnx$/i.test(output) || kind === 'special') return;
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

/** The lineage sidecar of a model file: `OUT.json`. */
export function lineagePath(modelPath: string): string {
  return `${modelPath}.json`;
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
